"""sgan_core.training.losses on small hand-computed tensors, including logits that would overflow
a naive exp(), and the explicit (N+1)-output discriminator."""
from __future__ import annotations

import math

import pytest
import torch

from sgan_core.training import losses
from sgan_core.config import TrainConfig
from sgan_core.training.models import Discriminator

LOGITS = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [-2.0, 0.0, 0.25]]  # (B=3, N=3), moderate


def logits64(values=LOGITS) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def partition(values) -> torch.Tensor:
    """Z = sum_k exp(l_k) per row, in float64 straight from the definition."""
    return torch.tensor([sum(math.exp(v) for v in row) for row in values],
                        dtype=torch.float64)


def stable_lse(values) -> list[float]:
    """log Z per row in exact float64 arithmetic, safe for logits of any size."""
    out = []
    for row in values:
        top = max(row)
        out.append(top + math.log(sum(math.exp(v - top) for v in row)))
    return out


# ----------------------------------------------------------------------------- supervised

def test_supervised_loss_is_minus_log_softmax_of_the_target():
    targets = torch.tensor([2, 0, 1])
    manual = []
    for row, target in zip(LOGITS, targets.tolist()):
        manual.append(-(row[target] - math.log(sum(math.exp(v) for v in row))))
    expected = sum(manual) / len(manual)
    assert losses.supervised_loss(logits64(), targets).item() == pytest.approx(expected,
                                                                               rel=1e-12)
    # Row 0's target is its largest logit, row 1's is not: losses must differ accordingly.
    assert manual[0] < manual[1]


def test_supervised_loss_does_not_apply_softmax_twice():
    # A softmax before the cross-entropy would squash these logits to nearly uniform
    # inputs and give about log(2); the real loss is tiny.
    logits = torch.tensor([[10.0, -10.0]], dtype=torch.float64)
    value = losses.supervised_loss(logits, torch.tensor([0])).item()
    assert value == pytest.approx(math.log1p(math.exp(-20.0)), rel=1e-9)
    assert value < 1e-8


# ----------------------------------------------------------------------------- unsupervised

def test_real_unsupervised_loss_matches_minus_log_d():
    z = partition(LOGITS)
    expected = (-torch.log(z / (z + 1))).mean().item()  # -log D(x), D = Z / (Z + 1)
    got = losses.real_unsupervised_loss(logits64()).item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_fake_unsupervised_loss_matches_minus_log_one_minus_d():
    z = partition(LOGITS)
    expected = (-torch.log(1 / (z + 1))).mean().item()  # -log(1 - D(x))
    got = losses.fake_unsupervised_loss(logits64()).item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_unsupervised_losses_in_float32_agree_with_float64():
    got_real = losses.real_unsupervised_loss(logits64().float()).item()
    got_fake = losses.fake_unsupervised_loss(logits64().float()).item()
    z = partition(LOGITS)
    assert got_real == pytest.approx((-torch.log(z / (z + 1))).mean().item(), rel=1e-5)
    assert got_fake == pytest.approx(torch.log1p(z).mean().item(), rel=1e-5)


def test_single_sample_values_by_hand():
    # N=2 logits (0, 0): Z = 2, D = 2/3. -log D = log 1.5, -log(1 - D) = log 3.
    zeros = torch.zeros(1, 2)
    assert losses.real_unsupervised_loss(zeros).item() == pytest.approx(math.log(1.5))
    assert losses.fake_unsupervised_loss(zeros).item() == pytest.approx(math.log(3.0))


@pytest.mark.parametrize("scale", [80.0, 1e4])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_huge_logits_give_finite_correct_losses_and_gradients(scale, sign):
    values = [[sign * scale, sign * scale - 1.0, sign * scale - 3.0],
              [sign * scale - 0.5, sign * scale, sign * scale - 2.0]]
    lse = stable_lse(values)
    # exact float64 forms: -log D = log(1 + exp(-lse)), -log(1 - D) = log(1 + exp(lse))
    expect_real = sum(math.log1p(math.exp(-v)) if v > -700 else -v for v in lse) / 2
    expect_fake = sum(v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))
                      for v in lse) / 2
    for loss_fn, expected in ((losses.real_unsupervised_loss, expect_real),
                              (losses.fake_unsupervised_loss, expect_fake),
                              (losses.non_saturating_loss, expect_real)):
        logits = torch.tensor(values, dtype=torch.float32, requires_grad=True)
        value = loss_fn(logits)
        value.backward()
        assert torch.isfinite(value), loss_fn.__name__
        assert torch.isfinite(logits.grad).all(), loss_fn.__name__
        assert value.item() == pytest.approx(expected, rel=1e-5, abs=1e-6), loss_fn.__name__
    # and the naive formula really would have broken on these in float32 at 1e4
    if scale == 1e4:
        naive_z = torch.tensor(values, dtype=torch.float32).exp().sum(dim=1)
        assert not torch.isfinite(-torch.log(naive_z / (naive_z + 1))).all() or \
            not torch.isfinite(torch.log(naive_z + 1)).all()


def test_huge_logits_fake_probability_is_saturated_not_nan():
    logits = torch.tensor([[1e4, 0.0], [-1e4, -1e4], [80.0, 80.0], [-80.0, -90.0]])
    p_fake = losses.fake_probability(logits)
    assert torch.isfinite(p_fake).all()
    assert p_fake[0].item() == 0.0 and p_fake[1].item() == 1.0
    assert p_fake[2].item() == pytest.approx(0.0, abs=1e-30)
    assert p_fake[3].item() == pytest.approx(1.0, abs=1e-30)


# ----------------------------------------------------------------------------- generator

