"""Slow motion: one real training step of a run, watched.

`traced_step` takes the run's next step through `Trainer.recorded_step()`: the very step
`train_step()` would take (same draws, updates and losses; tests/test_slow_motion.py
checks that against a plain run), which also hands back the batches, noise and D's
logits its losses were computed from, and the loss terms it computed. Nothing of the
step is computed here again.

After the step, "what each update changed" is measured on the step's own images with
D's and G's weights from before the step (kept aside, used through
`torch.func.functional_call`) and after it, in eval mode: no noise, no dropout, so no
random draw, and batch norm's running statistics are only read. The figures come from
the objectives in losses.py that the trainer's updates use.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import torch
from torch.func import functional_call

from sgan_core.training import losses
from sgan_core.data.batches import to_uint8
from sgan_core.snapshot import frozen_array
from sgan_core.training.trainer import StepLosses, StepRecord, Trainer

SHOWN = 8  # thumbnails per batch: enough to talk about, few enough to read


@dataclass(frozen=True)
class Thumbnails:
    """The first SHOWN images of a batch and D's verdict on each.

    The verdict is the most probable of the N classes and fake, as everywhere on the
    page; it can be "fake" while P(fake) is under a half (when no class is likelier),
    so what goes with a verdict is the probability of that verdict, never P(real)."""

    images: np.ndarray  # (k, H, W, C) uint8, as D saw them (shift included)
    verdicts: np.ndarray  # (k,) argmax over N classes + fake (N = fake)
    p_verdict: np.ndarray  # (k,) D's probability of that verdict: of the class, or of fake
    labels: Optional[np.ndarray] = None  # (k,) true classes: the labeled batch only


@dataclass(frozen=True)
class Change:
    """One figure before the step, after D's update and after G's update (None: G's
    update cannot change it, e.g. anything measured with D alone on fixed images)."""

    key: str  # which figure: see CHANGES
    before: float
    after_d: float
    after_g: Optional[float]


# Every figure a Change may carry, in the order they are reported.
CHANGES = ("supervised", "unsupervised_real", "unsupervised_fake", "p_real_unlabeled",
           "p_real_d_fakes", "p_real_g_fakes", "generator")


@dataclass(frozen=True)
class StepTrace:
    step: int  # the run's step count after this step
    losses: StepLosses  # exactly what train_step would return (and the run's history got)
    discriminator_loss: float  # supervised + w * (real + fake), as D's update computed it
    unsupervised_weight: float  # w in D's loss
    d_lr: float
    g_lr: float
    generator_loss: str  # "feature_matching" or "non_saturating"
    batch_sizes: tuple[int, int, int]  # labeled, unlabeled, fakes (D's and G's updates)
    labeled: Thumbnails
    unlabeled: Thumbnails
    d_fakes: Thumbnails  # the fakes D's update saw
    g_fakes_before: Thumbnails  # the same noise through G before its update (eval mode)
    g_fakes_after: Thumbnails  # the same noise through G after its update
    changes: tuple[Change, ...]


def traced_step(trainer: Trainer) -> StepTrace:
    """One step of `trainer`, the very one `train_step()` would take, with its trace."""
    before = {name: _clone(model) for name, model in
              (("d", trainer.discriminator), ("g", trainer.generator))}
    record = trainer.recorded_step()
    with torch.no_grad():
        return _trace(trainer, record, before)


class SlowMotion:
    """A run's slow-motion side: steps traced on request, the latest trace kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Optional[StepTrace] = None

    def step(self, trainer: Trainer, traced: bool) -> StepLosses:
        if not traced:
            return trainer.train_step()
        trace = traced_step(trainer)
        with self._lock:
            self._latest = trace
        return trace.losses

    def latest(self) -> Optional[StepTrace]:
        with self._lock:
            return self._latest


