"""The UMAP child process: umap-learn and numba run here, never in the server process.

umap's numba layout code holds the GIL, so a fit in a thread of the server stalled the
training thread (page open: 0.22x headless throughput). The child is stateless: it
answers each request (standardised features, an initial layout, a number of epochs)
with a reply (the layout or what went wrong, and the seconds it took), over a socket
pair (multiprocessing's Connection: length-prefixed pickles). The parent's first request
is a tiny warm-up fit, which imports umap and compiles numba (about 7 s of CPU in a
fresh process with a warm file cache, 2 s of it the import; 33.5 s if umap built a
pynndescent index, whose compile the exact neighbours below avoid), so the first real
frame is quick.

One thread; nice 5 while warming up, nice 10 after. It exits when the parent closes the
socket or dies. A plain subprocess, not multiprocessing's spawn: `streamlit run`
installs the app script as sys.modules['__main__'], which spawn would re-run in the
child, and the thread limits must be in the environment before numpy and numba load.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
import warnings
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Optional

import numpy as np

from sgan_core.features.projection import nearest_neighbours

# Added niceness. At nice 10, beside training and a browser on 2 cores, the child got ~7%
# of a core: even the warm-up's ~7 s of CPU would then take some 100 s before the first
# map. At nice 5 it still yields to training but gets its share; once warm, every
# update runs at nice 10, so training and the page win the CPU over UMAP.
WARM_UP_NICE, UPDATE_NICE = 5, 10
# Up to this many points the child finds neighbours exactly (a (512, n) block of distances
# at a time); above it, pynndescent.
EXACT_NEIGHBOURS_MAX = 20_000
UMAP_FIT = "sgan_core.features.umap_child:umap_fit"  # module:function the child fits with
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
_ONE_THREAD = {name: "1" for name in (
    "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
# reply: (layout (n, 2) float32 or None, what went wrong or "", seconds the fit took)
Reply = tuple[Optional[np.ndarray], str, float]


def umap_fit(data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
    """(n, 2) UMAP layout of `data`, starting from `init`."""
    import umap  # 2-15 s, once per child

    k = min(15, len(data) - 1)
    if len(data) <= EXACT_NEIGHBOURS_MAX:
        # Exact neighbours in numpy: umap then never builds a pynndescent index, whose
        # numba compile would be most of the child's first-minute CPU (the warm-up fit in
        # a fresh process: 7.0 s of CPU with exact neighbours, 33.5 s with the index); a
        # fit of 2,200 points costs the same either way.
        options = {"precomputed_knn": nearest_neighbours(data, k)}
    else:
        options = {}  # that many points: umap builds its own pynndescent index
    model = umap.UMAP(n_components=2, n_neighbors=k, min_dist=0.1, n_epochs=n_epochs,
                      init=np.asarray(init, dtype=np.float32), **options)
    with warnings.catch_warnings():
        # umap warns that a model fitted on precomputed neighbours cannot transform new
        # points; the map never asks it to.
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(model.fit_transform(data), dtype=np.float32)


def child_main(fit_name: str, parent_pid: int, socket_fd: int) -> None:
    """Answer requests with `fit_name` (module:function) until the parent closes the
    socket or `parent_pid` is gone (passed in: a parent that died before this line ran
    would otherwise go unnoticed, as os.getppid() would already name the adopting one)."""
    _exit_when_orphaned(parent_pid)
    _nice(WARM_UP_NICE)
    module, _, function = fit_name.partition(":")
    fit = getattr(importlib.import_module(module), function)
    connection, warm = Connection(socket_fd), False
    try:
        while True:
            data, init, n_epochs = connection.recv()
            started = time.perf_counter()
            try:
                layout, problem = np.asarray(fit(data, init, n_epochs), np.float32), ""
            except Exception as error:  # this fit failed; the child serves the next
                layout, problem = None, repr(error)
            connection.send((layout, problem, time.perf_counter() - started))
            if not warm:
                warm = True
                _nice(UPDATE_NICE - WARM_UP_NICE)
    except (EOFError, OSError):
        pass  # the parent closed the socket or went away
    sys.stderr.flush()
    os._exit(0)  # at once: a normal shutdown of umap's and numba's modules takes seconds


def _nice(increment: int) -> None:
    try:
        os.nice(increment)
    except OSError:  # not allowed here: run at the parent's priority
        pass


def _exit_when_orphaned(parent_pid: int) -> None:
    """The socket's EOF is only read between fits; this also ends the warm-up's compile
    (~7 s of CPU, tens of seconds of wall time on a busy machine) within a second
    of the parent's death."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


class UmapChild:
    """One UMAP child seen from the server. Not thread-safe: the embedding service's
    thread is its only user."""

    def __init__(self, fit_name: str = UMAP_FIT) -> None:
        self._connection, theirs = Pipe()
        path = os.pathsep.join(p for p in (_REPO_ROOT, os.environ.get("PYTHONPATH")) if p)
        command = ("from sgan_core.features.umap_child import child_main; "
                   f"child_main({fit_name!r}, {os.getpid()}, {theirs.fileno()})")
        self._process = subprocess.Popen(
            [sys.executable, "-c", command], pass_fds=[theirs.fileno()],
            env={**os.environ, **_ONE_THREAD, "PYTHONPATH": path})
        theirs.close()

    @property
    def pid(self) -> int:
        return self._process.pid

    def request(self, data: np.ndarray, init: np.ndarray, n_epochs: int) -> None:
        """Send one fit; OSError if the child is gone."""
        self._connection.send((np.asarray(data, np.float32), np.asarray(init, np.float32),
                               n_epochs))

    def reply(self) -> Reply:
        """The next reply (blocks); EOFError (or OSError) once the child is gone."""
        return self._connection.recv()

    def exit_code(self, timeout: float = 2.0) -> Optional[int]:
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """End the child at once (it holds nothing worth a clean exit); a thread
        waiting in reply() gets EOFError."""
        self._process.kill()
        self._process.wait()
        self._connection.close()
