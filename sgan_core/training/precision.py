"""Which arithmetic the training step uses: bfloat16 autocast where the CPU does it
natively, float32 elsewhere. Weights, optimiser state and every loss stay float32."""
from __future__ import annotations

import contextlib
import functools

import torch


@functools.cache  # the CPU does not change while the process runs
def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls run 1.5x faster than float32 (bench/README.md).
    Elsewhere bf16 is emulated and slower, so "auto" keeps float32."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = set(next((line for line in cpuinfo if line.startswith("flags")),
                             "").split())
    except OSError:  # not Linux: stay on the safe, exact path
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(precision: str, device: torch.device | None = None) -> str:
    """"auto" -> "bfloat16" where the device does it natively (a CPU with AVX512-BF16 or
    AMX, a GPU that supports bf16), else "float32"; other values unchanged."""
    if precision != "auto":
        return precision
    if device is not None and device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if cpu_has_native_bf16() else "float32"


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """bfloat16 autocast of the matmuls when asked; the discriminator hands float32
    logits and features to the losses either way (models.Discriminator.forward)."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
