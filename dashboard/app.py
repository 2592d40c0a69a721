"""SGAN Studio: `streamlit run dashboard/app.py`.

The script runs top to bottom on every interaction: read the run from the URL, draw the
sidebar, act on a pressed button, then draw the panels. Only the panels live inside
fragments that refresh (the status line every second, the charts after each
evaluation, the feature map and inspector per UMAP frame), and only while the run is
moving; a paused or finished run is drawn once and left alone. Nothing heavy happens
before Start: no model is built and umap is never imported here.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root
# that holds the dashboard and sgan_core packages.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from typing import Any, Callable, NamedTuple, Optional  # noqa: E402

import streamlit as st  # noqa: E402

from dashboard import (controls, layout, moment, navigation, presenter, runfiles, server,  # noqa: E402
                       state)
from dashboard.inputs import format_number  # noqa: E402
from dashboard.panels import (admin, confusion, curves, draw, embedding, inspector,  # noqa: E402
                              samples, slow_motion, status, timeline, upload)
from sgan_core.snapshot import STATUS_IDLE, STATUS_LOADING, STATUS_RUNNING, Snapshot  # noqa: E402

REFRESH_S = 1.0
SEEN_RATES = "seen_base_rates"  # session: the run's base rates this tab last showed
log = logging.getLogger("sgan_studio.dashboard")
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


def main() -> None:
    st.set_page_config(page_title="SGAN Studio", page_icon="🧪", layout="wide")
    navigation.run(live_page)  # the live page by default; /label-budget the study page
    server.prewarm_embedding()  # after drawing: its thread must not slow this paint
    server.prewarm_training()  # likewise: torch and the default data, before Start


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
    saving = getattr(getattr(run, "recorder", None), "problem", None)  # run_folder.py
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
    left, right = layout.pair("try")  # a student's own digit: uploaded or drawn
    with left:
        guarded("upload", upload.render, run, run.snapshot())
    with right:
        guarded("drawing", draw.render, run)


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


def base_rates(snapshot: Snapshot) -> Optional[tuple[float, float]]:
    """The base learning rates the run uses now (None before its first publish)."""
    rates = (getattr(snapshot, "base_d_lr", 0.0), getattr(snapshot, "base_g_lr", 0.0))
    return rates if min(rates) > 0 else None


def _follow_base_rates(snapshot: Snapshot) -> None:
    """When the run's base rates change (another tab set them, or ours arrived), the
    sidebar shows them and remembers them as applied, so nothing is sent back."""
    rates = base_rates(snapshot)
    if rates is not None and state.changed_since_last(SEEN_RATES, rates):
        state.lrs_changed(*rates)
        state.set_widget_values({"w_d_lr": format_number(rates[0]),
                                 "w_g_lr": format_number(rates[1])}, overwrite=True)


def rates_moved(snapshot: Snapshot) -> bool:
    rates = base_rates(snapshot)
    return rates is not None and rates != state.widget_value(SEEN_RATES)


def run_status(run: Optional[Any]) -> Optional[str]:
    if run is None:
        return None
    current = run.snapshot().run_status
    # Between start() and the thread's first publish the run is already loading.
    return STATUS_LOADING if current == STATUS_IDLE and run.is_alive else current


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


def should_refresh(snapshot: Snapshot) -> bool:
    """Refresh while the run moves, or while a Step's snapshot is on its way."""
    if snapshot.run_status in (STATUS_IDLE, STATUS_LOADING, STATUS_RUNNING):
        return True
    return state.step_pending(snapshot.version)


def fragment_intervals(snapshot: Snapshot, refresh: bool, eval_every_s: float,
                       frame_s: float) -> tuple[Optional[float], ...]:
    """(status, charts, map and inspector) refresh intervals; None: drawn once.

    A paused run's status line still ticks: another tab may resume it or change its
    rates, and the ticks are the heartbeat that keeps its slot (sgan_core/registry.py).
    """
    status_every = REFRESH_S if refresh or snapshot.is_active else None
    if not refresh:
        return status_every, None, None
    charts_s = max(REFRESH_S, eval_every_s)
    return status_every, charts_s, max(charts_s, frame_s)


