"""One server-wide feature-map service: the newest features of each run in, the latest
frame of each run out; PCA at once, UMAP from one shared child process once it is warm.

One daemon thread does all the work; callers never wait on it. `submit` replaces any
request of that run still waiting (newest wins), and `latest` returns a frozen
`MapFrame`. The UMAP child (umap_child.py) is stateless, so every run can share it: the
service keeps each run's previous layout and sends it as the next fit's start. Every
frame is rotated/scaled onto the run's previous frame (Procrustes) so points do not
jump. If the child cannot start or dies, the service keeps drawing PCA and says why.
"""
from __future__ import annotations

import enum
import logging
import os
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from sgan_core.projection import (Method, Projection, fit_alignment, pca_2d, standardise,
                                  umap_start)
from sgan_core.snapshot import Features
from sgan_core.umap_child import Reply, UmapChild

log = logging.getLogger(__name__)
MIN_UMAP_POINTS = 30  # below this a neighbour graph means little: PCA, without failing
# A UMAP frame every 2 s (each evaluation) cost the page a fifth of training speed on 2
# cores (the child's CPU plus a WebGL redraw in the browser); the map moves slowly, so
# a frame every few seconds per run shows the same story. bench/README.md has figures.
UMAP_FRAME_INTERVAL_S = 6.0


class UmapPhase(enum.Enum):
    OFF = "off"  # the service was made without a UMAP child
    WARMING = "warming"  # the child imports umap and compiles numba (~1 min)
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
    newest: Optional[Features] = None  # last features taken (redrawn when UMAP is ready)
    frame: Optional[Projection] = None
    layout: Optional[np.ndarray] = None  # (M, 2) unaligned UMAP reals: the next init
    last_request: float = float("-inf")  # monotonic time of its last UMAP request
    problem: str = ""


