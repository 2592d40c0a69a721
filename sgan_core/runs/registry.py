"""Server-side registry of training runs, keyed by unguessable ids.

Runs must outlive a browser refresh, so the dashboard keeps them here (one registry per
server, from `st.cache_resource`) and puts the run id in the URL. The CPU is shared, so
only `max_active` runs may train at once; finished runs are kept for a while so a page
can still show them, then the oldest are forgotten. Every method is thread-safe: several
browser tabs call in from several script threads.

A run nobody watches must not hold a slot: pages call `touch(run_id)` while they show a
run (the dashboard's status line does, every second), and a run unseen for
`idle_pause_s` is paused and *parked*: it stops counting against the cap, keeps its
state, and `resume(run_id)` continues it from its link when a slot is free.
"""
from __future__ import annotations

import atexit
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from sgan_core.config import TrainConfig
from sgan_core.runs.handle import RunHandle

logger = logging.getLogger(__name__)


DEFAULT_IDLE_PAUSE_S = 180.0  # a closed tab's run keeps its slot at most this long
JANITOR_EVERY_S = 10.0
MAX_GONE = 10_000  # removed run ids remembered (about 0.3 MB), so links can say why


class RegistryFull(RuntimeError):
    """Too many runs are training; the message says what the visitor can do."""


@dataclass(frozen=True)
class RunInfo:
    """One row of the server owner's runs list."""

    run_id: str
    run: RunHandle
    parked: bool  # paused for want of a viewer; holds no slot
    unseen_s: float  # seconds since a page last showed it


