"""One server-wide feature-map service: the newest features of each run in, the latest
frame of each run out; PCA at once, UMAP from one shared child process once it is warm.

One daemon thread does all the work (a second one only waits for the UMAP child's
replies); callers never wait on it. `submit` replaces any
request of that run still waiting (newest wins), and `latest` returns a frozen
`MapFrame`. The UMAP child (umap_child.py) is stateless, so every run can share it: the
service keeps each run's previous layout and sends it as the next fit's start. Every
frame is rotated/scaled onto the run's previous frame (Procrustes) so points do not
jump. If the child cannot start or dies, the service keeps drawing PCA and says why.
"""
from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import numpy as np

from sgan_core.features.projection import (Method, Projection, align, clustered_points, pca_2d,
                                  pca_of, standardise, umap_start)
from sgan_core.snapshot import Features
from sgan_core.features.umap_child import UmapChild

log = logging.getLogger(__name__)
MIN_UMAP_POINTS = 30  # below this a neighbour graph means little: PCA, without failing
# A UMAP frame every 2 s (each evaluation) cost the page a fifth of training speed on 2
# cores (the child's CPU plus a WebGL redraw in the browser); the map moves slowly, so
# a frame every few seconds per run shows the same story. bench/README.md has figures.
UMAP_FRAME_INTERVAL_S = 6.0


class UmapPhase(enum.Enum):
    OFF = "off"  # the service was made without a UMAP child
    WARMING = "warming"  # the child imports umap and compiles numba (about 7 s of CPU: bench/README.md, bench_embedding.py)
    READY = "ready"
    FAILED = "failed"  # could not start, or died: PCA from now on (see `problem`)


@dataclass(frozen=True)
class MapFrame:
    """What the feature-map panel draws: a projection and why it is (or is not) UMAP."""

    projection: Projection
    umap_phase: UmapPhase  # the service's UMAP phase when this frame was read
    problem: str = ""  # what went wrong with UMAP, in words for the page ("" if nothing)


@dataclass
class _Run:
    pending: Optional[Features] = None  # newest features not yet projected
    taken: Optional[Features] = None  # last features projected or sent to UMAP
    frame: Optional[Projection] = None
    layout: Optional[np.ndarray] = None  # (M, 2) unaligned UMAP reals: the next init
    last_request: float = float("-inf")  # monotonic time of its last UMAP request
    problem: str = ""


class _Fit(NamedTuple):
    run_id: Optional[str]  # None: the warm-up fit
    features: Optional[Features]
    sent: float  # monotonic time


