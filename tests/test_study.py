"""`python -m sgan_core study`: a tiny grid end to end, resume, bad input, the summary's
maths, and Ray (a real local runtime) giving the local backend's figures."""
from __future__ import annotations

import csv
import json
import math
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sgan_core.cli import main as cli
from sgan_core.config import TrainConfig
from sgan_core.studies.study import make_spec, run_study
from sgan_core.studies.backends import LocalBackend
from sgan_core.studies.results import cell_path, summarize

TINY = ["--download", "false", "--validation-size", "20", "--batch-size", "16",
        "--labeled-batch-size", "8", "--eval-test-subset", "40", "--sample-grid-size", "16",
        "--embedding-points", "30", "--embedding-fakes", "12", "--num-threads", "1",
        "--no-progress"]
TIMINGS = ("seconds", "wall_s")  # the only figures that may differ between two runs


def study(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["study", "--dataset", "mnist", "--data-dir", str(data_dir), "--out", str(out),
            *TINY, *extra]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's errors leave through SystemExit
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as stream:
        return list(csv.DictReader(stream))


# ----------------------------------------------------------------------------- end to end

def test_tiny_study_through_the_cli_writes_cells_table_and_record(idx_dataset, tmp_path, capsys):
    out = tmp_path / "study"
    argv = study(idx_dataset(), out, "--labels-per-class", "2", "1", "--seeds", "0", "1",
                 "--max-steps", "3", "--workers", "2")
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err
    rows = read_csv(out / "results.csv")
    assert [(r["labels_per_class"], r["seed"]) for r in rows] == [
        ("1", "0"), ("1", "1"), ("2", "0"), ("2", "1")]
    for row in rows:
        assert row["status"] == "ok" and row["steps"] == "3"
        for key in ("test_accuracy", "baseline_test_accuracy", "validation_accuracy",
                    "baseline_validation_accuracy", "fake_rejection_rate"):
            assert 0.0 <= float(row[key]) <= 1.0, key
    document = json.loads((out / "results.json").read_text())
    assert [s["labels_per_class"] for s in document["summary"]] == [1, 2]
    assert json.loads(stdout) == document["summary"]  # the summary is printed too
    assert {"mean", "min", "max"} == document["summary"][0]["gap"].keys()
    record = json.loads((out / "study.json").read_text())
    assert record["command"] == ["python", "-m", "sgan_core", *argv]
    assert record["labels_per_class"] == [1, 2] and record["seeds"] == [0, 1]
    assert record["base_config"]["max_steps"] == 3
    assert record["machine"]["cpu_count"] >= 1 and record["versions"]["torch"]
    cell = json.loads(cell_path(out, 2, 1).read_text())
    assert cell["config"]["labels_per_class"] == 2 and cell["config"]["seed"] == 1
    assert (out / "summary.csv").is_file()


class CountingBackend(LocalBackend):
    """The real local backend, recording which cells it was asked to run."""

    def __init__(self) -> None:
        super().__init__(workers=1)
        self.asked: list[tuple[int, int]] = []

    def run(self, configs):
        self.asked += [(c["labels_per_class"], c["seed"]) for c in configs]
        yield from super().run(configs)


def tiny_spec(data_dir: Path, counts, seeds, **changes):
    base = TrainConfig(dataset="mnist", data_dir=str(data_dir), download=False,
                       bundled_fallback=False, validation_size=20, batch_size=16,
                       labeled_batch_size=8, eval_test_subset=40, sample_grid_size=16,
                       embedding_points=30, embedding_fakes=12, num_threads=1,
                       eval_every_s=30.0, max_steps=2, **changes)
    return make_spec(base, counts, seeds)


def test_rerun_skips_finished_cells_and_redoes_lost_ones(idx_dataset, tmp_path):
    data_dir, out = idx_dataset(), tmp_path / "study"
    first = CountingBackend()
    run_study(tiny_spec(data_dir, [1], [0]), out, first)
    assert first.asked == [(1, 0)]
    finished = cell_path(out, 1, 0).read_text()
    second = CountingBackend()  # a bigger grid in the same folder: only new cells run
    outcome = run_study(tiny_spec(data_dir, [1, 3], [0]), out, second)
    assert second.asked == [(3, 0)] and outcome.skipped == [(1, 0)]
    assert cell_path(out, 1, 0).read_text() == finished
    cell_path(out, 3, 0).unlink()  # as if the study had been killed during that cell
    third = CountingBackend()
    run_study(tiny_spec(data_dir, [1, 3], [0]), out, third)
    assert third.asked == [(3, 0)]
    assert len(read_csv(out / "results.csv")) == 2


def test_rerun_with_other_settings_in_the_same_folder_exits_2(idx_dataset, tmp_path, capsys):
    data_dir, out = idx_dataset(), tmp_path / "study"
    run_study(tiny_spec(data_dir, [1], [0]), out, LocalBackend(workers=1))
    code, _, err = run_cli(study(data_dir, out, "--labels-per-class", "1",
                                 "--max-steps", "5"), capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "--max-steps 2 -> 5" in err and "another --out" in err


def test_sigterm_ends_the_study_and_its_running_cell_unwritten(idx_dataset, tmp_path):
    data_dir, out = idx_dataset(), tmp_path / "study"
    argv = [sys.executable, "-m", "sgan_core", *study(data_dir, out, "--labels-per-class",
                                                      "1", "--time-budget-s", "60")]
    repo = Path(__file__).resolve().parent.parent
    driver = subprocess.Popen(argv, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    deadline = time.monotonic() + 60
    while not (out / "study.json").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # the worker is spawned and training its 60 s cell
    driver.send_signal(signal.SIGTERM)
    _, err = driver.communicate(timeout=20)  # far less than the cell's budget
    assert driver.returncode == 130 and "interrupted" in err
    assert not cell_path(out, 1, 0).exists()  # the unfinished cell is not written


PAGE_LIKE_MAIN = """
import sys
if __name__ != "__main__":  # spawn re-running this script in a worker, as under streamlit
    raise SystemExit("the driver's __main__ script ran in a worker")
sys.path.insert(0, {repo!r})
from sgan_core.cli import main as cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_workers_never_rerun_the_drivers_main_script(idx_dataset, tmp_path):
    """`streamlit run` (and AppTest) make a page script __main__; spawn would run it
    again in every worker, which then died before training (BrokenProcessPool)."""
    repo = Path(__file__).resolve().parent.parent
    script = tmp_path / "page.py"
    script.write_text(PAGE_LIKE_MAIN.format(repo=str(repo)))
    out = tmp_path / "study"
    done = subprocess.run([sys.executable, str(script), *study(
        idx_dataset(), out, "--labels-per-class", "1", "--max-steps", "2")],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert cell_path(out, 1, 0).is_file()


# ----------------------------------------------------------------------------- bad input

def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("extra, names", [
    (["--labels-per-class", "0", "--max-steps", "2"], ["--labels-per-class 0", "at least 1"]),
    (["--labels-per-class", "1", "40", "--max-steps", "2"],
     ["--labels-per-class 40", "choose at most"]),  # 30 images a class, 2 for validation
    (["--labels-per-class", "1"], ["--max-steps", "--time-budget-s"]),  # no budget
    (["--labels-per-class", "1", "--max-steps", "2", "--backend", "spark"],
     ["unknown backend 'spark'", "local, ray"]),
    (["--labels-per-class", "1", "--max-steps", "2", "--workers", "0"], ["--workers"]),
    (["--labels-per-class", "x"], ["--labels-per-class", "'x'"]),
])
def test_bad_input_is_one_line_and_exit_2(extra, names, idx_dataset, tmp_path, capsys):
    code, stdout, err = run_cli(study(idx_dataset(), tmp_path / "s", *extra), capsys)
    assert code == 2 and stdout == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for name in names:
        assert name in lines[0]
    assert not (tmp_path / "s" / "cells").exists()  # nothing started


def test_unreachable_ray_address_is_one_line_and_exit_2(idx_dataset, tmp_path, capsys):
    address = f"127.0.0.1:{closed_port()}"
    code, _, err = run_cli(study(idx_dataset(), tmp_path / "s", "--labels-per-class", "1",
                                 "--max-steps", "2", "--backend", "ray",
                                 "--ray-address", address), capsys)
    assert code == 2 and len(err.splitlines()) == 1
    # Without Ray installed the message says how to install it instead.
    assert f"cannot reach a Ray cluster at {address}" in err or "requirements-ray.txt" in err


# ----------------------------------------------------------------------------- the table

def test_summary_is_per_label_count_with_the_gap_taken_per_seed():
    rows = [
        {"labels_per_class": 5, "seed": 0, "test_accuracy": 0.8, "baseline_test_accuracy": 0.6},
        {"labels_per_class": 5, "seed": 1, "test_accuracy": 0.6, "baseline_test_accuracy": 0.5},
        {"labels_per_class": 1, "seed": 0, "test_accuracy": 0.3, "baseline_test_accuracy": 0.2},
        {"labels_per_class": 1, "seed": 1, "test_accuracy": None,  # diverged: no figures
         "baseline_test_accuracy": None},
    ]
    one, five = summarize(rows)
    assert (one["labels_per_class"], one["cells"], one["scored_cells"]) == (1, 2, 1)
    assert one["sgan"] == {"mean": 0.3, "min": 0.3, "max": 0.3}
    assert five["sgan"] == {"mean": 0.7, "min": 0.6, "max": 0.8}
    assert five["baseline"] == {"mean": 0.55, "min": 0.5, "max": 0.6}
    assert five["gap"] == {"mean": 0.15, "min": 0.1, "max": 0.2}
    assert math.isclose(one["gap"]["mean"], 0.1)


# ----------------------------------------------------------------------------- Ray

@pytest.mark.slow  # about 40 s: Ray's start-up, then the grid twice
def test_ray_backend_gives_the_local_backends_figures(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-ray.txt")
    # The bundled real-MNIST subset: figures that differ between seeds and label counts,
    # so equal tables mean the same training, not the same chance level.
    monkeypatch.setenv("SGAN_DATA_DIR", str(tmp_path / "no-data"))
    grid = ["--labels-per-class", "1", "5", "--seeds", "0", "1", "--max-steps", "30",
            "--workers", "2", "--validation-size", "100", "--eval-test-subset", "200"]
    tables = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        argv = ["study", "--dataset", "mnist", "--out", str(out), *TINY, *grid,
                "--backend", backend]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
        tables[backend] = [{k: v for k, v in row.items() if k not in TIMINGS}
                           for row in read_csv(out / "results.csv")]
    assert len(tables["local"]) == 4
    assert len({row["test_accuracy"] for row in tables["local"]}) > 1  # not chance level
    assert tables["ray"] == tables["local"]
