"""Fake-rejection inspector: P(fake) distributions and the cases D got wrong."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from dashboard.figures import charts as figures, images
from dashboard import state
from dashboard.panels import explain, plot, png, waiting
from sgan_core.snapshot import Snapshot

EXPLANATION = """
For every image the discriminator gives a probability that it is **fake**.
The histogram compares that probability on **real test images** (blue: should pile up
near 0) and on **generated images** (grey: should pile up near 1). Where the two
overlap, the discriminator is unsure. Below are the fakes that **fooled** it most and
the real images it **rejected** as fake; under each, the class (the one D believed for
a fake, the true one for a real image) and p, its P(fake). Only real mistakes are
listed: a fake fooled D when its P(fake) is under 0.5; a real image was called fake when
its P(fake) is 0.5 or more.
"""


def render(snapshot: Snapshot) -> None:
    st.subheader("Fake-rejection inspector")
    st.caption("P(fake) from the live discriminator, the one the generator plays "
               "against (accuracy is measured on its weight average).")
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
        _cases("Fakes that fooled D", "fooling", snapshot, images.fooling_fakes,
               figures.FAKE_COLOR, "D caught every fake shown")
    with right:
        _cases("Real images D called fake", "rejected", snapshot, images.rejected_reals,
               figures.REJECT_COLOR, "D called no real image fake")
    explain(EXPLANATION)


def _cases(title: str, name: str, snapshot: Snapshot, pick: Callable[..., images.Cases],
           color: str, none_text: str) -> None:
    st.markdown(f"**{title}**")
    cases = pick(snapshot.inspection)
    if len(cases[0]) == 0:
        st.caption(f"None right now: {none_text}.")
        return
    image = state.cached(name, snapshot.evaluation_version,
                         lambda: png(images.cases_image(cases, snapshot.class_names, color)))
    st.image(image, width="stretch", output_format="PNG")
