"""TrainConfig: the one flat, frozen description of a training run.

Every field has a comment; `validate()` runs on construction so a bad value never
reaches the trainer. The dashboard's sidebar and the CLI's flags both build this object.
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


@dataclass(frozen=True)
class TrainConfig:
    # --- data ---
    dataset: str = "mnist"  # registry name: mnist, fashion-mnist, kmnist, cifar10, svhn
    data_dir: str = field(default_factory=default_data_dir)  # torchvision-layout root
    download: bool = True  # try to download when missing (fails quietly offline)
    bundled_fallback: bool = True  # MNIST missing from data_dir: train on the bundled subset
    labels_per_class: int = 10  # labeled examples per class, balanced, chosen by seed
    validation_size: int = 1000  # training images held out for anything that selects
    seed: int = 0  # one seed for split, init, noise and batching

    # --- model ---
    architecture: str = "mlp"  # "mlp" (fast on CPU) or "conv"
    fake_class: str = "fixed_zero"  # fake logit fixed at 0 (Salimans) or explicit N+1
    noise_dim: int = 100  # generator input size
    generator_loss: str = "feature_matching"  # or "non_saturating" (nicer samples)
    feature_matching_target: str = "same_batch"  # real features G matches: D's on the
    # batch it just trained on, or a "fresh" unlabeled batch through the updated D (less
    # stable at high learning rates on validation: bench/README.md)

    # --- optimisation ---
    batch_size: int = 100  # unlabeled and fake images per step
    labeled_batch_size: int = 100  # labeled images per step (drawn with replacement)
    d_lr: float = 0.0005  # discriminator Adam learning rate (beat 3e-4 on validation)
    g_lr: float = 0.00025  # generator Adam learning rate: half D's; at D's rate D ran away
    # from G (every fake caught, G's loss 5-30, accuracy stalled) on 2 of 3 long runs
    baseline_lr: float = 0.003  # baseline's Adam learning rate: the best of 3e-4, 1e-3,
    # 3e-3 for it alone on validation, so the yardstick is not handicapped
    adam_beta1: float = 0.5  # GAN-standard momentum; 0.9 makes D chase G too hard
    unsupervised_weight: float = 0.5  # weight of (real + fake) unsupervised loss; 0.5 as Salimans
    unsupervised_rampup_steps: int = 500  # ramp that weight linearly from 0 over these steps
    data_init: bool = False  # data-dependent init of weight-normed layers; unstable here (bench/README.md)
    lr_decay_steps: int = 0  # linear decay of all lrs to 0 over this many steps; 0 = off
    lr_decay_to_budget: bool = False  # linear decay to 0 over max_steps / time_budget_s;
    # off: a constant rate learned more at a 60 s run's 2,000 steps and as much at 15,000
    lr_hold_fraction: float = 0.0  # share of the decay schedule (budget or lr_decay_steps)
    # spent at the full rate before the linear decay to 0 starts; 0 = decay from the start
    ema_decay: float = 0.999  # EMA of D's weights used for evaluation; 0 = off
    augment_shift: int = 2  # random +-pixels shift of real images (both models); 0 = off
    precision: str = "auto"  # training matmuls in "bfloat16" (autocast) or "float32";
    # "auto" = bfloat16 where the CPU has native bf16 (AVX512-BF16/AMX), else float32

    # --- run length and reporting ---
    max_steps: int = 0  # stop after this many steps; 0 = no step limit
    time_budget_s: float = 0.0  # stop after this many seconds of training; 0 = none
    eval_every_s: float = 2.0  # evaluate and publish a snapshot this often
    eval_test_subset: int = 2000  # test images used by periodic evaluation
    train_baseline: bool = True  # train the supervised-only classifier alongside
    num_threads: int = 1  # torch intra-op threads for this run
    device: str = "auto"  # "cpu", "cuda", or "auto" = CUDA when a GPU is usable
    sample_grid_size: int = 64  # fixed-noise samples shown with verdicts
    embedding_points: int = 2000  # test images whose features go to the embedding
    embedding_fakes: int = 200  # generated images whose features go to the embedding

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
        value = getattr(cfg, name)
        _require(0 < value <= 1, f"{name} must be in (0, 1], got {value}")
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
    """Each TrainConfig field's comment in this file, as one string: the single source
    of the CLI's --help and the sidebar's tooltips (CleanRL's habit). A comment that
    goes on over the next comment-only lines is joined."""
    return dict(_FIELD_DOCS)


def _read_field_docs() -> dict[str, str]:
    import re

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    docs: dict[str, str] = {}
    current = None
    source = Path(__file__).read_text(encoding="utf-8").split("class TrainConfig")[1]
    for line in source.split("def __post_init__")[0].splitlines():
        field_line = re.match(r"\s+(\w+): [^#]+#\s?(.*)$", line)
        if field_line and field_line.group(1) in names:
            current = field_line.group(1)
            docs[current] = field_line.group(2).strip()
        elif current and re.match(r"\s+#\s(?!-)", line) and not line.strip().startswith("# ---"):
            docs[current] += " " + line.strip()[1:].strip()
        else:
            current = None
    return docs


_FIELD_DOCS = _read_field_docs()
