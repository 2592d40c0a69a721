"""Runs kept on disk (sgan_core/storage/run_folder.py's folders, the CLI's --out folders too),
listed and read back as Snapshots, so the Compare page draws a finished run with the
same code as a live one. Torch-free; no pickle (JSON, CSV, and .npz read with
allow_pickle=False); every file is size-capped before it is read, and a folder that
cannot be read is listed with what is wrong instead of breaking the list.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Optional

import numpy as np

from sgan_core.config import ConfigError, TrainConfig
from sgan_core.data.datasets import DATASETS, labels_per_class_words
from sgan_core.storage.run_folder import FIGURE_FIELDS, PAGE_FOLDER, runs_root
from sgan_core.snapshot import HISTORY_COLUMNS, RunStatus, Samples, Snapshot, frozen_array
from sgan_core.storage import files

MAX_BYTES = {"config.json": 100_000, "status.json": 100_000, "metrics.json": 500_000,
             "history.csv": 10_000_000, "figures.npz": 20_000_000}
MAX_LISTED = 200  # newest first; older folders are still on disk
SKIPPED = ("studies", "cells")  # folders of other things under the runs folder
STALE_AFTER_S = 60.0  # a training run writes every eval_every_s; silent longer: gone
INTERRUPTED = "interrupted"  # a run whose server stopped while it trained


class SavedRunError(ValueError):
    """A run folder that cannot be drawn; the message says which file and why."""


@dataclasses.dataclass(frozen=True)
class SavedRun:
    """One run folder as a list shows it (cheap: JSON files only)."""

    path: Path
    name: str  # the folder's path under the runs folder
    config: dict[str, Any]
    status: str
    step: int
    figures: dict[str, Any]  # accuracies and rejection rates (final ones when finished)
    modified: float  # the folder's last change (newest first in lists)

    def label(self) -> str:
        cfg = self.config
        accuracy = self.figures.get("test_accuracy")
        shown = f"{accuracy:.1%}" if isinstance(accuracy, (int, float)) else "no accuracy yet"
        return (f"{self.name}: {cfg.get('dataset', '?')}, "
                f"{labels_per_class_words(cfg.get('labels_per_class', '?'))}, "
                f"seed {cfg.get('seed', '?')}; {self.status} at step "
                f"{self.step:,}; SGAN {shown}")


def read_capped(path: Path) -> bytes:
    """The file's bytes, or SavedRunError when it is missing or over its cap."""
    try:
        return files.read_capped(path, MAX_BYTES.get(path.name, 1_000_000))
    except files.FileTooLarge as error:
        raise SavedRunError(f"{path} is {error.size:,} bytes, more than the {error.cap:,} a "
                            "run file may have: it was not read.") from error
    except OSError as error:
        raise SavedRunError(f"cannot read {path}: {error.strerror or error}") from error


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(read_capped(path))
    except ValueError as error:
        if isinstance(error, SavedRunError):
            raise
        raise SavedRunError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise SavedRunError(f"{path} does not hold a JSON object")
    return value


def summary(folder: Path, root: Optional[Path] = None) -> SavedRun:
    """The folder as a list shows it; SavedRunError when it is not a readable run."""
    metrics = _json(folder / "metrics.json")
    status = _json(folder / "status.json")
    config = _json(folder / "config.json") or metrics.get("config") or {}
    if not config:
        raise SavedRunError(f"{folder} holds no config.json or metrics.json with a config")
    latest = metrics or status
    figures = {name: latest.get(name) for name in FIGURE_FIELDS if name in latest}
    name = str(folder.relative_to(root)) if root else folder.name
    # The folder's own time: every write renames a file into it, which updates it.
    modified = folder.stat().st_mtime
    return SavedRun(folder, name, config, _status(latest, config, modified),
                    int(latest.get("steps", latest.get("step", 0)) or 0), figures, modified)


def _status(latest: dict[str, Any], config: dict[str, Any], modified: float) -> str:
    """The recorded status; "interrupted" for a run that says it trains but has written
    nothing for much longer than its evaluation interval (its server went away)."""
    status = str(latest.get("status", "unknown"))
    if status in ("running", "loading"):
        quiet_s = time.time() - modified
        if quiet_s > STALE_AFTER_S + 10 * float(config.get("eval_every_s") or 0):
            return INTERRUPTED
    return status


