"""dashboard.figures.charts on hand-built snapshots: the figures show what they claim to."""
from __future__ import annotations

import io
import types

import numpy as np
import pytest

from dashboard.figures import charts as figures
from tests import cvd, fakes


def test_ema_matches_hand_computed_series():
    smoothed = figures.ema([1.0, 2.0, 4.0], 0.5)
    # s = 0.5, 1.25, 2.625 from 0; divided by 1 - 0.5^n = 0.5, 0.75, 0.875
    np.testing.assert_allclose(smoothed, [1.0, 5 / 3, 3.0])


def test_heavy_smoothing_is_not_dragged_by_the_first_large_loss():
    # D's loss starts near 3 and is about 0.1 from the 4th evaluation on; a curve that
    # starts its average from that first loss still shows ~1.0 at step 700 at 0.95
    losses = [3.0, 1.0, 0.3] + [0.1] * 60
    smoothed = figures.ema(losses, 0.95)
    assert smoothed[-1] < 0.15
    assert smoothed[0] == pytest.approx(3.0)  # the first point is the first value


def test_ema_weight_zero_is_identity_and_nans_are_skipped():
    np.testing.assert_allclose(figures.ema([3.0, 1.0, 2.0], 0.0), [3.0, 1.0, 2.0])
    smoothed = figures.ema([2.0, np.nan, 4.0], 0.5)
    assert np.isnan(smoothed[1])
    assert smoothed[2] == pytest.approx(10 / 3)  # the NaN neither resets nor pulls it
    with pytest.raises(ValueError):
        figures.ema([1.0], 1.0)


def test_confusion_heatmap_shows_the_matrix_with_a_fake_row_and_column():
    confusion = fakes.make_confusion()
    fig = figures.confusion_figure(confusion, fakes.CLASS_NAMES)
    heatmap = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heatmap.text), confusion)
    assert list(heatmap.x)[-1] == "fake" and list(heatmap.y)[-1] == "fake"
    assert list(heatmap.x)[:10] == list(fakes.CLASS_NAMES)
    assert heatmap.texttemplate == "%{text}"  # counts written in the cells


def test_confusion_colours_are_shares_of_the_row_so_the_fake_row_does_not_dominate():
    confusion = fakes.make_confusion()
    confusion[-1] *= 10  # 500-odd fakes against ~60 images a class
    heatmap = figures.confusion_figure(confusion, fakes.CLASS_NAMES).data[0]
    rates = np.asarray(heatmap.z)
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    assert rates[-1, 3] == pytest.approx(7 * 10 / confusion[-1].sum())
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)  # one scale for every row
    assert rates[0, 0] > 0.6 and rates[-1, -1] > 0.6  # both diagonals equally dark


def test_row_rates_leave_empty_rows_at_zero():
    rates = figures.row_rates(np.array([[0, 0], [1, 3]]))
    np.testing.assert_allclose(rates, [[0, 0], [0.25, 0.75]])


def test_curves_have_every_loss_and_both_accuracies_smoothed():
    history = fakes.make_history(rows=30)
    fig = figures.curves_figure(history, smoothing=0.9)
    names = [trace.name for trace in fig.data]
    for _, name, _, _ in figures.LOSS_CURVES + figures.ACCURACY_CURVES:
        assert name in names
    supervised = next(t for t in fig.data if t.name.startswith("supervised"))
    np.testing.assert_allclose(supervised.y, figures.ema(history["supervised_loss"], 0.9))
    sgan = next(t for t in fig.data if t.name == "SGAN")
    assert max(sgan.y) == pytest.approx(80.0)  # accuracy drawn in percent, not smoothed
    generator = next(t for t in fig.data if t.name == "generator")
    # G's loss has its own panel: feature matching runs at 10x the scale of D's losses
    assert (supervised.xaxis, generator.xaxis, sgan.xaxis) == ("x", "x2", "x3")


def test_curves_are_thinned_and_skip_unmeasured_points():
    rows = figures.MAX_CURVE_POINTS * 3
    history = {"step": np.arange(rows, dtype=float),
               "test_accuracy": np.where(np.arange(rows) % 2, np.nan, 0.5)}
    fig = figures.curves_figure(history)
    (accuracy,) = fig.data
    assert len(accuracy.x) <= figures.MAX_CURVE_POINTS
    assert np.all(np.isfinite(accuracy.y))


def _projection():
    features = fakes.make_features(step=5)
    return types.SimpleNamespace(coords_real=features.real[:, :2],
                                 coords_fake=features.fake[:, :2],
                                 real_labels=features.real_labels, method="pca", step=5)


def test_embedding_fakes_have_their_own_glyph_and_colour():
    fig = figures.embedding_figure(_projection(), fakes.CLASS_NAMES)
    classes, fake = fig.data[:-1], fig.data[-1]
    assert fake.name == "fake" and fake.marker.symbol == figures.FAKE_SYMBOL
    assert len(fake.x) == 12
    assert all(t.type == "scattergl" for t in fig.data)
    class_colours = {t.marker.color for t in classes}
    assert len(class_colours) == 10 and fake.marker.color not in class_colours
    assert all(t.marker.symbol in (None, "circle") for t in classes)
    assert sum(len(t.x) for t in classes) == 60


def test_class_palette_has_no_black_or_grey():
    for colour in figures.CLASS_COLORS:
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert max(r, g, b) - min(r, g, b) > 60, colour  # saturated, not grey/black


