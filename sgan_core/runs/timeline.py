"""Every evaluation of a run, kept as a frozen Moment, bounded in memory: the timeline a
page scrubs back through while the run trains.

A Moment holds a snapshot's evaluation figures (samples with verdicts, confusion matrix,
accuracies, rejection rates, inspector data, features), never its history: the history
only grows, so the latest snapshot's history already holds every earlier row, and one
copy per moment would cost memory quadratic in the run's length.

Thinning, and why it stays even: evaluation number i (0, 1, 2, ...) is kept when i is a
multiple of the current `stride`. When the kept moments would exceed capacity - 1, every
other one is dropped (what is left are the multiples of 2 x stride) and the stride
doubles. So the kept moments are always evenly spaced in evaluations (about evenly in
training time, as evaluations come every eval_every_s), the first evaluation is always
kept, and one more slot always holds the latest evaluation, whatever its number.
Appending is amortised O(1): a halving costs O(capacity) and happens at most once every
capacity / 2 kept appends.

Memory: a moment keeps the map it draws, not the features behind it: the 2-D PCA
coordinates of the test images and fakes (18 kB with the default MNIST config, where
the 2,200 x 250 features cost 1.1 MB even at float16), Procrustes-aligned to the
previous evaluation's on the same test images, so scrubbing moves points instead of
flipping or turning the whole map. Each moment keeps its confusion cells
(`CellMembers`): the test subset's images are one array shared by every moment (counted
once), the per-image verdicts are a few kB, and the evaluation's fresh fakes are kept
whole while they fit in `FAKE_BYTES_PER_MOMENT` (MNIST's 500 fakes at 28x28 do: 392 kB),
else an evenly spaced subsample that fits (CIFAR's 500 at 32x32x3 would be 1.5 MB; 130
are kept); the page says so when a past cell holds fewer images than it counts. The
default 120 moments of an MNIST run hold 65 MB (measured); `nbytes()` measures it
(bench/bench_timeline.py: a real run past the cap).
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from sgan_core.features.projection import align, pca_of
from sgan_core.snapshot import (CellMembers, Features, Inspection, Samples, Snapshot,
                                frozen_array)

DEFAULT_CAPACITY = 120
MIN_CAPACITY = 2  # the first and the latest
FAKE_BYTES_PER_MOMENT = 400_000  # a moment's fresh fakes: all 500 of MNIST's fit


@dataclass(frozen=True)
class Moment:
    """One evaluation's figures, as the page draws them; arrays are read-only."""

    evaluation_version: int  # the snapshot's evaluation_version: a stable id
    step: int
    epoch: float
    elapsed_s: float
    test_accuracy: Optional[float]
    baseline_test_accuracy: Optional[float]
    validation_accuracy: Optional[float]
    baseline_validation_accuracy: Optional[float]
    accuracy_model: str
    fake_rejection_rate: Optional[float]
    false_rejection_rate: Optional[float]
    confusion: Optional[np.ndarray]
    samples: Optional[Samples]
    inspection: Optional[Inspection]
    features: Optional[Features]  # the map's 2-D coordinates (M, 2) and (F, 2), see map_of
    cells: Optional[CellMembers] = None

    @classmethod
    def of(cls, snapshot: Snapshot, previous_map: Optional[np.ndarray] = None) -> "Moment":
        """The moment an evaluated snapshot shows (its arrays are shared: they are
        read-only already); its features become map coordinates (`map_of`), aligned to
        `previous_map` (the previous moment's test-image coordinates) when given."""
        values = {f.name: getattr(snapshot, f.name) for f in dataclasses.fields(cls)}
        values["features"] = map_of(snapshot.features, previous_map)
        values["cells"] = thin_fakes(snapshot.cells, FAKE_BYTES_PER_MOMENT)
        return cls(**values)

    def applied_to(self, snapshot: Snapshot) -> Snapshot:
        """`snapshot` (normally the latest) showing this moment's figures; its history,
        status and settings stay, so curves still show the whole run."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return dataclasses.replace(snapshot, **values)

    def nbytes(self) -> int:
        """Bytes of every array this moment refers to, shared ones included."""
        return sum(array.nbytes for array in self.arrays())

    def arrays(self) -> list[np.ndarray]:
        return [array for part in (self.confusion, self.samples, self.inspection,
                                   self.features, self.cells) for array in _arrays(part)]


class Timeline:
    """Thread-safe: the training thread adds, any page thread reads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if int(capacity) != capacity or capacity < MIN_CAPACITY:
            raise ValueError(f"a timeline keeps at least {MIN_CAPACITY} moments (the "
                             f"first and the latest); got capacity={capacity!r}")
        self.capacity = int(capacity)
        self._lock = threading.Lock()
        self._kept: list[Moment] = []  # evaluations number 0, stride, 2 x stride, ...
        self._latest: Optional[Moment] = None  # the newest, when not in _kept
        self._stride = 1
        self._count = 0  # evaluations added so far
        self._last_version = 0
        self._previous_map: Optional[np.ndarray] = None  # touched by the adding thread only

    def add(self, snapshot: Snapshot) -> None:
        """Record an evaluated snapshot; one that brings no new evaluation is ignored
        (e.g. a progress-only publish), so calling it too often does no harm."""
        version = snapshot.evaluation_version
        if version <= self._last_version or snapshot.confusion is None:
            return
        moment = Moment.of(snapshot, self._previous_map)  # the PCA, outside the lock
        if moment.features is not None:
            self._previous_map = moment.features.real
        with self._lock:
            self._last_version = version
            index, self._count = self._count, self._count + 1
            self._latest = moment
            if index % self._stride:
                return
            self._kept.append(moment)
            self._latest = None
            if len(self._kept) > self.capacity - 1:
                self._kept = self._kept[::2]  # the multiples of 2 x stride
                self._stride *= 2
                if self._kept[-1] is not moment:
                    self._latest = moment

    def moments(self) -> tuple[Moment, ...]:
        """The kept moments, oldest first, the latest evaluation last."""
        with self._lock:
            tail = (self._latest,) if self._latest is not None else ()
            return tuple(self._kept) + tail

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept) + (self._latest is not None)

    @property
    def stride(self) -> int:
        """Kept moments are this many evaluations apart (the latest aside)."""
        return self._stride

    @property
    def evaluations_seen(self) -> int:
        return self._count

    def nbytes(self) -> int:
        """Bytes held by the moments' arrays (what the memory bound is about); an array
        shared by several moments (the test subset's images) is counted once."""
        distinct = {id(array): array for moment in self.moments()
                    for array in moment.arrays()}
        return sum(array.nbytes for array in distinct.values())


