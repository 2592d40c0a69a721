"""The server owner's list of every run (`?admin=<SGAN_ADMIN_TOKEN>`).

Visitors only ever reach their own run, through its unguessable link. Whoever started
the server can open this list to see every run, open one, and stop one that someone
left training (the CPU is shared). Without the token in the URL nothing here is drawn.
"""
from __future__ import annotations

from typing import Any, Optional

import streamlit as st

from dashboard import server, state
from dashboard.panels.status import duration
from sgan_core.data.datasets import labels_per_class_words

NO_ACCESS = ("This runs list needs the token the server was started with "
             "(SGAN_ADMIN_TOKEN); the one in this link does not match, or the server set "
             "none. Visitors can still open their own runs by their links.")


def render(access: Optional[bool]) -> None:
    """None: not asked for (draw nothing); False: wrong token; True: the list."""
    if access is None:
        return
    if not access:
        st.warning(NO_ACCESS)
        return
    rows = server.registry().overview()
    with st.expander(f"Runs on this server ({len(rows)})", expanded=True):
        if not rows:
            st.caption("No runs right now.")
        for info in rows:
            _row(info)


def _row(info: Any) -> None:
    snapshot = info.run.snapshot()
    cfg = info.run.config
    status = "paused for want of a viewer" if info.parked else snapshot.run_status
    text, link, stop = st.columns([6, 1, 1], vertical_alignment="center")
    text.markdown(
        f"`{info.run_id[:8]}` **{status}** · step {snapshot.step:,} · "
        f"{duration(snapshot.elapsed_s)} trained · {cfg.dataset}, "
        f"{labels_per_class_words(cfg.labels_per_class)} · "
        f"last seen {duration(info.unseen_s)} ago")
    link.link_button("Open", state.run_link(info.run_id), width="stretch")
    stop.button("Stop", key=f"admin_stop_{info.run_id}", width="stretch",
                disabled=not snapshot.is_active, on_click=_stop, args=(info.run_id,))


def _stop(run_id: str) -> None:
    run = server.registry().get(run_id)
    if run is not None:
        run.stop(timeout=2.0)
