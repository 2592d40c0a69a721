"""Generator and discriminator networks.

Images enter and leave the networks as floats in [-1, 1], shape (B, C, H, W).
The discriminator always returns N class logits *relative to the fake class* plus its
penultimate features: with the default fixed-zero fake logit (Salimans et al. 2016) the
logits are used as they are; the explicit (N+1)-output variant subtracts its fake logit,
which leaves the softmax over N+1 classes unchanged and lets every loss treat both alike.
"""
from __future__ import annotations

import functools
import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from sgan_core.config import TrainConfig


class RunRandomness(nn.Module):
    """Base of the layers that draw random numbers: each draws from the run's own
    `torch.Generator` (set by `attach_generator`), never from torch's global one, so two
    runs training at once in one process cannot change each other's numbers."""

    generator: torch.Generator | None = None

    def _random(self, like: torch.Tensor, normal: bool) -> torch.Tensor:
        # Drawn in the input's dtype (bfloat16 under autocast: half the bytes to write).
        if normal and like.device.type == "cpu":
            return quantile_normal(like, self.generator)
        draw = torch.randn if normal else torch.rand
        return draw(like.shape, dtype=like.dtype, device=like.device, generator=self.generator)


QUANTILE_BITS = 15  # 32,768 equally likely values; the largest is 4.16 standard deviations


@functools.cache
def _normal_quantiles(dtype: torch.dtype) -> torch.Tensor:
    """The midpoints of 2**QUANTILE_BITS equal-probability slices of N(0, 1), rescaled
    to unit variance (the cut tails would otherwise leave it at 0.9995)."""
    count = 2 ** QUANTILE_BITS
    table = torch.special.ndtri((torch.arange(count, dtype=torch.float64) + 0.5) / count)
    return (table / table.std()).to(dtype)


