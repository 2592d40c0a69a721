"""One module per panel; each `render` takes a snapshot and draws it.

Helpers shared by the panels live here so every panel explains itself and draws its
charts the same way.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np
import streamlit as st

from dashboard.views.live.presenter import enlarged

# Plotly's mode bar is clutter on a projector, so it shows on hover only, in a strip at
# the top that every figure keeps free of words (figures.MODEBAR_PX); zoom and pan still
# work with the mouse, and its camera button saves the chart as a PNG (drawn in the
# browser, at twice the shown size for slides: no server-side image library).
PNG_SCALE = 2


def chart_config(name: str) -> dict:
    """Plotly's config for a chart whose PNG download is called sgan-<name>.png."""
    return {"displaylogo": False, "displayModeBar": "hover",
            "toImageButtonOptions": {"format": "png", "filename": f"sgan-{name}",
                                     "scale": PNG_SCALE}}


PLOTLY_CONFIG = chart_config("chart")


def explain(text: str) -> None:
    """The "What am I looking at?" box every panel has, written for a student."""
    with st.expander("What am I looking at?"):
        st.markdown(text)


def plot(figure: Any, key: str) -> None:
    st.plotly_chart(enlarged(figure), key=key, width="stretch",
                    config=chart_config(key.removesuffix("_chart")))


def png(image: np.ndarray) -> bytes:
    """Encode once per snapshot: st.image would re-encode an array on every refresh."""
    from PIL import Image

    buffer = io.BytesIO()
    # zlib level 1: half the time of the default 6 for 7% more bytes (the sample grid)
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def waiting(what: str) -> None:
    st.caption(f"{what}: shown after the first evaluation (a few seconds after Start).")
