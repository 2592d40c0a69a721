"""Where the page keeps things: the only module touching st.session_state,
st.query_params and st.cache_resource.

Runs live in a process-wide RunRegistry (st.cache_resource: survives reruns, refreshes
and other tabs); the page finds its run through `?run=<id>` in the URL, so a refresh or
a second tab with the same URL re-attaches. Per-tab odds and ends (figure caches, the
button pressed, the learning rates last applied) live in st.session_state.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Optional

import streamlit as st

log = logging.getLogger(__name__)
QUERY_KEY = "run"
STEP_WAIT_S = 30.0  # keep refreshing this long after Step while its snapshot is due


class EmbeddingPool:
    """One EmbeddingWorker per run, shared by every tab showing that run.

    Tabs submit the features they see; the pool forwards only features from a step it
    has not submitted yet, so three open tabs do not triple the UMAP work.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: dict[str, Any] = {}
        self._submitted_step: dict[str, int] = {}
        self._retired: set[str] = set()  # stopped workers, kept for their last frame

    def submit(self, run_id: str, features: Any) -> None:
        with self._lock:
            if self._submitted_step.get(run_id) == features.step:
                return
            worker = self._workers.get(run_id)
            if worker is None:
                self._retire_idle_workers()  # first: their UMAP process becomes ours
                worker = self._workers[run_id] = new_embedding_worker()
            self._submitted_step[run_id] = features.step
        worker.submit(features)

    def _retire_idle_workers(self) -> None:
        """Stop the workers of runs that no longer train. Each holds a UMAP process
        (a few hundred MB); a stopped one parks its warm process for the next worker,
        which then skips the compile, and still answers latest() with its last frame."""
        for run_id, worker in self._workers.items():
            run = registry().get(run_id)
            if run_id not in self._retired and (run is None or not run.snapshot().is_active):
                self._retired.add(run_id)
                _stop_quietly(worker)

    def worker(self, run_id: str) -> Optional[Any]:
        with self._lock:
            return self._workers.get(run_id)

    def discard(self, run_id: str) -> None:
        with self._lock:
            worker = self._workers.pop(run_id, None)
            self._submitted_step.pop(run_id, None)
            self._retired.discard(run_id)
        _stop_quietly(worker)

    def shutdown(self) -> None:
        with self._lock:
            run_ids = list(self._workers)
        for run_id in run_ids:
            self.discard(run_id)


def new_embedding_worker() -> Any:
    """A started worker: PCA frames at once, UMAP frames once its process has compiled
    (tests replace this to keep UMAP processes out of the test run)."""
    from sgan_core.embedding import EmbeddingWorker  # UMAP runs in a child process

    worker = EmbeddingWorker()
    worker.warm_up()
    return worker


def _stop_quietly(worker: Any) -> None:
    """Stop without waiting long: Reset must not hang on a busy worker (its thread is
    a daemon and ends soon after; its UMAP process is parked or closed)."""
    if worker is None:
        return
    try:
        worker.stop(timeout=0.5)
    except Exception:  # shutting down: nothing useful to tell anyone
        pass


@st.cache_resource(show_spinner=False)
def registry() -> Any:
    """The server's RunRegistry; its runs are stopped when the server exits (a live
    training thread would otherwise keep `streamlit run` from quitting)."""
    from sgan_core.registry import RunRegistry, install_atexit

    runs = RunRegistry(max_active=int(os.environ.get("SGAN_MAX_ACTIVE_RUNS", "2")))
    install_atexit(runs)
    return runs


@st.cache_resource(show_spinner=False)
def embeddings() -> EmbeddingPool:
    return EmbeddingPool()


def prewarm_embedding() -> None:
    """Have UMAP compiled (30-60 s, in its own low-priority process) before the first
    Start, while the teacher is still talking; once per server. SGAN_PREWARM_UMAP=0
    turns it off (tests, or a server that never shows the feature map)."""
    if os.environ.get("SGAN_PREWARM_UMAP", "1") != "0":
        _prewarmed()


@st.cache_resource(show_spinner=False)
def _prewarmed() -> bool:
    try:
        from sgan_core.embedding_worker import prewarm_umap_process

        prewarm_umap_process()
    except Exception:  # the run's own worker will try again and say why it failed
        log.warning("could not start the UMAP warm-up process", exc_info=True)
    return True


