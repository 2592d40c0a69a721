"""Open one confusion-matrix cell: a click on the matrix, or the two boxes beside it.

A click (plotly selection event) sets the boxes, so the boxes always say which cell is
shown; where a click cannot be had (keyboard, touch, a test) the boxes alone work.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from dashboard import cells, state
from dashboard.figures import axis_labels
from sgan_core.snapshot import Snapshot

TRUTH_KEY, VERDICT_KEY = "w_cell_truth", "w_cell_verdict"
ORDER_KEY = "w_cell_order"
MOST_SURE, LEAST_SURE = "D most sure first", "D least sure first"
NOBODY = "-"  # no cell open


def take_click(event: Any, snapshot: Snapshot) -> None:
    """A clicked cell (its axis labels in the event) becomes the boxes' values."""
    points = list(getattr(getattr(event, "selection", None), "points", None) or [])
    if not points or not state.changed_since_last("cell_click", repr(points[0])):
        return
    labels = axis_labels(snapshot.class_names)
    truth = cells.cell_index(points[0].get("y"), snapshot.class_names)
    verdict = cells.cell_index(points[0].get("x"), snapshot.class_names)
    if truth is not None and verdict is not None:
        state.set_widget_values({TRUTH_KEY: labels[truth], VERDICT_KEY: labels[verdict]},
                                overwrite=True)


def render(snapshot: Snapshot) -> None:
    labels = [NOBODY] + axis_labels(snapshot.class_names)
    left, right = st.columns(2)
    truth = left.selectbox("Open cell: true class", labels, key=TRUTH_KEY)
    verdict = right.selectbox("D's verdict", labels, key=VERDICT_KEY)
    if NOBODY in (truth, verdict):
        st.caption("Click a cell of the matrix (or choose its row and column) to see "
                   "its images.")
        return
    order = st.radio("Order", (MOST_SURE, LEAST_SURE), key=ORDER_KEY, horizontal=True,
                     label_visibility="collapsed")
    shown = cells.cell_images(snapshot, labels.index(truth) - 1, labels.index(verdict) - 1,
                              most_sure=order == MOST_SURE)
    st.markdown(f"**{shown.title}**: {shown.count:,} in the matrix")
    st.caption(shown.note)
    if len(shown.images):
        st.image([_plain(image) for image in shown.images], caption=list(shown.captions),
                 width=84)


def _plain(image: np.ndarray) -> np.ndarray:
    """st.image takes (H, W) or (H, W, 3): drop a single grey channel."""
    return image[..., 0] if image.shape[-1] == 1 else image
