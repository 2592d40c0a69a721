"""A run kept on disk, in a folder of plain files, so the page can list it after a
server restart and the Compare page can draw it:

  config.json   the run's TrainConfig
  status.json   the latest evaluation: status, step, seconds, accuracies, class names
  history.csv   one row per evaluation (losses, accuracies)
  figures.npz   the latest sample grid with its verdicts, and the confusion matrix
                (numpy arrays, read back with allow_pickle=False)
  metrics.json  final figures on the full test set (a finished or stopped run)
  checkpoint.pt the whole run (sgan_core/storage/checkpoints.py: weights_only, no pickle of code)

The CLI writes it at the end of a run (`--out`); the page's runs write it as they go
through a `RunRecorder`, called on the training thread after each evaluation, between
steps. Writing never breaks a run: a full disk or an unwritable folder becomes the
recorder's `problem`, a message saying what to do. Files are written then renamed, so a
reader (or a killed server) never sees half a file. Reading lives in saved_runs.py.
"""
from __future__ import annotations

import datetime
import errno
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any, Optional

import numpy as np

from sgan_core.storage.files import write_atomic, write_text_atomic
from sgan_core.snapshot import HISTORY_COLUMNS, RunStatus, Snapshot

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
RUNS_ENV = "SGAN_RUNS_DIR"  # the runs folder (default runs/ in the repository)
MAX_MB_ENV = "SGAN_RUNS_MAX_MB"  # page runs stop saving checkpoints above this total
DEFAULT_MAX_MB = 2000
PAGE_FOLDER = "page"  # the page's runs go to <runs folder>/page/<name>
FIGURE_FIELDS = ("test_accuracy", "baseline_test_accuracy", "validation_accuracy",
                 "baseline_validation_accuracy", "fake_rejection_rate",
                 "false_rejection_rate", "accuracy_model")


def runs_root() -> Path:
    return Path(os.environ.get(RUNS_ENV) or ROOT / "runs")


def new_page_folder(cfg: Any, root: Optional[Path] = None) -> Path:
    """A fresh folder name for a page run: date, dataset, labels and a random tag (never
    the run's id, which controls the run: a folder list must not hand it out)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{cfg.dataset}-{cfg.labels_per_class}l-{secrets.token_hex(3)}"
    return (root or runs_root()) / PAGE_FOLDER / name


# --- writing ----------------------------------------------------------------------------

def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as stream:  # a path would get ".npz" appended by numpy
        np.savez_compressed(stream, **arrays)


def write_json(path: Path, value: dict[str, Any]) -> None:
    text = json.dumps(value, indent=2, default=_plain) + "\n"
    write_text_atomic(path, text)


def _plain(value: Any) -> Any:
    """numpy scalars and enums in a JSON file: their plain value."""
    if hasattr(value, "item"):
        return value.item()
    return getattr(value, "value", str(value))


def history_lines(history: Any, start: int = 0) -> list[str]:
    """history.csv's rows from row `start` on (the CLI's format), one string each."""
    columns = [np.asarray(history.get(name, ()), dtype=np.float64)[start:]
               for name in HISTORY_COLUMNS]
    return [",".join(_cell(column[i]) for column in columns) + "\n"
            for i in range(len(columns[0]))]


def write_history(path: Path, lines: list[str]) -> None:
    text = ",".join(HISTORY_COLUMNS) + "\n" + "".join(lines)
    write_text_atomic(path, text)


def _cell(value: float) -> str:
    if not np.isfinite(value):
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def write_figures(path: Path, snapshot: Snapshot) -> None:
    """The sample grid with verdicts and the confusion matrix, as plain arrays."""
    arrays: dict[str, np.ndarray] = {}
    if snapshot.samples is not None:
        for name in ("images", "verdicts", "confidences", "p_fake"):
            arrays[f"samples_{name}"] = np.asarray(getattr(snapshot.samples, name))
    if snapshot.confusion is not None:
        arrays["confusion"] = np.asarray(snapshot.confusion)
    if arrays:
        write_atomic(path, lambda temporary: _savez(temporary, arrays))


def status_record(snapshot: Snapshot) -> dict[str, Any]:
    return {"status": _plain(snapshot.run_status), "step": snapshot.step,
            "elapsed_s": round(snapshot.elapsed_s, 2),
            "class_names": list(snapshot.class_names),
            "updated": datetime.datetime.now().isoformat(timespec="seconds"),
            **{name: getattr(snapshot, name) for name in FIGURE_FIELDS}}


def write_snapshot_files(folder: Path, snapshot: Snapshot,
                         lines: Optional[list[str]] = None) -> None:
    """config.json, status.json, history.csv and figures.npz for this snapshot (`lines`:
    the history rows already formatted, when the caller keeps them)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "config.json").is_file():  # a run's config never changes
        write_json(folder / "config.json", snapshot.config.to_dict())
    write_json(folder / "status.json", status_record(snapshot))
    write_history(folder / "history.csv",
                  history_lines(snapshot.history) if lines is None else lines)
    write_figures(folder / "figures.npz", snapshot)


