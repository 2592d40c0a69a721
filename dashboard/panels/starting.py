"""While a run starts up, until its first evaluation: what it is doing (loading the
data, building the models, the first evaluation) as a progress bar with words, and how
long it has been going. Before that evaluation every other panel has nothing to show."""
from __future__ import annotations

import time
from typing import Optional

import streamlit as st

from sgan_core.snapshot import RunStatus, START_STEPS, Snapshot, StartStage

STAGE_WORDS = {
    StartStage.WAITING: "Starting",
    StartStage.LOADING_DATA: "Loading the data",
    StartStage.BUILDING_MODELS: "Building the models (discriminator, generator, baseline)",
    StartStage.FIRST_EVALUATION: "First evaluation: samples, confusion matrix, accuracies",
}
NEXT = ("The samples and charts appear after the first evaluation, usually a few "
        "seconds after Start.")


def is_starting(snapshot: Snapshot) -> bool:
    """Started (or about to be) and not yet evaluated, with nothing gone wrong."""
    return (snapshot.run_status in (RunStatus.IDLE, RunStatus.LOADING)
            and snapshot.start_stage in STAGE_WORDS and snapshot.evaluation_version == 0
            and snapshot.error is None)


def seconds_since(moment: Optional[float], now: float) -> float:
    return 0.0 if moment is None else max(0.0, now - moment)


def progress(snapshot: Snapshot, now: float) -> tuple[str, float]:
    """(the bar's text, its fraction) for a starting run at wall-clock time `now`."""
    stage = StartStage(snapshot.start_stage)
    counted = f"Step {stage.step} of {START_STEPS}: " if stage.step >= 1 else ""
    text = (f"{counted}{STAGE_WORDS[stage]} · "
            f"{seconds_since(snapshot.stage_began_at, now):.0f} s")
    return text, stage.fraction


def since_start(snapshot: Snapshot, now: float) -> str:
    return f"{seconds_since(snapshot.start_began_at, now):.0f} s since Start. {NEXT}"


def render(snapshot: Snapshot) -> None:
    """The bar and how long since Start; nothing once the run is past its start-up (the
    status line redraws every second, so the seconds move)."""
    if not is_starting(snapshot):
        return
    now = time.time()
    text, fraction = progress(snapshot, now)
    st.progress(fraction, text=text)
    st.caption(since_start(snapshot, now))
