"""Where a study's cells run: spawned local worker processes, or Ray tasks.

Both run the same `study_cell.run_cell` on plain config dicts and yield the cells' rows
as they finish; neither trains in the caller's process (the page's server must keep its
cores for the page, and one process with two OpenMP teams ran 2-4x slower, see run.py).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import threading
import types
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from sgan_core.config import ConfigError
from sgan_core.studies.cell import CELL_CRASHED, run_cell, start_worker

BACKENDS = ("local", "ray")
RAY_DEFAULT_PORT = 6379
RAY_CONNECT_TIMEOUT_S = 3.0


class BackendError(ConfigError):
    """The backend cannot start as asked (bad name, Ray missing or unreachable)."""


def default_workers(threads_per_cell: int) -> int:
    """As many cells at once as the machine has cores for, at least one."""
    return max(1, (os.cpu_count() or 1) // max(1, threads_per_cell))


def crashed_row(config: dict[str, Any], error: BaseException) -> dict[str, Any]:
    """The row of a cell whose worker died or could not return its result."""
    return {"labels_per_class": config["labels_per_class"], "seed": config["seed"],
            "status": CELL_CRASHED, "error": f"the worker failed: {error!r}"}


def make_backend(name: str, workers: Optional[int], threads_per_cell: int,
                 ray_address: Optional[str] = None):
    """A backend by name; BackendError says what to do when it cannot work here."""
    if workers is None:
        workers = default_workers(threads_per_cell)
    if workers < 1:
        raise BackendError("--workers must be at least 1")
    if name == "local":
        if ray_address:
            raise BackendError("--ray-address needs --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(ray_address, workers, threads_per_cell)
    raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


class LocalBackend:
    """Cells in `workers` spawned processes: fresh interpreters, so no torch thread pool
    or OpenMP team is inherited from the driver (fork would copy a live one)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Optional[ProcessPoolExecutor] = None
        self._announced: Any = None  # the workers' pids, each put there as it starts

    def run(self, configs: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        if not configs:
            return
        context = multiprocessing.get_context("spawn")
        self._announced = context.SimpleQueue()
        self._pool = ProcessPoolExecutor(max_workers=min(self.workers, len(configs)),
                                         mp_context=context, initializer=start_worker,
                                         initargs=(os.getpid(), self._announced))
        futures: dict[Future, dict[str, Any]] = {}
        try:
            with _bare_main():  # spawn starts the workers inside submit()
                futures = {self._pool.submit(run_cell, config): config for config in configs}
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    config = futures.pop(future)
                    if future.cancelled():
                        continue
                    try:
                        yield future.result()
                    except Exception as error:  # the worker process died (killed, OOM)
                        yield crashed_row(config, error)
        finally:
            if futures:  # left early (cancelled, interrupted, bad input): end the rest
                self.cancel()
            elif self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def cancel(self) -> None:
        """Drop queued cells and end running ones (their cells stay unfinished)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)  # queued cells never start
        # The executor has no public way to stop a running task; its workers are ours
        # (spawned for this study) and said their pids as they started.
        while not self._announced.empty():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._announced.get(), signal.SIGTERM)
        # The executor reaps its ended workers itself; wait for that, at most 5 s.
        closing = threading.Thread(target=pool.shutdown, kwargs={"wait": True},
                                   name="study-pool-close", daemon=True)
        closing.start()
        closing.join(timeout=5)


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Spawn re-runs the parent's __main__ script in each child. Under `streamlit run`
    (or after an AppTest) that script is a page, which must not run in a worker: for
    the moment the workers start, __main__ is an empty module. `python -m sgan_core`
    itself is unaffected (its __main__ only runs under the name "__main__")."""
    real_main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real_main


def check_reachable(address: str) -> None:
    """Fail fast on an address nothing answers at (ray.init would retry for minutes)."""
    if address in ("auto", "local"):
        return
    host_port = address.split("://", 1)[-1].rstrip("/")
    host, _, port = host_port.rpartition(":")
    if not host:
        host, port = host_port, str(RAY_DEFAULT_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=RAY_CONNECT_TIMEOUT_S):
            return
    except ValueError:
        raise BackendError(f"--ray-address {address}: expected HOST:PORT, e.g. "
                           "10.0.0.5:6379 or ray://10.0.0.5:10001") from None
    except OSError as error:
        raise BackendError(f"cannot reach a Ray cluster at {address} ({error.strerror or error}): "
                           "start one with `ray start --head` there, or check the "
                           "address and port") from None


class RayBackend:
    """Each cell a Ray task asking num_cpus = its threads, on the cluster at `address`
    (or a local Ray runtime with `workers` x threads CPUs); rows gathered on the driver."""

    def __init__(self, address: Optional[str], workers: int, threads_per_cell: int) -> None:
        try:
            import ray  # noqa: F401 -- only to say early that it is missing
        except ImportError:
            raise BackendError("--backend ray needs Ray: pip install -r "
                               "requirements-ray.txt") from None
        if address:
            check_reachable(address)
        self.address = address
        self.workers = workers
        self.threads = threads_per_cell
        self._pending: dict[Any, dict[str, Any]] = {}

    def _connect(self) -> bool:
        """ray.init unless already connected; True when this backend started Ray."""
        import ray

        if ray.is_initialized():
            return False
        # Ship the library with the tasks, so cluster nodes need its dependencies only.
        runtime_env = {"py_modules": [str(Path(__file__).resolve().parents[1])]}  # sgan_core
        if self.address:
            ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(num_cpus=self.workers * self.threads, runtime_env=runtime_env,
                     include_dashboard=False, log_to_driver=False)
        return True

    def run(self, configs: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        if not configs:
            return
        import ray

        started_ray = self._connect()
        try:
            task = ray.remote(run_cell).options(num_cpus=self.threads)
            self._pending = {task.remote(config): config for config in configs}
            while self._pending:
                done, _ = ray.wait(list(self._pending), num_returns=1)
                config = self._pending.pop(done[0])
                try:
                    yield ray.get(done[0])
                except Exception as error:  # task failed, cancelled or its node died
                    yield crashed_row(config, error)
        finally:
            self.cancel()
            if started_ray:
                ray.shutdown()

    def cancel(self) -> None:
        import ray

        pending, self._pending = self._pending, {}
        for ref in pending:
            ray.cancel(ref, force=True)
