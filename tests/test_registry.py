"""RunRegistry with a fake run factory: no torch, no threads of its own."""
from __future__ import annotations

import atexit
import threading
import time
from types import SimpleNamespace

import pytest

from sgan_core.runs.registry import RegistryFull, RunRegistry
from sgan_core.snapshot import RunStatus


class FakeSnapshot:
    def __init__(self, status: str) -> None:
        self.run_status = status

    @property
    def is_active(self) -> bool:
        return self.run_status in (RunStatus.RUNNING, RunStatus.PAUSED)


class FakeRun:
    """Same surface as TrainingRun, as far as the registry is concerned."""

    def __init__(self, cfg) -> None:
        self.config = cfg
        self.status = RunStatus.IDLE
        self.stop_calls = 0

    @property
    def is_alive(self) -> bool:
        return self.status in (RunStatus.RUNNING, RunStatus.PAUSED)

    def start(self) -> None:
        self.status = RunStatus.RUNNING

    def pause(self) -> None:
        self.status = RunStatus.PAUSED

    def resume(self) -> None:
        self.status = RunStatus.RUNNING

    def finish(self) -> None:
        self.status = RunStatus.FINISHED

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_calls += 1
        if self.status in (RunStatus.RUNNING, RunStatus.PAUSED):
            self.status = RunStatus.STOPPED

    def snapshot(self) -> FakeSnapshot:
        return FakeSnapshot(self.status)


@pytest.fixture
def registry():
    reg = RunRegistry(max_active=2, max_kept=3, run_factory=FakeRun)
    yield reg
    reg.stop_all()


@pytest.fixture
def cfg():
    # The registry only hands cfg to the factory; a real TrainConfig would validate
    # against the dataset registry and import torch (~1 s) for nothing.
    return SimpleNamespace(dataset="mnist")


def test_create_starts_and_registers_under_an_unguessable_id(registry, cfg):
    run_id, run = registry.create(cfg)
    assert run.config is cfg and run.is_alive
    assert registry.get(run_id) is run
    assert len(run_id) >= 20  # token_urlsafe(16): 22 url-safe characters
    other_id, _ = registry.create(cfg)
    assert other_id != run_id
    assert registry.active_count() == 2


def test_cap_raises_registry_full_with_a_helpful_message(registry, cfg):
    registry.create(cfg)
    registry.create(cfg)
    with pytest.raises(RegistryFull, match="2 runs are already training.*Stop one"):
        registry.create(cfg)
    assert len(registry) == 2


def test_finished_runs_free_their_slot(registry, cfg):
    _, first = registry.create(cfg)
    registry.create(cfg)
    first.finish()
    assert registry.active_count() == 1
    registry.create(cfg)  # no RegistryFull


def test_get_unknown_or_garbage_ids_returns_none(registry, cfg):
    registry.create(cfg)
    for garbage in ("nope", "", None, 42, ["x"], {"a": 1}, "../../etc/passwd"):
        assert registry.get(garbage) is None


def test_remove_stops_and_forgets(registry, cfg):
    run_id, run = registry.create(cfg)
    assert registry.remove(run_id)
    assert run.stop_calls == 1 and not run.is_alive
    assert registry.get(run_id) is None
    assert not registry.remove(run_id)
    assert not registry.remove(None)


def test_oldest_finished_runs_are_evicted_beyond_max_kept(registry, cfg):
    created = []
    for _ in range(5):
        run_id, run = registry.create(cfg)
        run.finish()
        created.append((run_id, run))
    # Eviction runs on create: the 5th create saw 4 finished runs, max_kept=3.
    assert registry.run_ids() == [run_id for run_id, _ in created[1:]]
    assert registry.get(created[0][0]) is None
    assert created[0][1].stop_calls == 1


def test_active_runs_are_never_evicted(cfg):
    registry = RunRegistry(max_active=3, max_kept=0, run_factory=FakeRun)
    active_id, _ = registry.create(cfg)
    for _ in range(3):
        registry.create(cfg)[1].finish()
    assert registry.get(active_id) is not None
    assert len(registry) == 2  # the active run and the newest (finished after its create)
    registry.stop_all()


def test_add_registers_an_existing_run_without_starting_it(registry, cfg):
    restored = FakeRun(cfg)
    run_id = registry.add(restored)
    assert registry.get(run_id) is restored and not restored.is_alive


def test_a_run_that_fails_to_start_is_not_registered(registry, cfg):
    class BrokenRun(FakeRun):
        def start(self) -> None:
            raise RuntimeError("no data")

    broken = RunRegistry(run_factory=BrokenRun)
    with pytest.raises(RuntimeError):
        broken.create(cfg)
    assert len(broken) == 0


