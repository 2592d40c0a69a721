"""SGAN Studio: `streamlit run dashboard/app.py`, the entry point.

It makes the repository importable, sets the page up and runs the page the URL names
(dashboard/navigation.py: the Live training page of views/live/page.py by default), then
starts what the server loads ahead of the first Start.
"""
from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root
# that holds the dashboard and sgan_core packages.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import navigation, server  # noqa: E402
from dashboard.sidebar import settings  # noqa: E402
from dashboard.views.live.page import live_page  # noqa: E402
from sgan_core.threads import configure_threads  # noqa: E402


def main() -> None:
    configure_threads()  # before anything in this server imports torch
    st.set_page_config(page_title="SGAN Studio", page_icon=":material/science:", layout="wide")
    navigation.run(live_page)  # the live page by default; /label-budget the study page
    server.prewarm_embedding()  # after drawing: its thread must not slow this paint
    server.prewarm_training(settings.default_config)  # likewise: torch and the default data, before Start


if __name__ == "__main__":
    main()
