"""sgan_core.runs.training_run.TrainingRun: the thread's life cycle, commands, errors and NaN handling.

Every wait polls the published snapshot with a deadline; nothing asserts on timings.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from typing import Callable

import numpy as np
import pytest
import torch

from sgan_core.runs import training_run as run_module
from sgan_core import snapshot as snap
from sgan_core.config import ConfigError, TrainConfig
from sgan_core.training.evaluation import Evaluator
from sgan_core.runs.training_run import TrainingRun
from sgan_core.training.trainer import Trainer
from tiny_config import tiny_cfg


pytestmark = pytest.mark.usefixtures("one_torch_thread")




def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    """Poll until predicate() is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def run_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sgan-run-")}


@pytest.fixture
def make_run(idx_dataset):
    """Factory: make_run(**config changes) -> TrainingRun; every run is stopped after."""
    runs: list[TrainingRun] = []
    data_dir = idx_dataset()

    def make(cfg: TrainConfig | None = None, **changes) -> TrainingRun:
        run = TrainingRun(cfg or tiny_cfg(data_dir, **changes))
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.stop()


def status_is(run: TrainingRun, *statuses: str) -> Callable[[], bool]:
    return lambda: run.snapshot().run_status in statuses


# ----------------------------------------------------------------------------- life cycle

def test_start_pause_step_resume_stop(make_run):
    threads_before = run_threads()
    run = make_run()
    assert run.snapshot().run_status == snap.RunStatus.IDLE and not run.is_alive
    run.start()
    wait_for(lambda: run.snapshot().step > 0 and run.snapshot().run_status == "running",
             what="a running snapshot past step 0")
    current = run.snapshot()
    assert current.confusion.shape == (11, 11) and current.samples is not None
    assert current.class_names == tuple(str(d) for d in range(10))
    assert current.images_per_second > 0 and current.error is None

    run.pause()
    wait_for(status_is(run, "paused"), what="paused")
    paused_at = run.snapshot().step
    assert run.trainer.step_count == paused_at
    time.sleep(0.3)  # give a (wrongly) running thread the chance to step
    assert run.trainer.step_count == paused_at and run.snapshot().step == paused_at
    assert run.is_alive

    run.step(2)
    wait_for(lambda: run.snapshot().step == paused_at + 2, what="two single steps")
    assert run.snapshot().run_status == "paused"
    time.sleep(0.2)
    assert run.trainer.step_count == paused_at + 2  # exactly two, then it waits again

    run.resume()
    wait_for(lambda: run.snapshot().step > paused_at + 2
             and run.snapshot().run_status == "running", what="running again")

    run.stop()
    assert not run.is_alive
    assert run.snapshot().run_status == snap.RunStatus.STOPPED
    assert run_threads() - threads_before == set()  # no thread left behind
    run.stop()  # idempotent


def test_stop_before_start_and_while_paused(make_run):
    never_started = make_run()
    never_started.stop()
    assert not never_started.is_alive
    run = make_run()
    run.pause()  # before start: the run builds its models and waits
    run.start()
    wait_for(status_is(run, "paused"), what="paused after loading")
    assert run.trainer.step_count == 0
    run.stop()
    assert not run.is_alive and run.snapshot().run_status == "stopped"


def test_max_steps_finishes_the_run(make_run):
    run = make_run(max_steps=3)
    run.start()
    wait_for(status_is(run, "finished"), what="finished")
    wait_for(lambda: not run.is_alive, what="the thread to end by itself")
    final = run.snapshot()
    assert final.step == run.trainer.step_count == 3
    assert final.error is None
    assert final.history["step"][-1] == 3  # the last evaluation is in the history
    assert np.isfinite(final.history["supervised_loss"]).all()


def test_start_up_stages_are_published_in_order(make_run, monkeypatch, tmp_path):
    """On the bundled subset (an empty data folder): while each start-up stage's work
    runs, the snapshot names that stage, each begun no earlier than the one before; the
    first evaluation ends the start-up. Each stage's work waits for the test's go."""
    stages = (snap.StartStage.LOADING_DATA, snap.StartStage.BUILDING_MODELS,
              snap.StartStage.FIRST_EVALUATION)
    go = {stage: threading.Event() for stage in stages}

    def held(stage, work):
        def wait_then_work(*args, **kwargs):
            go[stage].wait(30)
            return work(*args, **kwargs)
        return wait_then_work

    monkeypatch.setattr("sgan_core.runs.training_run.load_split", held(stages[0], run_module.load_split))
    monkeypatch.setattr("sgan_core.runs.training_run.Trainer", held(stages[1], Trainer))
    monkeypatch.setattr(Evaluator, "evaluate", held(stages[2], Evaluator.evaluate))
    run = make_run(tiny_cfg(tmp_path / "empty"))
    assert run.snapshot().start_stage == snap.StartStage.WAITING
    seen = []
    try:
        run.start()
        for stage in stages:
            seen.append(wait_for(lambda: (s := run.snapshot()).start_stage == stage and s,
                                 what=f"the stage {stage.value}"))
            go[stage].set()
    finally:
        for gate in go.values():
            gate.set()
    assert all(s.run_status == snap.RunStatus.LOADING and s.evaluation_version == 0
               and s.start_began_at == seen[0].stage_began_at for s in seen)
    began = [s.stage_began_at for s in seen]
    assert began == sorted(began)
    assert [s.start_stage.fraction for s in seen] == [0, 1 / 3, 2 / 3]
    ready = wait_for(lambda: (s := run.snapshot()).evaluation_version == 1 and s,
                     what="the first evaluation")
    assert ready.start_stage == snap.StartStage.READY and ready.stage_began_at >= began[-1]
    assert ready.run_status == snap.RunStatus.RUNNING and ready.samples is not None
    assert "bundled subset" in ready.data_source


