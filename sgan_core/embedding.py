"""2-D projections of discriminator features: PCA now, UMAP once it is warm.

Importing umap costs 13-15 s and its first fit compiles numba code for 30-45 s, so
nothing here imports it at module import. `EmbeddingWorker` serves PCA projections at
once and switches to UMAP when a background warm-up fit has finished. Every new frame is
rotated/scaled onto the previous one (Procrustes) so points do not jump between updates.
Nothing here blocks the trainer: features are handed over with `submit` and the newest
frame is read with `latest`.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from sgan_core.snapshot import Features, frozen_array

logger = logging.getLogger(__name__)

METHOD_PCA = "pca"
METHOD_UMAP = "umap"


@dataclass(frozen=True)
class Projection:
    """One embedding frame, ready to draw; arrays are read-only copies."""

    step: int  # training step of the features it was computed from
    method: str  # METHOD_PCA or METHOD_UMAP
    coords_real: np.ndarray  # (M, 2) float32, test images in Features.real order
    real_labels: np.ndarray  # (M,) int, true class of each test image
    coords_fake: np.ndarray  # (F, 2) float32, generated images
    seconds: float  # wall time spent computing this frame

    def __post_init__(self) -> None:
        # Frozen dataclass: object.__setattr__ is the sanctioned way to normalise fields.
        object.__setattr__(self, "coords_real", frozen_array(self.coords_real, np.float32))
        object.__setattr__(self, "real_labels", frozen_array(self.real_labels))
        object.__setattr__(self, "coords_fake", frozen_array(self.coords_fake, np.float32))


def standardise(x: np.ndarray) -> np.ndarray:
    """Z-score each feature; constant features stay 0 instead of dividing by ~0."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64))  # a diverging run may emit inf
    std = x.std(axis=0)
    std[std < 1e-8] = 1.0
    return (x - x.mean(axis=0)) / std


def pca_2d(x: np.ndarray) -> np.ndarray:
    """First two principal-component scores, (n, 2) float32.

    Signs are fixed (largest loading positive) so identical data gives identical frames;
    missing components (n < 2 or d < 2) are zero columns.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((x.shape[0], 2), dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 2:
        return out
    centred = x - x.mean(axis=0)
    # Eigenvectors of the (d, d) scatter matrix: ~10x cheaper than an SVD of (n, d).
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending
    components = eigenvectors[:, ::-1][:, :2].T  # (<=2, d), largest variance first
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1.0
    scores = centred @ (components * signs[:, None]).T  # (n, <=2)
    out[:, : scores.shape[1]] = scores
    return out


@dataclass(frozen=True)
class Alignment:
    """Similarity transform x -> scale * (x - source_mean) @ rotation + target_mean."""

    scale: float
    rotation: np.ndarray  # (2, 2) orthogonal (reflections allowed: a mirrored UMAP
    source_mean: np.ndarray  # (2,)            frame is the same picture, just flipped)
    target_mean: np.ndarray  # (2,)

    def apply(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        moved = self.scale * (points - self.source_mean) @ self.rotation + self.target_mean
        return moved.astype(np.float32)


IDENTITY = Alignment(1.0, np.eye(2), np.zeros(2), np.zeros(2))


def fit_alignment(previous: Optional[np.ndarray], current: np.ndarray) -> Alignment:
    """Orthogonal Procrustes with scale: the transform that best maps current onto previous.

    Rows must be the same points in the same order; anything else (no previous frame,
    a different number of points, a degenerate frame) gives the identity.
    """
    if previous is None:
        return IDENTITY
    prev = np.asarray(previous, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if prev.shape != cur.shape or prev.ndim != 2 or prev.shape[1] != 2 or len(prev) < 2:
        return IDENTITY
    prev_mean, cur_mean = prev.mean(axis=0), cur.mean(axis=0)
    prev_c, cur_c = prev - prev_mean, cur - cur_mean
    norm = float((cur_c**2).sum())
    if norm < 1e-12 or not np.isfinite(norm):
        return IDENTITY
    u, s, vt = np.linalg.svd(cur_c.T @ prev_c)  # (2, 2) cross-covariance
    return Alignment(float(s.sum() / norm), u @ vt, cur_mean, prev_mean)


def align_to(previous: Optional[np.ndarray], current: np.ndarray) -> np.ndarray:
    """`current` moved (rotated, scaled, shifted) to line up with `previous`."""
    return fit_alignment(previous, current).apply(current)


def nearest_rows(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Index of the nearest reference row (Euclidean) for each query row."""
    if len(queries) == 0 or len(references) == 0:
        return np.zeros(len(queries), dtype=np.int64)
    sq = (queries**2).sum(1)[:, None] - 2 * queries @ references.T + (references**2).sum(1)
    return sq.argmin(axis=1)  # (Q,)


