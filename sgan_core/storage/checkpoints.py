"""Save and load whole runs. The only module that calls torch.save / torch.load.

A checkpoint holds the config, the labeled indices (so a resumed run trains on exactly
the same labels), every model and optimiser state, the RNG, and the history. It is
loaded with `weights_only=True`: a checkpoint file can never execute code.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from sgan_core.config import ConfigError, TrainConfig
from sgan_core.storage.files import write_atomic

if TYPE_CHECKING:
    from sgan_core.runs.training_run import TrainingRun

FORMAT_VERSION = 2  # 2: per-run generators, both averages' counts


class CheckpointError(Exception):
    """The file is missing, corrupt or not an SGAN Studio checkpoint."""


def save_run(run: "TrainingRun", path: str | os.PathLike) -> None:
    """Write `run`'s checkpoint (its state, taken between steps) atomically."""
    from sgan_core.runs.training_run import RunNotBuilt

    try:
        state = run.checkpoint_state()
    except RunNotBuilt as error:
        raise CheckpointError(str(error)) from error
    save_state(path, state)


def open_run(path: str | os.PathLike) -> "TrainingRun":
    """A run that resumes from the checkpoint at `path` (not started)."""
    from sgan_core.runs.training_run import TrainingRun

    cfg, restore = load_run(path)
    return TrainingRun(cfg, restore=restore)


def save_state(path: str | os.PathLike, state: dict) -> None:
    """Write a run's `checkpoint_state()` atomically."""
    payload = {"format_version": FORMAT_VERSION, **state}
    # an interrupted save never leaves a half-written checkpoint
    write_atomic(path, lambda temporary: torch.save(payload, temporary))


def load_run(path: str | os.PathLike) -> tuple[TrainConfig, dict]:
    """(config, restore dict for TrainingRun) or CheckpointError saying what to do."""
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"No checkpoint at {source}: check the path.")
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and unpickler errors all mean "corrupt"
        raise CheckpointError(
            f"{source} is not a readable SGAN Studio checkpoint ({type(error).__name__}). "
            "It may be truncated or from another program: save the run again.") from error
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{source} is not an SGAN Studio checkpoint "
                              f"(format {FORMAT_VERSION} expected).")
    try:
        cfg = TrainConfig.from_dict(payload["config"])
    except (ConfigError, TypeError, KeyError, AttributeError) as error:
        raise CheckpointError(f"{source} holds an invalid config: {error}") from error
    try:
        restore = {
            "labeled_indices": np.asarray(payload["labeled_indices"].numpy(), dtype=np.int64),
            "trainer": dict(payload["trainer"]),
            "history": list(payload.get("history", [])),
            "elapsed_s": float(payload.get("elapsed_s", 0.0)),
        }
    except (KeyError, AttributeError, TypeError, ValueError) as error:
        raise CheckpointError(f"{source} is an incomplete SGAN Studio checkpoint "
                              f"({type(error).__name__}: {error}); save the run again."
                              ) from error
    return cfg, restore
