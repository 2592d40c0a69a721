"""The timeline bar: scrub back through the run while it trains, replay it, snap to Live.

The bar lives in its own fragment (it ticks with the charts while the run moves, so new
moments join the slider); the panels read the choice through `shown()`. Any change of
choice, Play or speed reruns the whole page once, so every panel draws the same moment.
Play advances one moment per tick at the chosen speed; after the last moment it stops
and goes Live.
"""
from __future__ import annotations

import time
from typing import Any, Optional

import streamlit as st

from dashboard.figures import moment_choice
from dashboard import state
from dashboard.panels import filmstrip
from dashboard.figures.moment_choice import LIVE
from sgan_core.features.embedding_service import MapFrame
from sgan_core.runs.handle import RunHandle
from sgan_core.snapshot import Snapshot

CHOICE_KEY = "w_timeline"
PLAY_KEY = "w_timeline_play"
SPEED_KEY = "w_timeline_speed"
ADVANCED_AT = "timeline_advanced_at"  # session: when Play last moved on
SEEN = "timeline_seen"  # session: (choice, play, speed) the page was last drawn with


def moments(run: RunHandle) -> tuple:
    """The run's kept moments."""
    return run.timeline().moments()


def shown(run: RunHandle) -> tuple[Snapshot, bool]:
    """(the snapshot every panel draws, whether it is a past moment)."""
    return moment_choice.shown(run.snapshot(), moments(run), state.widget_value(CHOICE_KEY))


def past_map(snapshot: Snapshot) -> Optional[MapFrame]:
    """The feature map of a past moment, built once per moment."""
    return state.cached("past_map", snapshot.evaluation_version,
                        lambda: moment_choice.past_frame(snapshot))


def playing() -> bool:
    return bool(state.widget_value(PLAY_KEY, False))


def tick_every(live_every: Optional[float]) -> Optional[float]:
    """How often the bar reruns: at the play speed while playing, else with the charts."""
    if playing():
        return 1.0 / float(state.widget_value(SPEED_KEY, 1.0))
    return live_every


def render(run: RunHandle, live_every: Optional[float], compact: bool = False) -> None:
    """Draw the bar in a fragment that reruns every `tick_every(live_every)` seconds.
    `compact` (the presenter view's control strip): the slider and Live in one row."""
    @st.fragment(run_every=tick_every(live_every))
    def bar() -> None:
        _bar(run, compact)

    bar()
    if not compact:
        filmstrip.render(run)  # outside the bar's fragment: built on request, not per tick


def _bar(run: RunHandle, compact: bool = False) -> None:
    kept = moments(run)
    if not kept:
        st.caption("Timeline: the first evaluation starts it; then drag back through "
                   "the run while it trains.")
        return
    choice = moment_choice.valid(kept, _chosen(kept))
    if playing():
        choice = _advance(kept, choice)
    state.set_widget_values({CHOICE_KEY: choice}, overwrite=True)
    _share_in_url(kept, choice)
    if compact:
        _compact_bar(kept, choice)
        _rerun_page_on_change()
        return
    # The slider gets the whole row and the controls a row below: side by side, at
    # 1024 px the Live button, the Play label and the speed were cut off.
    st.select_slider("Timeline", moment_choice.options(kept), key=CHOICE_KEY,
                     format_func=lambda stop: moment_choice.label(kept, stop),
                     help="Drag back to see every panel as it was at that moment; "
                          "training goes on meanwhile. The right end is Live.")
    live, play, speed = st.columns(3, vertical_alignment="bottom")
    live.button("Live", key="timeline_live", on_click=_go_live, disabled=choice == LIVE,
                help="Show the newest evaluation again, as it arrives.")
    play.toggle("Play", key=PLAY_KEY, help="Replay the run from the chosen moment.")
    speed.selectbox("Speed", moment_choice.PLAY_SPEEDS, index=1, key=SPEED_KEY,
                    format_func=lambda s: f"{s:g} per s",
                    help="Moments shown per second while playing.")
    st.caption(_words(kept, state.widget_value(CHOICE_KEY), run.snapshot()))
    _rerun_page_on_change()


