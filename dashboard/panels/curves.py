"""Loss curves and SGAN vs baseline test accuracy over training."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from dashboard.figures import charts as figures
from dashboard.views.live import presenter
from dashboard import state
from dashboard.panels import chart_config, explain, plot, waiting
from sgan_core.snapshot import Snapshot

EXPLANATION = """
**Left, losses** (lower is better for each player, but they fight each other):
*supervised* is how wrong the discriminator is on the few labeled images;
*unsupervised real/fake* is how badly it tells real images from fakes; *generator* is
how badly the generator fools it. They wobble: that is the game, not a bug.
**Right, test accuracy** of the SGAN and of the baseline that only sees the labeled
images. The gap between the two lines is what the unlabeled images are worth.
Move **smoothing** up to see trends through the noise.
"""


def history_rows(snapshot: Snapshot) -> int:
    """How many evaluations the snapshot's history holds (0: nothing to draw yet)."""
    return len(snapshot.history.get("step", ())) if snapshot.history else 0


def render(snapshot: Snapshot, mark_step: Optional[int] = None) -> None:
    """The curves of the whole run; `mark_step` (the timeline's chosen moment) gets a
    dotted line."""
    st.subheader("Training curves")
    smoothing = st.slider("Smoothing", 0.0, 0.95, 0.6, step=0.05, key="w_smoothing",
                          help="Exponential moving average of the loss curves.")
    rows = history_rows(snapshot)
    if not rows:
        waiting("Curves")
    else:
        token = (snapshot.evaluation_version, rows, smoothing,
                 mark_step)  # a past moment keeps the newest history: count its rows
        figure = state.cached("curves", token, lambda: figures.curves_figure(
            snapshot.history, smoothing, mark_step))
        plot(figure, key="curves_chart")
    explain(EXPLANATION)


def render_accuracy(snapshot: Snapshot, mark_step: Optional[int] = None) -> None:
    """The presenter view's picture: SGAN vs baseline test accuracy alone."""
    presenter.picture_title("Test accuracy: SGAN vs labels only")
    rows = history_rows(snapshot)
    if not rows:
        waiting("The accuracy curves")
        return
    token = (snapshot.evaluation_version, rows, mark_step)
    figure = state.cached("accuracy", token, lambda: figures.accuracy_figure(
        snapshot.history, mark_step))
    st.plotly_chart(presenter.enlarged(figure, presenter.PICTURE_PX), key="accuracy_chart",
                    width="stretch", config=chart_config("accuracy"))
