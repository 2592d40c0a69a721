"""What the benchmarks' child programs share: the tree they measure, a trainer built
from a config, timed calls and validation accuracy.

Nothing here imports torch or sgan_core when it loads: a child may have to set the
environment first (bench/children/spin.py sets OpenMP's spin, which libgomp reads once,
when torch loads)."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable


def measure_tree(tree: str) -> None:
    """Make `tree`'s sgan_core the one imported (a reference commit's worktree, or this
    tree), ahead of anything already on the path."""
    sys.path.insert(0, tree)


def project_thread_settings() -> None:
    """The measured tree's own thread settings (OpenMP's spin, numpy's BLAS threads), as
    its CLI sets them: through sgan_core.threads where the tree has it; a reference
    commit may set them when sgan_core is imported instead."""
    importlib.import_module("sgan_core")
    if importlib.util.find_spec("sgan_core.threads") is not None:
        from sgan_core.threads import configure_threads
        configure_threads()


def start_child(description: str, payload_help: str, threads: int | None = None) -> dict:
    """Read a child's arguments, TREE PAYLOAD and (unless `threads` fixes it) THREADS;
    make TREE's sgan_core the one imported, with its thread settings, and load torch
    with that many intra-op threads. Returns the payload (JSON)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("tree", help="the tree whose sgan_core is measured")
    parser.add_argument("payload", help=payload_help)
    if threads is None:
        parser.add_argument("threads", type=int, help="torch's intra-op threads")
    options = parser.parse_args()
    measure_tree(options.tree)
    project_thread_settings()  # first, as the CLI does: the spin before torch loads
    import torch

    torch.set_num_threads(threads or options.threads)
    return json.loads(options.payload)


def _project() -> SimpleNamespace:
    """TrainConfig, load_split, Trainer and the evaluation module of the measured tree.
    A reference commit may keep every module in one flat sgan_core/ folder
    (sgan_core.data, sgan_core.trainer) where this tree has rooms, so both are read."""
    from sgan_core.config import TrainConfig
    if importlib.util.find_spec("sgan_core.training") is not None:
        from sgan_core.data.loading import load_split
        from sgan_core.training import evaluation
        from sgan_core.training.trainer import Trainer
    else:
        from sgan_core import evaluation
        from sgan_core.data import load_split
        from sgan_core.trainer import Trainer
    return SimpleNamespace(TrainConfig=TrainConfig, load_split=load_split, Trainer=Trainer,
                           evaluation=evaluation)


def build_trainer(config: dict) -> tuple[Any, Any]:
    """A Trainer for `config` (TrainConfig fields) and the data split it trains on."""
    project = _project()
    cfg = project.TrainConfig(**config)
    split = project.load_split(cfg)
    return project.Trainer(cfg, split), split


def validation_accuracy(model: Any, split: Any) -> float:
    """`model`'s accuracy on the split's validation slice (never the test set: these
    figures choose settings)."""
    evaluation = _project().evaluation
    logits = evaluation.predict(model, split.validation_images)[0]
    return evaluation.accuracy(logits, split.validation_targets)


def timings(call: Callable[[], Any], repeats: int, warmup: int = 0) -> list[float]:
    """Seconds each of `repeats` calls took, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def run_in_worker_thread(work: Callable[[], None], worker_thread: bool) -> None:
    """`work()`, in a thread of its own when `worker_thread` (the way the page's runs
    train: the trainer built on one thread, its steps taken on another)."""
    if not worker_thread:
        work()
        return
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
