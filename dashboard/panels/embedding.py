"""2-D map of the discriminator's features: test images by class, fakes as crosses.

The panel draws the frame it is given (the app submits features to the server's
embedding service and passes its latest frame in); it starts no background work. The
caption is worded from the frame itself, so it always names the projection drawn, and
"Freeze view" freezes the frame, picture and caption together.
"""
from __future__ import annotations

from typing import Optional, Sequence

import streamlit as st

from dashboard.figures import charts as figures
from dashboard import state
from dashboard.panels import explain, plot, waiting
from sgan_core.features.embedding_service import MIN_UMAP_POINTS, MapFrame, UmapPhase
from sgan_core.features.projection import Method

EXPLANATION = """
The discriminator turns every image into a long list of numbers (its "features").
This map squeezes those lists down to 2-D so that images the discriminator sees as
similar land close together. **Coloured dots** are test images, one colour per class;
**black crosses** are fakes. As training goes on, the classes separate into islands,
which is why a few labels are enough to name each island. The map is **UMAP**, redrawn
every few seconds from the newest features; while UMAP warms up (about a minute after
the server starts) a simpler **PCA** map stands in. The caption under the map says which
one you are looking at.
Switch on **freeze view** to zoom in without the next update resetting your zoom.
"""
_WHY_PCA = {
    UmapPhase.WARMING: "PCA while UMAP warms up (about a minute after the server starts)",
    UmapPhase.READY: "PCA; the first UMAP map follows in a few seconds",
    UmapPhase.OFF: "PCA (UMAP is switched off on this server)",
}


def render(frame: Optional[MapFrame], class_names: Sequence[str]) -> None:
    st.subheader("Feature map")
    freeze = st.toggle("Freeze view", key="w_freeze_embedding",
                       help="Keep this picture, its caption and your zoom until you "
                            "switch it off.")
    frame = state.frozen("embedding", frame, freeze)
    if frame is None:
        waiting("The feature map")
    else:
        projection = frame.projection
        token = (projection.step, projection.method, id(projection))
        figure = state.cached("embedding", token, lambda: figures.embedding_figure(
            projection, class_names))
        plot(figure, key="embedding_chart")
        st.caption(caption(frame))
    explain(EXPLANATION)


def caption(frame: MapFrame) -> str:
    """Which projection is drawn (from the frame's method, never from wishes), why it is
    not UMAP when it is not, and which step the features come from."""
    projection = frame.projection
    if projection.method is Method.UMAP:
        head = "UMAP"
    elif len(projection.coords_real) + len(projection.coords_fake) < MIN_UMAP_POINTS:
        head = f"PCA (UMAP needs at least {MIN_UMAP_POINTS} points)"
    elif frame.problem:
        head = f"PCA: {frame.problem}"
    else:
        head = _WHY_PCA.get(frame.umap_phase, "PCA")
    return f"{head} · features from step {projection.step:,}"