def test_progress_is_published_between_evaluations(make_run, monkeypatch):
    """The status line ticks every PROGRESS_EVERY_S while evaluation keeps its interval;
    evaluated fields ride along unchanged, tagged by evaluation_version."""
    monkeypatch.setattr("sgan_core.runs.training_run.PROGRESS_EVERY_S", 0.05)
    run = make_run(eval_every_s=1000.0)  # only the build evaluates in this test
    run.start()
    first = wait_for(lambda: (s := run.snapshot()).evaluation_version == 1 and s,
                     what="the first evaluated snapshot")
    later = wait_for(lambda: (s := run.snapshot()).version >= first.version + 3
                     and s.step > first.step and s, what="progress-only snapshots")
    assert later.evaluation_version == first.evaluation_version == 1
    assert later.samples is first.samples and later.test_accuracy == first.test_accuracy
    assert later.elapsed_s > first.elapsed_s and later.images_per_second > 0
    run.pause()
    paused = wait_for(lambda: (s := run.snapshot()).run_status == "paused" and s,
                      what="paused")
    assert paused.evaluation_version == 2  # pausing evaluates: the page shows that step


# ----------------------------------------------------------------------------- errors

def test_nan_loss_pauses_with_a_message_and_the_thread_stays_stoppable(make_run, monkeypatch):
    original = Trainer.train_step

    def diverging(self):
        result = original(self)
        if self.step_count >= 3:
            return dataclasses.replace(result, unsupervised_real=float("nan"))
        return result

    monkeypatch.setattr(Trainer, "train_step", diverging)
    run = make_run()
    run.start()
    wait_for(lambda: run.snapshot().error, what="an error in the snapshot")
    current = run.snapshot()
    assert current.run_status == "paused"
    assert "NaN" in current.error and "learning rate" in current.error
    assert run.is_alive
    time.sleep(0.2)
    assert run.trainer.step_count == 3  # paused at the step that diverged
    run.stop()
    assert not run.is_alive and run.snapshot().run_status == "stopped"


def test_exception_in_a_step_is_reported_and_resume_continues(make_run, monkeypatch):
    original = Trainer.train_step
    raised = []

    def flaky(self):
        if self.step_count == 2 and not raised:
            raised.append(True)
            raise RuntimeError("boom in step")
        return original(self)

    monkeypatch.setattr(Trainer, "train_step", flaky)
    run = make_run()
    run.start()
    wait_for(lambda: run.snapshot().error, what="the step's exception in the snapshot")
    current = run.snapshot()
    assert "boom in step" in current.error and "RuntimeError" in current.error
    assert current.run_status == "paused" and run.is_alive
    run.resume()
    wait_for(lambda: run.snapshot().step > 2 and run.snapshot().error is None,
             what="the run to continue without the error")


def test_exception_outside_a_step_is_reported_not_lost(make_run, monkeypatch):
    original = Evaluator.evaluate
    calls = []

    def breaks_later(self, trainer):
        calls.append(1)
        if len(calls) > 1:
            raise ValueError("evaluation exploded")
        return original(self, trainer)

    monkeypatch.setattr(Evaluator, "evaluate", breaks_later)
    run = make_run()
    run.start()
    wait_for(status_is(run, "failed"), what="failed")
    assert "evaluation exploded" in run.snapshot().error
    wait_for(lambda: not run.is_alive, what="the thread to end")


def test_unavailable_dataset_fails_with_an_actionable_error(make_run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = make_run(tiny_cfg(empty, dataset="fashion-mnist"))
    run.start()
    wait_for(status_is(run, "failed"), what="failed")
    error = run.snapshot().error
    assert "Fashion-MNIST was not found" in error and str(empty) in error
    assert "downloading is off" in error
    wait_for(lambda: not run.is_alive, what="the thread to end")
    with pytest.raises(RuntimeError, match="not ready"):
        run.classify(np.zeros((1, 28, 28, 1), dtype=np.uint8))


# ----------------------------------------------------------------------------- other calls

def test_classify_returns_probabilities_over_classes_and_fake(make_run):
    run = make_run(max_steps=1)
    with pytest.raises(RuntimeError):
        run.classify(np.zeros((28, 28, 1), dtype=np.uint8))
    run.start()
    wait_for(status_is(run, "finished"), what="finished")
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    probs = run.classify(images)
    assert probs.shape == (3, 11)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()
    single = run.classify(images[0])  # (H, W, C) is one image
    assert single.shape == (1, 11)
    np.testing.assert_allclose(single[0], probs[0], rtol=1e-5)


@pytest.mark.parametrize("bad", [0.0, -1.0, 1.5, float("nan")])
def test_set_learning_rates_rejects_bad_values(make_run, bad):
    run = make_run()
    with pytest.raises(ConfigError, match="learning rate"):
        run.set_learning_rates(d_lr=bad)
    with pytest.raises(ConfigError, match="learning rate"):
        run.set_learning_rates(g_lr=bad)


def test_set_learning_rates_applies_between_steps(make_run):
    run = make_run(d_lr=0.003, g_lr=0.002)
    run.pause()
    run.start()
    wait_for(status_is(run, "paused"), what="paused after loading")
    assert (run.snapshot().d_lr, run.snapshot().g_lr) == (0.003, 0.002)
    run.set_learning_rates(d_lr=0.0005)
    run.step(1)
    wait_for(lambda: run.snapshot().step == 1, what="one step")
    assert (run.snapshot().d_lr, run.snapshot().g_lr) == (0.0005, 0.002)
    assert run.trainer.d_optimizer.param_groups[0]["lr"] == 0.0005
