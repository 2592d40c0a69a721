"""Save, open and share runs on the live page.

* "Download this run": the run on the page as one run file (sgan_core/storage/run_file.py),
  built when the button is pressed (Streamlit's deferred download), small enough for the
  page to open again.
* "Open a run file" and "Open the recorded demo run": a RecordedRun (read-only: it does
  not train) joins the server's registry under a fresh id, so the page draws it with
  every panel and the timeline like any run, and the URL leads back to it.
* The share link: this page, run and timeline moment as query parameters; the demo's
  link says ?demo=1 instead of a run id, so it works on any server, after a restart too.
"""
from __future__ import annotations

import io
from typing import Any, Optional

import streamlit as st

from dashboard import server, state
from dashboard.panels import timeline
from sgan_core.snapshot import RunStatus

DEMO_KEY = "demo"  # ?demo=1: the shipped recording
UPLOAD_KEY = "w_run_file"
OPENED = "run_file_opened"  # session: the upload last opened (a rerun must not reopen it)
REFUSED = "run_file_refused"  # session: (upload id, why it was refused)
EXPORT_BUDGET_BYTES = 30 * 2**20  # a page export stays well inside the page's 50 MB cap
EXPORT_FAKES = 100  # fakes kept per moment behind the confusion matrix's fake row
EXPLANATION = ("A run file holds what the page shows (settings, curves, the timeline's "
               "moments, the discriminator's weights): train at home, open it in class. "
               "It is plain data, never a pickle, so opening one cannot run code. An "
               "opened run does not train; Start begins a live one.")


def is_recorded(run: Any) -> bool:
    from sgan_core.storage.recorded_run import RecordedRun  # torch-free

    return isinstance(run, RecordedRun)


def is_demo(run: Any) -> bool:
    from sgan_core.storage.recorded_run import DEMO_FILE

    return is_recorded(run) and run.source_name == DEMO_FILE.name


def follow_url() -> None:
    """Before the page reads its run: ?demo=1 with no (or an unknown) run opens the demo
    (render_sidebar drops the flag beside any other run)."""
    if state.query_value(DEMO_KEY) and server.registry().get(
            state.query_value(state.QUERY_KEY)) is None:
        _say(_open(_demo, keep_moment=True))


def render_sidebar(run: Optional[Any]) -> None:
    """The sidebar's "Save, open, share" box (drawn after the buttons' actions: a Start
    that replaced the demo also drops ?demo=1)."""
    if state.query_value(DEMO_KEY) and not is_demo(run):
        state.set_query_value(DEMO_KEY, None)
    from sgan_core.storage.run_file import MAX_FILE_BYTES

    with st.sidebar.expander("Save, open, share", expanded=run is None or is_recorded(run)):
        demo_button("demo_sidebar")
        upload = st.file_uploader("Open a run file (.sganrun)", type=["sganrun"],
                                  key=UPLOAD_KEY, max_upload_size=MAX_FILE_BYTES // 2**20,
                                  help="A run saved with Download this run, or recorded "
                                       "by `python -m sgan_core train ... --export FILE`.")
        if upload is not None and state.changed_since_last(OPENED, upload.file_id):
            problem = _open(lambda: _uploaded(upload))
            state.set_widget_values({REFUSED: (upload.file_id, problem)}, overwrite=True)
        refused = state.widget_value(REFUSED)
        if upload is not None and refused and refused[0] == upload.file_id:
            st.error(refused[1], icon=":material/block:")  # while that file stays in the box
        if run is not None:
            _download(run)
            st.caption("Share link (opens this page, run and moment):")
            st.code(share_link(run), language=None, wrap_lines=True)
        st.caption(EXPLANATION)


def demo_button(key: str) -> None:
    from sgan_core.storage.recorded_run import DEMO_FILE

    if DEMO_FILE.is_file():
        st.button("Open the recorded demo run", key=key, icon=":material/movie:",
                  width="stretch",
                  on_click=state.queue_action, args=("open_demo",),
                  help="A run recorded earlier: every panel and the whole timeline at "
                       "once, no waiting. Start a live run afterwards.")


def handle_action(action: Optional[str]) -> Optional[str]:
    """The demo buttons' press (queued like the sidebar's buttons); other actions pass."""
    if action != "open_demo":
        return action
    _say(_open(_demo))
    return None


