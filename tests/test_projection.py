"""Projection maths: PCA, Procrustes alignment, the start layout of a UMAP update."""
from __future__ import annotations

import numpy as np
import pytest

from sgan_core.features.projection import (UMAP_FIRST_EPOCHS, UMAP_UPDATE_EPOCHS, Method, Projection,
                                  align, nearest_neighbours, pca_2d, umap_start)


def align_to(previous, current):
    return align(previous, current, np.zeros((0, 2)))[0]


def test_pca_2d_finds_the_known_principal_axis():
    rng = np.random.default_rng(0)
    axis = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    t = rng.normal(scale=10.0, size=500)
    x = t[:, None] * axis + rng.normal(scale=0.1, size=(500, 3)) + 5.0
    coords = pca_2d(x)
    assert coords.shape == (500, 2) and coords.dtype == np.float32
    assert abs(np.corrcoef(coords[:, 0], t)[0, 1]) > 0.999
    assert coords[:, 0].var() > 100 * coords[:, 1].var()
    np.testing.assert_array_equal(coords, pca_2d(x))  # signs are deterministic


def test_pca_2d_degenerate_inputs_give_zero_columns():
    assert pca_2d(np.zeros((0, 5))).shape == (0, 2)
    assert pca_2d(np.ones((1, 5))).tolist() == [[0.0, 0.0]]
    one_dim = pca_2d(np.arange(10.0)[:, None])
    assert np.all(one_dim[:, 1] == 0) and one_dim[:, 0].var() > 0


@pytest.mark.parametrize("reflect", [False, True])
def test_align_to_recovers_a_rotated_scaled_translated_copy(reflect):
    previous = np.random.default_rng(1).normal(size=(200, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    if reflect:
        rotation = rotation @ np.diag([1.0, -1.0])
    move = lambda points: 3.7 * points @ rotation + np.array([10.0, -4.0])  # noqa: E731
    fake = np.random.default_rng(3).normal(size=(20, 2))  # moved with the reals
    aligned, aligned_fake = align(previous, move(previous), move(fake))
    assert np.abs(aligned - previous).max() < 1e-4
    assert np.abs(aligned_fake - fake).max() < 1e-4


def test_align_to_without_a_usable_previous_frame_is_the_identity():
    current = np.random.default_rng(2).normal(size=(50, 2))
    np.testing.assert_allclose(align_to(None, current), current, atol=1e-6)
    np.testing.assert_allclose(align_to(np.zeros((49, 2)), current), current, atol=1e-6)
    np.testing.assert_allclose(align_to(current, np.zeros((50, 2))), 0.0)


def test_umap_starts_from_the_previous_layout_with_fakes_on_their_nearest_real():
    real = np.array([[0.0, 0.0], [10.0, 10.0], [20.0, 0.0]])
    stacked = np.concatenate([real, [[9.0, 9.0], [19.0, 1.0]]])
    previous = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], dtype=np.float32)
    init, epochs = umap_start(stacked, 3, previous)
    assert epochs == UMAP_UPDATE_EPOCHS
    np.testing.assert_array_equal(init, [[1, 1], [2, 2], [3, 3], [2, 2], [3, 3]])
    init, epochs = umap_start(stacked, 3, previous[:2])  # other points: start afresh
    assert epochs == UMAP_FIRST_EPOCHS and np.allclose(init, pca_2d(stacked))


def test_projection_arrays_are_read_only_copies():
    coords = np.zeros((3, 2))
    projection = Projection(1, Method.PCA, coords, np.arange(3), np.zeros((0, 2)), 0.0)
    coords[0, 0] = 5.0
    assert projection.coords_real[0, 0] == 0.0 and projection.coords_real.dtype == np.float32
    with pytest.raises(ValueError):
        projection.coords_real[0, 0] = 1.0


def test_numpy_blas_runs_one_thread():
    # configure_threads() limits numpy's OpenBLAS to one thread (sgan_core/threads.py): a
    # second, spin-waiting thread cost the feature map's PCA 8x the CPU
    from threadpoolctl import threadpool_info

    from sgan_core.threads import configure_threads

    configure_threads()

    numpy_blas = [info for info in threadpool_info()
                  if info["user_api"] == "blas" and "numpy" in info["filepath"]]
    assert numpy_blas and all(info["num_threads"] == 1 for info in numpy_blas)


@pytest.mark.parametrize("block_rows", [512, 7])
def test_nearest_neighbours_match_brute_force_with_each_point_first(block_rows):
    rng = np.random.default_rng(5)
    data = rng.normal(size=(60, 9)).astype(np.float32)
    data[10] = data[11]  # duplicates: each must still list itself first
    indices, distances = nearest_neighbours(data, 6, block_rows=block_rows)
    full = np.sqrt(((data[:, None, :] - data[None, :, :]) ** 2).sum(-1))
    assert indices.shape == distances.shape == (60, 6) and indices.dtype == np.int32
    assert (indices[:, 0] == np.arange(60)).all() and np.allclose(distances[:, 0], 0)
    assert indices[10, 1] == 11 and indices[11, 1] == 10
    for row in range(60):
        expected = np.sort(full[row])[:6]
        assert np.allclose(distances[row], expected, atol=1e-4)  # nearest first, none missed
        assert np.allclose(full[row, indices[row]], distances[row], atol=1e-4)


def test_nearest_neighbours_with_k_as_large_as_the_data():
    data = np.arange(8, dtype=np.float32).reshape(4, 2)
    indices, distances = nearest_neighbours(data, 10)
    assert indices.shape == (4, 4) and (indices[:, 0] == np.arange(4)).all()
    assert (np.diff(distances, axis=1) >= 0).all()
