"""The app's pages (st.navigation): "Live training", the default, at `/` (also
`/live`), "Label budget" at `/label-budget` and "Compare runs" at `/compare`.

Streamlit's own page menu drops the query string, and the live page finds its run
through `?run=<id>`; so the menu is hidden and the sidebar draws page links instead, the
live one carrying the run this tab last showed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import streamlit as st

from dashboard import state

LIVE_PATH = "live"
BUDGET_PATH = "label-budget"
BUDGET_SCRIPT = "views/budget/label_budget.py"  # a file page: AppTest can switch to it by path
COMPARE_PATH = "compare"
COMPARE_SCRIPT = "views/compare/compare_runs.py"
# Absolute: Streamlit resolves a page path against the *entry* script's folder, which is
# not dashboard/ when another script runs main() (bench/bench_dashboard.py's wrapper).
_BUDGET_PATH = Path(__file__).resolve().parent / BUDGET_SCRIPT
_COMPARE_PATH = Path(__file__).resolve().parent / COMPARE_SCRIPT
_PAGES: dict[str, st.Page] = {}  # this script run's pages, for st.switch_page


def run(live_page: Callable[[], None]) -> None:
    """Register the pages, draw the links, run the page the URL asks for."""
    _PAGES["live"] = st.Page(live_page, title="Live training", icon=":material/monitoring:",
                             url_path=LIVE_PATH, default=True)
    _PAGES["budget"] = st.Page(_BUDGET_PATH, title="Label budget",
                               icon=":material/stacked_line_chart:", url_path=BUDGET_PATH)
    _PAGES["compare"] = st.Page(_COMPARE_PATH, title="Compare runs",
                                icon=":material/compare:", url_path=COMPARE_PATH)
    page = st.navigation(list(_PAGES.values()), position="hidden")
    st.sidebar.page_link(_PAGES["live"], query_params=state.live_link_params())
    st.sidebar.page_link(_PAGES["budget"])
    st.sidebar.page_link(_PAGES["compare"])
    page.run()


def open_live_page() -> None:
    """Switch this tab to the live page (no run attached: its sidebar decides)."""
    st.switch_page(_PAGES["live"])
