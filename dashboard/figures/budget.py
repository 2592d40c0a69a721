"""The label-budget chart, a pure function of study_results.summarize's output (tested
without streamlit): test accuracy against labels per class on a log axis, SGAN and
baseline each a mean line over seeds inside a min-max band, the gap written between
them, and the sidebar's label count marked.

A Vega-Lite spec (a plain dict for `st.vega_lite_chart`), not a plotly figure: on a
first visit the browser loads Streamlit's Vega chunk (0.8 MB) instead of plotly.js
(4.7 MB), which would be most of the wait for this chart (bench/README.md,
bench_budget_page.py). Every layer carries its own rows (`data.values`), so the spec
alone says what is drawn.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from dashboard.figures.charts import ACCURACY_CURVES, FAKE_COLOR

# The live page's accuracy colours, so SGAN and baseline look alike on both pages.
SERIES = tuple((key, name, colour, dash) for (_, name, colour, dash), key in
               zip(ACCURACY_CURVES, ("sgan", "baseline")))
SLIDER = "your slider"
DASHES = {"solid": [1, 0], "dash": [8, 4]}  # plotly's dash names as Vega stroke dashes
SLIDER_DASH = [4, 4]
BAND_OPACITY = 0.18
HEIGHT = 420
FONT_PX = 14  # axis and legend text: readable on a laptop and at the back of a room
X_TITLE = "labeled examples per class"


def _scored(summary: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [entry for entry in summary if entry[key]["mean"] is not None]


def points(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per label count and series: mean, min, max over the scored seeds."""
    return [{"labels": entry["labels_per_class"], "series": name,
             "mean": entry[key]["mean"], "low": entry[key]["min"],
             "high": entry[key]["max"], "seeds": entry["scored_cells"]}
            for key, name, _, _ in SERIES for entry in _scored(summary, key)]


