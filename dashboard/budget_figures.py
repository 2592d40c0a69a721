"""The label-budget chart, a pure function of study_results.summarize's output (tested
without streamlit): test accuracy against labels per class on a log axis, SGAN and
baseline each a mean line over seeds inside a min-max band, the gap written between
them, and the sidebar's label count marked."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import plotly.graph_objects as go

from dashboard.figures import ACCURACY_CURVES, FAKE_COLOR

# The live page's accuracy colours, so SGAN and baseline look alike on both pages.
SERIES = tuple((key, name, colour, dash) for (_, name, colour, dash), key in
               zip(ACCURACY_CURVES, ("sgan", "baseline")))
BAND_OPACITY = 0.18


def _band_colour(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{BAND_OPACITY})"


def _scored(summary: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [entry for entry in summary if entry[key]["mean"] is not None]


def _series(fig: go.Figure, summary: Sequence[dict[str, Any]], key: str, name: str,
            colour: str, dash: str) -> None:
    """Mean line plus a min-max band over seeds (a closed polygon: max out, min back)."""
    entries = _scored(summary, key)
    if not entries:
        return
    x = [entry["labels_per_class"] for entry in entries]
    lows = [entry[key]["min"] for entry in entries]
    highs = [entry[key]["max"] for entry in entries]
    fig.add_trace(go.Scatter(x=x + x[::-1], y=highs + lows[::-1], fill="toself", mode="lines",
                             fillcolor=_band_colour(colour), line=dict(width=0),
                             hoverinfo="skip", showlegend=False, name=f"{name} range"))
    fig.add_trace(go.Scatter(
        x=x, y=[entry[key]["mean"] for entry in entries], name=name, mode="lines+markers",
        line=dict(color=colour, dash=dash, width=3), marker=dict(size=9),
        customdata=[[entry["scored_cells"], low, high]
                    for entry, low, high in zip(entries, lows, highs)],
        hovertemplate="%{x} labels/class: %{y:.1%} (seeds %{customdata[0]}, "
                      "range %{customdata[1]:.1%} to %{customdata[2]:.1%})<extra></extra>"))


def _gap_marks(fig: go.Figure, summary: Sequence[dict[str, Any]]) -> None:
    """A thin vertical segment from baseline to SGAN at each count, the gap above it."""
    for entry in _scored(_scored(summary, "sgan"), "baseline"):
        x, top, bottom = entry["labels_per_class"], entry["sgan"]["mean"], entry["baseline"]["mean"]
        fig.add_trace(go.Scatter(x=[x, x], y=[bottom, top], mode="lines", showlegend=False,
                                 line=dict(color=FAKE_COLOR, width=1, dash="dot"),
                                 hoverinfo="skip", name="gap"))
        fig.add_annotation(x=_log(x), y=max(top, bottom), text=f"{entry['gap']['mean']:+.1%}",
                           showarrow=False, yshift=14, font=dict(size=12))


def _log(x: float) -> float:
    """Annotations on a log axis take log10 of the value."""
    import math

    return math.log10(x)


def _highlight(fig: go.Figure, summary: Sequence[dict[str, Any]], labels: int) -> None:
    """The sidebar's label count: a dotted line across the chart and a ring on each curve."""
    fig.add_trace(go.Scatter(x=[labels, labels], y=[0, 1], mode="lines", name="your slider",
                             line=dict(color=FAKE_COLOR, width=2, dash="dash"),
                             hoverinfo="skip"))
    for key, _, colour, _ in SERIES:
        hit = [e for e in _scored(summary, key) if e["labels_per_class"] == labels]
        if hit:
            fig.add_trace(go.Scatter(x=[labels], y=[hit[0][key]["mean"]], mode="markers",
                                     showlegend=False, hoverinfo="skip",
                                     marker=dict(size=20, color="rgba(0,0,0,0)",
                                                 line=dict(color=colour, width=3))))


def study_figure(summary: Sequence[dict[str, Any]], highlight: Optional[int] = None,
                 title: str = "") -> go.Figure:
    """Test accuracy against labels per class (log x) for a study's summary."""
    fig = go.Figure()
    for key, name, colour, dash in SERIES:
        _series(fig, summary, key, name, colour, dash)
    _gap_marks(fig, summary)
    if highlight:
        _highlight(fig, summary, int(highlight))
    counts = sorted({entry["labels_per_class"] for entry in summary} | (
        {int(highlight)} if highlight else set()))
    fig.update_xaxes(type="log", title="labeled examples per class",
                     tickvals=counts or None, ticktext=[str(c) for c in counts] or None)
    fig.update_yaxes(title="test accuracy", tickformat=".0%", range=[0, 1.05])
    fig.update_layout(title=title or None, height=420, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.2), hovermode="closest")
    return fig
