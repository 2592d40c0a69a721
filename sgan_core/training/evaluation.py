"""Evaluation: accuracy on the validation slice and the test set, and the game's figures
((N+1) confusion, fake rejection, verdicts on samples).

Which model: accuracies come from the weight averages (`Trainer.accuracy_*`); every
figure about fakes from the live discriminator, the one the generator plays against.
Which data: the validation slice (carved from training data) is what any tuning script
may select on; test figures are reported, never used to choose anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from torch import nn

from sgan_core.data.batches import to_uint8, to_unit_range
from sgan_core.config import TrainConfig
from sgan_core.data.loading import Split
from sgan_core.training.losses import class_probabilities, fake_probability
from sgan_core.training.precision import autocast
from sgan_core.snapshot import CellMembers, Features, Inspection, Samples, frozen_array

INSPECTOR_COUNT = 16  # fooling fakes / rejected reals shown in the inspector
FAKES_PER_EVALUATION = 500  # fresh generated images behind the confusion "fake" row


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000,
            precision: str = "float32") -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (M, N) and features (M, F), float32 on the CPU, computed in eval mode (no
    noise, no dropout) on the model's device; uint8 or [-1, 1] float input. The model's
    train/eval mode is restored afterwards: the live D is evaluated between steps.
    `precision` "bfloat16": the matmuls under bf16 autocast, as the training step runs
    them (3.6x faster on a CPU with native bf16; on trained models 0-2 of 1,000
    validation verdicts differed from float32's: bench/bench_eval_precision.py)."""
    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    logits, features = [], []
    try:
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size].to(device)
            if chunk.dtype == torch.uint8:
                chunk = to_unit_range(chunk)
            with autocast(precision, device):
                batch_logits, batch_features = model(chunk)
            logits.append(batch_logits.cpu())
            features.append(batch_features.cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(features)


def verdict_probabilities(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """Probabilities over N classes + fake, (B, N+1), for uint8 (B,)H,W,C images
    (an upload, a drawing): the same preprocessing as every test image."""
    batch = np.asarray(images, dtype=np.uint8)
    batch = batch[None] if batch.ndim == 3 else batch
    tensor = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)
    return class_probabilities(predict(model, tensor)[0]).numpy()


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of images whose most likely *real* class is the true class."""
    return (logits.argmax(dim=1) == targets).float().mean().item()


def verdicts(logits: torch.Tensor) -> torch.Tensor:
    """Argmax over N real classes plus fake: N means 'rejected as fake'."""
    return class_probabilities(logits).argmax(dim=1)


def confusion_matrix(real_verdicts: np.ndarray, real_targets: np.ndarray,
                     fake_verdicts: np.ndarray, num_classes: int) -> np.ndarray:
    """(N+1, N+1) counts: rows are truth (classes, then fake), columns the verdict."""
    size = num_classes + 1
    truth = np.concatenate([real_targets, np.full(len(fake_verdicts), num_classes)])
    predicted = np.concatenate([real_verdicts, fake_verdicts])
    return np.bincount(truth * size + predicted, minlength=size * size).reshape(size, size)


@dataclass(frozen=True)
class Accuracies:
    sgan: float  # the SGAN discriminator's accuracy (its accuracy model)
    baseline: Optional[float]  # the supervised-only classifier's; None when not trained


@dataclass(frozen=True)
class GameFigures:
    """The live discriminator against real images and fresh fakes."""

    fake_rejection_rate: float  # fakes whose verdict is "fake"
    false_rejection_rate: float  # real images whose verdict is "fake"
    confusion: np.ndarray  # (N+1, N+1) counts, rows = truth (classes, then fake)


@dataclass(frozen=True)
class Evaluation:
    test: Accuracies  # on the fixed test subset
    validation: Accuracies  # on the whole validation slice
    game: GameFigures  # on the test subset and FAKES_PER_EVALUATION fresh fakes
    samples: Samples
    inspection: Inspection
    features: Features
    cells: CellMembers


def _game_figures(real_verdicts: np.ndarray, targets: np.ndarray,
                  fake_verdicts: np.ndarray, num_classes: int) -> GameFigures:
    return GameFigures(
        fake_rejection_rate=float(np.mean(fake_verdicts == num_classes)),
        false_rejection_rate=float(np.mean(real_verdicts == num_classes)),
        confusion=frozen_array(confusion_matrix(real_verdicts, targets, fake_verdicts,
                                                num_classes)))


class Evaluator:
    """Fixed test subset, fixed grid noise and its own random numbers, so evaluation never
    changes the training stream (a run is deterministic whether or not the page is open).

    `evaluate` (every few seconds of a run: the page's live figures, history.csv) runs D
    and the baseline in the training step's precision, since in float32 it took 14% of
    a page run's time at 1 thread; the final figures (metrics.json) stay float32, so
    the reported accuracies are exact and comparable across versions."""

    def __init__(self, cfg: TrainConfig, split: Split, noise_dim: int) -> None:
        self.cfg = cfg
        self.split = split
        order = torch.randperm(len(split.test_targets),
                               generator=torch.Generator().manual_seed(cfg.seed))
        self.subset = order[:cfg.eval_test_subset]
        # The subset's images for display, made once: every evaluation's CellMembers
        # shares this one read-only array (no copy per evaluation or timeline moment).
        self.subset_display = frozen_array(
            split.test_images[self.subset].permute(0, 2, 3, 1).numpy())
        self.subset_targets = frozen_array(split.test_targets[self.subset].numpy())
        self.grid_noise = torch.rand(cfg.sample_grid_size, noise_dim,
                                     generator=torch.Generator().manual_seed(cfg.seed + 1))

    def fresh_fake_noise(self, step: int) -> torch.Tensor:
        """Noise for the fresh fakes of an evaluation at `step`: new every step, yet a
        function of (seed, step) alone, so the evaluator holds no moving state and a
        resumed run's figures match the uninterrupted run's however often either was
        evaluated."""
        generator = torch.Generator().manual_seed((self.cfg.seed + 2) * 1_000_003 + step)
        return torch.rand(FAKES_PER_EVALUATION, self.cfg.noise_dim, generator=generator)

    def accuracies(self, trainer, images: torch.Tensor, targets: torch.Tensor,
                   precision: str = "float32") -> Accuracies:
        """SGAN and baseline accuracy (their accuracy models) on these images."""
        def of(model: nn.Module) -> float:
            return accuracy(predict(model, images, precision=precision)[0], targets)

        sgan = of(trainer.accuracy_discriminator)
        return Accuracies(sgan, of(trainer.accuracy_baseline) if self.cfg.train_baseline
                          else None)

    def validation_accuracies(self, trainer, precision: str = "float32") -> Accuracies:
        """On the validation slice: the only figure a tuning script may select on."""
        return self.accuracies(trainer, self.split.validation_images,
                               self.split.validation_targets, precision)

    def test_accuracies(self, trainer, full: bool = False,
                        precision: str = "float32") -> Accuracies:
        """On the eval subset, or the full test set (reported, never selected on)."""
        index = slice(None) if full else self.subset
        return self.accuracies(trainer, self.split.test_images[index],
                               self.split.test_targets[index], precision)

    def final_game_figures(self, trainer) -> GameFigures:
        """The game's figures on the whole test set and as many fresh fakes (fixed
        noise of their own, so two evaluations of the same weights agree)."""
        n = self.split.spec.num_classes
        real_logits, _ = predict(trainer.discriminator, self.split.test_images)
        noise = torch.rand(len(self.split.test_targets), self.cfg.noise_dim,
                           generator=torch.Generator().manual_seed(self.cfg.seed + 4))
        fake_logits, _ = predict(trainer.discriminator, self._generate(trainer, noise))
        return _game_figures(verdicts(real_logits).numpy(), self.split.test_targets.numpy(),
                             verdicts(fake_logits).numpy(), n)

    @torch.no_grad()
    def _generate(self, trainer, noise: torch.Tensor) -> torch.Tensor:
        generator = trainer.generator
        generator.eval()  # samples use running batch-norm statistics, as in deployment
        try:
            return generator(noise.to(trainer.device)).cpu()
        finally:
            generator.train()

    def evaluate(self, trainer) -> Evaluation:
        live = trainer.discriminator  # the game's figures: see Trainer's note
        precision = trainer.precision  # the step's arithmetic: see the class's note
        images, targets = self.split.test_images[self.subset], self.split.test_targets[self.subset]
        real_logits, real_features = predict(live, images, precision=precision)
        fakes = self._generate(trainer, self.fresh_fake_noise(trainer.step_count))
        fake_logits, fake_features = predict(live, fakes, precision=precision)
        n = self.split.spec.num_classes
        # The verdicts are computed once, with the cells; the matrix counts those.
        cells = self._cells(real_logits, fakes, fake_logits)
        return Evaluation(
            test=self.test_accuracies(trainer, precision=precision),
            validation=self.validation_accuracies(trainer, precision),
            game=_game_figures(cells.real_verdicts, cells.real_targets, cells.fake_verdicts, n),
            samples=self._samples(trainer, precision),
            inspection=self._inspection(real_logits, targets, fakes, fake_logits),
            features=self._features(trainer.step_count, real_features, targets,
                                    fake_features),
            cells=cells,
        )

    def _cells(self, real_logits, fakes, fake_logits) -> CellMembers:
        real_probabilities = class_probabilities(real_logits)  # (M, N+1)
        fake_probabilities = class_probabilities(fake_logits)  # (F, N+1)
        real_p, real_verdicts = real_probabilities.max(dim=1)
        fake_p, fake_verdicts = fake_probabilities.max(dim=1)
        return CellMembers(
            real_images=self.subset_display,
            real_targets=self.subset_targets,
            real_verdicts=frozen_array(real_verdicts.numpy()),
            real_p_verdict=frozen_array(real_p.numpy()),
            real_p_fake=frozen_array(real_probabilities[:, -1].numpy()),
            fake_images=frozen_array(to_uint8(fakes).numpy()),
            fake_verdicts=frozen_array(fake_verdicts.numpy()),
            fake_p_verdict=frozen_array(fake_p.numpy()),
            fake_p_fake=frozen_array(fake_probabilities[:, -1].numpy()))

    def _samples(self, trainer, precision: str) -> Samples:
        images = self._generate(trainer, self.grid_noise)
        logits, _ = predict(trainer.discriminator, images, precision=precision)
        probabilities = class_probabilities(logits)  # (S, N+1)
        confidences, chosen = probabilities.max(dim=1)
        return Samples(images=frozen_array(to_uint8(images).numpy()),
                       verdicts=frozen_array(chosen.numpy()),
                       confidences=frozen_array(confidences.numpy()),
                       p_fake=frozen_array(probabilities[:, -1].numpy()))

    def _inspection(self, real_logits, targets, fakes, fake_logits) -> Inspection:
        p_fake_real, p_fake_fake = fake_probability(real_logits), fake_probability(fake_logits)
        k = INSPECTOR_COUNT
        fooling = torch.argsort(p_fake_fake)[:k]  # fakes D found most real
        rejected = torch.argsort(p_fake_real, descending=True)[:k]
        real_images = self.split.test_images[self.subset][rejected]  # (k, C, H, W) uint8
        return Inspection(
            p_fake_real=frozen_array(p_fake_real.numpy()),
            p_fake_generated=frozen_array(p_fake_fake.numpy()),
            fooling_fakes=frozen_array(to_uint8(fakes[fooling]).numpy()),
            fooling_fakes_p_fake=frozen_array(p_fake_fake[fooling].numpy()),
            fooling_fakes_class=frozen_array(fake_logits[fooling].argmax(dim=1).numpy()),
            rejected_reals=frozen_array(real_images.permute(0, 2, 3, 1).numpy()),
            rejected_reals_p_fake=frozen_array(p_fake_real[rejected].numpy()),
            rejected_reals_label=frozen_array(targets[rejected].numpy()),
        )

    def _features(self, step, real_features, targets, fake_features) -> Features:
        m, f = self.cfg.embedding_points, self.cfg.embedding_fakes
        return Features(step=step,
                        real=frozen_array(real_features[:m].numpy(), dtype=np.float32),
                        real_labels=frozen_array(targets[:m].numpy()),
                        fake=frozen_array(fake_features[:f].numpy(), dtype=np.float32))
