"""TrainConfig: the one flat, frozen description of a training run.

Every field carries its doc in its dataclass metadata (`field_docs`); `validate()` runs
on construction so a bad value never reaches the trainer. The dashboard's sidebar and
the CLI's flags both build this object.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sgan_core.data.datasets import DATASETS

GENERATOR_LOSSES = ("feature_matching", "non_saturating")
FAKE_CLASS_MODES = ("fixed_zero", "explicit")
ARCHITECTURES = ("mlp", "conv")
PRECISIONS = ("auto", "float32", "bfloat16")
FEATURE_TARGETS = ("fresh", "same_batch")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A setting is invalid; the message says which one and what to do."""


def default_data_dir() -> str:
    """Per-user cache folder in torchvision's layout (overridable by SGAN_DATA_DIR)."""
    env = os.environ.get("SGAN_DATA_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "sgan-studio" / "data")


DOC = "doc"  # the metadata key of a field's doc: --help and the sidebar's tooltips


def documented(default: Any, doc: str) -> Any:
    """A TrainConfig field with its default and its doc: what the setting does, with its
    unit or range (read back by `field_docs`)."""
    return field(default=default, metadata={DOC: doc})


@dataclass(frozen=True)
class TrainConfig:
    # --- data ---
    dataset: str = documented(
        "mnist", f"image dataset to train on: {', '.join(DATASETS)}")
    data_dir: str = field(default_factory=default_data_dir, metadata={DOC: (
        "folder that holds the datasets in torchvision's layout (e.g. MNIST/raw/...)")})
    download: bool = documented(
        True, "download the dataset into data_dir when it is missing (without a network "
              "the download fails quietly)")
    bundled_fallback: bool = documented(
        True, "when MNIST is missing from data_dir and cannot be downloaded, train on "
              "the small MNIST subset shipped with SGAN Studio")
    labels_per_class: int = documented(
        10, "labeled training images per class (at least 1), the same number for every "
            "class, picked by seed; the other training images are used without labels")
    validation_size: int = documented(
        1000, "training images held out as the validation set (0 or more), each class "
              "in proportion to its size: never trained on; settings are tuned on it")
    seed: int = documented(
        0, "random seed of the label split, the weight initialisation, the noise and "
           "the batch order")

    # --- model ---
    architecture: str = documented(
        "mlp", "network shape of D, G and the baseline: mlp (fully connected, fast on "
               "a CPU) or conv (convolutional)")
    fake_class: str = documented(
        "fixed_zero", "how D scores an image as fake: fixed_zero (a fake logit fixed at "
                      "0 beside the class logits, as in Salimans et al.) or explicit (a "
                      "learned extra logit)")
    noise_dim: int = documented(100, "length of the generator's random input (at least 1)")
    generator_loss: str = documented(
        "feature_matching", "what G learns to do: feature_matching (match the average of "
                            "D's inner features on real images; the better classifier) "
                            "or non_saturating (make D call its images real; sharper "
                            "samples)")
    feature_matching_target: str = documented(
        "same_batch", "the real images whose features G matches under feature matching: "
                      "same_batch (the unlabeled batch D just trained on) or fresh (a "
                      "second unlabeled batch, through the updated D)")

    # --- optimisation ---
    batch_size: int = documented(
        100, "unlabeled and generated images per training step (1 to 4096)")
    labeled_batch_size: int = documented(
        100, "labeled images per training step, drawn with replacement (1 to 4096)")
    d_lr: float = documented(0.0005, "the discriminator's Adam learning rate, in (0, 1]")
    g_lr: float = documented(0.00025, "the generator's Adam learning rate, in (0, 1]")
    baseline_lr: float = documented(
        0.003, "the supervised-only baseline's Adam learning rate, in (0, 1]")
    adam_beta1: float = documented(
        0.5, "Adam's beta1 (momentum) for D and G, in [0, 1); the baseline uses 0.9")
    unsupervised_weight: float = documented(
        0.5, "weight of D's unsupervised loss (telling real from fake images) beside its "
             "supervised classification loss (0 or more)")
    unsupervised_rampup_steps: int = documented(
        500, "steps over which that weight rises linearly from 0 to unsupervised_weight; "
             "0 = the full weight from the first step")
    data_init: bool = documented(
        False, "initialise the weight-normalised layers of D and the baseline from the "
               "statistics of 500 unlabeled images (data-dependent initialisation)")
    lr_decay_steps: int = documented(
        0, "steps over which every learning rate decays linearly to 0; 0 = off")
    lr_decay_to_budget: bool = documented(
        False, "decay every learning rate linearly to 0 by the end of the run's budget "
               "(max_steps or time_budget_s)")
    lr_hold_fraction: float = documented(
        0.0, "share of the decay schedule (the budget or lr_decay_steps) spent at the full "
             "rate before the linear decay to 0 starts, in [0, 1); 0 = decay from the start")
    ema_decay: float = documented(
        0.999, "decay of the moving average of D's and the baseline's weights that "
               "evaluation uses, in [0, 1); 0 = evaluate the current weights")
    augment_shift: int = documented(
        2, "largest random shift, in pixels (0 to 8), of the images D and the baseline "
           "train on; 0 = off")
    precision: str = documented(
        "auto", "arithmetic of the training step's matrix products: float32, bfloat16 "
                "(autocast), or auto (bfloat16 where the device does it natively: a CPU "
                "with AVX512-BF16 or AMX, a GPU with bf16; else float32)")

    # --- run length and reporting ---
    max_steps: int = documented(0, "stop after this many training steps; 0 = no step limit")
    time_budget_s: float = documented(
        0.0, "stop after this many seconds of training; 0 = no time limit")
    eval_every_s: float = documented(
        2.0, "seconds between evaluations, each of which publishes the run's figures "
             "(more than 0)")
    eval_test_subset: int = documented(
        2000, "test images each periodic evaluation scores (at least 1); the final "
              "figures use the whole test set")
    train_baseline: bool = documented(
        True, "also train the supervised-only classifier on the same labeled images, "
              "for comparison")
    num_threads: int = documented(1, "torch's CPU threads for this run (1 to 64)")
    device: str = documented(
        "auto", "where to train: cpu, cuda, or auto (CUDA when a GPU is usable, else the "
                "CPU)")
    sample_grid_size: int = documented(
        64, "generated images, from fixed noise, shown with D's verdicts (1 to 256)")
    embedding_points: int = documented(
        2000, "test images whose D features go to the feature map (0 or more)")
    embedding_fakes: int = documented(
        200, "generated images whose D features go to the feature map (0 or more)")

    def __post_init__(self) -> None:
        validate(self)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (older checkpoints stay loadable)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def check_learning_rate(name: str, value: float) -> None:
    """Raise ConfigError unless `value` is a usable Adam learning rate: in (0, 1]."""
    _require(0 < value <= 1, f"{name} must be in (0, 1], got {value}")


def validate(cfg: TrainConfig) -> None:
    """Raise ConfigError with an actionable message for the first bad field."""
    _require(cfg.dataset in DATASETS,
             f"unknown dataset {cfg.dataset!r}: choose one of {', '.join(DATASETS)}")
    _require(cfg.labels_per_class >= 1, "labels_per_class must be at least 1")
    _require(cfg.validation_size >= 0, "validation_size must be 0 or more")
    _require(cfg.architecture in ARCHITECTURES,
             f"architecture must be one of {', '.join(ARCHITECTURES)}")
    _require(cfg.fake_class in FAKE_CLASS_MODES,
             f"fake_class must be one of {', '.join(FAKE_CLASS_MODES)}")
    _require(cfg.precision in PRECISIONS,
             f"precision must be one of {', '.join(PRECISIONS)}")
    _require(cfg.generator_loss in GENERATOR_LOSSES,
             f"generator_loss must be one of {', '.join(GENERATOR_LOSSES)}")
    _require(cfg.feature_matching_target in FEATURE_TARGETS,
             f"feature_matching_target must be one of {', '.join(FEATURE_TARGETS)}")
    _require(cfg.device in DEVICES, f"device must be one of {', '.join(DEVICES)}")
    _require(cfg.noise_dim >= 1, "noise_dim must be at least 1")
    _require(1 <= cfg.batch_size <= 4096, "batch_size must be between 1 and 4096")
    _require(1 <= cfg.labeled_batch_size <= 4096,
             "labeled_batch_size must be between 1 and 4096")
    for name in ("d_lr", "g_lr", "baseline_lr"):
        check_learning_rate(name, getattr(cfg, name))
    _require(0 <= cfg.adam_beta1 < 1, "adam_beta1 must be in [0, 1)")
    _require(cfg.unsupervised_weight >= 0, "unsupervised_weight must be 0 or more")
    _require(cfg.lr_decay_steps >= 0, "lr_decay_steps must be 0 or more")
    _require(0 <= cfg.lr_hold_fraction < 1, "lr_hold_fraction must be in [0, 1)")
    _require(cfg.unsupervised_rampup_steps >= 0, "unsupervised_rampup_steps must be 0 or more")
    _require(0 <= cfg.ema_decay < 1, "ema_decay must be in [0, 1)")
    _require(0 <= cfg.augment_shift <= 8, "augment_shift must be between 0 and 8")
    _require(cfg.max_steps >= 0, "max_steps must be 0 or more")
    _require(cfg.time_budget_s >= 0, "time_budget_s must be 0 or more")
    _require(cfg.eval_every_s > 0, "eval_every_s must be more than 0")
    _require(cfg.eval_test_subset >= 1, "eval_test_subset must be at least 1")
    _require(1 <= cfg.num_threads <= 64, "num_threads must be between 1 and 64")
    _require(1 <= cfg.sample_grid_size <= 256, "sample_grid_size must be 1..256")
    _require(cfg.embedding_points >= 0, "embedding_points must be 0 or more")
    _require(cfg.embedding_fakes >= 0, "embedding_fakes must be 0 or more")


def field_docs() -> dict[str, str]:
    """Each TrainConfig field's doc, by name: the one text of the CLI's --help and the
    sidebar's tooltips."""
    return {f.name: f.metadata[DOC] for f in dataclasses.fields(TrainConfig)}
