"""Where the page keeps things: the only module touching st.session_state and
st.query_params (the server-wide resources are dashboard/server.py's).

Runs live in the server's RunRegistry (survives reruns, refreshes and other tabs); the
page finds its run through `?run=<id>` in the URL, so a refresh or
a second tab with the same URL re-attaches. Per-tab odds and ends (figure caches, the
button pressed, the learning rates last applied) live in st.session_state.
"""
from __future__ import annotations

import hmac
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

import streamlit as st

from dashboard.server import embeddings, registry

if TYPE_CHECKING:  # no torch on the page's first paint
    from sgan_core.runs.handle import RunHandle

log = logging.getLogger(__name__)
QUERY_KEY = "run"
ADMIN_KEY = "admin"  # ?admin=<SGAN_ADMIN_TOKEN>: the server owner's list of every run
PRESENT_KEY = "present"  # ?present=1: the presenter view (dashboard/views/live/presenter.py)
MOMENT_KEY = "moment"  # ?moment=<step>: the timeline moment a share link opens at
STEP_WAIT_S = 30.0  # keep refreshing this long after Step while its snapshot is due


# --- the run this page shows ----------------------------------------------------------

def current_run() -> tuple[Optional[str], Optional["RunHandle"], Optional[str]]:
    """(run_id, run, notice) for the id in the URL; notice says why a run was not found.

    With no id in the URL the registry is not touched at all (keeps first paint fast).
    """
    run_id = st.query_params.get(QUERY_KEY)
    if not run_id:
        return None, None, None
    run = registry().get(run_id)
    if run is None:
        del st.query_params[QUERY_KEY]
        return None, None, missing_run_words(registry().was_removed(run_id))
    registry().touch(run_id)  # a page shows it: the run keeps its training slot
    return run_id, run, None


def missing_run_words(removed: bool) -> str:
    """Why the link's run is not here: this server removed it, or never had it (a
    mistyped link, or one from before a restart: the server cannot tell those apart)."""
    if removed:
        return ("The run in this link was reset or replaced by a newer run, so it is "
                "gone. Press Start for a new one.")
    return ("This server has no run with the id in this link: it may be mistyped, or "
            "the server was restarted since the link was made. Press Start for a new run.")


def start_run(cfg: Any, previous_id: Optional[str]) -> tuple[str, Any]:
    """Create and start a run, replacing this page's finished one; put its id in the URL.

    Raises RegistryFull (too many runs train at once) with a message for the user.
    """
    run_id, run = registry().create(cfg)  # starts the run's thread
    if previous_id:  # only now: a refused start leaves the old run on the page
        forget_run(previous_id)
    st.query_params[QUERY_KEY] = run_id
    _session()["attached"] = run_id  # our own settings made it: no need to load them
    _session()["applied_lrs"] = (cfg.d_lr, cfg.g_lr)
    return run_id, run


def forget_run(run_id: str) -> None:
    """Stop a run and drop it from the registry, the embedding pool and the URL."""
    registry().remove(run_id)  # stops the run
    embeddings().discard(run_id)
    if st.query_params.get(QUERY_KEY) == run_id:
        del st.query_params[QUERY_KEY]
    for key in ("figures", "frozen", "step_pending"):
        _session().pop(key, None)


def show_run(run_id: str) -> None:
    """Put an existing run (e.g. one opened from a file) on this tab's page: its id in
    the URL, and nothing cached from the run shown before."""
    st.query_params[QUERY_KEY] = run_id
    for key in ("figures", "frozen", "step_pending"):
        _session().pop(key, None)


def query_value(key: str) -> Optional[str]:
    return st.query_params.get(key)


def set_query_value(key: str, value: Optional[str]) -> None:
    """Set a URL parameter, or remove it with None (a no-op when already so: every
    change of the URL is a message to the browser)."""
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def page_url() -> str:
    """This page's address as the browser sees it, without its query ("" where
    Streamlit cannot tell, e.g. in tests: the link is then relative)."""
    return (getattr(st.context, "url", None) or "").split("?")[0]


def presenting() -> bool:
    """The presenter view is on: the URL says so, so a shared link opens it too."""
    return st.query_params.get(PRESENT_KEY, "").lower() in ("1", "true", "yes", "on")