# --- the run this page shows ----------------------------------------------------------

def current_run() -> tuple[Optional[str], Optional[Any], Optional[str]]:
    """(run_id, run, notice) for the id in the URL; notice says why a run was not found.

    With no id in the URL the registry is not touched at all (keeps first paint fast).
    """
    run_id = st.query_params.get(QUERY_KEY)
    if not run_id:
        return None, None, None
    run = registry().get(run_id)
    if run is None:
        del st.query_params[QUERY_KEY]
        return None, None, ("The run in this link no longer exists (the server restarted "
                            "or someone pressed Reset). Press Start for a new one.")
    return run_id, run, None


def start_run(cfg: Any, previous_id: Optional[str]) -> tuple[str, Any]:
    """Create and start a run, replacing this page's finished one; put its id in the URL.

    Raises RegistryFull (too many runs train at once) with a message for the user.
    """
    run_id, run = registry().create(cfg)  # starts the run's thread
    if previous_id:  # only now: a refused start leaves the old run on the page
        forget_run(previous_id)
    st.query_params[QUERY_KEY] = run_id
    _session()["attached"] = run_id  # our own settings made it: no need to load them
    _session()["applied_lrs"] = (cfg.d_lr, cfg.g_lr)
    return run_id, run


def forget_run(run_id: str) -> None:
    """Stop a run and drop it from the registry, the embedding pool and the URL."""
    registry().remove(run_id)  # stops the run
    embeddings().discard(run_id)
    if st.query_params.get(QUERY_KEY) == run_id:
        del st.query_params[QUERY_KEY]
    for key in ("figures", "frozen", "step_pending"):
        _session().pop(key, None)


def shutdown_all() -> None:
    """Stop every run and worker (tests; their threads outlive a script run)."""
    pool = embeddings()
    pool.shutdown()
    registry().stop_all()
    st.cache_resource.clear()


# --- per-tab session values -----------------------------------------------------------

def _session() -> Any:
    return st.session_state


def needs_widget_sync(run_id: str) -> bool:
    """True the first time this tab shows run_id: its settings must fill the sidebar."""
    if _session().get("attached") == run_id:
        return False
    _session()["attached"] = run_id
    return True


def set_widget_values(values: dict[str, Any], overwrite: bool) -> None:
    """Give widgets their values before they are drawn (defaults, or a run's settings)."""
    for key, value in values.items():
        if overwrite or key not in _session():
            _session()[key] = value


def widget_value(key: str, default: Any = None) -> Any:
    return _session().get(key, default)


def queue_action(name: str) -> None:
    """Button on_click: remember the press; main() acts on it after reading settings."""
    _session()["action"] = name


def pop_action() -> Optional[str]:
    return _session().pop("action", None)


def lrs_changed(d_lr: float, g_lr: float) -> bool:
    """True (and remembered) when the sidebar's learning rates differ from those last
    sent to the run, so each change is sent once rather than on every rerun."""
    if _session().get("applied_lrs") == (d_lr, g_lr):
        return False
    _session()["applied_lrs"] = (d_lr, g_lr)
    return True


def mark_step_pending(version: int) -> None:
    _session()["step_pending"] = (version, time.monotonic())


def step_pending(version: int) -> bool:
    """A Step was pressed and its snapshot (a newer version) has not arrived yet."""
    pending = _session().get("step_pending")
    if pending is None:
        return False
    if version > pending[0] or time.monotonic() - pending[1] > STEP_WAIT_S:
        _session().pop("step_pending", None)
        return False
    return True


def cached(name: str, token: Any, build: Callable[[], Any]) -> Any:
    """build() once per token (e.g. snapshot version): refreshes that bring nothing new
    reuse the figure instead of rebuilding it."""
    figures = _session().setdefault("figures", {})
    hit = figures.get(name)
    if hit is not None and hit[0] == token:
        return hit[1]
    value = build()
    figures[name] = (token, value)
    return value


def frozen(name: str, value: Any, freeze: bool) -> Any:
    """While freeze is on, keep returning the value seen when it was switched on."""
    store = _session().setdefault("frozen", {})
    if freeze and name in store:
        return store[name]
    store[name] = value
    return value
