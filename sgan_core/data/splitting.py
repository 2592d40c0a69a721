"""The labeled / unlabeled / validation split of a training set, by seed.

Pure numpy on the training labels: which indices are labeled (balanced per class), which
form the stratified validation slice, and which stay unlabeled. `sgan_core.data.loading` applies
the indices to the images; the unlabeled images leave without their labels.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from sgan_core.data.errors import DataError

# The GAN half learns from unlabeled images: a split must leave each class some.
MIN_UNLABELED_PER_CLASS = 1


def validation_shares(class_counts: Sequence[int], validation_size: int) -> np.ndarray:
    """Validation images per class, proportional to class size (largest remainder).

    Stratified rather than uniform so the validation set has the training set's class mix
    every time, not just on average; a tiny validation set then still sees every class.
    """
    counts = np.asarray(class_counts, dtype=np.int64)
    total = int(counts.sum())
    size = min(max(validation_size, 0), total)
    if total == 0:
        return np.zeros_like(counts)
    shares, remainders = np.divmod(counts * size, total)
    leftover = size - int(shares.sum())
    shares[np.argsort(-remainders, kind="stable")[:leftover]] += 1
    return shares


def max_labels_per_class(class_counts: Sequence[int], validation_size: int) -> int:
    """Largest labels_per_class that leaves every class unlabeled images (0: none works):
    the one rule behind the split's check, the sidebar's slider and the study page."""
    room = _room_to_label(class_counts, validation_size)
    return max(0, int(room.min()) - MIN_UNLABELED_PER_CLASS) if room.size else 0


def _room_to_label(class_counts: Sequence[int], validation_size: int) -> np.ndarray:
    """Training images per class once the validation set has taken its share."""
    counts = np.asarray(class_counts, dtype=np.int64)
    return counts - validation_shares(counts, validation_size)


def _check_label_budget(counts: np.ndarray, labels_per_class: int, validation_size: int,
                        class_names: Sequence[str]) -> None:
    bound = max_labels_per_class(counts, validation_size)
    if labels_per_class <= bound:
        return
    worst = int(np.argmin(_room_to_label(counts, validation_size)))
    name = class_names[worst]
    if counts[worst] == 0:
        raise DataError(f"Class '{name}' has no training images, so it cannot be labeled; "
                        "the data files look incomplete.")
    if bound < 1:
        raise DataError(f"validation_size={validation_size} leaves too few training images "
                        f"of class '{name}' to label some and keep some unlabeled; choose a "
                        "smaller validation_size.")
    raise DataError(f"labels_per_class={labels_per_class} with a validation set of "
                    f"{validation_size} leaves no unlabeled images of class '{name}' (it has "
                    f"{int(counts[worst])}), and the GAN learns from unlabeled images; "
                    f"choose at most {bound}.")


def split_indices(train_targets: np.ndarray, num_classes: int, labels_per_class: int,
                  validation_size: int, seed: int,
                  class_names: Sequence[str] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labeled, unlabeled, validation) training indices: disjoint, together all of them.

    Per class the indices are shuffled by `seed`; the first `labels_per_class` are
    labeled, the next (its stratified share) are validation, the rest unlabeled.
    """
    targets = np.asarray(train_targets, dtype=np.int64)
    counts = np.bincount(targets, minlength=num_classes)
    names = class_names if class_names is not None else [str(c) for c in range(num_classes)]
    _check_label_budget(counts, labels_per_class, validation_size, names)
    return draw_split(targets, num_classes, labels_per_class, validation_size, seed)


def draw_split(targets: np.ndarray, num_classes: int, labels_per_class: int,
               validation_size: int, seed: int, fixed_labeled: np.ndarray | None = None,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # The rng is consumed the same way whether or not the labeled set is fixed, so a resumed
    # run whose saved labels match the seed's draw gets the very same validation set.
    rng = np.random.default_rng(seed)
    shares = validation_shares(np.bincount(targets, minlength=num_classes), validation_size)
    is_labeled = np.zeros(len(targets), dtype=bool)
    if fixed_labeled is not None:
        is_labeled[fixed_labeled] = True
    validation = []
    for c in range(num_classes):
        members = rng.permutation(np.flatnonzero(targets == c))
        if fixed_labeled is None:
            is_labeled[members[:labels_per_class]] = True
        validation.append(members[~is_labeled[members]][:shares[c]])
    is_rest = ~is_labeled
    validation_idx = np.sort(np.concatenate(validation)).astype(np.int64)
    is_rest[validation_idx] = False
    return (np.flatnonzero(is_labeled).astype(np.int64), np.flatnonzero(is_rest).astype(np.int64),
            validation_idx)


def checked_labeled_indices(indices: Any, n_train: int) -> np.ndarray:
    idx = np.asarray(indices)
    fits = (idx.ndim == 1 and idx.size > 0 and np.issubdtype(idx.dtype, np.integer)
            and idx.min() >= 0 and idx.max() < n_train and np.unique(idx).size == idx.size)
    if not fits:
        raise DataError(f"The saved labeled indices do not fit this data set ({n_train} "
                        "training images); the run was made with other data. Point the data "
                        "folder at the data it was trained on, or start a new run.")
    return np.sort(idx.astype(np.int64))
