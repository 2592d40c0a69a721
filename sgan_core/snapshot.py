"""Frozen snapshots the training thread publishes for readers (dashboard, CLI).

A snapshot holds only plain Python values and read-only numpy arrays: a reader can never
reach a live tensor or mutate what the trainer shares. Everything the page draws comes
from here.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional

import numpy as np

from sgan_core.config import TrainConfig

class RunStatus(str, enum.Enum):
    """Run states, in the order a run usually moves through them. A str enum: it
    compares equal to its value, so "running" in a test or a URL still matches."""

    IDLE = "idle"  # created, not started
    LOADING = "loading"  # thread started, reading data / building models
    RUNNING = "running"
    PAUSED = "paused"  # by the user, or by an error (see Snapshot.error)
    FINISHED = "finished"  # step/time budget reached
    STOPPED = "stopped"  # stopped by the user
    FAILED = "failed"  # could not start (bad data, bad settings) or crashed


class ErrorKind(str, enum.Enum):
    """What went wrong, for code to decide on (exit codes, which advice to give);
    Snapshot.error holds the words for people."""

    BAD_INPUT = "bad_input"  # the settings or the data cannot work: change them
    DIVERGED = "diverged"  # losses became NaN or infinite: lower the learning rates
    STEP_FAILED = "step_failed"  # an exception inside a training step
    CRASHED = "crashed"  # anything else (evaluation, publishing, building)


class StartStage(str, enum.Enum):
    """What a run does between Start and its first evaluation, in order (str-valued,
    like RunStatus). The page shows it while nothing else is there to see."""

    WAITING = "waiting"  # created; the training thread has not begun
    LOADING_DATA = "loading_data"  # reading the images (downloading them where asked)
    BUILDING_MODELS = "building_models"  # discriminator, generator, baseline, evaluator
    FIRST_EVALUATION = "first_evaluation"  # samples, confusion matrix, accuracies
    READY = "ready"  # past start-up: the first evaluation is published

    @property
    def step(self) -> int:
        """0 before the first working stage, 1-3 for them, 4 when ready: a page says
        "step 2 of 3"."""
        return list(StartStage).index(self)

    @property
    def fraction(self) -> float:
        """Share of the start-up's steps already done (0 while loading the data, 1 when
        ready): whole steps, not a guess at time, which differs a lot between servers."""
        return min(1.0, max(0, self.step - 1) / START_STEPS)


START_STEPS = 3  # loading the data, building the models, the first evaluation

HISTORY_COLUMNS = (
    "step",
    "seconds",
    "supervised_loss",
    "unsupervised_loss_real",
    "unsupervised_loss_fake",
    "unsupervised_loss",
    "generator_loss",
    "baseline_loss",
    "test_accuracy",
    "baseline_test_accuracy",
    "validation_accuracy",
    "baseline_validation_accuracy",
)


def frozen_array(values: np.ndarray | list, dtype=None) -> np.ndarray:
    """A private, read-only copy, so readers cannot change what others see."""
    array = np.array(values, dtype=dtype, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Samples:
    """Fixed-noise generator samples with the discriminator's verdict on each."""

    images: np.ndarray  # (S, H, W, C) uint8
    verdicts: np.ndarray  # (S,) int: 0..N-1 = accepted as class k, N = rejected as fake
    confidences: np.ndarray  # (S,) float: probability of the verdict's class
    p_fake: np.ndarray  # (S,) float: P(fake | x)


@dataclass(frozen=True)
class Inspection:
    """What the fake-rejection inspector shows."""

    p_fake_real: np.ndarray  # (M,) P(fake) on real test images
    p_fake_generated: np.ndarray  # (F,) P(fake) on fresh fakes
    fooling_fakes: np.ndarray  # (k, H, W, C) uint8: fakes with the lowest P(fake)
    fooling_fakes_p_fake: np.ndarray  # (k,)
    fooling_fakes_class: np.ndarray  # (k,) int: the real class D gave them
    rejected_reals: np.ndarray  # (k, H, W, C) uint8: real images with highest P(fake)
    rejected_reals_p_fake: np.ndarray  # (k,)
    rejected_reals_label: np.ndarray  # (k,) int: their true class


