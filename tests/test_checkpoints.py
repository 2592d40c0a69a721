"""sgan_core.storage.checkpoints: a whole run saved mid-run and resumed; bad files refused clearly."""
from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np
import pytest
import torch

from sgan_core.storage import checkpoints
from sgan_core.storage.checkpoints import FORMAT_VERSION, CheckpointError, load_run
from sgan_core.config import TrainConfig
from sgan_core.runs.training_run import TrainingRun
from tiny_config import tiny_cfg as shared_tiny_cfg


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_cfg(data_dir, **changes) -> TrainConfig:
    return shared_tiny_cfg(data_dir, **{"seed": 3, **changes})


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def paused_after_steps(run: TrainingRun, steps: int) -> None:
    """Start `run` paused and do exactly `steps` single steps."""
    run.pause()
    run.start()
    wait_for(lambda: run.snapshot().run_status == "paused", what="paused")
    start = run.snapshot().step
    run.step(steps)
    wait_for(lambda: run.snapshot().step == start + steps, what=f"{steps} steps")


def weights(run: TrainingRun) -> dict[str, torch.Tensor]:
    trainer = run.trainer
    out = {}
    for name in ("discriminator", "generator", "baseline"):
        for key, value in getattr(trainer, name).state_dict().items():
            out[f"{name}.{key}"] = value.clone()
    for name in ("d_average", "baseline_average"):
        for key, value in getattr(trainer, name).model.state_dict().items():
            out[f"{name}.{key}"] = value.clone()
    return out


@pytest.fixture
def saved(idx_dataset, tmp_path):
    """A run paused after 4 steps (2 + 2, so its history has rows) and its checkpoint."""
    run = TrainingRun(tiny_cfg(idx_dataset()))
    try:
        paused_after_steps(run, 2)
        run.step(2)
        wait_for(lambda: run.snapshot().step == 4, what="4 steps")
        path = tmp_path / "runs" / "checkpoint.pt"
        checkpoints.save_run(run, path)
        yield run, path
    finally:
        run.stop()


def test_round_trip_restores_config_labels_weights_and_history(saved):
    run, path = saved
    assert path.is_file() and not list(path.parent.glob("*.tmp"))  # atomic, no leftovers
    resumed = checkpoints.open_run(path)
    try:
        assert resumed.config == run.config
        assert resumed.history.rows == run.history.rows and len(run.history.rows) == 2
        resumed.pause()  # build the models, do not train yet
        resumed.start()
        wait_for(lambda: resumed.snapshot().run_status == "paused", what="resumed paused")
        np.testing.assert_array_equal(resumed.trainer.split.labeled_indices,
                                      run.trainer.split.labeled_indices)
        original, restored = weights(run), weights(resumed)
        assert original.keys() == restored.keys()
        assert all(torch.equal(original[k], restored[k]) for k in original)
        assert resumed.snapshot().step == 4
        np.testing.assert_array_equal(resumed.snapshot().history["step"], [2, 4])

        assert resumed.trainer.baseline_average.updates == run.trainer.baseline_average.updates

        # it continues from step 4 exactly as the original would have, both stepping at
        # once (each run draws from its own generators), and its next evaluation, made
        # on fresh fakes from the saved stream, gives the same figures.
        resumed.step(1)
        run.step(1)
        wait_for(lambda: resumed.snapshot().step == 5, what="the resumed run at step 5")
        wait_for(lambda: run.snapshot().step == 5, what="the original run at step 5")
        after_original, after_resumed = weights(run), weights(resumed)
        assert all(torch.equal(after_original[k], after_resumed[k]) for k in after_original)
        np.testing.assert_array_equal(run.snapshot().confusion, resumed.snapshot().confusion)
        np.testing.assert_array_equal(run.snapshot().inspection.p_fake_generated,
                                      resumed.snapshot().inspection.p_fake_generated)
        assert resumed.history.rows[-1]["step"] == 5
        resumed.resume()
        wait_for(lambda: resumed.snapshot().step > 5, what="the resumed run training on")
    finally:
        resumed.stop()
    assert not resumed.is_alive


def test_load_run_gives_config_and_restore_state(saved):
    run, path = saved
    cfg, restore = load_run(path)
    assert cfg == run.config
    np.testing.assert_array_equal(restore["labeled_indices"], run.trainer.split.labeled_indices)
    assert restore["trainer"]["step_count"] == 4
    assert restore["elapsed_s"] > 0


def test_missing_path_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(CheckpointError, match="No checkpoint at .*nope.pt"):
        checkpoints.open_run(missing)
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_run(tmp_path)  # a folder is not a checkpoint either


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "random.pt"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CheckpointError, match="not a readable SGAN Studio checkpoint"):
        checkpoints.open_run(path)


def test_truncated_checkpoint_is_refused(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_run(truncated)


def test_other_torch_files_are_not_checkpoints(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not an SGAN Studio checkpoint"):
        load_run(path)
    torch.save({"format_version": FORMAT_VERSION, "config": {"dataset": "nope"}}, path)
    with pytest.raises(CheckpointError, match="invalid config"):
        load_run(path)
    torch.save({"format_version": FORMAT_VERSION, "config": {}}, path)  # no weights
    with pytest.raises(CheckpointError, match="incomplete"):
        load_run(path)


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "created-by-unpickling"

    class Payload:
        def __reduce__(self):  # unpickling would call os.mkdir(marker)
            return (os.mkdir, (str(marker),))

    path = tmp_path / "evil.pt"
    torch.save({"format_version": FORMAT_VERSION, "config": {}, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_run(path)
    assert not marker.exists()  # weights_only=True: nothing was executed
    # the control: an unrestricted load really would have run it
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_saving_before_the_models_exist_is_refused(idx_dataset, tmp_path):
    run = TrainingRun(tiny_cfg(idx_dataset()))
    with pytest.raises(CheckpointError, match="Nothing to save"):
        checkpoints.save_run(run, tmp_path / "x.pt")
