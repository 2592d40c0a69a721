"""Studies that ship with the project (assets/studies/<name>/): measured earlier, drawn at
once, so a class sees the label-budget curve without waiting. No streamlit here.

A shipped study is the study CLI's own output, copied: `study.json` (exact command,
date, machine, library versions) and `results.json` (every cell's row and the summary;
the cell files are not needed). "Re-run it here" starts the same command with this
server's data folder and a fresh output folder under the runs folder.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

from dashboard.views.budget import studies
from sgan_core.cli.main import build_parser
from sgan_core.cli.common import flag, given_fields
from sgan_core.config import TrainConfig
from sgan_core.cli.study import STUDY_DEFAULTS

SHIPPED_ENV = "SGAN_SHIPPED_STUDIES_DIR"  # another folder of shipped studies (benchmarks)
SHIPPED_ROOT = Path(os.environ.get(SHIPPED_ENV) or studies.ROOT / "assets" / "studies")
PREFIX = "measured:"  # shipped study ids, never a folder name under the runs folder
MAX_FILE_BYTES = 2_000_000  # a shipped results.json is ~20 kB; refuse anything huge


def shipped_ids(root: Optional[Path] = None) -> list[str]:
    """Ids of the shipped studies that have results, by name."""
    root = root or SHIPPED_ROOT
    if not root.is_dir():
        return []
    return [PREFIX + p.name for p in sorted(root.iterdir())
            if p.is_dir() and (p / "results.json").is_file()]


def is_shipped(study_id: Optional[str]) -> bool:
    return bool(study_id) and study_id.startswith(PREFIX)


def folder(study_id: str) -> Path:
    return SHIPPED_ROOT / study_id[len(PREFIX):]


def read_shipped(study_id: str) -> studies.StudyState:
    """The shipped study as the page's StudyState: rows from results.json, the record
    from study.json (or the copy results.json holds)."""
    path = folder(study_id)
    results = studies.read_json_object(path / "results.json", MAX_FILE_BYTES)
    record = (studies.read_json_object(path / "study.json", MAX_FILE_BYTES)
              or results.get("study") or {})
    rows = [row for row in results.get("cells", []) if isinstance(row, dict)
            and isinstance(row.get("labels_per_class"), int)]
    return studies.StudyState(study_id, path, {}, record, rows)


def _date_words(date: Any) -> str:
    return str(date or "").replace("T", " ").replace("+00:00", " UTC")


def _when(record: dict[str, Any]) -> str:
    """When it ran: a resumed study's `date` is the resume, so its first start comes
    first ("from A, resumed B")."""
    last = _date_words(record.get("date"))
    first = _date_words((record.get("first_run") or {}).get("date"))
    if first and last and first != last:
        return f"from {first} (resumed {last})"
    return f"on {last or first or 'an unknown date'}"


def provenance(record: dict[str, Any]) -> str:
    """Where and with what the study was measured, in one sentence."""
    machine = record.get("machine") or {}
    versions = record.get("versions") or {}
    cores = machine.get("cpu_count")
    where = f"{machine.get('platform') or 'an unknown machine'}" + (
        f", {cores} CPU cores" if cores else "") + (
        f", Python {machine['python']}" if machine.get("python") else "")
    libraries = ", ".join(f"{name} {value}" for name, value in versions.items()
                          if value and name != "sgan_studio_commit")
    commit = versions.get("sgan_studio_commit")
    code = f"SGAN Studio commit {commit[:10]}" if commit else "SGAN Studio"
    return (f"Measured earlier, {_when(record)}, on {where}; "
            f"{libraries or 'library versions not recorded'}; {code}.")


def command_text(record: dict[str, Any]) -> str:
    return " ".join(str(part) for part in record.get("command") or [])


def _replace_flag(command: list[str], name: str, value: str) -> list[str]:
    """The command with `name`'s value replaced (added when missing)."""
    if name in command:
        at = command.index(name)
        return command[:at + 1] + [value] + command[at + 2:]
    return command + [name, value]


def rerun_command(record: dict[str, Any], data_dir: str, out: Path) -> Optional[list[str]]:
    """The recorded command, run here: this interpreter, this server's data folder, a
    new output folder, no progress bar (and Ray where the page uses it). None when the
    record holds no study command."""
    command = [str(part) for part in record.get("command") or []]
    if command[:4] != ["python", "-m", "sgan_core", "study"]:
        return None
    command = [sys.executable, *command[1:]]
    command = _replace_flag(command, "--data-dir", str(data_dir))
    command = _replace_flag(command, "--out", str(out))
    command += _pinned_settings(record.get("base_config") or {}, command)
    if "--no-progress" not in command:
        command.append("--no-progress")
    ray = os.environ.get(studies.RAY_ENV, "").strip()
    if ray:
        command = _replace_flag(_replace_flag(command, "--backend", "ray"),
                                "--ray-address", ray)
    return command


# Where a re-run must not copy the record: where it runs and what the command's own
# grid (labels per class, seeds) sets per cell.
_NOT_PINNED = ("data_dir", "download", "bundled_fallback", "labels_per_class", "seed")


def _pinned_settings(base: dict[str, Any], command: list[str]) -> list[str]:
    """Flags for every recorded setting the command leaves to a default that has changed
    since (e.g. a learning rate retuned later), so a re-run measures what the shipped
    study measured, not today's defaults under the old command. Which settings the
    command gives comes from the CLI's own parser (aliases such as --steps included)."""
    try:
        given = given_fields(build_parser().parse_args(command[3:]))
    except SystemExit:  # not a command today's CLI takes: nothing to compare it with
        return []
    defaults = TrainConfig(**STUDY_DEFAULTS).to_dict()
    flags: list[str] = []
    for name, value in base.items():
        if (name in _NOT_PINNED or name in given or name not in defaults
                or value == defaults[name]):
            continue
        flags += [flag(name), str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


def workers_of(record: dict[str, Any]) -> int:
    command = [str(part) for part in record.get("command") or []]
    if "--workers" in command[:-1]:
        try:
            return max(1, int(command[command.index("--workers") + 1]))
        except ValueError:
            pass
    return 1


def measured_minutes(study: studies.StudyState) -> Optional[float]:
    """How long the study took where it was measured (its cells' wall time over its
    workers), in minutes; None when the rows do not say."""
    walls = [float(row["wall_s"]) for row in study.rows
             if isinstance(row.get("wall_s"), (int, float))]
    if not walls:
        return None
    return sum(walls) / workers_of(study.record) / 60.0
