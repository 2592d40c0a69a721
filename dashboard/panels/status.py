"""Status line: where the run is, how fast it goes, and SGAN vs baseline accuracy."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from dashboard import presenter, state
from dashboard.panels import explain
from sgan_core.config import TrainConfig
from sgan_core.datasets import labels_per_class_words
from sgan_core.snapshot import STATUS_FAILED, Snapshot

PARKED = ("Paused by the server: no page showed this run for a few minutes, so it gave "
          "its training slot to others. Press **Resume** to continue it (when a slot is "
          "free).")

EXPLANATION = """
**Step** counts discriminator + generator updates; an **epoch** is one pass over the
unlabeled images. **SGAN accuracy** is measured on test images the model never trains
on, taken with the weight average (EMA) of the discriminator. The **baseline** is an ordinary classifier trained on exactly the same labeled
images, but without the GAN. The small number under the SGAN accuracy is the gap: how
many percentage points the unlabeled images and the fakes bought. **Fakes caught** is
the share of fresh generated images the live discriminator (the one the generator plays
against, not its average) calls fake.
"""


def percent(value: Optional[float]) -> str:
    return "–" if value is None else f"{100.0 * value:.1f}%"


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}"


def gap_points(snapshot: Snapshot) -> Optional[float]:
    """SGAN minus baseline in percentage points, rounded as shown (no "-0.0")."""
    gap = snapshot.accuracy_gap
    return None if gap is None else round(100.0 * gap, 1) + 0.0


def gap_text(snapshot: Snapshot) -> Optional[str]:
    points = gap_points(snapshot)
    return None if points is None else f"{points:{'' if points == 0 else '+'}.1f} pts"


def gap_style(snapshot: Snapshot) -> dict[str, str]:
    """st.metric colours a delta and points its arrow by its sign: a gap that shows as
    0.0 is neither ahead nor behind, so it gets neither."""
    flat = not gap_points(snapshot)
    return {"delta_color": "off" if flat else "normal", "delta_arrow": "off" if flat else "auto"}


def settings_line(cfg: TrainConfig, snapshot: Snapshot) -> str:
    """What the run on the page uses (the sidebar may already show other settings)."""
    from sgan_core.data import DATASETS

    classes = snapshot.num_classes or len(DATASETS[cfg.dataset].class_names)
    d_lr = getattr(snapshot, "base_d_lr", 0.0) or cfg.d_lr
    g_lr = getattr(snapshot, "base_g_lr", 0.0) or cfg.g_lr
    length = (f"{cfg.max_steps:,} steps" if cfg.max_steps and not cfg.time_budget_s
              else f"{cfg.time_budget_s / 60.0:g} min")
    return (f"**This run:** {DATASETS[cfg.dataset].title} · "
            f"{labels_per_class_words(cfg.labels_per_class)} "
            f"({cfg.labels_per_class * classes:,} labeled) · "
            f"{cfg.generator_loss.replace('_', ' ')} · batch {cfg.batch_size} · "
            f"learning rates D {d_lr:g}, G {g_lr:g} · {length} · seed {cfg.seed} · "
            f"{cfg.architecture}")


def render(snapshot: Snapshot, parked: bool = False) -> None:
    """Messages first (errors, data notice), the run's settings, then two rows of four
    metrics: progress, then results. Two short rows rather than one long one: a
    1024-pixel projector with the sidebar open leaves about 550 pixels, where seven in a
    row were cut to "ru…"."""
    if parked:
        st.info(PARKED)
    if snapshot.error:
        st.error(snapshot.error)
    elif snapshot.run_status == STATUS_FAILED:
        st.error("The run failed to start. Press Reset, check the settings, then Start.")
    if snapshot.data_notice:
        st.info(snapshot.data_notice)
    st.markdown(settings_line(snapshot.config, snapshot))
    progress = st.columns(4)
    progress[0].metric("State", snapshot.run_status)
    progress[1].metric("Step", f"{snapshot.step:,}")
    progress[2].metric("Epoch", f"{snapshot.epoch:.2f}")
    progress[3].metric("Elapsed", duration(snapshot.elapsed_s))
    if state.presenting():  # the key numbers in big type instead of the metrics row
        presenter.headline(headline_figures(snapshot))
    else:
        results_row(snapshot)
    explain(EXPLANATION)


def headline_figures(snapshot: Snapshot) -> list[tuple[str, str]]:
    """(label, value) of the four numbers a class watches, worded as in the metrics row."""
    return [("SGAN accuracy", percent(snapshot.test_accuracy)),
            ("Baseline", percent(snapshot.baseline_test_accuracy)),
            ("Gap", gap_text(snapshot) or "–"),
            ("Fakes caught", percent(snapshot.fake_rejection_rate))]


def results_row(snapshot: Snapshot) -> None:
    results = st.columns(4)
    results[0].metric("SGAN accuracy", percent(snapshot.test_accuracy),
                      delta=gap_text(snapshot), **gap_style(snapshot),
                      help="Test accuracy of the discriminator's weight average (EMA); "
                           "below it, the gap to the baseline in points.")
    results[1].metric("Baseline", percent(snapshot.baseline_test_accuracy),
                      help="A plain classifier trained on the same labeled images only.")
    results[2].metric("Fakes caught", percent(snapshot.fake_rejection_rate),
                      help="Share of fresh generated images the live discriminator (the "
                           "one the generator plays against) calls fake.")
    results[3].metric("Images / s", f"{snapshot.images_per_second:,.0f}",
                      help="New unlabeled images per second of training "
                           f"({snapshot.steps_per_second:.1f} steps/s).")
