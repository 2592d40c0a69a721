"""The dataset registry: what each dataset is (shape, classes, files, class counts).

Torch-free on purpose: the page's sidebar and TrainConfig's validation read it without
loading torch; sgan_core.data does the loading.
"""
from __future__ import annotations

from dataclasses import dataclass

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


