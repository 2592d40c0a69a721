"""Presenter view: the lesson on one projector screen (1280x720 or 1920x1080), no
scrolling.

On with the sidebar's "Presenter view" switch or `?present=1` in the URL (so a link
opens it); the URL is the one place the choice lives (dashboard/state.py). It hides the
sidebar with CSS rather than skipping it: widgets that are not drawn lose their values,
and the run's settings must survive a presentation (Start here trains with them).

The screen, top to bottom: a control strip (Start, Pause or Resume, Stop, Next step,
the timeline, Leave), the key numbers in type at least 48 px (BIG_PX), then tabs whose
first, "Lesson", holds the three pictures side by side (samples with verdicts, the
(N+1) confusion matrix, SGAN vs baseline accuracy); the map, the inspector, the drawing
and slow motion are one click away in the other tabs.
"""
from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from dashboard import state

TOGGLE_KEY = "w_present"
LEAVE_KEY = "b_leave_present"
STRIP_KEY = "present_strip"  # the control strip's container (a CSS hook)
BIG_PX = 56  # key numbers: legible from the back of a room (at least 48 px)
LABEL_PX = 22
TEXT_PX = 19  # the page's base size, up from Streamlit's 16
PLOT_PX = 18  # chart text, up from figures.FONT_SIZE; the smallest (ticks, counts) 16
PICTURE_PX = 430  # height of each picture of the Lesson tab: fits 720 px with the rest
TABS = ("Lesson", "Feature map", "Inspector", "Draw or upload", "Slow motion")
CSS = f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"] {{ display: none !important; }}
html {{ font-size: {TEXT_PX}px; }}
[data-testid="stMainBlockContainer"] {{ padding: 0.6rem 1.5rem 0.5rem; max-width: 100%; }}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: 0.45rem; }}
.sgan-headline {{ display: flex; gap: 1.25rem; justify-content: space-between;
  align-items: flex-end; margin: 0; }}
.sgan-headline > div {{ flex: 1 1 auto; }}
.sgan-headline > div.sgan-progress {{ flex: 0 1 17rem; font-size: {LABEL_PX - 2}px; color: #333; }}
.sgan-big-label {{ font-size: {LABEL_PX}px; line-height: 1.15; color: #444; }}
.sgan-big {{ font-size: {BIG_PX}px; font-weight: 700; line-height: 1.05; white-space: nowrap; }}
.st-key-{STRIP_KEY} button p {{ font-size: 17px; }}
.sgan-picture-title {{ font-size: 20px; font-weight: 600; margin: 0 0 0.2rem; }}
[data-testid="stTabs"] button[role="tab"] p {{ font-size: 18px; }}
.st-key-present_samples img {{ max-height: {PICTURE_PX - 30}px; width: auto !important;
  max-width: 100%; display: block; margin: 0 auto; }}
</style>"""


def render() -> bool:
    """The sidebar switch; when the view is on, its style. Returns whether it is on."""
    on = state.presenting()
    state.set_widget_values({TOGGLE_KEY: on}, overwrite=True)  # the URL decides
    st.sidebar.toggle("Presenter view", key=TOGGLE_KEY, on_change=_switched,
                      help="The lesson on one projector screen: controls in a strip on "
                           "top, the key numbers large, samples, confusion matrix and "
                           "accuracy side by side, the rest in tabs. The link gets "
                           "?present=1, so it opens the same way.")
    if on:
        st.html(CSS)
    return on


def _switched() -> None:
    state.set_presenting(bool(state.widget_value(TOGGLE_KEY)))


def strip(enabled: set[str], start_blocker: Optional[str], can_step: bool) -> Any:
    """The control strip: Start, Pause or Resume, Stop, Next step, a slot for the
    timeline (returned: the page fills it once the run's timeline exists), Leave.
    `enabled` are the sidebar's usable buttons (dashboard/sidebar/settings.py), so both agree;
    a press is queued like the sidebar's and handled on the rerun."""
    with st.container(key=STRIP_KEY):
        cells = st.columns([1.05, 1.3, 1, 1.3, 4.6, 1.15], vertical_alignment="center")
    start_off = "Start" not in enabled or start_blocker is not None
    cells[0].button("Start", key="p_start", icon=":material/play_arrow:", type="primary",
                    disabled=start_off, width="stretch", on_click=state.queue_action,
                    args=("start",), help=start_blocker)  # why Start is off, if it is
    resume = "Resume" in enabled
    cells[1].button("Resume" if resume else "Pause", key="p_pause",
                    icon=":material/resume:" if resume else ":material/pause:",
                    disabled=not (resume or "Pause" in enabled), width="stretch",
                    on_click=state.queue_action, args=("resume" if resume else "pause",))
    cells[2].button("Stop", key="p_stop", icon=":material/stop:", width="stretch",
                    disabled="Stop" not in enabled, on_click=state.queue_action,
                    args=("stop",))
    # No tooltips on the strip's other buttons: a tooltip opens over the key numbers
    # wherever the presenter's mouse rests.
    cells[3].button("Next step", key="p_next", icon=":material/skip_next:",
                    width="stretch", disabled=not can_step, on_click=state.queue_action,
                    args=("next_step",))
    cells[5].button("Leave", key=LEAVE_KEY, icon=":material/close_fullscreen:",
                    width="stretch", on_click=state.set_presenting, args=(False,))
    return cells[4]


def headline(figures: list[tuple[str, str]], progress_html: str = "") -> None:
    """(label, value) pairs as big numbers (plain HTML: st.metric's size is fixed),
    then where the run is (`progress_html`, dashboard/panels/status.py) in smaller type."""
    cells = "".join(f'<div><div class="sgan-big-label">{label}</div>'
                    f'<div class="sgan-big">{value}</div></div>' for label, value in figures)
    st.markdown(f'<div class="sgan-headline">{cells}{progress_html}</div>',
                unsafe_allow_html=True)


def picture_title(title: str) -> None:
    st.markdown(f'<div class="sgan-picture-title">{title}</div>', unsafe_allow_html=True)


def enlarged(figure: Any, height: Optional[int] = None) -> Any:
    """In the presenter view, a copy of `figure` with larger text (the cached figure
    stays as it is for the ordinary page) and, if given, another height; otherwise
    `figure` itself. Edited as plain values: plotly's checked update_* calls cost
    50-160 ms a chart on every refresh."""
    if not state.presenting():
        return figure
    import plotly.graph_objects as go

    spec = figure.to_dict()  # a deep copy
    layout = spec["layout"]
    if height is not None:
        layout["height"] = height
    _size(layout, "font", PLOT_PX)
    _size(layout.setdefault("legend", {}), "font", PLOT_PX - 2)
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")):
            _size(axis, "tickfont", PLOT_PX - 2)
            _size(axis.setdefault("title", {}), "font", PLOT_PX)
    for annotation in layout.get("annotations", ()):  # subplot titles
        _size(annotation, "font", PLOT_PX)
    for trace in spec["data"]:
        if trace.get("type") == "heatmap":  # the confusion matrix's counts
            _size(trace, "textfont", PLOT_PX - 2)
    return go.Figure(spec, _validate=False)


def _size(part: dict, font: str, px: int) -> None:
    part.setdefault(font, {})["size"] = px
