"""`RunHandle`: what the dashboard and the registry may use of a run.

`sgan_core.runs.training_run.TrainingRun` is the real one, `sgan_core.storage.recorded_run.RecordedRun` a run
opened from a run file (read-only: its training commands raise); tests hand the page a fake with the same
surface (tests/fakes.py), injected through `dashboard.state.new_registry`, never by
swapping modules. Reading is through frozen snapshots; everything else is a command.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Protocol, runtime_checkable

import numpy as np

from sgan_core.config import TrainConfig
from sgan_core.snapshot import Snapshot


class RunKeeper(Protocol):
    """What keeps a run on disk as it trains (storage.run_folder.RunRecorder), as the
    run sees it: it is handed each published snapshot on the training thread and never
    raises; what went wrong is its `problem`, in words."""

    folder: Path
    problem: Optional[str]

    def record(self, run: Any, published: Snapshot) -> None: ...


@runtime_checkable
class RunHandle(Protocol):
    run_id: str  # the one id of the run: in ?run=, thread names and logs
    config: TrainConfig

    def snapshot(self) -> Snapshot: ...  # the latest frozen state (O(1), any thread)

    def timeline(self) -> Any: ...  # every evaluation, thinned (sgan_core.runs.timeline)

    def step_trace(self) -> Any: ...  # the latest slow-motion StepTrace, or None

    @property
    def is_alive(self) -> bool: ...

    def start(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    # traced: slow motion, the same steps watched (sgan_core/training/step_trace.py)
    def step(self, n: int = 1, traced: bool = False) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def set_learning_rates(self, d_lr: Optional[float] = None,
                           g_lr: Optional[float] = None) -> None: ...

    def classify(self, images: np.ndarray) -> np.ndarray: ...  # (B, N+1) probabilities

    # The live D's weights as numpy arrays, for a run file; None when there are none.
    def discriminator_weights(self) -> Optional[dict[str, np.ndarray]]: ...

    # What keeping the run on disk ran into (a full disk ...), in words; None if nothing.
    def storage_problem(self) -> Optional[str]: ...

    def run_folder(self) -> Optional[Path]: ...  # the folder keeping the run, if any
