"""Side-by-side panel pairs that stack on narrow screens.

At 1024 px with the sidebar open the main column is about 540 px wide: two panels side
by side got 260 px each, where the confusion matrix's counts overlapped and the sample
captions shrank to a few pixels. Streamlit only stacks columns below 640 px,
so pairs made here carry a key that this CSS stacks below WIDE_ENOUGH_PX.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

WIDE_ENOUGH_PX = 1200  # at 1366 px two panels get about 430 px each: readable
PAIR_PREFIX = "pair_"
CSS = f"""<style>
@media (max-width: {WIDE_ENOUGH_PX}px) {{
  [class*="st-key-{PAIR_PREFIX}"] [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}
  [class*="st-key-{PAIR_PREFIX}"] [data-testid="stColumn"] {{ min-width: 100%; }}
  /* columns inside a pair's column (the status's metrics) keep their own width */
  [class*="st-key-{PAIR_PREFIX}"] [data-testid="stColumn"] [data-testid="stColumn"] {{
    min-width: 0; }}
}}
</style>"""


# Streamlit's 6rem above the title is a fifth of a 720-pixel projector's height.
FIRST_SCREEN_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
</style>"""


def install(presenting: bool = False) -> None:
    """Once per script run, before the pairs (a style element takes no room). The
    presenter view sets its own padding (dashboard/views/live/presenter.py)."""
    st.html(CSS if presenting else CSS + FIRST_SCREEN_CSS)


def pair(name: str, widths: Any = 2) -> list[Any]:
    """Two columns side by side on wide screens, one above the other on narrow ones;
    `widths` as st.columns takes it (2: equal halves; [3, 2]: the first wider)."""
    with st.container(key=f"{PAIR_PREFIX}{name}"):
        return st.columns(widths, gap="medium")
