"""Loss and accuracy history: averaged between evaluations, one row per evaluation."""
from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping

import numpy as np

from sgan_core.snapshot import HISTORY_COLUMNS, frozen_array
from sgan_core.training.trainer import StepLosses


# Each StepLosses field -> its history column (one list: adding a loss term is one line).
LOSS_COLUMNS = {
    "supervised": "supervised_loss",
    "unsupervised_real": "unsupervised_loss_real",
    "unsupervised_fake": "unsupervised_loss_fake",
    "generator": "generator_loss",
    "baseline": "baseline_loss",
}
assert set(LOSS_COLUMNS) == {f.name for f in dataclasses.fields(StepLosses)}


class LossAverager:
    """Means of the step losses since the last evaluation."""

    def __init__(self) -> None:
        self.totals = dict.fromkeys(LOSS_COLUMNS, 0.0)
        self.count = 0

    def add(self, step_losses: StepLosses) -> None:
        for name in self.totals:
            self.totals[name] += getattr(step_losses, name)
        self.count += 1

    def pop(self) -> dict[str, float]:
        """The means so far (NaN if no step happened) by column, then start again."""
        means = {LOSS_COLUMNS[name]: total / self.count if self.count else np.nan
                 for name, total in self.totals.items()}
        means["unsupervised_loss"] = (means["unsupervised_loss_real"]
                                      + means["unsupervised_loss_fake"])
        self.totals = dict.fromkeys(LOSS_COLUMNS, 0.0)
        self.count = 0
        return means


class History:
    """Rows of HISTORY_COLUMNS; frozen column arrays for snapshots."""

    def __init__(self, rows: list[dict[str, float]] | None = None) -> None:
        self.rows: list[dict[str, float]] = list(rows or [])

    def append(self, row: dict[str, float]) -> None:
        self.rows.append({name: float(row.get(name, np.nan)) for name in HISTORY_COLUMNS})

    def columns(self) -> Mapping[str, np.ndarray]:
        """Read-only column arrays behind a read-only mapping: a snapshot's history
        cannot be changed by a reader, keys included."""
        return MappingProxyType({
            name: frozen_array([row[name] for row in self.rows], dtype=np.float64)
            for name in HISTORY_COLUMNS})

    def to_csv(self, path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(",".join(HISTORY_COLUMNS) + "\n")
            for row in self.rows:
                handle.write(",".join(_format(row[name]) for name in HISTORY_COLUMNS) + "\n")


def _format(value: float) -> str:
    if value != value:  # NaN: an empty cell reads better in spreadsheets
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
