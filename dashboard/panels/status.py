"""Status line: where the run is, how fast it goes, and SGAN vs baseline accuracy."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from dashboard.views.live import presenter
from dashboard import state
from dashboard.panels import explain, starting
from sgan_core.config import TrainConfig
from sgan_core.data.datasets import labels_per_class_words
from sgan_core.snapshot import RunStatus, Snapshot

PROGRESS_CLASS = "sgan-progress"  # the progress line's element (tests read it)
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
    """SGAN minus baseline in percentage points, rounded as shown (no "-0.0"). None
    before the first training step: two untrained models differ by chance, and a red
    "-5.7 pts" at step 0 tells a class the SGAN is losing before either has learned."""
    gap = snapshot.accuracy_gap
    if gap is None or snapshot.step == 0:
        return None
    return round(100.0 * gap, 1) + 0.0


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
    from sgan_core.data.datasets import DATASETS

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
    """Messages first (errors, where the data came from), the run's settings, where the
    run is in one line, then the results. In the presenter view the results are the big
    headline and the words a class needs no more of (settings, explanation) are left
    out: the whole lesson must fit one projector screen."""
    messages(snapshot, parked)
    if state.presenting():
        presenter.headline(headline_figures(snapshot), progress_line(snapshot))
        starting.render(snapshot)  # until the first evaluation: what the run is doing
        return
    st.markdown(settings_line(snapshot.config, snapshot))
    if starting.is_starting(snapshot):
        starting.render(snapshot)  # in place of "loading · step 0 · 0:00 elapsed"
    else:
        st.markdown(progress_line(snapshot), unsafe_allow_html=True)
    results_row(snapshot)
    explain(EXPLANATION)


def messages(snapshot: Snapshot, parked: bool) -> None:
    """What needs the user's attention; the data source as one short line, its story
    (why not the full dataset, how to get it) behind the line's "?"."""
    if parked:
        st.info(PARKED)
    if snapshot.error:
        st.error(snapshot.error)
    elif snapshot.run_status == RunStatus.FAILED:
        st.error("The run failed to start. Press Reset, check the settings, then Start.")
    if snapshot.data_notice:
        st.caption(f":material/info: Training on {data_source_words(snapshot)}.",
                   help=snapshot.data_notice)


def data_source_words(snapshot: Snapshot) -> str:
    return snapshot.data_source or "the bundled subset of MNIST"


def progress_line(snapshot: Snapshot) -> str:
    """Where the run is, in one line of HTML (four metrics took a row of the first
    screen). The state and step are also attributes, so tests read them exactly."""
    status = str(getattr(snapshot.run_status, "value", snapshot.run_status))
    return (f'<div class="{PROGRESS_CLASS}" data-state="{status}" data-step="{snapshot.step}">'
            f"<b>{status.capitalize()}</b> · step {snapshot.step:,} · epoch "
            f"{snapshot.epoch:.2f} · {duration(snapshot.elapsed_s)} elapsed</div>")


def headline_figures(snapshot: Snapshot) -> list[tuple[str, str]]:
    """(label, value) of the four numbers a class watches, worded as in the metrics row."""
    return [("SGAN accuracy", percent(snapshot.test_accuracy)),
            ("Baseline", percent(snapshot.baseline_test_accuracy)),
            ("Gap", gap_text(snapshot) or "–"),
            ("Fakes caught", percent(snapshot.fake_rejection_rate))]


def results_row(snapshot: Snapshot) -> None:
    """Two rows of two: the status shares the first screen's width with the sample
    grid, where four in a row were cut to "SGAN ac…" and "100.…"."""
    results = [*st.columns(2), *st.columns(2)]
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
