"""Loss and accuracy history: averaged between evaluations, one row per evaluation."""
from __future__ import annotations

import numpy as np

from sgan_core.snapshot import HISTORY_COLUMNS, frozen_array
from sgan_core.trainer import StepLosses


class LossAverager:
    """Means of the step losses since the last evaluation."""

    def __init__(self) -> None:
        self.totals = np.zeros(5)
        self.count = 0

    def add(self, step_losses: StepLosses) -> None:
        self.totals += (step_losses.supervised, step_losses.unsupervised_real,
                        step_losses.unsupervised_fake, step_losses.generator,
                        step_losses.baseline)
        self.count += 1

    def pop(self) -> dict[str, float]:
        """The means so far (NaN if no step happened), then start again."""
        means = self.totals / self.count if self.count else np.full(5, np.nan)
        self.totals[:] = 0
        self.count = 0
        return {
            "supervised_loss": means[0],
            "unsupervised_loss_real": means[1],
            "unsupervised_loss_fake": means[2],
            "unsupervised_loss": means[1] + means[2],
            "generator_loss": means[3],
            "baseline_loss": means[4],
        }


class History:
    """Rows of HISTORY_COLUMNS; frozen column arrays for snapshots."""

    def __init__(self, rows: list[dict[str, float]] | None = None) -> None:
        self.rows: list[dict[str, float]] = list(rows or [])

    def append(self, row: dict[str, float]) -> None:
        self.rows.append({name: float(row.get(name, np.nan)) for name in HISTORY_COLUMNS})

    def columns(self) -> dict[str, np.ndarray]:
        return {name: frozen_array([row[name] for row in self.rows], dtype=np.float64)
                for name in HISTORY_COLUMNS}

    def to_csv(self, path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(",".join(HISTORY_COLUMNS) + "\n")
            for row in self.rows:
                handle.write(",".join(_format(row[name]) for name in HISTORY_COLUMNS) + "\n")


def _format(value: float) -> str:
    if value != value:  # NaN: an empty cell reads better in spreadsheets
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
