"""The Compare page's overlays, pure functions of (name, snapshot) pairs (tested without
streamlit): each run one colour, the SGAN a solid line and its baseline a dashed one of
the same colour; and the final figures as table rows."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.charts import ACCURACY_CURVES, LEGEND_RIGHT, LOSS_CURVES, _layout, _thin, ema
from sgan_core.snapshot import Snapshot

# Okabe-Ito, colour-blind safe, one per run (at most six runs are compared).
RUN_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
LOSSES = {"baseline_loss": "baseline (labeled CE)",
          **{column: name for column, name, _, _ in LOSS_CURVES}}
Compared = Sequence[tuple[str, Snapshot]]  # (short name, latest snapshot) per run
GAP = "gap (pts)"  # SGAN minus baseline accuracy, in percentage points


def run_color(index: int) -> str:
    return RUN_COLORS[index % len(RUN_COLORS)]


def _line(fig: go.Figure, history: Any, column: str, name: str, colour: str, dash: str,
          smoothing: float = 0.0, scale: float = 1.0) -> None:
    steps = np.asarray(history.get("step", ()), dtype=float)
    values = np.asarray(history.get(column, ()), dtype=float)
    if len(steps) == 0 or len(values) != len(steps):
        return
    x, y = _thin(steps, scale * ema(values, smoothing))
    fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", legendgroup=name,
                             line=dict(color=colour, dash=dash, width=2.5)))


def accuracy_overlay(runs: Compared) -> go.Figure:
    """Test accuracy (%) against step: SGAN solid, baseline dashed, a colour per run."""
    fig = go.Figure()
    for index, (name, snapshot) in enumerate(runs):
        for column, which, _, dash in ACCURACY_CURVES:
            _line(fig, snapshot.history, column, f"{name}: {which}", run_color(index), dash,
                  scale=100.0)
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="test accuracy (%)", rangemode="tozero")
    return _beside(fig, "Test accuracy: SGAN (solid) and baseline (dashed)")


def loss_overlay(runs: Compared, column: str, smoothing: float = 0.0) -> go.Figure:
    """One loss of every run against step (smoothed as on the live page)."""
    fig = go.Figure()
    for index, (name, snapshot) in enumerate(runs):
        _line(fig, snapshot.history, column, name, run_color(index), "solid", smoothing)
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text=LOSSES.get(column, column))
    return _beside(fig, f"Loss: {LOSSES.get(column, column)}")


def _beside(fig: go.Figure, title: str) -> go.Figure:
    """The shared look with the legend right of the plot: placed below it (a share of
    the plot's height), it met the x-axis title after a window went from 1024 to 1366 px.
    The title sits just above the plot (plotly's default centres it in the top margin,
    which reaches into the mode bar's strip)."""
    _layout(fig, 420)
    fig.update_layout(legend=LEGEND_RIGHT, title=dict(
        text=title, x=0, xref="paper", y=1, yref="paper", yanchor="bottom", pad=dict(b=8)))
    return fig


def _percent(value: Optional[float]) -> Optional[float]:
    return None if value is None or not np.isfinite(value) else float(value)


def final_rows(runs: Compared) -> list[dict[str, Any]]:
    """One row per run: its latest figures first (fractions; the gap in percentage
    points, as the live page writes it), then what it trained on. At 1024 px the table
    shows about six columns before it scrolls: the figures must be among them."""
    rows = []
    for name, snapshot in runs:
        cfg = snapshot.config
        gap = _percent(snapshot.accuracy_gap)
        rows.append({
            "run": name, "labels/class": cfg.labels_per_class,
            "SGAN": _percent(snapshot.test_accuracy),
            "baseline": _percent(snapshot.baseline_test_accuracy),
            GAP: None if gap is None else 100.0 * gap,
            "fakes caught": _percent(snapshot.fake_rejection_rate),
            "steps": snapshot.step,
            "status": str(getattr(snapshot.run_status, "value", snapshot.run_status)),
            "seed": cfg.seed, "generator loss": cfg.generator_loss,
        })
    return rows
