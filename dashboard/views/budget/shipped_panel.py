"""A shipped study on the Label budget page: its curve at once, labelled as measured
earlier with its command, date, machine and versions, and "Re-run it here" (the same
study command, into the runs folder, as one of the page's own studies)."""
from __future__ import annotations

from typing import Callable, Optional

import streamlit as st

from dashboard.views.budget import results as budget_results, shipped, studies
from dashboard.sidebar import settings as controls
from sgan_core.studies.study import StudySpec


def label(study_id: str) -> str:
    """The study in the page's list."""
    study = shipped.read_shipped(study_id)
    record = study.record
    steps = (record.get("base_config") or {}).get("max_steps")
    return (f"Measured earlier: {budget_results.dataset_title(study)}, "
            + studies.sweep_words(record.get("labels_per_class", ()),
                                  len(record.get("seeds", ())), steps))


def render(study_id: str, launch: Callable[..., None], busy: bool) -> None:
    """The shipped study: where it was measured, its results, and the re-run button."""
    study = shipped.read_shipped(study_id)
    if not study.rows:
        st.warning(f"The shipped study in {study.path} has no readable results.json: "
                   "copy it again from the study's output folder.")
        return
    missing = study.total - len(study.rows)
    partial = f" It holds {len(study.rows)} of its {study.total} cells." if missing > 0 else ""
    # The chart first (its title says "measured earlier"): with the provenance above
    # it, the curve started below the fold at 1024x768.
    budget_results.draw_results(study, title_note="measured earlier")
    st.info(f"**{shipped.provenance(study.record)}**{partial} Not run on this machine: "
            "press Re-run it here to measure it again.", icon=":material/history:")
    with st.expander("Exact command"):
        st.code(shipped.command_text(study.record), language="bash", wrap_lines=True)
    _rerun(study, launch, busy)
    budget_results.train_live(study)


def _rerun(study: studies.StudyState, launch: Callable[..., None], busy: bool) -> None:
    spec = _spec(study)
    minutes = shipped.measured_minutes(study)
    took = "" if minutes is None else " It took under a minute where it was measured." \
        if minutes < 1 else f" It took about {minutes:.0f} min where it was measured."
    st.caption("Re-run it here runs the same command, with the recorded settings where "
               "today's defaults differ, on this server's data folder, into the runs "
               f"folder; finished cells survive a restart.{took}")
    st.button("Re-run it here", key="b_study_rerun", icon=":material/replay:",
              on_click=_start, args=(study, spec, launch),
              disabled=busy or spec is None,
              help="Another study is running: wait for it or cancel it." if busy else None)


def _spec(study: studies.StudyState) -> Optional[StudySpec]:
    """The shipped study's grid as this server's study (for launch.json and the list)."""
    record = study.record
    base = record.get("base_config") or {}
    try:
        return StudySpec(base=controls.default_config().replace(
                             dataset=str(base["dataset"]),
                             max_steps=int(base.get("max_steps") or 0),
                             time_budget_s=float(base.get("time_budget_s") or 0.0)),
                         labels_per_class=tuple(int(c) for c in record["labels_per_class"]),
                         seeds=tuple(int(s) for s in record["seeds"]))
    except (KeyError, TypeError, ValueError):  # ConfigError is a ValueError
        return None


def _start(study: studies.StudyState, spec: Optional[StudySpec],
           launch: Callable[..., None]) -> None:
    if spec is None:
        return
    study_id = studies.new_study_id(spec)
    out = studies.studies_root() / study_id
    command = shipped.rerun_command(study.record, controls.default_config().data_dir, out)
    if command is None:
        st.error("The shipped study does not record a study command, so it cannot be "
                 "re-run from here.")
        return
    launch(study_id, command, spec)
