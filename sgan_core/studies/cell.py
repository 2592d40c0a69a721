"""One cell of a label-budget study: one SGAN run and its baseline, in a worker process.

This is the function the backends ship to their workers (a spawned process or a Ray
task), so it takes and returns plain dicts, imports torch only once it has been called,
configures the process's threads (sgan_core/threads.py) and then torch's thread count
before any torch work.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Any

from sgan_core.threads import configure_threads

# Statuses a cell can end with; only a "crashed" cell is not written to the study folder
# (a rerun tries it again). A diverged cell is a result: the same seed diverges again.
CELL_OK = "ok"
CELL_DIVERGED = "diverged"
CELL_BAD_INPUT = "bad_input"
CELL_CRASHED = "crashed"


def run_cell(config: dict[str, Any]) -> dict[str, Any]:
    """Train the SGAN and its baseline for `config` (a TrainConfig as a dict) until its
    step or time budget; return the cell's row: figures on the full test set, or an error.

    Never raises: a worker's exception would lose the cell's key on the driver side.
    """
    configure_threads()  # the worker's first call, local or Ray: before torch loads
    import torch

    # First torch call of the cell: a worker that runs several cells keeps one setting.
    torch.set_num_threads(int(config["num_threads"]))
    started = time.monotonic()
    row: dict[str, Any] = {"labels_per_class": config["labels_per_class"],
                           "seed": config["seed"]}
    try:
        row.update(_train(config))
    except Exception as error:  # report it with the cell, never lose it
        row.update(status=CELL_CRASHED, error=f"{error!r}\n{traceback.format_exc(limit=4)}")
    row["wall_s"] = round(time.monotonic() - started, 2)
    return row


def _train(config: dict[str, Any]) -> dict[str, Any]:
    from sgan_core.runs.progress import run_followed
    from sgan_core.config import TrainConfig
    from sgan_core.runs.training_run import TrainingRun
    from sgan_core.snapshot import ErrorKind

    run = TrainingRun(TrainConfig.from_dict(config))
    final = run_followed(run, show_progress=False)
    figures = {"steps": final.step, "seconds": round(final.elapsed_s, 2)}
    if final.error is None:
        return {**figures, "status": CELL_OK, **run.final_figures()}
    status = {ErrorKind.DIVERGED: CELL_DIVERGED,
              ErrorKind.BAD_INPUT: CELL_BAD_INPUT}.get(final.error_kind, CELL_CRASHED)
    return {**figures, "status": status, "error": final.error}


def start_worker(parent_pid: int, announced: Any) -> None:
    """Worker initializer: say this worker's pid (its driver ends running cells by it:
    the executor has no public way to stop a running task), and end with the driver."""
    announced.put(os.getpid())
    exit_with_parent(parent_pid)


def exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker within a second of its driver's death (a
    killed driver would otherwise leave it training a cell nobody will write)."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()