def quantile_normal(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard-normal noise shaped like `like`, by inverse-CDF lookup of 15-bit uniform
    integers: four per 64-bit draw of the generator.

    Why: torch's CPU `randn` runs its Mersenne Twister and Box-Muller on one thread, one
    draw per value; the noise layers need ~1.4 M values a step, and that was 5.5 ms of a
    24 ms step at any thread count. Here the generator makes a quarter of the draws and
    the lookup runs on every thread: 0.35 vs 1.08 ms per 300 k values on one thread
    (bench/README.md). Every value is still drawn fresh from the run's generator.
    """
    count = like.numel()
    bits = torch.empty((count + 3) // 4, dtype=torch.int64).random_(generator=generator)
    # Little-endian int16 quarters; the top one of each int64 has 15 random bits (the
    # draw is non-negative), so every quarter keeps its low 15.
    index = bits.view(torch.int16)[:count].to(torch.int32)
    index.bitwise_and_(2 ** QUANTILE_BITS - 1)
    return _normal_quantiles(like.dtype).index_select(0, index).view(like.shape)


class GaussianNoise(RunRandomness):
    """Additive noise in training mode only: the MLP discriminator's regulariser."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.std > 0:
            return torch.add(x, self._random(x, normal=True), alpha=self.std)
        return x


class Dropout(RunRandomness):
    """nn.Dropout drawing from the run's generator (nn.Dropout cannot take one)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = self._random(x, normal=False) >= self.p
        return x * keep / (1.0 - self.p)


def attach_generator(model: nn.Module, generator: torch.Generator) -> None:
    """Point every random layer of `model` at `generator` (the run's layer stream)."""
    for module in model.modules():
        if isinstance(module, RunRandomness):
            module.generator = generator


@torch.no_grad()
def initialise(model: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default init (Kaiming-uniform weights, uniform biases), drawn from the
    run's generator instead of the global one. Weight-normed layers get the direction v
    and g = |v| per unit, so each starts as the plain layer would."""
    for module in model.modules():
        if not isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            continue
        parametrized = hasattr(module, "parametrizations")
        weight = module.parametrizations.weight.original1 if parametrized else module.weight
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        if module.bias is not None:
            fan_in = nn.init._calculate_fan_in_and_fan_out(weight)[0]
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        if parametrized:
            norms = weight.flatten(1).norm(dim=1).view(-1, *([1] * (weight.dim() - 1)))
            module.parametrizations.weight.original0.copy_(norms)


# Improved-GAN's MNIST discriminator; named here so bench/bench_runaway.py's experiments
# can vary them (a smaller D, a leaky ReLU) without a config field.
MLP_WIDTHS = (1000, 500, 250, 250, 250)
MLP_ACTIVATION = nn.ReLU


def _mlp_trunk(in_features: int) -> tuple[nn.Sequential, int]:
    """Improved-GAN's MNIST discriminator body (noise 0.3 on inputs, 0.5 inside)."""
    widths = MLP_WIDTHS
    layers: list[nn.Module] = [nn.Flatten(), GaussianNoise(0.3)]
    previous = in_features
    for width in widths:
        # Weight normalisation (as in Improved-GAN) keeps the features, and so the
        # feature-matching target, on a stable scale.
        layers += [weight_norm(nn.Linear(previous, width)), MLP_ACTIVATION(), GaussianNoise(0.5)]
        previous = width
    return nn.Sequential(*layers[:-1]), previous  # no noise on the features themselves


def _conv_trunk(channels: int, image_size: int) -> tuple[nn.Sequential, int]:
    """A small all-conv body: dropout on inputs and between blocks, global pooling."""
    def block(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, stride, 1), nn.LeakyReLU(0.2)]

    layers: list[nn.Module] = [Dropout(0.2)]
    layers += block(channels, 32, 1) + block(32, 64, 2) + [Dropout(0.3)]
    layers += block(64, 64, 1) + block(64, 128, 2) + [Dropout(0.3)]
    layers += block(128, 128, 1)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), 128


class Discriminator(nn.Module):
    """Classifier over N real classes plus fake; returns (logits (B, N), features (B, F))."""

    def __init__(self, cfg: TrainConfig, channels: int, image_size: int,
                 num_classes: int) -> None:
        super().__init__()
        if cfg.architecture == "mlp":
            self.trunk, width = _mlp_trunk(channels * image_size * image_size)
        else:
            self.trunk, width = _conv_trunk(channels, image_size)
        self.explicit_fake = cfg.fake_class == "explicit"
        self.num_classes = num_classes
        self.head = weight_norm(nn.Linear(width, num_classes + int(self.explicit_fake)))
        self.feature_width = width

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(images)  # (B, F)
        logits = self.head(features)  # (B, N) or (B, N+1)
        if self.explicit_fake:
            logits = logits[:, :-1] - logits[:, -1:]  # same softmax, fake logit now 0
        # float32 out even under bf16 autocast (a no-op otherwise), so the logsumexp,
        # softplus and cross-entropy of every loss never run in reduced precision.
        return logits.float(), features.float()


class Generator(nn.Module):
    """Noise (B, Z) -> images (B, C, H, W) in [-1, 1]."""

    def __init__(self, cfg: TrainConfig, channels: int, image_size: int) -> None:
        super().__init__()
        self.noise_dim = cfg.noise_dim
        self.shape = (channels, image_size, image_size)
        if cfg.architecture == "mlp":
            self.body = self._mlp_body(cfg.noise_dim, channels * image_size * image_size)
        else:
            self.body = self._conv_body(cfg.noise_dim, channels, image_size)

    @staticmethod
    def _mlp_body(noise_dim: int, out_features: int) -> nn.Sequential:
        # Improved-GAN's MNIST generator: two 500-unit softplus layers with batch norm.
        return nn.Sequential(
            nn.Linear(noise_dim, 500), nn.BatchNorm1d(500), nn.Softplus(),
            nn.Linear(500, 500), nn.BatchNorm1d(500), nn.Softplus(),
            nn.Linear(500, out_features), nn.Tanh(),
        )

    @staticmethod
    def _conv_body(noise_dim: int, channels: int, image_size: int) -> nn.Sequential:
        base = image_size // 4  # 7 for 28x28, 8 for 32x32
        return nn.Sequential(
            nn.Linear(noise_dim, 128 * base * base), nn.BatchNorm1d(128 * base * base),
            nn.ReLU(), nn.Unflatten(1, (128, base, base)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.body(noise).view(noise.shape[0], *self.shape)

    def sample_noise(self, count: int, generator: torch.Generator | None = None
                     ) -> torch.Tensor:
        return torch.rand(count, self.noise_dim, generator=generator)  # (B, Z) uniform


@torch.no_grad()
def data_dependent_init(discriminator: Discriminator, images: torch.Tensor) -> None:
    """Salimans & Kingma's init for weight-normed layers: scale and shift each unit so
    its pre-activation has zero mean and unit variance on a batch of real images.

    Needs images only (no labels). Starts D in a well-scaled regime, which speeds up the
    first few hundred steps; layers without weight norm are left as they are.
    """
    was_training = discriminator.training
    discriminator.eval()
    x = images
    for layer in list(discriminator.trunk) + [discriminator.head]:
        if hasattr(layer, "parametrizations") and isinstance(layer, nn.Linear):
            x = x.flatten(1)
            direction = layer.parametrizations.weight.original1  # v: (out, in)
            pre = x @ (direction / direction.norm(dim=1, keepdim=True)).T  # (B, out)
            mean, std = pre.mean(dim=0), pre.std(dim=0) + 1e-6
            layer.parametrizations.weight.original0.copy_((1.0 / std)[:, None])  # g
            layer.bias.copy_(-mean / std)
        x = layer(x)
    discriminator.train(was_training)