def clustered_points(n: int, dim: int, seed: int = 0, clusters: int = 10) -> np.ndarray:
    """Random Gaussian blobs: warm-up and benchmark data shaped like class features."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(clusters, dim))
    points = centres[rng.integers(0, clusters, n)] + rng.normal(size=(n, dim))
    return points.astype(np.float32)


class UmapProjector:
    """UMAP on standardised real+fake features, re-using the previous layout as init.

    First fit: PCA init and `first_epochs`. Updates (same number of real points as last
    time): reals start where they were; each fake starts at its nearest real neighbour's
    previous position (in standardised feature space), so only `update_epochs` are needed
    and the frame stays recognisable. Not thread-safe: one thread calls `project`.
    """

    def __init__(
        self,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        first_epochs: int = 200,
        update_epochs: int = 50,
        random_state: Optional[int] = None,  # an int forces umap single-threaded
        threads: int = 1,  # numba threads for this projector's fits; leave cores to torch
    ) -> None:
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.first_epochs = first_epochs
        self.update_epochs = update_epochs
        self.random_state = random_state
        self.threads = threads
        self._previous_real: Optional[np.ndarray] = None  # (M, 2) last raw layout

    def reset(self) -> None:
        self._previous_real = None

    def warm_up(self, n_points: int = 300, dim: int = 16) -> None:
        """Import umap and compile both code paths (first fit, init-array update)."""
        data = clustered_points(n_points, dim)
        first = self._fit(data, pca_2d(data), self.first_epochs)
        self._fit(data, first, self.update_epochs)

    def project(self, real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(M, 2) real and (F, 2) fake coordinates, unaligned."""
        n_real = len(real)
        stacked = standardise(np.concatenate([real, fake]))  # one scale for both
        previous = self._previous_real
        if previous is None or len(previous) != n_real:
            init, epochs = pca_2d(stacked), self.first_epochs
        else:
            nearest = nearest_rows(stacked[n_real:], stacked[:n_real])
            init, epochs = np.concatenate([previous, previous[nearest]]), self.update_epochs
        coords = self._fit(stacked, init, epochs)
        self._previous_real = coords[:n_real].copy()
        return coords[:n_real], coords[n_real:]

    def _fit(self, data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
        import numba
        import umap  # lazy: 13-15 s import, only in the embedding threads

        numba.set_num_threads(self.threads)  # per calling thread: trainer keeps its core
        model = umap.UMAP(
            n_components=2,
            n_neighbors=min(self.n_neighbors, len(data) - 1),
            min_dist=self.min_dist,
            n_epochs=n_epochs,
            init=np.asarray(init, dtype=np.float32),
            # Below 4,096 points umap otherwise takes an exact path that is 20x slower.
            force_approximation_algorithm=True,
            random_state=self.random_state,
        )
        return np.asarray(model.fit_transform(data), dtype=np.float32)  # (n, 2)


# UMAP life cycle inside the worker; the status line the page shows for each.
_UMAP_OFF, _UMAP_IDLE, _UMAP_WARMING, _UMAP_READY, _UMAP_FAILED = range(5)
_STATUS = {
    _UMAP_OFF: "PCA projection (UMAP switched off)",
    _UMAP_IDLE: "PCA projection (UMAP not started)",
    _UMAP_WARMING: "PCA shown while UMAP warms up (first use compiles for ~40 s)",
    _UMAP_READY: "UMAP ready",
}
MIN_UMAP_POINTS = 30  # below this a neighbour graph means little: PCA, without failing


class EmbeddingWorker:
    """Projects the newest submitted features on a daemon thread; never blocks callers.

    `warm_up()` starts the projection thread plus a short-lived warm-up thread that
    imports umap and compiles it (one uninterruptible ~40 s call, so it cannot share the
    projection thread without freezing the picture); PCA frames are served meanwhile.
    Once stopped, a worker stays stopped: make a new one.
    """

    def __init__(
        self,
        use_umap: bool = True,
        projector_factory: Callable[[], UmapProjector] = UmapProjector,
        poll_s: float = 0.5,  # how often an idle thread looks at the stop flag
    ) -> None:
        self.use_umap = use_umap
        self._projector = projector_factory() if use_umap else None
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pending: Optional[Features] = None
        self._newest: Optional[Features] = None  # re-projected once UMAP becomes ready
        self._latest: Optional[Projection] = None
        self._umap = _UMAP_IDLE if use_umap else _UMAP_OFF
        self._umap_failure = ""  # why UMAP was given up, for status_text
        self._frame_error: Optional[str] = None  # last projection failed (cleared on success)
        self._thread: Optional[threading.Thread] = None
        self._warm_thread: Optional[threading.Thread] = None
        self.frames_computed = 0  # projections finished (stale submissions never count)

    @property
    def status_text(self) -> str:
        """One line for the page: which method is shown, and why not UMAP if not."""
        if self._frame_error:
            return self._frame_error
        return self._umap_failure if self._umap == _UMAP_FAILED else _STATUS[self._umap]

    @property
    def umap_ready(self) -> bool:
        return self._umap == _UMAP_READY

    def start(self) -> None:
        """Start the projection thread (idempotent); `warm_up` calls it."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sgan-embedding", daemon=True
                )
                self._thread.start()

    def warm_up(self) -> None:
        """Start projecting, and (with use_umap) import and compile UMAP in the background."""
        self.start()
        with self._lock:
            if self._umap != _UMAP_IDLE:
                return
            self._umap = _UMAP_WARMING
            self._warm_thread = threading.Thread(
                target=self._warm, name="sgan-embedding-warm-up", daemon=True
            )
            self._warm_thread.start()

    def submit(self, features: Features) -> None:
        """Queue features for projection, replacing any that were still waiting."""
        with self._lock:
            self._pending = features
            self._wake.set()

    def latest(self) -> Optional[Projection]:
        with self._lock:
            return self._latest

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop and join; False if a thread outlived `timeout` (a warm-up mid-compile
        cannot be interrupted, but it is a daemon and does nothing after the stop)."""
        self._stopping.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        threads = [t for t in (self._thread, self._warm_thread) if t is not None]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._poll_s)
            with self._lock:  # take and clear together, so no submission is missed
                features, self._pending = self._pending, None
                self._wake.clear()
                self._newest = features or self._newest
            if features is None or self._stopping.is_set():
                continue
            try:
                projection = self._project(features)
            except Exception as error:  # bad features: say so, keep the last frame
                logger.warning("embedding failed at step %d", features.step, exc_info=True)
                self._frame_error = f"Embedding failed at step {features.step}: {error!r}"
                continue
            with self._lock:
                self._latest, self._frame_error = projection, None
                self.frames_computed += 1

    def _warm(self) -> None:
        try:
            self._projector.warm_up()
        except Exception as error:
            self._umap_failed("UMAP could not start", error)
            return
        with self._lock:
            self._umap = _UMAP_READY
            if self._pending is None and self._newest is not None:
                self._pending = self._newest  # redraw the current step with UMAP now
                self._wake.set()

    def _project(self, features: Features) -> Projection:
        started = time.perf_counter()
        method, real, fake = self._coordinates(features)
        previous = self._latest.coords_real if self._latest is not None else None
        alignment = fit_alignment(previous, real)  # reals are the same points every time
        return Projection(
            step=features.step,
            method=method,
            coords_real=alignment.apply(real),
            real_labels=features.real_labels,
            coords_fake=alignment.apply(fake),
            seconds=time.perf_counter() - started,
        )

    def _coordinates(self, features: Features) -> tuple[str, np.ndarray, np.ndarray]:
        n_real = len(features.real)
        if self._umap == _UMAP_READY and n_real + len(features.fake) >= MIN_UMAP_POINTS:
            try:
                real, fake = self._projector.project(features.real, features.fake)
                return METHOD_UMAP, real, fake
            except Exception as error:
                self._umap_failed(f"UMAP failed at step {features.step}", error)
        coords = pca_2d(standardise(np.concatenate([features.real, features.fake])))
        return METHOD_PCA, coords[:n_real], coords[n_real:]

    def _umap_failed(self, what: str, error: Exception) -> None:
        # PCA for good: a UMAP that failed once would likely fail again, and each try
        # costs seconds. The page shows the reason in status_text; the log has the trace.
        logger.warning("%s", what, exc_info=error)
        with self._lock:
            self._umap = _UMAP_FAILED
            self._umap_failure = f"{what} ({error!r}); showing PCA instead"
