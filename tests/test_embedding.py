"""Embedding: PCA, Procrustes alignment, and the background worker (PCA mode).

The default tests never import umap (import + numba compile take ~40 s); the one real
UMAP test is marked `slow` so it can be deselected with `-m "not slow"`.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from sgan_core.embedding import (
    METHOD_PCA,
    METHOD_UMAP,
    EmbeddingWorker,
    Projection,
    UmapProjector,
    align_to,
    clustered_points,
    pca_2d,
)
from sgan_core.snapshot import Features


def make_features(step: int, n_real: int = 60, n_fake: int = 20, dim: int = 8) -> Features:
    rng = np.random.default_rng(step)
    return Features(
        step=step,
        real=rng.normal(size=(n_real, dim)).astype(np.float32),
        real_labels=np.arange(n_real) % 10,
        fake=rng.normal(size=(n_fake, dim)).astype(np.float32),
    )


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class FakeProjector:
    """Stands in for UmapProjector: instant, and can be told to fail."""

    def __init__(self, fail_warm_up: bool = False, fail_project: bool = False) -> None:
        self.fail_warm_up, self.fail_project = fail_warm_up, fail_project

    def warm_up(self) -> None:
        if self.fail_warm_up:
            raise ImportError("no umap here")

    def project(self, real, fake):
        if self.fail_project:
            raise ValueError("umap blew up")
        return np.ones((len(real), 2)), np.zeros((len(fake), 2))


@pytest.fixture
def worker_factory():
    workers = []

    def make(**kwargs) -> EmbeddingWorker:
        worker = EmbeddingWorker(poll_s=0.05, **kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        assert worker.stop(timeout=5.0)


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
    current = 3.7 * previous @ rotation + np.array([10.0, -4.0])
    aligned = align_to(previous, current)
    assert np.abs(aligned - previous).max() < 1e-4


def test_align_to_without_a_usable_previous_frame_is_the_identity():
    current = np.random.default_rng(2).normal(size=(50, 2))
    np.testing.assert_allclose(align_to(None, current), current, atol=1e-6)
    np.testing.assert_allclose(align_to(np.zeros((49, 2)), current), current, atol=1e-6)
    np.testing.assert_allclose(align_to(current, np.zeros((50, 2))), 0.0)


def test_projection_arrays_are_read_only_copies():
    coords = np.zeros((3, 2))
    projection = Projection(1, METHOD_PCA, coords, np.arange(3), np.zeros((0, 2)), 0.0)
    coords[0, 0] = 5.0
    assert projection.coords_real[0, 0] == 0.0
    assert projection.coords_real.dtype == np.float32
    with pytest.raises(ValueError):
        projection.coords_real[0, 0] = 1.0


def test_worker_serves_a_pca_projection(worker_factory):
    worker = worker_factory(use_umap=False)
    worker.warm_up()  # with use_umap=False this only starts the projection thread
    features = make_features(step=7)
    worker.submit(features)
    assert wait_for(lambda: worker.latest() is not None)
    projection = worker.latest()
    assert (projection.step, projection.method) == (7, METHOD_PCA)
    assert projection.coords_real.shape == (60, 2)
    assert projection.coords_fake.shape == (20, 2)
    np.testing.assert_array_equal(projection.real_labels, features.real_labels)
    assert "UMAP switched off" in worker.status_text


def test_worker_keeps_only_the_newest_submission(worker_factory):
    worker = worker_factory(use_umap=False)
    for step in (1, 2, 3):
        worker.submit(make_features(step))  # not started yet: these pile up
    worker.start()
    assert wait_for(lambda: worker.latest() is not None)
    time.sleep(0.2)  # give a wrongly queued older submission time to show up
    assert worker.latest().step == 3
    assert worker.frames_computed == 1


def test_consecutive_frames_are_aligned(worker_factory):
    worker = worker_factory(use_umap=False)
    worker.start()
    features = make_features(step=1)
    worker.submit(features)
    assert wait_for(lambda: worker.frames_computed == 1)
    first = worker.latest().coords_real
    # Same data rotated in feature space: PCA may flip axes, alignment must undo it.
    flipped = Features(2, -features.real[:, ::-1], features.real_labels, -features.fake[:, ::-1])
    worker.submit(flipped)
    assert wait_for(lambda: worker.frames_computed == 2)
    assert np.abs(worker.latest().coords_real - first).max() < 1e-3


def test_stop_joins_every_thread():
    worker = EmbeddingWorker(use_umap=True, projector_factory=FakeProjector, poll_s=0.05)
    worker.warm_up()
    assert worker.stop(timeout=5.0)
    names = {thread.name for thread in threading.enumerate()}
    assert not {"sgan-embedding", "sgan-embedding-warm-up"} & names


def test_worker_switches_to_umap_once_warm(worker_factory):
    worker = worker_factory(use_umap=True, projector_factory=FakeProjector)
    worker.submit(make_features(step=4))
    worker.warm_up()
    assert wait_for(lambda: worker.umap_ready)
    assert wait_for(lambda: worker.latest() is not None and worker.latest().method == METHOD_UMAP)
    assert worker.latest().step == 4  # the current step was redrawn without a new submit
    assert worker.status_text == "UMAP ready"


@pytest.mark.parametrize(
    "projector, reason",
    [
        (lambda: FakeProjector(fail_warm_up=True), "UMAP could not start"),
        (lambda: FakeProjector(fail_project=True), "UMAP failed at step"),
    ],
)
def test_umap_errors_fall_back_to_pca_and_say_so(worker_factory, projector, reason):
    worker = worker_factory(use_umap=True, projector_factory=projector)
    worker.warm_up()
    assert wait_for(lambda: worker.umap_ready or reason in worker.status_text)
    worker.submit(make_features(step=5))
    assert wait_for(lambda: worker.frames_computed >= 1)
    assert worker.latest().method == METHOD_PCA
    assert wait_for(lambda: reason in worker.status_text)
    assert "showing PCA instead" in worker.status_text


def test_bad_features_are_reported_and_the_worker_survives(worker_factory):
    worker = worker_factory(use_umap=False)
    worker.start()
    bad = Features(1, np.zeros((5, 3)), np.arange(5), np.zeros((2, 4)))  # dims differ
    worker.submit(bad)
    assert wait_for(lambda: "Embedding failed at step 1" in worker.status_text)
    worker.submit(make_features(step=2))
    assert wait_for(lambda: worker.latest() is not None and worker.latest().step == 2)
    assert "failed" not in worker.status_text


@pytest.mark.slow
def test_real_umap_updates_stay_aligned():
    """Real umap: import + numba compile (~40 s in a fresh process), then two frames."""
    projector = UmapProjector()
    real = clustered_points(300, 16, seed=3)
    fake = clustered_points(50, 16, seed=4)
    first_real, first_fake = projector.project(real, fake)
    assert first_real.shape == (300, 2) and first_fake.shape == (50, 2)
    second_real, _ = projector.project(real, fake)
    aligned = align_to(first_real, second_real)
    spread = np.linalg.norm(first_real - first_real.mean(0), axis=1).mean()
    assert np.linalg.norm(aligned - first_real, axis=1).mean() < 0.5 * spread
