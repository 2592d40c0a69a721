"""A run opened from a run file: a read-only RunHandle that serves its stored snapshot
and timeline, so the page draws it with every panel, and gives verdicts with its stored
discriminator. It does not train: every training command says so.

Torch is imported only when the first verdict is asked for (an upload or a drawing), so
opening a run file stays quick. The shipped demo recording (`DEMO_FILE`) is read once per
server and shared by every tab that opens it (a record is frozen, so sharing is safe).
"""
from __future__ import annotations

import dataclasses
import functools
import secrets
import threading
from pathlib import Path
from typing import Any, Optional

import numpy as np

from sgan_core.storage.run_file import RunRecord, read_run_file
from sgan_core.snapshot import RunStatus, Snapshot
from sgan_core.runs.timeline import Moment

DEMO_FILE = Path(__file__).resolve().parents[2] / "assets" / "demo-run.sganrun"
READ_ONLY = ("This is a recorded run: it does not train. Press Start for a live run "
             "with the sidebar's settings.")


class RecordedRunError(RuntimeError):
    """A training command sent to a recorded run (the message says what to do)."""


class RecordedTimeline:
    """The file's moments, as Timeline offers them to the page."""

    def __init__(self, moments: tuple[Moment, ...]) -> None:
        self._moments = moments

    def moments(self) -> tuple[Moment, ...]:
        return self._moments

    def __len__(self) -> int:
        return len(self._moments)

    def nbytes(self) -> int:
        distinct = {id(a): a for moment in self._moments for a in moment.arrays()}
        return sum(array.nbytes for array in distinct.values())


class RecordedRun:
    """RunHandle over a RunRecord (see sgan_core/runs/handle.py)."""

    def __init__(self, record: RunRecord, source_name: str) -> None:
        self.record = record
        self.source_name = source_name  # the file's name, for the page to say
        self.run_id = secrets.token_urlsafe(16)  # its own id: one file, many tabs
        self.config = record.snapshot.config
        self._snapshot = _at_rest(record.snapshot)
        self._timeline = RecordedTimeline(record.moments)
        self._model: Any = None
        self._model_lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def timeline(self) -> RecordedTimeline:
        return self._timeline

    @property
    def is_alive(self) -> bool:
        return False

    @property
    def manifest(self) -> dict:
        return dict(self.record.manifest)

    def start(self) -> None:
        raise RecordedRunError(READ_ONLY)

    def pause(self) -> None:
        raise RecordedRunError(READ_ONLY)

    def resume(self) -> None:
        raise RecordedRunError(READ_ONLY)

    def step(self, n: int = 1, traced: bool = False) -> None:
        raise RecordedRunError(READ_ONLY)

    def step_trace(self) -> None:
        return None  # a recording keeps no slow-motion step

    def set_learning_rates(self, d_lr: Optional[float] = None,
                           g_lr: Optional[float] = None) -> None:
        raise RecordedRunError(READ_ONLY)

    def stop(self, timeout: float = 10.0) -> None:
        """Nothing runs: stopping (Reset, the registry letting it go) is a no-op."""

    def storage_problem(self) -> None:
        return None  # an opened file is not written to

    def run_folder(self) -> None:
        return None

    def discriminator_weights(self) -> Optional[dict[str, np.ndarray]]:
        return None if self.record.weights is None else dict(self.record.weights)

    def classify(self, images: np.ndarray) -> np.ndarray:
        """(B, N+1) probabilities from the stored live discriminator."""
        from sgan_core.training.evaluation import verdict_probabilities  # torch, on first use

        with self._model_lock:
            if self._model is None:
                self._model = self._build_model()
            return verdict_probabilities(self._model, images)

    def _build_model(self) -> Any:
        if not self.record.weights:
            raise RuntimeError("This recorded run was saved without its discriminator's "
                               "weights, so it cannot judge new images; its panels "
                               "still show everything it recorded.")
        import torch

        from sgan_core.data.datasets import DATASETS
        from sgan_core.training.models import Discriminator

        spec = DATASETS[self.config.dataset]
        model = Discriminator(self.config, spec.channels, spec.image_size, spec.num_classes)
        state = {name: torch.from_numpy(np.array(values))
                 for name, values in self.record.weights.items()}
        try:
            model.load_state_dict(state)
        except (RuntimeError, KeyError) as error:
            raise RuntimeError("This recorded run's discriminator weights do not fit its "
                               "settings, so it cannot judge new images.") from error
        return model.eval()


def _at_rest(snapshot: Snapshot) -> Snapshot:
    """The stored snapshot as a run that no longer moves: finished stays finished;
    anything else (it was saved while training or paused) shows as stopped. The data
    notice (e.g. "MNIST was not found in <folder>: point the data folder at ...") spoke
    of the recording machine, so it goes; `data_source` still says what it trained on."""
    status = RunStatus.FINISHED if snapshot.run_status == RunStatus.FINISHED else RunStatus.STOPPED
    return dataclasses.replace(snapshot, run_status=status, error=None, error_kind=None,
                               data_notice=None)


def open_run_file(source: Any, name: str) -> RecordedRun:
    """A RecordedRun from a path, bytes or uploaded file; RunFileError when refused."""
    return RecordedRun(read_run_file(source, name), name)


def open_demo(path: Path = DEMO_FILE) -> RecordedRun:
    """The shipped recording, read once per file version and shared."""
    stat = path.stat() if path.is_file() else None
    record = _demo_record(str(path), stat.st_mtime_ns if stat else 0,
                          stat.st_size if stat else 0)
    return RecordedRun(record, path.name)


@functools.lru_cache(maxsize=2)
def _demo_record(path: str, mtime_ns: int, size: int) -> RunRecord:
    return read_run_file(path, Path(path).name)
