"""The images behind one confusion-matrix cell (pure: no streamlit, tested alone).

A snapshot with `cells` (the `CellMembers` the engine publishes with each evaluation)
holds every image the matrix counts with the live D's verdict on it, so a cell (truth
i, verdict j) shows exactly its own images: the real test images of class i (or the
evaluation's fresh fakes) that D called j, ordered by how sure D was, at most
`MAX_SHOWN` of them, with how many there are. A past timeline moment may keep only a
subsample of its fakes (memory, see sgan_core/runs/timeline.py); the note then says how many
of the cell's images it still holds.

Snapshots without `cells` (read from run files that do not carry them) fall back to what they keep: the sample
grid's tiles for the fake row, the inspector's rejected reals for the fake column, and
counts only elsewhere; each such answer says where its images come from.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from dashboard.figures.charts import CALLED_FAKE_AT, axis_labels
from sgan_core.snapshot import CellMembers, Snapshot

MAX_SHOWN = 32  # a 4x8 block of thumbnails: enough to see a pattern, quick to send


@dataclass(frozen=True)
class CellImages:
    title: str  # e.g. "real 4 called 9"
    count: int  # what the matrix counts in the cell
    images: np.ndarray  # (k, H, W, C) uint8, k <= MAX_SHOWN; may be empty
    captions: tuple[str, ...]  # per image: P(verdict class) and P(fake)
    note: str  # which images are shown, or why there are none


def cell_index(value: object, class_names: Sequence[str]) -> Optional[int]:
    """A row/column from a plotly click (its axis label) or an index; None if unknown."""
    labels = axis_labels(class_names)
    if isinstance(value, (int, np.integer)) and 0 <= int(value) < len(labels):
        return int(value)
    return labels.index(str(value)) if str(value) in labels else None


def cell_images(snapshot: Snapshot, truth: int, verdict: int, most_sure: bool = True,
                limit: int = MAX_SHOWN) -> CellImages:
    """Cell (truth, verdict)'s images, D's most sure first (or least sure first)."""
    n = snapshot.num_classes
    if snapshot.confusion is None or not (0 <= truth <= n and 0 <= verdict <= n):
        raise ValueError(f"no cell ({truth}, {verdict}) in this confusion matrix")
    labels = axis_labels(snapshot.class_names)
    title = (f"fakes called {labels[verdict]}" if truth == n
             else f"real {labels[truth]} called {labels[verdict]}")
    count = int(snapshot.confusion[truth, verdict])
    if snapshot.cells is not None:
        return _exact(snapshot.cells, n, truth, verdict, title, count, labels[verdict],
                      most_sure, limit)
    if truth == n:
        return _grid_fakes(snapshot, verdict, title, count)
    if verdict == n:
        return _rejected_reals(snapshot, truth, title, count)
    return CellImages(title, count, _none(snapshot), (),
                      "This run's snapshots keep only the count of this cell, not its "
                      "images. The fake row and the fake column have images.")


def _exact(members: CellMembers, n: int, truth: int, verdict: int, title: str,
           count: int, name: str, most_sure: bool, limit: int) -> CellImages:
    fake_row = truth == n
    images = members.fake_images if fake_row else members.real_images
    verdicts = members.fake_verdicts if fake_row else members.real_verdicts
    p_verdict = members.fake_p_verdict if fake_row else members.real_p_verdict
    p_fake = members.fake_p_fake if fake_row else members.real_p_fake
    inside = np.asarray(verdicts) == verdict
    if not fake_row:
        inside &= np.asarray(members.real_targets) == truth
    where = np.flatnonzero(inside)
    # stable sort, so equal probabilities keep the evaluation's order on every rerun
    order = np.argsort(-np.asarray(p_verdict)[where] if most_sure
                       else np.asarray(p_verdict)[where], kind="stable")
    shown = where[order[:limit]]
    captions = tuple(_caption(name, float(p_verdict[i]), float(p_fake[i])) for i in shown)
    return CellImages(title, count, np.asarray(images)[shown], captions,
                      _exact_note(len(shown), len(where), count, fake_row, most_sure))


def _caption(name: str, p_verdict: float, p_fake: float) -> str:
    if name == "fake":  # the verdict's probability is P(fake) itself
        return f"P(fake) {p_fake:.2f}"
    return f"P({name}) {p_verdict:.2f} · P(fake) {p_fake:.2f}"


def _exact_note(shown: int, held: int, count: int, fake_row: bool, most_sure: bool) -> str:
    if count == 0:
        return "No image is in this cell."
    which = "most" if most_sure else "least"
    kept = (f"All {count:,} images of this cell" if held == count else
            f"This past moment keeps {held:,} of the cell's {count:,} fakes (a "
            "subsample, to bound the timeline's memory)")
    shown_words = (f"; showing the {shown} D was {which} sure of." if shown < held
                   else ", ordered by how sure D was.")
    source = " They are the evaluation's fresh fakes." if fake_row else ""
    return kept + shown_words + source


# --- fallback: snapshots without `cells` ------------------------------------------

def _grid_fakes(snapshot: Snapshot, verdict: int, title: str, count: int) -> CellImages:
    samples = snapshot.samples
    if samples is None:
        return CellImages(title, count, _none(snapshot), (), "No sample grid yet.")
    mask = np.asarray(samples.verdicts) == verdict
    name = axis_labels(snapshot.class_names)[verdict]
    captions = tuple(_caption(name, c, p) for c, p in
                     zip(samples.confidences[mask], samples.p_fake[mask]))
    note = (f"From the fixed-noise sample grid: its {int(mask.sum())} of "
            f"{len(mask)} tiles D called {name}. The matrix counts other, fresh fakes "
            "of the same generator.")
    return CellImages(title, count, samples.images[mask], captions, note)


def _rejected_reals(snapshot: Snapshot, truth: int, title: str, count: int) -> CellImages:
    inspection = snapshot.inspection
    if inspection is None:
        return CellImages(title, count, _none(snapshot), (), "No inspector data yet.")
    p_fake = np.asarray(inspection.rejected_reals_p_fake)
    mask = (np.asarray(inspection.rejected_reals_label) == truth) & (p_fake >= CALLED_FAKE_AT)
    captions = tuple(f"P(fake) {p:.2f}" for p in p_fake[mask])
    note = (f"The inspector keeps the {len(p_fake)} real test images D found most fake; "
            f"{int(mask.sum())} of them are in this cell.")
    return CellImages(title, count, inspection.rejected_reals[mask], captions, note)


def _none(snapshot: Snapshot) -> np.ndarray:
    shape = snapshot.samples.images.shape[1:] if snapshot.samples is not None else (1, 1, 1)
    return np.zeros((0, *shape), dtype=np.uint8)


OUTLINE_COLOR = "#D55E00"  # Okabe-Ito vermillion: stands out on every shade of the blues


def outlined(figure: Any, truth: int, verdict: int) -> Any:
    """A copy of the confusion figure with cell (truth, verdict) outlined, so the matrix
    shows which cell is open below it; the cached figure is left as it was."""
    import plotly.graph_objects as go

    copy = go.Figure(figure)
    copy.add_shape(type="rect", xref="x", yref="y", x0=verdict - 0.5, x1=verdict + 0.5,
                   y0=truth - 0.5, y1=truth + 0.5, layer="above",
                   line=dict(color=OUTLINE_COLOR, width=4))
    return copy

