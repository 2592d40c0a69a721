"""Which device a run trains on: the one place that decides it."""
from __future__ import annotations

import torch

from sgan_core.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """"auto" -> CUDA when a GPU is usable, else the CPU; "cuda" without a GPU is refused
    with what to do (ConfigError), never a crash deep inside the first step."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no usable GPU: "
                          "use --device cpu (or auto)")
    return torch.device(name)