@dataclass(frozen=True)
class CellMembers:
    """Every image behind the confusion matrix, with the live D's verdict on each, so a
    page can open any cell (truth i, verdict j) and show exactly what it counts."""

    real_images: np.ndarray  # (M, H, W, C) uint8: the fixed test subset (one shared array)
    real_targets: np.ndarray  # (M,) int: their true class
    real_verdicts: np.ndarray  # (M,) int: 0..N-1 a class, N = called fake
    real_p_verdict: np.ndarray  # (M,) float: probability of the verdict's class
    real_p_fake: np.ndarray  # (M,) float: P(fake | x)
    fake_images: np.ndarray  # (F, H, W, C) uint8: the evaluation's fresh fakes
    fake_verdicts: np.ndarray  # (F,) int
    fake_p_verdict: np.ndarray  # (F,) float
    fake_p_fake: np.ndarray  # (F,) float


@dataclass(frozen=True)
class Features:
    """Penultimate discriminator features for the embedding panel."""

    step: int  # training step the features were taken at
    real: np.ndarray  # (M, D) float32, fixed test images (same order every time)
    real_labels: np.ndarray  # (M,) int
    fake: np.ndarray  # (F, D) float32, generated images


@dataclass(frozen=True)
class Snapshot:
    run_status: RunStatus
    config: TrainConfig
    class_names: tuple[str, ...] = ()
    step: int = 0
    epoch: float = 0.0  # passes over the unlabeled set
    elapsed_s: float = 0.0  # training time, pauses excluded
    images_per_second: float = 0.0  # unlabeled real images per second of training
    steps_per_second: float = 0.0  # training steps per second of training
    d_lr: float = 0.0  # current learning rates (base rates after the decay schedule)
    g_lr: float = 0.0
    base_d_lr: float = 0.0  # base rates the user set (what a sidebar should show/send)
    base_g_lr: float = 0.0
    test_accuracy: Optional[float] = None  # SGAN (its accuracy model), eval test subset
    baseline_test_accuracy: Optional[float] = None  # supervised-only, same labels
    validation_accuracy: Optional[float] = None  # SGAN on the validation slice
    baseline_validation_accuracy: Optional[float] = None  # baseline, validation slice
    accuracy_model: str = "ema"  # accuracies come from "ema" (weight average) or "live" D
    fake_rejection_rate: Optional[float] = None  # fakes classified as fake (live D)
    false_rejection_rate: Optional[float] = None  # real test images called fake (live D)
    confusion: Optional[np.ndarray] = None  # (N+1, N+1) int counts, rows = truth (live D)
    history: Mapping[str, np.ndarray] = field(  # HISTORY_COLUMNS, read-only
        default_factory=lambda: MappingProxyType({}))
    samples: Optional[Samples] = None
    inspection: Optional[Inspection] = None
    cells: Optional[CellMembers] = None  # the images behind each confusion cell (live D)
    features: Optional[Features] = None
    data_source: str = ""  # where the images came from, for the page to say
    data_notice: Optional[str] = None  # e.g. "using the bundled subset because ..."
    error: Optional[str] = None  # what went wrong and what to do; None when fine
    error_kind: Optional[ErrorKind] = None  # what kind of problem `error` describes
    version: int = 0  # increases with every publish; readers can skip unchanged ones
    evaluation_version: int = 0  # increases with every evaluation: charts redraw on this
    # Start-up, until the first evaluation. READY by default: a snapshot read back from a
    # file or a folder is of a run that is past it. Wall-clock times (time.time()), so
    # a reader in the same process can say how long it has been going.
    start_stage: StartStage = StartStage.READY
    start_began_at: Optional[float] = None  # when the training thread began
    stage_began_at: Optional[float] = None  # when the current stage began

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def accuracy_gap(self) -> Optional[float]:
        if self.test_accuracy is None or self.baseline_test_accuracy is None:
            return None
        return self.test_accuracy - self.baseline_test_accuracy

    @property
    def is_active(self) -> bool:
        """Thread alive and doing (or about to do) work."""
        return self.run_status in (RunStatus.LOADING, RunStatus.RUNNING, RunStatus.PAUSED)
