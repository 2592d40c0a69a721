"""Pure functions from snapshot parts to plotly figures and numpy images.

No streamlit import here: every function takes plain values (arrays, snapshot parts) and
returns a figure or an image, so it is unit-tested without a page. Sizes and fonts are
chosen for a projector at the back of a classroom.

Figures are built the cheap way (`_figure`): a layout made once through plotly's checked
API and kept, plus traces written as the plain dicts plotly.js reads. Built through
checked objects, the charts of one evaluation (confusion matrix, curves) cost 90-120 ms
of the server's thread, most of it copying the template and checking every property:
GIL time taken from training on each refresh (bench/README.md). tests/test_figures.py
puts every figure through plotly's checks and requires them to change nothing.
"""
from __future__ import annotations

import functools
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import make_colorscale, sequential
from plotly.subplots import make_subplots

from sgan_core.snapshot import Inspection

# Ten class colours picked from the Okabe-Ito, Paul Tol and Tableau colour-blind sets so
# that every pair, the fake class's near-black and the white page differ by at least
# 20 CIELAB units for normal vision and simulated protanopia, deuteranopia and
# tritanopia (Machado 2009; tests/test_figures.py checks it): a stock qualitative set
# fails this (CARTO's Bold puts 0/4/8 and 1/7 under 4 apart). Digits often confused
# (4/9, 3/5/8, 1/7) get far apart hues.
CLASS_COLORS = (
    "#332288", "#D55E00", "#785EF0", "#FFB000", "#9467BD",
    "#8C564B", "#A3CCE9", "#882255", "#DDCC77", "#44AA99",
)
FAKE_COLOR = "#222222"  # near-black: no class colour is this dark or this grey
FAKE_SYMBOL = "x"  # class points are circles; a different shape survives colour blindness
# Verdict frames, with the colour's name the page's notes use (words match the picture):
# Okabe-Ito bluish green and vermillion, apart for red-green colour-blind viewers too,
# and dark enough for white captions. The vermillion looks orange on screen: say so.
ACCEPT_COLOR, ACCEPT_COLOR_NAME = "#009E73", "green"
REJECT_COLOR, REJECT_COLOR_NAME = "#D55E00", "orange"
# A real image counts as "called fake", a fake as having "fooled" D, on this side of it:
# P(fake) >= 0.5 makes fake the most probable of the N+1 classes.
CALLED_FAKE_AT = 0.5
FONT_SIZE = 16
# Plotly's mode bar (shown while the mouse is on a chart; its camera button saves the
# chart as a PNG) lies over the chart's top edge, from 2 to 29 px below it (33 px in the
# presenter view). Every figure keeps that strip free of words: its top margin is
# MODEBAR_PX plus the room its own titles, top ticks or legend need, and plotly draws
# those at the margin's bottom, just above the plot, whatever the chart's width.
MODEBAR_PX = 36
LINE_PX = 34  # one line of chart words at the presenter view's 20 px, with its gap
LEGEND_RIGHT = dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top")
BLUES = make_colorscale(sequential.Blues)  # plotly.py's "Blues" (plotly.js has another)
MAX_CURVE_POINTS = 1500  # enough for a smooth line, small enough to send every second

# (history column, legend name, colour, dash) for the loss panel.
LOSS_CURVES = (
    ("supervised_loss", "supervised (labeled CE)", "#3969AC", "solid"),
    ("unsupervised_loss_real", "unsupervised: real part", "#11A579", "solid"),
    ("unsupervised_loss_fake", "unsupervised: fake part", FAKE_COLOR, "dot"),
    ("generator_loss", "generator", "#E68310", "solid"),
)
ACCURACY_CURVES = (
    ("test_accuracy", "SGAN", "#CF1C90", "solid"),
    ("baseline_test_accuracy", "baseline (labels only)", "#3969AC", "dash"),
)


