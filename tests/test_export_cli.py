"""`python -m sgan_core train ... --export FILE`: the run file the page opens, with the
command that made it; bad export flags are refused before any training."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from sgan_core.cli import main as cli
from sgan_core.storage.recorded_run import open_run_file
from tests.test_cli import bad_input, one_torch_thread, tiny_flags  # noqa: F401 (fixture)


def test_train_exports_a_run_file_the_page_opens(idx_dataset, tmp_path, capsys):
    target = tmp_path / "out" / "tiny.sganrun"
    argv = ["train", *tiny_flags(idx_dataset()), "--max-steps", "4", "--export",
            str(target), "--export-half", "--export-moments", "3", "--export-fakes", "5"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays the metrics JSON alone
    assert f"run file: {target}" in captured.err
    run = open_run_file(target, target.name)
    assert run.manifest["command"] == ["python", "-m", "sgan_core", *argv]
    assert run.manifest["half"] is True and run.snapshot().step == 4
    assert 2 <= len(run.timeline()) <= 3
    assert all(len(m.cells.fake_images) <= 5 for m in run.timeline().moments())
    with zipfile.ZipFile(target) as archive:  # weights stored at half precision
        assert "weights.npz" in archive.namelist()
    probabilities = run.classify(np.zeros((2, 28, 28, 1), np.uint8))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert not list(target.parent.glob("*.tmp"))  # written then renamed


@pytest.mark.parametrize("flags, words", [
    (["--export-moments", "1"], "--export-moments must be at least 2"),
    (["--export-fakes", "0"], "--export-fakes at least 1"),
])
def test_bad_export_flags_are_refused_before_training(flags, words, tmp_path, capsys,
                                                      idx_dataset):
    argv = ["train", *tiny_flags(idx_dataset()), "--max-steps", "4",
            "--export", str(tmp_path / "x.sganrun"), *flags]
    assert words in bad_input(argv, capsys)


def test_export_to_a_folder_says_to_name_a_file(tmp_path, capsys, idx_dataset):
    argv = ["train", *tiny_flags(idx_dataset()), "--max-steps", "4", "--export", str(tmp_path)]
    assert "is a folder: give a file name" in bad_input(argv, capsys)


def test_a_failed_export_says_why_and_leaves_no_file(tmp_path, capsys, idx_dataset,
                                                    monkeypatch):
    import errno

    from sgan_core.storage import run_file

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_file, "export_run", disk_full)
    target = tmp_path / "x.sganrun"
    argv = ["train", *tiny_flags(idx_dataset()), "--max-steps", "2", "--export", str(target)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "could not write --export" in err and "No space left" in err
    assert not target.exists() and not list(tmp_path.glob("*.tmp"))