class Parts(NamedTuple):
    """The live page's fragments, and how often the charts refresh."""

    status: Callable[[], None]
    samples: Callable[[], None]
    confusion: Callable[[], None]
    curves: Callable[[], None]
    feature_map: Callable[[], None]
    inspector: Callable[[], None]
    charts_every: Optional[float]


def live_parts(run_id: str, run: Any) -> Parts:
    """Fragments at three rates, each redrawing only about when it can show something new
    (every resend costs the server GIL time and the browser a re-render, and both are
    training time on a 2-core laptop): the status line every second, the samples,
    confusion matrix and curves once per evaluation, and the feature map and the
    inspector once per UMAP frame (measured: bench/README.md). Each picture is its own
    fragment so that the page may place it anywhere."""
    from sgan_core.embedding_service import UMAP_FRAME_INTERVAL_S  # light: no umap

    drawn = run.snapshot()
    refresh = should_refresh(drawn)
    live = not runfiles.is_recorded(run)  # a recording's rates never reach the sidebar
    status_every, charts_every, slow_every = fragment_intervals(
        drawn, refresh, run.config.eval_every_s, UMAP_FRAME_INTERVAL_S)

    @st.fragment(run_every=status_every)
    def status_part() -> None:
        server.registry().touch(run_id)
        snapshot = run.snapshot()
        if (should_refresh(snapshot) != refresh or snapshot.run_status != drawn.run_status
                or (live and rates_moved(snapshot))):
            # Changed (here or in another tab): a full rerun updates buttons and timers.
            st.rerun(scope="app")
        draw_status(run_id, snapshot)

    @st.fragment(run_every=charts_every)
    def samples_part() -> None:
        draw_samples(timeline.shown(run)[0])  # the timeline's chosen moment, or live

    @st.fragment(run_every=charts_every)
    def confusion_part() -> None:
        draw_confusion(timeline.shown(run)[0])

    @st.fragment(run_every=charts_every)
    def curves_part() -> None:
        draw_curves(*timeline.shown(run))

    # A run at rest draws its map once; until UMAP has drawn it (the server's UMAP may
    # still be warming up), the map alone keeps refreshing, and one whole-page rerun
    # when it has settles the page again.
    map_waits = not refresh and drawn.features is not None and not map_settled(run_id)

    @st.fragment(run_every=UMAP_FRAME_INTERVAL_S if map_waits else slow_every)
    def map_part() -> None:
        if map_waits and map_settled(run_id):
            st.rerun(scope="app")
        draw_map(run_id, *timeline.shown(run))

    @st.fragment(run_every=slow_every)
    def inspector_part() -> None:
        draw_inspector(timeline.shown(run)[0])

    return Parts(status_part, samples_part, confusion_part, curves_part, map_part,
                 inspector_part, charts_every)


def live_panels(run_id: str, run: Any) -> None:
    """The ordinary page. Its first screen (1280x720 included) holds the numbers and
    a picture: the status beside the sample grid. Then the timeline and slow motion,
    the confusion matrix beside the inspector (both about D's verdicts), the curves,
    the map. Pairs stack on narrow screens (dashboard/layout.py)."""
    parts = live_parts(run_id, run)
    numbers, grid = layout.pair("top", [1.25, 1])
    with numbers:
        parts.status()
    with grid:
        parts.samples()
    timeline.render(run, parts.charts_every)
    guarded("slow motion", slow_motion.render, run)  # one step at a time, when on
    left, right = layout.pair("charts")
    with left:
        parts.confusion()
    with right:
        parts.inspector()
    parts.curves()
    parts.feature_map()


