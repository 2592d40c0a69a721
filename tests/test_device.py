"""sgan_core.training.device: one place picks the device; a missing GPU is a clear ConfigError."""
from __future__ import annotations

import pytest
import torch

from sgan_core.config import ConfigError
from sgan_core.training.device import resolve_device


def test_auto_is_the_cpu_without_a_gpu_and_cuda_with_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_cuda_without_a_gpu_says_what_to_do(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="--device cpu"):
        resolve_device("cuda")


def test_a_cpu_run_keeps_models_and_generators_on_the_cpu(idx_dataset):
    from sgan_core.data.loading import load_split
    from sgan_core.training.trainer import Trainer
    from tiny_config import tiny_cfg

    cfg = tiny_cfg(idx_dataset(), device="cpu")
    trainer = Trainer(cfg, load_split(cfg))
    trainer.train_step()
    assert trainer.device == torch.device("cpu")
    assert trainer.layer_rng.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in trainer.discriminator.parameters())


def test_unknown_device_is_a_config_error(idx_dataset):
    from tiny_config import tiny_cfg

    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda"):
        tiny_cfg(idx_dataset(), device="tpu")
