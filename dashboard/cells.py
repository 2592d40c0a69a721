"""The images behind one confusion-matrix cell, from what a snapshot keeps (pure).

A snapshot keeps counts for every cell but images only for some, so each answer says
where its images come from, and a cell without kept images says so:
- fake row (truth "fake", verdict j): the fixed-noise sample grid's tiles D gave verdict
  j. These are the grid's fakes, not the fresh fakes the matrix counts, so the note says
  so; their P(verdict) and P(fake) are exact.
- real row i, verdict "fake": the inspector's real test images of class i with P(fake)
  of 0.5 or more (P(fake) >= 0.5 always makes "fake" the verdict): the ones D found most
  fake, not necessarily every image in the cell.
- real row i, verdict j: not kept with the evaluation yet (only counts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from dashboard.figures import CALLED_FAKE_AT, axis_labels
from sgan_core.snapshot import Snapshot


@dataclass(frozen=True)
class CellImages:
    title: str  # e.g. "real 4 called 9"
    count: int  # what the matrix counts in the cell
    images: np.ndarray  # (k, H, W, C) uint8; may be empty
    captions: tuple[str, ...]  # per image: P(verdict class) and P(fake)
    note: str  # where the images come from, or why there are none


def cell_index(value: object, class_names: Sequence[str]) -> Optional[int]:
    """A row/column from a plotly click (its axis label) or an index; None if unknown."""
    labels = axis_labels(class_names)
    if isinstance(value, (int, np.integer)) and 0 <= int(value) < len(labels):
        return int(value)
    return labels.index(str(value)) if str(value) in labels else None


def cell_images(snapshot: Snapshot, truth: int, verdict: int) -> CellImages:
    n = snapshot.num_classes
    if snapshot.confusion is None or not (0 <= truth <= n and 0 <= verdict <= n):
        raise ValueError(f"no cell ({truth}, {verdict}) in this confusion matrix")
    labels = axis_labels(snapshot.class_names)
    title = (f"fakes called {labels[verdict]}" if truth == n
             else f"real {labels[truth]} called {labels[verdict]}")
    count = int(snapshot.confusion[truth, verdict])
    if truth == n:
        return _grid_fakes(snapshot, verdict, title, count)
    if verdict == n:
        return _rejected_reals(snapshot, truth, title, count)
    return CellImages(title, count, _none(snapshot), (),
                      "Only the count of this cell is kept with the evaluation; its "
                      "images are not (yet). The fake row and the fake column have images.")


def _grid_fakes(snapshot: Snapshot, verdict: int, title: str, count: int) -> CellImages:
    samples = snapshot.samples
    if samples is None:
        return CellImages(title, count, _none(snapshot), (), "No sample grid yet.")
    mask = np.asarray(samples.verdicts) == verdict
    name = axis_labels(snapshot.class_names)[verdict]
    captions = tuple(f"P({name}) {c:.2f} · P(fake) {p:.2f}" for c, p in
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