def _clone(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _trace(trainer: Trainer, record: StepRecord, before: dict) -> StepTrace:
    device = trainer.device
    batches = {"labeled": record.labeled.to(device), "unlabeled": record.unlabeled.to(device),
               "d_fakes": record.fakes.to(device)}
    measure = _Measure(trainer, before)
    noise = record.noise.to(device)
    fakes_before, fakes_after = measure.fakes(noise, old=True), measure.fakes(noise)
    return StepTrace(
        step=trainer.step_count, losses=record.losses,
        discriminator_loss=record.discriminator_loss,
        unsupervised_weight=record.unsupervised_weight, d_lr=record.d_lr, g_lr=record.g_lr,
        generator_loss=trainer.cfg.generator_loss,
        batch_sizes=(len(record.labeled), len(record.unlabeled), len(record.fakes)),
        labeled=_thumbnails(record.labeled, record.logits_labeled, record.targets),
        unlabeled=_thumbnails(record.unlabeled, record.logits_unlabeled),
        d_fakes=_thumbnails(record.fakes, record.logits_fake),
        g_fakes_before=_thumbnails(fakes_before, measure.logits(fakes_before)),
        g_fakes_after=_thumbnails(fakes_after, measure.logits(fakes_after)),
        changes=measure.changes({**batches, "g_fakes": fakes_before},
                                record.targets.to(device), fakes_after))


class _Measure:
    """D and G in eval mode, with the weights from before the step (old=True) or now."""

    def __init__(self, trainer: Trainer, before: dict) -> None:
        self.trainer, self.before = trainer, before

    def _d(self, images: torch.Tensor, old: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.trainer.discriminator
        with _eval(model):
            if old:
                return functional_call(model, self.before["d"], (images,))
            return model(images)

    def logits(self, images: torch.Tensor, old: bool = False) -> torch.Tensor:
        return self._d(images, old)[0]

    def fakes(self, noise: torch.Tensor, old: bool = False) -> torch.Tensor:
        model = self.trainer.generator
        with _eval(model):
            return functional_call(model, self.before["g"], (noise,)) if old else model(noise)

    def generator_loss(self, unlabeled: torch.Tensor, fakes: torch.Tensor,
                       old_d: bool) -> float:
        """G's objective (the trainer's, as the run's config names it) with D before or
        after its update; feature matching's target: D's features of the unlabeled batch."""
        logits_fake, features_fake = self._d(fakes, old_d)
        return losses.generator_loss(self.trainer.cfg.generator_loss, logits_fake,
                                     features_fake, lambda: self._d(unlabeled, old_d)[1]
                                     ).item()

    def changes(self, batches: dict[str, torch.Tensor], targets: torch.Tensor,
                fakes_after: torch.Tensor) -> tuple[Change, ...]:
        """`batches`: labeled, unlabeled, d_fakes (as D's update saw them) and g_fakes
        (G's batch from G before its update)."""
        old = {name: self.logits(images, old=True) for name, images in batches.items()}
        new = {name: self.logits(images) for name, images in batches.items()}
        # D's own terms, through the objective its update used; None: G cannot change them
        was, now = (losses.discriminator_terms(out["labeled"], targets, out["unlabeled"],
                                               out["d_fakes"]) for out in (old, new))
        unlabeled, fakes_before = batches["unlabeled"], batches["g_fakes"]
        return (
            Change("supervised", was.supervised.item(), now.supervised.item(), None),
            Change("unsupervised_real", was.real.item(), now.real.item(), None),
            Change("unsupervised_fake", was.fake.item(), now.fake.item(), None),
            Change("p_real_unlabeled", _p_real(old["unlabeled"]), _p_real(new["unlabeled"]),
                   None),
            Change("p_real_d_fakes", _p_real(old["d_fakes"]), _p_real(new["d_fakes"]), None),
            Change("p_real_g_fakes", _p_real(old["g_fakes"]), _p_real(new["g_fakes"]),
                   _p_real(self.logits(fakes_after))),
            Change("generator", self.generator_loss(unlabeled, fakes_before, old_d=True),
                   self.generator_loss(unlabeled, fakes_before, old_d=False),
                   self.generator_loss(unlabeled, fakes_after, old_d=False)))


@contextlib.contextmanager
def _eval(model: torch.nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _p_real(logits: torch.Tensor) -> float:
    return float(1.0 - losses.fake_probability(logits).mean())


def _thumbnails(images: torch.Tensor, logits: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> Thumbnails:
    images, logits = images[:SHOWN], logits[:SHOWN].float()
    p_verdict, verdicts = losses.class_probabilities(logits).max(dim=1)
    return Thumbnails(
        images=frozen_array(to_uint8(images.float()).cpu().numpy(), np.uint8),
        verdicts=frozen_array(verdicts.cpu().numpy()),
        p_verdict=frozen_array(p_verdict.cpu().numpy()),
        labels=None if labels is None else frozen_array(labels[:SHOWN].cpu().numpy()))
