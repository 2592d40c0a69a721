"""sgan_core.data.loading: loading from torchvision's layout, the split, the offline fallback."""
from __future__ import annotations

import dataclasses
import socket
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sgan_core.data import loading as data, datasets
from sgan_core.config import ConfigError, TrainConfig
from sgan_core.data.loading import DATASETS, DataError, Split, load_split
from sgan_core.data.splitting import max_labels_per_class, split_indices, validation_shares


def make_cfg(data_dir: Path | str, **changes) -> TrainConfig:
    values = dict(dataset="mnist", data_dir=str(data_dir), download=False,
                  labels_per_class=3, validation_size=50, seed=0)
    return TrainConfig(**{**values, **changes})


def decoded_indices(images: torch.Tensor) -> np.ndarray:
    """The training index each tagged image carries (see conftest.tagged_images)."""
    pixels = images[:, 0, 0].long().numpy()  # (N, 28)
    return pixels[:, 1] + 256 * pixels[:, 2]


def test_loads_idx_files_as_uint8_nchw(idx_dataset):
    split = load_split(make_cfg(idx_dataset()))
    assert split.notice is None and "MNIST from" in split.source
    assert split.labeled_images.shape == (30, 1, 28, 28)
    assert len(split.labeled_images) + len(split.unlabeled_images) + \
        len(split.validation_images) == 300
    assert split.test_images.shape == (50, 1, 28, 28)
    for images in (split.labeled_images, split.unlabeled_images, split.validation_images,
                   split.test_images):
        assert images.dtype == torch.uint8
    for targets in (split.labeled_targets, split.validation_targets, split.test_targets):
        assert targets.dtype == torch.int64
    assert split.labeled_indices.dtype == np.int64


def test_labeled_part_is_balanced_and_validation_stratified(idx_dataset):
    split = load_split(make_cfg(idx_dataset(), labels_per_class=4, validation_size=50))
    assert np.bincount(split.labeled_targets.numpy()).tolist() == [4] * 10
    assert np.bincount(split.validation_targets.numpy()).tolist() == [5] * 10


def test_images_stay_aligned_with_targets_and_indices(idx_dataset):
    split = load_split(make_cfg(idx_dataset()))
    assert (decoded_indices(split.labeled_images) == split.labeled_indices).all()
    assert (split.labeled_images[:, 0, 0, 0].long() == split.labeled_targets).all()
    assert (split.validation_images[:, 0, 0, 0].long() == split.validation_targets).all()
    assert (split.test_images[:, 0, 0, 0].long() == split.test_targets).all()


def test_parts_are_disjoint_and_cover_the_training_set(idx_dataset):
    split = load_split(make_cfg(idx_dataset()))
    parts = [split.labeled_indices, decoded_indices(split.unlabeled_images),
             decoded_indices(split.validation_images)]
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == len(joined) == 300


def test_unlabeled_part_carries_no_labels():
    # The exact field list: a new field (say, unlabeled targets) must be a deliberate change.
    assert [f.name for f in dataclasses.fields(Split)] == [
        "spec", "labeled_images", "labeled_targets", "labeled_indices", "unlabeled_images",
        "validation_images", "validation_targets", "test_images", "test_targets",
        "source", "notice"]


def test_split_indices_deterministic_per_seed():
    targets = np.repeat(np.arange(10), 40)
    first = split_indices(targets, 10, 5, 100, seed=1)
    again = split_indices(targets, 10, 5, 100, seed=1)
    other = split_indices(targets, 10, 5, 100, seed=2)
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    labeled, unlabeled, validation = first
    assert len(labeled) == 50 and len(validation) == 100 and len(unlabeled) == 250
    assert np.array_equal(np.sort(np.concatenate(first)), np.arange(400))


def test_validation_shares_follow_class_sizes():
    shares = validation_shares([100, 300, 600], 100)
    assert shares.tolist() == [10, 30, 60]
    assert validation_shares([1, 1, 1], 2).sum() == 2
    assert validation_shares([5, 5], 0).tolist() == [0, 0]


def test_saved_labeled_indices_are_reused_exactly(idx_dataset):
    data_dir = idx_dataset()
    first = load_split(make_cfg(data_dir, seed=3))
    resumed = load_split(make_cfg(data_dir, seed=3), labeled_indices=first.labeled_indices)
    assert np.array_equal(resumed.labeled_indices, first.labeled_indices)
    assert torch.equal(resumed.validation_images, first.validation_images)
    # Even under another seed the saved labels win, and the parts stay disjoint.
    other = load_split(make_cfg(data_dir, seed=4), labeled_indices=first.labeled_indices)
    assert np.array_equal(other.labeled_indices, first.labeled_indices)
    rest = np.concatenate([decoded_indices(other.unlabeled_images),
                           decoded_indices(other.validation_images)])
    assert not np.isin(rest, other.labeled_indices).any()
    assert len(rest) + len(other.labeled_indices) == 300


def test_saved_labeled_indices_out_of_range_raise(idx_dataset):
    with pytest.raises(DataError, match="do not fit"):
        load_split(make_cfg(idx_dataset()), labeled_indices=np.array([0, 5, 999]))


