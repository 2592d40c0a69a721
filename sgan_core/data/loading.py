"""Dataset registry and loaders; the split itself is computed in sgan_core.data.splitting.

Images are held in memory as uint8 tensors (N, C, H, W); the trainer batches by indexing,
with no DataLoader. Datasets are read from `data_dir` in torchvision's layout, downloaded
where a network exists, and MNIST falls back to a small bundled subset of the real thing
so the dashboard works offline on first start. Every data problem surfaces as a DataError
whose message says what to do; callers never see a torchvision traceback.
"""
from __future__ import annotations

import functools
import logging
import os
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
import torch

from sgan_core.data.datasets import (BUNDLED_MNIST, DATASETS, DatasetSpec,  # noqa: F401
                                on_disk)
from sgan_core.data.errors import DataError  # noqa: F401  (raised here; imported from here too)
from sgan_core.data.splitting import checked_labeled_indices, draw_split, split_indices

if TYPE_CHECKING:  # the config names what to load; data sits below it
    from sgan_core.config import TrainConfig

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 10.0  # per socket operation: a machine without network fails fast
@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors field-wise is meaningless
class Split:
    spec: DatasetSpec
    labeled_images: torch.Tensor  # (L, C, H, W) uint8
    labeled_targets: torch.Tensor  # (L,) int64
    labeled_indices: np.ndarray  # (L,) int64, into the training set; saved in checkpoints
    unlabeled_images: torch.Tensor  # (U, C, H, W) uint8; their labels are deliberately absent
    validation_images: torch.Tensor  # (V, C, H, W) uint8, carved from the training set
    validation_targets: torch.Tensor  # (V,) int64
    test_images: torch.Tensor  # (T, C, H, W) uint8, the official test set
    test_targets: torch.Tensor  # (T,) int64
    source: str  # where the images came from, for people
    notice: str | None  # something the user should know (e.g. the offline fallback)


@dataclass(frozen=True)
class _Raw:
    train_images: torch.Tensor  # (N, C, H, W) uint8
    train_targets: np.ndarray  # (N,) int64
    test_images: torch.Tensor  # (T, C, H, W) uint8
    test_targets: torch.Tensor  # (T,) int64
    source: str


# ----------------------------------------------------------------------------- loading

def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return DATASETS[name]


@contextmanager
def _network_timeout(seconds: float) -> Iterator[None]:
    # torchvision's downloader passes no timeout to urlopen, so a half-working network would
    # hang the dashboard. The default is process-wide, hence restored straight after.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _open_torchvision(spec: DatasetSpec, data_dir: str, train: bool, download: bool) -> Any:
    import torchvision.datasets as tv  # late: the import costs about a second

    cls = getattr(tv, spec.torchvision_class)
    root = str(Path(data_dir) / spec.root_subdir)
    if spec.torchvision_class == "SVHN":
        return cls(root, split="train" if train else "test", download=download)
    return cls(root, train=train, download=download)


def _try_download(spec: DatasetSpec, data_dir: str) -> None:
    """Fetch the dataset into data_dir; any failure just leaves it missing."""
    try:
        with _network_timeout(DOWNLOAD_TIMEOUT_S):
            for train in (True, False):
                _open_torchvision(spec, data_dir, train, download=True)
    except Exception as err:  # offline, DNS, timeout, read-only folder: all "not available"
        log.info("could not download %s into %s: %s", spec.title, data_dir, err)


def _as_arrays(dataset: Any, spec: DatasetSpec) -> tuple[torch.Tensor, np.ndarray]:
    """(N, C, H, W) uint8 images and (N,) int64 targets from a torchvision-like dataset."""
    images = torch.as_tensor(dataset.data)
    if images.ndim == 3:  # MNIST family: (N, H, W)
        images = images.unsqueeze(1)
    elif images.ndim == 4 and images.shape[-1] == spec.channels != images.shape[1]:
        images = images.permute(0, 3, 1, 2)  # CIFAR stores (N, H, W, C)
    labels = dataset.targets if hasattr(dataset, "targets") else dataset.labels
    targets = np.asarray(labels, dtype=np.int64)
    expected = (spec.channels, spec.image_size, spec.image_size)
    if (images.dtype != torch.uint8 or tuple(images.shape[1:]) != expected
            or len(images) != len(targets) or len(targets) == 0
            or targets.min() < 0 or targets.max() >= spec.num_classes):
        raise ValueError(f"unexpected contents: images {tuple(images.shape)} {images.dtype}, "
                         f"{len(targets)} targets")
    return images.contiguous(), targets


def _raw_from(train: Any, test: Any, spec: DatasetSpec, where: str) -> _Raw:
    train_images, train_targets = _as_arrays(train, spec)
    test_images, test_targets = _as_arrays(test, spec)
    source = (f"{where} ({len(train_targets):,} training / {len(test_targets):,} "
              "test images)")
    return _Raw(train_images, train_targets, test_images, torch.from_numpy(test_targets),
                source)


