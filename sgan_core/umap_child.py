"""The UMAP child process: umap-learn and numba run here, never in the server process.

umap's numba layout code holds the GIL, so a fit in a thread of the server stalled the
training thread (page open: 0.22x headless throughput). The child is stateless: each
request carries the standardised features and the initial layout (the previous frame's,
see projection.umap_start), and the reply is the new layout. Messages are pickles, each
preceded by its length, over the child's stdin/stdout:

    parent -> child   (request_id, data (n, D) float32, init (n, 2) float32, n_epochs)
    child -> parent   (Reply.READY, seconds) or (Reply.FAILED, text) once, after warm-up;
                      then (Reply.LAYOUT, request_id, coords, seconds) or
                      (Reply.ERROR, request_id, text) per request

The child imports umap and compiles numba once at start (13-15 s + 30-45 s, one thread,
nice 5), so the first frame after start-up is quick; it then serves at nice 10. It exits when stdin closes or its
parent dies. A plain subprocess, not multiprocessing's spawn: `streamlit run` installs
the app script as sys.modules['__main__'], which spawn would re-run in the child, and the
thread limits must be in the environment before numpy and numba load.
"""
from __future__ import annotations

import enum
import importlib
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, Optional

import numpy as np

# Added niceness. While the child compiles (once, ~40 s of CPU) nice 10 starved it: with
# training and a browser on 2 cores it got ~7% of a core and the first map came after
# 131 s. At nice 5 it still yields to training but gets its share; once warm, every
# update runs at nice 10, so training and the page win the CPU over UMAP.
WARM_UP_NICE, UPDATE_NICE = 5, 10
UMAP_FIT = "sgan_core.umap_child:umap_fit"  # module:function the child fits with
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
_ONE_THREAD = {name: "1" for name in (
    "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
_HEADER = struct.Struct(">Q")  # length of the pickle that follows


class Reply(enum.IntEnum):
    READY = 1
    FAILED = 2  # the warm-up failed: this child never serves
    LAYOUT = 3
    ERROR = 4  # one request failed; the child serves the next


def send(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    """One message; EOFError when the other side has closed the pipe."""
    return pickle.loads(_read_exactly(stream, _HEADER.unpack(_read_exactly(stream, 8))[0]))


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)  # an unbuffered pipe may return less than asked
        if not chunk:
            raise EOFError("the pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def umap_fit(data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
    """(n, 2) UMAP layout of `data`, starting from `init`."""
    import umap  # 13-15 s, once per child

    model = umap.UMAP(
        n_components=2, n_neighbors=min(15, len(data) - 1), min_dist=0.1,
        n_epochs=n_epochs, init=np.asarray(init, dtype=np.float32),
        # Below 4,096 points umap otherwise takes an exact path that is 20x slower.
        force_approximation_algorithm=True,
    )
    return np.asarray(model.fit_transform(data), dtype=np.float32)


# --- the child ------------------------------------------------------------------------

def child_main(fit_name: str, parent_pid: int) -> None:
    """Warm up `fit_name` (module:function), then answer requests until stdin closes or
    `parent_pid` is gone (passed in: a parent that died before this line ran would
    otherwise go unnoticed, as os.getppid() would already name the adopting process)."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library printing to stdout must not corrupt the replies
    sys.stdout = sys.stderr
    _exit_when_orphaned(parent_pid)
    _nice(WARM_UP_NICE)
    try:
        _serve(_load(fit_name), sys.stdin.buffer, replies)
    except (EOFError, BrokenPipeError):
        pass  # the parent closed the pipes or went away
    sys.stderr.flush()
    os._exit(0)  # at once: a normal shutdown of umap's and numba's modules takes seconds


def _load(fit_name: str) -> Callable[..., np.ndarray]:
    module, _, function = fit_name.partition(":")
    return getattr(importlib.import_module(module), function)


def _serve(fit: Callable[..., np.ndarray], requests: BinaryIO, replies: BinaryIO) -> None:
    from sgan_core.projection import clustered_points, pca_2d

    started = time.perf_counter()
    try:  # one small fit imports umap and compiles every numba function an update needs
        data = clustered_points(200, 16)
        fit(data, pca_2d(data), 20)
    except Exception as error:
        send(replies, (Reply.FAILED, repr(error)))
        return
    send(replies, (Reply.READY, time.perf_counter() - started))
    _nice(UPDATE_NICE - WARM_UP_NICE)
    while True:
        request_id, data, init, n_epochs = receive(requests)
        started = time.perf_counter()
        try:
            coords = np.asarray(fit(data, init, n_epochs), dtype=np.float32)
        except Exception as error:
            send(replies, (Reply.ERROR, request_id, repr(error)))
            continue
        send(replies, (Reply.LAYOUT, request_id, coords, time.perf_counter() - started))


def _nice(increment: int) -> None:
    try:
        os.nice(increment)
    except OSError:  # not allowed here: run at the parent's priority
        pass


def _exit_when_orphaned(parent_pid: int) -> None:
    """Stdin EOF is only read between fits; this also ends a 40 s compile within 1 s."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


# --- the parent's handle --------------------------------------------------------------

class UmapChild:
    """One UMAP child seen from the server: send requests, receive replies. Not
    thread-safe: the embedding service's thread is its only user."""

    def __init__(self, fit_name: str = UMAP_FIT) -> None:
        path = os.pathsep.join(p for p in (_REPO_ROOT, os.environ.get("PYTHONPATH")) if p)
        command = ("from sgan_core.umap_child import child_main; "
                   f"child_main({fit_name!r}, {os.getpid()})")
        self._process = subprocess.Popen(
            [sys.executable, "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            bufsize=0, env={**os.environ, **_ONE_THREAD, "PYTHONPATH": path})
        self._last_id = 0

    @property
    def pid(self) -> int:
        return self._process.pid

    def fileno(self) -> int:
        """The reply pipe, for select(): readable when a reply (or EOF) is waiting."""
        return self._process.stdout.fileno()

    def request(self, data: np.ndarray, init: np.ndarray, n_epochs: int) -> int:
        """Send one fit; its request id. OSError if the child is gone."""
        self._last_id += 1
        send(self._process.stdin, (self._last_id, np.asarray(data, np.float32),
                                   np.asarray(init, np.float32), n_epochs))
        return self._last_id

    def receive(self) -> tuple:
        """The next reply (blocks until it is complete); EOFError once the child is gone."""
        return receive(self._process.stdout)

    def exit_code(self, timeout: float = 2.0) -> Optional[int]:
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self, timeout: float = 2.0) -> None:
        """End the child: stdin EOF, then SIGTERM, then SIGKILL."""
        for stream in (self._process.stdin, self._process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self._process.poll() is None:
            self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout)
