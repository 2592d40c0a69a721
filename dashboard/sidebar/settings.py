"""The sidebar: widgets -> TrainConfig, and the run's buttons.

Widget values live in the session under `w_*` keys; `config_to_widgets` and
`widgets_to_config` convert both ways, so a tab that re-attaches to a run shows that
run's settings, and the conversion is tested without a page. Typed numbers are checked
in dashboard/sidebar/inputs.py; while one is invalid Start is off and says why.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Optional

import streamlit as st

from dashboard import state
from dashboard.sidebar.inputs import (NUMBER_FIELDS, InputError, format_number, label_options,
                              nearest_option, parse_number)
from sgan_core.config import (ARCHITECTURES, GENERATOR_LOSSES, PRECISIONS, ConfigError,
                              TrainConfig, field_docs)
from sgan_core.snapshot import RunStatus

MAX_LABELS_SLIDER = 5000
BATCH_SIZES = (16, 32, 64, 100, 128, 256)
LENGTH_UNITS = ("minutes", "steps")
GENERATOR_LOSS_HELP = {  # a caption per TrainConfig's GENERATOR_LOSSES, in that order
    "feature_matching": "Feature matching: G copies the statistics of real images inside "
                        "D. Best classifier, blurrier samples.",
    "non_saturating": "Non-saturating: G tries to make D say 'real'. Sharper samples, "
                      "usually a weaker classifier.",
}
assert tuple(GENERATOR_LOSS_HELP) == GENERATOR_LOSSES, "a generator loss lacks a caption"


def field_help(name: str, page_note: str = "") -> str:
    """The tooltip of the widget for TrainConfig field `name`: the field's own doc
    (the same text as `--help`), plus what only the page needs to say."""
    return " ".join(part for part in (field_docs()[name].rstrip(".") + ".", page_note) if part)
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
    """What the sidebar produced: a config, or the reasons there is none."""

    cfg: Optional[TrainConfig] = None
    error: Optional[str] = None  # the settings together make no valid config
    input_errors: dict[str, str] = field(default_factory=dict)  # widget key -> message
    needs_new_run: list[str] = field(default_factory=list)  # changed fields, for people
    compared_with: Optional[str] = None  # id of the run needs_new_run is measured against

    def start_blocker(self) -> Optional[str]:
        """Why Start cannot be pressed with these settings (None: it can)."""
        if self.input_errors:
            return " ".join(self.input_errors.values())
        return self.error


# --- pure conversions (tested directly) ---------------------------------------------

def config_to_widgets(cfg: TrainConfig) -> dict[str, Any]:
    by_steps = cfg.max_steps > 0 and cfg.time_budget_s == 0
    return {
        "w_dataset": cfg.dataset, "w_labels": cfg.labels_per_class,
        "w_gen_loss": cfg.generator_loss, "w_d_lr": format_number(cfg.d_lr),
        "w_g_lr": format_number(cfg.g_lr), "w_batch": cfg.batch_size,
        "w_seed": format_number(cfg.seed),
        "w_length_unit": "steps" if by_steps else "minutes",
        "w_minutes": format_number(round(cfg.time_budget_s / 60.0, 2)
                                   if cfg.time_budget_s else 5.0),
        "w_steps": format_number(cfg.max_steps or 2000),
        "w_architecture": cfg.architecture, "w_threads": format_number(cfg.num_threads),
        "w_precision": cfg.precision,
    }


def input_errors(values: dict[str, Any]) -> dict[str, str]:
    """Messages for the typed numbers that cannot be used (only those that count now:
    the steps field is ignored while the length is in minutes, and the other way)."""
    skip = "w_minutes" if values.get("w_length_unit") == "steps" else "w_steps"
    errors = {}
    for key, spec in NUMBER_FIELDS.items():
        try:
            if key != skip:
                parse_number(values.get(key), spec)
        except InputError as error:
            errors[key] = str(error)
    return errors


def widgets_to_config(values: dict[str, Any], base: TrainConfig) -> TrainConfig:
    """Build the config; raises InputError or ConfigError with the message to show."""
    def number(key: str) -> Any:
        return parse_number(values[key], NUMBER_FIELDS[key])

    by_steps = values["w_length_unit"] == "steps"
    batch = int(values["w_batch"])
    return base.replace(
        dataset=values["w_dataset"], labels_per_class=int(values["w_labels"]),
        generator_loss=values["w_gen_loss"], d_lr=number("w_d_lr"), g_lr=number("w_g_lr"),
        batch_size=batch, labeled_batch_size=batch, seed=number("w_seed"),
        max_steps=number("w_steps") if by_steps else 0,
        time_budget_s=0.0 if by_steps else number("w_minutes") * 60.0,
        architecture=values["w_architecture"], num_threads=number("w_threads"),
        precision=values["w_precision"],
    )


def fields_needing_new_run(new: TrainConfig, current: TrainConfig) -> list[str]:
    """Human names of the changed settings that only a new run can honour."""
    changed = [name for name, value in new.to_dict().items()
               if name not in LIVE_FIELDS and getattr(current, name) != value]
    return sorted({FIELD_TITLES.get(name, name.replace("_", " ")) for name in changed})


def new_run_message(fields: list[str], status: Optional[str]) -> str:
    """What to do about settings the current run cannot take: Start alone works once the
    run has ended; a run still going must be stopped first."""
    changed = ", ".join(fields)
    if "Start" in enabled_buttons(status):
        return f"Changed: {changed}. Press Start to train a new run with them."
    return (f"Changed: {changed}. These apply to a new run: press Stop, then Start "
            "(this run keeps its settings until then).")


def enabled_buttons(status: Optional[str]) -> set[str]:
    """Which buttons make sense in this run state (None: no run)."""
    if status is None:
        return {"Start"}
    if status in (RunStatus.IDLE, RunStatus.LOADING, RunStatus.RUNNING):
        return {"Pause", "Stop", "Reset"}
    if status == RunStatus.PAUSED:
        return {"Resume", "Step", "Stop", "Reset"}
    # finished, stopped or failed: Start begins a new run in place of this one
    assert status in (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.FAILED), status
    return {"Start", "Reset"}


@functools.lru_cache(maxsize=16)
def dataset_facts(name: str, data_dir: str, validation_size: int) -> tuple[int, int]:
    """(largest labels per class that leaves unlabeled images, training images)."""
    from sgan_core.data import datasets, splitting  # torch-free: no torch on the first paint

    try:
        counts = datasets.class_counts(name, data_dir)
    except Exception:  # a damaged folder must not break the sidebar; Start will explain
        counts = datasets.DATASETS[name].train_class_counts
    limit = splitting.max_labels_per_class(counts, validation_size)
    return max(1, min(MAX_LABELS_SLIDER, limit)), int(sum(counts))


# --- widgets --------------------------------------------------------------------------

def default_config() -> TrainConfig:
    """What a new page starts from (tests swap in a tiny config here)."""
    return TrainConfig()


def render_settings(current: Optional[TrainConfig]) -> Settings:
    """Draw the settings in the sidebar and return the config they describe."""
    from sgan_core.data.datasets import DATASETS

    base = current or default_config()
    state.set_widget_values(config_to_widgets(base), overwrite=False)
    errors = input_errors({key: state.widget_value(key) for key in config_to_widgets(base)})
    sidebar = st.sidebar
    sidebar.selectbox("Dataset", list(DATASETS), key="w_dataset",
                      format_func=lambda name: DATASETS[name].title)
    _labels_slider(base)
    sidebar.radio("Generator loss", GENERATOR_LOSSES, key="w_gen_loss",
                  format_func=lambda name: name.replace("_", " "),
                  captions=[GENERATOR_LOSS_HELP[name] for name in GENERATOR_LOSSES],
                  help=field_help("generator_loss"))
    left, right = sidebar.columns(2)
    live = "Changes apply live to a running run."
    _number(left, "w_d_lr", errors, help=field_help("d_lr", live))
    _number(right, "w_g_lr", errors, help=field_help("g_lr", live))
    left.selectbox("Batch size", BATCH_SIZES, key="w_batch", help=field_help("batch_size"))
    _number(right, "w_seed", errors, help=field_help("seed"))
    _length_inputs(errors)
    with sidebar.expander("Advanced"):
        st.selectbox("Architecture", ARCHITECTURES, key="w_architecture",
                     help=field_help("architecture"))
        _number(st, "w_threads", errors,
                help=field_help("num_threads", "1 leaves a core free so the page stays "
                                               "responsive."))
        st.selectbox("Arithmetic", PRECISIONS, key="w_precision",
                     help=field_help("precision"))
    return _settings_from_widgets(base, current, errors)


def _labels_slider(base: TrainConfig) -> None:
    """Stops at 1, 2, 3, 5, 10, 20, 50, ...: the values people compare, each as easy to
    reach as the next (a linear 1-900 slider put 1-20 in a few pixels)."""
    from sgan_core.data.datasets import DATASETS

    name = state.widget_value("w_dataset")
    limit, total = dataset_facts(name, base.data_dir, base.validation_size)
    chosen = int(state.widget_value("w_labels", 1))
    options = label_options(limit, current=chosen)
    if chosen not in options:  # e.g. a smaller dataset was chosen
        state.set_widget_values({"w_labels": nearest_option(chosen, options)}, overwrite=True)
    # An explicit value: new options make a new slider, which would start at the first.
    per_class = st.sidebar.select_slider(
        "Labeled examples per class", options, key="w_labels",
        value=state.widget_value("w_labels"),
        help=f"Only these images keep their labels; the rest train the GAN part without "
             f"labels. At most {limit:,} here, so that every class keeps unlabeled images.")
    n_labeled = per_class * len(DATASETS[name].class_names)
    st.sidebar.caption(f"= {n_labeled:,} labeled images of {total:,}")


def _length_inputs(errors: dict[str, str]) -> None:
    unit = st.sidebar.radio("Train for", LENGTH_UNITS, key="w_length_unit", horizontal=True)
    _number(st.sidebar, "w_minutes" if unit == "minutes" else "w_steps", errors)


def _number(container: Any, key: str, errors: dict[str, str], **options: Any) -> None:
    """A typed number, its error (if any) right under it. The session value is passed
    explicitly: without it, Streamlit 1.67's browser shows an empty field until the
    next rerun."""
    container.text_input(NUMBER_FIELDS[key].label, value=state.widget_value(key), key=key,
                         **options)
    if key in errors:
        container.error(errors[key])


def _settings_from_widgets(base: TrainConfig, current: Optional[TrainConfig],
                           errors: dict[str, str]) -> Settings:
    if errors:
        return Settings(input_errors=errors)
    values = {key: state.widget_value(key) for key in config_to_widgets(base)}
    try:
        cfg = widgets_to_config(values, base)
    except (ConfigError, InputError) as error:
        return Settings(error=str(error))
    changed = fields_needing_new_run(cfg, current) if current is not None else []
    return Settings(cfg=cfg, needs_new_run=changed,
                    compared_with=state.query_value(state.QUERY_KEY))


def render_buttons(container: Any, status: Optional[str], settings: Settings,
                   confirm_reset: bool) -> None:
    """Start/Stop, Pause/Resume, Step/Reset, then what stands in Start's way, then a
    Reset confirmation; a press is handled by main() on the rerun."""
    enabled = enabled_buttons(status)
    blocker = settings.start_blocker()
    columns = container.columns(2)
    for i, name in enumerate(BUTTONS):
        usable = name in enabled and not (name == "Start" and blocker)
        columns[i % 2].button(
            name, key=f"b_{name.lower()}", disabled=not usable or confirm_reset,
            icon=BUTTON_ICONS[name], type="primary" if name == "Start" else "secondary",
            width="stretch", on_click=state.queue_action, args=(name.lower(),))
    if blocker and "Start" in enabled:
        # A Material icon: Streamlit ships its font, an emoji needs one installed.
        container.error(f"Start is off until this is fixed: {blocker}", icon=":material/block:")
    if settings.needs_new_run and status is not None and _same_run(settings):
        container.warning(new_run_message(settings.needs_new_run, status))
    if confirm_reset:
        _reset_confirmation(container)


def _same_run(settings: Settings) -> bool:
    """Whether the page still shows the run the settings were compared with: a Start
    since then put a run made from these very settings on the page (so nothing of
    them waits for a new run), and an opened run is compared on the next rerun."""
    return settings.compared_with == state.query_value(state.QUERY_KEY)


def _reset_confirmation(container: Any) -> None:
    container.warning("Reset stops this run and forgets it: its link stops working for "
                      "every tab. Reset?")
    yes, no = container.columns(2)
    yes.button("Yes, reset", key="b_reset_yes", type="primary", width="stretch",
               on_click=state.queue_action, args=("confirm_reset",))
    no.button("Cancel", key="b_reset_no", width="stretch",
              on_click=state.queue_action, args=("cancel_reset",))