def map_of(features: Optional[Features],
           previous_map: Optional[np.ndarray] = None) -> Optional[Features]:
    """Features as the past map draws them: 2-D PCA coordinates of the standardised
    real and fake rows together (about 15 ms for 2,200 x 250), turned, scaled and
    shifted (Procrustes, on the test images, which are the same ones in the same order
    at every evaluation) to line up with `previous_map`. Already 2-D: kept as it is."""
    if features is None or features.real.ndim != 2 or features.real.shape[1] == 2:
        return features
    aligned, fakes = align(previous_map, *pca_of(features))  # as is when no previous
    return dataclasses.replace(features, real=frozen_array(aligned, np.float32),
                               fake=frozen_array(fakes, np.float32))


def thin_fakes(cells: Optional[CellMembers], max_bytes: int) -> Optional[CellMembers]:
    """The cells with at most `max_bytes` of fakes: evenly spaced ones, so every cell
    of the fake row keeps about its share."""
    if cells is None or cells.fake_images.nbytes <= max_bytes or not len(cells.fake_images):
        return cells
    per_image = max(1, cells.fake_images[0].nbytes)
    keep = max(1, max_bytes // per_image)
    index = np.linspace(0, len(cells.fake_images) - 1, keep).round().astype(int)
    return dataclasses.replace(
        cells, **{name: frozen_array(getattr(cells, name)[index]) for name in
                  ("fake_images", "fake_verdicts", "fake_p_verdict", "fake_p_fake")})


def _arrays(part: object) -> list[np.ndarray]:
    if part is None:
        return []
    if isinstance(part, np.ndarray):
        return [part]
    return [value for value in vars(part).values() if isinstance(value, np.ndarray)]
