"""Exponential moving averages of a model's weights: what accuracy is measured on."""
from __future__ import annotations

import copy

import torch
from torch import nn


class ModelAverage:
    """Exponential moving average of a model's weights, evaluated instead of the model.

    The decay ramps up from 0 so early evaluations are not dominated by the random init.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0
        self._averaged = list(self.model.parameters())

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        # One multi-tensor kernel for all weights instead of one lerp_ launch each.
        torch._foreach_lerp_(self._averaged, list(model.parameters()), 1.0 - decay)
