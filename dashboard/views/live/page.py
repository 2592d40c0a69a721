"""The Live training page: one run, its id in the URL.

The script runs top to bottom on every interaction: read the run from the URL, draw the
sidebar, act on a pressed button, then draw the panels (views/live/layout.py: where
each goes and how often it refreshes). Nothing heavy happens before Start: no model is
built and umap is never imported here.
"""
from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from dashboard import layout, server, state
from dashboard.panels import admin, slow_motion
from dashboard.sidebar import run_files as runfiles, settings as controls
from dashboard.sidebar.inputs import format_number
from dashboard.views.live import presenter
from dashboard.views.live.layout import (SEEN_RATES, base_rates, guarded,
                                         live_panels, presenter_panels, try_panels)
from sgan_core.snapshot import RunStatus, Snapshot

INTRO = """
A **semi-supervised GAN** learns to classify images from only a handful of labeled
examples. Its discriminator has to do two jobs at once: name the class of real images
and catch the fakes its rival, the generator, keeps producing. Catching fakes forces it
to learn what real images look like, from all the *unlabeled* images too.
"""
INTRO_NEXT = "Choose how many labeled examples per class to keep in the sidebar and press **Start**."
INTRO_NEXT_PRESENTING = ("Press **Start** above for a run with the sidebar's settings "
                         "(Leave to change them), or open the recorded demo: a whole run "
                         "at once.")


def live_page() -> None:
    """The "Live training" page: one run, its id in the URL."""
    draw_page()
    state.remember_live_run()  # the page links lead back to this run


def draw_page() -> None:
    presenting = state.presenting()
    layout.install(presenting)
    if not presenting:  # the presenter view spends no line of its screen on the name
        st.title("SGAN Studio")  # first, so a pressed button's messages appear below it
    strip_slot = st.container()  # the presenter's controls: drawn last, shown first
    runfiles.follow_url()  # ?demo=1 opens the shipped recording
    run_id, run, notice = state.current_run()
    live_run = run if run is not None and not runfiles.is_recorded(run) else None
    if live_run is not None and state.needs_widget_sync(run_id):
        _load_run_settings(live_run)
    elif live_run is not None:
        _follow_base_rates(live_run.snapshot())
    buttons = st.sidebar.container()  # drawn last, shown first: reflects the action taken
    # A recorded run's settings never reach the sidebar: Start after the demo trains a
    # fresh run on the sidebar's own settings and this server's data, not the recording's.
    settings = controls.render_settings(live_run.config if live_run is not None else None)
    presenter.render()  # its sidebar switch under the settings
    action = runfiles.handle_action(state.pop_action())  # "open the demo" is its own
    if action:
        run_id, run = handle_action(action, settings, run_id, run)
    runfiles.render_sidebar(run)  # save, open, share
    controls.render_buttons(buttons, run_status(run), settings,
                            confirm_reset=state.confirmation_pending("reset", run_id))
    timeline_slot = None
    if presenting:
        with strip_slot:
            timeline_slot = presenter.strip(controls.enabled_buttons(run_status(run)),
                                            settings.start_blocker(), can_step(run))
    _apply_learning_rates(settings, run)
    if notice:
        st.warning(notice)
    saving = run.storage_problem() if run is not None else None
    if saving:
        st.warning(saving)  # e.g. a full disk: the run trains on, unsaved
    if runfiles.is_recorded(run):
        runfiles.banner(run)  # not training: the page says so
    guarded("runs list", admin.render, state.admin_access())
    if run is None:
        st.markdown(INTRO + (INTRO_NEXT_PRESENTING if presenting else INTRO_NEXT))
        runfiles.demo_button("demo_intro")  # a whole run at once, no waiting
        return
    if presenting:
        presenter_panels(run_id, run, timeline_slot)
        return
    live_panels(run_id, run)
    try_panels(run)


def can_step(run: Optional[Any]) -> bool:
    """Next step (slow motion) needs a run that can still train."""
    return (run is not None and not runfiles.is_recorded(run)
            and run.snapshot().is_active)


def _load_run_settings(run: Any) -> None:
    """A tab re-attaching by URL shows the run's settings and its live base learning
    rates: the rates the user set, never the decayed ones (sent back as new base rates,
    those made the decay compound)."""
    values = controls.config_to_widgets(run.config)
    state.set_widget_values(values, overwrite=True)
    state.lrs_changed(run.config.d_lr, run.config.g_lr)  # already applied: remember
    _follow_base_rates(run.snapshot())


def _follow_base_rates(snapshot: Snapshot) -> None:
    """When the run's base rates change (another tab set them, or ours arrived), the
    sidebar shows them and remembers them as applied, so nothing is sent back."""
    rates = base_rates(snapshot)
    if rates is not None and state.changed_since_last(SEEN_RATES, rates):
        state.lrs_changed(*rates)
        state.set_widget_values({"w_d_lr": format_number(rates[0]),
                                 "w_g_lr": format_number(rates[1])}, overwrite=True)


def run_status(run: Optional[Any]) -> Optional[str]:
    if run is None:
        return None
    current = run.snapshot().run_status
    # Between start() and the thread's first publish the run is already loading.
    return RunStatus.LOADING if current == RunStatus.IDLE and run.is_alive else current


def handle_action(action: str, settings: controls.Settings, run_id: Optional[str],
                  run: Optional[Any]) -> tuple[Optional[str], Optional[Any]]:
    """Do what the pressed button asks; any failure becomes a message, not a crash."""
    try:
        if action == "start":
            return _start(settings, run_id, run)
        if run is None:
            return run_id, run
        if action == "reset":  # asks first: it cannot be undone, and ends every tab's run
            state.ask_confirmation("reset", run_id)
            return run_id, run
        if action == "cancel_reset":
            state.clear_confirmation()
            return run_id, run
        if action == "confirm_reset":
            state.clear_confirmation()
            state.forget_run(run_id)
            return None, None
        if action == "resume":  # through the registry: a parked run needs a free slot
            server.registry().resume(run_id)
            return run_id, run
        if action == "next_step":  # the presenter's strip: slow motion's own step
            slow_motion.next_step(run)
            return run_id, run
        if action == "step":
            state.mark_step_pending(run.snapshot().version)
        {"pause": run.pause, "step": run.step, "stop": run.stop}[action]()
    except Exception as error:  # RegistryFull, a run that refuses: say why
        st.error(f"Could not {action}: {error}")
    return run_id, run


def _start(settings: controls.Settings, run_id: Optional[str],
           run: Optional[Any]) -> tuple[Optional[str], Optional[Any]]:
    if settings.cfg is None:
        st.error(f"Cannot start: {settings.error}")
        return run_id, run
    if run is not None and run.snapshot().is_active:
        st.warning("This run is still going: press Stop or Reset before starting another.")
        return run_id, run
    return state.start_run(settings.cfg, previous_id=run_id)


def _apply_learning_rates(settings: controls.Settings, run: Optional[Any]) -> None:
    cfg = settings.cfg
    if cfg is None or run is None or not run.snapshot().is_active:
        return
    if state.lrs_changed(cfg.d_lr, cfg.g_lr):
        try:
            run.set_learning_rates(d_lr=cfg.d_lr, g_lr=cfg.g_lr)
            st.toast(f"Learning rates now D {cfg.d_lr:g}, G {cfg.g_lr:g}")
        except Exception as error:
            st.sidebar.error(f"Could not change the learning rates: {error}")
