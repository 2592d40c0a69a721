"""`python -m sgan_core train`: bad input is one line and exit code 2; a tiny run writes
metrics.json, history.csv and a checkpoint."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sgan_core.config import field_docs
from sgan_core.cli import main as cli
from sgan_core.storage.checkpoints import load_run

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """The machine is shared, and the CLI sets torch's thread count for the process."""
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


def tiny_flags(data_dir) -> list[str]:
    return ["--dataset", "mnist", "--data-dir", str(data_dir), "--download", "false",
            "--labels-per-class", "2", "--validation-size", "20", "--seed", "0",
            "--batch-size", "16", "--labeled-batch-size", "8", "--eval-test-subset", "40",
            "--sample-grid-size", "16", "--embedding-points", "30", "--embedding-fakes", "12",
            "--num-threads", "1", "--eval-every-s", "0.3", "--no-progress"]


def bad_input(argv: list[str], capsys) -> str:
    """Run the CLI in-process; assert exit code 2 and one stderr line; return that line."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's errors leave through SystemExit
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert captured.out == ""
    return lines[0]


# ----------------------------------------------------------------------------- bad input

def test_bad_value_through_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "sgan_core", "train",
                             "--labels-per-class", "abc"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "--labels-per-class" in lines[0] and "'abc'" in lines[0]


@pytest.mark.parametrize("argv, names", [
    (["train", "--steps", "1", "--bogus-flag"], ["unrecognized", "--bogus-flag"]),
    (["train", "--labels-per-class", "abc"], ["--labels-per-class", "'abc'"]),
    (["train", "--steps", "1", "--download", "maybe"], ["--download", "maybe"]),
    (["train", "--steps", "1", "--labels-per-class", "0"], ["labels_per_class"]),
    (["train", "--steps", "1", "--dataset", "nope"], ["unknown dataset 'nope'", "mnist"]),
    (["train", "--steps", "1", "--d-lr", "-1"], ["d_lr", "-1"]),
    (["train", "--max-steps", "-5"], ["max_steps"]),
    (["train", "--dataset", "mnist"], ["--steps", "--time-budget-s"]),  # no limit
    (["fly"], ["invalid choice", "fly"]),
    ([], ["command"]),
])
def test_invalid_flags_and_values_are_one_line_and_exit_2(argv, names, capsys):
    line = bad_input(argv, capsys)
    for name in names:
        assert name in line


def test_unavailable_dataset_is_one_line_and_exit_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = bad_input(["train", "--steps", "1", "--dataset", "fashion-mnist", "--data-dir",
                      str(empty), "--download", "false", "--no-progress"], capsys)
    assert "Fashion-MNIST was not found" in line and str(empty) in line


def test_resume_of_a_missing_or_corrupt_checkpoint_exits_2(tmp_path, capsys):
    line = bad_input(["train", "--resume", str(tmp_path / "missing.pt")], capsys)
    assert "No checkpoint" in line
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00not a checkpoint" * 64)
    line = bad_input(["train", "--resume", str(corrupt)], capsys)
    assert "not a readable SGAN Studio checkpoint" in line and "corrupt.pt" in line


# ----------------------------------------------------------------------------- a real run

def test_tiny_run_writes_metrics_history_and_checkpoint(idx_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", *tiny_flags(idx_dataset()), "--steps", "3", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert json.loads(captured.out) == metrics  # the same figures are printed
    required = {"test_accuracy", "baseline_test_accuracy", "steps", "seconds",
                "images_per_second", "labels_per_class", "dataset", "seed"}
    assert required <= metrics.keys()
    assert metrics["steps"] == 3
    assert metrics["dataset"] == "mnist" and metrics["labels_per_class"] == 2
    assert metrics["seed"] == 0
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 0.0 <= metrics["baseline_test_accuracy"] <= 1.0
    assert metrics["seconds"] > 0 and metrics["images_per_second"] > 0
    assert metrics["test_images"] == 50  # the final figures use the full test set
    assert metrics["status"] == "finished"
    assert metrics["precision"] in ("float32", "bfloat16")  # "auto" resolved
    assert metrics["validation_images"] == 20 and 0 <= metrics["validation_accuracy"] <= 1
    assert metrics["accuracy_model"] == "ema" and metrics["rejection_model"] == "live"
    # unlabeled images per second: batch_size (16) per step, not the labeled re-draws
    assert metrics["images_per_second"] == pytest.approx(
        16 * metrics["steps_per_second"], rel=0.02)
    assert metrics["labeled_images_per_second"] == pytest.approx(
        8 * metrics["steps_per_second"], rel=0.02)

    with open(out / "history.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = {"step", "seconds", "test_accuracy", "baseline_test_accuracy",
               "validation_accuracy", "baseline_validation_accuracy",
               "supervised_loss", "unsupervised_loss", "generator_loss"}
    assert rows and columns <= rows[0].keys()
    assert int(rows[-1]["step"]) == 3
    for row in rows:
        for name in columns:
            float(row[name])  # every required cell is a number

    cfg, restore = load_run(out / "checkpoint.pt")
    assert cfg.max_steps == 3 and restore["trainer"]["step_count"] == 3


def test_diverged_run_reports_the_error_and_exits_1(idx_dataset, tmp_path, capsys,
                                                    monkeypatch):
    import dataclasses

    from sgan_core.training.trainer import Trainer

    original = Trainer.train_step

    def diverging(self):
        result = original(self)
        return dataclasses.replace(result, generator=float("inf"))

    monkeypatch.setattr(Trainer, "train_step", diverging)
    code = cli.main(["train", *tiny_flags(idx_dataset()), "--steps", "50"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "diverged at step 1" in captured.err and "--d-lr" in captured.err
    assert "Resume" not in captured.err  # the CLI has no such button


# ----------------------------------------------------------------------------- honest CLI

def test_help_shows_the_cli_defaults_and_the_config_docs(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    docs = field_docs()
    assert f"{docs['num_threads']} (default: 2)" in text
    assert "(default: 5.0)" in text and "(default: 2.0)" not in text
    assert docs["seed"] in text  # the config's own doc


def test_an_explicit_data_dir_that_does_not_exist_is_exit_2(tmp_path, capsys):
    line = bad_input(["train", "--steps", "1", "--data-dir", str(tmp_path / "nope"),
                      "--download", "false"], capsys)
    assert "does not exist" in line and "nope" in line


def test_an_explicit_data_dir_without_mnist_never_falls_back_to_the_bundle(tmp_path, capsys):
    line = bad_input(["train", "--steps", "1", "--data-dir", str(tmp_path), "--download",
                      "false", "--no-progress"], capsys)
    assert "MNIST was not found" in line and str(tmp_path) in line


def test_an_impossible_label_count_is_bad_input(idx_dataset, capsys):
    flags = tiny_flags(idx_dataset())
    flags[flags.index("--labels-per-class") + 1] = "100000"
    line = bad_input(["train", *flags, "--steps", "1"], capsys)
    assert "labels_per_class" in line or "labels per class" in line


def test_resume_takes_a_new_step_budget_and_refuses_other_changes(idx_dataset, tmp_path,
                                                                  capsys):
    out = tmp_path / "run"
    assert cli.main(["train", *tiny_flags(idx_dataset()), "--steps", "3", "--out",
                     str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(out), "--steps", "5", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 5  # 3 + 2 more, not 3 again
    line = bad_input(["train", "--resume", str(out / "checkpoint.pt"), "--seed", "7"], capsys)
    assert "--seed cannot change when resuming" in line
