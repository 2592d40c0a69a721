"""A study's results: the cell files on disk -> one table (results.csv, results.json)
with a summary per label count. Pure Python and json: the page reads it too."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable, Optional

from sgan_core.storage.files import write_text_atomic

CELLS_FOLDER = "cells"
MAX_CELL_BYTES = 200_000  # a cell file is ~3 kB; a bigger one was not written by a study
# The table's columns, in order; a cell that did not reach its figures leaves them empty.
ROW_FIELDS = ("labels_per_class", "seed", "status", "steps", "seconds", "wall_s",
              "test_accuracy", "baseline_test_accuracy", "validation_accuracy",
              "baseline_validation_accuracy", "fake_rejection_rate", "false_rejection_rate")
SUMMARY_FIGURES = {"sgan": "test_accuracy", "baseline": "baseline_test_accuracy"}


def cell_path(out: Path, labels_per_class: int, seed: int) -> Path:
    return Path(out) / CELLS_FOLDER / f"labels{labels_per_class:05d}_seed{seed}.json"


def load_cells(out: Path) -> list[dict[str, Any]]:
    """Every finished cell in the folder, sorted by label count then seed; a file that
    cannot be read, is oversized or lacks its keys (e.g. written by hand) is skipped
    rather than breaking the table."""
    rows = []
    for path in sorted((Path(out) / CELLS_FOLDER).glob("labels*_seed*.json")):
        try:
            if path.stat().st_size > MAX_CELL_BYTES:
                continue
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(row, dict) and isinstance(row.get("labels_per_class"), int) \
                and isinstance(row.get("seed"), int):
            rows.append(row)
    return sorted(rows, key=lambda row: (row["labels_per_class"], row["seed"]))


DECIMALS = 4  # accuracies are counts over at most ~10k test images: 4 places are exact


def _rounded(value: Any) -> Any:
    return round(value, DECIMALS) if isinstance(value, float) else value


def table_rows(cells: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: _rounded(cell.get(name)) for name in ROW_FIELDS} for cell in cells]


def _spread(values: list[float]) -> dict[str, Optional[float]]:
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": _rounded(sum(values) / len(values)), "min": _rounded(min(values)),
            "max": _rounded(max(values))}


def _usable(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def summarize(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per label count: cells, the seeds' mean/min/max test accuracy of the SGAN and of
    the baseline, and the gap (SGAN - baseline, taken per seed so the split cancels)."""
    by_count: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_count.setdefault(int(row["labels_per_class"]), []).append(row)
    summary = []
    for count in sorted(by_count):
        group = by_count[count]
        scored = [r for r in group if all(_usable(r.get(k)) for k in SUMMARY_FIGURES.values())]
        entry: dict[str, Any] = {"labels_per_class": count, "cells": len(group),
                                 "scored_cells": len(scored)}
        for name, key in SUMMARY_FIGURES.items():
            entry[name] = _spread([r[key] for r in scored])
        entry["gap"] = _spread([r["test_accuracy"] - r["baseline_test_accuracy"]
                                for r in scored])
        summary.append(entry)
    return summary


def summary_columns(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary flattened for a table: sgan_mean, sgan_min, ..., gap_max."""
    flat = []
    for entry in summary:
        row = {k: entry[k] for k in ("labels_per_class", "cells", "scored_cells")}
        for name in (*SUMMARY_FIGURES, "gap"):
            row.update({f"{name}_{stat}": value for stat, value in entry[name].items()})
        flat.append(row)
    return flat


def to_csv(rows: list[dict[str, Any]], fields: Iterable[str] = ROW_FIELDS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def results_document(out: Path, study: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """What results.json holds: the study's description, every cell's row, the summary."""
    rows = table_rows(load_cells(out))
    return {"study": study or {}, "cells": rows, "summary": summarize(rows)}


def write_results(out: Path, study: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """(Re)write results.csv, summary.csv and results.json from the cell files; return
    the document."""
    document = results_document(out, study)
    write_text_atomic(Path(out) / "results.csv", to_csv(document["cells"]))
    summary = summary_columns(document["summary"])
    if summary:
        write_text_atomic(Path(out) / "summary.csv", to_csv(summary, summary[0].keys()))
    write_text_atomic(Path(out) / "results.json", json.dumps(document, indent=2) + "\n")
    return document
