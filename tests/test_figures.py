"""dashboard.figures on hand-built snapshots: the figures show what they claim to."""
from __future__ import annotations

import io
import types

import numpy as np
import pytest

from dashboard import figures
from dashboard.panels.inspector import MAX_UPLOAD_BYTES, UploadError, prepare_upload
from tests import fakes


def test_ema_matches_hand_computed_series():
    smoothed = figures.ema([1.0, 2.0, 4.0], 0.5)
    # s0 = 1; s1 = 0.5*1 + 0.5*2 = 1.5; s2 = 0.5*1.5 + 0.5*4 = 2.75
    np.testing.assert_allclose(smoothed, [1.0, 1.5, 2.75])


def test_ema_weight_zero_is_identity_and_nans_are_skipped():
    np.testing.assert_allclose(figures.ema([3.0, 1.0, 2.0], 0.0), [3.0, 1.0, 2.0])
    smoothed = figures.ema([2.0, np.nan, 4.0], 0.5)
    assert np.isnan(smoothed[1])
    assert smoothed[2] == pytest.approx(3.0)  # the NaN neither resets nor pulls the average
    with pytest.raises(ValueError):
        figures.ema([1.0], 1.0)


def test_confusion_heatmap_shows_the_matrix_with_a_fake_row_and_column():
    confusion = fakes.make_confusion()
    fig = figures.confusion_figure(confusion, fakes.CLASS_NAMES)
    heatmap = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heatmap.z), confusion)
    assert list(heatmap.x)[-1] == "fake" and list(heatmap.y)[-1] == "fake"
    assert list(heatmap.x)[:10] == list(fakes.CLASS_NAMES)
    assert heatmap.texttemplate == "%{z}"  # counts written in the cells
    rates = np.asarray(heatmap.customdata)
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    assert rates[-1, 3] == pytest.approx(7 / confusion[-1].sum())


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


def test_verdicts_are_green_with_class_and_confidence_or_red_fake():
    samples = fakes.make_samples(count=12)
    labels, colours = figures.verdict_tiles(samples, fakes.CLASS_NAMES)
    assert labels[0] == "0 0.50" and colours[0] == figures.ACCEPT_COLOR
    assert labels[10] == "fake" and colours[10] == figures.REJECT_COLOR
    assert figures.ACCEPT_COLOR != figures.REJECT_COLOR


def test_samples_image_frames_each_tile_in_its_verdict_colour():
    samples = fakes.make_samples(count=11)
    image = figures.samples_image(samples, fakes.CLASS_NAMES)
    assert image.dtype == np.uint8 and image.shape[2] == 3
    assert tuple(image[0, 0]) == (0x00, 0x9E, 0x73)  # tile 0 accepted: green frame
    tile_w = 28 * 3 + 2 * 4 + 6
    assert tuple(image[0, 2 * tile_w]) == (0x00, 0x9E, 0x73)
    rows_top = (28 * 3 + 2 * 4 + 26 + 6)
    assert tuple(image[rows_top, 2 * tile_w]) == (0xD5, 0x5E, 0x00)  # tile 10: fake, red


def test_inspector_figures():
    inspection = fakes.make_inspection(k=3)
    hist = figures.p_fake_histogram(inspection)
    assert [t.name for t in hist.data] == ["real test images", "generated images"]
    assert hist.layout.barmode == "overlay"
    grid = figures.fooling_fakes_image(inspection, fakes.CLASS_NAMES)
    assert grid.ndim == 3 and grid.shape[1] > 3 * 28 * 3
    bars = figures.probability_bars([0.1] * 10 + [0.0], fakes.CLASS_NAMES)
    assert list(bars.data[0].x)[-1] == "fake"
    assert bars.data[0].marker.color[-1] == figures.FAKE_COLOR


def _png(array: np.ndarray, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def test_upload_is_converted_to_the_dataset_format_and_inverted():
    white_page_black_ink = np.full((90, 60, 3), 255, np.uint8)
    white_page_black_ink[30:60, 25:35] = 0
    pixels, inverted = prepare_upload(_png(white_page_black_ink), 28, 28, 1)
    assert pixels.shape == (28, 28, 1) and pixels.dtype == np.uint8 and inverted
    assert pixels[0, 0, 0] == 0 and pixels[14, 14, 0] > 200  # light strokes on dark now
    colour, inverted = prepare_upload(_png(white_page_black_ink, "JPEG"), 32, 32, 3)
    assert colour.shape == (32, 32, 3) and not inverted


@pytest.mark.parametrize("data", [b"not an image at all", _png(np.zeros((8, 8), np.uint8))[:40],
                                  b"\0" * (MAX_UPLOAD_BYTES + 1)])
def test_bad_uploads_raise_a_message(data):
    with pytest.raises(UploadError) as info:
        prepare_upload(data, 28, 28, 1)
    assert "upload" in str(info.value).lower()