def class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def axis_labels(class_names: Sequence[str]) -> list[str]:
    """Class names plus the (N+1)-th "fake" class, as rows and columns are ordered."""
    return [str(name) for name in class_names] + ["fake"]


def _layout(fig: go.Figure, height: int, legend_below: bool = False,
            above: int = LINE_PX) -> go.Figure:
    """Shared look; a legend below the plots where subplot titles take the top.
    `above`: pixels the words over the plot need (a line: the legend on top)."""
    legend = (dict(orientation="h", yanchor="top", y=-0.22, x=0) if legend_below
              else dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    fig.update_layout(
        template="plotly_white", height=height, font=dict(size=FONT_SIZE), legend=legend,
        margin=dict(l=10, r=10, t=MODEBAR_PX + above, b=10),
    )
    return fig


def _checked_layout(fig: go.Figure, height: int, legend_below: bool = False,
                    above: int = LINE_PX) -> dict:
    """The layout of `fig` with the shared look, as plain values (checked by plotly as
    it was built); the figure functions build these once and keep them."""
    return _layout(fig, height, legend_below, above).to_dict()["layout"]


def _figure(traces: list[dict], layout: dict, **changes: Any) -> go.Figure:
    """A figure of plain trace dicts on a kept layout, without plotly's property checks
    (see the module's docstring: the tests run them instead). plotly builds its own
    objects from the dicts, so later edits of the figure never reach the kept layout."""
    return go.Figure(data=traces, layout={**layout, **changes}, _validate=False)


# --- curves -------------------------------------------------------------------------

def ema(values: Sequence[float], weight: float) -> np.ndarray:
    """Debiased exponential moving average (as TensorBoard and Adam do):
    s_t = w * s_(t-1) + (1 - w) * x_t from s = 0, shown as s_t / (1 - w^n) after n points.

    Seeding with x_0 instead let the first, large loss dominate for hundreds of steps
    at heavy smoothing (D's loss drawn near 1.0 when it was 0.1). NaN inputs (steps
    where a column was not measured) stay NaN and do not reset the average; weight 0
    returns the series unchanged.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=float)
    out = np.full_like(values, np.nan)
    state, seen = 0.0, 0
    for i, x in enumerate(values):
        if np.isnan(x):
            continue
        state, seen = weight * state + (1.0 - weight) * x, seen + 1
        out[i] = state / (1.0 - weight ** seen)
    return out


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop unmeasured points and keep at most MAX_CURVE_POINTS evenly spaced ones."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) > MAX_CURVE_POINTS:
        idx = np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).round().astype(int)
        x, y = x[idx], y[idx]
    return x, y


@functools.cache
def _curves_layout() -> dict:
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07, subplot_titles=(
        "Discriminator losses", "Generator loss", "Test accuracy (%)"))
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(rangemode="tozero")
    # 430: the mode bar's strip took 20 px of the plots; the legend below them is
    # placed by the plots' height and met the axis titles at 400
    return _checked_layout(fig, 430, legend_below=True)


def _line(x: np.ndarray, y: np.ndarray, name: str, color: str, dash: str, width: float,
          panel: int, mode: str = "lines") -> dict:
    axis = "" if panel == 1 else str(panel)  # plotly names the subplots' axes x, x2, x3
    return dict(type="scatter", x=x, y=y, name=name, mode=mode, xaxis="x" + axis,
                yaxis="y" + axis, line=dict(color=color, dash=dash, width=width))


def curves_figure(history: Mapping[str, np.ndarray], smoothing: float = 0.0,
                  mark_step: Optional[float] = None) -> go.Figure:
    """D's losses, G's loss (its own scale: feature matching dwarfs the others) and
    SGAN vs baseline test accuracy, side by side; losses smoothed, accuracy not.
    `mark_step` (the timeline's chosen moment) gets a dotted line on every panel."""
    steps = np.asarray(history.get("step", []), dtype=float)
    traces = []
    for column, name, color, dash in LOSS_CURVES if len(steps) else ():
        if column in history:
            x, y = _thin(steps, ema(history[column], smoothing))
            traces.append(_line(x, y, name, color, dash, 2.5,
                                panel=2 if column == "generator_loss" else 1))
    traces += _accuracy_traces(history, steps, panel=3)
    marks = {} if mark_step is None else {"shapes": _step_lines(float(mark_step))}
    return _figure(traces, _curves_layout(), **marks)


def _accuracy_traces(history: Mapping[str, np.ndarray], steps: np.ndarray,
                     panel: int) -> list[dict]:
    """SGAN and baseline test accuracy in % (not smoothed), on the given panel."""
    traces = []
    for column, name, color, dash in ACCURACY_CURVES if len(steps) else ():
        if column in history:
            x, y = _thin(steps, 100.0 * np.asarray(history[column], dtype=float))
            traces.append(_line(x, y, name, color, dash, 3, panel=panel, mode="lines+markers"))
    return traces


@functools.cache
def _accuracy_layout() -> dict:
    fig = go.Figure()
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="test accuracy (%)", rangemode="tozero")
    return _checked_layout(fig, 400)


def accuracy_figure(history: Mapping[str, np.ndarray],
                    mark_step: Optional[float] = None) -> go.Figure:
    """SGAN vs baseline test accuracy alone, the legend on top: the presenter view's
    picture of what the unlabeled images buy (the losses stay on the ordinary page)."""
    steps = np.asarray(history.get("step", []), dtype=float)
    traces = _accuracy_traces(history, steps, panel=1)
    marks = {} if mark_step is None else {"shapes": _step_lines(float(mark_step))[:1]}
    return _figure(traces, _accuracy_layout(), **marks)


def _step_lines(step: float) -> list[dict]:
    """One dotted vertical line per curve panel, the full height of the panel."""
    return [dict(type="line", x0=step, x1=step, xref=f"x{axis}", y0=0, y1=1,
                 yref=f"y{axis} domain", line=dict(color=FAKE_COLOR, dash="dot", width=2))
            for axis in ("", "2", "3")]


# --- confusion ----------------------------------------------------------------------

def row_rates(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows with no examples stay 0)."""
    counts = np.asarray(confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


@functools.lru_cache(maxsize=8)
def _confusion_layout(n_labels: int) -> dict:
    fig = go.Figure()
    # fixed ranges: autorange would pad the axes for the click targets' markers and
    # leave the heatmap short of the plot's edges
    fig.update_xaxes(title_text="discriminator says", side="top", type="category",
                     range=[-0.5, n_labels - 0.5])
    fig.update_yaxes(title_text="truth", type="category", range=[n_labels - 0.5, -0.5])
    # a click selects the nearest centre; cells are ~30 px, so any spot of a cell hits
    fig.update_layout(clickmode="event+select", hoverdistance=40, showlegend=False)
    return _checked_layout(fig, 460, above=2 * LINE_PX)  # the top ticks and their title


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """(N+1)x(N+1) heatmap: rows = truth (classes, then fake), columns = D's verdict.

    Colour is the share of the row and the number is the count: coloured by count, the
    fake row (500 fakes against ~200 images a class) washed out every class row. Over
    the heatmap lie the cells' click targets (`cell_targets`).
    """
    labels = axis_labels(class_names)
    counts = np.asarray(confusion)
    heatmap = dict(
        type="heatmap", z=row_rates(counts), x=labels, y=labels, text=counts, zmin=0.0,
        zmax=1.0, colorscale=BLUES, showscale=False, texttemplate="%{text}",
        textfont=dict(size=FONT_SIZE - 5), xgap=1, ygap=1, hoverinfo="skip",
    )
    return _figure([heatmap, cell_targets(counts, labels)], _confusion_layout(len(labels)))


def cell_targets(counts: np.ndarray, labels: Sequence[str]) -> dict:
    """One invisible marker per cell centre, customdata (truth, verdict, share of the
    row): plotly heatmaps emit no selection points, scatter markers do, so a click on a
    cell reaches the page (st.plotly_chart on_select) through the marker at its centre."""
    truth, verdict = np.indices(counts.shape)
    rates = row_rates(counts)
    return dict(
        type="scatter",
        x=[labels[j] for j in verdict.ravel()], y=[labels[i] for i in truth.ravel()],
        mode="markers", text=counts.ravel(),
        # a plain list: a numpy array travels as a typed array, which the browser's
        # selection event then sends back as an object {"0": .., "1": ..}
        customdata=np.stack([truth.ravel(), verdict.ravel(), rates.ravel()], 1).tolist(),
        marker=dict(size=28, symbol="square", color="rgba(0,0,0,0)"),
        selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
        hovertemplate=("true %{y} → predicted %{x}<br>%{text} images"
                       "<br>%{customdata[2]:.1%} of the row<extra></extra>"),
    )


# --- embedding ----------------------------------------------------------------------

@functools.cache
def _embedding_layout() -> dict:
    fig = go.Figure()
    fig.update_xaxes(showticklabels=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, zeroline=False)
    # uirevision keeps zoom across updates where the element survives.
    fig.update_layout(uirevision="embedding")
    # Eleven entries in a column right of the map: in a row on top they wrapped to a
    # second line in a half-width column and grew into the mode bar's strip.
    _layout(fig, 480, above=0).update_layout(legend=LEGEND_RIGHT)
    return fig.to_dict()["layout"]


def embedding_figure(projection: Any, class_names: Sequence[str]) -> go.Figure:
    """Test points coloured by class, fakes as dark crosses; WebGL for thousands."""
    coords = np.asarray(projection.coords_real)
    labels = np.asarray(projection.real_labels)
    traces = [dict(type="scattergl", x=coords[labels == k, 0], y=coords[labels == k, 1],
                   mode="markers", name=str(name),
                   marker=dict(color=class_color(k), size=6, opacity=0.75))
              for k, name in enumerate(class_names)]
    fakes = np.asarray(projection.coords_fake)
    if len(fakes):
        traces.append(dict(type="scattergl", x=fakes[:, 0], y=fakes[:, 1], mode="markers",
                           name="fake",
                           marker=dict(color=FAKE_COLOR, symbol=FAKE_SYMBOL, size=8)))
    return _figure(traces, _embedding_layout())


# --- inspector ----------------------------------------------------------------------

@functools.cache
def _histogram_layout() -> dict:
    fig = go.Figure()
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="P(fake)", range=[0, 1], automargin=True)
    fig.update_yaxes(title_text="% of images", automargin=True)
    return _checked_layout(fig, 340)


def p_fake_histogram(inspection: Inspection) -> go.Figure:
    """Overlaid P(fake) distributions: real test images vs generated ones."""
    bins = dict(start=0.0, end=1.0, size=0.05)
    traces = [dict(type="histogram", x=np.asarray(values), name=name, xbins=bins,
                   histnorm="percent", marker=dict(color=color), opacity=0.6)
              for values, name, color in (
                  (inspection.p_fake_real, "real test images", "#3969AC"),
                  (inspection.p_fake_generated, "generated images", FAKE_COLOR))]
    return _figure(traces, _histogram_layout())


@functools.cache
def _bars_layout() -> dict:
    fig = go.Figure()
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    return _checked_layout(fig, 320, above=0)  # no legend, no title


def probability_bars(probabilities: Sequence[float], class_names: Sequence[str]) -> go.Figure:
    """The N+1 probabilities of one image, classes in their colours, fake in black."""
    labels = axis_labels(class_names)
    colors = [class_color(k) for k in range(len(class_names))] + [FAKE_COLOR]
    probs = np.asarray(probabilities, dtype=float)
    bars = dict(type="bar", x=labels, y=probs, marker=dict(color=colors),
                text=[f"{p:.0%}" for p in probs], textposition="outside")
    return _figure([bars], _bars_layout())
