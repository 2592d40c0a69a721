"""The "Label budget" page: what are the labels worth, with and without the GAN?

Inputs -> a `python -m sgan_core study` subprocess writing runs/studies/<id>; the chart,
table, progress and downloads are read from that folder (dashboard/views/budget/studies.py), so they
fill in as cells land and survive a server restart. While the chosen study runs, one
fragment rereads the folder every second; nothing here trains or imports torch.
"""
from __future__ import annotations

import signal
import sys
from typing import Any, Optional

import streamlit as st

from dashboard.views.budget import results as budget_results, shipped_panel as budget_shipped, shipped, studies
from dashboard.sidebar import settings as controls
from dashboard import server, state
from dashboard.sidebar.inputs import InputError
from sgan_core.cli.common import EXIT_INTERRUPTED
from sgan_core.config import ConfigError
from sgan_core.studies.study import StudySpec

REFRESH_S = 1.0
DEFAULT_LABELS = (1, 5, 10, 50, 100)
LIVE_KEYS = (*controls.config_to_widgets(controls.default_config()), "w_present")
INTRO = """
How much is a label worth? A **study** trains one SGAN and its baseline (the same
classifier on the labeled images alone) for every label count and seed you choose, each
for the same budget, in background processes. The chart fills in as cells finish.
"""


def render() -> None:
    state.keep_widget_values(LIVE_KEYS)  # the live sidebar's settings survive this page
    st.title("Label budget")
    st.markdown(INTRO)
    # The chosen study first: on opening, the shipped one's curve is on screen at once.
    chosen = _choose_study()
    if chosen:
        _study_view(chosen)
    st.subheader("Run a study")
    base = controls.default_config()
    spec, problem = _inputs(base)
    running = _running_study()
    if problem:
        st.warning(problem)
    elif running:
        st.info(f"Study {running} is running: wait for it or cancel it before starting another.")
    # A callback: it runs before the next script run, so that run draws the new study
    # and a Start button already turned off.
    st.button("Start study", key="b_study_start", type="primary", on_click=_start,
              args=(spec,), disabled=bool(problem or running),
              icon=":material/play_arrow:")


# --- inputs -------------------------------------------------------------------------------

def _inputs(base: Any) -> tuple[Optional[StudySpec], Optional[str]]:
    """The study's inputs; (spec, None) or (None, what to change)."""
    from sgan_core.data.datasets import DATASETS

    state.set_widget_values({"wb_dataset": state.widget_value("w_dataset", base.dataset),
                             "wb_seeds": "0 1 2", "wb_unit": "steps", "wb_steps": "2000",
                             "wb_minutes": "1"}, overwrite=False)
    first, second = st.columns(2)
    name = first.selectbox("Dataset", list(DATASETS), key="wb_dataset",
                           format_func=lambda key: DATASETS[key].title)
    limit = controls.dataset_facts(name, base.data_dir, base.validation_size)[0]
    options = studies.label_choices(limit)
    kept = state.widget_value("wb_labels", [c for c in DEFAULT_LABELS if c in options])
    state.set_widget_values({"wb_labels": [c for c in kept if c in options]}, overwrite=True)
    labels = second.multiselect(
        "Labeled examples per class", options, key="wb_labels",
        help=f"Each count is one point on the curve. At most {limit:,} here, so that every "
             "class keeps unlabeled images.")
    first.text_input("Seeds", key="wb_seeds",
                     help="Each seed repeats every label count with other labeled images "
                          "and weights: the band on the chart is their spread.")
    unit = second.radio("Budget per cell", ("steps", "minutes"), key="wb_unit",
                        horizontal=True)
    budget_key = "wb_steps" if unit == "steps" else "wb_minutes"
    second.text_input("Steps per cell" if unit == "steps" else "Minutes per cell",
                      key=budget_key)
    try:
        spec = studies.spec_from_inputs(base, name, labels, state.widget_value("wb_seeds"),
                                        unit, state.widget_value(budget_key))
    except (InputError, ConfigError) as error:
        return None, f"Cannot start: {error}"
    first.caption(f"= {len(spec.cells())} cells, each an SGAN and its baseline")
    return spec, None


# --- starting, choosing, cancelling ---------------------------------------------------------

def _process(study_id: str) -> Optional[Any]:
    return server.study_processes().get(study_id)


def _running_study() -> Optional[str]:
    return next((sid for sid, proc in server.study_processes().items()
                 if proc.poll() is None), None)


