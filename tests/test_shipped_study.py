"""The shipped study on the Label budget page: drawn at once, labelled as measured
earlier with its command, date, machine and versions; "Re-run it here" starts the same
study command into the runs folder. The shipped study is a real (tiny) one, made here
with the study CLI on the bundled MNIST subset."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sgan_core.cli.main import build_parser
from sgan_core.cli.common import config_from_args
from sgan_core.config import TrainConfig
from sgan_core.cli.study import STUDY_DEFAULTS
from dashboard import server, state
from dashboard.views.budget import shipped, studies
from tests.test_label_budget import budget_page, page_env, progress_text  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory) -> Path:
    """A 2-cell study from the CLI itself (3 steps a cell, bundled subset)."""
    out = tmp_path_factory.mktemp("made") / "study"
    done = subprocess.run(
        [sys.executable, "-m", "sgan_core", "study", "--dataset", "mnist",
         "--labels-per-class", "1", "2", "--seeds", "0", "--max-steps", "3",
         "--workers", "1", "--eval-every-s", "30", "--batch-size", "16",
         "--eval-test-subset", "40", "--validation-size", "20", "--no-progress",
         "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def with_shipped(page_env, tiny_study, monkeypatch):  # noqa: F811
    """The tiny study copied as the lead copies the real one: study.json + results.json."""
    root = shipped.SHIPPED_ROOT  # page_env pointed it into tmp_path
    target = root / "mnist-tiny"
    target.mkdir(parents=True)
    for name in ("study.json", "results.json"):
        shutil.copy(tiny_study / name, target / name)
    return target


def test_shipped_study_is_drawn_at_once_and_says_where_it_was_measured(with_shipped):
    at = budget_page()
    assert not at.exception
    assert at.selectbox(key="wb_study").value == "measured:mnist-tiny"
    note = at.info[0].value
    record = json.loads((with_shipped / "study.json").read_text())
    assert "Measured earlier" in note and record["date"][:10] in note
    assert record["versions"]["torch"] in note and record["machine"]["platform"] in note
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert chart["title"] == "MNIST: measured earlier"
    assert list(at.dataframe[0].value["labels/class"]) == [1, 2]
    assert "--labels-per-class 1 2" in at.code[0].value
    assert not at.get("progress")  # nothing runs: no progress bar, no cancel
    assert at.button(key="b_study_rerun").disabled is False


def test_rerun_it_here_starts_the_same_command_into_the_runs_folder(with_shipped):
    at = budget_page()
    at.button(key="b_study_rerun").click().run()
    assert not at.exception
    study_id = at.selectbox(key="wb_study").value
    assert not shipped.is_shipped(study_id)
    proc = server.study_processes()[study_id]
    recorded = json.loads((with_shipped / "study.json").read_text())["command"]
    command = proc.args
    assert command[0] == sys.executable and command[1:4] == recorded[1:4]
    for name in ("--labels-per-class", "--seeds", "--max-steps", "--batch-size"):
        at_ = recorded.index(name)
        assert command[command.index(name):command.index(name) + 3] == recorded[at_:at_ + 3]
    assert command[command.index("--out") + 1] == str(studies.studies_root() / study_id)
    deadline = time.monotonic() + 120
    while "Finished" not in progress_text(at.run()):
        assert proc.poll() in (None, 0), (studies.studies_root() / study_id / "driver.log").read_text()
        assert time.monotonic() < deadline, "the re-run's cells did not land in time"
        time.sleep(0.5)
    assert "Finished: all 2 cells" in progress_text(at)
    assert not at.info  # the view is the re-run's own study now, not the shipped one
    assert studies.read_study(studies.studies_root() / study_id).total == 2


def test_a_broken_shipped_study_is_a_message(page_env):  # noqa: F811
    broken = shipped.SHIPPED_ROOT / "broken"
    broken.mkdir(parents=True)
    (broken / "results.json").write_text("{not json")
    at = budget_page()
    assert not at.exception
    assert "no readable results.json" in at.warning[0].value


def test_rerun_command_replaces_only_where_it_runs(monkeypatch, tmp_path):
    monkeypatch.delenv(studies.RAY_ENV, raising=False)
    record = {"command": ["python", "-m", "sgan_core", "study", "--data-dir", "data",
                          "--seeds", "1", "--out", "runs/x"]}
    command = shipped.rerun_command(record, "/d", tmp_path / "o")
    assert command == [sys.executable, "-m", "sgan_core", "study", "--data-dir", "/d",
                       "--seeds", "1", "--out", str(tmp_path / "o"), "--no-progress"]
    monkeypatch.setenv(studies.RAY_ENV, "h:1")
    assert shipped.rerun_command(record, "/d", tmp_path)[-4:] == [
        "--backend", "ray", "--ray-address", "h:1"]
    assert shipped.rerun_command({"command": ["rm", "-rf"]}, "/d", tmp_path) is None


def test_rerun_pins_recorded_settings_whose_defaults_changed_since(monkeypatch, tmp_path):
    """A re-run measures what the shipped study measured: a setting the command left to
    a default that has changed since is passed explicitly; the grid and the place stay."""
    monkeypatch.delenv(studies.RAY_ENV, raising=False)
    base = {**TrainConfig(download=False, num_threads=1, eval_every_s=30.0).to_dict(),
            "g_lr": 0.123, "ema_decay": 0.5, "augment_shift": 0, "train_baseline": False,
            "seed": 7, "labels_per_class": 3, "data_dir": "/elsewhere"}
    record = {"command": ["python", "-m", "sgan_core", "study", "--labels-per-class", "1",
                          "--seeds", "1", "--ema-decay", "0.9", "--out", "runs/x"],
              "base_config": base}
    command = shipped.rerun_command(record, "/d", tmp_path / "o")
    pinned = command[command.index("/d") + 1:]  # after the flags the page sets
    assert pinned[:pinned.index("--no-progress")] == [
        "--g-lr", "0.123", "--augment-shift", "0", "--train-baseline", "false"]
    assert command.count("--ema-decay") == 1  # the command already says it
    parsed = build_parser().parse_args(command[3:])
    assert parsed.g_lr == 0.123 and parsed.train_baseline is False
    unchanged = {**record, "base_config": {**base, "g_lr": TrainConfig().g_lr}}
    assert "--g-lr" not in shipped.rerun_command(unchanged, "/d", tmp_path / "o")


def test_rerunning_the_real_shipped_study_trains_the_config_it_recorded(monkeypatch, tmp_path):
    """Whatever defaults changed since the shipped study was measured, its "Re-run it
    here" command builds the very config the study recorded, but for where it runs
    and the grid's own fields (labels per class and seed, set per cell)."""
    monkeypatch.delenv(studies.RAY_ENV, raising=False)
    record = json.loads((ROOT / "assets" / "studies" / "mnist-full" / "study.json").read_text())
    command = shipped.rerun_command(record, str(tmp_path), tmp_path / "o")
    rebuilt = config_from_args(build_parser().parse_args(command[3:]),
                               defaults=STUDY_DEFAULTS).to_dict()
    recorded = record["base_config"]
    compared = [name for name in recorded
                if name in rebuilt and name not in shipped._NOT_PINNED]
    assert len(compared) > 30  # the learning settings, not a handful
    assert {name: rebuilt[name] for name in compared} == {
        name: recorded[name] for name in compared}