def _candidates(root: Path) -> list[Path]:
    """Run folders directly under the runs folder and under its page folder."""
    found = []
    for parent in (root, root / PAGE_FOLDER):
        if not parent.is_dir():
            continue
        for path in parent.iterdir():
            if path.is_dir() and path.name not in SKIPPED + (PAGE_FOLDER,) and (
                    (path / "config.json").is_file() or (path / "metrics.json").is_file()):
                found.append(path)
    return found


def list_runs(root: Optional[Path] = None) -> tuple[list[SavedRun], list[str]]:
    """(runs newest first, at most MAX_LISTED; problems with folders that look like runs
    but cannot be read). Never raises for what is on disk."""
    root = root or runs_root()
    runs, problems = [], []
    try:
        folders = sorted(_candidates(root), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError as error:
        return [], [f"cannot list {root}: {error.strerror or error}"]
    for folder in folders[:MAX_LISTED]:  # only the newest are read
        try:
            runs.append(summary(folder, root))
        except (SavedRunError, OSError) as error:
            problems.append(str(error))
    return runs, problems


# --- a run folder as a Snapshot -----------------------------------------------------------

def read_history(path: Path) -> dict[str, np.ndarray]:
    """history.csv -> read-only column arrays (empty cells are NaN)."""
    if not path.is_file():
        return {name: frozen_array([], dtype=np.float64) for name in HISTORY_COLUMNS}
    text = read_capped(path).decode("utf-8", errors="replace")
    rows = list(csv.DictReader(io.StringIO(text)))
    columns = {}
    for name in HISTORY_COLUMNS:
        try:
            values = [float(row.get(name) or "nan") for row in rows]
        except ValueError as error:
            raise SavedRunError(f"{path}: column {name} holds a non-number ({error})") from error
        columns[name] = frozen_array(values, dtype=np.float64)
    return columns


def read_figures(path: Path, num_classes: int) -> tuple[Optional[Samples], Optional[np.ndarray]]:
    """figures.npz -> (samples, confusion); shapes checked, no pickle."""
    if not path.is_file():
        return None, None
    try:
        with np.load(io.BytesIO(read_capped(path)), allow_pickle=False) as archive:
            arrays = {name: np.asarray(archive[name]) for name in archive.files}
    except (ValueError, OSError, KeyError) as error:
        if isinstance(error, SavedRunError):
            raise
        raise SavedRunError(f"{path} is not a readable figures file: {error}") from error
    confusion = arrays.get("confusion")
    if confusion is not None and confusion.shape != (num_classes + 1, num_classes + 1):
        raise SavedRunError(f"{path}: the confusion matrix is {confusion.shape}, not "
                            f"{num_classes + 1}x{num_classes + 1}")
    samples = None
    if "samples_images" in arrays:
        parts = {n: arrays.get(f"samples_{n}") for n in ("images", "verdicts", "confidences",
                                                           "p_fake")}
        if any(v is None for v in parts.values()) or parts["images"].ndim != 4 or \
                parts["images"].dtype != np.uint8 or \
                len({len(v) for v in parts.values()}) != 1:
            raise SavedRunError(f"{path}: the sample grid's arrays do not fit together")
        samples = Samples(**{n: frozen_array(v) for n, v in parts.items()})
    return samples, None if confusion is None else frozen_array(confusion)


def load_snapshot(folder: Path) -> Snapshot:
    """The run folder's last state as a Snapshot (what the Compare page draws)."""
    run = summary(folder)
    try:
        cfg = TrainConfig.from_dict(run.config)
    except (ConfigError, TypeError) as error:
        raise SavedRunError(f"{folder}/config.json is not a valid config: {error}") from error
    status = _json(folder / "status.json")
    class_names = tuple(status.get("class_names") or DATASETS[cfg.dataset].class_names)
    samples, confusion = read_figures(folder / "figures.npz", len(class_names))
    try:
        run_status = RunStatus(run.status)
    except ValueError:  # interrupted or unknown: not moving, not finished
        run_status = RunStatus.STOPPED
    figures = {k: v for k, v in run.figures.items()
               if isinstance(v, (int, float, str)) or v is None}
    return Snapshot(run_status=run_status, config=cfg, class_names=class_names,
                    step=run.step, elapsed_s=float(status.get("elapsed_s") or 0.0),
                    history=MappingProxyType(read_history(folder / "history.csv")),
                    samples=samples, confusion=confusion, evaluation_version=1, **figures)
