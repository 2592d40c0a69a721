"""Hand-built snapshots and stand-ins for TrainingRun, RunRegistry and EmbeddingService.

The dashboard tests use these where the real engine would make a test slow or
non-deterministic (exact figure contents, button sequences); the registry itself is the
real one, building FakeRuns.
"""
from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Any, Optional

import numpy as np

from dashboard import server, state
from sgan_core.runs import registry
from sgan_core import snapshot as snap
from sgan_core.config import TrainConfig
from sgan_core.features.embedding_service import MapFrame, UmapPhase
from sgan_core.features.projection import Method, Projection
from sgan_core.runs.timeline import Timeline

CLASS_NAMES = tuple(str(d) for d in range(10))


def make_history(rows: int = 20) -> dict[str, np.ndarray]:
    steps = np.arange(1, rows + 1) * 10.0
    columns = {name: np.linspace(2.0, 0.5, rows) for name in snap.HISTORY_COLUMNS}
    columns.update(step=steps, seconds=steps / 10.0,
                   test_accuracy=np.linspace(0.3, 0.8, rows),
                   baseline_test_accuracy=np.linspace(0.3, 0.6, rows))
    return {name: snap.frozen_array(values) for name, values in columns.items()}


def make_samples(count: int = 16, size: int = 28, channels: int = 1,
                 n_classes: int = 10) -> snap.Samples:
    rng = np.random.default_rng(0)
    verdicts = np.arange(count) % (n_classes + 1)  # every class and the fake class appear
    return snap.Samples(
        images=snap.frozen_array(rng.integers(0, 256, (count, size, size, channels)), np.uint8),
        verdicts=snap.frozen_array(verdicts),
        confidences=snap.frozen_array(np.linspace(0.5, 0.99, count)),
        p_fake=snap.frozen_array(np.linspace(0.0, 1.0, count)))


def make_inspection(k: int = 4, size: int = 28) -> snap.Inspection:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (k, size, size, 1)).astype(np.uint8)
    return snap.Inspection(
        p_fake_real=rng.uniform(0, 0.4, 200), p_fake_generated=rng.uniform(0.5, 1, 100),
        fooling_fakes=images, fooling_fakes_p_fake=np.full(k, 0.1),
        fooling_fakes_class=np.arange(k), rejected_reals=images,
        rejected_reals_p_fake=np.full(k, 0.9), rejected_reals_label=np.arange(k))


def make_features(step: int, n_real: int = 60, n_fake: int = 12) -> snap.Features:
    rng = np.random.default_rng(step)
    labels = np.arange(n_real) % 10
    real = rng.normal(size=(n_real, 8)).astype(np.float32) + labels[:, None]
    return snap.Features(step=step, real=real, real_labels=labels,
                         fake=rng.normal(size=(n_fake, 8)).astype(np.float32))


def make_confusion(n_classes: int = 10) -> np.ndarray:
    counts = np.eye(n_classes + 1, dtype=int) * 40 + 2
    counts[-1, 3] = 7  # seven fakes accepted as class 3
    return counts


@functools.lru_cache(maxsize=None)
def _shared_images(count: int, size: int) -> np.ndarray:
    """One read-only image array, as the engine shares its test subset across evaluations."""
    rng = np.random.default_rng(2)
    return snap.frozen_array(rng.integers(0, 256, (count, size, size, 1)), np.uint8)


