"""Server-side registry of training runs, keyed by unguessable ids.

Runs must outlive a browser refresh, so the dashboard keeps them here (one registry per
server, from `st.cache_resource`) and puts the run id in the URL. The CPU is shared, so
only `max_active` runs may train at once; finished runs are kept for a while so a page
can still show them, then the oldest are forgotten. Every method is thread-safe: several
browser tabs call in from several script threads.
"""
from __future__ import annotations

import atexit
import logging
import secrets
import threading
from typing import Any, Callable, Optional

from sgan_core.config import TrainConfig

logger = logging.getLogger(__name__)


class RegistryFull(RuntimeError):
    """Too many runs are training; the message says what the visitor can do."""


def _is_active(run: Any) -> bool:
    """Training, loading or paused (a paused run can resume at any moment)."""
    if getattr(run, "is_alive", False):
        return True
    try:
        return bool(run.snapshot().is_active)
    except Exception:  # a broken run must not lock everybody out of the registry
        return False


def _full_message(max_active: int) -> str:
    runs = "1 run is" if max_active == 1 else f"{max_active} runs are"
    return (
        f"{runs} already training on this server (the CPU is shared). "
        "Stop one, or wait for one to finish."
    )


class RunRegistry:
    """Runs by id, at most `max_active` of them active and `max_kept` finished ones kept.

    `run_factory(cfg)` builds a run (default: sgan_core.run.TrainingRun, imported only
    when first needed so the registry can be tested without torch).
    """

    def __init__(
        self,
        max_active: int = 2,
        max_kept: int = 8,
        run_factory: Optional[Callable[[TrainConfig], Any]] = None,
    ) -> None:
        if max_active < 1 or max_kept < 0:
            raise ValueError("max_active must be >= 1 and max_kept >= 0")
        self.max_active = max_active
        self.max_kept = max_kept
        self._run_factory = run_factory
        self._runs: dict[str, Any] = {}  # insertion order = age, for eviction
        self._lock = threading.RLock()  # reentrant: create() calls add()
        self._atexit_installed = False

    def create(self, cfg: TrainConfig, start: bool = True) -> tuple[str, Any]:
        """Build a run for `cfg`, register it, and (by default) start it.

        Starting inside the lock makes the cap exact: two tabs pressing "train" at the
        same moment cannot both slip under it. Raises RegistryFull when at the cap.
        """
        with self._lock:
            self._check_room()
            run = self._factory()(cfg)
            return self.add(run, start=start), run

    def add(self, run: Any, start: bool = False) -> str:
        """Register an existing run (e.g. one restored from a checkpoint); its new id."""
        with self._lock:
            if start or _is_active(run):
                self._check_room()
            run_id = secrets.token_urlsafe(16)  # 128 bits: ids in URLs cannot be guessed
            if start:
                run.start()  # may raise (e.g. bad config): then nothing is registered
            self._runs[run_id] = run
            evicted = self._evict_finished(keep=run_id)
        self._stop_quietly(evicted)
        return run_id

    def get(self, run_id: Any) -> Optional[Any]:
        """The run, or None for unknown, forgotten or malformed ids (never raises)."""
        if not isinstance(run_id, str):
            return None
        with self._lock:
            return self._runs.get(run_id)

    def remove(self, run_id: Any) -> bool:
        """Stop the run and forget it; False if there was no such run."""
        with self._lock:
            run = self._runs.pop(run_id, None) if isinstance(run_id, str) else None
        if run is None:
            return False
        run.stop()  # outside the lock: joining a thread can take seconds
        return True

    def active_count(self) -> int:
        with self._lock:
            return sum(_is_active(run) for run in self._runs.values())

    def run_ids(self) -> list[str]:
        """Ids, oldest first."""
        with self._lock:
            return list(self._runs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)

    def stop_all(self) -> None:
        """Stop every run and forget them all (server shutdown, test teardown)."""
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
        self._stop_quietly(runs)

    def _factory(self) -> Callable[[TrainConfig], Any]:
        if self._run_factory is None:
            from sgan_core.run import TrainingRun  # lazy: pulls in torch

            self._run_factory = TrainingRun
        return self._run_factory

    def _check_room(self) -> None:
        if self.active_count() >= self.max_active:
            raise RegistryFull(_full_message(self.max_active))

    def _evict_finished(self, keep: str) -> list[Any]:
        """Forget the oldest inactive runs beyond max_kept; returns them for stopping."""
        inactive = [rid for rid, run in self._runs.items() if rid != keep and not _is_active(run)]
        excess = len(inactive) - self.max_kept
        return [self._runs.pop(rid) for rid in inactive[: max(0, excess)]]

    @staticmethod
    def _stop_quietly(runs: list[Any]) -> None:
        # Idempotent stop on finished runs; one failing must not leave the others running.
        for run in runs:
            try:
                run.stop()
            except Exception:
                logger.warning("stopping a run failed", exc_info=True)


def install_atexit(registry: RunRegistry) -> None:
    """Stop all runs when the interpreter exits (streamlit otherwise hangs on SIGTERM).

    Called explicitly by the dashboard, never at import, so tests stay side-effect free.
    """
    with registry._lock:
        if registry._atexit_installed:
            return
        registry._atexit_installed = True
    atexit.register(registry.stop_all)
