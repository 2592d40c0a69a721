"""2-D map of the discriminator's features: test images by class, fakes as crosses.

The projection is computed by the run's EmbeddingWorker in the background; this panel
only hands it the newest features and draws whatever frame is ready.
"""
from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from dashboard import figures, state
from dashboard.panels import explain, plot, waiting
from sgan_core.snapshot import Snapshot

EXPLANATION = """
The discriminator turns every image into a long list of numbers (its "features").
This map squeezes those lists down to 2-D so that images the discriminator sees as
similar land close together. **Coloured dots** are test images, one colour per class;
**black crosses** are fakes. As training goes on, the classes separate into islands,
which is why a few labels are enough to name each island. The map is **UMAP**, redrawn
every few seconds from the newest features; while UMAP warms up (about a minute after
the server starts) a simpler **PCA** map stands in.
Switch on **freeze view** to zoom in without the next update resetting your zoom.
"""


def render(run_id: str, snapshot: Snapshot) -> None:
    st.subheader("Feature map")
    freeze = st.toggle("Freeze view", key="w_freeze_embedding",
                       help="Keep this picture (and your zoom) until you switch it off.")
    projection = _latest_projection(run_id, snapshot)
    if projection is None:
        waiting("The feature map")
    else:
        token = (projection.step, projection.method, id(projection))
        figure = state.cached("embedding", token, lambda: figures.embedding_figure(
            projection, snapshot.class_names))
        figure = state.frozen("embedding", figure, freeze)
        plot(figure, key="embedding_chart")
        st.caption(caption(projection, _status_text(run_id, projection)))
    explain(EXPLANATION)


def caption(projection: Any, status_text: str) -> str:
    """Which map this is and how fresh; the worker's words when UMAP is off or failed."""
    if getattr(projection, "method", "") != "pca":
        head = "UMAP"
    elif not status_text or "warm" in status_text.lower():
        head = "PCA while UMAP warms up"
    else:
        head = status_text
    return f"{head} · features from step {projection.step:,}"


def _latest_projection(run_id: str, snapshot: Snapshot) -> Optional[Any]:
    """Hand over new features (cheap: the worker copies and queues) and read back."""
    pool = state.embeddings()
    try:
        if snapshot.features is not None:
            pool.submit(run_id, snapshot.features)
        worker = pool.worker(run_id)
        return None if worker is None else worker.latest()
    except Exception as error:  # the map is a bonus: never take the page down with it
        st.warning(f"The feature map is unavailable: {error}")
        return None


def _status_text(run_id: str, projection: Any) -> str:
    """The worker's own words (e.g. "UMAP warming up, 20 s"), wherever it keeps them."""
    text = getattr(projection, "status_text", None)
    if text is None:
        text = getattr(state.embeddings().worker(run_id), "status_text", None)
    return str(text or "")