@pytest.mark.parametrize("vision", [None, "protan", "deutan", "tritan"])
def test_every_class_the_fake_class_and_the_page_differ_for_colour_blind_viewers(vision):
    colours = list(figures.CLASS_COLORS) + [figures.FAKE_COLOR, "#FFFFFF"]
    worst, pair = cvd.closest_pair(colours, vision)
    assert worst >= 20.0, f"{pair} differ by only {worst:.1f} (CIELAB) for {vision}"


def test_inspector_p_fake_axis_titles_are_short_and_get_room():
    fig = figures.p_fake_histogram(fakes.make_inspection(k=3))
    assert fig.layout.xaxis.title.text == "P(fake)" and fig.layout.xaxis.automargin


def test_inspector_figures():
    inspection = fakes.make_inspection(k=3)
    hist = figures.p_fake_histogram(inspection)
    assert [t.name for t in hist.data] == ["real test images", "generated images"]
    assert hist.layout.barmode == "overlay"
    bars = figures.probability_bars([0.1] * 10 + [0.0], fakes.CLASS_NAMES)
    assert list(bars.data[0].x)[-1] == "fake"
    assert bars.data[0].marker.color[-1] == figures.FAKE_COLOR


def test_every_confusion_cell_has_a_click_target_at_its_centre():
    confusion = fakes.make_confusion()
    targets = figures.confusion_figure(confusion, fakes.CLASS_NAMES).data[1]
    assert targets.type == "scatter" and len(targets.x) == confusion.size
    index = 4 * confusion.shape[1] + 9  # truth 4, verdict 9
    assert (targets.y[index], targets.x[index]) == ("4", "9")
    assert list(targets.customdata[index][:2]) == [4, 9]


def _every_figure() -> dict:
    history = fakes.make_history(rows=30)
    return {
        "curves": figures.curves_figure(history, 0.6),
        "curves marked": figures.curves_figure(history, 0.6, mark_step=150),
        "curves empty": figures.curves_figure({}),
        "accuracy": figures.accuracy_figure(history, mark_step=150),
        "confusion": figures.confusion_figure(fakes.make_confusion(), fakes.CLASS_NAMES),
        "embedding": figures.embedding_figure(_projection(), fakes.CLASS_NAMES),
        "histogram": figures.p_fake_histogram(fakes.make_inspection(k=3)),
        "bars": figures.probability_bars([0.1] * 10 + [0.0], fakes.CLASS_NAMES),
    }


@pytest.mark.parametrize("name", list(_every_figure()))
def test_figures_built_without_plotly_checks_pass_them_unchanged(name):
    # figures skip plotly's per-property checks for speed (figures.py); a misspelt or
    # invalid property would raise here, and a value plotly would rewrite would differ
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    figure = _every_figure()[name]
    checked = go.Figure(figure.to_dict())  # validates every property
    sent = json.loads(pio.to_json(figure.to_dict(), validate=False))
    assert json.loads(pio.to_json(checked.to_dict(), validate=False)) == sent
    assert sent["layout"]["template"]["layout"]  # the look travels with the figure


def _lines_above_the_plot(figure) -> int:
    """Lines of words plotly draws between the top margin's bottom and the plot: a
    legend on top (one line: a longer one, which would wrap, fails here), subplot
    titles, top ticks and their axis title."""
    layout = figure.layout
    shown = len(figure.data) > 1 if layout.showlegend is None else layout.showlegend
    legend_on_top = shown and (layout.legend.y or 0) > 1
    assert not legend_on_top or len(figure.data) <= 4, "a long legend on top wraps"
    titles = any((note.y or 0) >= 1 for note in layout.annotations)
    return int(legend_on_top) + int(titles) + 2 * (layout.xaxis.side == "top")


@pytest.mark.parametrize("name", list(_every_figure()))
def test_every_figure_keeps_its_words_out_of_the_mode_bar_strip(name):
    """Plotly's mode bar lies over a chart's top 29 px (33 in the presenter view): the
    top margin holds that strip and, below it, the words over the plot
    (tests/e2e/test_readable_charts.py measures it in Chromium)."""
    figure = _every_figure()[name]
    need = figures.MODEBAR_PX + figures.LINE_PX * _lines_above_the_plot(figure)
    assert figures.MODEBAR_PX >= 33 and figure.layout.margin.t >= need


def test_editing_one_figure_leaves_the_next_alone():
    # layouts are built once and kept: the presenter view and the compare page edit
    # their figures afterwards
    first = figures.confusion_figure(fakes.make_confusion(), fakes.CLASS_NAMES)
    first.update_layout(height=100, font=dict(size=5))
    first.layout.xaxis.title.text = "changed"
    first.layout.template.layout.font.color = "red"
    second = figures.confusion_figure(fakes.make_confusion(), fakes.CLASS_NAMES)
    assert second.layout.height == 460 and second.layout.font.size == figures.FONT_SIZE
    assert second.layout.xaxis.title.text == "discriminator says"
    assert second.layout.template.layout.font.color != "red"


def test_the_timeline_step_is_a_dotted_line_on_every_curve_panel():
    history = fakes.make_history(rows=30)
    lines = figures.curves_figure(history, mark_step=150).layout.shapes
    assert not figures.curves_figure(history).layout.shapes  # the line stays on its figure
    assert [(line.xref, line.yref) for line in lines] == [
        ("x", "y domain"), ("x2", "y2 domain"), ("x3", "y3 domain")]
    assert all(line.x0 == line.x1 == 150 and line.line.dash == "dot" for line in lines)
