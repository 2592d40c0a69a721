"""One SGAN training step, the supervised-only baseline beside it, and their state.

No threads here: `run.py` drives this object from its worker, the CLI from a loop.
"""
from __future__ import annotations

import contextlib
import copy
import functools
from dataclasses import dataclass

import torch
from torch import nn

from sgan_core import losses
from sgan_core.batches import LabeledSampler, UnlabeledSampler, random_shift, to_unit_range
from sgan_core.config import TrainConfig
from sgan_core.data import Split
from sgan_core.models import Discriminator, Generator, data_dependent_init


@dataclass(frozen=True)
class StepLosses:
    supervised: float  # cross-entropy on the labeled batch
    unsupervised_real: float  # -log D(x) on the unlabeled batch
    unsupervised_fake: float  # -log(1 - D(G(z))) on the generated batch
    generator: float  # feature matching or non-saturating
    baseline: float  # supervised-only classifier's cross-entropy

    @property
    def unsupervised(self) -> float:
        return self.unsupervised_real + self.unsupervised_fake

    def is_finite(self) -> bool:
        values = (self.supervised, self.unsupervised_real, self.unsupervised_fake,
                  self.generator, self.baseline)
        return all(v == v and abs(v) != float("inf") for v in values)


def _adam(params, lr: float, beta1: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999))


