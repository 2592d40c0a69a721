"""Draw for the discriminator: the canvas -> dataset-image preprocessing (MNIST's own
recipe) and the panel through AppTest, the canvas's value injected as its browser
side would send it (a PNG data URL of the canvas)."""
from __future__ import annotations

import base64
import dataclasses
import io
import json

import numpy as np
import pytest

from dashboard.figures import drawing
from dashboard.panels import draw
from tests.test_app import fake_engine, new_page, server, the_run  # noqa: F401 (fixtures)


def canvas_with(rows: slice, columns: slice, side: int = 280) -> np.ndarray:
    """An RGBA canvas as the component returns it: white strokes on opaque black."""
    canvas = np.zeros((side, side, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    canvas[rows, columns, :3] = 255
    return canvas


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    weights = image[..., 0].astype(float)
    rows, columns = np.indices(weights.shape)
    return (rows * weights).sum() / weights.sum(), (columns * weights).sum() / weights.sum()


def test_a_stroke_is_scaled_into_the_20_pixel_box_and_centred_by_mass():
    # an L-shape in the top-left corner: off-centre, and its mass is lopsided
    canvas = canvas_with(slice(10, 150), slice(10, 30))
    canvas[130:150, 10:80, :3] = 255
    image = drawing.to_dataset_image(canvas, 28, 28, 1)
    assert image.shape == (28, 28, 1) and image.dtype == np.uint8
    rows, columns = np.nonzero(image[..., 0] >= drawing.INK_LEVEL)
    assert max(rows.max() - rows.min(), columns.max() - columns.min()) + 1 in (20, 21)
    row, column = centre_of_mass(image)
    assert abs(row - 13.5) <= 0.75 and abs(column - 13.5) <= 0.75
    assert image.max() >= 250 and image[0, 0, 0] == 0  # light strokes on black


def test_the_same_digit_anywhere_and_at_any_size_gives_the_same_image():
    small = drawing.to_dataset_image(canvas_with(slice(20, 60), slice(200, 210)), 28, 28, 1)
    large = drawing.to_dataset_image(canvas_with(slice(40, 240), slice(100, 150)), 28, 28, 1)
    assert np.abs(small.astype(int) - large.astype(int)).max() <= 64
    assert centre_of_mass(small) == pytest.approx(centre_of_mass(large), abs=0.75)


def test_an_empty_or_faint_canvas_is_nothing_drawn():
    blank = canvas_with(slice(0, 0), slice(0, 0))
    assert drawing.to_dataset_image(blank, 28, 28, 1) is None
    faint = blank.copy()
    faint[100:200, 100:120, :3] = drawing.INK_LEVEL - 1
    assert drawing.to_dataset_image(faint, 28, 28, 1) is None
    see_through = canvas_with(slice(100, 200), slice(100, 120))
    see_through[..., 3] = 0  # transparent pixels are ground, whatever their colour
    assert drawing.to_dataset_image(see_through, 28, 28, 1) is None


def test_colour_datasets_get_grey_in_every_channel_at_their_size():
    image = drawing.to_dataset_image(canvas_with(slice(50, 230), slice(120, 160)), 32, 32, 3)
    assert image.shape == (32, 32, 3)
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
    assert "23x23 box" in drawing.describe(32, 32) and "in 32x32" in drawing.describe(32, 32)


# ----- the panel -----

def data_url(canvas: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def draw_on(at, canvas_url: str) -> None:
    """What the component's browser side sends after a stroke: the drawing's Fabric.js
    JSON and, with return_image_data, the canvas as a PNG data URL."""
    at.session_state[draw.CANVAS_KEY] = {
        "drawing": {"raw": {"objects": [{"type": "path"}]}, "data": canvas_url}}
    at.run()


def texts(at) -> str:
    return " ".join(e.value for kind in ("markdown", "info", "warning", "caption")
                    for e in getattr(at, kind))


@pytest.fixture
def started(fake_engine, monkeypatch):
    """A page with a started (fake) run; what D is asked about is recorded."""
    asked = []
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    original = run.classify
    monkeypatch.setattr(run, "classify", lambda images: asked.append(images) or original(images))
    return at, run, asked


def test_a_drawing_gets_the_live_verdict_on_the_dataset_image(started):
    at, _, asked = started
    assert at.get("bidi_component") and "Draw a digit" in texts(at)
    draw_on(at, data_url(canvas_with(slice(40, 240), slice(120, 150))))
    assert not at.exception, at.exception
    assert "D's verdict: 7** (75%); P(fake) = 25%" in texts(at)  # the fake run's answer
    bars = [chart for chart in at.get("plotly_chart") if "draw_chart" in chart.proto.id]
    assert len(bars) == 1 and '"fake"' in bars[0].proto.spec
    assert len(asked) == 1 and asked[0].shape == (28, 28, 1) and asked[0].dtype == np.uint8
    assert "centred by their centre of mass in 28x28" in texts(at)


def test_an_empty_canvas_asks_for_a_drawing_and_a_garbled_one_is_explained(started):
    at, _, asked = started
    draw_on(at, data_url(canvas_with(slice(0, 0), slice(0, 0))))
    assert not at.exception and "Draw a digit" in texts(at) and not asked
    draw_on(at, "data:image/png;base64,bm90IGEgcG5n")  # "not a png"
    assert not at.exception and "could not be read" in texts(at) and not asked


def test_before_the_first_evaluation_the_canvas_waits_for_the_model(started):
    at, run, asked = started
    run._snapshot = dataclasses.replace(run._snapshot, samples=None)
    draw_on(at, data_url(canvas_with(slice(40, 240), slice(120, 150))))
    assert not at.exception and "not ready yet" in texts(at) and not asked


def test_the_presenter_view_gets_a_larger_canvas_and_pen(started):
    at, _, _ = started

    def canvas() -> dict:
        (component,) = at.get("bidi_component")
        return json.loads(component.proto.json)

    assert (canvas()["canvasWidth"], canvas()["strokeWidth"]) == (224, 20)
    at.query_params["present"] = "1"
    at.run()
    assert (canvas()["canvasWidth"], canvas()["strokeWidth"]) == (280, 25)