def gaps(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where both series have a mean: the segment between them and the gap's words."""
    return [{"labels": entry["labels_per_class"], "sgan": entry["sgan"]["mean"],
             "baseline": entry["baseline"]["mean"],
             "top": max(entry["sgan"]["mean"], entry["baseline"]["mean"]),
             "text": gap_words(100 * entry["gap"]["mean"])}
            for entry in _scored(_scored(summary, "sgan"), "baseline")]


def gap_words(points: float) -> str:
    """A gap above its point, in percentage points (as the live page writes its gap;
    "+9.8%" would read as relative). Whole points from 10 up: at 1024 px the labels of
    neighbouring counts (5, 10, 20 on the log axis) touched with a decimal; the table
    under the chart keeps one."""
    return f"{points:+.0f} pts" if abs(points) >= 9.95 else f"{points:+.1f} pts"


def _x(counts: list[int]) -> dict[str, Any]:
    """Log x with a tick at each count only; the domain padded so end points clear the
    axes (a log scale cannot start at 0)."""
    low, high = (min(counts), max(counts)) if counts else (1, 100)
    return {"field": "labels", "type": "quantitative", "title": X_TITLE,
            "scale": {"type": "log", "domain": [low / 1.4, high * 1.4], "nice": False},
            "axis": {"values": counts, "format": "d", "grid": True}}


def _y(field: str) -> dict[str, Any]:
    """Accuracy on one fixed 0-105% scale in every layer: studies compare at a glance,
    and the gap's words above a 97% point stay inside the chart."""
    return {"field": field, "type": "quantitative", "title": "test accuracy",
            "scale": {"domain": [0, 1.05], "nice": False},
            "axis": {"format": ".0%", "labelFlush": False}}


def _series_scales() -> dict[str, Any]:
    """One legend for colour and dash: SGAN, baseline, and the slider's line."""
    names = [name for _, name, _, _ in SERIES] + [SLIDER]
    colour = {"field": "series", "type": "nominal", "title": None,
              "scale": {"domain": names, "range": [c for _, _, c, _ in SERIES] + [FAKE_COLOR]}}
    dash = {"field": "series", "type": "nominal", "title": None,
            "scale": {"domain": names,
                      "range": [DASHES.get(d, [1, 0]) for _, _, _, d in SERIES] + [SLIDER_DASH]}}
    return {"color": colour, "strokeDash": dash}


def _tooltip() -> list[dict[str, Any]]:
    return [{"field": "series", "title": "model"},
            {"field": "labels", "title": "labels per class"},
            {"field": "mean", "title": "mean test accuracy", "format": ".1%"},
            {"field": "low", "title": "lowest seed", "format": ".1%"},
            {"field": "high", "title": "highest seed", "format": ".1%"},
            {"field": "seeds", "title": "seeds"}]


def _curve_layers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bands (min-max over seeds) under the mean lines, points with a tooltip on top."""
    scales = _series_scales()
    data = {"values": rows}
    band = {"data": data, "mark": {"type": "area", "opacity": BAND_OPACITY},
            "encoding": {"y": _y("low"),
                         "y2": {"field": "high"},
                         "color": scales["color"]}}
    line = {"data": data, "mark": {"type": "line", "strokeWidth": 3},
            "encoding": {"y": _y("mean"), **scales}}
    dots = {"data": data, "mark": {"type": "point", "filled": True, "size": 90, "opacity": 1},
            "encoding": {"y": _y("mean"),
                         "color": scales["color"], "tooltip": _tooltip()}}
    return [band, line, dots]


def _gap_layers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A dotted segment from baseline to SGAN at each count, the gap written above."""
    data = {"values": rows}
    segment = {"data": data, "mark": {"type": "rule", "color": FAKE_COLOR, "strokeWidth": 1,
                                      "strokeDash": [2, 2]},
               "encoding": {"y": _y("baseline"),
                            "y2": {"field": "sgan"}}}
    text = {"type": "text", "dy": -14, "fontSize": FONT_PX - 1, "fontWeight": "bold"}
    where = {"y": _y("top"), "text": {"field": "text"}}
    # A white outline under the words keeps them readable where a steep curve passes
    # (hidden from screen readers, which would read every gap twice).
    halo = {"data": data, "mark": {**text, "stroke": "white", "strokeWidth": 4,
                                   "strokeJoin": "round", "aria": False},
            "encoding": dict(where)}
    words = {"data": data, "mark": {**text, "color": FAKE_COLOR}, "encoding": dict(where)}
    return [segment, halo, words]


def _highlight_layers(rows: list[dict[str, Any]], labels: int) -> list[dict[str, Any]]:
    """The sidebar's label count: a dashed line across the chart and a ring on each
    curve's point there."""
    scales = _series_scales()
    line = {"data": {"values": [{"labels": labels, "series": SLIDER}]},
            "mark": {"type": "rule", "strokeWidth": 2},
            "encoding": {"color": scales["color"], "strokeDash": scales["strokeDash"]}}
    hits = [row for row in rows if row["labels"] == labels]
    rings = {"data": {"values": hits},
             "mark": {"type": "point", "filled": False, "size": 420, "strokeWidth": 3},
             "encoding": {"y": _y("mean"),
                          "color": scales["color"]}}
    return [line, rings]


def study_spec(summary: Sequence[dict[str, Any]], highlight: Optional[int] = None,
               title: str = "") -> dict[str, Any]:
    """Test accuracy against labels per class (log x) for a study's summary, as a
    Vega-Lite spec."""
    rows = points(summary)
    counts = sorted({entry["labels_per_class"] for entry in summary} | (
        {int(highlight)} if highlight else set()))
    layers = _curve_layers(rows)
    if highlight:  # under the gap's words, which stay readable where the line crosses
        layers += _highlight_layers(rows, int(highlight))
    layers += _gap_layers(gaps(summary))
    spec: dict[str, Any] = {
        "height": HEIGHT,
        # the y title and chart title otherwise touch the SVG's edge (an object: Streamlit
        # 1.67 fails on a number here)
        "padding": {"left": 6, "top": 6, "right": 6, "bottom": 6},
        "encoding": {"x": _x(counts)},
        "layer": layers,
        "config": {"axis": {"labelFontSize": FONT_PX, "titleFontSize": FONT_PX},
                   # above the plot: in view at once, even where the chart's foot is not
                   "legend": {"orient": "top", "labelFontSize": FONT_PX, "labelLimit": 0,
                              "symbolType": "stroke", "symbolOpacity": 1,
                              "symbolStrokeWidth": 3, "symbolSize": 400}},
        # SVG, not canvas: a few dozen marks, and the marks stay in the page's DOM
        # (the browser test counts them; screen readers get their labels).
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }
    if title:
        spec["title"] = title
    return spec
