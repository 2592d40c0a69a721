"""Fake-rejection inspector: P(fake) distributions, the hardest cases, and an uploaded
image classified over the N+1 classes."""
from __future__ import annotations

import io
from typing import Any, Optional

import numpy as np
import streamlit as st

from dashboard import figures, state
from dashboard.panels import explain, plot, png, waiting
from sgan_core.snapshot import Snapshot

MAX_UPLOAD_MB = 2
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
EXPLANATION = """
For every image the discriminator gives a probability that it is **fake**.
The histogram compares that probability on **real test images** (blue: should pile up
near 0) and on **generated images** (black: should pile up near 1). Where the two
overlap, the discriminator is unsure. Below are the fakes that **fooled** it most (with
the class it believed and their P(fake)) and the real images it **rejected** as fake
(with their true class).
"""
UPLOAD_EXPLANATION = """
Upload a picture (PNG or JPEG, up to 2 MB). It is turned into the dataset's format
(e.g. 28x28 grey for MNIST, light strokes on a dark background) and the discriminator
gives probabilities for each class **and for "fake"**. A hand-drawn digit photographed
with a phone is a good test: does it look real to the discriminator?
"""


class UploadError(ValueError):
    """The uploaded file cannot be used; the message says what to do."""


def prepare_upload(data: bytes, height: int, width: int, channels: int) -> tuple[np.ndarray, bool]:
    """Bytes of a PNG/JPEG -> ((H, W, C) uint8 like the dataset, whether it was inverted).

    Grey datasets (the MNIST family) are light strokes on dark: a light-background upload
    is inverted so that a photo of ink on paper looks like what D was trained on.
    """
    from PIL import Image, ImageOps

    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is {len(data) / 2**20:.1f} MB; the limit is "
                          f"{MAX_UPLOAD_MB} MB. Crop or shrink it and upload again.")
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()  # decode now: a truncated file fails here, not later
    except Exception as error:  # PIL raises many types for bad input, bombs included
        raise UploadError("This file is not a readable PNG or JPEG image "
                          f"({type(error).__name__}). Upload a .png or .jpg picture.") from error
    picture = picture.convert("L" if channels == 1 else "RGB")
    background = picture.getpixel((0, 0))  # pad with the picture's own background
    picture = ImageOps.pad(picture, (width, height), Image.LANCZOS, color=background)
    pixels = np.asarray(picture, dtype=np.uint8).reshape(height, width, channels)
    inverted = channels == 1 and float(pixels.mean()) > 127.0
    return (255 - pixels if inverted else pixels), inverted


def render(snapshot: Snapshot) -> None:
    st.subheader("Fake-rejection inspector")
    inspection = snapshot.inspection
    if inspection is None:
        waiting("The inspector")
        explain(EXPLANATION)
        return
    figure = state.cached("p_fake", snapshot.evaluation_version,
                          lambda: figures.p_fake_histogram(inspection))
    plot(figure, key="p_fake_chart")
    left, right = st.columns(2)
    with left:
        _grid("Fakes that fooled D", "fooling", snapshot, figures.fooling_fakes_image,
              len(inspection.fooling_fakes))
    with right:
        _grid("Real images D called fake", "rejected", snapshot,
              figures.rejected_reals_image, len(inspection.rejected_reals))
    explain(EXPLANATION)


def _grid(title: str, name: str, snapshot: Snapshot, build: Any, count: int) -> None:
    st.markdown(f"**{title}**")
    if count == 0:
        st.caption("None right now.")
        return
    image = state.cached(name, snapshot.evaluation_version,
                         lambda: png(build(snapshot.inspection, snapshot.class_names)))
    st.image(image, width="stretch", output_format="PNG")


def render_upload(run: Any, snapshot: Snapshot) -> None:
    """Outside the live fragment: classifying happens only when a file arrives."""
    st.subheader("Try your own image")
    upload = st.file_uploader("PNG or JPEG image", type=["png", "jpg", "jpeg"],
                              max_upload_size=MAX_UPLOAD_MB, key="w_upload")
    explain(UPLOAD_EXPLANATION)
    if upload is None:
        return
    if snapshot.samples is None or not snapshot.class_names:
        st.warning("The model is not ready yet: wait for the first samples, then upload.")
        return
    _, height, width, channels = snapshot.samples.images.shape
    try:
        pixels, inverted = prepare_upload(upload.getvalue(), height, width, channels)
        probabilities = _classify(run, pixels)
    except UploadError as error:
        st.error(str(error))
        return
    left, right = st.columns([1, 3])
    left.image(pixels, width=140, clamp=True,
               caption="what D sees" + (" (colours inverted)" if inverted else ""))
    with right:
        plot(figures.probability_bars(probabilities, snapshot.class_names), key="upload_chart")


def _classify(run: Any, pixels: np.ndarray) -> Optional[np.ndarray]:
    try:
        return np.asarray(run.classify(pixels))[0]  # (N+1,)
    except RuntimeError as error:  # models not built yet
        raise UploadError(str(error)) from error
