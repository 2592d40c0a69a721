"""Shared test helpers: tiny datasets written on the fly, so no test needs a download."""
from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

# Let plain `pytest` run from a fresh checkout without installing the package.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sgan_core.threads import configure_threads  # noqa: E402

configure_threads()  # tests run with the product's thread settings, set before torch loads


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format torchvision reads (big-endian header)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def tagged_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, 28, 28) noise images whose first pixels spell their label and their index.

    Pixel (0, 0) is the label, (0, 1) + 256 * (0, 2) the index, so a test can check that
    images stay aligned with targets and indices through any split.
    """
    n = len(labels)
    images = np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = labels
    images[:, 0, 1] = np.arange(n) % 256
    images[:, 0, 2] = np.arange(n) // 256
    return images


def write_idx_dataset(root: Path, folder: str = "MNIST", per_class: int = 30,
                      test_per_class: int = 5, num_classes: int = 10, seed: int = 0) -> Path:
    """A tiny MNIST-family dataset in torchvision's layout (root/folder/raw/...); returns root."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n_per in (("train", per_class), ("t10k", test_per_class)):
        labels = rng.permutation(np.repeat(np.arange(num_classes), n_per)).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", tagged_images(labels, seed))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture
def idx_dataset(tmp_path: Path) -> Callable[..., Path]:
    """Factory: idx_dataset(folder="MNIST", per_class=30, ...) -> a fresh data_dir."""
    counter = iter(range(1_000_000))

    def make(**kwargs) -> Path:
        return write_idx_dataset(tmp_path / f"data{next(counter)}", **kwargs)

    return make


@pytest.fixture(autouse=True)
def runs_folder(tmp_path_factory, monkeypatch) -> Path:
    """Runs a test makes keep their folders (sgan_core/storage/run_folder.py) in a temporary
    runs folder, never in the repository's runs/."""
    folder = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("SGAN_RUNS_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def one_torch_thread():
    """The machine is shared: one intra-op thread, as the runs themselves use."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
