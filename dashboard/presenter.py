"""Presenter view: the page as a class sees it on a 1280x720 projector.

On with the sidebar's "Presenter view" switch or `?present=1` in the URL (so a link
opens it); the URL is the one place the choice lives (dashboard/state.py). It hides the
sidebar with CSS rather than skipping it: widgets that are not drawn lose their values,
and the run's settings must survive a presentation. Key numbers become a headline of
four figures in type at least 48 px (BIG_PX) and the page's text grows; a button at the
top leaves the view, since the sidebar's switch is hidden with the sidebar.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import state

TOGGLE_KEY = "w_present"
LEAVE_KEY = "b_leave_present"
BIG_PX = 64  # key numbers: legible from the back of a room (the issue asks >= 48 px)
LABEL_PX = 26
TEXT_PX = 19  # the page's base size, up from Streamlit's 16
PLOT_PX = 20  # chart text, up from figures.FONT_SIZE (ticks were 12 px, counts 11 px)
CSS = f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"] {{ display: none !important; }}
html {{ font-size: {TEXT_PX}px; }}
[data-testid="stMainBlockContainer"] {{ padding: 1.5rem 2rem 2rem; max-width: 100%; }}
.sgan-headline {{ display: flex; gap: 1.5rem; justify-content: space-between;
  margin: 0.25rem 0 0.75rem; }}
.sgan-headline div {{ flex: 1; }}
.sgan-big-label {{ font-size: {LABEL_PX}px; line-height: 1.2; color: #444; }}
.sgan-big {{ font-size: {BIG_PX}px; font-weight: 700; line-height: 1.1; }}
</style>"""


def render() -> bool:
    """The sidebar switch; when the view is on, its style and the Leave button.
    Returns whether the view is on."""
    on = state.presenting()
    state.set_widget_values({TOGGLE_KEY: on}, overwrite=True)  # the URL decides
    st.sidebar.toggle("Presenter view", key=TOGGLE_KEY, on_change=_switched,
                      help="Hides the controls and shows the key numbers large, for a "
                           "projector. The link gets ?present=1, so it opens the same way.")
    if on:
        st.html(CSS)
        st.button("Leave presenter view", key=LEAVE_KEY, on_click=state.set_presenting,
                  args=(False,))
    return on


def _switched() -> None:
    state.set_presenting(bool(state.widget_value(TOGGLE_KEY)))


def headline(figures: list[tuple[str, str]]) -> None:
    """(label, value) pairs as big numbers (plain HTML: st.metric's size is fixed)."""
    cells = "".join(f'<div><div class="sgan-big-label">{label}</div>'
                    f'<div class="sgan-big">{value}</div></div>' for label, value in figures)
    st.markdown(f'<div class="sgan-headline">{cells}</div>', unsafe_allow_html=True)


def enlarged(figure: Any) -> Any:
    """In the presenter view, a copy of `figure` with larger text (the cached figure
    stays as it is for the ordinary page); otherwise `figure` itself. Edited as plain
    values: plotly's checked update_* calls cost 50-160 ms a chart on every refresh."""
    if not state.presenting():
        return figure
    import plotly.graph_objects as go

    spec = figure.to_dict()  # a deep copy
    layout = spec["layout"]
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
            _size(trace, "textfont", PLOT_PX - 4)
    return go.Figure(spec, _validate=False)


def _size(part: dict, font: str, px: int) -> None:
    part.setdefault(font, {})["size"] = px
