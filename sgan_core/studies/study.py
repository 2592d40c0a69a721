"""A label-budget study: a grid of cells (labels per class x seed), each one SGAN run and
its baseline under the same step or time budget, run in worker processes.

Every finished cell is written at once to `<out>/cells/` (write-then-rename), so a killed
study loses only its unfinished cells and a rerun with the same settings skips the
finished ones. `<out>/study.json` records the command, date, machine and versions;
`results.csv`, `summary.csv` and `results.json` are rebuilt from the cell files after each
cell. The driver (CLI or page) never trains: the workers do.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from sgan_core.data import datasets
from sgan_core.config import ConfigError, TrainConfig
from sgan_core.data.datasets import DATASETS
from sgan_core.data.errors import DataError
from sgan_core.data.splitting import split_indices
from sgan_core.studies.cell import CELL_BAD_INPUT, CELL_CRASHED
from sgan_core.storage.files import write_text_atomic
from sgan_core.studies.results import cell_path, load_cells, write_results

STUDY_FILE = "study.json"
# Settings a rerun may change without invalidating finished cells: where the data lives
# and how often a cell evaluates along the way (cells report final figures only).
FREE_FIELDS = ("data_dir", "eval_every_s")
# What the cells sweep: everything else in the base config is shared by all cells.
SWEPT_FIELDS = ("labels_per_class", "seed")


class StudyInputError(ConfigError):
    """The study cannot run as asked; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class StudySpec:
    """What a study runs: one base config, swept over label counts and seeds."""

    base: TrainConfig  # shared by every cell (its labels_per_class and seed are unused)
    labels_per_class: tuple[int, ...]
    seeds: tuple[int, ...]

    def cells(self) -> list[tuple[int, int]]:
        """(labels_per_class, seed) pairs: small label counts first, so a short study
        shows the left of the curve."""
        return [(count, seed) for count in self.labels_per_class for seed in self.seeds]

    def cell_config(self, labels_per_class: int, seed: int) -> dict[str, Any]:
        return self.base.replace(labels_per_class=labels_per_class, seed=seed).to_dict()

    def shared_settings(self) -> dict[str, Any]:
        """The base config minus what cells sweep and what a rerun may change."""
        return {k: v for k, v in self.base.to_dict().items()
                if k not in SWEPT_FIELDS + FREE_FIELDS}


def make_spec(base: TrainConfig, labels_per_class: Sequence[int],
              seeds: Sequence[int]) -> StudySpec:
    """Validated spec: a budget, positive label counts the data can meet, some seeds."""
    if base.max_steps == 0 and base.time_budget_s == 0:
        raise StudyInputError("no budget per cell: give --max-steps N or --time-budget-s S")
    if not labels_per_class or not seeds:
        raise StudyInputError("give at least one --labels-per-class value and one --seeds value")
    counts = tuple(sorted(set(int(c) for c in labels_per_class)))
    if counts[0] < 1:
        raise StudyInputError(f"--labels-per-class {counts[0]}: each label count must be at "
                              "least 1 (the SGAN needs some labels)")
    if min(seeds) < 0:
        raise StudyInputError("--seeds must be 0 or more")
    check_label_counts(base, counts)
    return StudySpec(base=base, labels_per_class=counts, seeds=tuple(dict.fromkeys(seeds)))


def check_label_counts(base: TrainConfig, counts: Sequence[int]) -> None:
    """The run's own split check on the class counts (read from the labels file, not the
    images), so a count the data cannot meet fails before any worker starts."""
    spec = DATASETS[base.dataset]  # TrainConfig has checked the name
    class_counts = np.asarray(datasets.class_counts(base.dataset, base.data_dir))
    targets = np.repeat(np.arange(spec.num_classes), class_counts)
    for count in counts:
        try:
            split_indices(targets, spec.num_classes, count, base.validation_size, seed=0,
                          class_names=spec.class_names)
        except DataError as error:
            raise StudyInputError(f"--labels-per-class {count}: {error}") from error


# ----------------------------------------------------------------------------- study.json