def set_presenting(on: bool) -> None:
    if on:
        st.query_params[PRESENT_KEY] = "1"
    elif PRESENT_KEY in st.query_params:
        del st.query_params[PRESENT_KEY]


def admin_access() -> Optional[bool]:
    """None: no ?admin in the URL; True: it matches SGAN_ADMIN_TOKEN; False otherwise
    (also when the server set no token: then nobody gets the list)."""
    given = st.query_params.get(ADMIN_KEY)
    if given is None:
        return None
    token = os.environ.get("SGAN_ADMIN_TOKEN", "")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def run_link(run_id: str) -> str:
    """A page link to the run, keeping this page's admin token (if any)."""
    admin = st.query_params.get(ADMIN_KEY)
    return f"?{QUERY_KEY}={run_id}" + (f"&{ADMIN_KEY}={admin}" if admin else "")


# --- per-tab session values -----------------------------------------------------------

def _session() -> Any:
    return st.session_state


def needs_widget_sync(run_id: str) -> bool:
    """True the first time this tab shows run_id: its settings must fill the sidebar."""
    if _session().get("attached") == run_id:
        return False
    _session()["attached"] = run_id
    return True


def set_widget_values(values: dict[str, Any], overwrite: bool) -> None:
    """Give widgets their values before they are drawn (defaults, or a run's settings)."""
    for key, value in values.items():
        if overwrite or key not in _session():
            _session()[key] = value


def widget_value(key: str, default: Any = None) -> Any:
    return _session().get(key, default)


def ask_confirmation(action: str, run_id: Optional[str]) -> None:
    _session()["confirm"] = (action, run_id)


def confirmation_pending(action: str, run_id: Optional[str]) -> bool:
    return _session().get("confirm") == (action, run_id)


def clear_confirmation() -> None:
    _session().pop("confirm", None)


def queue_action(name: str) -> None:
    """Button on_click: remember the press; main() acts on it after reading settings."""
    _session()["action"] = name


def pop_action() -> Optional[str]:
    return _session().pop("action", None)


def changed_since_last(name: str, value: Any) -> bool:
    """True (and remembered) when value differs from the one last passed under name."""
    if _session().get(name) == value:
        return False
    _session()[name] = value
    return True


def lrs_changed(d_lr: float, g_lr: float) -> bool:
    """True (and remembered) when the sidebar's learning rates differ from those last
    sent to the run, so each change is sent once rather than on every rerun."""
    return changed_since_last("applied_lrs", (d_lr, g_lr))


def mark_step_pending(version: int) -> None:
    _session()["step_pending"] = (version, time.monotonic())


def step_pending(version: int) -> bool:
    """A Step was pressed and its snapshot (a newer version) has not arrived yet."""
    pending = _session().get("step_pending")
    if pending is None:
        return False
    if version > pending[0] or time.monotonic() - pending[1] > STEP_WAIT_S:
        _session().pop("step_pending", None)
        return False
    return True


def cached(name: str, token: Any, build: Callable[[], Any]) -> Any:
    """build() once per token (e.g. snapshot version): refreshes that bring nothing new
    reuse the figure instead of rebuilding it."""
    figures = _session().setdefault("figures", {})
    hit = figures.get(name)
    if hit is not None and hit[0] == token:
        return hit[1]
    value = build()
    figures[name] = (token, value)
    return value


def frozen(name: str, value: Any, freeze: bool) -> Any:
    """While freeze is on, keep returning the value seen when it was switched on."""
    store = _session().setdefault("frozen", {})
    if freeze and name in store:
        return store[name]
    store[name] = value
    return value


# --- pages and label-budget studies ---------------------------------------------------

LIVE_RUN = "live_run"  # session: the run this tab's live page last showed


def remember_live_run() -> None:
    """Called at the end of a live page run: the page links lead back to this run."""
    _session()[LIVE_RUN] = st.query_params.get(QUERY_KEY)


def live_link_params() -> Optional[dict[str, str]]:
    run_id = _session().get(LIVE_RUN)
    return {QUERY_KEY: run_id} if run_id else None


def keep_widget_values(keys: Any) -> None:
    """Streamlit drops the values of widgets a run does not draw; re-saving them at the
    top of another page keeps the live sidebar's settings for the way back."""
    for key in keys:
        if key in _session():
            _session()[key] = _session()[key]