def test_stop_all_stops_every_run(registry, cfg):
    runs = [registry.create(cfg)[1] for _ in range(2)]
    registry.stop_all()
    assert all(run.stop_calls == 1 and not run.is_alive for run in runs)
    assert len(registry) == 0 and registry.active_count() == 0


def test_concurrent_creates_never_exceed_the_cap(cfg):
    registry = RunRegistry(max_active=2, run_factory=FakeRun)
    outcomes = []
    barrier = threading.Barrier(8)

    def press_train() -> None:
        barrier.wait()
        try:
            registry.create(cfg)
            outcomes.append("ok")
        except RegistryFull:
            outcomes.append("full")

    threads = [threading.Thread(target=press_train) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 2 and registry.active_count() == 2
    registry.stop_all()


def test_install_atexit_registers_stop_all_once(monkeypatch):
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    registry = RunRegistry(run_factory=FakeRun)
    registry.stop_all_at_exit()
    registry.stop_all_at_exit()
    assert registered == [registry.stop_all]


def test_invalid_limits_are_rejected():
    with pytest.raises(ValueError):
        RunRegistry(max_active=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_run_nobody_watches_is_paused_and_frees_its_slot(cfg):
    clock = Clock()
    registry = RunRegistry(max_active=2, run_factory=FakeRun, idle_pause_s=180, clock=clock)
    watched_id, watched = registry.create(cfg)
    orphan_id, orphan = registry.create(cfg)
    clock.now += 120
    registry.touch(watched_id)  # its tab is open; the orphan's was closed
    clock.now += 100
    assert registry.park_idle() == [orphan_id]
    assert orphan.status == RunStatus.PAUSED and watched.status == RunStatus.RUNNING
    assert registry.is_parked(orphan_id) and registry.active_count() == 1
    registry.create(cfg)  # a new visitor gets the freed slot
    with pytest.raises(RegistryFull):  # the orphan's link resumes it only with a free slot
        registry.resume(orphan_id)
    assert orphan.status == RunStatus.PAUSED
    watched.finish()
    registry.resume(orphan_id)
    assert orphan.status == RunStatus.RUNNING and not registry.is_parked(orphan_id)
    assert registry.active_count() == 2
    registry.stop_all()


def test_a_full_registry_parks_idle_runs_before_refusing(cfg):
    clock = Clock()
    registry = RunRegistry(max_active=1, run_factory=FakeRun, idle_pause_s=60, clock=clock)
    registry.create(cfg)
    clock.now += 61  # nobody's janitor ran yet: create parks the orphan itself
    registry.create(cfg)
    assert registry.active_count() == 1
    registry.stop_all()


def test_overview_lists_every_run_with_its_idle_time(cfg):
    clock = Clock()
    registry = RunRegistry(run_factory=FakeRun, idle_pause_s=60, clock=clock)
    first_id, _ = registry.create(cfg)
    clock.now += 30
    second_id, _ = registry.create(cfg)
    rows = registry.overview()
    assert [(r.run_id, r.unseen_s, r.parked) for r in rows] == [
        (first_id, 30.0, False), (second_id, 0.0, False)]
    registry.stop_all()


def test_janitor_parks_in_the_background(cfg):
    clock = Clock()
    registry = RunRegistry(run_factory=FakeRun, idle_pause_s=5, clock=clock)
    run_id, run = registry.create(cfg)
    clock.now += 6
    registry.start_janitor(every_s=0.01)
    deadline = time.monotonic() + 5
    while not registry.is_parked(run_id) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert registry.is_parked(run_id) and run.status == RunStatus.PAUSED
    registry.stop_all()  # also ends the janitor
    registry._janitor.join(1)
    assert not registry._janitor.is_alive()


def test_a_run_keeps_one_id_the_registry_uses_its_own(registry):
    run = FakeRun(None)
    run.run_id = "the-runs-own-id"
    assert registry.add(run) == "the-runs-own-id" and registry.get("the-runs-own-id") is run
    with pytest.raises(ValueError, match="registered already"):
        registry.add(run)
    anonymous = FakeRun(None)  # no id of its own: it gets an unguessable one
    assert len(registry.add(anonymous)) >= 20


def test_the_real_run_and_the_page_fake_are_run_handles(tmp_path):
    import fakes
    from sgan_core.config import TrainConfig
    from sgan_core.runs.handle import RunHandle
    from sgan_core.runs.training_run import TrainingRun

    cfg = TrainConfig(data_dir=str(tmp_path), download=False)
    assert isinstance(TrainingRun(cfg), RunHandle)
    assert isinstance(fakes.FakeRun(cfg), RunHandle)
    assert not isinstance(object(), RunHandle)
