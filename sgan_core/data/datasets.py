"""The dataset registry: what each dataset is (shape, classes, files, class counts),
and the cheap facts about a data folder (is a dataset there, how many images per class).

Torch-free on purpose: the page's sidebar and TrainConfig's validation read it without
loading torch; sgan_core.data.loading does the loading.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED_MNIST = Path(__file__).resolve().parents[2] / "assets" / "mnist_subset.npz"

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
_DIGITS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # registry key, the value of TrainConfig.dataset
    channels: int  # 1 (grey) or 3 (RGB)
    image_size: int  # images are square, image_size x image_size
    class_names: tuple[str, ...]  # index k is the name of class k
    title: str  # how people write it: "Fashion-MNIST"
    torchvision_class: str  # class name in torchvision.datasets
    folder: str  # where its files sit, relative to data_dir
    files: tuple[str, ...]  # files that must all be in `folder` for it to count as present
    train_class_counts: tuple[int, ...]  # official training images per class
    root_subdir: str = ""  # torchvision's root relative to data_dir (SVHN has no folder)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _idx_spec(name: str, title: str, tv_class: str, class_names: tuple[str, ...],
              counts: tuple[int, ...]) -> DatasetSpec:
    return DatasetSpec(name, 1, 28, class_names, title, tv_class, f"{tv_class}/raw",
                       IDX_FILES, counts)


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    _idx_spec("mnist", "MNIST", "MNIST", _DIGITS,
              (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)),
    _idx_spec("fashion-mnist", "Fashion-MNIST", "FashionMNIST",
              ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"), (6000,) * 10),
    _idx_spec("kmnist", "KMNIST", "KMNIST",
              ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"), (6000,) * 10),
    DatasetSpec("cifar10", 3, 32, ("airplane", "automobile", "bird", "cat", "deer", "dog",
                                   "frog", "horse", "ship", "truck"),
                "CIFAR-10", "CIFAR10", "cifar-10-batches-py", _CIFAR_FILES, (5000,) * 10),
    # SVHN's digit 0 is label 10 in the .mat files; torchvision maps it to 0.
    DatasetSpec("svhn", 3, 32, _DIGITS, "SVHN", "SVHN", "SVHN",
                ("train_32x32.mat", "test_32x32.mat"),
                (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659),
                root_subdir="SVHN"),
)}


# ----------------------------------------------------------------------------- folder facts

def labels_per_class_words(count: object) -> str:
    """"1 label per class", "10 labels per class" (or "? labels per class" when unknown):
    one wording for every page, list and heading that names a run's label count."""
    return f"{count} label{'' if count == 1 else 's'} per class"


def on_disk(spec: DatasetSpec, data_dir: str) -> bool:
    """Every file of `spec` is in its folder under data_dir."""
    folder = Path(data_dir) / spec.folder
    return all((folder / name).is_file() for name in spec.files)


def class_counts(name: str, data_dir: str) -> tuple[int, ...]:
    """Training images per class that a load would use (bundled subset included).

    Reads at most a labels file; without files it assumes what an offline load would use
    (the bundled subset for MNIST, the official sizes otherwise). With
    `splitting.max_labels_per_class` it gives the largest label count a load accepts.
    """
    spec = DATASETS[name]
    counts = _class_counts(spec, data_dir)
    return tuple(int(c) for c in (counts if counts is not None else spec.train_class_counts))


def _class_counts(spec: DatasetSpec, data_dir: str) -> np.ndarray | None:
    if on_disk(spec, data_dir) and spec.files == IDX_FILES:
        return _idx_label_counts(Path(data_dir) / spec.folder / IDX_FILES[1], spec.num_classes)
    if not on_disk(spec, data_dir) and spec.name == "mnist":
        labels = _bundled_labels()
        return None if labels is None else np.bincount(labels, minlength=spec.num_classes)
    return np.asarray(spec.train_class_counts)


@functools.lru_cache(maxsize=1)
def _bundled_labels() -> np.ndarray | None:
    """The bundled subset's training labels alone (its images stay on disk)."""
    try:
        with np.load(BUNDLED_MNIST) as archive:
            return np.asarray(archive["train_labels"], dtype=np.int64)
    except Exception:  # missing or damaged: load_split reports it properly
        return None


def _idx_label_counts(path: Path, num_classes: int) -> np.ndarray | None:
    data = path.read_bytes()  # 60 kB for MNIST: cheaper than loading the images
    if len(data) < 8 or data[:4] != b"\x00\x00\x08\x01":
        return None  # load_split will report the corruption properly
    labels = np.frombuffer(data, dtype=np.uint8, offset=8)
    if labels.size != int.from_bytes(data[4:8], "big") or labels.max(initial=0) >= num_classes:
        return None
    return np.bincount(labels, minlength=num_classes)
