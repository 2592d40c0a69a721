"""The learning-rate schedule: the multiplier on every base rate at a point of the run.

Constant by default; a linear decay to 0 over the run's budget (`lr_decay_to_budget`) or
over `lr_decay_steps`, optionally after a share of it at the full rate
(`lr_hold_fraction`). Why constant: bench/README.md, "Design choices and their evidence".
"""
from __future__ import annotations

from sgan_core.config import TrainConfig


def decay_factor(progress: float, hold_fraction: float) -> float:
    """The multiplier at `progress` (0 to 1) through the decay schedule: 1 until
    `hold_fraction`, then linear to 0 at the end (never below 0)."""
    if progress <= hold_fraction:
        return 1.0
    return max(0.0, (1.0 - progress) / (1.0 - hold_fraction))


def learning_rate_factor(cfg: TrainConfig, step_count: int, budget_progress: float) -> float:
    """The multiplier after `step_count` steps with `budget_progress` of the budget used
    (whichever schedule is further along wins; 1.0 when neither is on)."""
    progress = budget_progress if cfg.lr_decay_to_budget else 0.0
    if cfg.lr_decay_steps > 0:
        progress = max(progress, step_count / cfg.lr_decay_steps)
    return decay_factor(progress, cfg.lr_hold_fraction)
