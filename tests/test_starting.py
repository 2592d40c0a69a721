"""The start-up panel (dashboard/panels/starting.py) and the start-up stage in snapshots
and run files: what a run is doing until its first evaluation, in words and a bar."""
from __future__ import annotations

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.panels import starting
from sgan_core import snapshot as snap
from sgan_core.config import TrainConfig
from sgan_core.storage.run_file_codec import ArrayStore, pack_snapshot, unpack_snapshot
from sgan_core.snapshot import StartStage
from tests import fakes

WORKING = (StartStage.LOADING_DATA, StartStage.BUILDING_MODELS, StartStage.FIRST_EVALUATION)


def starting_snapshot(stage: StartStage, began: float = 1000.0,
                      stage_began: float = 1003.0) -> snap.Snapshot:
    """A run's snapshot during its start-up, as the training thread publishes it."""
    return snap.Snapshot(run_status=snap.RunStatus.LOADING, config=TrainConfig(download=False),
                         start_stage=stage, start_began_at=began, stage_began_at=stage_began)


def test_each_stage_is_said_in_words_with_its_step_and_the_seconds_in_it():
    shown = [starting.progress(starting_snapshot(stage), now=1007.4) for stage in WORKING]
    assert [text for text, _ in shown] == [
        "Step 1 of 3: Loading the data · 4 s",
        "Step 2 of 3: Building the models (discriminator, generator, baseline) · 4 s",
        "Step 3 of 3: First evaluation: samples, confusion matrix, accuracies · 4 s"]
    assert [fraction for _, fraction in shown] == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert starting.since_start(starting_snapshot(StartStage.LOADING_DATA), 1012.0).startswith(
        "12 s since Start.")


def test_before_the_thread_publishes_it_says_starting_at_zero():
    waiting = snap.Snapshot(run_status=snap.RunStatus.IDLE, config=TrainConfig(download=False),
                            start_stage=StartStage.WAITING)
    assert starting.is_starting(waiting)
    assert starting.progress(waiting, now=5.0) == ("Starting · 0 s", 0.0)
    assert starting.since_start(waiting, 5.0).startswith("0 s since Start.")


@pytest.mark.parametrize("changes", [
    {"run_status": snap.RunStatus.RUNNING, "start_stage": StartStage.READY},  # evaluated
    {"evaluation_version": 1},  # a first evaluation is on the page
    {"run_status": snap.RunStatus.FAILED, "error": "MNIST was not found"},  # failed to load
    {"run_status": snap.RunStatus.PAUSED},  # paused before Start: it waits, built
])
def test_nothing_is_shown_past_the_start_up_or_when_it_failed(changes):
    assert not starting.is_starting(
        dataclasses.replace(starting_snapshot(StartStage.LOADING_DATA), **changes))


def _panel(stage_value: str) -> None:
    """AppTest script: the panel for a snapshot at `stage_value` (started 2 s ago)."""
    import time

    from dashboard.panels import starting
    from sgan_core import snapshot as snap
    from sgan_core.config import TrainConfig

    stage = snap.StartStage(stage_value)
    status = snap.RunStatus.RUNNING if stage == snap.StartStage.READY else snap.RunStatus.LOADING
    now = time.time()
    starting.render(snap.Snapshot(run_status=status, config=TrainConfig(download=False),
                                  start_stage=stage, start_began_at=now - 2.0,
                                  stage_began_at=now - 1.0))


def test_the_panel_draws_the_bar_with_its_text_while_starting_only():
    at = AppTest.from_function(_panel, args=("building_models",), default_timeout=30).run()
    assert not at.exception
    bar = at.get("progress")[0]
    assert bar.value == 33 and bar.text.startswith("Step 2 of 3: Building the models")
    caption = at.caption[0].value
    assert caption.endswith(starting.NEXT) and "s since Start." in caption
    done = AppTest.from_function(_panel, args=("ready",), default_timeout=30).run()
    assert not done.exception and not done.get("progress") and not done.caption


def test_run_files_keep_the_stage_and_older_files_open_as_past_the_start_up():
    cfg = TrainConfig(download=False)
    store = ArrayStore()
    shown = fakes.make_snapshot(cfg, start_stage=StartStage.FIRST_EVALUATION,
                                start_began_at=10.0, stage_began_at=12.5)
    packed = pack_snapshot(shown, store)
    back = unpack_snapshot(packed, cfg, ArrayStore(arrays=store.arrays))
    assert back.start_stage is StartStage.FIRST_EVALUATION
    assert (back.start_began_at, back.stage_began_at) == (10.0, 12.5)
    older = {name: value for name, value in packed.items()
             if name not in ("start_stage", "start_began_at", "stage_began_at")}
    read = unpack_snapshot(older, cfg, ArrayStore(arrays=store.arrays))
    assert read.start_stage is StartStage.READY and read.start_began_at is None
    assert not starting.is_starting(read)
