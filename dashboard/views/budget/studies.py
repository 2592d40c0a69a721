"""Label-budget studies as the page sees them: the request from its inputs, the command
line, the subprocess, and what is on disk. No streamlit here (tested directly).

A study is a plain `python -m sgan_core study ... --out runs/studies/<id>` subprocess:
the page's server never trains and never holds a worker pool (the study CLI owns its
workers and ends them on SIGTERM, exit 130). Everything the page shows comes from the
study folder, so a server restart keeps every past study.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from dashboard.sidebar.inputs import NUMBER_FIELDS, InputError, parse_number
from sgan_core.config import TrainConfig
from sgan_core.studies.study import StudySpec
from sgan_core.storage.files import FileTooLarge, read_capped
from sgan_core.studies.results import load_cells

ROOT = Path(__file__).resolve().parents[3]  # the repository: dashboard/views/budget/ is 3 down
STUDIES_ENV = "SGAN_STUDIES_DIR"  # where studies go (default runs/studies)
RAY_ENV = "SGAN_RAY_ADDRESS"  # set: cells run as Ray tasks on that cluster
LABEL_CHOICES = (1, 2, 5, 10, 20, 50, 100)
MAX_SEEDS = 10
LAUNCH_FILE = "launch.json"  # the page's request, written before the CLI starts
LOG_FILE = "driver.log"  # the CLI's stdout and stderr (its one-line errors)
SWEPT = ("labels_per_class", "seed", "max_steps", "time_budget_s", "data_dir", "dataset")


def label_choices(limit: int) -> list[int]:
    """The label counts offered: the usual ones up to what every class can spare."""
    return [count for count in LABEL_CHOICES if count <= limit]


def parse_seeds(text: str) -> tuple[int, ...]:
    """'0 1 2' or '0, 1, 2' -> (0, 1, 2); InputError says what to type instead."""
    parts = str(text or "").replace(",", " ").split()
    if not parts:
        raise InputError("Give at least one seed, e.g. 0 1 2.")
    try:
        seeds = tuple(dict.fromkeys(int(part) for part in parts))
    except ValueError:
        raise InputError(f"Seeds are whole numbers separated by spaces (e.g. 0 1 2), "
                         f"not {text!r}.") from None
    if min(seeds) < 0 or max(seeds) >= 2**31:
        raise InputError("Seeds must be between 0 and 2147483647.")
    if len(seeds) > MAX_SEEDS:
        raise InputError(f"At most {MAX_SEEDS} seeds: each one trains every label count again.")
    return seeds


def spec_from_inputs(base: TrainConfig, dataset: str, labels: Sequence[int], seeds_text: str,
                     unit: str, budget_text: str) -> StudySpec:
    """The study the page's inputs describe, on the live sidebar's `base` settings, or
    InputError with what to change (no label counts, bad seeds, a budget that is not a
    positive number). The same StudySpec the study CLI makes from its flags."""
    if not labels:
        raise InputError("Choose at least one label count per class.")
    seeds = parse_seeds(seeds_text)
    if unit == "steps":
        budget = {"max_steps": int(parse_number(budget_text, NUMBER_FIELDS["w_steps"])),
                  "time_budget_s": 0.0}
    else:
        minutes = parse_number(budget_text, NUMBER_FIELDS["w_minutes"])
        budget = {"max_steps": 0, "time_budget_s": round(float(minutes) * 60.0, 3)}
    return StudySpec(base=base.replace(dataset=dataset, **budget),
                     labels_per_class=tuple(sorted(labels)), seeds=seeds)


def launch_record(spec: StudySpec) -> dict[str, Any]:
    """What launch.json keeps of the study (the study list reads it before the CLI has
    written study.json)."""
    return {"dataset": spec.base.dataset, "labels_per_class": list(spec.labels_per_class),
            "seeds": list(spec.seeds), "max_steps": spec.base.max_steps,
            "time_budget_s": spec.base.time_budget_s}


# --- the command -------------------------------------------------------------------------

def config_flags(base: TrainConfig) -> list[str]:
    """Flags for the base config's fields that differ from the study CLI's defaults (the
    swept and budget fields come from the request)."""
    from sgan_core.cli.common import flag
    from sgan_core.cli.study import STUDY_DEFAULTS

    defaults = TrainConfig(data_dir=base.data_dir).to_dict() | STUDY_DEFAULTS
    flags = []
    for name, value in base.to_dict().items():
        if name not in SWEPT and value != defaults.get(name):
            flags += [flag(name), str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


def study_command(spec: StudySpec, out: Path) -> list[str]:
    """The exact command line the page runs (recorded in study.json by the CLI)."""
    base = spec.base
    budget = (["--max-steps", str(base.max_steps)] if base.max_steps
              else ["--time-budget-s", f"{base.time_budget_s:g}"])
    # The fallback flag is always explicit: the CLI turns it off for an explicit
    # --data-dir, and an offline page trains on the bundled subset.
    command = [sys.executable, "-m", "sgan_core", "study", "--dataset", base.dataset,
               "--data-dir", str(base.data_dir),
               "--bundled-fallback", str(base.bundled_fallback).lower(),
               "--labels-per-class", *map(str, spec.labels_per_class),
               "--seeds", *map(str, spec.seeds), *budget, *config_flags(base),
               "--no-progress", "--out", str(out)]
    ray = os.environ.get(RAY_ENV, "").strip()
    return command + (["--backend", "ray", "--ray-address", ray] if ray else [])


def studies_root() -> Path:
    return Path(os.environ.get(STUDIES_ENV) or ROOT / "runs" / "studies")


def new_study_id(spec: StudySpec) -> str:
    """Sortable by time, readable, and unguessable enough not to collide."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{spec.base.dataset}-{secrets.token_hex(2)}"