def disk_message(error: OSError, folder: Path) -> str:
    """What to do about a failed write, in words."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"The disk holding {folder} is full: free some space or set {RUNS_ENV} "
                "to a folder on another disk. This run is not being saved.")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"Cannot write to {folder}: make it writable or set {RUNS_ENV} to a "
                "writable folder. This run is not being saved.")
    return f"Could not save this run to {folder}: {error.strerror or error}."


def folder_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                continue
    return total


class RunRecorder:
    """Keeps one page run's folder up to date; called as `recorder.record(run, snapshot)`
    on the training thread after each evaluation. Never raises."""

    def __init__(self, folder: Path, max_bytes: Optional[int] = None) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes if max_bytes is not None else _max_bytes()
        self.problem: Optional[str] = None  # the last failure, in words; None when fine
        # history.csv's rows so far: the history only grows, so each evaluation formats
        # its new rows alone (formatting all of them took 18 ms at 300 rows).
        self._lines: list[str] = []

    def record(self, run: Any, snapshot: Snapshot) -> None:
        try:
            self._lines += history_lines(snapshot.history, len(self._lines))
            write_snapshot_files(self.folder, snapshot, self._lines)
            status = _plain(snapshot.run_status)
            if status in (RunStatus.FINISHED, RunStatus.STOPPED):
                write_json(self.folder / "metrics.json", final_metrics(run, snapshot))
            if status in (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.PAUSED):
                self._checkpoint(run)
            else:
                self.problem = None
        except OSError as error:
            self.problem = disk_message(error, self.folder)
            log.warning("saving run folder %s failed: %s", self.folder, error)
        except Exception as error:  # saving must never stop training
            self.problem = f"Could not save this run to {self.folder}: {error!r}."
            log.exception("saving run folder %s failed", self.folder)

    def _checkpoint(self, run: Any) -> None:
        used = folder_bytes(self.folder.parent)
        if used > self.max_bytes:
            self.problem = (f"The page's runs under {self.folder.parent} take "
                            f"{used / 1e6:.0f} MB, more than {MAX_MB_ENV}="
                            f"{self.max_bytes // 1_000_000}: this run's checkpoint was "
                            "not saved. Delete old runs there or raise the limit.")
            return
        from sgan_core.storage.checkpoints import save_run  # torch: a run exists already

        save_run(run, self.folder / "checkpoint.pt")
        self.problem = None


def _max_bytes() -> int:
    try:
        megabytes = float(os.environ.get(MAX_MB_ENV) or DEFAULT_MAX_MB)
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int(max(megabytes, 1.0) * 1_000_000)


def final_metrics(run: Any, final: Snapshot) -> dict[str, Any]:
    """metrics.json: the final figures on the full test set, throughput, the config
    (the CLI's and the page's runs alike)."""
    cfg = run.config
    elapsed = max(final.elapsed_s, 1e-9)
    return {
        "dataset": cfg.dataset,
        "labels_per_class": cfg.labels_per_class,
        "seed": cfg.seed,
        "steps": final.step,
        "seconds": round(final.elapsed_s, 2),
        "steps_per_second": round(final.step / elapsed, 2),
        "images_per_second": round(final.step * cfg.batch_size / elapsed, 1),  # unlabeled
        "labeled_images_per_second": round(final.step * cfg.labeled_batch_size / elapsed, 1),
        **run.final_figures(),
        "status": _plain(final.run_status),
        "data_source": final.data_source,
        "config": cfg.to_dict(),
    }


def write_finished(folder: Path, run: Any, final: Snapshot, metrics: dict[str, Any]) -> None:
    """A finished run's whole folder at once (the CLI's --out)."""
    write_snapshot_files(folder, final)
    write_json(folder / "metrics.json", metrics)
    from sgan_core.storage.checkpoints import save_run  # torch: a run exists already

    save_run(run, folder / "checkpoint.pt")


def recording_run(cfg: Any) -> Any:
    """A TrainingRun that keeps itself in a fresh folder under the runs folder (the
    page's run factory)."""
    from sgan_core.runs.training_run import TrainingRun  # torch: only when a run is made

    return TrainingRun(cfg, recorder=RunRecorder(new_page_folder(cfg)))