def test_other_mnist_family_loads_with_its_class_names(idx_dataset):
    split = load_split(make_cfg(idx_dataset(folder="FashionMNIST"), dataset="fashion-mnist"))
    assert split.spec.class_names[0] == "T-shirt/top" and split.spec.num_classes == 10
    assert "Fashion-MNIST" in split.source


def test_offline_fallback_uses_bundled_subset(tmp_path):
    split = load_split(make_cfg(tmp_path / "empty", labels_per_class=10, validation_size=100))
    assert "bundled subset" in split.notice and "--data-dir" in split.notice
    assert split.test_images.shape == (2000, 1, 28, 28)
    total = len(split.labeled_images) + len(split.unlabeled_images) + len(split.validation_images)
    assert total == 10_000


def test_failed_download_falls_back_quickly_and_restores_timeout(tmp_path, monkeypatch):
    seen_timeouts = []

    def no_network(*args, **kwargs):
        seen_timeouts.append(socket.getdefaulttimeout())
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    before = socket.getdefaulttimeout()
    split = load_split(make_cfg(tmp_path / "offline", download=True))
    assert "could not be downloaded" in split.notice
    assert seen_timeouts and set(seen_timeouts) == {data.DOWNLOAD_TIMEOUT_S}
    assert socket.getdefaulttimeout() == before


def test_unknown_dataset_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="choose one of mnist, fashion-mnist"):
        make_cfg(tmp_path, dataset="imagenet")


def test_too_many_labels_names_the_bound(idx_dataset):
    data_dir = idx_dataset()
    bound = max_labels_per_class(datasets.class_counts("mnist", str(data_dir)), 50)
    assert bound == 24  # 30 per class, 5 of each held out, 1 of each left unlabeled
    split = load_split(make_cfg(data_dir, labels_per_class=bound))
    assert split.labeled_images.shape[0] == 240 and len(split.unlabeled_images) == 10
    with pytest.raises(DataError, match=r"labels_per_class=25 .*no unlabeled images.*"
                                        r"choose at most 24\."):
        load_split(make_cfg(data_dir, labels_per_class=25))


def test_labels_and_validation_that_leave_no_unlabeled_images_are_refused():
    # The bundled subset's case: 900 per class + 1,000 validation of 10,000 leaves none.
    targets = np.repeat(np.arange(10), 1000)
    with pytest.raises(DataError, match=r"labels_per_class=900 with a validation set of "
                                        r"1000 leaves no unlabeled images.*at most 899"):
        split_indices(targets, 10, 900, 1000, seed=0)
    labeled, unlabeled, _ = split_indices(targets, 10, 899, 1000, seed=0)
    assert len(labeled) == 8990 and len(unlabeled) == 10


def test_validation_eating_everything_is_explained():
    with pytest.raises(DataError, match="smaller validation_size"):
        split_indices(np.repeat(np.arange(2), 5), 2, 1, 10, seed=0)


def test_truncated_file_is_reported_as_corrupt(idx_dataset):
    data_dir = idx_dataset()
    images = data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:5000])
    with pytest.raises(DataError, match="look corrupt"):
        load_split(make_cfg(data_dir))


def test_bad_magic_is_reported_as_corrupt(idx_dataset):
    data_dir = idx_dataset()
    labels = data_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(b"junk" + labels.read_bytes()[4:])
    with pytest.raises(DataError, match="look corrupt"):
        load_split(make_cfg(data_dir))


def test_missing_fashion_mnist_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match=r"Fashion-MNIST was not found .*FashionMNIST/raw"):
        load_split(make_cfg(tmp_path, dataset="fashion-mnist"))


def test_max_labels_without_files_uses_the_offline_sizes(tmp_path):
    assert max_labels_per_class(datasets.class_counts("mnist", str(tmp_path)), 1000) == 899
    assert max_labels_per_class(datasets.class_counts("cifar10", str(tmp_path)), 1000) == 4899


def test_loaded_data_is_cached_per_folder(idx_dataset):
    cfg = make_cfg(idx_dataset())
    assert load_split(cfg).test_images is load_split(cfg).test_images


def test_cifar_and_svhn_layouts_become_nchw():
    hwc = SimpleNamespace(data=np.zeros((4, 32, 32, 3), np.uint8), targets=[0, 1, 2, 9])
    chw = SimpleNamespace(data=np.zeros((4, 3, 32, 32), np.uint8), labels=np.arange(4))
    for dataset, spec in ((hwc, DATASETS["cifar10"]), (chw, DATASETS["svhn"])):
        images, targets = data._as_arrays(dataset, spec)
        assert images.shape == (4, 3, 32, 32) and targets.dtype == np.int64


def test_a_label_count_is_worded_with_its_grammatical_number():
    assert datasets.labels_per_class_words(1) == "1 label per class"
    assert datasets.labels_per_class_words(10) == "10 labels per class"
    assert datasets.labels_per_class_words("?") == "? labels per class"  # unknown
