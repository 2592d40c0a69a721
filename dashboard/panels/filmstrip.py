"""Film strip downloads under the timeline: the sample grid over time as a GIF and the
confusion matrices over time as CSV (dashboard/figures/filmstrip.py makes the files).

Built on request, not on every rerun: a 120-moment GIF takes a second or two of server
time. The files hold the moments kept when the button was pressed, and say up to which
step; pressing again brings them up to date.
"""
from __future__ import annotations

import streamlit as st

from dashboard.figures import filmstrip
from dashboard import state
from sgan_core.runs.handle import RunHandle

MADE_KEY = "filmstrip_made"  # session: the newest evaluation_version the files hold
BUTTON_KEY = "b_filmstrip"


def render(run: RunHandle) -> None:
    kept = run.timeline().moments()
    if not kept:
        return
    with st.expander("Film strip: download the run so far"):
        if st.button("Make the film strip", key=BUTTON_KEY,
                     help="The sample grid of every kept moment as an animated GIF, and "
                          "every kept confusion matrix as a CSV table."):
            state.set_widget_values({MADE_KEY: kept[-1].evaluation_version}, overwrite=True)
        made = state.widget_value(MADE_KEY)
        if made is None:
            st.caption(f"{len(kept)} moments kept; the files hold one frame or one "
                       "matrix per moment.")
            return
        upto = [moment for moment in kept if moment.evaluation_version <= made]
        names = run.snapshot().class_names
        gif, table = state.cached("filmstrip", (id(run), made), lambda: (
            filmstrip.samples_gif(upto, names) if filmstrip.with_samples(upto) else None,
            filmstrip.confusion_csv(upto, names)))
        st.caption(f"{len(upto)} moments, up to step {upto[-1].step:,}.")
        left, right = st.columns(2)
        if gif is not None:
            left.download_button("Sample grid film (GIF)", gif, "samples.gif", "image/gif",
                                 key="d_filmstrip_gif", on_click="ignore")
        right.download_button("Confusion matrices (CSV)", table, "confusion.csv",
                               "text/csv", key="d_filmstrip_csv", on_click="ignore")
