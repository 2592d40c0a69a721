"""Pure functions from snapshot parts to plotly figures and numpy images.

No streamlit import here: every function takes plain values (arrays, snapshot parts) and
returns a figure or an image, so it is unit-tested without a page. Sizes and fonts are
chosen for a projector at the back of a classroom.
"""
from __future__ import annotations

import functools
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sgan_core.snapshot import Inspection, Samples

# Plotly's "Bold" palette: saturated, readable on a washed-out projector, and free of
# black and grey, which belong to the fake class alone.
CLASS_COLORS = (
    "#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74",
    "#80BA5A", "#E68310", "#008695", "#CF1C90", "#F97B72",
)
FAKE_COLOR = "#222222"  # near-black: no class colour is this dark or this grey
FAKE_SYMBOL = "x"  # class points are circles; a different shape survives colour blindness
# Okabe-Ito bluish green and vermillion: tell apart for red-green colour-blind viewers.
ACCEPT_COLOR = "#009E73"
REJECT_COLOR = "#D55E00"
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
    """Exponential moving average s_t = w * s_(t-1) + (1 - w) * x_t, seeded with x_0.

    NaN inputs (steps where a column was not measured) stay NaN in the output and do
    not reset the average; weight 0 returns the series unchanged.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=float)
    out = np.full_like(values, np.nan)
    state: Optional[float] = None
    for i, x in enumerate(values):
        if np.isnan(x):
            continue
        state = x if state is None else weight * state + (1.0 - weight) * x
        out[i] = state
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


# --- confusion ----------------------------------------------------------------------

def row_rates(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows with no examples stay 0)."""
    counts = np.asarray(confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """(N+1)x(N+1) heatmap: rows = truth (classes, then fake), columns = D's verdict."""
    labels = axis_labels(class_names)
    counts = np.asarray(confusion)
    heatmap = go.Heatmap(
        z=counts, x=labels, y=labels, customdata=row_rates(counts),
        colorscale="Blues", showscale=False, texttemplate="%{z}",
        textfont=dict(size=FONT_SIZE - 2),
        hovertemplate=("true %{y} → predicted %{x}<br>%{z} images"
                       "<br>%{customdata:.1%} of the row<extra></extra>"),
    )
    fig = go.Figure(heatmap)
    fig.update_xaxes(title_text="discriminator says", side="top", type="category")
    fig.update_yaxes(title_text="truth", autorange="reversed", type="category")
    return _layout(fig, 460)


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
    fig.update_xaxes(title_text="P(fake) given by the discriminator", range=[0, 1])
    fig.update_yaxes(title_text="% of images")
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


# --- image grids --------------------------------------------------------------------

def verdict_tiles(samples: Samples, class_names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Per sample: ("k 0.93", green) when accepted as class k, ("fake", red) if rejected."""
    n_classes = len(class_names)
    labels, colors = [], []
    for verdict, confidence in zip(np.asarray(samples.verdicts),
                                   np.asarray(samples.confidences)):
        if int(verdict) >= n_classes:
            labels.append("fake")
            colors.append(REJECT_COLOR)
        else:
            labels.append(f"{class_names[int(verdict)]} {float(confidence):.2f}")
            colors.append(ACCEPT_COLOR)
    return labels, colors


def samples_image(samples: Samples, class_names: Sequence[str]) -> np.ndarray:
    """The fixed-noise film strip: one bordered, captioned tile per sample."""
    labels, colors = verdict_tiles(samples, class_names)
    return tile_grid(samples.images, labels, colors)


def tile_grid(images: np.ndarray, labels: Sequence[str], colors: Sequence[str],
              columns: int = 8, scale: int = 3) -> np.ndarray:
    """(S, H, W, C) uint8 images -> one (rows*h, columns*w, 3) uint8 picture.

    Each tile is upscaled (nearest neighbour: pixels stay crisp on a projector), framed
    in its colour, and captioned in white on a bar of the same colour.
    """
    from PIL import Image, ImageDraw  # only the grids need PIL

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    count, height, width = images.shape[:3]
    border, caption, gap = 4, 26, 6
    tile_w, tile_h = width * scale + 2 * border, height * scale + 2 * border + caption
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    canvas = Image.new("RGB", (columns * (tile_w + gap), rows * (tile_h + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    for i in range(count):
        x0, y0 = (i % columns) * (tile_w + gap), (i // columns) * (tile_h + gap)
        draw.rectangle([x0, y0, x0 + tile_w - 1, y0 + tile_h - 1], fill=colors[i])
        tile = images[i] if images.shape[3] == 3 else np.repeat(images[i], 3, axis=2)
        picture = Image.fromarray(np.ascontiguousarray(tile, dtype=np.uint8))
        picture = picture.resize((width * scale, height * scale), Image.NEAREST)
        canvas.paste(picture, (x0 + border, y0 + border))
        draw.text((x0 + tile_w / 2, y0 + tile_h - caption / 2), labels[i],
                  fill="white", font=_fitting_font(draw, labels[i], tile_w - 4), anchor="mm")
    return np.asarray(canvas)


def _fitting_font(draw: Any, text: str, max_width: int) -> Any:
    """The largest font (18 px down to 10 px) in which `text` fits the tile."""
    for size in range(18, 9, -2):
        font = _font(size)
        if draw.textlength(text, font=font) <= max_width:
            break
    return font


@functools.lru_cache(maxsize=8)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def fooling_fakes_image(inspection: Inspection, class_names: Sequence[str]) -> np.ndarray:
    """Fakes D accepted as real: captioned with the class it gave and their P(fake)."""
    labels = [f"{class_names[int(k)]} p={float(p):.2f}" for k, p in
              zip(inspection.fooling_fakes_class, inspection.fooling_fakes_p_fake)]
    return tile_grid(inspection.fooling_fakes, labels, [FAKE_COLOR] * len(labels),
                     columns=4)


def rejected_reals_image(inspection: Inspection, class_names: Sequence[str]) -> np.ndarray:
    """Real test images D called fake: captioned with their true class and P(fake)."""
    labels = [f"{class_names[int(k)]} p={float(p):.2f}" for k, p in
              zip(inspection.rejected_reals_label, inspection.rejected_reals_p_fake)]
    return tile_grid(inspection.rejected_reals, labels, [REJECT_COLOR] * len(labels),
                     columns=4)
