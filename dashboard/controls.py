"""The sidebar: widgets -> TrainConfig, and the run's buttons.

Widget values live under the keys in WIDGETS; `config_to_widgets` and
`widgets_to_config` convert both ways, so a tab that re-attaches to a run shows that
run's settings, and the conversion is tested without a page.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Optional

import streamlit as st

from dashboard import state
from sgan_core.config import PRECISIONS, ConfigError, TrainConfig
from sgan_core.snapshot import (STATUS_FAILED, STATUS_FINISHED, STATUS_IDLE, STATUS_LOADING,
                                STATUS_PAUSED, STATUS_RUNNING, STATUS_STOPPED)

MAX_LABELS_SLIDER = 1000
BATCH_SIZES = (16, 32, 64, 100, 128, 256)
LENGTH_UNITS = ("minutes", "steps")
NEW_RUN_MESSAGE = "this setting applies to a new run: press Reset then Start"
GENERATOR_LOSS_HELP = {
    "feature_matching": "Feature matching: G copies the statistics of real images inside "
                        "D. Best classifier, blurrier samples.",
    "non_saturating": "Non-saturating: G tries to make D say 'real'. Sharper samples, "
                      "usually a weaker classifier.",
}
# Settings the sidebar does not show keep TrainConfig's defaults (or the attached run's).
FIELD_TITLES = {
    "dataset": "dataset", "labels_per_class": "labeled examples per class",
    "generator_loss": "generator loss", "batch_size": "batch size", "seed": "seed",
    "time_budget_s": "training length", "max_steps": "training length",
    "architecture": "architecture", "num_threads": "CPU threads",
    "labeled_batch_size": "batch size", "precision": "arithmetic",
}
LIVE_FIELDS = ("d_lr", "g_lr")  # applied to a running run without restarting it
BUTTONS = ("Start", "Stop", "Pause", "Resume", "Step", "Reset")  # two per row
BUTTON_ICONS = {"Start": ":material/play_arrow:", "Stop": ":material/stop:",
                "Pause": ":material/pause:", "Resume": ":material/resume:",
                "Step": ":material/skip_next:", "Reset": ":material/restart_alt:"}


@dataclass
class Settings:
    """What the sidebar produced: a config, or the reason there is none."""

    cfg: Optional[TrainConfig] = None
    error: Optional[str] = None
    needs_new_run: list[str] = field(default_factory=list)  # changed fields, for people


# --- pure conversions (tested directly) ---------------------------------------------

def config_to_widgets(cfg: TrainConfig) -> dict[str, Any]:
    by_steps = cfg.max_steps > 0 and cfg.time_budget_s == 0
    return {
        "w_dataset": cfg.dataset, "w_labels": cfg.labels_per_class,
        "w_gen_loss": cfg.generator_loss, "w_d_lr": cfg.d_lr, "w_g_lr": cfg.g_lr,
        "w_batch": cfg.batch_size, "w_seed": cfg.seed,
        "w_length_unit": "steps" if by_steps else "minutes",
        "w_minutes": round(cfg.time_budget_s / 60.0, 2) if cfg.time_budget_s else 5.0,
        "w_steps": cfg.max_steps or 2000,
        "w_architecture": cfg.architecture, "w_threads": cfg.num_threads,
        "w_precision": cfg.precision,
    }


def widgets_to_config(values: dict[str, Any], base: TrainConfig) -> TrainConfig:
    """Build the config; raises ConfigError with the message to show."""
    by_steps = values["w_length_unit"] == "steps"
    batch = int(values["w_batch"])
    return base.replace(
        dataset=values["w_dataset"], labels_per_class=int(values["w_labels"]),
        generator_loss=values["w_gen_loss"],
        d_lr=float(values["w_d_lr"]), g_lr=float(values["w_g_lr"]),
        batch_size=batch, labeled_batch_size=batch, seed=int(values["w_seed"]),
        max_steps=int(values["w_steps"]) if by_steps else 0,
        time_budget_s=0.0 if by_steps else float(values["w_minutes"]) * 60.0,
        architecture=values["w_architecture"], num_threads=int(values["w_threads"]),
        precision=values["w_precision"],
    )


def fields_needing_new_run(new: TrainConfig, current: TrainConfig) -> list[str]:
    """Human names of the changed settings that only a new run can honour."""
    changed = [name for name, value in new.to_dict().items()
               if name not in LIVE_FIELDS and getattr(current, name) != value]
    return sorted({FIELD_TITLES.get(name, name.replace("_", " ")) for name in changed})


def enabled_buttons(status: Optional[str]) -> set[str]:
    """Which buttons make sense in this run state (None: no run)."""
    if status is None:
        return {"Start"}
    if status in (STATUS_IDLE, STATUS_LOADING, STATUS_RUNNING):
        return {"Pause", "Stop", "Reset"}
    if status == STATUS_PAUSED:
        return {"Resume", "Step", "Stop", "Reset"}
    # finished, stopped or failed: Start begins a new run in place of this one
    assert status in (STATUS_FINISHED, STATUS_STOPPED, STATUS_FAILED), status
    return {"Start", "Reset"}


@functools.lru_cache(maxsize=16)
def dataset_facts(name: str, data_dir: str) -> tuple[int, int]:
    """(slider maximum for labels per class, training images available)."""
    from sgan_core import data

    spec = data.DATASETS[name]
    try:
        limit = data.max_labels_per_class(name, data_dir) or MAX_LABELS_SLIDER
    except Exception:  # a damaged folder must not break the sidebar; Start will explain
        limit = MAX_LABELS_SLIDER
    counts = getattr(data, "class_counts", None)
    total = sum(counts(name, data_dir)) if callable(counts) else sum(spec.train_class_counts)
    return max(1, min(MAX_LABELS_SLIDER, limit)), int(total)


# --- widgets --------------------------------------------------------------------------

def default_config() -> TrainConfig:
    """What a new page starts from (tests swap in a tiny config here)."""
    return TrainConfig()


def render_settings(current: Optional[TrainConfig]) -> Settings:
    """Draw the settings in the sidebar and return the config they describe."""
    from sgan_core.data import DATASETS

    base = current or default_config()
    state.set_widget_values(config_to_widgets(base), overwrite=False)
    sidebar = st.sidebar
    sidebar.selectbox("Dataset", list(DATASETS), key="w_dataset",
                      format_func=lambda name: DATASETS[name].title)
    _labels_slider(base.data_dir)
    sidebar.radio("Generator loss", list(GENERATOR_LOSS_HELP), key="w_gen_loss",
                  format_func=lambda name: name.replace("_", " "),
                  captions=list(GENERATOR_LOSS_HELP.values()))
    left, right = sidebar.columns(2)
    lr_help = "Adam learning rate; changes apply live to a running run."
    _number(left, "D learning rate", 1e-5, 1.0, "w_d_lr", step=5e-5, format="%.5f",
            help=lr_help)
    _number(right, "G learning rate", 1e-5, 1.0, "w_g_lr", step=5e-5, format="%.5f",
            help=lr_help)
    left.selectbox("Batch size", BATCH_SIZES, key="w_batch")
    _number(right, "Seed", 0, 2**31 - 1, "w_seed", step=1,
            help="Picks the labeled examples, the initial weights and the noise.")
    _length_inputs()
    with sidebar.expander("Advanced"):
        st.selectbox("Architecture", ("mlp", "conv"), key="w_architecture",
                     help="mlp is fast on a laptop CPU; conv is slower, better on images.")
        _number(st, "CPU threads for training", 1, 16, "w_threads", step=1,
                help="1 leaves a core free so the page stays responsive.")
        st.selectbox("Arithmetic", PRECISIONS, key="w_precision",
                     help="bfloat16 makes training steps about 1.5x faster on CPUs with "
                          "native bf16 (AVX512-BF16, AMX) at the same accuracy; 'auto' "
                          "uses it only there.")
    return _settings_from_widgets(base, current)


def _labels_slider(data_dir: str) -> None:
    from sgan_core.data import DATASETS

    name = state.widget_value("w_dataset")
    limit, total = dataset_facts(name, data_dir)
    if state.widget_value("w_labels", 1) > limit:  # a smaller dataset was chosen
        state.set_widget_values({"w_labels": limit}, overwrite=True)
    # An explicit value: a new maximum makes a new slider, which would start at 1.
    per_class = st.sidebar.slider("Labeled examples per class", 1, limit, key="w_labels",
                                  value=state.widget_value("w_labels"),
                                  help="Only these images keep their labels; the rest "
                                       "train the GAN part without labels.")
    n_labeled = per_class * len(DATASETS[name].class_names)
    st.sidebar.caption(f"= {n_labeled:,} labeled images of {total:,}")


def _length_inputs() -> None:
    unit = st.sidebar.radio("Train for", LENGTH_UNITS, key="w_length_unit", horizontal=True)
    if unit == "minutes":
        _number(st.sidebar, "Minutes", 0.1, 240.0, "w_minutes", step=0.5)
    else:
        _number(st.sidebar, "Steps", 1, 10_000_000, "w_steps", step=100)


def _number(container: Any, label: str, low: float, high: float, key: str,
            **options: Any) -> None:
    """A number input showing its session value from the first paint: without an
    explicit value, Streamlit 1.67's browser shows the minimum until the next rerun."""
    container.number_input(label, low, high, value=state.widget_value(key), key=key,
                           **options)


def _settings_from_widgets(base: TrainConfig, current: Optional[TrainConfig]) -> Settings:
    values = {key: state.widget_value(key) for key in config_to_widgets(base)}
    try:
        cfg = widgets_to_config(values, base)
    except ConfigError as error:
        return Settings(error=str(error))
    changed = fields_needing_new_run(cfg, current) if current is not None else []
    return Settings(cfg=cfg, needs_new_run=changed)


def render_buttons(container: Any, status: Optional[str]) -> None:
    """Start/Stop, Pause/Resume, Step/Reset; a press is handled by main() on the rerun."""
    enabled = enabled_buttons(status)
    columns = container.columns(2)
    for i, name in enumerate(BUTTONS):
        columns[i % 2].button(
            name, key=f"b_{name.lower()}", disabled=name not in enabled,
            icon=BUTTON_ICONS[name], type="primary" if name == "Start" else "secondary",
            width="stretch", on_click=state.queue_action, args=(name.lower(),))