def _is_active(run: RunHandle) -> bool:
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

    `run_factory(cfg)` builds a run (default: sgan_core.runs.training_run.TrainingRun, imported only
    when first needed so the registry can be tested without torch).
    """

    def __init__(
        self,
        max_active: int = 2,
        max_kept: int = 8,
        run_factory: Optional[Callable[[TrainConfig], RunHandle]] = None,
        idle_pause_s: float = DEFAULT_IDLE_PAUSE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_active < 1 or max_kept < 0 or idle_pause_s <= 0:
            raise ValueError("max_active must be >= 1, max_kept >= 0, idle_pause_s > 0")
        self.max_active = max_active
        self.max_kept = max_kept
        self.idle_pause_s = idle_pause_s
        self._clock = clock
        self._run_factory = run_factory
        self._runs: dict[str, RunHandle] = {}  # insertion order = age, for eviction
        self._seen: dict[str, float] = {}  # run id -> clock() when a page last showed it
        self._parked: set[str] = set()  # paused for want of a viewer: hold no slot
        # ids of runs this server removed (Reset, replaced, evicted), newest last and
        # at most MAX_GONE of them: a page can tell "reset" from "never existed here"
        self._gone: dict[str, None] = {}
        self._lock = threading.RLock()  # reentrant: create() calls add()
        self._atexit_installed = False
        self._closing = threading.Event()
        self._janitor: Optional[threading.Thread] = None

    def create(self, cfg: TrainConfig, start: bool = True) -> tuple[str, RunHandle]:
        """Build a run for `cfg`, register it, and (by default) start it.

        Starting inside the lock makes the cap exact: two tabs pressing "train" at the
        same moment cannot both slip under it. Raises RegistryFull when at the cap.
        """
        with self._lock:
            self._check_room()
            run = self._factory()(cfg)
            return self.add(run, start=start), run

    def add(self, run: RunHandle, start: bool = False) -> str:
        """Register an existing run (e.g. one restored from a checkpoint); its new id."""
        with self._lock:
            if start or _is_active(run):
                self._check_room()
            # One id per run: the run's own (TrainingRun draws secrets.token_urlsafe(16),
            # 128 bits, so ids in URLs cannot be guessed), which also names its thread
            # and log lines; a run object without one gets a fresh id of the same kind.
            run_id = getattr(run, "run_id", None) or secrets.token_urlsafe(16)
            if run_id in self._runs:
                raise ValueError("this run is registered already")
            if start:
                run.start()  # may raise (e.g. bad config): then nothing is registered
            self._runs[run_id] = run
            self._seen[run_id] = self._clock()
            evicted = self._evict_finished(keep=run_id)
        self._stop_quietly(evicted)
        return run_id

    def stop_all_at_exit(self) -> None:
        """Stop all runs when the interpreter exits (streamlit otherwise hangs on
        SIGTERM). Called by the dashboard, never at import, so tests stay side-effect
        free; a second call registers nothing more."""
        with self._lock:
            if self._atexit_installed:
                return
            self._atexit_installed = True
        atexit.register(self.stop_all)

    def get(self, run_id: Any) -> Optional[RunHandle]:
        """The run, or None for unknown, forgotten or malformed ids (never raises)."""
        if not isinstance(run_id, str):
            return None
        with self._lock:
            return self._runs.get(run_id)

    def remove(self, run_id: Any) -> bool:
        """Stop the run and forget it; False if there was no such run."""
        with self._lock:
            run = self._runs.pop(run_id, None) if isinstance(run_id, str) else None
            self._forget_marks(run_id)
            if run is not None:
                self._mark_gone(run_id)
        if run is None:
            return False
        run.stop()  # outside the lock: joining a thread can take seconds
        return True

    def active_count(self) -> int:
        """Runs holding a slot: active ones, except those parked for want of a viewer."""
        with self._lock:
            return sum(_is_active(run) for rid, run in self._runs.items()
                       if rid not in self._parked)

    # --- who is watching -------------------------------------------------------------

    def touch(self, run_id: Any) -> None:
        """A page shows this run right now (a heartbeat); unknown ids are ignored."""
        with self._lock:
            if isinstance(run_id, str) and run_id in self._runs:
                self._seen[run_id] = self._clock()

    def is_parked(self, run_id: Any) -> bool:
        with self._lock:
            return run_id in self._parked

    def park_idle(self) -> list[str]:
        """Pause every active run no page has shown for idle_pause_s; they stop holding
        a slot. Returns the ids parked now."""
        now = self._clock()
        with self._lock:
            idle = [(rid, run) for rid, run in self._runs.items()
                    if rid not in self._parked and _is_active(run)
                    and now - self._seen.get(rid, now) > self.idle_pause_s]
            self._parked.update(rid for rid, _ in idle)
        for run_id, run in idle:
            logger.info("run %s unseen for %.0f s: paused", run_id[:6], self.idle_pause_s)
            try:
                run.pause()
            except Exception:
                logger.warning("pausing an idle run failed", exc_info=True)
        return [rid for rid, _ in idle]

    def resume(self, run_id: str) -> None:
        """Resume a run; a parked one first needs a free slot (RegistryFull if none)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise KeyError(run_id)
            if run_id in self._parked:
                self._check_room()
                self._parked.discard(run_id)
            self._seen[run_id] = self._clock()
            run.resume()

    def overview(self) -> list[RunInfo]:
        """Every run, oldest first, for the server owner's list."""
        now = self._clock()
        with self._lock:
            return [RunInfo(rid, run, rid in self._parked, now - self._seen.get(rid, now))
                    for rid, run in self._runs.items()]

    def start_janitor(self, every_s: float = JANITOR_EVERY_S) -> None:
        """Park idle runs every `every_s` in a daemon thread (once; the dashboard calls
        it, tests call park_idle themselves)."""
        with self._lock:
            if self._janitor is not None:
                return
            self._janitor = threading.Thread(target=self._janitor_loop, args=(every_s,),
                                             daemon=True, name="sgan-registry-janitor")
        self._janitor.start()

    def _janitor_loop(self, every_s: float) -> None:
        while not self._closing.wait(every_s):
            try:
                self.park_idle()
            except Exception:  # keep the janitor alive whatever one run does
                logger.warning("parking idle runs failed", exc_info=True)

    def run_ids(self) -> list[str]:
        """Ids, oldest first."""
        with self._lock:
            return list(self._runs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)

    def stop_all(self) -> None:
        """Stop every run and forget them all (server shutdown, test teardown)."""
        self._closing.set()
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
            self._seen.clear()
            self._parked.clear()
        self._stop_quietly(runs)

    def _factory(self) -> Callable[[TrainConfig], RunHandle]:
        if self._run_factory is None:
            from sgan_core.runs.training_run import TrainingRun  # lazy: pulls in torch

            self._run_factory = TrainingRun
        return self._run_factory

    def _check_room(self) -> None:
        # Park first: the slot of a run whose tab closed minutes ago is free for this one.
        self.park_idle()
        if self.active_count() >= self.max_active:
            raise RegistryFull(_full_message(self.max_active))

    def _evict_finished(self, keep: str) -> list[RunHandle]:
        """Forget the oldest inactive runs beyond max_kept; returns them for stopping."""
        inactive = [rid for rid, run in self._runs.items() if rid != keep and not _is_active(run)]
        excess = len(inactive) - self.max_kept
        evicted = inactive[: max(0, excess)]
        for rid in evicted:
            self._forget_marks(rid)
            self._mark_gone(rid)
        return [self._runs.pop(rid) for rid in evicted]

    def was_removed(self, run_id: Any) -> bool:
        """True for the id of a run this server had and removed (Reset, a new run in
        its place, evicted when finished); False for ids it never had."""
        with self._lock:
            return isinstance(run_id, str) and run_id in self._gone

    def _forget_marks(self, run_id: Any) -> None:
        self._seen.pop(run_id, None)
        self._parked.discard(run_id)

    def _mark_gone(self, run_id: str) -> None:
        self._gone[run_id] = None
        while len(self._gone) > MAX_GONE:
            del self._gone[next(iter(self._gone))]

    @staticmethod
    def _stop_quietly(runs: list[RunHandle]) -> None:
        # Idempotent stop on finished runs; one failing must not leave the others running.
        for run in runs:
            try:
                run.stop()
            except Exception:
                logger.warning("stopping a run failed", exc_info=True)