def banner(run: Any) -> None:
    """Above the panels of a recorded run: what it is, and that it does not train. In
    the presenter view one line (the rest behind its "?"): the lesson must fit the
    screen."""
    manifest = run.manifest
    when = str(manifest.get("created_utc") or "")[:16].replace("T", " ")
    command = manifest.get("command")
    head = (f"**Recorded run** from `{run.source_name}`" + (f", saved {when} UTC" if when else "")
            + f": {run.snapshot().step:,} steps. It is not training")
    details = (": every panel and the timeline show what it recorded. "
               + test_set_words(run.config)
               + " Press **Start** for a live run with the sidebar's settings."
               + (f"\n\nRecorded with `{' '.join(command)}`" if command else ""))
    if state.presenting():
        st.caption(f":material/history: {head}; Start begins a live run.",
                   help=head + details)
    else:
        st.info(head + details, icon=":material/history:")


def test_set_words(cfg: Any) -> str:
    """Which test images the page's accuracies come from: a recording's figures are
    its periodic evaluations', on a subset, and differ a little from the final ones
    on the whole test set (the README's, and a run folder's metrics.json)."""
    return (f"Its accuracies are measured on {cfg.eval_test_subset:,} test images, as "
            "during training; the final figures on the whole test set (metrics.json of "
            "its run folder) differ a little.")


def share_link(run: Any) -> str:
    """This page's URL with the run (or ?demo=1), the timeline moment and presenter view."""
    params = {DEMO_KEY: "1"} if is_demo(run) else {state.QUERY_KEY: run.run_id}
    step = timeline.chosen_step(run)
    if step is not None:
        params[state.MOMENT_KEY] = str(step)
    if state.presenting():
        params[state.PRESENT_KEY] = "1"
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{state.page_url()}?{query}"


def download_name(run: Any) -> str:
    """The run file's name. It names the step only for a run at rest: the file is built
    when the button is pressed, and a training run is further on by then than when the
    page drew the button."""
    snapshot = run.snapshot()
    at_rest = snapshot.run_status not in (RunStatus.IDLE, RunStatus.LOADING, RunStatus.RUNNING)
    step = f"-step{snapshot.step}" if at_rest else ""
    return f"sgan-{run.config.dataset}-{run.config.labels_per_class}x{step}.sganrun"


def _download(run: Any) -> None:
    st.download_button("Download this run", data=lambda: export_bytes(run),
                       icon=":material/download:", file_name=download_name(run),
                       mime="application/zip", key="download_run", width="stretch",
                       on_click="ignore", disabled=run.snapshot().confusion is None,
                       help="The whole run in one file (built when you press it).")


def export_bytes(run: Any) -> bytes:
    """The run file of `run` as the page offers it (no Streamlit call: this runs when
    the button is pressed, outside the script)."""
    from sgan_core.storage.run_file import ExportOptions, export_run

    buffer = io.BytesIO()
    export_run(run, buffer, ExportOptions(max_moments=page_moments(run),
                                          fakes_per_moment=EXPORT_FAKES,
                                          compress_level=1))  # the visitor waits for it
    return buffer.getvalue()


def page_moments(run: Any) -> int:
    """How many timeline moments fit EXPORT_BUDGET_BYTES (all 120 of an MNIST run;
    fewer for larger images), judged by the newest moment's size."""
    from sgan_core.runs.timeline import DEFAULT_CAPACITY

    kept = run.timeline().moments()
    if not kept:
        return DEFAULT_CAPACITY
    newest = kept[-1]
    shared = newest.cells.real_images.nbytes if newest.cells is not None else 0
    fakes = newest.cells.fake_images if newest.cells is not None else ()
    extra_fakes = max(0, len(fakes) - EXPORT_FAKES) * (fakes[0].nbytes if len(fakes) else 0)
    per_moment = max(1, newest.nbytes() - shared - extra_fakes)
    return max(2, min(DEFAULT_CAPACITY, EXPORT_BUDGET_BYTES // per_moment))


def _demo() -> Any:
    from sgan_core.storage.recorded_run import open_demo

    return open_demo()


def _uploaded(upload: Any) -> Any:
    from sgan_core.storage.recorded_run import open_run_file

    return open_run_file(upload, upload.name)


def _open(load: Any, keep_moment: bool = False) -> Optional[str]:
    """Load a recorded run and show it (the page reruns); a refused file changes nothing
    (the page keeps its run; a live run keeps training at its link): returns why."""
    from sgan_core.storage.run_file import RunFileError

    try:
        run = load()
    except RunFileError as error:
        return f"Could not open it: {error}"
    except OSError as error:  # the shipped file missing or unreadable
        return f"Could not open the run file: {error.strerror or error}."
    state.show_run(server.registry().add(run))
    timeline.start_over(keep_url_moment=keep_moment)
    if is_demo(run):
        state.set_query_value(DEMO_KEY, "1")
    st.rerun()
    return None


def _say(problem: Optional[str]) -> None:
    if problem:
        st.error(problem, icon=":material/block:")
