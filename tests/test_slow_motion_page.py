"""The slow-motion panel through AppTest: switching it on pauses the run, Next step
moves the real run (the tiny engine) by exactly one step and shows that step's batches,
loss terms and changes, switching it off resumes the run it paused; a run that cannot
train gets a message, not a button."""
from __future__ import annotations

import numpy as np
import pytest

from dashboard.panels import slow_motion
from sgan_core.training import step_trace as core
from sgan_core.storage.recorded_run import DEMO_FILE
from sgan_core.snapshot import RunStatus
from sgan_core.training.trainer import StepLosses
from tests.fakes import CLASS_NAMES
from tests.test_app import (fake_engine, new_page, progress, server, the_run, tiny_engine,  # noqa: F401
                            wait_for)


def texts(at) -> str:
    return " ".join(e.value for kind in ("markdown", "info", "caption", "warning")
                    for e in getattr(at, kind))


def metrics(at) -> dict[str, str]:
    return {**{metric.label: metric.value for metric in at.metric}, **progress(at)}


def test_next_step_moves_the_real_run_by_one_step_and_explains_it(tiny_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    wait_for(lambda: run.snapshot().step > 0 and run.snapshot().samples is not None)
    at.toggle(key=slow_motion.TOGGLE_KEY).set_value(True).run()
    wait_for(lambda: run.snapshot().run_status == "paused")
    at.run()
    assert not at.exception, at.exception
    assert "Press **Next step**" in texts(at)
    for expected in (1, 2):  # one step per press, each the run's next
        step = run.snapshot().step
        at.button(key=slow_motion.NEXT_KEY).click().run()
        assert not at.exception, at.exception
        assert run.snapshot().step == step + 1 and run.step_trace().step == step + 1
        assert run.snapshot().run_status == "paused"
        assert f"Step {step + 1:,}: (1) D's update, then (2) G's update" in texts(at)
        assert metrics(at)["Step"] == f"{step + 1:,}" and metrics(at)["State"] == "paused"
    trace = run.step_trace()
    losses, changes = (table.value for table in at.table[:2])
    assert losses["value"].iloc[0] == f"{trace.losses.supervised:.4f}"
    assert losses["value"].iloc[3] == f"{trace.discriminator_loss:.4f}"  # as D's update had it
    assert losses["value"].iloc[-1] == f"{trace.losses.generator:.4f}"
    assert len(changes) == 7 and "after G's update" in changes.columns
    captions = [caption for image in at.image for caption in image.captions
                if " · " in caption and caption.endswith("%")]
    assert len(captions) == 5 * 8  # three batches and G's batch before and after
    labels = [str(label) for label in trace.labeled.labels]
    assert [caption.split("→")[0] for caption in captions[:8]] == labels  # truth -> verdict
    assert f"{trace.g_fakes_after.p_verdict[0]:.0%}" in captions[-8]
    at.query_params["present"] = "1"
    at.run()  # the presenter view (larger thumbnails) keeps the panel and its trace
    assert not at.exception and f"Step {trace.step:,}: (1)" in texts(at)


def test_the_switch_and_the_button_drive_the_run_s_commands(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    at.toggle(key=slow_motion.TOGGLE_KEY).set_value(True).run()
    assert ("pause",) in run.calls and not at.exception
    at.button(key=slow_motion.NEXT_KEY).click().run()
    assert run.calls[-1] == ("step", 1, "traced") and not at.exception
    at.button(key="b_resume").click().run()
    assert "training again" in texts(at)
    at.button(key=slow_motion.NEXT_KEY).click().run()  # a running run is paused first
    assert run.calls[-2:] == [("pause",), ("step", 1, "traced")] and not at.exception
    at.toggle(key=slow_motion.TOGGLE_KEY).set_value(False).run()
    assert slow_motion.NEXT_KEY not in [button.key for button in at.button]


def test_a_run_that_has_ended_gets_a_message_not_a_button(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    the_run(at).stop()
    at.toggle(key=slow_motion.TOGGLE_KEY).set_value(True).run()
    assert not at.exception and "this one has ended" in texts(at)
    assert "Next step" not in texts(at)  # no such button here
    assert slow_motion.NEXT_KEY not in [button.key for button in at.button]


def switch(at, on: bool):
    return at.toggle(key=slow_motion.TOGGLE_KEY).set_value(on).run()


def test_switching_off_resumes_the_run_slow_motion_paused(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    switch(at, True)
    at.button(key=slow_motion.NEXT_KEY).click().run()
    assert run.snapshot().run_status == RunStatus.PAUSED
    switch(at, False)
    assert not at.exception and run.calls[-1] == ("resume",)
    assert run.snapshot().run_status == RunStatus.RUNNING
    assert "Resume" not in texts(at)  # nothing is left to do


def test_a_run_paused_by_hand_stays_paused_and_the_page_says_so(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    at.button(key="b_pause").click().run()  # paused before slow motion
    switch(at, True)
    switch(at, False)
    assert run.snapshot().run_status == RunStatus.PAUSED and ("resume",) not in run.calls
    assert "The run stays paused, as it was before slow motion: press Resume" in texts(at)
    at.run()
    assert "stays paused" not in texts(at)  # said once
    switch(at, True)  # paused by slow motion, resumed and paused again by hand
    at.button(key="b_resume").click().run()
    at.button(key="b_pause").click().run()
    switch(at, False)
    assert run.snapshot().run_status == RunStatus.PAUSED and run.calls[-1] == ("pause",)
    assert "press Resume to continue" in texts(at)


@pytest.mark.skipif(not DEMO_FILE.is_file(), reason="no demo recording shipped")
def test_a_recorded_run_says_slow_motion_needs_a_live_run(fake_engine):
    at = new_page(demo="1")
    switch(at, True)
    assert not at.exception
    assert "Slow motion needs a live run: this is a recorded run" in texts(at)
    assert "Next step" not in texts(at)  # there is no such button on a recording
    assert slow_motion.NEXT_KEY not in [button.key for button in at.button]
    switch(at, False)
    assert not at.exception and not at.error


def thumbnails(verdicts, p_verdict, labels=None) -> core.Thumbnails:
    return core.Thumbnails(images=np.zeros((len(verdicts), 28, 28, 1), np.uint8),
                           verdicts=np.array(verdicts), p_verdict=np.array(p_verdict),
                           labels=None if labels is None else np.array(labels))


def constructed_trace() -> core.StepTrace:
    """A step whose unlabeled batch holds a real image D called fake at 43% (each class
    5.7%, so P(real) 57%) and one it called 9 at 80%."""
    fakes = thumbnails([10, 4], [0.9, 0.35])
    return core.StepTrace(
        step=101, losses=StepLosses(0.5, 0.6, 0.7, 0.8, 0.9), discriminator_loss=1.8,
        unsupervised_weight=1.0, d_lr=1e-3, g_lr=1e-3, generator_loss="feature_matching",
        batch_sizes=(1, 2, 2),
        labeled=thumbnails([5], [0.6], labels=[3]), unlabeled=thumbnails([10, 9], [0.43, 0.8]),
        d_fakes=fakes, g_fakes_before=fakes, g_fakes_after=fakes,
        changes=tuple(core.Change(key, 0.5, 0.4, None) for key in core.CHANGES))


def test_captions_give_the_verdict_and_the_probability_of_that_verdict(fake_engine):
    trace = constructed_trace()
    assert slow_motion.thumbnail_captions(trace.unlabeled, CLASS_NAMES) == [
        "fake · 43%", "9 · 80%"]
    assert slow_motion.thumbnail_captions(trace.labeled, CLASS_NAMES) == ["3→5 · 60%"]
    at = new_page()
    at.button(key="b_start").click().run()
    the_run(at).step_trace = lambda: trace
    switch(at, True)
    assert not at.exception
    captions = [caption for image in at.image for caption in image.captions
                if " · " in caption]
    assert captions[:3] == ["3→5 · 60%", "fake · 43%", "9 · 80%"]
    assert "how sure D is of that verdict" in texts(at)
