"""Pure functions from snapshot parts to plotly figures and numpy images.

No streamlit import here: every function takes plain values (arrays, snapshot parts) and
returns a figure or an image, so it is unit-tested without a page. Sizes and fonts are
chosen for a projector at the back of a classroom.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sgan_core.snapshot import Inspection

# Ten class colours picked from the Okabe-Ito, Paul Tol and Tableau colour-blind sets so
# that every pair, the fake class's near-black and the white page differ by at least
# 20 CIELAB units for normal vision and simulated protanopia, deuteranopia and
# tritanopia (Machado 2009; tests/test_figures.py checks it). The old palette's
# 0/4/8 and 1/7 were under 4 apart. Digits often confused (4/9, 3/5/8, 1/7) get far
# apart hues.
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


def _layout(fig: go.Figure, height: int, legend_below: bool = False) -> go.Figure:
    """Shared look; a legend below the plots where subplot titles take the top."""
    legend = (dict(orientation="h", yanchor="top", y=-0.22, x=0) if legend_below
              else dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    fig.update_layout(
        template="plotly_white", height=height, font=dict(size=FONT_SIZE), legend=legend,
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


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


def curves_figure(history: Mapping[str, np.ndarray], smoothing: float = 0.0) -> go.Figure:
    """D's losses, G's loss (its own scale: feature matching dwarfs the others) and
    SGAN vs baseline test accuracy, side by side; losses smoothed, accuracy not."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07, subplot_titles=(
        "Discriminator losses", "Generator loss", "Test accuracy (%)"))
    steps = np.asarray(history.get("step", []), dtype=float)
    if len(steps) == 0:
        return _layout(fig, 400, legend_below=True)
    for column, name, color, dash in LOSS_CURVES:
        if column in history:
            x, y = _thin(steps, ema(history[column], smoothing))
            fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines",
                                     line=dict(color=color, dash=dash, width=2.5)),
                          1, 2 if column == "generator_loss" else 1)
    for column, name, color, dash in ACCURACY_CURVES:
        if column in history:
            x, y = _thin(steps, 100.0 * np.asarray(history[column], dtype=float))
            fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines+markers",
                                     line=dict(color=color, dash=dash, width=3)), 1, 3)
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, 400, legend_below=True)


def mark_step(fig: go.Figure, step: float) -> go.Figure:
    """A dotted line on every curve panel at the timeline's chosen step."""
    fig.add_vline(x=float(step), line=dict(color=FAKE_COLOR, dash="dot", width=2),
                  row="all", col="all")
    return fig


# --- confusion ----------------------------------------------------------------------

def row_rates(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows with no examples stay 0)."""
    counts = np.asarray(confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """(N+1)x(N+1) heatmap: rows = truth (classes, then fake), columns = D's verdict.

    Colour is the share of the row and the number is the count: coloured by count, the
    fake row (500 fakes against ~200 images a class) washed out every class row. Over
    the heatmap lie the cells' click targets (`cell_targets`).
    """
    labels = axis_labels(class_names)
    counts = np.asarray(confusion)
    heatmap = go.Heatmap(
        z=row_rates(counts), x=labels, y=labels, text=counts, zmin=0.0, zmax=1.0,
        colorscale="Blues", showscale=False, texttemplate="%{text}",
        textfont=dict(size=FONT_SIZE - 5), xgap=1, ygap=1, hoverinfo="skip",
    )
    fig = go.Figure([heatmap, cell_targets(counts, labels)])
    # fixed ranges: autorange would pad the axes for the click targets' markers and
    # leave the heatmap short of the plot's edges
    fig.update_xaxes(title_text="discriminator says", side="top", type="category",
                     range=[-0.5, len(labels) - 0.5])
    fig.update_yaxes(title_text="truth", type="category", range=[len(labels) - 0.5, -0.5])
    # a click selects the nearest centre; cells are ~35 px, so any spot of a cell hits
    fig.update_layout(clickmode="event+select", hoverdistance=40, showlegend=False)
    return _layout(fig, 460)


def cell_targets(counts: np.ndarray, labels: Sequence[str]) -> go.Scatter:
    """One invisible marker per cell centre, customdata (truth, verdict, share of the
    row): plotly heatmaps emit no selection points, scatter markers do, so a click on a
    cell reaches the page (st.plotly_chart on_select) through the marker at its centre."""
    truth, verdict = np.indices(counts.shape)
    rates = row_rates(counts)
    return go.Scatter(
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

def embedding_figure(projection: Any, class_names: Sequence[str]) -> go.Figure:
    """Test points coloured by class, fakes as dark crosses; WebGL for thousands."""
    fig = go.Figure()
    coords = np.asarray(projection.coords_real)
    labels = np.asarray(projection.real_labels)
    for k, name in enumerate(class_names):
        mask = labels == k
        fig.add_trace(go.Scattergl(
            x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=str(name),
            marker=dict(color=class_color(k), size=6, opacity=0.75)))
    fakes = np.asarray(projection.coords_fake)
    if len(fakes):
        fig.add_trace(go.Scattergl(
            x=fakes[:, 0], y=fakes[:, 1], mode="markers", name="fake",
            marker=dict(color=FAKE_COLOR, symbol=FAKE_SYMBOL, size=8)))
    fig.update_xaxes(showticklabels=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, zeroline=False)
    # uirevision keeps zoom across updates where the element survives.
    fig.update_layout(uirevision="embedding")
    return _layout(fig, 480)


# --- inspector ----------------------------------------------------------------------

def p_fake_histogram(inspection: Inspection) -> go.Figure:
    """Overlaid P(fake) distributions: real test images vs generated ones."""
    fig = go.Figure()
    bins = dict(start=0.0, end=1.0, size=0.05)
    for values, name, color in ((inspection.p_fake_real, "real test images", "#3969AC"),
                                (inspection.p_fake_generated, "generated images",
                                 FAKE_COLOR)):
        fig.add_trace(go.Histogram(x=np.asarray(values), name=name, xbins=bins,
                                   histnorm="percent", marker_color=color, opacity=0.6))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="P(fake)", range=[0, 1], automargin=True)
    fig.update_yaxes(title_text="% of images", automargin=True)
    return _layout(fig, 340)


def probability_bars(probabilities: Sequence[float], class_names: Sequence[str]) -> go.Figure:
    """The N+1 probabilities of one image, classes in their colours, fake in black."""
    labels = axis_labels(class_names)
    colors = [class_color(k) for k in range(len(class_names))] + [FAKE_COLOR]
    probs = np.asarray(probabilities, dtype=float)
    fig = go.Figure(go.Bar(x=labels, y=probs, marker_color=colors,
                           text=[f"{p:.0%}" for p in probs], textposition="outside"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    return _layout(fig, 320)
