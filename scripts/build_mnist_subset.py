"""Build assets/mnist_subset.npz: the small real-MNIST subset the project ships.

It lets the dashboard and the tests work offline on first start. The subset is
class-balanced and chosen by a fixed seed, and the .npz is written byte for byte the same
on every run (fixed zip timestamps), so the md5 in the README can be checked by rebuilding.

    python scripts/build_mnist_subset.py [SOURCE_DIR]

SOURCE_DIR holds the four gzipped IDX files (default ../shared/data/MNIST, relative to the
repository root). Their uncompressed md5 sums are verified before anything is written.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "MNIST"
OUT_NPZ = REPO_ROOT / "assets" / "mnist_subset.npz"
OUT_README = REPO_ROOT / "assets" / "MNIST_SUBSET_README.md"
SEED = 0
TRAIN_PER_CLASS = 1000
TEST_PER_CLASS = 200

# Uncompressed md5 sums of the official files (from ../shared/data/README.md).
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def read_idx(source: Path, name: str) -> np.ndarray:
    """Read one gzipped IDX file after checking its uncompressed md5."""
    raw = gzip.decompress((source / f"{name}.gz").read_bytes())
    digest = hashlib.md5(raw).hexdigest()
    if digest != MD5[name]:
        sys.exit(f"{source / name}.gz does not match the official MNIST (md5 {digest}); "
                 "copy the original files again.")
    ndim = raw[3]  # magic: 0, 0, dtype (0x08 = uint8), number of dimensions
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def balanced_choice(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` indices of each class, sorted so the subset keeps MNIST's own order."""
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed, but with fixed zip timestamps so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def build(source: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    train_labels = read_idx(source, "train-labels-idx1-ubyte")
    test_labels = read_idx(source, "t10k-labels-idx1-ubyte")
    train_pick = balanced_choice(train_labels, TRAIN_PER_CLASS, rng)
    test_pick = balanced_choice(test_labels, TEST_PER_CLASS, rng)
    return {
        "train_images": read_idx(source, "train-images-idx3-ubyte")[train_pick],  # (10000, 28, 28)
        "train_labels": train_labels[train_pick],  # (10000,) uint8
        "test_images": read_idx(source, "t10k-images-idx3-ubyte")[test_pick],  # (2000, 28, 28)
        "test_labels": test_labels[test_pick],  # (2000,) uint8
        # Provenance: where each image sits in the official training / test files.
        "train_source_indices": train_pick.astype(np.int32),
        "test_source_indices": test_pick.astype(np.int32),
    }


README = """# Bundled MNIST subset (`mnist_subset.npz`)

A small, class-balanced subset of the real MNIST handwritten digits, shipped so that SGAN
Studio works offline on first start and so that tests need no download. With the full
data set at hand (`--data-dir` pointing at a folder with `MNIST/raw/*`, or a network),
the project uses that instead.

## Attribution and licence

The MNIST data set is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges
(http://yann.lecun.com/exdb/mnist/). It is published under the Creative Commons
Attribution-Share Alike 3.0 licence (CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/); this subset is shared under the same
licence.

## Contents

| array | shape | dtype | meaning |
| --- | --- | --- | --- |
| `train_images` | ({n_train}, 28, 28) | uint8 | {train_per_class} images of each digit from the official training set |
| `train_labels` | ({n_train},) | uint8 | their digits |
| `test_images` | ({n_test}, 28, 28) | uint8 | {test_per_class} images of each digit from the official test set |
| `test_labels` | ({n_test},) | uint8 | their digits |
| `train_source_indices` | ({n_train},) | int32 | position of each image in `train-images-idx3-ubyte` |
| `test_source_indices` | ({n_test},) | int32 | position of each image in `t10k-images-idx3-ubyte` |

## How it was built

From the repository root, with the four official gzipped IDX files in `../shared/data/MNIST`
(their uncompressed md5 sums are checked first):

    python scripts/build_mnist_subset.py ../shared/data/MNIST

Per class, `numpy.random.default_rng({seed})` picks the images without replacement (training
classes first, then test classes); each part keeps MNIST's original order. The zip entries
carry fixed timestamps, so a rebuild gives the same bytes.

- size: {size} bytes
- md5: `{md5}`
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                        help="folder with the four MNIST *.gz files")
    args = parser.parse_args()
    arrays = build(args.source)
    write_npz(OUT_NPZ, arrays)
    data = OUT_NPZ.read_bytes()
    OUT_README.write_text(README.format(
        n_train=len(arrays["train_labels"]), n_test=len(arrays["test_labels"]),
        train_per_class=TRAIN_PER_CLASS, test_per_class=TEST_PER_CLASS, seed=SEED,
        size=len(data), md5=hashlib.md5(data).hexdigest()))
    print(f"wrote {OUT_NPZ} ({len(data):,} bytes, md5 {hashlib.md5(data).hexdigest()})")


if __name__ == "__main__":
    main()
