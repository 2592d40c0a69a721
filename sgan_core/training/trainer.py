"""One SGAN training step, the supervised-only baseline beside it, and their state.

No threads here: runs/training_run.py drives this object from its worker, the CLI from
a loop. A watcher (slow motion) takes the same step through `recorded_step()`, which also
hands back what the step saw and computed, so no objective is written twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import torch
from torch import nn

from sgan_core.training import losses
from sgan_core.training.averaging import ModelAverage
from sgan_core.data.batches import LabeledSampler, UnlabeledSampler, random_shift, to_unit_range
from sgan_core.config import TrainConfig
from sgan_core.data.loading import Split
from sgan_core.training.device import resolve_device
from sgan_core.training.models import (Discriminator, Generator, attach_generator, data_dependent_init,
                              initialise)
from sgan_core.training.precision import autocast, resolve_precision
from sgan_core.training.schedule import learning_rate_factor


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


@dataclass(frozen=True)
class StepRecord:
    """One step as it happened, for a watcher (slow motion): the batches, noise and D's
    verdicts the step's losses were computed from, detached and on the CPU, and the
    figures the step used. A watcher reads these and computes nothing of the step again."""

    losses: StepLosses  # what train_step() would have returned
    discriminator_loss: float  # supervised + w * (real + fake): what D's update lowered
    unsupervised_weight: float  # w in D's loss
    d_lr: float  # the learning rates of this step's updates
    g_lr: float
    labeled: torch.Tensor  # (L, C, H, W) in [-1, 1], shifted, as D saw them
    targets: torch.Tensor  # (L,) their classes
    unlabeled: torch.Tensor  # (B, C, H, W) as D saw them
    noise: torch.Tensor  # (B, Z) G's noise: one draw makes the fakes of both updates
    fakes: torch.Tensor  # (B, C, H, W) G(noise), shifted, as D's and G's updates saw them
    logits_labeled: torch.Tensor  # (L, N) D's logits in its update (noise, dropout on)
    logits_unlabeled: torch.Tensor  # (B, N)
    logits_fake: torch.Tensor  # (B, N)


class _DiscriminatorUpdate(NamedTuple):
    """What D's update computed, detached: its terms and loss, and what G's update and a
    record need of it."""

    terms: losses.DiscriminatorTerms
    loss: torch.Tensor  # scalar
    weight: float  # w in supervised + w * (real + fake)
    logits: torch.Tensor  # (L + B + B, N) on cat([labeled, unlabeled, fakes])
    unlabeled_features: torch.Tensor  # (B, F) feature matching's "same_batch" target


def _adam(params, lr: float, beta1: float) -> torch.optim.Adam:
    # fused: one kernel over all parameters instead of a dozen elementwise passes each
    # (same update; Adam was a quarter of the step's time unfused).
    return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), fused=True)


class Trainer:
    """SGAN discriminator + generator, and the same-architecture baseline classifier."""

    def __init__(self, cfg: TrainConfig, split: Split) -> None:
        self.cfg = cfg
        self.split = split
        self.device = resolve_device(cfg.device)
        # Every random draw of the run comes from one of these, never from torch's global
        # generator, so two runs in one process (the page allows two) cannot change each
        # other's numbers: `rng` for batches, shifts and z; `layer_rng` for the noise and
        # dropout layers (on the device they run on). Both are saved in checkpoints.
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.layer_rng = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        self.discriminator, self.generator, self.baseline = self._build_models(split.spec)
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
        # Feature matching's real-side target: a second, independent pass over the
        # unlabeled images (Improved-GAN's trainx_unl2), so G chases D's view of images D
        # did not just train on.
        self.feature_targets = UnlabeledSampler(split.unlabeled_images, cfg.batch_size,
                                                self.rng)
        self.base_d_lr, self.base_g_lr = cfg.d_lr, cfg.g_lr
        self.precision = resolve_precision(cfg.precision, self.device)
        self.step_count = 0
        # Share of the run's budget used so far, set by whoever knows the budget (the
        # run loop); drives the lr_decay_to_budget schedule.
        self.budget_progress = 0.0

    def _build_models(self, spec) -> tuple[Discriminator, Generator, Discriminator]:
        """D, G and the baseline, initialised from the run's own seed and moved to the
        run's device; D's and the baseline's random layers draw from `layer_rng`."""
        init_rng = torch.Generator().manual_seed(self.cfg.seed + 3)
        models = (Discriminator(self.cfg, spec.channels, spec.image_size, spec.num_classes),
                  Generator(self.cfg, spec.channels, spec.image_size),
                  Discriminator(self.cfg, spec.channels, spec.image_size, spec.num_classes))
        for model in models:
            initialise(model, init_rng)
            model.to(self.device)
            attach_generator(model, self.layer_rng)
        return models

    def _data_init(self, split: Split) -> None:
        """Same data-dependent init for D and the baseline, from unlabeled images only."""
        index = torch.randperm(len(split.unlabeled_images), generator=self.rng)[:500]
        images = to_unit_range(split.unlabeled_images[index]).to(self.device)
        data_dependent_init(self.discriminator, images)
        data_dependent_init(self.baseline, images)

    # ----- evaluation models -----
    # Accuracy is measured on the weight averages (smoother, what a user would deploy);
    # everything about the game against G (fakes caught, reals rejected, verdicts on
    # samples) on the live D, the one G actually plays against: the average lags about
    # 1/(1 - ema_decay) steps behind and never met the current generator.
    @property
    def accuracy_discriminator(self) -> nn.Module:
        return self.d_average.model if self.cfg.ema_decay > 0 else self.discriminator

    @property
    def accuracy_baseline(self) -> nn.Module:
        return self.baseline_average.model if self.cfg.ema_decay > 0 else self.baseline

    @property
    def accuracy_model_name(self) -> str:
        """Which weights the accuracy figures come from, for people and metrics.json."""
        return "ema" if self.cfg.ema_decay > 0 else "live"

    # ----- learning rates -----
    def set_learning_rates(self, d_lr: float | None = None, g_lr: float | None = None) -> None:
        """Change the base learning rates live (the decay schedule still applies)."""
        self.base_d_lr = d_lr if d_lr is not None else self.base_d_lr
        self.base_g_lr = g_lr if g_lr is not None else self.base_g_lr
        self._apply_schedule()

    def current_learning_rates(self) -> tuple[float, float]:
        factor = learning_rate_factor(self.cfg, self.step_count, self.budget_progress)
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
    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        """The random shift every image D sees gets, real or generated alike, so a
        padded border is no cue for "real"."""
        return random_shift(images, self.cfg.augment_shift, self.rng)

    def _real_batch(self, sampler: UnlabeledSampler) -> torch.Tensor:
        return self._augment(to_unit_range(sampler.next_batch()).to(self.device))

    def _noise(self, count: int) -> torch.Tensor:
        return self.generator.sample_noise(count, self.rng).to(self.device)  # (count, Z)

    def _fakes(self, noise: torch.Tensor) -> torch.Tensor:
        return self._augment(self.generator(noise))  # (B, C, H, W)

    def _batches(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(labeled images, their targets, unlabeled images), augmented, on the device."""
        labeled_images, targets = self.labeled.next_batch()
        labeled = self._augment(to_unit_range(labeled_images).to(self.device))
        return labeled, targets.to(self.device), self._real_batch(self.unlabeled)

    def train_step(self) -> StepLosses:
        """(1) update D on labeled, unlabeled and generated images, (2) update G,
        then one step of the baseline on the very same labeled batch."""
        return self._step(recording=False)[0]

    def recorded_step(self) -> StepRecord:
        """The step train_step() would take (the same draws, updates and losses), and
        what it saw and computed. Recording draws nothing and only copies tensors."""
        record = self._step(recording=True)[1]
        assert record is not None
        return record

    def _step(self, recording: bool) -> tuple[StepLosses, Optional[StepRecord]]:
        self._apply_schedule()
        labeled, targets, unlabeled = self._batches()
        self.discriminator.train()
        self.generator.train()
        with autocast(self.precision, self.device):
            # One batch of fakes for both updates (as most GAN code does): D learns from
            # it detached, then G from the updated D's view of the same images. Saves a
            # generator pass, the shift and their noise each step.
            noise = self._noise(self.cfg.batch_size)
            fakes = self._fakes(noise)
            d_update = self._update_discriminator(labeled, targets, unlabeled, fakes.detach())
            g_loss = self._update_generator(fakes, d_update.unlabeled_features)
            b_loss = self._update_baseline(labeled, targets) if self.cfg.train_baseline else 0.0
        terms = d_update.terms
        step_losses = StepLosses(terms.supervised.item(), terms.real.item(), terms.fake.item(),
                                 g_loss.item(), float(b_loss))
        # Kept off the plain step's path: a record copies every batch.
        record = self._record(step_losses, d_update, labeled, targets, unlabeled, noise,
                              fakes) if recording else None
        self.step_count += 1
        return step_losses, record

    def _record(self, step_losses: StepLosses, d_update: _DiscriminatorUpdate,
                labeled: torch.Tensor, targets: torch.Tensor, unlabeled: torch.Tensor,
                noise: torch.Tensor, fakes: torch.Tensor) -> StepRecord:
        logits = split_batches(_kept(d_update.logits), len(labeled), len(unlabeled))
        return StepRecord(
            losses=step_losses, discriminator_loss=d_update.loss.item(),
            unsupervised_weight=d_update.weight,
            d_lr=self.d_optimizer.param_groups[0]["lr"],
            g_lr=self.g_optimizer.param_groups[0]["lr"],
            labeled=_kept(labeled), targets=_kept(targets), unlabeled=_kept(unlabeled),
            # float32, as D's update saw them: cat() promotes G's autocast output
            noise=_kept(noise), fakes=_kept(fakes).float(),
            logits_labeled=logits[0], logits_unlabeled=logits[1], logits_fake=logits[2])

    def _update_discriminator(self, labeled, targets, unlabeled, fake) -> _DiscriminatorUpdate:
        # One forward pass over all three batches: D has no batch norm, so this equals
        # three separate passes and is faster on a CPU.
        logits, features = self.discriminator(torch.cat([labeled, unlabeled, fake]))
        logits_labeled, logits_unlabeled, logits_fake = split_batches(
            logits, len(labeled), len(unlabeled))
        # D's features of the unlabeled batch: feature matching's "same_batch" target.
        unlabeled_features = split_batches(features, len(labeled), len(unlabeled))[1]
        terms = losses.discriminator_terms(logits_labeled, targets, logits_unlabeled,
                                           logits_fake)
        weight = self.unsupervised_weight()
        d_loss = losses.discriminator_loss(terms, weight)
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        self.d_average.update(self.discriminator)
        return _DiscriminatorUpdate(
            losses.DiscriminatorTerms(*(term.detach() for term in terms)), d_loss.detach(),
            weight, logits.detach(), unlabeled_features.detach())

    def _update_generator(self, fakes: torch.Tensor, unlabeled_features: torch.Tensor
                          ) -> torch.Tensor:
        """G's step on `fakes` (G's images of this step, still attached to G's graph);
        `unlabeled_features`: D's features of the unlabeled batch it just trained on
        (before its update), the default feature-matching target."""
        self.discriminator.requires_grad_(False)  # G's step must not touch D's grads
        try:
            # (No parametrize.cached() around these two passes: its cache is process-wide,
            # so another run's thread would read stale weights from it.)
            logits_fake, features_fake = self.discriminator(fakes)
            g_loss = losses.generator_loss(
                self.cfg.generator_loss, logits_fake, features_fake,
                lambda: self._feature_target(unlabeled_features))
            self.g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_optimizer.step()
        finally:
            self.discriminator.requires_grad_(True)
        return g_loss.detach()

    @torch.no_grad()
    def _feature_target(self, unlabeled_features: torch.Tensor) -> torch.Tensor:
        """Real features for feature matching: D's features of the unlabeled batch it
        just trained on (taken before its update), or with "fresh" a new unlabeled batch
        through the updated D (Salimans et al.'s reference code; here it let D run away
        from G in 2 of the 4 seeds compared under a slow learning-rate decay,
        bench/README.md)."""
        if self.cfg.feature_matching_target == "same_batch":
            return unlabeled_features
        _, features = self.discriminator(self._real_batch(self.feature_targets))
        return features

    def _update_baseline(self, labeled: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        self.baseline.train()
        logits, _ = self.baseline(labeled)
        loss = losses.supervised_loss(logits, targets)
        self.baseline_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.baseline_optimizer.step()
        self.baseline_average.update(self.baseline)
        return loss.detach()

    # ----- state for checkpoints -----
    def state_dict(self) -> dict:
        return {
            "discriminator": self.discriminator.state_dict(),
            "generator": self.generator.state_dict(),
            "baseline": self.baseline.state_dict(),
            "d_average": self.d_average.model.state_dict(),
            "baseline_average": self.baseline_average.model.state_dict(),
            "d_average_updates": self.d_average.updates,
            "baseline_average_updates": self.baseline_average.updates,
            "d_optimizer": self.d_optimizer.state_dict(),
            "g_optimizer": self.g_optimizer.state_dict(),
            "baseline_optimizer": self.baseline_optimizer.state_dict(),
            "rng": self.rng.get_state(),
            "layer_rng": self.layer_rng.get_state(),
            "step_count": self.step_count,
            "unlabeled": self.unlabeled.state_dict(),
            "feature_targets": self.feature_targets.state_dict(),
            "base_lrs": [self.base_d_lr, self.base_g_lr],
        }

    def load_state_dict(self, state: dict) -> None:
        self.discriminator.load_state_dict(state["discriminator"])
        self.generator.load_state_dict(state["generator"])
        self.baseline.load_state_dict(state["baseline"])
        self.d_average.model.load_state_dict(state["d_average"])
        self.baseline_average.model.load_state_dict(state["baseline_average"])
        self.d_average.updates = int(state["d_average_updates"])
        self.baseline_average.updates = int(state["baseline_average_updates"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.baseline_optimizer.load_state_dict(state["baseline_optimizer"])
        self.rng.set_state(state["rng"])
        self.layer_rng.set_state(state["layer_rng"])
        self.step_count = int(state["step_count"])
        self.unlabeled.load_state_dict(state["unlabeled"])
        self.feature_targets.load_state_dict(state["feature_targets"])
        self.base_d_lr, self.base_g_lr = (float(v) for v in state["base_lrs"])


def _kept(tensor: torch.Tensor) -> torch.Tensor:
    """A copy on the CPU that outlives the step and holds no device memory or graph."""
    return tensor.detach().to("cpu", copy=True)


def split_batches(logits: torch.Tensor, n_labeled: int, n_unlabeled: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """D's outputs on cat([labeled, unlabeled, fake]) back into the three batches."""
    return (logits[:n_labeled],  # (L, N)
            logits[n_labeled:n_labeled + n_unlabeled],  # (B, N)
            logits[n_labeled + n_unlabeled:])  # (B, N)