@dataclass
class _InFlight:
    request_id: int
    run_id: str
    features: Features
    sent: float = field(default_factory=time.monotonic)


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
        self._in_flight: Optional[_InFlight] = None
        self._stopping = threading.Event()
        self._wake_write: Optional[int]
        self._wake_read, self._wake_write = os.pipe()  # submit() interrupts select()
        os.set_blocking(self._wake_write, False)
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
            if run.newest is not None and run.newest.step == features.step:
                return  # another tab of the same run: already taken
            if run.pending is None or run.pending.step != features.step:
                run.pending = features
        self._wake()

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
        self._wake()
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        with self._lock:
            wake_write, self._wake_write = self._wake_write, None
        if wake_write is not None:
            os.close(wake_write)
            os.close(self._wake_read)
        return True

    def _wake(self) -> None:
        with self._lock:  # never write to a closed (maybe reused) descriptor
            if self._wake_write is None:
                return
            try:
                os.write(self._wake_write, b"x")
            except BlockingIOError:  # the pipe is full of wake-ups already
                pass

    # --- the thread ---------------------------------------------------------------

    def _loop(self) -> None:
        if self._child_factory is not None:
            self._start_child()
        try:
            while not self._stopping.is_set():
                self._wait_and_read()
                self._check_timeout()
                self._project_pending()
        finally:
            if self._child is not None:
                self._child.close()

    def _start_child(self) -> None:
        try:
            self._child = self._child_factory()
        except Exception as error:
            self._give_up(f"UMAP could not start ({error!r})")

    def _wait_and_read(self) -> None:
        sources = [self._wake_read] + ([self._child.fileno()] if self._child else [])
        readable, _, _ = select.select(sources, [], [], self._poll_s)
        if self._wake_read in readable:
            os.read(self._wake_read, 4096)
        if self._child is not None and self._child.fileno() in readable:
            try:
                self._on_reply(self._child.receive())
            except (EOFError, OSError):
                self._on_child_death()

    def _on_reply(self, reply: tuple) -> None:
        kind = reply[0]
        if kind == Reply.READY:
            log.info("UMAP is ready (%.0f s to import and compile)", reply[1])
            with self._lock:
                self._phase = UmapPhase.READY
                for run in self._runs.values():  # redraw PCA frames with UMAP now
                    if run.pending is None and run.frame is not None:
                        run.pending = run.newest
        elif kind == Reply.FAILED:
            self._give_up(f"UMAP could not start ({reply[1]})")
        elif self._in_flight is not None and reply[1] == self._in_flight.request_id:
            sent, self._in_flight = self._in_flight, None
            if kind == Reply.LAYOUT:
                n_real = len(sent.features.real)
                self._publish(sent.run_id, sent.features, Method.UMAP, reply[2][:n_real],
                              reply[2][n_real:], reply[3], umap_layout=True)
            else:  # this fit failed (odd features?): draw it with PCA, keep UMAP
                self._pca(sent.run_id, sent.features,
                          f"UMAP failed at step {sent.features.step} ({reply[2]})")

    def _on_child_death(self) -> None:
        code = self._child.exit_code() if self._child else None
        if self._phase == UmapPhase.WARMING:
            self._give_up(f"UMAP could not start (its process exited with code {code})")
        else:
            self._give_up(f"The UMAP process stopped unexpectedly (exit code {code})")

    def _check_timeout(self) -> None:
        sent = self._in_flight
        if sent is not None and time.monotonic() - sent.sent > self._request_timeout_s:
            self._give_up(f"UMAP took over {self._request_timeout_s:.0f} s for one frame")

    def _give_up(self, why: str) -> None:
        # PCA for good: a UMAP that failed once would likely fail again, and each try
        # costs a minute of compiling. The page shows the reason.
        log.warning("%s; showing PCA instead", why)
        child, self._child = self._child, None
        sent, self._in_flight = self._in_flight, None
        with self._lock:
            self._phase, self._problem = UmapPhase.FAILED, f"{why}; showing PCA instead"
            run = self._runs.get(sent.run_id) if sent else None
            if run is not None and run.pending is None:
                run.pending = sent.features  # its UMAP frame never came: draw it with PCA
        if child is not None:
            child.close()

    def _project_pending(self) -> None:
        """PCA what cannot wait for UMAP; send one run's features to the child if idle."""
        with self._lock:
            work = [(run_id, run.pending, run.frame is None)
                    for run_id, run in self._runs.items() if run.pending is not None]
        for run_id, features, first in work:
            if (self._phase == UmapPhase.READY
                    and len(features.real) + len(features.fake) >= MIN_UMAP_POINTS):
                if first:  # something to look at while the UMAP frame is computed
                    self._pca(run_id, features, keep_pending=True)
                self._maybe_request(run_id, features)
            else:  # warming up, failed or off: PCA keeps the map moving
                self._pca(run_id, features)

    def _maybe_request(self, run_id: str, features: Features) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if (self._phase != UmapPhase.READY or self._in_flight is not None or run is None
                    or time.monotonic() - run.last_request < self._frame_interval_s):
                return  # it waits as `pending`; a newer submit replaces it
            run.pending, run.newest, run.last_request = None, features, time.monotonic()
            layout = run.layout
        stacked = standardise(np.concatenate([features.real, features.fake]))
        init, epochs = umap_start(stacked, len(features.real), layout)
        try:
            request_id = self._child.request(stacked, init, epochs)
        except OSError:
            self._in_flight = _InFlight(0, run_id, features)
            self._on_child_death()
            return
        self._in_flight = _InFlight(request_id, run_id, features)

    def _pca(self, run_id: str, features: Features, problem: str = "",
             keep_pending: bool = False) -> None:
        started = time.perf_counter()
        try:
            coords = pca_2d(standardise(np.concatenate([features.real, features.fake])))
        except Exception as error:  # bad features: say so, keep the last frame
            log.warning("embedding failed at step %s", features.step, exc_info=True)
            coords, problem = None, f"Embedding failed at step {features.step}: {error!r}"
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and not keep_pending and run.pending is features:
                run.pending, run.newest = None, features
        if coords is None:
            self._set_problem(run_id, problem)
            return
        n_real = len(features.real)
        self._publish(run_id, features, Method.PCA, coords[:n_real], coords[n_real:],
                      time.perf_counter() - started, problem=problem)

    def _set_problem(self, run_id: str, problem: str) -> None:
        with self._lock:
            if run_id in self._runs:
                self._runs[run_id].problem = problem

    def _publish(self, run_id: str, features: Features, method: Method, real: np.ndarray,
                 fake: np.ndarray, seconds: float, problem: str = "",
                 umap_layout: bool = False) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return  # discarded while it was computed
            previous = run.frame.coords_real if run.frame is not None else None
            alignment = fit_alignment(previous, real)  # reals are the same points each time
            run.frame = Projection(features.step, method, alignment.apply(real),
                                   features.real_labels, alignment.apply(fake), seconds)
            run.problem = problem
            if umap_layout:
                run.layout = np.asarray(real, np.float32)
