"""Status line: where the run is, how fast it goes, and SGAN vs baseline accuracy."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from dashboard.panels import explain
from sgan_core.snapshot import STATUS_FAILED, Snapshot

EXPLANATION = """
**Step** counts discriminator + generator updates; an **epoch** is one pass over the
unlabeled images. **SGAN accuracy** is measured on test images the model never trains
on. The **baseline** is an ordinary classifier trained on exactly the same labeled
images, but without the GAN. The small number under the SGAN accuracy is the gap: how
many percentage points the unlabeled images and the fakes bought. **Fakes caught** is
the share of fresh generated images the discriminator calls fake.
"""


def percent(value: Optional[float]) -> str:
    return "–" if value is None else f"{100.0 * value:.1f}%"


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}"


def gap_text(snapshot: Snapshot) -> Optional[str]:
    gap = snapshot.accuracy_gap
    return None if gap is None else f"{100.0 * gap:+.1f} pts"


def render(snapshot: Snapshot) -> None:
    """Messages first (errors, data notice), then two rows of four metrics: progress,
    then results. Two short rows rather than one long one: a 1024-pixel projector with
    the sidebar open leaves about 550 pixels, where seven in a row were cut to "ru…"."""
    if snapshot.error:
        st.error(snapshot.error)
    elif snapshot.run_status == STATUS_FAILED:
        st.error("The run failed to start. Press Reset, check the settings, then Start.")
    if snapshot.data_notice:
        st.info(snapshot.data_notice)
    progress = st.columns(4)
    progress[0].metric("State", snapshot.run_status)
    progress[1].metric("Step", f"{snapshot.step:,}")
    progress[2].metric("Epoch", f"{snapshot.epoch:.2f}")
    progress[3].metric("Elapsed", duration(snapshot.elapsed_s))
    results = st.columns(4)
    results[0].metric("SGAN accuracy", percent(snapshot.test_accuracy),
                      delta=gap_text(snapshot),
                      help="Test accuracy; below it, the gap to the baseline in points.")
    results[1].metric("Baseline", percent(snapshot.baseline_test_accuracy),
                      help="A plain classifier trained on the same labeled images only.")
    results[2].metric("Fakes caught", percent(snapshot.fake_rejection_rate),
                      help="Share of fresh generated images the discriminator calls fake.")
    results[3].metric("Images / s", f"{snapshot.images_per_second:,.0f}")
    explain(EXPLANATION)