def describe(spec: StudySpec, command: Sequence[str]) -> dict[str, Any]:
    """The study's record: exact command, settings, date, machine, library versions."""
    return {
        "command": list(command),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "labels_per_class": list(spec.labels_per_class),
        "seeds": list(spec.seeds),
        "base_config": spec.base.to_dict(),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "versions": _versions(),
    }


def _versions() -> dict[str, Optional[str]]:
    from importlib import metadata

    found: dict[str, Optional[str]] = {}
    for name in ("torch", "numpy", "ray"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["sgan_studio_commit"] = _git_commit()
    return found


def _git_commit() -> Optional[str]:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def prepare_folder(spec: StudySpec, out: Path, command: Sequence[str]) -> dict[str, Any]:
    """Create `out` (or reopen it for a resume) and write study.json; refuse a folder
    whose finished cells were made with other shared settings."""
    out = Path(out)
    previous = _read_study(out)
    if previous is not None:
        _check_same_settings(spec, previous, out)
    record = describe(spec, command)
    if previous is not None:  # a resumed study keeps its first date and command
        record["first_run"] = previous.get("first_run") or {
            "date": previous.get("date"), "command": previous.get("command")}
    try:
        write_text_atomic(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")
    except OSError as error:
        raise StudyInputError(f"cannot write to --out {out}: {error.strerror}; choose a "
                              "writable folder") from error
    return record


def _read_study(out: Path) -> Optional[dict[str, Any]]:
    path = out / STUDY_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise StudyInputError(f"{path} is not valid JSON: delete it or choose another "
                              "--out") from error


def _check_same_settings(spec: StudySpec, previous: dict[str, Any], out: Path) -> None:
    if not load_cells(out):
        return  # nothing finished yet: nothing to keep consistent with
    old = {k: v for k, v in previous.get("base_config", {}).items()
           if k not in SWEPT_FIELDS + FREE_FIELDS}
    new = spec.shared_settings()
    changed = sorted(k for k in new if old.get(k) != new[k])
    if changed:
        what = ", ".join(f"--{k.replace('_', '-')} {old.get(k)} -> {new[k]}" for k in changed)
        raise StudyInputError(f"--out {out} holds cells of a study with other settings "
                              f"({what}): use the same settings to resume it, or another --out")


# ----------------------------------------------------------------------------- running

@dataclasses.dataclass
class StudyOutcome:
    ran: list[dict[str, Any]]  # rows of cells run now (crashed ones included)
    skipped: list[tuple[int, int]]  # cells already finished in the folder
    document: dict[str, Any]  # results.json's content

    @property
    def crashed(self) -> list[dict[str, Any]]:
        return [row for row in self.ran if row.get("status") == CELL_CRASHED]


def pending_cells(spec: StudySpec, out: Path) -> list[tuple[int, int]]:
    return [cell for cell in spec.cells() if not cell_path(out, *cell).is_file()]


def run_study(spec: StudySpec, out: Path, backend, command: Sequence[str] = (),
              on_cell: Optional[Callable[[dict[str, Any]], None]] = None) -> StudyOutcome:
    """Run the cells not finished in `out` on `backend` (study_backends); write each
    finished cell at once and the results after each. A cell that reports bad input
    (which the cheap checks did not catch, e.g. corrupt data) stops the study."""
    out = Path(out)
    record = prepare_folder(spec, out, command)
    todo = pending_cells(spec, out)
    skipped = [cell for cell in spec.cells() if cell not in todo]
    ran: list[dict[str, Any]] = []
    configs = [spec.cell_config(*cell) for cell in todo]
    for row in backend.run(configs):
        ran.append(row)
        if row["status"] == CELL_BAD_INPUT:
            backend.cancel()
            raise StudyInputError(f"cell labels_per_class={row['labels_per_class']} "
                                  f"seed={row['seed']}: {row.get('error')}")
        if row["status"] != CELL_CRASHED:  # a crash is retried by the next run
            config = spec.cell_config(row["labels_per_class"], row["seed"])
            write_text_atomic(cell_path(out, row["labels_per_class"], row["seed"]),
                              json.dumps({**row, "config": config}, indent=2) + "\n")
            write_results(out, record)
        if on_cell is not None:
            on_cell(row)
    return StudyOutcome(ran=ran, skipped=skipped, document=write_results(out, record))
