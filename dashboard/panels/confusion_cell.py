"""Open one confusion-matrix cell: a click on the matrix, or the two boxes beside it.

A click (plotly selection event) sets the boxes, so the boxes always say which cell is
shown; where a click cannot be had (keyboard, touch, a test) the boxes alone work.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np
import streamlit as st

from dashboard.figures import confusion_cells
from dashboard import state
from dashboard.figures.charts import axis_labels
from sgan_core.snapshot import Snapshot

TRUTH_KEY, VERDICT_KEY = "w_cell_truth", "w_cell_verdict"
ORDER_KEY = "w_cell_order"
MOST_SURE, LEAST_SURE = "D most sure first", "D least sure first"
NOBODY = "-"  # no cell open


def clicked_cell(event: Any, snapshot: Snapshot) -> Optional[tuple[int, int]]:
    """(truth, verdict) of the first selected point: its customdata (the cell targets
    over the heatmap), else its axis labels; None when nothing usable is selected."""
    # st.plotly_chart returns a dict subclass (attribute access too); a value set in
    # session state is a plain dict: read both as mappings
    selection = event.get("selection") if isinstance(event, Mapping) else None
    points = list((selection or {}).get("points") or [])
    if not points:
        return None
    point = points[0]
    data = point.get("customdata")
    if isinstance(data, Mapping):  # a typed array, as JSON: {"0": truth, "1": verdict}
        data = [data.get(str(k), data.get(k)) for k in range(len(data))]
    if data is not None and len(data) >= 2 and None not in data[:2]:
        truth, verdict = (confusion_cells.cell_index(int(value), snapshot.class_names)
                          for value in data[:2])
    else:
        truth = confusion_cells.cell_index(point.get("y"), snapshot.class_names)
        verdict = confusion_cells.cell_index(point.get("x"), snapshot.class_names)
    return None if truth is None or verdict is None else (truth, verdict)


def take_click(event: Any, snapshot: Snapshot) -> None:
    """A clicked cell becomes the boxes' values, once per new click (a rerun repeats
    the same selection; the boxes may have moved on since)."""
    cell = clicked_cell(event, snapshot)
    if cell is None or not state.changed_since_last("cell_click", cell):
        return
    labels = axis_labels(snapshot.class_names)
    state.set_widget_values({TRUTH_KEY: labels[cell[0]], VERDICT_KEY: labels[cell[1]]},
                            overwrite=True)


def chosen(snapshot: Snapshot, chart_key: str) -> Optional[tuple[int, int]]:
    """(truth, verdict) of the open cell, read before the matrix is drawn so that it can
    outline it: a new click on the chart (its selection, kept under its key) first
    becomes the boxes' values."""
    take_click(state.widget_value(chart_key), snapshot)
    labels = axis_labels(snapshot.class_names)
    truth, verdict = state.widget_value(TRUTH_KEY), state.widget_value(VERDICT_KEY)
    if truth in labels and verdict in labels:
        return labels.index(truth), labels.index(verdict)
    return None


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
    shown = confusion_cells.cell_images(snapshot, labels.index(truth) - 1, labels.index(verdict) - 1,
                              most_sure=order == MOST_SURE)
    st.markdown(f"**{shown.title}**: {shown.count:,} in the matrix")
    st.caption(shown.note)
    if len(shown.images):
        st.image([_plain(image) for image in shown.images], caption=list(shown.captions),
                 width=84)


def _plain(image: np.ndarray) -> np.ndarray:
    """st.image takes (H, W) or (H, W, 3): drop a single grey channel."""
    return image[..., 0] if image.shape[-1] == 1 else image
