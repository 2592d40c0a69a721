"""Stand-ins for umap_child.umap_fit, run inside the real UMAP child process by the
embedding tests (`UmapChild("tests.umap_stubs:pca_fit")`): instant, no umap import."""
from __future__ import annotations

import time

import numpy as np

from sgan_core.features.projection import pca_2d

WARM_UP_POINTS = 200  # the embedding service's warm-up fit has this many points


def pca_fit(data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
    return pca_2d(data)


def failing_fit(data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
    raise ImportError("no umap here")


def fails_after_warm_up(data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
    if len(data) != WARM_UP_POINTS:
        raise ValueError("umap blew up")
    return pca_2d(data)


def slow_fit(data: np.ndarray, init: np.ndarray, n_epochs: int) -> np.ndarray:
    time.sleep(60.0)  # like the real ~1 min compile
    return pca_2d(data)