def _members(confusion_rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """(targets, verdicts, P(verdict), P(fake)) with exactly confusion_rows[i, j] images
    of truth i called j, D surer of the earlier images of each cell."""
    targets, verdicts, p_verdict = [], [], []
    fake_column = confusion_rows.shape[1] - 1
    for (i, j), count in np.ndenumerate(confusion_rows):
        targets += [i] * count
        verdicts += [j] * count
        p_verdict += list(np.linspace(0.99, 0.5, count))
    verdicts, p_verdict = np.array(verdicts, dtype=int), np.array(p_verdict)
    p_fake = np.where(verdicts == fake_column, p_verdict, 0.01)
    return np.array(targets, dtype=int), verdicts, p_verdict, p_fake


def make_cells(confusion: np.ndarray, size: int = 28) -> snap.CellMembers:
    """CellMembers whose images fill `confusion` exactly (the last row are the fakes)."""
    targets, verdicts, p_verdict, p_fake = _members(confusion[:-1])
    _, fake_verdicts, fake_p, fake_p_fake = _members(confusion[-1:])
    rng = np.random.default_rng(3)
    fakes = rng.integers(0, 256, (len(fake_verdicts), size, size, 1)).astype(np.uint8)
    return snap.CellMembers(
        real_images=_shared_images(len(targets), size), real_targets=targets,
        real_verdicts=verdicts, real_p_verdict=p_verdict, real_p_fake=p_fake,
        fake_images=fakes, fake_verdicts=fake_verdicts, fake_p_verdict=fake_p,
        fake_p_fake=fake_p_fake)


def make_snapshot(cfg: Optional[TrainConfig] = None, status: str = snap.RunStatus.RUNNING,
                  step: int = 100, version: int = 1, **changes) -> snap.Snapshot:
    """A fully populated snapshot, as the trainer publishes after an evaluation; the
    learning rates have decayed to half the base rates."""
    cfg = cfg or TrainConfig(download=False)
    fields = dict(
        run_status=status, config=cfg, class_names=CLASS_NAMES, step=step, epoch=0.5,
        elapsed_s=12.0, images_per_second=1500.0, d_lr=cfg.d_lr / 2, g_lr=cfg.g_lr / 2,
        base_d_lr=cfg.d_lr, base_g_lr=cfg.g_lr, test_accuracy=0.8,
        baseline_test_accuracy=0.6, fake_rejection_rate=0.9, false_rejection_rate=0.05,
        confusion=make_confusion(), cells=make_cells(make_confusion()),
        history=make_history(), samples=make_samples(),
        inspection=make_inspection(), features=make_features(step),
        data_source="fake", data_notice="using the bundled MNIST subset", version=version,
        evaluation_version=version)
    fields.update(changes)
    return snap.Snapshot(**fields)


class FakeRun:
    """TrainingRun's interface with no thread: commands change the snapshot at once."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.config = cfg
        self.run_id = secrets.token_urlsafe(16)
        self._timeline = Timeline()
        self.calls: list[tuple] = []
        self._snapshot = snap.Snapshot(run_status=snap.RunStatus.IDLE, config=cfg)
        self.started = False
        self.recorder: Any = None  # a test may give it one (folder, problem)
        self.base_lrs = (cfg.d_lr, cfg.g_lr)

    def _publish(self, status: str, **changes) -> None:
        current = self._snapshot
        step = current.step + (1 if status == snap.RunStatus.RUNNING else 0)
        d_lr, g_lr = self.base_lrs
        changes = dict(dict(d_lr=d_lr / 2, g_lr=g_lr / 2, base_d_lr=d_lr, base_g_lr=g_lr),
                       **changes)
        self._snapshot = make_snapshot(self.config, status=status, step=step,
                                       version=current.version + 1, **changes)

    def start(self) -> None:
        self.started = True
        self._publish(snap.RunStatus.RUNNING)

    def snapshot(self) -> snap.Snapshot:
        return self._snapshot

    def pause(self) -> None:
        self.calls.append(("pause",))
        self._publish(snap.RunStatus.PAUSED)

    def resume(self) -> None:
        self.calls.append(("resume",))
        self._publish(snap.RunStatus.RUNNING)

    def step(self, n: int = 1, traced: bool = False) -> None:
        self.calls.append(("step", n) + (("traced",) if traced else ()))
        self._publish(snap.RunStatus.PAUSED, step=self._snapshot.step + n)

    def step_trace(self) -> None:
        return None  # slow motion needs the real trainer (tests/test_slow_motion_page.py)

    def stop(self, timeout: float = 10.0) -> None:
        self.calls.append(("stop",))
        if self.started and self._snapshot.is_active:
            self._publish(snap.RunStatus.STOPPED)

    def set_learning_rates(self, d_lr: Optional[float] = None,
                           g_lr: Optional[float] = None) -> None:
        self.calls.append(("lrs", d_lr, g_lr))
        self.base_lrs = (d_lr or self.base_lrs[0], g_lr or self.base_lrs[1])
        self._publish(self._snapshot.run_status)

    def classify(self, images: np.ndarray) -> np.ndarray:
        batch = images[None] if images.ndim == 3 else images
        probs = np.zeros((len(batch), len(CLASS_NAMES) + 1))
        probs[:, 7] = 0.75
        probs[:, -1] = 0.25
        return probs

    def discriminator_weights(self) -> Optional[dict[str, np.ndarray]]:
        return None  # no model: a run file of a fake run holds no weights

    def storage_problem(self) -> Optional[str]:
        return None if self.recorder is None else self.recorder.problem

    def run_folder(self) -> Optional[Path]:
        return None if self.recorder is None else Path(self.recorder.folder)

    @property
    def is_alive(self) -> bool:
        return self.started and self._snapshot.is_active

    def timeline(self) -> Timeline:
        return self._timeline


class FakeEmbeddingService:
    """Projects synchronously on the first two feature columns: always PCA, with UMAP
    still warming up (the real service works on a thread and starts a UMAP child)."""

    umap_phase = UmapPhase.WARMING

    def __init__(self) -> None:
        self._frames: dict[str, MapFrame] = {}

    def submit(self, run_id: str, features: snap.Features) -> None:
        projection = Projection(features.step, Method.PCA, features.real[:, :2],
                                features.real_labels, features.fake[:, :2], 0.0)
        self._frames[run_id] = MapFrame(projection, UmapPhase.WARMING)

    def latest(self, run_id: str) -> Optional[MapFrame]:
        return self._frames.get(run_id)

    def discard(self, run_id: str) -> None:
        self._frames.pop(run_id, None)

    def close(self, timeout: float = 5.0) -> bool:
        return True


def new_fake_registry() -> registry.RunRegistry:
    """For `dashboard.server.new_registry`: the real RunRegistry (cap and idle limits
    from the environment, as on a server) building FakeRuns, with no atexit hook and
    no janitor thread."""
    return _SERVER_REGISTRY(run_factory=FakeRun, background=False)


_SERVER_REGISTRY = server.new_registry  # the real one, before a test replaces it
