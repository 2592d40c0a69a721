"""The UMAP worker process: umap-learn and numba run here, never in the server process.

umap's numba layout code holds the GIL, so a fit in a thread of the server stalls the
training thread (page open: 0.22x headless throughput). Each EmbeddingWorker therefore
talks to one child process over its stdin/stdout pipes, in pickles:

    parent -> child   the parent's sys.path, the projector factory, then one
                      (request_id, real, fake, reset) per frame, never two at a time
    child -> parent   ("ready",) or ("failed", text) once the warm-up fit is done, then
                      ("result", request_id, coords_real, coords_fake, seconds) or
                      ("error", request_id, text) per request

The child imports umap and compiles numba (13-15 s + 30-45 s) with one thread at nice 10,
so training keeps its core. It exits when its stdin closes or its parent pid changes (the
server died). A plain subprocess, not multiprocessing's spawn: `streamlit run` installs
the app script as sys.modules['__main__'], which spawn would re-run in the child, and the
thread limits must be in the environment before numpy and numba load.

A stopped worker's warm process is parked as the server's one spare, and the next worker
adopts it instead of compiling again; `prewarm_umap_process` starts a spare early.
"""
from __future__ import annotations

import atexit
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, Optional

import numpy as np

from sgan_core.embedding import clustered_points, nearest_rows, pca_2d, standardise

