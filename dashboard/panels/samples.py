"""The fixed-noise sample grid with the discriminator's verdict on each tile."""
from __future__ import annotations

import streamlit as st

from dashboard import figures, state
from dashboard.panels import explain, png, waiting
from sgan_core.snapshot import Snapshot

EXPLANATION = """
These images are made by the **generator** from the same random noise every time, so
watching them is like watching a film of the generator learning. Each tile shows the
**discriminator's verdict**: a green frame with **"7 0.93"** means it accepted the image
as a real 7 with probability 0.93; a red frame with **"fake"** means it caught the fake.
Early on almost everything is red; as the generator improves, more tiles turn green.
"""


def render(snapshot: Snapshot) -> None:
    st.subheader("Generated samples")
    if snapshot.samples is None:
        waiting("Samples")
    else:
        image = state.cached("samples", snapshot.evaluation_version,
                             lambda: png(figures.samples_image(snapshot.samples,
                                                               snapshot.class_names)))
        n_fake = int((snapshot.samples.verdicts >= snapshot.num_classes).sum())
        st.image(image, width="stretch", output_format="PNG",
                 caption=f"{n_fake} of {len(snapshot.samples.verdicts)} rejected as fake")
    explain(EXPLANATION)
