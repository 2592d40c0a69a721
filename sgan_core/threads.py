"""How this process's thread pools behave: OpenMP's spin count and numpy's BLAS threads.

Nothing here acts on import. Each entry point (the CLI, a study cell's worker, the page
server, the tests, the bench scripts that train) calls `configure_threads()` first,
before anything imports torch: libgomp reads its spin count once, when torch loads.
"""
from __future__ import annotations

import os

_blas_limited = False


def configure_threads() -> None:
    """Set the project's thread settings for this process; calling it again changes
    nothing. A spin count or wait policy the user set in the environment is kept."""
    _default_spin_count()
    _limit_numpy_blas()


def _default_spin_count() -> None:
    # How long torch's OpenMP threads spin before they sleep while waiting for each other
    # (libgomp reads this once, when torch is loaded, so it is set before that and only
    # where the user has not chosen). Measured per 2-thread step on 2 cores (bench/README.md):
    #   libgomp default (300k spins): 43 ms idle, but 2,145 ms when another process holds a core
    #   OMP_WAIT_POLICY=PASSIVE (no spin): 65 ms idle (no faster than 1 thread), 71 ms contended
    #   GOMP_SPINCOUNT=1000: 44 ms idle, 87 ms contended -- near-best in both cases.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")


def _limit_numpy_blas() -> None:
    # numpy's own BLAS (OpenBLAS; torch brings its own MKL) gets one thread. Its work here is
    # small, the feature map's PCA on the training thread (timeline) and in the page's
    # embedding service, and a second thread bought nothing but OpenBLAS's spin-waiting: one
    # PCA of 2,200 x 250 features took 83 ms of CPU (188 ms wall) with two threads on a busy
    # 2-core machine and 10 ms (30 ms) with one; that CPU came out of training and the page.
    global _blas_limited
    if _blas_limited:  # the page server calls this on every rerun of its script
        return
    import numpy  # noqa: F401  (loads OpenBLAS, so the limit below reaches it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    _blas_limited = True