CHILD_NICE = 10  # added niceness: training and the page win the CPU over UMAP
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
_CHILD_COMMAND = "from sgan_core.embedding_worker import child_main; child_main()"
_ONE_THREAD = {name: "1" for name in (
    "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
STARTING, READY, DEAD = "starting", "ready", "dead"  # UmapProcess.state


class UmapProjector:
    """UMAP on standardised real+fake features, re-using the previous layout as init.

    First fit: PCA init and `first_epochs`. Updates (same number of real points as last
    time): reals start where they were; each fake starts at its nearest real neighbour's
    previous position (in standardised feature space), so only `update_epochs` are needed
    and the frame stays recognisable. Runs in the UMAP process; one thread calls it.
    """

    def __init__(self, n_neighbors: int = 15, min_dist: float = 0.1, first_epochs: int = 200,
                 update_epochs: int = 50,
                 random_state: Optional[int] = None,  # an int forces umap to one thread
                 threads: int = 1) -> None:  # numba threads of the calling thread
        self.threads = threads
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.first_epochs = first_epochs
        self.update_epochs = update_epochs
        self.random_state = random_state
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
        import umap  # lazy: 13-15 s import

        numba.set_num_threads(self.threads)  # per calling thread
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


# --- the child ------------------------------------------------------------------------

def child_main() -> None:
    """Entry point of the UMAP process: warm up, then answer requests until stdin closes."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library printing to stdout must not corrupt the replies
    sys.stdout = sys.stderr
    _exit_when_orphaned(os.getppid())
    try:
        os.nice(CHILD_NICE)
    except OSError:
        pass
    try:
        _serve(sys.stdin.buffer, replies)
    except (EOFError, BrokenPipeError):
        pass  # the parent closed the pipes or went away
    sys.stderr.flush()
    os._exit(0)  # at once: a normal shutdown of umap's and numba's modules takes seconds


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    def reply(*message: Any) -> None:
        pickle.dump(message, replies, pickle.HIGHEST_PROTOCOL)
        replies.flush()

    sys.path.extend(p for p in pickle.load(requests) if p not in sys.path)
    try:  # the factory is unpickled here: its module may need the parent's sys.path
        projector = pickle.load(requests)()
        projector.warm_up()
    except EOFError:
        raise
    except Exception as error:
        reply("failed", repr(error))
        return
    reply("ready")
    while True:
        request_id, real, fake, reset = pickle.load(requests)
        started = time.perf_counter()
        try:
            if reset and hasattr(projector, "reset"):
                projector.reset()
            coords_real, coords_fake = projector.project(real, fake)
        except Exception as error:
            reply("error", request_id, repr(error))
            continue
        reply("result", request_id, np.asarray(coords_real, np.float32),
              np.asarray(coords_fake, np.float32), time.perf_counter() - started)


def _exit_when_orphaned(parent_pid: int) -> None:
    """Stdin EOF is only read between fits; this also ends a 40 s compile within 1 s."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


# --- the parent's handle --------------------------------------------------------------

class UmapProcess:
    """One UMAP child, seen from the server. A reader thread queues its replies; its
    owner (one thread at a time) sends requests and collects replies with `replies`."""

    def __init__(self, projector_factory: Callable[[], Any]) -> None:
        self.projector_factory = projector_factory
        self.state = STARTING
        self.failure = ""  # why the state is DEAD, in words for the page
        self.busy_since: Optional[float] = None  # monotonic time the open request was sent
        self._open_request: Optional[int] = None
        self._last_id = 0
        self._replies: queue.Queue = queue.Queue()
        self._notify: Callable[[], None] = lambda: None
        factory = pickle.dumps(projector_factory)  # fails here, before a child exists
        path = os.pathsep.join(p for p in (_REPO_ROOT, os.environ.get("PYTHONPATH")) if p)
        self._child = subprocess.Popen(
            [sys.executable, "-c", _CHILD_COMMAND], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env={**os.environ, **_ONE_THREAD, "PYTHONPATH": path})
        self._reader = threading.Thread(target=self._read, name="sgan-umap-reader", daemon=True)
        self._reader.start()
        try:
            self._write(sys.path)
            self._write(factory, raw=True)
        except OSError:  # it died at once: no zombie, no reader left behind
            self.close()
            raise

    @property
    def pid(self) -> int:
        return self._child.pid

    @property
    def ready(self) -> bool:
        return self.state == READY

    @property
    def dead(self) -> bool:
        return self.state == DEAD

    @property
    def busy(self) -> bool:
        return self._open_request is not None

    def attach(self, notify: Callable[[], None]) -> None:
        """Call `notify` (from the reader thread) whenever a reply arrives."""
        self._notify = notify
        notify()  # replies may be waiting already

    def request(self, real: np.ndarray, fake: np.ndarray, reset: bool) -> Optional[int]:
        """Send one projection request; its id, or None if the child cannot take it."""
        if self.state != READY or self.busy:
            return None
        self._last_id += 1
        self._open_request, self.busy_since = self._last_id, time.monotonic()
        try:
            self._write((self._last_id, real, fake, reset))
        except (OSError, ValueError):  # the child died or was closed: the reader says so
            return None
        return self._last_id

    def replies(self) -> list[tuple]:
        """Results and errors since the last call; also moves `state` on."""
        answered = []
        while True:
            try:
                message = self._replies.get_nowait()
            except queue.Empty:
                return answered
            kind = message[0]
            if kind == "ready":
                self.state = READY if self.state == STARTING else self.state
            elif kind in ("failed", "died"):
                self._die(message)
            elif message[1] == self._open_request:
                self._open_request = self.busy_since = None
                answered.append(message)

    def alive(self) -> bool:
        self.replies()  # only an unowned process is asked: its results are stale anyway
        return self.state != DEAD and self._child.poll() is None

    def close(self, timeout: float = 2.0) -> None:
        """End the child (SIGTERM, then SIGKILL) and join the reader thread."""
        self._notify = lambda: None
        try:
            self._child.stdin.close()
        except OSError:
            pass
        if self._child.poll() is None:
            self._child.terminate()
        try:
            self._child.wait(timeout)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait(timeout)
        self._reader.join(timeout)
        self._die(("closed",))

    def _die(self, message: tuple) -> None:
        if self.state == DEAD:
            return
        if message[0] == "failed":
            self.failure = f"UMAP could not start ({message[1]})"
        elif message[0] == "died" and self.state == STARTING:
            self.failure = f"UMAP could not start (its process exited with code {message[1]})"
        elif message[0] == "died":
            self.failure = f"The UMAP process stopped unexpectedly (exit code {message[1]})"
        else:
            self.failure = "The UMAP process was stopped"
        self.state = DEAD

    def _write(self, payload: Any, raw: bool = False) -> None:
        stream = self._child.stdin
        if raw:
            stream.write(payload)
        else:
            pickle.dump(payload, stream, pickle.HIGHEST_PROTOCOL)
        stream.flush()

    def _read(self) -> None:
        try:
            while True:
                self._replies.put(pickle.load(self._child.stdout))
                self._notify()
        except Exception:  # EOF (or a garbled stream): this child is over for us
            pass
        try:
            code = self._child.wait(2.0)
        except subprocess.TimeoutExpired:
            self._child.kill()
            code = self._child.wait()
        self._replies.put(("died", code))
        self._notify()


# --- the server's spare ---------------------------------------------------------------

_spare_lock = threading.Lock()
_spare: Optional[UmapProcess] = None  # warm (or warming) and unowned; at most one
_exit_hook_installed = False


def prewarm_umap_process(projector_factory: Callable[[], Any] = UmapProjector) -> None:
    """Start compiling UMAP in a spare process now, for the next worker (idempotent)."""
    global _spare
    with _spare_lock:
        if _spare is None or not _spare.alive():
            _spare = UmapProcess(projector_factory)
            _install_exit_hook()


def adopt_umap_process(projector_factory: Callable[[], Any]) -> UmapProcess:
    """The spare if it is alive and runs the same projector, else a new process."""
    global _spare
    with _spare_lock:
        spare = _spare
        if spare is not None and spare.projector_factory == projector_factory:
            _spare = None
            if spare.alive():
                return spare
            spare.close()
    return UmapProcess(projector_factory)


def park_umap_process(process: UmapProcess) -> bool:
    """Keep a warm, unowned process as the spare; False (caller closes it) if not."""
    global _spare
    with _spare_lock:
        process.attach(lambda: None)
        if not process.alive() or process.state != READY or (
                _spare is not None and _spare.alive()):
            return False
        if _spare is not None:
            _spare.close()
        _spare = process
        _install_exit_hook()
        return True


def stop_spare_umap_process() -> None:
    """End the spare process, if any (server exit, tests)."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None:
        spare.close()


def _install_exit_hook() -> None:
    global _exit_hook_installed
    if not _exit_hook_installed:
        atexit.register(stop_spare_umap_process)
        _exit_hook_installed = True
