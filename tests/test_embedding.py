"""Embedding: PCA, Procrustes alignment, the background worker and its UMAP process.

The default tests never import umap (import + numba compile take ~1 min): the process
tests run stub projectors in the real child process. The one real UMAP test is marked
`slow` so it can be deselected with `-m "not slow"`.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

from sgan_core.embedding import (
    METHOD_PCA,
    METHOD_UMAP,
    EmbeddingWorker,
    Projection,
    align_to,
    clustered_points,
    pca_2d,
    standardise,
)
from sgan_core.embedding_worker import prewarm_umap_process, stop_spare_umap_process
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
    """Stands in for UmapProjector in the UMAP process: instant, no umap import. The
    process unpickles it by reference, so stubs are module-level classes."""

    def warm_up(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def project(self, real, fake):
        coords = pca_2d(standardise(np.concatenate([real, fake])))  # PCA-like, quick
        return coords[: len(real)], coords[len(real):]


class FailingWarmUp(FakeProjector):
    def warm_up(self) -> None:
        raise ImportError("no umap here")


class FailingProject(FakeProjector):
    def project(self, real, fake):
        raise ValueError("umap blew up")


class CrashingWarmUp(FakeProjector):
    def warm_up(self) -> None:
        os._exit(4)  # as a segfault or the OOM killer would: no reply, no traceback


class SlowWarmUp(FakeProjector):
    def warm_up(self) -> None:
        time.sleep(60.0)  # like the real ~1 min compile


class CrashingProject(FakeProjector):
    def project(self, real, fake):
        os._exit(3)


PROCESS_TIMEOUT = 30.0  # a fresh Python importing numpy and pytest, on a busy machine
WORKER_THREADS = {"sgan-embedding", "sgan-umap-reader"}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def worker_factory():
    workers = []

    def make(**kwargs) -> EmbeddingWorker:
        kwargs.setdefault("recycle_process", False)
        kwargs.setdefault("min_frame_interval_s", 0.0)
        worker = EmbeddingWorker(poll_s=0.05, **kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        assert worker.stop(timeout=5.0)
    stop_spare_umap_process()


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


def test_umap_frames_come_from_the_process_and_stop_ends_it(worker_factory):
    worker = worker_factory(use_umap=True, projector_factory=FakeProjector)
    worker.submit(make_features(step=4))
    worker.warm_up()
    assert wait_for(lambda: worker.umap_ready, PROCESS_TIMEOUT)
    pid = worker.umap_process_id
    assert pid not in (None, os.getpid()) and process_alive(pid)
    # The current step is redrawn with UMAP without a new submit.
    assert wait_for(lambda: worker.latest() is not None and worker.latest().method == METHOD_UMAP)
    projection = worker.latest()
    assert projection.step == 4 and projection.coords_real.shape == (60, 2)
    assert projection.coords_fake.shape == (20, 2)
    assert worker.status_text == "UMAP ready"
    worker.submit(make_features(step=5))
    assert wait_for(lambda: worker.latest().step == 5)
    assert worker.latest().method == METHOD_UMAP
    assert worker.stop(timeout=5.0)
    assert not process_alive(pid) and multiprocessing.active_children() == []
    assert not WORKER_THREADS & {thread.name for thread in threading.enumerate()}


def test_umap_frames_keep_a_minimum_interval_and_the_newest_features_win(worker_factory):
    worker = worker_factory(use_umap=True, projector_factory=FakeProjector,
                            min_frame_interval_s=1.5)
    worker.submit(make_features(step=4))
    worker.warm_up()
    assert wait_for(lambda: (p := worker.latest()) is not None and p.method == METHOD_UMAP,
                    PROCESS_TIMEOUT)
    first_request, frames = worker._last_request, worker.frames_computed
    for step in (5, 6):  # both arrive inside the interval: only the newer is projected
        worker.submit(make_features(step=step))
    assert wait_for(lambda: worker.latest().step == 6)
    assert worker._last_request - first_request >= 1.5
    assert worker.frames_computed == frames + 1


def test_stop_during_warm_up_joins_every_thread():
    worker = EmbeddingWorker(use_umap=True, projector_factory=SlowWarmUp, poll_s=0.05)
    worker.warm_up()
    assert wait_for(lambda: worker.umap_process_id is not None)
    pid = worker.umap_process_id
    assert worker.stop(timeout=5.0)  # not ready: killed, never parked
    assert not process_alive(pid)
    assert not WORKER_THREADS & {thread.name for thread in threading.enumerate()}


def test_a_stopped_workers_warm_process_serves_the_next_worker(worker_factory):
    prewarm_umap_process(FakeProjector)  # what the dashboard does before the first run
    first = worker_factory(use_umap=True, projector_factory=FakeProjector,
                           recycle_process=True)
    first.warm_up()
    assert wait_for(lambda: first.umap_ready, PROCESS_TIMEOUT)
    pid = first.umap_process_id
    first.submit(make_features(step=1))
    assert wait_for(lambda: first.latest() is not None and first.latest().method == METHOD_UMAP)
    assert first.stop(timeout=5.0) and process_alive(pid)  # parked, still warm
    second = worker_factory(use_umap=True, projector_factory=FakeProjector)
    second.warm_up()
    assert wait_for(lambda: second.umap_ready) and second.umap_process_id == pid
    second.submit(make_features(step=2))
    assert wait_for(lambda: second.latest() is not None)
    assert (second.latest().step, second.latest().method) == (2, METHOD_UMAP)
    assert second.stop(timeout=5.0) and not process_alive(pid)  # recycle_process=False


@pytest.mark.parametrize(
    "projector, reason",
    [
        (FailingWarmUp, "UMAP could not start (ImportError('no umap here'))"),
        (FailingProject, "UMAP failed at step 5 (ValueError('umap blew up'))"),
        (CrashingWarmUp, "UMAP could not start (its process exited with code 4)"),
        (CrashingProject, "The UMAP process stopped unexpectedly (exit code 3)"),
    ],
)
def test_umap_errors_fall_back_to_pca_and_say_so(worker_factory, projector, reason):
    worker = worker_factory(use_umap=True, projector_factory=projector)
    worker.warm_up()
    assert wait_for(lambda: worker.umap_ready or reason in worker.status_text,
                    PROCESS_TIMEOUT)
    worker.submit(make_features(step=5))
    # The step whose UMAP frame never came is still drawn, with PCA.
    assert wait_for(lambda: worker.latest() is not None and worker.latest().step == 5,
                    PROCESS_TIMEOUT)
    assert worker.latest().method == METHOD_PCA
    assert wait_for(lambda: reason in worker.status_text)
    assert worker.status_text.endswith("; showing PCA instead")
    assert worker.umap_process_id is None and multiprocessing.active_children() == []
    worker.submit(make_features(step=6))
    assert wait_for(lambda: worker.latest().step == 6) and worker.latest().method == METHOD_PCA


def test_a_projector_that_cannot_be_sent_to_the_process_falls_back_at_once(worker_factory):
    worker = worker_factory(use_umap=True, projector_factory=lambda: FakeProjector())
    worker.warm_up()
    assert wait_for(lambda: "UMAP could not start" in worker.status_text)
    worker.submit(make_features(step=1))
    assert wait_for(lambda: worker.latest() is not None)
    assert worker.latest().method == METHOD_PCA


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
def test_real_umap_process_serves_aligned_frames(worker_factory):
    """Real umap in its process: import + numba compile (~1 min), then two frames."""
    worker = worker_factory(use_umap=True)
    worker.warm_up()
    assert wait_for(lambda: worker.umap_ready or "PCA instead" in worker.status_text, 300.0)
    assert worker.umap_ready, worker.status_text
    real = clustered_points(300, 16, seed=3)
    fake = clustered_points(50, 16, seed=4)
    worker.submit(Features(1, real, np.arange(300) % 10, fake))
    assert wait_for(lambda: worker.frames_computed == 1, 60.0)
    first = worker.latest()
    assert first.method == METHOD_UMAP and first.coords_fake.shape == (50, 2)
    worker.submit(Features(2, real, np.arange(300) % 10, fake))
    assert wait_for(lambda: worker.frames_computed == 2, 60.0)
    second = worker.latest()
    assert second.method == METHOD_UMAP
    spread = np.linalg.norm(first.coords_real - first.coords_real.mean(0), axis=1).mean()
    drift = np.linalg.norm(second.coords_real - first.coords_real, axis=1).mean()
    assert drift < 0.5 * spread  # an update starts from the last layout, then is aligned
