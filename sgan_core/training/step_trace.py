"""Slow motion: one real training step of a run, watched.

`traced_step` calls the run's own `Trainer.train_step()` (nothing of the step is
re-implemented) and watches it through hooks that change nothing: a forward hook on D
sees the images each of D's passes got and the logits the losses came from, and
wrappers on the labeled sampler and on G's noise record the labels and the noise. So the
step, its losses, the weights after it and every random draw are the ones the run would
have made anyway (tests/test_slow_motion.py checks that against a plain run).

After the step, "what each update changed" is measured on the step's own images with
D's and G's weights from before the step (kept aside, used through
`torch.func.functional_call`) and after it, in eval mode: no noise, no dropout, so no
random draw, and batch norm's running statistics are only read.
"""
from __future__ import annotations

import contextlib
import dataclasses
import threading
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import numpy as np
import torch
from torch.func import functional_call

from sgan_core.training import losses
from sgan_core.data.batches import to_uint8
from sgan_core.snapshot import frozen_array
from sgan_core.training.trainer import StepLosses, Trainer, split_batches

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
    losses: StepLosses  # exactly what train_step returned (and the run's history got)
    unsupervised_weight: float  # w in D's loss = supervised + w * (real + fake)
    d_lr: float
    g_lr: float
    generator_loss: str  # "feature_matching" or "non_saturating"
    batch_sizes: tuple[int, int, int, int]  # labeled, unlabeled, D's fakes, G's fakes
    labeled: Thumbnails
    unlabeled: Thumbnails
    d_fakes: Thumbnails  # the fakes D's update saw
    g_fakes_before: Thumbnails  # G's own batch from G before its update (eval mode)
    g_fakes_after: Thumbnails  # the same noise through G after its update
    changes: tuple[Change, ...]


@dataclass
class _Seen:
    d_passes: list[tuple[torch.Tensor, torch.Tensor]] = dataclasses.field(default_factory=list)
    noise: list[torch.Tensor] = dataclasses.field(default_factory=list)
    targets: list[torch.Tensor] = dataclasses.field(default_factory=list)


def traced_step(trainer: Trainer) -> StepTrace:
    """One step of `trainer`, the very one `train_step()` would take, with its trace."""
    weight = trainer.unsupervised_weight()  # before the step: the ones the step uses
    rates = trainer.current_learning_rates()
    before = {name: _clone(model) for name, model in
              (("d", trainer.discriminator), ("g", trainer.generator))}
    with _watching(trainer) as seen:
        step_losses = trainer.train_step()
    with torch.no_grad():
        return _trace(trainer, seen, before, step_losses, weight, rates)


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


@contextlib.contextmanager
def _watching(trainer: Trainer) -> Iterator[_Seen]:
    """Record D's inputs and logits, G's noise and the labeled targets; restore all."""
    seen = _Seen()
    hook = trainer.discriminator.register_forward_hook(
        lambda _module, inputs, output: seen.d_passes.append(
            (inputs[0].detach(), output[0].detach())))
    sample_noise, next_batch = trainer.generator.sample_noise, trainer.labeled.next_batch
    trainer.generator.sample_noise = _recording(sample_noise, seen.noise)
    trainer.labeled.next_batch = _recording(next_batch, seen.targets, item=1)
    try:
        yield seen
    finally:
        hook.remove()
        del trainer.generator.sample_noise, trainer.labeled.next_batch  # the class's again


def _recording(function: Callable, into: list, item: Optional[int] = None) -> Callable:
    def recorded(*args, **kwargs):
        result = function(*args, **kwargs)
        into.append(result if item is None else result[item])
        return result
    return recorded


def _trace(trainer: Trainer, seen: _Seen, before: dict, step_losses: StepLosses,
           weight: float, rates: tuple[float, float]) -> StepTrace:
    # D's first pass is its update on cat([labeled, unlabeled, fakes]); its second is
    # G's update on the same fakes, now through the updated D (a "fresh" feature-matching
    # target adds a third). One draw of G's noise makes the fakes of both updates.
    (d_input, d_logits), (g_input, g_logits) = seen.d_passes[:2]
    targets, noise = seen.targets[0], seen.noise[0]
    n_labeled, n_fakes = len(targets), len(noise)
    n_unlabeled = len(d_input) - n_labeled - n_fakes
    labeled, unlabeled, d_fakes = split_batches(d_input, n_labeled, n_unlabeled)
    logits = split_batches(d_logits, n_labeled, n_unlabeled)
    measure = _Measure(trainer, before)
    noise = noise.to(trainer.device)
    fakes_before, fakes_after = measure.fakes(noise, old=True), measure.fakes(noise)
    cfg = trainer.cfg
    return StepTrace(
        step=trainer.step_count, losses=step_losses, unsupervised_weight=weight,
        d_lr=rates[0], g_lr=rates[1], generator_loss=cfg.generator_loss,
        batch_sizes=(n_labeled, n_unlabeled, n_fakes, len(g_input)),
        labeled=_thumbnails(labeled, logits[0], targets),
        unlabeled=_thumbnails(unlabeled, logits[1]),
        d_fakes=_thumbnails(d_fakes, logits[2]),
        g_fakes_before=_thumbnails(fakes_before, measure.logits(fakes_before)),
        g_fakes_after=_thumbnails(fakes_after, measure.logits(fakes_after)),
        changes=measure.changes({"labeled": labeled, "unlabeled": unlabeled,
                                 "d_fakes": d_fakes, "g_fakes": fakes_before},
                                targets, fakes_after))


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
        """G's objective with D before or after its update, as the run's config sets it."""
        logits_fake, features_fake = self._d(fakes, old_d)
        if self.trainer.cfg.generator_loss == "feature_matching":
            target = self._d(unlabeled, old_d)[1]
            return losses.feature_matching_loss(target, features_fake).item()
        return losses.non_saturating_loss(logits_fake).item()

    def changes(self, batches: dict[str, torch.Tensor], targets: torch.Tensor,
                fakes_after: torch.Tensor) -> tuple[Change, ...]:
        """`batches`: labeled, unlabeled, d_fakes (as D's update saw them) and g_fakes
        (G's batch from G before its update)."""
        old = {name: self.logits(images, old=True) for name, images in batches.items()}
        new = {name: self.logits(images) for name, images in batches.items()}

        def d_only(key: str, figure: Callable[[dict], float]) -> Change:
            return Change(key, figure(old), figure(new), None)

        unlabeled, fakes_before = batches["unlabeled"], batches["g_fakes"]
        return (
            d_only("supervised", lambda out: losses.supervised_loss(out["labeled"],
                                                                    targets).item()),
            d_only("unsupervised_real",
                   lambda out: losses.real_unsupervised_loss(out["unlabeled"]).item()),
            d_only("unsupervised_fake",
                   lambda out: losses.fake_unsupervised_loss(out["d_fakes"]).item()),
            d_only("p_real_unlabeled", lambda out: _p_real(out["unlabeled"])),
            d_only("p_real_d_fakes", lambda out: _p_real(out["d_fakes"])),
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