def _compact_bar(kept: tuple, choice: Any) -> None:
    """The slider without its label, and Live beside it (Play and speed stay on the
    ordinary page: a projector has no room for them)."""
    slider, live = st.columns([6, 1], vertical_alignment="center")
    slider.select_slider("Timeline", moment_choice.options(kept), key=CHOICE_KEY,
                         format_func=lambda stop: moment_choice.label(kept, stop),
                         label_visibility="collapsed",
                         help="Drag back to see the run as it was; Live follows training.")
    live.button("Live", key="timeline_live", on_click=_go_live, disabled=choice == LIVE,
                width="stretch", help="Show the newest evaluation again, as it arrives.")


def _chosen(kept: tuple) -> Any:
    """This tab's choice; on a tab's first view of a run, the URL's ?moment=<step>."""
    chosen = state.widget_value(CHOICE_KEY)
    if chosen is None:
        return moment_choice.at_step(kept, state.query_value(state.MOMENT_KEY))
    return chosen


def chosen_step(run: RunHandle) -> Optional[int]:
    """The training step of the moment this tab shows; None when Live."""
    kept = moments(run)
    shown_moment = moment_choice.find(kept, moment_choice.valid(kept, _chosen(kept)))
    return None if shown_moment is None else shown_moment.step


def _share_in_url(kept: tuple, choice: Any) -> None:
    """The URL names the moment shown (?moment=<step>), so the address bar (and the
    share link) reopen the page there; Live has no parameter."""
    shown = moment_choice.find(kept, choice)
    state.set_query_value(state.MOMENT_KEY, None if shown is None else str(shown.step))


def start_over(keep_url_moment: bool) -> None:
    """Another run on the page: its timeline starts Live, or at the URL's ?moment=."""
    state.set_widget_values({CHOICE_KEY: None, PLAY_KEY: False, SEEN: None}, overwrite=True)
    if not keep_url_moment:
        state.set_query_value(state.MOMENT_KEY, None)


def _advance(kept: tuple, choice: Any) -> Any:
    """One moment on when a Play tick is due (a whole-page rerun also runs this bar:
    the clock keeps it from moving twice per tick)."""
    now = time.monotonic()
    interval = 1.0 / float(state.widget_value(SPEED_KEY, 1.0))
    if now - float(state.widget_value(ADVANCED_AT, 0.0)) < 0.9 * interval:
        return choice
    state.set_widget_values({ADVANCED_AT: now}, overwrite=True)
    following = moment_choice.next_choice(kept, choice)
    if following == LIVE:  # the replay reached the newest moment
        state.set_widget_values({PLAY_KEY: False}, overwrite=True)
    return following


def _go_live() -> None:
    state.set_widget_values({CHOICE_KEY: LIVE, PLAY_KEY: False}, overwrite=True)


def _words(kept: tuple, choice: Any, latest: Snapshot) -> str:
    """What the panels below show, in the slider's own terms."""
    if choice == LIVE:
        return (f"Live: every panel shows the newest evaluation. {len(kept)} moments "
                "kept to scrub back through.")
    chosen = moment_choice.find(kept, choice)
    return (f"Showing the run at {moment_choice.label(kept, choice)} (the status line and the "
            f"curves' newest points stay live at step {latest.step:,}); the dotted line "
            f"on the curves marks step {chosen.step:,}. Press Live to follow training.")


def _rerun_page_on_change() -> None:
    """A choice made here reaches the other panels' fragments only through a whole-page
    rerun; once per change (the first draw just records what it showed)."""
    seen = (state.widget_value(CHOICE_KEY), playing(), state.widget_value(SPEED_KEY))
    first = state.widget_value(SEEN) is None
    if state.changed_since_last(SEEN, seen) and not first:
        st.rerun(scope="app")
