"""dashboard.figures.images and the upload panel's decoding: the pictures show what the page's
words say (colours named in the notes, only real mistakes listed, photos accepted)."""
from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest

from dashboard.figures import charts as figures, images
from dashboard.panels import samples as samples_panel
from dashboard.panels.upload import MAX_UPLOAD_BYTES, UploadError, prepare_upload
from tests import fakes


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_verdicts_are_a_green_class_or_an_orange_fake():
    samples = fakes.make_samples(count=12)
    labels, colours = images.verdict_tiles(samples, fakes.CLASS_NAMES)
    assert labels[0] == "0" and colours[0] == figures.ACCEPT_COLOR
    assert labels[10] == "fake" and colours[10] == figures.REJECT_COLOR


def test_the_samples_note_names_the_colours_that_are_drawn():
    image = images.samples_image(fakes.make_samples(count=11), fakes.CLASS_NAMES)
    tile_w = 28 * 3 + 2 * 4 + 6
    tile_h = 28 * 3 + 2 * 4 + 34 + 6
    assert image[0, 0].tolist() == list(_hex(figures.ACCEPT_COLOR))  # tile 0: accepted
    assert image[tile_h, 2 * tile_w].tolist() == list(_hex(figures.REJECT_COLOR))  # fake
    red, green, blue = _hex(figures.REJECT_COLOR)
    assert red > 200 and 60 <= green <= 160 and blue < 60  # an orange, as the note says
    note = samples_panel.EXPLANATION
    assert f"**{figures.REJECT_COLOR_NAME}**" in note and "orange" in note
    assert "red" not in note.lower().replace("rejected", "")
    assert "Early on almost everything" not in note  # the claim the screen contradicted


def test_only_real_mistakes_are_listed_as_mistakes():
    inspection = dataclasses.replace(
        fakes.make_inspection(k=4), rejected_reals_p_fake=np.array([0.9, 0.5, 0.2, 0.09]),
        fooling_fakes_p_fake=np.array([0.1, 0.3, 0.5, 0.8]))
    _, p_real, labels = images.rejected_reals(inspection)
    assert p_real.tolist() == [0.9, 0.5] and labels.tolist() == [0, 1]
    _, p_fake, _ = images.fooling_fakes(inspection)
    assert p_fake.tolist() == [0.1, 0.3]
    grid = images.cases_image(images.rejected_reals(inspection), fakes.CLASS_NAMES,
                              figures.REJECT_COLOR)
    assert grid.ndim == 3 and grid.shape[1] > 2 * 28 * 3


def _encoded(array: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_upload_is_converted_to_the_dataset_format_and_inverted():
    white_page_black_ink = np.full((90, 60, 3), 255, np.uint8)
    white_page_black_ink[30:60, 25:35] = 0
    pixels, inverted = prepare_upload(_encoded(white_page_black_ink), 28, 28, 1)
    assert pixels.shape == (28, 28, 1) and pixels.dtype == np.uint8 and inverted
    assert pixels[0, 0, 0] == 0 and pixels[14, 14, 0] > 200  # light strokes on dark now
    colour, inverted = prepare_upload(_encoded(white_page_black_ink, "JPEG"), 32, 32, 3)
    assert colour.shape == (32, 32, 3) and not inverted


def test_a_phone_photo_over_the_old_2_mb_limit_is_accepted():
    rng = np.random.default_rng(0)
    photo = rng.integers(150, 256, (1500, 2000, 3), dtype=np.uint8)  # noisy paper
    photo[500:1000, 900:1100] = 20  # the ink
    data = _encoded(photo, "JPEG", quality=95)
    assert len(data) > 2 * 2**20
    pixels, inverted = prepare_upload(data, 28, 28, 1)
    assert pixels.shape == (28, 28, 1) and inverted


@pytest.mark.parametrize("side, message", [
    # under twice PIL's own limit: our check reads the header and refuses
    ((12_000, 12_000), "This picture is 12,000 x 12,000 pixels (144 million); at most 50 "
                       "million pixels are read: shrink it and upload again."),
    # over it: Image.open refuses before telling the size, which is read from the header
    ((20_000, 20_000), "This picture is 20,000 x 20,000 pixels (400 million); at most 50 "
                       "million pixels are read: shrink it and upload again."),
    ((7_072, 7_071), "This picture is 7,072 x 7,071 pixels (50,006,112); at most 50 "
                     "million"),  # rounded, it would read as the limit itself
])
def test_a_huge_picture_is_refused_in_words_before_it_is_decoded(monkeypatch, side, message):
    import warnings

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", side).save(buffer, format="PNG")
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even PIL's DecompressionBombWarning
        with pytest.raises(UploadError) as refused:
            prepare_upload(buffer.getvalue(), 28, 28, 1)
    assert str(refused.value).startswith(message)


def test_a_huge_picture_of_another_format_is_refused_with_the_bound_known():
    """A GIF sent as .png: only PIL's refusal is known, so its limit is what is said."""
    import struct

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (2, 2)).save(buffer, format="GIF")
    data = bytearray(buffer.getvalue())
    descriptor = 13 + 3 * 2 ** ((data[10] & 7) + 1)  # after the global colour table
    assert data[descriptor] == 0x2C
    data[6:10] = data[descriptor + 5:descriptor + 9] = struct.pack("<HH", 20_000, 20_000)
    with pytest.raises(UploadError, match="^This picture has more than 178 million pixels; "
                                          "at most 50 million pixels are read: shrink it"):
        prepare_upload(bytes(data), 28, 28, 1)


@pytest.mark.parametrize("data", [b"not an image at all",
                                  _encoded(np.zeros((8, 8), np.uint8))[:40],
                                  b"\0" * (MAX_UPLOAD_BYTES + 1)])
def test_bad_uploads_raise_a_message(data):
    with pytest.raises(UploadError) as info:
        prepare_upload(data, 28, 28, 1)
    assert "upload" in str(info.value).lower()


def _shown(colour: str, opacity: float) -> np.ndarray:
    """The colour a trace drawn at `opacity` shows on the page's white."""
    return np.array(_hex(colour)) * opacity + 255 * (1 - opacity)


def test_the_inspector_note_names_the_colours_its_histogram_shows():
    """Its note said the generated images were black; drawn at 0.6 opacity they are a
    mid grey (and the tile captions' p was not explained for real images)."""
    from dashboard.panels import inspector

    real, generated = figures.p_fake_histogram(fakes.make_inspection(k=3)).data
    grey = _shown(generated.marker.color, generated.opacity)
    assert np.ptp(grey) < 10 and 60 < grey.mean() < 200  # neither black nor white
    blue = _shown(real.marker.color, real.opacity)
    assert blue[2] > blue[0] + 40
    note = inspector.EXPLANATION
    assert "**generated images** (grey" in note and "black" not in note
    assert "**real test images** (blue" in note
    assert "p, its P(fake)" in note


def test_a_lone_hard_case_keeps_the_tile_size_of_a_full_row():
    """The page stretches the picture to its column: a picture one tile wide made one
    inspector case a 500-px tile at 1024x768."""
    inspection = fakes.make_inspection(k=4)
    four = images.cases_image(images.rejected_reals(inspection), fakes.CLASS_NAMES,
                              figures.REJECT_COLOR)
    one = images.cases_image(tuple(part[:1] for part in images.rejected_reals(inspection)),
                             fakes.CLASS_NAMES, figures.REJECT_COLOR)
    assert one.shape == four.shape
    assert (one[:, one.shape[1] // 2:] == 255).all()  # the rest of the row is blank
