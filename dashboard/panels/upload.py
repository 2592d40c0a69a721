"""Try your own image: an uploaded picture classified over the N+1 classes.

A phone photo is the suggested test, so a photo must work: the file may be large (it is
shrunk right after decoding), the pixel count is checked from the header before any
pixel is decoded (a 12000x12000 PNG is refused in words, not decoded), and every
refusal is a sentence on the page, never a bare "!".
"""
from __future__ import annotations

import io
import warnings
from typing import Any, Optional

import numpy as np
import streamlit as st

from dashboard.figures import charts as figures
from dashboard.panels import explain, plot
from sgan_core.snapshot import Snapshot

# A phone photo is 3-12 MB. Streamlit's own limit (.streamlit/config.toml maxUploadSize)
# must be at least this, or its browser refuses bigger files with only a red "!".
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel phone camera; read from the header first
WORKING_SIDE = 1024  # decoded pictures are shrunk to this before anything else
EXPLANATION = f"""
Upload a picture (PNG or JPEG, up to {MAX_UPLOAD_MB} MB; big photos are shrunk). It is
turned into the dataset's format (e.g. 28x28 grey for MNIST, light strokes on a dark
background) and the discriminator gives probabilities for each class **and for
"fake"**. A hand-drawn digit photographed with a phone is a good test: does it look real
to the discriminator?
"""


class UploadError(ValueError):
    """The uploaded file cannot be used; the message says what to do."""


def prepare_upload(data: bytes, height: int, width: int, channels: int) -> tuple[np.ndarray, bool]:
    """Bytes of a PNG/JPEG -> ((H, W, C) uint8 like the dataset, whether it was inverted).

    Grey datasets (the MNIST family) are light strokes on dark: a light-background upload
    is inverted so that a photo of ink on paper looks like what D was trained on.
    """
    from PIL import Image, ImageOps

    picture = open_small(data)
    picture = picture.convert("L" if channels == 1 else "RGB")
    background = picture.getpixel((0, 0))  # pad with the picture's own background
    picture = ImageOps.pad(picture, (width, height), Image.LANCZOS, color=background)
    pixels = np.asarray(picture, dtype=np.uint8).reshape(height, width, channels)
    inverted = channels == 1 and float(pixels.mean()) > 127.0
    return (255 - pixels if inverted else pixels), inverted


def open_small(data: bytes) -> Any:
    """Decode at most MAX_PIXELS (checked before decoding), upright, at most
    WORKING_SIDE pixels a side."""
    from PIL import Image, ImageOps

    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is {len(data) / 2**20:.0f} MB; the limit is "
                          f"{MAX_UPLOAD_MB} MB. Shrink or crop it and upload again.")
    try:
        with warnings.catch_warnings():  # PIL's bomb warning: our own cap follows
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as error:  # over twice PIL's own limit
        raise _too_big(_header_size(data)) from error
    except Exception as error:  # PIL raises many types for bad input
        raise _unreadable(error) from error
    columns, rows = picture.size
    if columns * rows > MAX_PIXELS:
        raise _too_big((columns, rows))
    picture.draft(picture.mode, (WORKING_SIDE, WORKING_SIDE))  # JPEG: decode at 1/2-1/8 size
    try:
        picture.load()  # decode now: a truncated file fails here, not later
    except Exception as error:
        raise _unreadable(error) from error
    picture = ImageOps.exif_transpose(picture)  # phones store photos on their side
    picture.thumbnail((WORKING_SIDE, WORKING_SIDE))
    return picture


def _header_size(data: bytes) -> Optional[tuple[int, int]]:
    """(columns, rows) from a PNG or JPEG header (None: neither). PIL's Image.open
    refuses a huge picture before telling its size; its format readers do not check."""
    from PIL import JpegImagePlugin, PngImagePlugin

    for reader in (PngImagePlugin.PngImageFile, JpegImagePlugin.JpegImageFile):
        try:
            return reader(io.BytesIO(data)).size
        except Exception:  # not this format (each reader checks its signature)
            continue
    return None


def _too_big(size: Optional[tuple[int, int]]) -> UploadError:
    """The refusal of a picture over MAX_PIXELS, with its size when it is known."""
    from PIL import Image

    if size is None:  # only Image.open's refusal is known: over twice PIL's limit
        bound = 2 * (Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
        what = f"has more than {bound // 1_000_000} million pixels"
    else:
        columns, rows = size
        what = f"is {columns:,} x {rows:,} pixels ({_millions(columns * rows)})"
    return UploadError(f"This picture {what}; at most {_millions(MAX_PIXELS)} pixels are "
                       "read: shrink it and upload again.")


def _millions(pixels: int) -> str:
    """A pixel count for people: "400 million", "50.3 million", or every digit where
    rounding would make it look like the limit itself."""
    shown = f"{pixels / 1e6:.1f}".removesuffix(".0")
    if pixels != MAX_PIXELS and float(shown) * 1e6 == MAX_PIXELS:
        return f"{pixels:,}"
    return f"{shown} million"


def _unreadable(error: Exception) -> UploadError:
    return UploadError("This file is not a readable PNG or JPEG image "
                       f"({type(error).__name__}). Upload a .png or .jpg picture.")


def render(run: Any, snapshot: Snapshot) -> None:
    """Outside the live fragment: classifying happens only when a file arrives."""
    st.subheader("Try your own image")
    upload = st.file_uploader(f"PNG or JPEG image, up to {MAX_UPLOAD_MB} MB",
                              type=["png", "jpg", "jpeg"], max_upload_size=MAX_UPLOAD_MB,
                              key="w_upload")
    explain(EXPLANATION)
    if upload is None:
        return
    shape = image_shape(snapshot)
    if shape is None:
        st.warning("The model is not ready yet: wait for the first samples, then upload.")
        return
    try:
        pixels, inverted = prepare_upload(upload.getvalue(), *shape)
        probabilities = classify_pixels(run, pixels)
    except UploadError as error:
        st.error(str(error))
        return
    left, right = st.columns([1, 3])
    left.image(pixels, width=140, clamp=True,
               caption="what D sees" + (" (colours inverted)" if inverted else ""))
    with right:
        plot(figures.probability_bars(probabilities, snapshot.class_names), key="upload_chart")


def image_shape(snapshot: Snapshot) -> Optional[tuple[int, int, int]]:
    """(height, width, channels) of the dataset's images; None before the first samples."""
    if snapshot.samples is None or not snapshot.class_names:
        return None
    _, height, width, channels = snapshot.samples.images.shape
    return height, width, channels


def classify_pixels(run: Any, pixels: np.ndarray) -> Optional[np.ndarray]:
    """The live D's (N+1,) probabilities for one uint8 (H, W, C) image."""
    try:
        return np.asarray(run.classify(pixels))[0]  # (N+1,)
    except RuntimeError as error:  # models not built yet
        raise UploadError(str(error)) from error
