"""The live page's panels: where each one goes, in the ordinary page and in the
presenter view, and how often each fragment redraws.

Every panel draws the snapshot of the moment the timeline shows (dashboard/panels/
timeline.py). Only the panels live inside fragments that refresh (the status line every
second, the pictures after each evaluation, the feature map and inspector per UMAP
frame), and only while the run is moving; a paused or finished run is drawn once and
left alone.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, NamedTuple, Optional

import streamlit as st

from dashboard import layout, server, state
from dashboard.figures import moment_choice
from dashboard.views.live import presenter
from dashboard.sidebar import run_files as runfiles
from dashboard.panels import (confusion, curves, draw, embedding, inspector, samples,
                              slow_motion, status, timeline, upload)
from sgan_core.snapshot import RunStatus, Snapshot

REFRESH_S = 1.0
SEEN_RATES = "seen_base_rates"  # session: the run's base rates this tab last showed
log = logging.getLogger("sgan_studio.dashboard")


def base_rates(snapshot: Snapshot) -> Optional[tuple[float, float]]:
    """The base learning rates the run uses now (None before its first publish)."""
    rates = (getattr(snapshot, "base_d_lr", 0.0), getattr(snapshot, "base_g_lr", 0.0))
    return rates if min(rates) > 0 else None


def rates_moved(snapshot: Snapshot) -> bool:
    rates = base_rates(snapshot)
    return rates is not None and rates != state.widget_value(SEEN_RATES)


def should_refresh(snapshot: Snapshot) -> bool:
    """Refresh while the run moves, or while a Step's snapshot is on its way."""
    if snapshot.run_status in (RunStatus.IDLE, RunStatus.LOADING, RunStatus.RUNNING):
        return True
    return state.step_pending(snapshot.version)


def fragment_intervals(snapshot: Snapshot, refresh: bool, eval_every_s: float,
                       frame_s: float) -> tuple[Optional[float], ...]:
    """(status, charts, map and inspector) refresh intervals; None: drawn once.

    A paused run's status line still ticks: another tab may resume it or change its
    rates, and the ticks are the heartbeat that keeps its slot (sgan_core/runs/registry.py).
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
    from sgan_core.features.embedding_service import UMAP_FRAME_INTERVAL_S  # light: no umap

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
        try_panels(run)
    with slow:
        guarded("slow motion", slow_motion.render, run)


def try_panels(run: Any) -> None:
    """A student's own digit for the live D: uploaded or drawn, side by side."""
    left, right = layout.pair("try")
    with left:
        guarded("upload", upload.render, run, run.snapshot())
    with right:
        guarded("drawing", draw.render, run)


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
                             lambda: moment_choice.pca_frame(snapshot, service.umap_phase))
    return frame


def map_settled(run_id: str) -> bool:
    """The map of a run at rest needs no more refreshes: UMAP drew it, or never will
    (off or failed on this server)."""
    from sgan_core.features.embedding_service import UmapPhase
    from sgan_core.features.projection import Method

    service = server.embeddings()
    frame = service.latest(run_id)
    if frame is not None and frame.projection.method is Method.UMAP:
        return True
    return service.umap_phase in (UmapPhase.OFF, UmapPhase.FAILED)


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
