"""The fixed-noise sample grid with the discriminator's verdict on each tile."""
from __future__ import annotations

import streamlit as st

from dashboard.figures import charts as figures, images
from dashboard.views.live import presenter
from dashboard import state
from dashboard.panels import explain, png, waiting
from sgan_core.snapshot import Snapshot

# The colour names come from the colours drawn (dashboard/figures/charts.py).
EXPLANATION = f"""
These images are made by the **generator** from the same random noise every time, so
watching them is like watching a film of the generator learning. Each tile shows the
**discriminator's verdict**: a **{figures.ACCEPT_COLOR_NAME}** frame with a class, such
as **"7"**, means it accepted the image as a real 7; an **{figures.REJECT_COLOR_NAME}**
frame with **"fake"** means it caught the fake. The line under the grid counts the
tiles rejected as fake. Neither side wins for good: while the discriminator learns faster, more
tiles turn {figures.REJECT_COLOR_NAME}; when the generator catches up, more turn
{figures.ACCEPT_COLOR_NAME}.
"""


def render(snapshot: Snapshot, compact: bool = False) -> None:
    """The grid, its count of fakes caught and the note for students; `compact` (the
    presenter view) keeps the grid and the count, in a small title and caption."""
    if compact:
        presenter.picture_title("Generated samples and D's verdicts")
    else:
        st.subheader("Generated samples")
    if snapshot.samples is None:
        waiting("Samples")
    else:
        image = state.cached("samples", snapshot.evaluation_version,
                             lambda: png(images.samples_image(snapshot.samples,
                                                              snapshot.class_names)))
        n_fake = int((snapshot.samples.verdicts >= snapshot.num_classes).sum())
        caught = f"{n_fake} of {len(snapshot.samples.verdicts)} rejected as fake"
        st.image(image, width="stretch", output_format="PNG",
                 caption=caught if compact else f"{caught} (verdicts of the live "
                 "discriminator, the one G plays against)")
    if not compact:
        explain(EXPLANATION)