def _start(spec: Optional[StudySpec]) -> None:
    if spec is None:
        return
    study_id = studies.new_study_id(spec)
    out = studies.studies_root() / study_id
    launch(study_id, studies.study_command(spec, out), spec)


def launch(study_id: str, command: list[str], spec: Optional[StudySpec]) -> None:
    """Start a study subprocess and show it; an unwritable runs folder is a message."""
    out = studies.studies_root() / study_id
    try:
        server.study_processes()[study_id] = studies.launch(command, out, spec)
    except OSError as error:
        st.error(f"Could not start the study in {out}: {error.strerror or error}. Make the "
                 f"folder writable or set {studies.STUDIES_ENV} to one that is.")
        return
    state.set_widget_values({"wb_study": study_id}, overwrite=True)


def _choose_study() -> Optional[str]:
    """The study to show: this tab's choice, else the running one, else the shipped
    one (a class sees a real curve at once), else the newest on disk."""
    measured = shipped.shipped_ids()
    found = studies.list_studies() + measured
    if not found:
        st.caption("No studies yet: choose the settings below and press Start study.")
        return None
    if state.widget_value("wb_study") not in found:
        first = _running_study() or next(iter(measured), None) or found[0]
        state.set_widget_values({"wb_study": first}, overwrite=True)
    return st.selectbox("Study", found, key="wb_study", format_func=_study_label,
                        help="Every study under the runs folder, newest first, then the "
                             "ones measured earlier that ship with SGAN Studio.")


def _study_label(study_id: str) -> str:
    if shipped.is_shipped(study_id):
        return budget_shipped.label(study_id)
    return studies.read_study(studies.studies_root() / study_id).summary_line()


def _status_text(study: studies.StudyState, proc: Optional[Any]) -> tuple[str, str]:
    """(kind, words): kind is 'running', 'done' or 'stopped'."""
    done, total = len(study.rows), study.total
    if proc is not None and proc.poll() is None:
        from sgan_core.studies.backends import default_workers

        eta = studies.eta_seconds(study.rows, total, default_workers(1))
        left = "time left: after the first cell" if eta is None else \
            f"about {eta / 60:.1f} min left" if eta >= 90 else f"about {eta:.0f} s left"
        return "running", f"Running: {done} of {total or '?'} cells done, {left}."
    if total and done >= total:
        return "done", f"Finished: all {total} cells."
    code = None if proc is None else proc.returncode
    if code == EXIT_INTERRUPTED:  # the study CLI's exit on Cancel's SIGTERM
        why = "cancelled"
    elif code:
        why = f"the study stopped: {studies.last_log_line(study.path) or f'exit code {code}'}"
    else:
        why = "not running (the server restarted, or it was stopped)"
    return "stopped", (f"{done} of {total or '?'} cells finished; {why}. Resume runs the "
                       "missing cells (finished ones are kept).")


# --- the chosen study ---------------------------------------------------------------------------

def _study_view(study_id: str) -> None:
    if shipped.is_shipped(study_id):
        budget_shipped.render(study_id, launch, busy=_running_study() is not None)
        return
    proc = _process(study_id)
    moving = proc is not None and proc.poll() is None

    @st.fragment(run_every=REFRESH_S if moving else None)
    def part() -> None:
        if moving and proc.poll() is not None:
            st.rerun(scope="app")  # finished: buttons and timers change
        _draw_study(studies.read_study(studies.studies_root() / study_id), proc)

    part()
    budget_results.train_live(studies.read_study(studies.studies_root() / study_id))


def _draw_study(study: studies.StudyState, proc: Optional[Any]) -> None:
    kind, words = _status_text(study, proc)
    st.progress(len(study.rows) / study.total if study.total else 0.0, text=words)
    if kind == "running":
        st.button("Cancel study", key="b_study_cancel", icon=":material/stop:",
                  on_click=proc.send_signal, args=(signal.SIGTERM,))
    elif kind == "stopped" and _resume_command(study) and not _running_study():
        st.button("Resume study", key="b_study_resume", on_click=_resume, args=(study,))
    budget_results.draw_results(study)


def _resume_command(study: studies.StudyState) -> Optional[list[str]]:
    """The study's own command again (same --out: finished cells are skipped)."""
    command = list(study.record.get("command") or [])
    if command[:3] != ["python", "-m", "sgan_core"]:
        return None
    return [sys.executable, *command[1:]]


def _resume(study: studies.StudyState) -> None:
    launch(study.study_id, _resume_command(study), None)  # launch.json stays as it was