class EmbeddingService:
    """Projects each run's newest features on one daemon thread; thread-safe."""

    def __init__(self, child_factory: Optional[Callable[[], UmapChild]] = UmapChild,
                 frame_interval_s: float = UMAP_FRAME_INTERVAL_S,
                 request_timeout_s: float = 120.0,  # a fit taking longer: give up on UMAP
                 poll_s: float = 0.5) -> None:  # how often the idle thread looks around
        self._child_factory = child_factory
        self._frame_interval_s = frame_interval_s
        self._request_timeout_s = request_timeout_s
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._phase = UmapPhase.WARMING if child_factory else UmapPhase.OFF
        self._problem = ""  # why UMAP is FAILED
        self._child: Optional[UmapChild] = None  # only the thread touches it
        self._in_flight: Optional[_Fit] = None  # the fit the child works on
        # what wakes the thread: None (a submit, or close) or (child, its reply or None
        # once it is gone)
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sgan-embedding", daemon=True)
        self._thread.start()

    @property
    def umap_phase(self) -> UmapPhase:
        return self._phase

    @property
    def child_pid(self) -> Optional[int]:
        child = self._child
        return None if child is None else child.pid

    def submit(self, run_id: str, features: Features) -> None:
        """Queue a run's features, replacing any of that run still waiting."""
        with self._lock:
            run = self._runs.setdefault(run_id, _Run())
            if run.taken is not None and run.taken.step == features.step:
                return  # another tab of the same run: already taken
            if run.pending is None or run.pending.step != features.step:
                run.pending = features
        self._inbox.put(None)

    def latest(self, run_id: str) -> Optional[MapFrame]:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.frame is None:
                return None
            return MapFrame(run.frame, self._phase, run.problem or self._problem)

    def discard(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    def close(self, timeout: float = 5.0) -> bool:
        """Stop the thread and the child; False if the thread outlived `timeout` (it
        then closes the child itself on its way out). A closed service stays closed."""
        self._stopping.set()
        self._inbox.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- the thread ---------------------------------------------------------------

    def _loop(self) -> None:
        if self._child_factory is not None:
            self._start_child()
        try:
            while not self._stopping.is_set():
                try:
                    news = self._inbox.get(timeout=self._poll_s)
                except queue.Empty:
                    news = None
                if news is not None and news[0] is self._child:  # not a closed one's
                    self._on_child(news[1])
                self._check_timeout()
                self._project_pending()
        finally:
            if self._child is not None:
                self._child.close()

    def _start_child(self) -> None:
        try:
            self._child = child = self._child_factory()
            threading.Thread(target=self._listen, args=(child,), daemon=True,
                             name="sgan-embedding-replies").start()
            data = clustered_points(200, 16)  # one small fit imports umap, compiles numba
            self._in_flight = _Fit(None, None, time.monotonic())
            child.request(data, pca_2d(data), 20)
        except Exception as error:
            self._give_up(f"UMAP could not start ({error!r})")

    def _listen(self, child: UmapChild) -> None:
        """The child's replies into the inbox, then (child, None) once it is gone."""
        try:
            while True:
                self._inbox.put((child, child.reply()))
        except Exception:  # EOFError or OSError: it exited, died or was closed
            self._inbox.put((child, None))

    def _on_child(self, reply: Optional[tuple]) -> None:
        if reply is None:
            code = self._child.exit_code()
            self._give_up(f"UMAP could not start (its process exited with code {code})"
                          if self._phase == UmapPhase.WARMING else
                          f"The UMAP process stopped unexpectedly (exit code {code})")
        elif self._in_flight is not None:
            fit, self._in_flight = self._in_flight, None
            self._on_reply(fit, *reply)

    def _check_timeout(self) -> None:
        fit = self._in_flight
        if (fit is not None and fit.run_id is not None
                and time.monotonic() - fit.sent > self._request_timeout_s):
            self._give_up(f"UMAP took over {self._request_timeout_s:.0f} s for one frame")

    def _on_reply(self, fit: _Fit, layout: Optional[np.ndarray], problem: str,
                  seconds: float) -> None:
        if fit.features is None and problem:  # the warm-up fit
            self._give_up(f"UMAP could not start ({problem})")
        elif fit.features is None:
            log.info("UMAP is ready (%.0f s to import and compile)", seconds)
            with self._lock:
                self._phase = UmapPhase.READY
                for run in self._runs.values():  # redraw PCA frames with UMAP now
                    if run.pending is None and run.frame is not None:
                        run.pending = run.taken
        elif layout is not None:
            n_real = len(fit.features.real)
            self._publish(fit.run_id, fit.features, Method.UMAP, layout[:n_real],
                          layout[n_real:], seconds, umap_layout=True)
        else:  # this fit failed (odd features?): draw it with PCA, keep UMAP
            self._pca(fit.run_id, fit.features,
                      f"UMAP failed at step {fit.features.step} ({problem})")

    def _give_up(self, why: str) -> None:
        # PCA for good: a UMAP that failed once would likely fail again, and each try
        # costs a minute of compiling. The page shows the reason.
        log.warning("%s; showing PCA instead", why)
        child, self._child = self._child, None
        fit, self._in_flight = self._in_flight, None
        with self._lock:
            self._phase, self._problem = UmapPhase.FAILED, f"{why}; showing PCA instead"
            run = self._runs.get(fit.run_id) if fit and fit.run_id else None
            if run is not None and run.pending is None:
                run.pending = fit.features  # its UMAP frame never came: draw it with PCA
        if child is not None:
            child.close()

    def _project_pending(self) -> None:
        """PCA what cannot wait for UMAP; send one run's features to the child if idle."""
        with self._lock:
            work = [(run_id, run, run.pending) for run_id, run in self._runs.items()
                    if run.pending is not None]
        for run_id, run, features in work:
            if (self._phase != UmapPhase.READY
                    or len(features.real) + len(features.fake) < MIN_UMAP_POINTS):
                self._pca(run_id, features, take=True)  # PCA keeps the map moving
                continue
            if run.frame is None:  # something to look at while UMAP computes the frame
                self._pca(run_id, features)
            if (self._in_flight is None
                    and time.monotonic() - run.last_request >= self._frame_interval_s):
                self._request_umap(run_id, run, features)
            # otherwise it waits as `pending`, and a newer submit replaces it

    def _request_umap(self, run_id: str, run: _Run, features: Features) -> None:
        with self._lock:
            if run.pending is not features:
                return  # replaced by a newer submit meanwhile: that one goes next
            run.pending, run.taken, run.last_request = None, features, time.monotonic()
        stacked = standardise(np.concatenate([features.real, features.fake]))
        init, epochs = umap_start(stacked, len(features.real), run.layout)
        self._in_flight = _Fit(run_id, features, time.monotonic())
        try:
            self._child.request(stacked, init, epochs)
        except OSError:  # it just died: its listener reports how
            pass

    def _pca(self, run_id: str, features: Features, problem: str = "",
             take: bool = False) -> None:
        """Draw `features` with PCA; `take`: they are done with (no UMAP frame follows)."""
        started = time.perf_counter()
        try:
            real, fake = pca_of(features)
        except Exception as error:  # bad features: say so, keep the last frame
            log.warning("embedding failed at step %s", features.step, exc_info=True)
            real, problem = None, f"Embedding failed at step {features.step}: {error!r}"
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and take and run.pending is features:
                run.pending, run.taken = None, features
            if run is not None and real is None:
                run.problem = problem
        if real is not None:
            self._publish(run_id, features, Method.PCA, real, fake,
                          time.perf_counter() - started, problem=problem)

    def _publish(self, run_id: str, features: Features, method: Method, real: np.ndarray,
                 fake: np.ndarray, seconds: float, problem: str = "",
                 umap_layout: bool = False) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return  # discarded while it was computed
            previous = run.frame.coords_real if run.frame is not None else None
            aligned_real, aligned_fake = align(previous, real, fake)  # reals: same points
            run.frame = Projection(features.step, method, aligned_real,
                                   features.real_labels, aligned_fake, seconds)
            run.problem = problem
            if umap_layout:
                run.layout = np.asarray(real, np.float32)
