"""Projection maths for the feature map: PCA, Procrustes alignment, UMAP initial layouts.

Pure numpy, no threads, no processes: the embedding service (embedding_service.py) and
the UMAP child (umap_child.py) both build on it. PCA of 2,200 x 128 features takes about
16 ms here, so the service draws it at once while UMAP is still warming up.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

import numpy as np

from sgan_core.snapshot import Features, frozen_array

UMAP_FIRST_EPOCHS = 200  # a fit from a PCA layout has far to move
UMAP_UPDATE_EPOCHS = 50  # from the previous layout: few epochs, and the frame stays put


class Method(enum.Enum):
    """Which projection a frame shows; the page words its caption from this."""

    PCA = "PCA"
    UMAP = "UMAP"


@dataclass(frozen=True)
class Projection:
    """One feature-map frame, ready to draw; arrays are read-only copies."""

    step: int  # training step of the features it was computed from
    method: Method
    coords_real: np.ndarray  # (M, 2) float32, test images in Features.real order
    real_labels: np.ndarray  # (M,) int, true class of each test image
    coords_fake: np.ndarray  # (F, 2) float32, generated images
    seconds: float  # time spent computing this frame (for UMAP: the child's fit)

    def __post_init__(self) -> None:
        # Frozen dataclass: object.__setattr__ is the sanctioned way to normalise fields.
        object.__setattr__(self, "coords_real", frozen_array(self.coords_real, np.float32))
        object.__setattr__(self, "real_labels", frozen_array(self.real_labels))
        object.__setattr__(self, "coords_fake", frozen_array(self.coords_fake, np.float32))


def standardise(x: np.ndarray) -> np.ndarray:
    """Z-score each feature; constant features stay 0 instead of dividing by ~0."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64))  # a diverging run may emit inf
    std = x.std(axis=0)
    std[std < 1e-8] = 1.0
    return (x - x.mean(axis=0)) / std


def pca_2d(x: np.ndarray) -> np.ndarray:
    """First two principal-component scores, (n, 2) float32.

    Signs are fixed (largest loading positive) so identical data gives identical frames;
    missing components (n < 2 or d < 2) are zero columns.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((x.shape[0], 2), dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 2:
        return out
    centred = x - x.mean(axis=0)
    # Eigenvectors of the (d, d) scatter matrix: ~10x cheaper than an SVD of (n, d).
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending
    components = eigenvectors[:, ::-1][:, :2].T  # (<=2, d), largest variance first
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1.0
    scores = centred @ (components * signs[:, None]).T  # (n, <=2)
    out[:, : scores.shape[1]] = scores
    return out


def pca_of(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """2-D PCA of the standardised real and fake rows together: (real, fake) coords."""
    coords = pca_2d(standardise(np.concatenate([features.real, features.fake])))
    return coords[: len(features.real)], coords[len(features.real):]


def align(previous: Optional[np.ndarray], real: np.ndarray,
          fake: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`real` and `fake` moved together (rotated, scaled, shifted) so that `real` lines up
    with `previous`: orthogonal Procrustes with scale. Reflections are allowed (a
    mirrored UMAP frame is the same picture, flipped). Rows of `real` and `previous` must
    be the same points in the same order; anything else (no previous frame, a different
    number of points, a degenerate frame) leaves both as they are. float32 out."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64).reshape(-1, 2)
    unchanged = real.astype(np.float32), fake.astype(np.float32)
    if previous is None or np.shape(previous) != real.shape or real.ndim != 2 \
            or real.shape[1] != 2 or len(real) < 2:
        return unchanged
    prev = np.asarray(previous, dtype=np.float64)
    prev_mean, real_mean = prev.mean(axis=0), real.mean(axis=0)
    centred = real - real_mean
    norm = float((centred**2).sum())
    if norm < 1e-12 or not np.isfinite(norm):
        return unchanged
    u, s, vt = np.linalg.svd(centred.T @ (prev - prev_mean))  # (2, 2) cross-covariance
    scale, rotation = s.sum() / norm, u @ vt

    def move(points: np.ndarray) -> np.ndarray:
        return (scale * (points - real_mean) @ rotation + prev_mean).astype(np.float32)
    return move(real), move(fake)


def umap_start(stacked: np.ndarray, n_real: int,
               previous_real: Optional[np.ndarray]) -> tuple[np.ndarray, int]:
    """(initial layout, epochs) for a UMAP fit of standardised real+fake rows.

    With the previous layout of the same reals, they start where they were and each fake
    starts on its nearest real (fakes are new every time), so 50 epochs suffice and the
    frame stays recognisable; otherwise PCA and 200 epochs.
    """
    if previous_real is None or len(previous_real) != n_real:
        return pca_2d(stacked), UMAP_FIRST_EPOCHS
    real, fake = stacked[:n_real], stacked[n_real:]
    squared = (fake**2).sum(1)[:, None] - 2 * fake @ real.T + (real**2).sum(1)  # (F, M)
    nearest = squared.argmin(axis=1)  # each fake's nearest real
    init = np.concatenate([previous_real, previous_real[nearest]]).astype(np.float32)
    return init, UMAP_UPDATE_EPOCHS


def nearest_neighbours(data: np.ndarray, k: int,
                       block_rows: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row (Euclidean), each row itself first.

    (indices (n, k) int32, distances (n, k) float32), nearest first: what umap-learn
    takes as `precomputed_knn`. For the map's ~2,200 points this is a few tens of ms of
    BLAS, and it spares the UMAP child from compiling pynndescent (most of its warm-up
    CPU). Rows are done in blocks, so memory stays at block_rows x n distances.
    """
    data = np.asarray(data, dtype=np.float32)
    n = len(data)
    k = max(1, min(k, n))
    squared_norms = (data * data).sum(1)
    squared_norms64 = (data.astype(np.float64) ** 2).sum(1)
    indices = np.empty((n, k), np.int32)
    distances = np.empty((n, k), np.float32)
    for start in range(0, n, block_rows):
        own = np.arange(start, min(start + block_rows, n))
        # Chosen on float32 distances (half the time of float64) ...
        block = data[own] @ data.T
        block *= -2
        block += squared_norms[None, :]  # + |a|^2 is the same along a row: not needed to rank
        block[own - start, own] = -np.inf  # each point is its own nearest, even among twins
        nearest = (np.argpartition(block, k - 1, axis=1)[:, :k] if k < n
                   else np.tile(np.arange(n), (len(own), 1)))
        # ... measured again in float64, where cancellation does not put twins 1e-3 apart.
        rows, neighbours = data[own].astype(np.float64), data[nearest].astype(np.float64)
        squared = (squared_norms64[own, None] + squared_norms64[nearest]
                   - 2 * np.einsum("id,ikd->ik", rows, neighbours))
        exact = np.sqrt(np.maximum(squared, 0))
        exact[nearest == own[:, None]] = -1.0
        order = np.argsort(exact, axis=1, kind="stable")
        indices[own] = np.take_along_axis(nearest, order, 1)
        distances[own] = np.maximum(np.take_along_axis(exact, order, 1), 0)
    return indices, distances


def clustered_points(n: int, dim: int, seed: int = 0, clusters: int = 10) -> np.ndarray:
    """Random Gaussian blobs: warm-up and benchmark data shaped like class features."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(clusters, dim))
    points = centres[rng.integers(0, clusters, n)] + rng.normal(size=(n, dim))
    return points.astype(np.float32)
