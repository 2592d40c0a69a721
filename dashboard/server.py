"""The server-wide things every page and tab share, made once per server process
(st.cache_resource): the run registry, the feature-map service and the label-budget
studies' processes. Tests replace `new_registry` / `new_embedding_service` here.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

import streamlit as st

if TYPE_CHECKING:  # no torch on the page's first paint
    from sgan_core.runs.handle import RunHandle
    from sgan_core.runs.registry import RunRegistry
    from sgan_core.config import TrainConfig

log = logging.getLogger(__name__)


def new_embedding_service() -> Any:
    """The server's feature-map service: PCA at once, UMAP once its child process has
    compiled (tests replace this to keep UMAP processes out of the test run)."""
    from sgan_core.features.embedding_service import EmbeddingService  # UMAP runs in a child

    return EmbeddingService()


def new_registry(run_factory: Optional[Callable[..., "RunHandle"]] = None,
                 background: bool = True) -> "RunRegistry":
    """The server's RunRegistry (of TrainingRuns that keep their folder under the runs
    folder, sgan_core/storage/run_folder.py, unless `run_factory` says otherwise:
    tests replace this function to hand the page fake runs). With `background`, its
    runs are stopped when the server exits (a live training thread would otherwise keep
    `streamlit run` from quitting) and a janitor pauses runs no tab shows."""
    from sgan_core.runs.registry import RunRegistry
    from sgan_core.storage.run_folder import recording_run  # each run keeps a folder on disk

    runs = RunRegistry(max_active=_env_number("SGAN_MAX_ACTIVE_RUNS", 2, int),
                       idle_pause_s=_env_number("SGAN_IDLE_PAUSE_S", 180.0, float),
                       run_factory=run_factory or recording_run)
    if background:
        runs.stop_all_at_exit()
        runs.start_janitor()  # pauses runs whose tabs were all closed (frees their slot)
    return runs


@st.cache_resource(show_spinner=False)
def registry() -> "RunRegistry":
    """The one registry of this server (cached across reruns, tabs and sessions)."""
    return new_registry()


def _env_number(name: str, default: Any, kind: Callable[[str], Any]) -> Any:
    """A positive number from the environment; a bad value is logged, not fatal."""
    try:
        value = kind(os.environ.get(name) or default)
    except ValueError:
        value = 0
    if value <= 0:
        log.warning("%s=%r is not a positive number; using %s", name, os.environ[name], default)
        return default
    return value


@st.cache_resource(show_spinner=False)
def embeddings() -> Any:
    """One EmbeddingService for the whole server: it keeps the newest features of each
    run and one UMAP child process that every run shares."""
    return new_embedding_service()


def prewarm_embedding() -> None:
    """Start the service now, so its UMAP child compiles (~10 s of CPU, niced) before the
    first Start, while the teacher is still talking. SGAN_PREWARM_UMAP=0 waits for the
    first map instead (tests, or a server that never shows the feature map)."""
    if os.environ.get("SGAN_PREWARM_UMAP", "1") != "0":
        embeddings()


# Importing torch holds the GIL for long stretches (loading its shared libraries): begun
# at once, the prewarm held back the first page's last messages (on 2 busy cores, median
# 4.1 s to a usable page instead of 2.6 s; begun 2 s later, 2.2 s against 2.3 s:
# bench/README.md). A person reads the page for longer than this before pressing Start.
PREWARM_AFTER_S = 2.0


def prewarm_training(default_config: Callable[[], "TrainConfig"]) -> None:
    """Load what Start needs while the first page is open (from PREWARM_AFTER_S after
    it is drawn), on a background thread once per server: torch and the training code,
    torchvision, and the dataset of `default_config()` (the sidebar's, passed in: the
    sidebar's module reads this one) read into memory (the bundled subset
    where the data folder has none; never downloaded from here). Otherwise the first
    Start imports torch on the page's own thread and the run reads the data before
    anything is shown (bench/bench_start.py). Only in a real server: AppTest runs pages
    in the tests' process with a stand-in runtime. SGAN_PREWARM_TRAINING=0 leaves it all
    to the first Start."""
    if os.environ.get("SGAN_PREWARM_TRAINING", "1") != "0" and serving():
        training_prewarm(default_config)


def serving() -> bool:
    """Whether this process is a `streamlit run` server (AppTest puts a mock in place of
    the runtime)."""
    from streamlit import runtime

    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime


@st.cache_resource(show_spinner=False)
def training_prewarm(_default_config: Callable[[], "TrainConfig"]) -> threading.Thread:
    """The prewarm's thread, started on the first call of this server (the leading
    underscore: Streamlit does not hash that argument, so every call is the first's)."""
    thread = threading.Thread(target=load_for_start, args=(_default_config,),
                              name="sgan-prewarm", daemon=True)
    thread.start()
    return thread


def load_for_start(default_config: Callable[[], "TrainConfig"]) -> None:
    """The prewarm's work, begun PREWARM_AFTER_S after the first page was drawn; a
    failure is logged, and the first Start meets it again and says what to do."""
    time.sleep(PREWARM_AFTER_S)
    began = time.monotonic()
    try:
        from sgan_core.runs.training_run import load_ahead  # torch, the models, the trainer

        load_ahead(default_config())
    except Exception as error:  # e.g. no data for the default dataset
        log.info("nothing read ahead of Start: %s", error)
        return
    log.info("loaded ahead of Start in %.1f s", time.monotonic() - began)


@st.cache_resource(show_spinner=False)
def study_processes() -> dict[str, Any]:
    """Study id -> its `python -m sgan_core study` Popen, for this server's life (the
    study folder outlives it). On exit the server sends each running one SIGTERM, which
    the CLI takes as a clean stop (finished cells stay; rerunning resumes)."""
    import atexit

    processes: dict[str, Any] = {}
    atexit.register(lambda: [p.terminate() for p in processes.values() if p.poll() is None])
    return processes


def shutdown_all() -> None:
    """Stop every run and worker (tests; their threads outlive a script run)."""
    embeddings().close()
    registry().stop_all()
    st.cache_resource.clear()