@functools.lru_cache(maxsize=3)  # an MNIST is about 55 MB in memory, SVHN about 250 MB
def _read_disk(name: str, data_dir: str) -> _Raw:
    spec = DATASETS[name]
    folder = Path(data_dir) / spec.folder
    try:
        return _raw_from(_open_torchvision(spec, data_dir, True, download=False),
                         _open_torchvision(spec, data_dir, False, download=False),
                         spec, f"{spec.title} from {folder}")
    except Exception as err:  # torchvision reports bad files by assert, RuntimeError, ...
        raise DataError(f"The {spec.title} files in {folder} look corrupt (wrong size or "
                        "format). Delete them and download or copy them again.") from err


@functools.lru_cache(maxsize=1)
def _read_bundled() -> _Raw:
    try:
        with np.load(BUNDLED_MNIST) as archive:
            train = SimpleNamespace(data=archive["train_images"], targets=archive["train_labels"])
            test = SimpleNamespace(data=archive["test_images"], targets=archive["test_labels"])
        return _raw_from(train, test, DATASETS["mnist"], "bundled subset of real MNIST")
    except Exception as err:  # missing, truncated or edited by hand
        raise DataError(f"The bundled MNIST subset {BUNDLED_MNIST} is missing or damaged; "
                        "restore it with `git checkout -- assets/mnist_subset.npz`.") from err


_LOAD_LOCK = threading.Lock()  # one read/download at a time: runs share the CPU and folders


def _load_raw(spec: DatasetSpec, data_dir: str, download: bool,
              bundled_fallback: bool = True) -> tuple[_Raw, str | None]:
    """The dataset's arrays and a notice for the user (None when all went as asked)."""
    data_dir = os.path.abspath(os.path.expanduser(data_dir))  # one cache entry per folder
    with _LOAD_LOCK:
        if download and not on_disk(spec, data_dir):
            _try_download(spec, data_dir)
        if on_disk(spec, data_dir):
            return _read_disk(spec.name, data_dir), None
        if spec.name == "mnist" and bundled_fallback:
            raw = _read_bundled()
            return raw, _fallback_notice(data_dir, download, raw)
    why = "could not be downloaded" if download else "downloading is off"
    raise DataError(f"{spec.title} was not found in {data_dir} and {why}. Put it there in "
                    f"torchvision's layout ({Path(data_dir) / spec.folder}/...) or run once "
                    "with a network and downloading on.")


def _fallback_notice(data_dir: str, download: bool, raw: _Raw) -> str:
    why = "could not be downloaded" if download else "downloading is off"
    return (f"MNIST was not found in {data_dir} and {why}; using the bundled subset of real "
            f"MNIST ({len(raw.train_targets):,} training / {len(raw.test_targets):,} test "
            "images). For the full set, point the data folder (--data-dir on the command "
            "line, SGAN_DATA_DIR for the dashboard) at a folder holding MNIST/raw/*, or "
            "run once with a network.")


def _assemble(spec: DatasetSpec, raw: _Raw, notice: str | None, labeled: np.ndarray,
              unlabeled: np.ndarray, validation: np.ndarray) -> Split:
    targets = torch.from_numpy(raw.train_targets)  # (N,)

    def pick(tensor: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        return tensor[torch.from_numpy(idx)]

    return Split(spec=spec,
                 labeled_images=pick(raw.train_images, labeled),
                 labeled_targets=pick(targets, labeled),
                 labeled_indices=labeled,
                 unlabeled_images=pick(raw.train_images, unlabeled),
                 validation_images=pick(raw.train_images, validation),
                 validation_targets=pick(targets, validation),
                 test_images=raw.test_images, test_targets=raw.test_targets,
                 source=raw.source, notice=notice)


def load_split(cfg: TrainConfig, labeled_indices: np.ndarray | None = None) -> Split:
    """Load cfg.dataset and split it; reuse `labeled_indices` (a resumed run) if given.

    Raises DataError, with what to do, for missing, corrupt or too-small data.
    """
    spec = _spec(cfg.dataset)
    raw, notice = _load_raw(spec, cfg.data_dir, cfg.download, cfg.bundled_fallback)
    if labeled_indices is None:
        parts = split_indices(raw.train_targets, spec.num_classes, cfg.labels_per_class,
                              cfg.validation_size, cfg.seed, class_names=spec.class_names)
    else:
        fixed = checked_labeled_indices(labeled_indices, len(raw.train_targets))
        parts = draw_split(raw.train_targets, spec.num_classes, 0, cfg.validation_size,
                           cfg.seed, fixed_labeled=fixed)
    return _assemble(spec, raw, notice, *parts)


# ----------------------------------------------------------------------------- cheap queries
