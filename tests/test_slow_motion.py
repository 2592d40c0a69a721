"""Slow motion is the run's own step, watched: the same losses, weights and random
draws as a plain step, a trace of what it saw, and through a TrainingRun one step of
the paused run (its step counter and history move by exactly one)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from sgan_core.training import step_trace as slow_motion
from sgan_core.data.loading import load_split
from sgan_core.runs.training_run import TrainingRun
from sgan_core.training.trainer import Trainer
from tiny_config import tiny_cfg

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value.clone() for name in ("discriminator", "generator", "baseline")
            for key, value in getattr(trainer, name).state_dict().items()}


@pytest.fixture
def cfg_split(idx_dataset):
    cfg = tiny_cfg(idx_dataset())
    return cfg, load_split(cfg)


@pytest.mark.parametrize("generator_loss,target", [("feature_matching", "same_batch"),
                                                   ("feature_matching", "fresh"),
                                                   ("non_saturating", "fresh")])
def test_a_traced_step_is_the_step_the_run_would_take(cfg_split, generator_loss, target):
    cfg, split = cfg_split
    cfg = cfg.replace(generator_loss=generator_loss, feature_matching_target=target)
    plain, watched = Trainer(cfg, split), Trainer(cfg, split)
    plain_losses = [plain.train_step() for _ in range(3)]
    watched_losses = [watched.train_step(), slow_motion.traced_step(watched).losses,
                      watched.train_step()]  # and the step after it is unchanged too
    assert watched_losses == plain_losses
    after, expected = weights(watched), weights(plain)
    assert after.keys() == expected.keys()
    assert all(torch.equal(after[key], expected[key]) for key in expected)
    assert torch.equal(watched.rng.get_state(), plain.rng.get_state())
    assert torch.equal(watched.layer_rng.get_state(), plain.layer_rng.get_state())
    for name in ("d_optimizer", "g_optimizer", "baseline_optimizer"):
        assert optimiser_state(getattr(watched, name)) == optimiser_state(getattr(plain, name))


def optimiser_state(optimiser: torch.optim.Optimizer) -> list:
    """Every number of an optimiser's state, comparable with ==."""
    return [(key, value.tolist() if isinstance(value, torch.Tensor) else value)
            for state in optimiser.state_dict()["state"].values()
            for key, value in sorted(state.items())]


def test_the_trace_shows_what_the_step_used(cfg_split):
    """The thumbnails, verdicts and D's loss are the recorded step's own."""
    cfg, split = cfg_split
    trainer, twin = Trainer(cfg, split), Trainer(cfg, split)
    trace, record = slow_motion.traced_step(trainer), twin.recorded_step()
    shown = slow_motion.SHOWN
    for thumbnails, images, logits in ((trace.labeled, record.labeled, record.logits_labeled),
                                       (trace.unlabeled, record.unlabeled,
                                        record.logits_unlabeled),
                                       (trace.d_fakes, record.fakes, record.logits_fake)):
        expected = slow_motion._thumbnails(images, logits)
        assert (thumbnails.images == expected.images).all()
        assert (thumbnails.verdicts == expected.verdicts).all()
        assert (thumbnails.p_verdict == expected.p_verdict).all()
    assert trace.labeled.labels.tolist() == record.targets[:shown].tolist()
    assert trace.losses == record.losses
    assert trace.discriminator_loss == record.discriminator_loss
    assert trace.unsupervised_weight == record.unsupervised_weight


def test_the_trace_shows_the_step_s_own_batches_and_figures(cfg_split):
    cfg, split = cfg_split
    trainer, twin = Trainer(cfg, split), Trainer(cfg, split)
    trace = slow_motion.traced_step(trainer)
    assert (trace.d_lr, trace.g_lr) == twin.current_learning_rates()  # the step's rates
    _, drawn_targets = twin.labeled.next_batch()  # the twin draws the step's labeled batch
    shown = slow_motion.SHOWN
    assert trace.step == 1 and trace.generator_loss == cfg.generator_loss
    assert trace.batch_sizes == (cfg.labeled_batch_size, cfg.batch_size, cfg.batch_size)
    assert trace.labeled.labels.tolist() == drawn_targets[:shown].tolist()
    for thumbnails in (trace.labeled, trace.unlabeled, trace.d_fakes, trace.g_fakes_before,
                       trace.g_fakes_after):
        assert thumbnails.images.shape == (shown, 28, 28, 1)
        assert ((thumbnails.verdicts >= 0) & (thumbnails.verdicts <= 10)).all()
        # a verdict's probability is the largest of N + 1: at least 1 / (N + 1)
        assert ((thumbnails.p_verdict >= 1 / 11) & (thumbnails.p_verdict <= 1)).all()
    assert not (trace.g_fakes_before.images == trace.g_fakes_after.images).all()  # G moved
    assert tuple(change.key for change in trace.changes) == slow_motion.CHANGES
    by_key = {change.key: change for change in trace.changes}
    assert all(by_key[key].after_g is None for key in slow_motion.CHANGES[:5])  # D alone
    assert by_key["generator"].after_g != by_key["generator"].after_d
    assert by_key["supervised"].after_d != by_key["supervised"].before  # D moved


def test_a_thumbnail_s_probability_is_that_of_its_verdict():
    """D can call an image fake with P(fake) 43% (each class 5.7%): its probability
    then is 43%, not the 57% of P(real) that read as 'fake, 57% sure'."""
    p_fake = 0.43
    unsure = torch.full((10,), float(np.log((1 - p_fake) / p_fake / 10)))
    sure_nine = torch.zeros(10)
    sure_nine[9] = 5.0
    images = torch.zeros(2, 1, 28, 28)
    thumbnails = slow_motion._thumbnails(images, torch.stack([unsure, sure_nine]))
    assert thumbnails.verdicts.tolist() == [10, 9]
    p_nine = np.exp(5.0) / (np.exp(5.0) + 9 + 1)
    assert thumbnails.p_verdict == pytest.approx([p_fake, p_nine])


def test_a_slow_motion_step_of_a_run_is_its_next_step(idx_dataset):
    cfg = tiny_cfg(idx_dataset())
    run = TrainingRun(cfg)
    try:
        run.start()
        wait_for(lambda: run.snapshot().step >= 3, "a few steps")
        run.pause()
        wait_for(lambda: run.snapshot().run_status == "paused", "paused")
        step, rows = run.snapshot().step, len(run.history.rows)
        run.step(1, traced=True)
        wait_for(lambda: run.snapshot().step == step + 1 and len(run.history.rows) == rows + 1,
                 "the traced step's evaluation")
        trace = run.step_trace()
        assert trace.step == step + 1 and run.snapshot().run_status == "paused"
        assert run.history.rows[-1]["step"] == step + 1
        assert run.history.rows[-1]["supervised_loss"] == pytest.approx(trace.losses.supervised)
        plain = Trainer(cfg, load_split(cfg))  # the same seed, stepped plainly
        assert [plain.train_step() for _ in range(step + 1)][-1] == trace.losses
        time.sleep(0.2)  # a (wrongly) running thread would step on
        assert run.trainer.step_count == step + 1
    finally:
        run.stop()


def wait_for(condition, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