def test_feature_matching_value_and_no_gradient_into_real_features():
    real = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]], requires_grad=True)  # mean 2,1,0
    fake = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0]], requires_grad=True)  # mean 0,.5,1
    value = losses.feature_matching_loss(real, fake)
    # mean over F of (2-0)^2, (1-.5)^2, (0-1)^2 = (4 + 0.25 + 1) / 3
    assert value.item() == pytest.approx(5.25 / 3)
    value.backward()
    assert real.grad is None  # the real statistics are a fixed target
    # d/d fake[b, f] = -2 (mean_real - mean_fake)_f / (F * B)
    expected = -2 * torch.tensor([2.0, 0.5, -1.0]) / (3 * 2)
    assert torch.allclose(fake.grad, expected.expand(2, 3))


def test_feature_matching_is_zero_for_equal_means():
    real = torch.tensor([[1.0, -1.0], [3.0, 1.0]])
    fake = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    assert losses.feature_matching_loss(real, fake).item() == 0.0


def test_non_saturating_loss_is_minus_log_d_of_fakes():
    z = partition(LOGITS)
    expected = (-torch.log(z / (z + 1))).mean().item()
    assert losses.non_saturating_loss(logits64()).item() == pytest.approx(expected, rel=1e-12)
    # G is rewarded (loss falls) when D calls its images more real (larger logits)
    assert losses.non_saturating_loss(logits64() + 1).item() < expected


# ----------------------------------------------------------------------------- objectives

def test_discriminator_terms_are_the_three_losses_and_its_loss_weighs_the_unsupervised():
    labeled, unlabeled, fake = logits64(), logits64() * 2, logits64() - 1
    targets = torch.tensor([2, 0, 1])
    terms = losses.discriminator_terms(labeled, targets, unlabeled, fake)
    assert terms == (losses.supervised_loss(labeled, targets),
                     losses.real_unsupervised_loss(unlabeled),
                     losses.fake_unsupervised_loss(fake))
    expected = terms.supervised + 0.5 * (terms.real + terms.fake)
    assert losses.discriminator_loss(terms, 0.5).item() == expected.item()


def test_generator_loss_follows_its_kind_and_takes_a_target_only_for_feature_matching():
    fake_logits, fake_features = logits64(), logits64() + 1
    asked = []

    def target() -> torch.Tensor:
        asked.append(1)
        return logits64()

    matching = losses.generator_loss("feature_matching", fake_logits, fake_features, target)
    assert matching.item() == losses.feature_matching_loss(logits64(), fake_features).item()
    assert asked == [1]
    saturating = losses.generator_loss("non_saturating", fake_logits, fake_features, target)
    assert saturating.item() == losses.non_saturating_loss(fake_logits).item()
    assert asked == [1]  # a fresh target costs a pass of D: never made when unused
    with pytest.raises(ValueError, match="wasserstein"):
        losses.generator_loss("wasserstein", fake_logits, fake_features, target)


# ----------------------------------------------------------------------------- probabilities

def test_fake_probability_is_one_over_one_plus_z():
    z = partition(LOGITS)
    assert torch.allclose(losses.fake_probability(logits64()), 1 / (1 + z), rtol=1e-12)


def test_class_probabilities_include_the_fake_column_and_sum_to_one():
    probs = losses.class_probabilities(logits64())
    assert probs.shape == (3, 4)
    assert torch.allclose(probs.sum(dim=1), torch.ones(3, dtype=torch.float64))
    z = partition(LOGITS)
    assert torch.allclose(probs[:, -1], 1 / (1 + z))  # fake column last
    expected_real = torch.exp(logits64()) / (1 + z)[:, None]
    assert torch.allclose(probs[:, :-1], expected_real)


def test_class_probabilities_with_huge_logits_are_finite():
    probs = losses.class_probabilities(torch.tensor([[1e4, -1e4], [-1e4, -1e4]]))
    assert torch.isfinite(probs).all()
    assert torch.allclose(probs, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))


# ----------------------------------------------------------------------------- explicit N+1

@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_explicit_fake_output_keeps_the_softmax_of_its_raw_outputs(architecture):
    cfg = TrainConfig(fake_class="explicit", architecture=architecture)
    torch.manual_seed(0)
    model = Discriminator(cfg, channels=1, image_size=28, num_classes=10).eval()
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        logits, features = model(images)
        raw = model.head(features)  # (B, N+1), fake last
    assert raw.shape == (4, 11) and logits.shape == (4, 10)
    # make the comparison meaningful: the raw fake output is not already 0
    assert raw[:, -1].abs().max() > 1e-4
    assert torch.allclose(losses.class_probabilities(logits), torch.softmax(raw, dim=1),
                          atol=1e-6)
    assert torch.allclose(losses.fake_probability(logits), torch.softmax(raw, dim=1)[:, -1],
                          atol=1e-6)


def test_fixed_zero_discriminator_has_exactly_n_outputs():
    torch.manual_seed(0)
    model = Discriminator(TrainConfig(), channels=1, image_size=28, num_classes=10).eval()
    with torch.no_grad():
        logits, features = model(torch.zeros(2, 1, 28, 28))
    assert logits.shape == (2, 10)
    assert features.shape == (2, model.feature_width)


def test_minus_log_d_keeps_its_precision_when_d_is_sure_an_image_is_real():
    """-log D(x) at lse = 30 is e^-30 ~ 9.4e-14; softplus(lse) - lse gives 0 in float32."""
    logits = torch.tensor([[30.0, -1e4, -1e4]])  # lse = 30 (the other terms vanish)
    expected = math.log1p(math.exp(-30.0))
    for loss in (losses.real_unsupervised_loss, losses.non_saturating_loss):
        value = loss(logits).item()
        assert value == pytest.approx(expected, rel=1e-5), loss.__name__
