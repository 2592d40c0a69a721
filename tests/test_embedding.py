"""The feature map: the embedding service, its UMAP child, the panel's caption and
freeze (the maths are in test_projection.py).

The default tests never import umap (import + numba compile take ~1 min): the service
tests run stubs from tests/umap_stubs.py in the real child process. The one real UMAP
test is marked `slow` so it can be deselected with `-m "not slow"`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.panels.embedding import caption
from sgan_core.features.embedding_service import EmbeddingService, MapFrame, UmapPhase
from sgan_core.features.projection import Method, Projection, clustered_points
from sgan_core.snapshot import Features
from sgan_core.features.umap_child import UPDATE_NICE, UmapChild

ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 30.0  # a fresh Python importing numpy, on a busy machine


def make_features(step: int, n_real: int = 60, n_fake: int = 20, dim: int = 8) -> Features:
    rng = np.random.default_rng(step)
    return Features(step=step, real=rng.normal(size=(n_real, dim)).astype(np.float32),
                    real_labels=np.arange(n_real) % 10,
                    fake=rng.normal(size=(n_fake, dim)).astype(np.float32))


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def frame_at(service: EmbeddingService, step: int, method: Method, run: str = "r",
             timeout: float = CHILD_TIMEOUT) -> MapFrame:
    def arrived() -> bool:
        frame = service.latest(run)
        return frame is not None and (frame.projection.step, frame.projection.method) == (
            step, method)
    assert wait_for(arrived, timeout), service.latest(run)
    return service.latest(run)


def process_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.fixture
def make_service():
    services = []

    def make(stub: str | None = "pca_fit", **kwargs) -> EmbeddingService:
        factory = None if stub is None else (lambda: UmapChild(f"tests.umap_stubs:{stub}"))
        kwargs.setdefault("frame_interval_s", 0.0)
        services.append(EmbeddingService(factory, poll_s=0.05, **kwargs))
        return services[-1]

    yield make
    for service in services:
        pid = service.child_pid
        assert service.close()
        assert pid is None or wait_for(lambda: process_gone(pid))
    assert "sgan-embedding" not in {thread.name for thread in threading.enumerate()}


# --- the service ----------------------------------------------------------------------

def test_pca_is_drawn_at_once_while_umap_warms_up(make_service):
    service = make_service("slow_fit")
    service.submit("r", make_features(step=7))
    frame = frame_at(service, 7, Method.PCA, timeout=5.0)
    assert frame.umap_phase is UmapPhase.WARMING
    assert frame.projection.coords_real.shape == (60, 2)
    assert frame.projection.coords_fake.shape == (20, 2)
    service.submit("r", make_features(step=8))  # the PCA map keeps moving meanwhile
    frame_at(service, 8, Method.PCA, timeout=5.0)


def test_umap_frames_replace_pca_once_the_child_is_ready(make_service):
    service = make_service("pca_fit")
    service.submit("r", make_features(step=4))
    # The current step is redrawn with UMAP without a new submit.
    frame = frame_at(service, 4, Method.UMAP)
    assert frame.umap_phase is UmapPhase.READY and frame.problem == ""
    assert service.child_pid not in (None, os.getpid())
    # Once warm it yields the CPU to training (/proc stat field 19 is the niceness).
    nice = int(Path(f"/proc/{service.child_pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert nice == min(19, os.nice(0) + UPDATE_NICE)
    service.submit("r", make_features(step=5))
    frame_at(service, 5, Method.UMAP)


def test_the_newest_request_of_a_run_wins(make_service):
    service = make_service("pca_fit", frame_interval_s=1.0)
    service.submit("r", make_features(step=1))
    frame_at(service, 1, Method.UMAP)
    drawn = []
    watcher = threading.Thread(target=lambda: [
        drawn.append(service.latest("r").projection.step) or time.sleep(0.002)
        for _ in range(1000)])
    watcher.start()
    for step in (2, 3, 4):  # all inside the frame interval: only the newest is projected
        service.submit("r", make_features(step=step))
    frame_at(service, 4, Method.UMAP)
    watcher.join()
    assert 2 not in drawn and 3 not in drawn


def test_runs_are_kept_apart_and_a_discarded_run_is_forgotten(make_service):
    service = make_service("pca_fit")
    service.submit("a", make_features(step=1, n_real=40))
    service.submit("b", make_features(step=2, n_real=50))
    assert frame_at(service, 1, Method.UMAP, run="a").projection.coords_real.shape == (40, 2)
    assert frame_at(service, 2, Method.UMAP, run="b").projection.coords_real.shape == (50, 2)
    service.discard("a")
    assert service.latest("a") is None and service.latest("b") is not None


def test_consecutive_frames_are_aligned(make_service):
    service = make_service(None)  # UMAP off: PCA only
    features = make_features(step=1)
    service.submit("r", features)
    first = frame_at(service, 1, Method.PCA)
    assert first.umap_phase is UmapPhase.OFF
    # Same data mirrored in feature space: PCA may flip axes, alignment must undo it.
    service.submit("r", Features(2, -features.real[:, ::-1], features.real_labels,
                                 -features.fake[:, ::-1]))
    second = frame_at(service, 2, Method.PCA)
    assert np.abs(second.projection.coords_real - first.projection.coords_real).max() < 1e-3


def test_a_child_crash_leaves_pca_working_and_says_so(make_service):
    service = make_service("pca_fit")
    service.submit("r", make_features(step=1))
    frame_at(service, 1, Method.UMAP)
    pid = service.child_pid
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would: no reply, no traceback
    assert wait_for(lambda: service.umap_phase is UmapPhase.FAILED)
    service.submit("r", make_features(step=2))
    frame = frame_at(service, 2, Method.PCA, timeout=5.0)
    assert frame.problem == ("The UMAP process stopped unexpectedly (exit code -9); "
                             "showing PCA instead")
    assert caption(frame).startswith("PCA: The UMAP process stopped unexpectedly")
    assert service.child_pid is None and wait_for(lambda: process_gone(pid))


@pytest.mark.parametrize("stub, problem", [
    ("failing_fit", "UMAP could not start (ImportError('no umap here')); showing PCA instead"),
    ("no_such_function", "UMAP could not start (its process exited with code 1); "
                         "showing PCA instead"),
])
def test_a_child_that_cannot_start_leaves_pca_working(make_service, stub, problem):
    service = make_service(stub)
    assert wait_for(lambda: service.umap_phase is UmapPhase.FAILED, CHILD_TIMEOUT)
    service.submit("r", make_features(step=3))
    assert frame_at(service, 3, Method.PCA, timeout=5.0).problem == problem


def test_one_failed_fit_is_drawn_with_pca_and_umap_carries_on(make_service):
    service = make_service("fails_after_warm_up")
    assert wait_for(lambda: service.umap_phase is UmapPhase.READY, CHILD_TIMEOUT)
    service.submit("r", make_features(step=5))
    frame_at(service, 5, Method.PCA)
    # The first frame of a run is drawn with PCA at once, before UMAP's answer; the
    # failed fit then redraws the same step with PCA and says why.
    problem = "UMAP failed at step 5 (ValueError('umap blew up'))"
    assert wait_for(lambda: service.latest("r").problem == problem, CHILD_TIMEOUT), \
        service.latest("r")
    frame = service.latest("r")
    assert (frame.projection.step, frame.projection.method) == (5, Method.PCA)
    assert frame.umap_phase is UmapPhase.READY


def test_bad_features_are_reported_and_the_service_survives(make_service):
    service = make_service(None)
    service.submit("r", make_features(step=1))
    frame_at(service, 1, Method.PCA)
    service.submit("r", Features(2, np.zeros((5, 3)), np.arange(5), np.zeros((2, 4))))
    assert wait_for(lambda: "Embedding failed at step 2" in service.latest("r").problem)
    service.submit("r", make_features(step=3))
    assert frame_at(service, 3, Method.PCA).problem == ""


def test_the_child_exits_when_its_parent_dies():
    # the child is busy in a fit (as in the ~1 min compile), so it reads no EOF
    script = ("import os, numpy as np; from sgan_core.features.umap_child import UmapChild; "
              "child = UmapChild('tests.umap_stubs:slow_fit'); print(child.pid, flush=True); "
              "child.request(np.zeros((200, 4)), np.zeros((200, 2)), 20); os._exit(0)")
    parent = subprocess.run([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, timeout=CHILD_TIMEOUT, check=True)
    assert wait_for(lambda: process_gone(int(parent.stdout)), 10.0)


# --- the caption ----------------------------------------------------------------------

def _frame(method: Method, phase: UmapPhase, problem: str = "", n_real: int = 60) -> MapFrame:
    projection = Projection(1200, method, np.zeros((n_real, 2)), np.zeros(n_real),
                            np.zeros((0, 2)), 0.1)
    return MapFrame(projection, phase, problem)


@pytest.mark.parametrize("phase", list(UmapPhase))
def test_the_caption_names_the_projection_that_is_drawn(phase):
    pca = caption(_frame(Method.PCA, phase, "UMAP broke" if phase is UmapPhase.FAILED else ""))
    assert pca.startswith("PCA") and "UMAP ·" not in pca and pca.endswith("step 1,200")
    assert caption(_frame(Method.UMAP, phase)) == "UMAP · features from step 1,200"
    assert "warms up" in caption(_frame(Method.PCA, UmapPhase.WARMING))
    assert caption(_frame(Method.PCA, UmapPhase.READY, n_real=10)).startswith(
        "PCA (UMAP needs at least 30 points)")


def _map_page() -> None:
    import streamlit as st
    from dashboard.panels import embedding
    from tests.test_embedding import Method, UmapPhase, _frame

    method = st.session_state["method"]
    embedding.render(_frame(method, UmapPhase.READY), ["0", "1"])


def test_freeze_view_freezes_the_caption_with_the_picture():
    at = AppTest.from_function(_map_page, default_timeout=30)
    at.session_state["method"] = Method.PCA
    at.run()
    at.toggle(key="w_freeze_embedding").set_value(True).run()
    at.session_state["method"] = Method.UMAP  # a UMAP frame arrives while frozen
    at.run()
    assert at.caption[0].value.startswith("PCA")
    at.toggle(key="w_freeze_embedding").set_value(False).run()
    assert at.caption[0].value.startswith("UMAP")


# --- real UMAP ------------------------------------------------------------------------

@pytest.mark.slow
def test_real_umap_child_serves_aligned_frames(make_service):
    """Real umap in its child: import + numba compile (~1 min), then two frames."""
    service = EmbeddingService(frame_interval_s=0.0, poll_s=0.05)
    try:
        assert wait_for(lambda: service.umap_phase is not UmapPhase.WARMING, 300.0)
        assert service.umap_phase is UmapPhase.READY, service.latest("r")
        real, fake = clustered_points(300, 16, seed=3), clustered_points(50, 16, seed=4)
        service.submit("r", Features(1, real, np.arange(300) % 10, fake))
        first = frame_at(service, 1, Method.UMAP, timeout=60.0).projection
        assert first.coords_fake.shape == (50, 2)
        service.submit("r", Features(2, real, np.arange(300) % 10, fake))
        second = frame_at(service, 2, Method.UMAP, timeout=60.0).projection
        spread = np.linalg.norm(first.coords_real - first.coords_real.mean(0), axis=1).mean()
        drift = np.linalg.norm(second.coords_real - first.coords_real, axis=1).mean()
        assert drift < 0.5 * spread  # an update starts from the last layout, then is aligned
    finally:
        assert service.close()