def launch(command: list[str], out: Path,
           spec: Optional[StudySpec]) -> subprocess.Popen:
    """Start the study CLI in its own process group, its output in driver.log; a new
    study's grid goes to launch.json first (a resume keeps the first one). OSError
    (e.g. an unwritable runs folder) is the caller's to word."""
    out.mkdir(parents=True, exist_ok=True)
    if spec is not None:
        record = {"request": launch_record(spec), "command": command,
                  "started": datetime.datetime.now().isoformat(timespec="seconds")}
        (out / LAUNCH_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    with open(out / LOG_FILE, "ab") as log:
        # One torch thread per cell comes from the CLI; its own process group keeps a
        # Ctrl-C in the server's terminal from reaching the study twice.
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


# --- what is on disk ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class StudyState:
    """One study folder read from disk."""

    study_id: str
    path: Path
    request: dict[str, Any]  # launch.json's request ({} for a CLI-made study)
    record: dict[str, Any]  # study.json ({} until the CLI has written it)
    rows: list[dict[str, Any]]  # finished cells

    @property
    def total(self) -> int:
        source = self.record or self.request
        return len(source.get("labels_per_class", ())) * len(source.get("seeds", ()))

    @property
    def dataset(self) -> str:
        return (self.record.get("base_config", {}).get("dataset")
                or self.request.get("dataset", "?"))

    def summary_line(self) -> str:
        """The study in a list: what it sweeps, not how far it got (a label that changed
        as cells land would make a new choice in the list)."""
        source = self.record or self.request
        budget = self.request.get("max_steps") or source.get("base_config", {}).get(
            "max_steps")
        return f"{self.study_id}: " + sweep_words(source.get("labels_per_class", ()),
                                                  len(source.get("seeds", ())), budget)


def sweep_words(counts: Sequence[int], seeds: int, max_steps: Optional[int]) -> str:
    """What a study sweeps, short enough for the study list at 1024 px: "labels/class
    1-100 (7 counts); 3 seeds; 10,000 steps" (the chart shows every count)."""
    counts = sorted(counts)
    if not counts:
        swept = "labels/class ?"
    elif len(counts) <= 3:
        swept = "labels/class " + ", ".join(map(str, counts))
    else:
        swept = f"labels/class {counts[0]}-{counts[-1]} ({len(counts)} counts)"
    budget = f"{max_steps:,} steps" if max_steps else "timed"
    return f"{swept}; {seeds} seed{'' if seeds == 1 else 's'}; {budget}"


MAX_JSON_BYTES = 1_000_000  # launch.json and study.json are ~2 kB: refuse a huge one


def read_json_object(path: Path, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """A JSON object from a file, or {} if it is missing, unreadable, over max_bytes or
    not an object (the study pages list problems, they never raise)."""
    try:
        value = json.loads(read_capped(path, max_bytes).decode("utf-8"))
    except (OSError, ValueError, FileTooLarge):  # UnicodeDecodeError is a ValueError
        return {}
    return value if isinstance(value, dict) else {}


def read_study(path: Path) -> StudyState:
    return StudyState(path.name, path, read_json_object(path / LAUNCH_FILE).get("request", {}),
                      read_json_object(path / "study.json"), load_cells(path))


def list_studies(root: Optional[Path] = None) -> list[str]:
    """Study ids under the root, newest first (ids start with their date)."""
    root = root or studies_root()
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir()
             if p.is_dir() and ((p / LAUNCH_FILE).is_file() or (p / "study.json").is_file())]
    return sorted(found, reverse=True)


def eta_seconds(rows: Sequence[dict[str, Any]], total: int, workers: int) -> Optional[float]:
    """Seconds left, from the finished cells' own wall time (None before the first)."""
    walls = [float(row["wall_s"]) for row in rows if row.get("wall_s") is not None]
    left = total - len(rows)
    if not walls or left <= 0:
        return None if left > 0 else 0.0
    waves = -(-left // max(1, min(workers, left)))  # rounds of cells running at once
    return waves * sum(walls) / len(walls)


def last_log_line(path: Path) -> str:
    """The CLI's last words (its one-line error on bad input)."""
    try:
        lines = (path / LOG_FILE).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line for line in reversed(lines) if line.strip()), "")