class ModelAverage:
    """Exponential moving average of a model's weights, evaluated instead of the model.

    The decay ramps up from 0 so early evaluations are not dominated by the random init.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for averaged, current in zip(self.model.parameters(), model.parameters()):
            averaged.lerp_(current, 1.0 - decay)


@functools.cache  # the CPU does not change while the process runs
def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls run 1.5x faster than float32 (bench/README.md).
    Elsewhere bf16 is emulated and slower, so "auto" keeps float32."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = set(next((line for line in cpuinfo if line.startswith("flags")),
                             "").split())
    except OSError:  # not Linux: stay on the safe, exact path
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(precision: str) -> str:
    """"auto" -> "bfloat16" on CPUs with native bf16, else "float32"; others unchanged."""
    if precision != "auto":
        return precision
    return "bfloat16" if cpu_has_native_bf16() else "float32"


class Trainer:
    """SGAN discriminator + generator, and the same-architecture baseline classifier."""

    def __init__(self, cfg: TrainConfig, split: Split) -> None:
        self.cfg = cfg
        self.split = split
        spec = split.spec
        torch.manual_seed(cfg.seed)  # init and the noise/dropout layers' draws
        self.rng = torch.Generator().manual_seed(cfg.seed)  # batches, shifts, z
        self.discriminator = Discriminator(cfg, spec.channels, spec.image_size, spec.num_classes)
        self.generator = Generator(cfg, spec.channels, spec.image_size)
        self.baseline = Discriminator(cfg, spec.channels, spec.image_size, spec.num_classes)
        if cfg.data_init:
            self._data_init(split)
        self.d_optimizer = _adam(self.discriminator.parameters(), cfg.d_lr, cfg.adam_beta1)
        self.g_optimizer = _adam(self.generator.parameters(), cfg.g_lr, cfg.adam_beta1)
        # The baseline is a plain classifier: it gets the usual Adam momentum, not the
        # GAN-tuned one, so nothing about it is handicapped.
        self.baseline_optimizer = _adam(self.baseline.parameters(), cfg.baseline_lr, 0.9)
        self.d_average = ModelAverage(self.discriminator, cfg.ema_decay)
        self.baseline_average = ModelAverage(self.baseline, cfg.ema_decay)
        self.labeled = LabeledSampler(split.labeled_images, split.labeled_targets,
                                      cfg.labeled_batch_size, self.rng)
        self.unlabeled = UnlabeledSampler(split.unlabeled_images, cfg.batch_size, self.rng)
        self.base_d_lr, self.base_g_lr = cfg.d_lr, cfg.g_lr
        self.precision = resolve_precision(cfg.precision)
        self.step_count = 0
        # Share of the run's budget used so far, set by whoever knows the budget (the
        # run loop); drives the lr_decay_to_budget schedule.
        self.budget_progress = 0.0
        # The noise and dropout layers draw from torch's global generator, which anything
        # else in the process may also use. Each step swaps in this private stream (saved
        # in checkpoints), so a run's steps do not depend on what else ran in between and
        # a resumed run continues exactly where it stopped.
        self.layer_rng_state = torch.Generator().manual_seed(cfg.seed + 1).get_state()

    def _data_init(self, split: Split) -> None:
        """Same data-dependent init for D and the baseline, from unlabeled images only."""
        index = torch.randperm(len(split.unlabeled_images), generator=self.rng)[:500]
        images = to_unit_range(split.unlabeled_images[index])
        data_dependent_init(self.discriminator, images)
        data_dependent_init(self.baseline, images)

    # ----- evaluation models -----
    @property
    def eval_discriminator(self) -> nn.Module:
        return self.d_average.model if self.cfg.ema_decay > 0 else self.discriminator

    @property
    def eval_baseline(self) -> nn.Module:
        return self.baseline_average.model if self.cfg.ema_decay > 0 else self.baseline

    # ----- learning rates -----
    def set_learning_rates(self, d_lr: float | None = None, g_lr: float | None = None) -> None:
        """Change the base learning rates live (the decay schedule still applies)."""
        self.base_d_lr = d_lr if d_lr is not None else self.base_d_lr
        self.base_g_lr = g_lr if g_lr is not None else self.base_g_lr
        self._apply_schedule()

    def current_learning_rates(self) -> tuple[float, float]:
        factor = 1.0 - self.budget_progress if self.cfg.lr_decay_to_budget else 1.0
        if self.cfg.lr_decay_steps > 0:
            factor = min(factor, 1.0 - self.step_count / self.cfg.lr_decay_steps)
        factor = max(0.0, factor)
        return self.base_d_lr * factor, self.base_g_lr * factor

    def _apply_schedule(self) -> None:
        d_lr, g_lr = self.current_learning_rates()
        # The baseline keeps its own rate (the best for it alone) under the same decay;
        # live changes from the page tune the SGAN, not the yardstick.
        baseline_lr = self.cfg.baseline_lr * (d_lr / self.base_d_lr)
        for optimizer, lr in ((self.d_optimizer, d_lr), (self.g_optimizer, g_lr),
                              (self.baseline_optimizer, baseline_lr)):
            for group in optimizer.param_groups:
                group["lr"] = lr

    def unsupervised_weight(self) -> float:
        ramp = self.cfg.unsupervised_rampup_steps
        factor = min(1.0, self.step_count / ramp) if ramp > 0 else 1.0
        return self.cfg.unsupervised_weight * factor

    # ----- the step -----
    def _real_batches(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        shift = self.cfg.augment_shift
        labeled_images, targets = self.labeled.next_batch()
        unlabeled_images = self.unlabeled.next_batch()
        labeled = random_shift(to_unit_range(labeled_images), shift, self.rng)
        unlabeled = random_shift(to_unit_range(unlabeled_images), shift, self.rng)
        return labeled, targets, unlabeled

    def train_step(self) -> StepLosses:
        """(1) update D on labeled, unlabeled and generated images, (2) update G,
        then one step of the baseline on the very same labeled batch."""
        self._apply_schedule()
        labeled, targets, unlabeled = self._real_batches()
        with torch.random.fork_rng(devices=[]), self._precision():
            torch.set_rng_state(self.layer_rng_state)
            sup, real, fake, features_unlabeled = self._update_discriminator(
                labeled, targets, unlabeled)
            g_loss = self._update_generator(features_unlabeled)
            b_loss = self._update_baseline(labeled, targets) if self.cfg.train_baseline else 0.0
            self.layer_rng_state = torch.get_rng_state()
        self.step_count += 1
        return StepLosses(sup, real, fake, g_loss, b_loss)

    def _precision(self) -> contextlib.AbstractContextManager:
        """bfloat16 autocast of the matmuls when asked; the discriminator hands float32
        logits and features to the losses either way (models.Discriminator.forward)."""
        if self.precision == "bfloat16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _update_discriminator(self, labeled, targets, unlabeled):
        self.discriminator.train()
        self.generator.train()
        with torch.no_grad():
            fake = self.generator(self.generator.sample_noise(len(unlabeled), self.rng))
        # One forward pass over all three batches: D has no batch norm, so this equals
        # three separate passes and is faster on a CPU.
        logits, features = self.discriminator(torch.cat([labeled, unlabeled, fake]))
        n_lab, n_unl = len(labeled), len(unlabeled)
        logits_labeled = logits[:n_lab]  # (L, N)
        logits_unlabeled = logits[n_lab:n_lab + n_unl]  # (B, N)
        logits_fake = logits[n_lab + n_unl:]  # (B, N)
        sup = losses.supervised_loss(logits_labeled, targets)
        real = losses.real_unsupervised_loss(logits_unlabeled)
        fake_loss = losses.fake_unsupervised_loss(logits_fake)
        d_loss = sup + self.unsupervised_weight() * (real + fake_loss)
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        self.d_average.update(self.discriminator)
        features_unlabeled = features[n_lab:n_lab + n_unl].detach()
        return sup.item(), real.item(), fake_loss.item(), features_unlabeled

    def _update_generator(self, features_unlabeled: torch.Tensor) -> float:
        self.discriminator.requires_grad_(False)  # G's step must not touch D's grads
        try:
            noise = self.generator.sample_noise(len(features_unlabeled), self.rng)
            logits_fake, features_fake = self.discriminator(self.generator(noise))
            if self.cfg.generator_loss == "feature_matching":
                g_loss = losses.feature_matching_loss(features_unlabeled, features_fake)
            else:
                g_loss = losses.non_saturating_loss(logits_fake)
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optimizer.step()
        finally:
            self.discriminator.requires_grad_(True)
        return g_loss.item()

    def _update_baseline(self, labeled: torch.Tensor, targets: torch.Tensor) -> float:
        self.baseline.train()
        logits, _ = self.baseline(labeled)
        loss = losses.supervised_loss(logits, targets)
        self.baseline_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.baseline_optimizer.step()
        self.baseline_average.update(self.baseline)
        return loss.item()

    # ----- state for checkpoints -----
    def state_dict(self) -> dict:
        return {
            "discriminator": self.discriminator.state_dict(),
            "generator": self.generator.state_dict(),
            "baseline": self.baseline.state_dict(),
            "d_average": self.d_average.model.state_dict(),
            "baseline_average": self.baseline_average.model.state_dict(),
            "average_updates": self.d_average.updates,
            "d_optimizer": self.d_optimizer.state_dict(),
            "g_optimizer": self.g_optimizer.state_dict(),
            "baseline_optimizer": self.baseline_optimizer.state_dict(),
            "rng": self.rng.get_state(),
            "layer_rng": self.layer_rng_state.clone(),
            "step_count": self.step_count,
            "images_seen": self.unlabeled.images_seen,
            "unlabeled_order": self.unlabeled.order.clone(),
            "unlabeled_position": self.unlabeled.position,
            "base_lrs": [self.base_d_lr, self.base_g_lr],
        }

    def load_state_dict(self, state: dict) -> None:
        self.discriminator.load_state_dict(state["discriminator"])
        self.generator.load_state_dict(state["generator"])
        self.baseline.load_state_dict(state["baseline"])
        self.d_average.model.load_state_dict(state["d_average"])
        self.baseline_average.model.load_state_dict(state["baseline_average"])
        self.d_average.updates = self.baseline_average.updates = state["average_updates"]
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.baseline_optimizer.load_state_dict(state["baseline_optimizer"])
        self.rng.set_state(state["rng"])
        self.step_count = int(state["step_count"])
        self.unlabeled.images_seen = int(state["images_seen"])
        if "layer_rng" in state:  # absent from checkpoints saved before it existed
            self.layer_rng_state = state["layer_rng"].clone()
        order = state.get("unlabeled_order")
        if order is not None and len(order) == len(self.unlabeled.order):
            self.unlabeled.order = order.clone()
            self.unlabeled.position = int(state["unlabeled_position"])
        self.base_d_lr, self.base_g_lr = (float(v) for v in state["base_lrs"])