def presenter_panels(run_id: str, run: Any, timeline_slot: Any) -> None:
    """The presenter view: the timeline in the control strip, the key numbers, then the
    Lesson tab's three pictures side by side; the rest of the page one click away in
    tabs."""
    parts = live_parts(run_id, run)
    with timeline_slot:
        timeline.render(run, parts.charts_every, compact=True)
    parts.status()
    lesson, feature_map, inspector_tab, try_it, slow = st.tabs(presenter.TABS)
    with lesson:
        pictures = st.columns([1, 1.1, 1.15], gap="medium")
        with pictures[0], st.container(key="present_samples"):
            parts.samples()
        with pictures[1]:
            parts.confusion()
        with pictures[2]:
            parts.curves()
    with feature_map:
        parts.feature_map()
    with inspector_tab:
        parts.inspector()
    with try_it:
        left, right = st.columns(2, gap="large")
        with left:
            guarded("upload", upload.render, run, run.snapshot())
        with right:
            guarded("drawing", draw.render, run)
    with slow:
        guarded("slow motion", slow_motion.render, run)


def draw_status(run_id: str, snapshot: Snapshot) -> None:
    guarded("status", status.render, snapshot, server.registry().is_parked(run_id))


def draw_samples(snapshot: Snapshot) -> None:
    guarded("samples", samples.render, snapshot, state.presenting())


def draw_confusion(snapshot: Snapshot) -> None:
    guarded("confusion matrix", confusion.render, snapshot, state.presenting())


def draw_curves(snapshot: Snapshot, past: bool = False) -> None:
    """The curves with the timeline's moment marked; the presenter view's picture is
    the accuracy alone (the losses need the ordinary page's width)."""
    mark_step = snapshot.step if past else None
    if state.presenting():
        guarded("accuracy", curves.render_accuracy, snapshot, mark_step)
    else:
        guarded("curves", curves.render, snapshot, mark_step)


def draw_map(run_id: str, snapshot: Snapshot, past: bool = False) -> None:
    """Hand the run's newest features to the server's embedding service (it keeps only
    the newest per run and works on its own thread), then draw its latest frame. A past
    moment of the timeline is drawn from its own features and never sent."""
    if past:
        guarded("feature map", embedding.render, timeline.past_map(snapshot),
                snapshot.class_names)
        return
    service = server.embeddings()
    if snapshot.features is not None:
        service.submit(run_id, snapshot.features)
    guarded("feature map", embedding.render, live_map(run_id, snapshot),
            snapshot.class_names)


def live_map(run_id: str, snapshot: Snapshot) -> Optional[Any]:
    """The service's latest frame; until its first one arrives, a PCA map of the
    snapshot drawn here, so a run at rest (an opened demo: its map is drawn once, not
    refreshed) shows a map at once instead of "shown after the first evaluation"."""
    service = server.embeddings()
    frame = service.latest(run_id)
    if frame is None and snapshot.features is not None:
        frame = state.cached("first_map", (run_id, snapshot.evaluation_version),
                             lambda: moment.pca_frame(snapshot, service.umap_phase))
    return frame


def map_settled(run_id: str) -> bool:
    """The map of a run at rest needs no more refreshes: UMAP drew it, or never will
    (off or failed on this server)."""
    from sgan_core.embedding_service import UmapPhase
    from sgan_core.projection import Method

    frame = server.embeddings().latest(run_id)
    if frame is not None and frame.projection.method is Method.UMAP:
        return True
    return server.embeddings().umap_phase in (UmapPhase.OFF, UmapPhase.FAILED)


def draw_inspector(snapshot: Snapshot) -> None:
    guarded("inspector", inspector.render, snapshot)


def guarded(title: str, render: Callable[..., None], *args: Any) -> None:
    """One panel failing on an odd snapshot must not blank the page or stop training."""
    try:
        render(*args)
    except Exception as error:  # st.rerun/st.stop are BaseException: they pass through
        log.exception("the %s panel failed", title)
        st.error(f"The {title} panel could not be drawn ({error!r}). Training goes on; "
                 "the next update may draw it again.")


if __name__ == "__main__":
    main()
