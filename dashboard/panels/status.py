"""Status line: where the run is, how fast it goes, and SGAN vs baseline accuracy."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from dashboard.panels import explain
from sgan_core.snapshot import STATUS_FAILED, Snapshot

EXPLANATION = """
**Step** counts discriminator + generator updates; an **epoch** is one pass over the
unlabeled images. **SGAN test accuracy** is measured on test images the model never
trains on. The **baseline** is an ordinary classifier trained on exactly the same
labeled images, but without the GAN. The small number under the SGAN accuracy is the
gap: how many percentage points the unlabeled images and the fakes bought.
"""


def percent(value: Optional[float]) -> str:
    return "–" if value is None else f"{100.0 * value:.1f}%"


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}"


def gap_text(snapshot: Snapshot) -> Optional[str]:
    gap = snapshot.accuracy_gap
    return None if gap is None else f"{100.0 * gap:+.1f} pts vs baseline"


def render(snapshot: Snapshot) -> None:
    """Messages first (errors, data notice), then one row of metrics."""
    if snapshot.error:
        st.error(snapshot.error)
    elif snapshot.run_status == STATUS_FAILED:
        st.error("The run failed to start. Press Reset, check the settings, then Start.")
    if snapshot.data_notice:
        st.info(snapshot.data_notice)
    columns = st.columns([1.4, 0.9, 0.8, 1.0, 0.8, 1.4, 1.3])  # "running" must fit
    columns[0].metric("State", snapshot.run_status)
    columns[1].metric("Step", f"{snapshot.step:,}")
    columns[2].metric("Epoch", f"{snapshot.epoch:.2f}")
    columns[3].metric("Images / s", f"{snapshot.images_per_second:,.0f}")
    columns[4].metric("Elapsed", duration(snapshot.elapsed_s))
    columns[5].metric("SGAN test accuracy", percent(snapshot.test_accuracy),
                      delta=gap_text(snapshot))
    columns[6].metric("Baseline (labels only)", percent(snapshot.baseline_test_accuracy))
    explain(EXPLANATION)