def test_provenance_and_duration_in_words():
    record = {"date": "2026-12-01T17:25:52+00:00", "command": ["python", "--workers", "2"],
              "machine": {"platform": "Linux-x", "cpu_count": 2, "python": "3.11.7"},
              "versions": {"torch": "2.14.1", "numpy": None, "sgan_studio_commit": "a" * 40}}
    words = shipped.provenance(record)
    assert words == ("Measured earlier, on 2026-12-01 17:25:52 UTC, on Linux-x, 2 CPU cores, "
                     "Python 3.11.7; torch 2.14.1; SGAN Studio commit aaaaaaaaaa.")
    study = studies.StudyState("measured:x", Path("."), {}, record,
                               [{"wall_s": 60.0}, {"wall_s": 180.0}])
    assert shipped.measured_minutes(study) == 2.0  # 240 s of cells over 2 workers
    assert shipped.provenance({}).startswith("Measured earlier, on an unknown date")
    resumed = {**record, "first_run": {"date": "2026-12-01T15:00:00+00:00"}}
    assert shipped.provenance(resumed).startswith(
        "Measured earlier, from 2026-12-01 15:00:00 UTC (resumed 2026-12-01 17:25:52 UTC), "
        "on Linux-x")


def test_a_shipped_study_copied_before_it_finished_says_how_much_it_holds(with_shipped):
    results = json.loads((with_shipped / "results.json").read_text())
    results["cells"] = results["cells"][:1]
    (with_shipped / "results.json").write_text(json.dumps(results))
    at = budget_page()
    assert not at.exception
    assert "It holds 1 of its 2 cells" in at.info[0].value
    assert list(at.dataframe[0].value["labels/class"]) == [1]
