"""(N+1)x(N+1) confusion heatmap: real classes plus the fake class."""
from __future__ import annotations

import streamlit as st

from dashboard.figures import charts as figures, confusion_cells
from dashboard.views.live import presenter
from dashboard import state
from dashboard.panels import chart_config, confusion_cell, explain, waiting
from sgan_core.snapshot import Snapshot

CHART_KEY = "confusion_chart"
EXPLANATION = """
Each **row** is what an image really is (a digit class, or **fake** for generated
images); each **column** is what the discriminator said. A perfect discriminator puts
everything on the diagonal. Numbers are counts of test images (and fresh fakes); hover
a cell to see which share of its row it holds, click it (or choose its row and column
below) to see its images; the open cell is outlined. The bottom row shows how many
fakes were caught (last column) or mistaken for a class; the last column shows real
images wrongly called fake.
"""


def render(snapshot: Snapshot, compact: bool = False) -> None:
    """The matrix, the open cell's images and the note for students; `compact` (the
    presenter view) draws the matrix alone under a small title, sized to fit the
    screen beside the other pictures."""
    if compact:
        presenter.picture_title("Confusion matrix (rows: truth)")
    else:
        st.subheader("Confusion matrix")
        st.caption("Verdicts of the live discriminator (the one the generator plays "
                   "against) on real test images and fresh fakes. Click a cell to see "
                   "its images.")
    if snapshot.confusion is None:
        waiting("The confusion matrix")
    else:
        figure = state.cached("confusion", snapshot.evaluation_version,
                              lambda: figures.confusion_figure(snapshot.confusion,
                                                               snapshot.class_names))
        open_cell = confusion_cell.chosen(snapshot, CHART_KEY)  # a click first sets the boxes
        if open_cell is not None:
            figure = confusion_cells.outlined(figure, *open_cell)
        st.plotly_chart(presenter.enlarged(figure, presenter.PICTURE_PX), key=CHART_KEY,
                        width="stretch", config=chart_config("confusion"),
                        on_select="rerun", selection_mode="points")
        if not compact:
            confusion_cell.render(snapshot)
    if not compact:
        explain(EXPLANATION)

