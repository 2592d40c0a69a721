"""Draw for the discriminator: a student draws a digit and the live D gives its N+1
verdict (a bar per class, and "fake") at every lift of the pen.

The canvas is streamlit-drawable-canvas (Fabric.js; its toolbar has undo, redo and
clear). It sits in a fragment, so a stroke reruns this panel only, not the page.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import streamlit as st

from dashboard.figures import drawing, charts as figures
from dashboard import state
from dashboard.panels import explain, plot
from dashboard.panels.upload import UploadError, classify_pixels, image_shape
from sgan_core.snapshot import Snapshot

CANVAS_SIDE = 224  # 8 canvas pixels per MNIST pixel; fits half a 1366-px page
CANVAS_SIDE_PRESENTING = 280  # the presenter view has no sidebar: room for a larger one
# A digit drawn across most of the canvas shrinks about 9x into its 20-pixel box: a pen
# of 1/11 of the side ends up near MNIST's 2-3 pixel strokes.
PEN_SHARE = 1 / 11
CANVAS_KEY = "w_draw"
EMPTY = ("Draw a digit on the black square with the mouse (or a finger); D answers when "
         "you lift the pen.")
EXPLANATION = """
Draw a digit with the mouse: every time you lift the pen, the **live discriminator**
(the one playing against the generator right now) says which class it sees and how
likely it thinks your drawing is **fake**. The toolbar above the canvas undoes, redoes
and clears (the bin).

Try a sloppy digit, a very thin one, or a scribble: does D call it fake? Early in
training D accepts almost anything; later it gets picky.
"""


def render(run: Any) -> None:
    """Outside the live fragments: the canvas must not be redrawn under the pen."""
    st.subheader("Draw for the discriminator")
    _panel(run)
    explain(EXPLANATION)


@st.fragment
def _panel(run: Any) -> None:
    """Its own fragment: a stroke reruns this panel, and it reads the newest snapshot."""
    from streamlit_drawable_canvas import st_canvas

    snapshot = run.snapshot()
    shape = image_shape(snapshot)
    st.space("medium")  # room for the canvas's toolbar, which floats above it
    side = CANVAS_SIDE_PRESENTING if state.presenting() else CANVAS_SIDE
    left, right = st.columns([3, 2])
    with left:
        result = st_canvas(stroke_width=round(side * PEN_SHARE), stroke_color="#ffffff",
                           background_color="#000000", width=side, height=side,
                           drawing_mode="freedraw", return_image_data=True, key=CANVAS_KEY)
    if shape is not None:
        st.caption(drawing.describe(*shape[:2]))
    if shape is None:
        right.info("The model is not ready yet: the verdict appears after the first "
                   "evaluation (a few seconds after Start).")
        return
    canvas = _canvas_pixels(result)
    if canvas is None:
        right.warning("The drawing could not be read: clear the canvas (the bin) and "
                      "draw again.")
        return
    pixels = drawing.to_dataset_image(canvas, *shape)
    if pixels is None:
        right.info(EMPTY)
        return
    _verdict(run, snapshot, pixels, right)


def _verdict(run: Any, snapshot: Snapshot, pixels: np.ndarray, beside: Any) -> None:
    """The image D sees and its verdict beside the canvas, the N+1 bars below."""
    try:
        probabilities = classify_pixels(run, pixels)
    except UploadError as error:
        beside.warning(str(error))
        return
    names = list(snapshot.class_names) + ["fake"]
    best = int(np.argmax(probabilities))
    beside.container(key="draw_seen").image(pixels, width=112, clamp=True,
                                            caption="what D sees")
    beside.markdown(f"**D's verdict: {names[best]}** ({probabilities[best]:.0%}); "
                    f"P(fake) = {probabilities[-1]:.0%}")
    plot(figures.probability_bars(probabilities, snapshot.class_names), key="draw_chart")


def _canvas_pixels(result: Any) -> Optional[np.ndarray]:
    """The canvas as an RGBA array (blank before its first stroke); None when what the
    browser sent cannot be decoded."""
    try:
        pixels = result.image_data
    except Exception:  # a malformed picture from the browser: PIL and base64 raise many types
        return None
    if pixels is None:
        return np.zeros((CANVAS_SIDE, CANVAS_SIDE, 4), dtype=np.uint8)
    return np.asarray(pixels)
