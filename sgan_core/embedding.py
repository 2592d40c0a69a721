"""2-D projections of discriminator features: PCA now, UMAP once it is warm.

`EmbeddingWorker` serves PCA projections at once (computed here: ~16 ms of numpy) and
switches to UMAP when its UMAP process (sgan_core.embedding_worker) has imported umap
and compiled it, 45-60 s after start. umap never runs in this process: its numba code
holds the GIL, which stalled training. Every new frame is rotated/scaled onto the
previous one (Procrustes) so points do not jump between updates. Nothing here blocks the
trainer: features are handed over with `submit` and the newest frame is read with
`latest`.
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


# UMAP life cycle inside the worker; the status line the page shows for each.
_UMAP_OFF, _UMAP_IDLE, _UMAP_WARMING, _UMAP_READY, _UMAP_FAILED = range(5)
_STATUS = {
    _UMAP_OFF: "PCA projection (UMAP switched off)",
    _UMAP_IDLE: "PCA projection (UMAP not started)",
    _UMAP_WARMING: "PCA shown while UMAP warms up in the background (~1 min the first time)",
    _UMAP_READY: "UMAP ready",
}
MIN_UMAP_POINTS = 30  # below this a neighbour graph means little: PCA, without failing
# A UMAP frame every 2 s (each evaluation) cost the page a fifth of training speed on 2
# cores (the child's CPU plus a WebGL redraw in the browser); the map moves slowly, so
# a frame every few seconds shows the same story. bench/README.md has the figures.
UMAP_FRAME_INTERVAL_S = 6.0


class EmbeddingWorker:
    """Projects the newest submitted features on a daemon thread; never blocks callers.

    With use_umap, `warm_up()` also gets a UMAP process (a spare one if the server has
    it); PCA frames are served until it has compiled. Then each submission is sent to
    it, one at a time: newer features wait, and unsent older ones are dropped. If the
    process cannot start, fails or dies, the worker shows PCA for good and says why in
    `status_text`. Once stopped, a worker stays stopped: make a new one.
    """

    def __init__(
        self,
        use_umap: bool = True,
        projector_factory: Optional[Callable[[], object]] = None,  # runs in the UMAP
        # process, so it must pickle (a module-level class); None: UmapProjector
        poll_s: float = 0.5,  # how often an idle thread looks at the stop flag
        recycle_process: bool = True,  # on stop, park a warm UMAP process for the next
        request_timeout_s: float = 120.0,  # a UMAP frame taking longer: give up on UMAP
        min_frame_interval_s: float = UMAP_FRAME_INTERVAL_S,  # least time between UMAP requests
    ) -> None:
        self.use_umap = use_umap
        self._projector_factory = projector_factory
        self._recycle = recycle_process
        self._request_timeout_s = request_timeout_s
        self._poll_s = poll_s
        self._min_frame_interval_s = min_frame_interval_s
        self._last_request = float("-inf")  # monotonic time the last UMAP frame was asked for
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
        self._process = None  # embedding_worker.UmapProcess, driven by the worker thread
        self._sent: Optional[tuple[int, Features]] = None  # (request id, features) at UMAP
        self._fresh_layout = True  # this worker's first UMAP frame must not reuse another's
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

    @property
    def umap_process_id(self) -> Optional[int]:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        """Start the projection thread (idempotent); `warm_up` calls it."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sgan-embedding", daemon=True
                )
                self._thread.start()

    def warm_up(self) -> None:
        """Start projecting and, with use_umap, get the UMAP process going."""
        self.start()
        with self._lock:
            if self._umap == _UMAP_IDLE:
                self._umap = _UMAP_WARMING
                self._wake.set()  # the thread starts the process: warm_up returns at once

    def submit(self, features: Features) -> None:
        """Queue features for projection, replacing any that were still waiting."""
        with self._lock:
            self._pending = features
            self._wake.set()

    def latest(self) -> Optional[Projection]:
        with self._lock:
            return self._latest

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the thread and the UMAP process (or park it as the server's spare);
        False if the thread outlived `timeout` (it is a daemon and ends soon after)."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        stuck = thread is not None and thread.is_alive()
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            from sgan_core.embedding_worker import park_umap_process

            if stuck or not self._recycle or not park_umap_process(process):
                process.close()
        return not stuck

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._poll_s)
            self._wake.clear()  # before looking: a later wake-up is never lost
            if self._stopping.is_set():
                break
            self._guarded(self._tend_process)
            features = self._take_pending()
            if features is not None:
                self._guarded(self._project, features)

    def _guarded(self, action: Callable, *args) -> None:
        try:
            action(*args)
        except Exception as error:  # bad features: say so, keep the last frame
            step = args[0].step if args else (self._sent[1].step if self._sent else "?")
            logger.warning("embedding failed at step %s", step, exc_info=True)
            self._frame_error = f"Embedding failed at step {step}: {error!r}"

    def _take_pending(self) -> Optional[Features]:
        with self._lock:
            process = self._process
            if self._umap == _UMAP_READY and process is not None and (
                    process.busy or self._too_soon_for_umap()):
                return None  # one frame at a time: newer features wait in _pending
            features, self._pending = self._pending, None
            self._newest = features or self._newest
            return features

    def _too_soon_for_umap(self) -> bool:
        return time.monotonic() - self._last_request < self._min_frame_interval_s

    def _project(self, features: Features) -> None:
        n_points = len(features.real) + len(features.fake)
        if self._umap == _UMAP_READY and n_points >= MIN_UMAP_POINTS:
            request_id = self._process.request(features.real, features.fake,
                                               reset=self._fresh_layout)
            if request_id is not None:  # the frame comes back through _tend_process
                self._sent, self._fresh_layout = (request_id, features), False
                self._last_request = time.monotonic()
                return
        started = time.perf_counter()
        coords = pca_2d(standardise(np.concatenate([features.real, features.fake])))
        n_real = len(features.real)
        self._publish(features, METHOD_PCA, coords[:n_real], coords[n_real:], started)

    def _publish(self, features: Features, method: str, real: np.ndarray,
                 fake: np.ndarray, started: float) -> None:
        previous = self._latest.coords_real if self._latest is not None else None
        alignment = fit_alignment(previous, real)  # reals are the same points every time
        projection = Projection(
            step=features.step,
            method=method,
            coords_real=alignment.apply(real),
            real_labels=features.real_labels,
            coords_fake=alignment.apply(fake),
            seconds=time.perf_counter() - started,
        )
        with self._lock:
            self._latest, self._frame_error = projection, None
            self.frames_computed += 1

    def _tend_process(self) -> None:
        """Start the UMAP process, take its replies, and notice when it is ready or gone."""
        if self._umap == _UMAP_WARMING and self._process is None:
            self._start_process()
        process = self._process
        if process is None or self._umap not in (_UMAP_WARMING, _UMAP_READY):
            return
        for reply in process.replies():
            if self._sent is None or self._sent[0] != reply[1]:
                continue  # answers a request of this process's previous owner
            sent, self._sent = self._sent, None
            if reply[0] == "error":
                self._give_up_umap(f"UMAP failed at step {sent[1].step} ({reply[2]})", sent)
                return
            _, _, real, fake, seconds = reply  # seconds: the fit, in the UMAP process
            self._publish(sent[1], METHOD_UMAP, real, fake, time.perf_counter() - seconds)
        if process.dead:
            self._give_up_umap(process.failure, self._sent)
        elif process.ready and self._umap == _UMAP_WARMING:
            self._umap_became_ready()
        elif process.busy_since and (
                time.monotonic() - process.busy_since > self._request_timeout_s):
            self._give_up_umap(f"UMAP took over {self._request_timeout_s:.0f} s for one frame",
                               self._sent)

    def _start_process(self) -> None:
        from sgan_core.embedding_worker import UmapProjector, adopt_umap_process

        try:
            process = adopt_umap_process(self._projector_factory or UmapProjector)
        except Exception as error:
            self._give_up_umap(f"UMAP could not start ({error!r})", None)
            return
        with self._lock:
            if not self._stopping.is_set():
                self._process, process = process, None
        if process is not None:  # stop() came first: it must not leak a child
            process.close()
            return
        self._process.attach(self._wake.set)

    def _umap_became_ready(self) -> None:
        with self._lock:
            self._umap = _UMAP_READY
            if self._pending is None and self._newest is not None:
                self._pending = self._newest  # redraw the current step with UMAP now

    def _give_up_umap(self, why: str, sent: Optional[tuple[int, Features]]) -> None:
        # PCA for good: a UMAP that failed once would likely fail again, and each try
        # costs seconds. The page shows the reason in status_text.
        logger.warning("%s; showing PCA instead", why)
        with self._lock:
            self._umap = _UMAP_FAILED
            self._umap_failure = f"{why}; showing PCA instead"
            process, self._process, self._sent = self._process, None, None
            if sent is not None and self._pending is None:
                self._pending = sent[1]  # its frame never came: draw it with PCA
        if process is not None:
            process.close()
