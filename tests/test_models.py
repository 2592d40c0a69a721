"""The networks' random layers: noise drawn from the run's generator, with the right
distribution."""
from __future__ import annotations

import math

import pytest
import torch

from sgan_core.training.models import GaussianNoise, quantile_normal


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_quantile_noise_is_standard_normal(dtype):
    values = quantile_normal(torch.empty(400, 1000, dtype=dtype),
                             torch.Generator().manual_seed(0)).double().flatten()
    assert values.dtype == torch.float64 and values.numel() == 400_000
    assert abs(values.mean().item()) < 0.01
    assert abs(values.std().item() - 1.0) < 0.01
    # Kolmogorov-Smirnov distance to N(0, 1) on a grid of points: a biased lookup (a
    # lost sign bit, a half table) moves it far past this.
    for x in (-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0):
        share_below = (values <= x).double().mean().item()
        assert abs(share_below - normal_cdf(x)) < 0.004, x


def test_quantile_noise_comes_from_the_given_generator():
    like = torch.empty(3, 5001)
    first = quantile_normal(like, torch.Generator().manual_seed(7))
    again = quantile_normal(like, torch.Generator().manual_seed(7))
    other = quantile_normal(like, torch.Generator().manual_seed(8))
    assert first.shape == like.shape
    assert torch.equal(first, again) and not torch.equal(first, other)
    # Neighbouring values are independent: no pattern from splitting one draw in four.
    flat = first.flatten()
    correlation = torch.corrcoef(torch.stack([flat[:-1], flat[1:]]))[0, 1].item()
    assert abs(correlation) < 0.02


def test_noise_layer_adds_scaled_noise_only_in_training():
    layer = GaussianNoise(0.5)
    layer.generator = torch.Generator().manual_seed(1)
    x = torch.zeros(200, 500)
    noisy = layer.train()(x)
    assert abs(noisy.std().item() - 0.5) < 0.01
    assert torch.equal(layer.eval()(x), x)
