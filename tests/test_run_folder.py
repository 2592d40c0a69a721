"""Runs kept on disk: the page's RunRecorder and the CLI's --out write the same folder
(config, status, history, figures, metrics, checkpoint); saved_runs lists and reads it
back as a Snapshot without pickle; a full disk, an unwritable folder or an oversized
file is a message, never an exception in the training thread or the page."""
from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from sgan_core.cli import main as cli
from sgan_core.storage import run_folder, run_folder_reader as saved_runs
from sgan_core.storage.checkpoints import load_run
from sgan_core.runs.training_run import TrainingRun
from sgan_core.snapshot import HISTORY_COLUMNS
from tests import fakes
from tests.tiny_config import tiny_cfg

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FILES = {"config.json", "status.json", "history.csv", "figures.npz", "metrics.json",
         "checkpoint.pt"}


def recorded_run(data_dir, folder, **changes) -> TrainingRun:
    recorder = run_folder.RunRecorder(folder)
    run = TrainingRun(tiny_cfg(data_dir, max_steps=4, **changes), recorder=recorder)
    run.run_here()
    return run


def test_a_recorded_run_reads_back_as_the_snapshot_it_ended_with(idx_dataset, tmp_path):
    folder = run_folder.new_page_folder(tiny_cfg(tmp_path), root=tmp_path / "runs")
    run = recorded_run(idx_dataset(), folder)
    assert run.recorder.problem is None
    assert FILES <= {p.name for p in folder.iterdir()}
    assert run.run_id not in str(folder)  # a folder list must not hand out control ids
    final, saved = run.snapshot(), saved_runs.load_snapshot(folder)
    assert saved.run_status == "finished" and saved.step == final.step == 4
    assert saved.config == final.config and saved.class_names == final.class_names
    for name in HISTORY_COLUMNS:
        np.testing.assert_allclose(saved.history[name], final.history[name], rtol=1e-5)
    np.testing.assert_array_equal(saved.confusion, final.confusion)
    np.testing.assert_array_equal(saved.samples.images, final.samples.images)
    np.testing.assert_array_equal(saved.samples.verdicts, final.samples.verdicts)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert saved.test_accuracy == metrics["test_accuracy"]  # final, full-test figures
    assert metrics["test_images"] == 50 and metrics["status"] == "finished"
    cfg, restore = load_run(folder / "checkpoint.pt")  # resumable
    assert cfg == final.config and restore["trainer"]["step_count"] == 4


def test_list_runs_finds_page_and_cli_runs_newest_first(idx_dataset, tmp_path, capsys):
    data = idx_dataset()
    root = tmp_path / "runs"
    page = run_folder.new_page_folder(tiny_cfg(data), root=root)
    recorded_run(data, page, labels_per_class=1)
    code = cli.main(["train", "--dataset", "mnist", "--data-dir", str(data),
                     "--labels-per-class", "2", "--validation-size", "20",
                     "--batch-size", "16", "--labeled-batch-size", "8",
                     "--eval-test-subset", "40", "--sample-grid-size", "16",
                     "--steps", "3", "--no-progress", "--out", str(root / "cli-run")])
    assert code == 0, capsys.readouterr().err
    (root / "studies" / "s1").mkdir(parents=True)  # studies are not runs
    runs, problems = saved_runs.list_runs(root)
    assert problems == []
    assert [r.name for r in runs] == ["cli-run", str(page.relative_to(root))]
    assert runs[0].status == "finished" and runs[0].step == 3
    assert "2 labels per class" in runs[0].label() and "SGAN" in runs[0].label()
    cli_snapshot = saved_runs.load_snapshot(root / "cli-run")
    assert cli_snapshot.samples is not None and cli_snapshot.confusion is not None


def test_a_full_disk_is_a_message_and_the_run_still_finishes(idx_dataset, tmp_path,
                                                             monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_folder.os, "replace", full)
    run = recorded_run(idx_dataset(), tmp_path / "runs" / "page" / "r")
    assert run.snapshot().run_status == "finished"
    assert "is full" in run.recorder.problem and run_folder.RUNS_ENV in run.recorder.problem


def test_an_unwritable_runs_folder_is_a_message(idx_dataset, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder should be")
    run = recorded_run(idx_dataset(), blocker / "page" / "r")
    assert run.snapshot().run_status == "finished"
    assert str(blocker) in run.recorder.problem


def test_checkpoints_stop_above_the_size_cap(idx_dataset, tmp_path):
    folder = tmp_path / "runs" / "page" / "r"
    recorder = run_folder.RunRecorder(folder, max_bytes=1)
    run = TrainingRun(tiny_cfg(idx_dataset(), max_steps=2), recorder=recorder)
    run.run_here()
    assert not (folder / "checkpoint.pt").exists()
    assert (folder / "metrics.json").is_file()  # the small files are still kept
    assert run_folder.MAX_MB_ENV in recorder.problem


def _folder(root, name, config=None):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config or tiny_cfg(root).to_dict()))
    return folder


def test_bad_files_are_listed_as_problems_not_raised(tmp_path):
    root = tmp_path / "runs"
    (_folder(root, "broken") / "config.json").write_text("{nope")
    huge = _folder(root, "huge")
    (huge / "status.json").write_bytes(b" " * (saved_runs.MAX_BYTES["status.json"] + 1))
    good = _folder(root, "good")
    runs, problems = saved_runs.list_runs(root)
    assert [r.name for r in runs] == ["good"] and runs[0].status == "unknown"
    assert len(problems) == 2
    assert any("not valid JSON" in p for p in problems)
    assert any("was not read" in p for p in problems)
    assert saved_runs.load_snapshot(good).history["step"].size == 0  # nothing yet


def test_a_figures_file_with_pickled_objects_is_refused(tmp_path):
    folder = _folder(tmp_path, "r")
    np.savez(folder / "figures.npz", confusion=np.array([object()], dtype=object))
    with pytest.raises(saved_runs.SavedRunError, match="not a readable figures file"):
        saved_runs.load_snapshot(folder)


def test_a_confusion_matrix_of_the_wrong_size_is_refused(tmp_path):
    folder = _folder(tmp_path, "r")
    np.savez(folder / "figures.npz", confusion=np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(saved_runs.SavedRunError, match="not 11x11"):
        saved_runs.load_snapshot(folder)


def test_only_the_newest_folders_are_read(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    old, new = _folder(root, "old"), _folder(root, "new")
    os.utime(old, (1_000_000, 1_000_000))  # long ago
    (old / "config.json").write_text("{broken")  # would be a problem if it were read
    monkeypatch.setattr(saved_runs, "MAX_LISTED", 1)
    runs, problems = saved_runs.list_runs(root)
    assert [r.name for r in runs] == ["new"] and problems == []


def test_a_run_whose_server_went_away_mid_training_is_interrupted(tmp_path):
    folder = tmp_path / "page" / "r"
    run_folder.write_snapshot_files(folder, fakes.make_snapshot(tiny_cfg(tmp_path)))
    assert saved_runs.summary(folder).status == "running"  # just written: it trains
    quiet = saved_runs.STALE_AFTER_S + 10 * tiny_cfg(tmp_path).eval_every_s + 5
    os.utime(folder, (folder.stat().st_mtime - quiet,) * 2)
    assert saved_runs.summary(folder).status == saved_runs.INTERRUPTED
    snapshot = saved_runs.load_snapshot(folder)
    assert snapshot.run_status == "stopped" and not snapshot.is_active  # no refreshing
