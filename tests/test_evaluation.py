"""sgan_core.training.evaluation: accuracy, verdicts, the (N+1) confusion matrix, and Evaluator on a
tiny trainer (shapes, read-only arrays, rates, no effect on the training stream)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sgan_core.config import TrainConfig
from sgan_core.data.loading import load_split
from sgan_core.training.evaluation import (FAKES_PER_EVALUATION, INSPECTOR_COUNT, Evaluator, accuracy,
                                  confusion_matrix, predict, verdicts)
from sgan_core.training.trainer import Trainer
from tiny_config import tiny_cfg


pytestmark = pytest.mark.usefixtures("one_torch_thread")




# ----------------------------------------------------------------------------- pure functions

def test_confusion_matrix_rows_are_truth_with_a_fake_row():
    n = 3  # classes 0, 1, 2; index 3 is "fake"
    real_targets = np.array([0, 0, 1, 2, 2])
    real_verdicts = np.array([0, 3, 1, 1, 2])  # one real 0 rejected as fake, a 2 called 1
    fake_verdicts = np.array([3, 3, 0])  # two fakes rejected, one accepted as class 0
    matrix = confusion_matrix(real_verdicts, real_targets, fake_verdicts, n)
    expected = np.array([[1, 0, 0, 1],
                         [0, 1, 0, 0],
                         [0, 1, 1, 0],
                         [1, 0, 0, 2]])
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == len(real_targets) + len(fake_verdicts)
    np.testing.assert_array_equal(matrix.sum(axis=1), [2, 1, 2, 3])  # per true class
    np.testing.assert_array_equal(matrix.sum(axis=0), [2, 2, 1, 3])  # per verdict


def test_confusion_matrix_without_fakes_has_an_empty_fake_row():
    matrix = confusion_matrix(np.array([1, 1]), np.array([1, 0]), np.array([], dtype=int), 2)
    assert matrix.shape == (3, 3)
    np.testing.assert_array_equal(matrix, [[0, 1, 0], [0, 1, 0], [0, 0, 0]])


def test_accuracy_counts_argmax_over_real_classes():
    logits = torch.tensor([[3.0, 1.0, 0.0],
                           [0.0, 2.0, 1.0],
                           [-9.0, -8.0, -7.0],  # would be "fake", but accuracy is over N
                           [1.0, 5.0, 0.0]])
    targets = torch.tensor([0, 1, 2, 0])
    assert accuracy(logits, targets) == pytest.approx(0.75)
    assert accuracy(logits, torch.tensor([1, 0, 0, 2])) == 0.0


def test_verdicts_reject_as_fake_when_every_class_logit_is_below_zero():
    logits = torch.tensor([[0.1, -0.1, -3.0],   # class 0 beats the fake logit 0
                           [-0.1, -0.2, -3.0],  # all below 0: fake (index N = 3)
                           [-5.0, 2.0, 1.0],    # class 1
                           [-50.0, -60.0, -40.0]])
    assert verdicts(logits).tolist() == [0, 3, 1, 3]


# ----------------------------------------------------------------------------- Evaluator

@pytest.fixture
def trained(idx_dataset):
    cfg = tiny_cfg(idx_dataset())
    split = load_split(cfg)
    trainer = Trainer(cfg, split)
    for _ in range(2):
        trainer.train_step()
    return cfg, split, trainer


def all_arrays(result) -> dict[str, np.ndarray]:
    arrays = {"confusion": result.game.confusion}
    for part in ("samples", "inspection", "features"):
        for name, value in vars(getattr(result, part)).items():
            if isinstance(value, np.ndarray):
                arrays[f"{part}.{name}"] = value
    return arrays


def test_evaluate_returns_read_only_arrays_of_the_right_shapes(trained):
    cfg, split, trainer = trained
    result = Evaluator(cfg, split, cfg.noise_dim).evaluate(trainer)
    n, m = split.spec.num_classes, cfg.eval_test_subset
    confusion = result.game.confusion
    assert confusion.shape == (n + 1, n + 1)
    assert confusion.sum() == m + FAKES_PER_EVALUATION
    assert confusion[:n].sum() == m and confusion[n].sum() == FAKES_PER_EVALUATION
    samples = result.samples
    assert samples.images.shape == (cfg.sample_grid_size, 28, 28, 1)
    assert samples.images.dtype == np.uint8
    assert samples.verdicts.shape == samples.confidences.shape == samples.p_fake.shape == \
        (cfg.sample_grid_size,)
    assert samples.verdicts.min() >= 0 and samples.verdicts.max() <= n
    assert ((samples.confidences >= 1 / (n + 1) - 1e-6) & (samples.confidences <= 1)).all()
    rejected = samples.verdicts == n  # where the verdict is fake, its confidence is p_fake
    np.testing.assert_allclose(samples.confidences[rejected], samples.p_fake[rejected])
    inspection = result.inspection
    assert inspection.p_fake_real.shape == (m,)
    assert inspection.p_fake_generated.shape == (FAKES_PER_EVALUATION,)
    k = min(INSPECTOR_COUNT, m)
    assert inspection.fooling_fakes.shape == (k, 28, 28, 1)
    assert inspection.rejected_reals.shape == (k, 28, 28, 1)
    assert inspection.rejected_reals.dtype == np.uint8
    # the fooling fakes are those with the lowest P(fake), in order
    assert inspection.fooling_fakes_p_fake[0] == inspection.p_fake_generated.min()
    assert np.all(np.diff(inspection.fooling_fakes_p_fake) >= 0)
    assert inspection.rejected_reals_p_fake[0] == inspection.p_fake_real.max()
    features = result.features
    width = trainer.discriminator.feature_width
    assert features.real.shape == (cfg.embedding_points, width)
    assert features.real.dtype == np.float32
    assert features.real_labels.shape == (cfg.embedding_points,)
    assert features.fake.shape == (cfg.embedding_fakes, width)
    assert features.step == trainer.step_count == 2
    for name, array in all_arrays(result).items():
        assert array.flags.writeable is False, name
        with pytest.raises(ValueError):
            array.flat[0] = array.flat[0]


def test_evaluation_figures_agree_with_the_confusion_matrix(trained):
    cfg, split, trainer = trained
    evaluator = Evaluator(cfg, split, cfg.noise_dim)
    result = evaluator.evaluate(trainer)
    n, m = split.spec.num_classes, cfg.eval_test_subset
    confusion = result.game.confusion
    assert result.game.fake_rejection_rate == pytest.approx(
        confusion[n, n] / FAKES_PER_EVALUATION)
    assert result.game.false_rejection_rate == pytest.approx(confusion[:n, n].sum() / m)
    # test accuracy is over the N real classes, recomputed here from the EMA model
    images = split.test_images[evaluator.subset]
    targets = split.test_targets[evaluator.subset]
    precision = trainer.precision  # a live evaluation runs in the step's arithmetic
    logits, _ = predict(trainer.d_average.model, images, precision=precision)
    assert result.test.sgan == pytest.approx(accuracy(logits, targets))
    assert evaluator.test_accuracies(trainer, precision=precision) == result.test
    full = evaluator.test_accuracies(trainer, full=True)  # final figures: float32
    logits_all, _ = predict(trainer.d_average.model, split.test_images)
    assert full.sgan == pytest.approx(accuracy(logits_all, split.test_targets))
    logits_val, _ = predict(trainer.d_average.model, split.validation_images,
                            precision=precision)
    assert result.validation.sgan == pytest.approx(
        accuracy(logits_val, split.validation_targets))
    logits_val_base, _ = predict(trainer.baseline_average.model, split.validation_images,
                                 precision=precision)
    assert result.validation.baseline == pytest.approx(
        accuracy(logits_val_base, split.validation_targets))


def test_predict_in_bfloat16_returns_float32_close_to_the_exact_figures(trained):
    _, split, trainer = trained
    images = split.test_images[:64]
    exact, exact_features = predict(trainer.discriminator, images)
    fast, fast_features = predict(trainer.discriminator, images, precision="bfloat16")
    assert fast.dtype == fast_features.dtype == torch.float32
    assert not torch.equal(fast, exact)  # the matmuls really ran in bfloat16
    # bfloat16 keeps 8 significant bits: close, not equal
    assert torch.allclose(fast, exact, rtol=0.05, atol=0.05 * exact.abs().max().item())
    assert torch.allclose(fast_features, exact_features, rtol=0.05,
                          atol=0.05 * exact_features.abs().max().item())


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_live_evaluations_run_in_the_steps_precision_final_figures_in_float32(
        trained, precision):
    cfg, split, trainer = trained
    trainer.precision = precision  # what "auto" resolved to for this run
    evaluator = Evaluator(cfg, split, cfg.noise_dim)
    result = evaluator.evaluate(trainer)
    images = split.validation_images
    targets = split.validation_targets
    live, _ = predict(trainer.d_average.model, images, precision=precision)
    assert result.validation.sgan == accuracy(live, targets)
    final, _ = predict(trainer.d_average.model, images)
    assert evaluator.validation_accuracies(trainer).sgan == accuracy(final, targets)


def test_accuracy_comes_from_the_averages_and_the_game_from_the_live_d(trained):
    """Swap in models that answer differently and see which one each figure follows."""
    cfg, split, trainer = trained
    evaluator = Evaluator(cfg, split, cfg.noise_dim)
    n = split.spec.num_classes
    for model in (trainer.d_average.model, trainer.discriminator):
        for p in model.head.parameters():
            p.requires_grad_(False)
    with torch.no_grad():
        # live D: every class logit hugely negative -> everything rejected as fake
        trainer.discriminator.head.parametrizations.weight.original0.zero_()
        trainer.discriminator.head.bias.fill_(-50.0)
        # averaged D: class 0 always, never fake
        trainer.d_average.model.head.parametrizations.weight.original0.zero_()
        trainer.d_average.model.head.bias.copy_(torch.tensor([50.0] + [0.0] * (n - 1)))
    result = evaluator.evaluate(trainer)
    targets = split.test_targets[evaluator.subset]
    assert result.test.sgan == pytest.approx((targets == 0).float().mean().item())
    assert result.game.fake_rejection_rate == 1.0 and result.game.false_rejection_rate == 1.0
    assert (result.samples.verdicts == n).all()  # the sample verdicts: live D too
    final = evaluator.final_game_figures(trainer)
    assert final.fake_rejection_rate == 1.0
    assert final.confusion[:n].sum() == len(split.test_targets)  # the whole test set


def test_without_baseline_its_accuracy_is_none(idx_dataset):
    cfg = tiny_cfg(idx_dataset(), train_baseline=False, ema_decay=0.0)
    split = load_split(cfg)
    trainer = Trainer(cfg, split)
    trainer.train_step()
    assert trainer.train_step().baseline == 0.0
    result = Evaluator(cfg, split, cfg.noise_dim).evaluate(trainer)
    assert result.test.baseline is None and result.validation.baseline is None
    assert trainer.accuracy_model_name == "live"


def test_evaluating_does_not_change_the_training_stream(idx_dataset):
    cfg = tiny_cfg(idx_dataset())
    split = load_split(cfg)
    watched, unwatched = Trainer(cfg, split), Trainer(cfg, split)
    evaluator = Evaluator(cfg, split, cfg.noise_dim)
    for _ in range(2):
        evaluator.evaluate(watched)
        assert watched.train_step() == unwatched.train_step()
    # the grid noise is fixed: two evaluations of the same weights show the same samples
    first, second = evaluator.evaluate(watched), evaluator.evaluate(watched)
    np.testing.assert_array_equal(first.samples.images, second.samples.images)
    assert watched.generator.training  # sampling in eval mode did not leave G there


def test_cell_members_agree_with_the_confusion_matrix(trained):
    """Every cell's images are exactly what the matrix counts there."""
    cfg, split, trainer = trained
    result = Evaluator(cfg, split, cfg.noise_dim).evaluate(trainer)
    cells, confusion, n = result.cells, result.game.confusion, split.spec.num_classes
    assert cells.real_images.shape == (cfg.eval_test_subset, 28, 28, 1)
    assert cells.fake_images.shape == (FAKES_PER_EVALUATION, 28, 28, 1)
    for truth in range(n):
        for verdict in range(n + 1):
            members = (cells.real_targets == truth) & (cells.real_verdicts == verdict)
            assert members.sum() == confusion[truth, verdict]
    for verdict in range(n + 1):
        assert (cells.fake_verdicts == verdict).sum() == confusion[n, verdict]
    called_fake = cells.real_verdicts == n
    np.testing.assert_allclose(cells.real_p_verdict[called_fake],
                               cells.real_p_fake[called_fake])
    again = Evaluator(cfg, split, cfg.noise_dim)
    one = again.evaluate(trainer).cells.real_images
    assert one is again.evaluate(trainer).cells.real_images  # shared, not copied
