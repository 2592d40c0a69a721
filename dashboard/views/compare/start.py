""""Train two runs side by side, live" on the Compare page: two runs that differ only in
their label count (e.g. 1 vs 10 per class), everything else from the live page's
sidebar, started in the server's registry under its cap on runs training at once."""
from __future__ import annotations

from typing import Any, Callable, Optional

import streamlit as st

from dashboard.sidebar import settings as controls
from dashboard import server, state
from dashboard.views.budget import studies
from dashboard.sidebar.inputs import InputError

STARTED = "wc_started"  # session: ids of the live runs this tab started on this page
LIVE_KEYS = (*controls.config_to_widgets(controls.default_config()), "w_present")
PANEL = "Train two runs side by side, live"


def started_ids() -> list[str]:
    return list(state.widget_value(STARTED, []))


def base_config() -> tuple[Any, Optional[str]]:
    """(config from the live sidebar's values, or the defaults; problem in words)."""
    from sgan_core.config import ConfigError

    base = controls.default_config()
    defaults = controls.config_to_widgets(base)
    values = {key: state.widget_value(key, value) for key, value in defaults.items()}
    try:
        return controls.widgets_to_config(values, base), None
    except (InputError, ConfigError) as error:
        return base, (f"The Live training page's settings cannot be used ({error}): "
                      "fix them there first.")


def render(on_started: Callable[[list[str]], None]) -> None:
    # Always drawn open: the browser keeps what the visitor did with it; a value that
    # changed once runs had started closed it over the messages of the next press.
    with st.expander(PANEL, expanded=True):
        base, problem = base_config()
        limit = controls.dataset_facts(base.dataset, base.data_dir, base.validation_size)[0]
        options = studies.label_choices(limit) or [1]
        first, second, button = st.columns(3, vertical_alignment="bottom")
        a = first.selectbox("Run A: labels per class", options, key="wc_labels_a")
        b = second.selectbox("Run B: labels per class", options, key="wc_labels_b",
                             index=min(3, len(options) - 1))
        budget = (f"{base.max_steps:,} steps" if base.max_steps
                  else f"{base.time_budget_s / 60:g} minutes")
        st.caption(f"Everything else as on the Live training page's sidebar ({budget} "
                   "each). Both train at once, so each goes at about half speed.")
        if problem:
            st.warning(problem)
        if button.button("Start both", key="b_compare_start", icon=":material/play_arrow:",
                         disabled=problem is not None):
            _start_pressed(base, (a, b), on_started)
        if any(_moving(run_id) for run_id in started_ids()):
            st.button("Stop the runs started here", key="b_compare_stop",
                      icon=":material/stop:", on_click=stop_started)


def _start_pressed(base: Any, counts: tuple[int, int],
                   on_started: Callable[[list[str]], None]) -> None:
    """Two new runs, unless this tab's runs still train: then why nothing started."""
    moving = sum(_moving(run_id) for run_id in started_ids())
    if moving:
        st.warning(_still_training(moving), icon=":material/hourglass_top:")
        return
    started = _start(base, counts)
    if started:
        on_started(started)


def _still_training(count: int) -> str:
    which = {1: "One run started here is", 2: "Both runs are"}.get(
        count, f"{count} runs started here are")
    return (f"{which} still training: press **Stop the runs started here** first, or "
            "wait until they finish.")


def _moving(run_id: str) -> bool:
    run = server.registry().get(run_id)
    return run is not None and run.snapshot().is_active


def _start(base: Any, counts: tuple[int, int]) -> list[str]:
    """Start one run per label count; a full server is a message (runs already started
    stay)."""
    from sgan_core.runs.registry import RegistryFull

    started = []
    for count in counts:
        try:
            run_id, _ = server.registry().create(base.replace(labels_per_class=int(count)))
        except RegistryFull as error:
            st.warning(f"{error} {len(started)} of the 2 runs started.")
            break
        started.append(run_id)
    state.set_widget_values({STARTED: started_ids() + started}, overwrite=True)
    return started


def stop_started() -> None:
    """Stop this tab's runs started here (a button's callback)."""
    for run_id in started_ids():
        run = server.registry().get(run_id)
        if run is not None:
            run.stop()  # waits for its thread (a few seconds), so the page redraws it stopped
