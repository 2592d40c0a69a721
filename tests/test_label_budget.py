"""The Label budget page: inputs, the study as a real subprocess, the chart (a pure
function), the page links. Studies go to a temporary SGAN_STUDIES_DIR."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.figures import budget as budget_figures
from dashboard.sidebar import settings as controls
from dashboard import server, state
from dashboard.views.budget import shipped, studies
from dashboard.sidebar.inputs import InputError
from sgan_core.config import TrainConfig
from sgan_core.studies.study import StudySpec
from sgan_core.studies.results import summarize
from tests import fakes
from tests.tiny_config import tiny_cfg

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")
PAGE = "views/budget/label_budget.py"


@pytest.fixture
def page_env(monkeypatch, tmp_path, idx_dataset):
    """A fresh server whose default config is the engine tests' tiny one on a tiny
    dataset (30 images a class), studies under tmp_path, no shipped studies."""
    st.cache_resource.clear()
    monkeypatch.setattr(shipped, "SHIPPED_ROOT", tmp_path / "shipped")
    monkeypatch.setenv("SGAN_PREWARM_UMAP", "0")
    monkeypatch.setenv(studies.STUDIES_ENV, str(tmp_path / "studies"))
    monkeypatch.delenv(studies.RAY_ENV, raising=False)
    monkeypatch.setattr(server, "new_registry", fakes.new_fake_registry)
    monkeypatch.setattr(server, "new_embedding_service", fakes.FakeEmbeddingService)
    tiny = tiny_cfg(idx_dataset(), eval_every_s=30.0)
    monkeypatch.setattr(controls, "default_config", lambda: tiny)
    yield tmp_path / "studies"
    for proc in server.study_processes().values():
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
    server.shutdown_all()


def budget_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    return at.switch_page(PAGE).run()


def progress_text(at: AppTest) -> str:
    return at.get("progress")[0].proto.text


def start_button(at: AppTest):
    return at.button(key="b_study_start")


def test_page_renders_with_start_on_for_good_input(page_env):
    at = budget_page()
    assert not at.exception
    assert at.title[0].value == "Label budget"
    assert at.multiselect(key="wb_labels").options == ["1", "2", "5", "10", "20"]  # <= 28
    assert start_button(at).disabled is False
    assert "No studies yet" in at.caption[0].value  # above the inputs


@pytest.mark.parametrize("change, words", [
    (lambda at: at.multiselect(key="wb_labels").set_value([]), "at least one label count"),
    (lambda at: at.text_input(key="wb_seeds").input(""), "at least one seed"),
    (lambda at: at.text_input(key="wb_seeds").input("0 x"), "whole numbers"),
    (lambda at: at.text_input(key="wb_steps").input("0"), "Steps"),
    (lambda at: at.text_input(key="wb_steps").input("many"), "Steps"),
])
def test_bad_input_turns_start_off_and_says_what_to_do(page_env, change, words):
    at = budget_page()
    change(at)
    at.run()
    assert not at.exception
    assert start_button(at).disabled is True
    assert words in at.warning[0].value


def test_a_tiny_study_runs_as_a_subprocess_and_its_points_appear(page_env):
    at = budget_page()
    at.multiselect(key="wb_labels").set_value([1, 2])
    at.text_input(key="wb_seeds").input("0")
    at.text_input(key="wb_steps").input("3").run()
    start_button(at).click().run()
    assert not at.exception
    study_id = at.selectbox(key="wb_study").value
    proc = server.study_processes()[study_id]
    command = proc.args
    assert command[1:4] == ["-m", "sgan_core", "study"] and "--no-progress" in command
    assert command[command.index("--max-steps") + 1] == "3"
    assert start_button(at).disabled is True  # one study at a time
    deadline = time.monotonic() + 120  # the page rereads the folder on each run
    while "Finished" not in progress_text(at.run()):
        assert proc.poll() in (None, 0), (page_env / study_id / studies.LOG_FILE).read_text()
        assert time.monotonic() < deadline, "the study's cells did not land in time"
        time.sleep(0.5)
    assert "Finished: all 2 cells" in progress_text(at)
    assert list(at.dataframe[0].value["labels/class"]) == [1, 2]
    assert by_series(layer_rows(json.loads(at.get("vega_lite_chart")[0].proto.spec), "line"))[
        SGAN].keys() == {1, 2}
    assert [b.proto.label for b in at.get("download_button")] == [
        "Results (CSV)", "Results (JSON)"]
    listed = studies.read_study(page_env / study_id)
    assert listed.total == 2 and len(listed.rows) == 2


def test_points_appear_while_cells_land(page_env):
    """The page reads the folder: a cell file written by hand shows up on the next run."""
    spec = StudySpec(TrainConfig(max_steps=3), (1, 5), (0,))
    folder = page_env / studies.new_study_id(spec)
    folder.mkdir(parents=True)
    (folder / studies.LAUNCH_FILE).write_text(json.dumps({"request": {
        "dataset": "mnist", "labels_per_class": [1, 5], "seeds": [0], "max_steps": 3}}))
    at = budget_page()
    assert "0 of 2 cells" in progress_text(at)
    cells = folder / "cells"
    cells.mkdir()
    (cells / "labels00001_seed0.json").write_text(json.dumps(_cell(1, 0.5, 0.3)))
    at.run()
    assert "1 of 2 cells" in progress_text(at)
    assert list(at.dataframe[0].value["labels/class"]) == [1]


def _cell(labels: int, sgan: float, base: float, seed: int = 0) -> dict:
    return {"labels_per_class": labels, "seed": seed, "status": "finished", "wall_s": 2.0,
            "test_accuracy": sgan, "baseline_test_accuracy": base}


def test_sidebar_value_persists_and_train_live_opens_the_live_page(page_env):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.select_slider(key="w_labels").set_value(5).run()
    at.switch_page(PAGE).run()
    at.run()  # a second run on the page: the live sidebar's values must still be there
    assert at.session_state["w_labels"] == 5
    folder = page_env / "20200101-000000-mnist-abcd"
    (folder / "cells").mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps(
        {"labels_per_class": [1, 5], "seeds": [0], "base_config": {"dataset": "mnist"}}))
    for labels in (1, 5):
        (folder / "cells" / f"labels{labels:05d}_seed0.json").write_text(
            json.dumps(_cell(labels, 0.6, 0.4)))
    at.run()
    assert "Finished: all 2 cells" in progress_text(at)
    assert at.selectbox(key="wb_live_labels").value == 5  # the slider's count
    at.selectbox(key="wb_live_labels").set_value(1).run()
    at.button(key="b_train_live").click().run()
    assert not at.exception
    assert at.title[0].value == "SGAN Studio"
    assert at.select_slider(key="w_labels").value == 1


# --- pure parts ---------------------------------------------------------------------------

def test_the_page_s_inputs_make_the_study_cli_s_spec_and_check_every_input(tmp_path):
    base = tiny_cfg(tmp_path)
    spec = studies.spec_from_inputs(base, "fashion-mnist", [10, 1], "2, 0 2", "minutes", "1.5")
    assert spec == StudySpec(base.replace(dataset="fashion-mnist", max_steps=0,
                                          time_budget_s=90.0), (1, 10), (2, 0))
    assert studies.launch_record(spec) == {
        "dataset": "fashion-mnist", "labels_per_class": [1, 10], "seeds": [2, 0],
        "max_steps": 0, "time_budget_s": 90.0}  # the shape older launch.json files have
    for labels, seeds, unit, budget in (([], "0", "steps", "5"), ([1], "-1", "steps", "5"),
                                        ([1], "0", "minutes", "0"), ([1], "0", "steps", "")):
        with pytest.raises(InputError):
            studies.spec_from_inputs(base, "mnist", labels, seeds, unit, budget)


def test_command_passes_ray_address_and_changed_config_fields(monkeypatch, tmp_path):
    monkeypatch.setenv(studies.RAY_ENV, "10.0.0.1:6379")
    base = tiny_cfg(tmp_path)
    command = studies.study_command(StudySpec(base.replace(max_steps=7), (1, 2), (0,)),
                                    tmp_path / "out")
    assert command[-4:] == ["--backend", "ray", "--ray-address", "10.0.0.1:6379"]
    assert command[command.index("--batch-size") + 1] == "16"
    assert command[command.index("--download") + 1] == "false"
    assert "--num-threads" not in command  # 1 is the study's default already
    assert "--labels-per-class" in command and "--labels_per_class" not in command


def test_eta_from_finished_cells():
    rows = [{"wall_s": 10.0}, {"wall_s": 20.0}]
    assert studies.eta_seconds(rows, total=6, workers=2) == 30.0  # 4 left: two waves of 15
    assert studies.eta_seconds([], total=6, workers=2) is None
    assert studies.eta_seconds(rows, total=2, workers=2) == 0.0


def layer_rows(spec: dict, mark: str, field: str = "") -> list[dict]:
    """The rows of every layer of a mark type (and with a y field, if given), in order."""
    rows = []
    for layer in spec["layer"]:
        kind = layer["mark"]["type"]
        y = layer["encoding"].get("y", {}).get("field", "")
        if kind == mark and (not field or y == field):
            rows += layer["data"]["values"]
    return rows


def by_series(rows: list[dict]) -> dict[str, dict[int, tuple]]:
    """{series: {labels: (mean, low, high, seeds)}}."""
    out: dict[str, dict[int, tuple]] = {}
    for row in rows:
        out.setdefault(row["series"], {})[row["labels"]] = (
            row["mean"], row["low"], row["high"], row["seeds"])
    return out


SGAN, BASE = budget_figures.SERIES[0][1], budget_figures.SERIES[1][1]


def test_chart_is_log_x_with_bands_gap_and_highlight():
    summary = summarize([_cell(1, 0.5, 0.3), _cell(1, 0.7, 0.3, seed=1),
                         _cell(10, 0.9, 0.8)])
    spec = budget_figures.study_spec(summary, highlight=10)
    x = spec["encoding"]["x"]
    assert x["scale"]["type"] == "log" and x["axis"]["values"] == [1, 10]
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"
    assert isinstance(spec["padding"], dict)  # Streamlit 1.67's chart fails on a number
    # mean line, points and band read the same rows: one per label count and series
    lines = by_series(layer_rows(spec, "line"))
    assert lines == {SGAN: {1: (0.6, 0.5, 0.7, 2), 10: (0.9, 0.9, 0.9, 1)},
                     BASE: {1: (0.3, 0.3, 0.3, 2), 10: (0.8, 0.8, 0.8, 1)}}
    assert by_series(layer_rows(spec, "area")) == lines == by_series(
        layer_rows(spec, "point", "mean")[:4])
    band = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "area")
    assert band["encoding"]["y"]["field"] == "low" and band["encoding"]["y2"]["field"] == "high"
    # the gap: a segment from baseline to SGAN and its words, at each count
    segments = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"
                and "y" in layer["encoding"]]
    assert [(r["labels"], r["baseline"], r["sgan"]) for r in segments[0]["data"]["values"]] \
        == [(1, 0.3, 0.6), (10, 0.8, 0.9)]
    assert [r["text"] for r in layer_rows(spec, "text")] == ["+30 pts", "+10 pts"] * 2  # halo
    # the slider: a line across the chart at 10 and a ring on each curve there
    slider = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"
              and "y" not in layer["encoding"]]
    assert slider[0]["data"]["values"] == [{"labels": 10, "series": budget_figures.SLIDER}]
    rings = next(layer for layer in spec["layer"] if layer["mark"].get("filled") is False)
    assert [(r["series"], r["labels"], r["mean"]) for r in rings["data"]["values"]] == [
        (SGAN, 10, 0.9), (BASE, 10, 0.8)]


def test_slider_count_off_the_study_gets_its_own_tick_and_no_ring():
    summary = summarize([_cell(1, 0.5, 0.3), _cell(10, 0.9, 0.8)])
    spec = budget_figures.study_spec(summary, highlight=5)
    assert spec["encoding"]["x"]["axis"]["values"] == [1, 5, 10]
    rings = next(layer for layer in spec["layer"] if layer["mark"].get("filled") is False)
    assert rings["data"]["values"] == []


def test_a_diverged_series_is_left_out_not_drawn_as_zero():
    row = {**_cell(5, 0.5, 0.3), "test_accuracy": None}
    spec = budget_figures.study_spec(summarize([_cell(1, 0.5, 0.3), row]), highlight=None)
    assert by_series(layer_rows(spec, "line"))[SGAN] == {1: (0.5, 0.5, 0.5, 1)}
    assert [r["labels"] for r in layer_rows(spec, "text")] == [1, 1]


def test_chart_of_an_empty_study_draws_axes_only():
    spec = budget_figures.study_spec([], highlight=None)
    assert spec["encoding"]["x"]["scale"]["type"] == "log"
    assert not any(layer["data"]["values"] for layer in spec["layer"])


def test_the_page_draws_the_study_s_figures_and_marks_the_slider(page_env):
    """What the browser gets: the chart's spec as the page sent it (Vega-Lite, not
    plotly), with the study's numbers, the table's figures and the live slider's count."""
    folder = page_env / "20200101-000000-mnist-abcd"
    (folder / "cells").mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps(
        {"labels_per_class": [1, 5], "seeds": [0, 1], "base_config": {"dataset": "mnist"}}))
    for labels, seed, sgan, base in ((1, 0, 0.5, 0.25), (1, 1, 0.7, 0.35), (5, 0, 0.8, 0.6),
                                     (5, 1, 0.9, 0.7)):
        (folder / "cells" / f"labels{labels:05d}_seed{seed}.json").write_text(
            json.dumps(_cell(labels, sgan, base, seed=seed)))
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.select_slider(key="w_labels").set_value(5).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.get("plotly_chart")
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert by_series(layer_rows(spec, "line")) == {
        SGAN: {1: (0.6, 0.5, 0.7, 2), 5: (0.85, 0.8, 0.9, 2)},
        BASE: {1: (0.3, 0.25, 0.35, 2), 5: (0.65, 0.6, 0.7, 2)}}
    slider = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"
                  and "y" not in layer["encoding"])
    assert slider["data"]["values"][0]["labels"] == 5
    assert [r["text"] for r in layer_rows(spec, "text")][:2] == ["+30 pts", "+20 pts"]
    table = at.dataframe[0].value
    assert list(table["SGAN"]) == pytest.approx([60.0, 85.0])
    assert list(table["gap, pts"]) == pytest.approx([30.0, 20.0])


def test_a_tab_that_opens_on_this_page_marks_the_slider_s_default(page_env):
    folder = page_env / "20200101-000000-mnist-abcd"
    (folder / "cells").mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps(
        {"labels_per_class": [1], "seeds": [0], "base_config": {"dataset": "mnist"}}))
    (folder / "cells" / "labels00001_seed0.json").write_text(json.dumps(_cell(1, 0.6, 0.4)))
    # the page's own script, as a tab opened on /label-budget runs it: no live sidebar yet
    at = AppTest.from_file(str(ROOT / "dashboard" / PAGE), default_timeout=30).run()
    assert not at.exception
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    slider = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"
                  and "y" not in layer["encoding"])
    default = controls.default_config().labels_per_class
    assert slider["data"]["values"][0]["labels"] == default
    assert at.selectbox(key="wb_live_labels").value == 1  # the only count the study has


def test_an_offline_page_study_may_fall_back_to_the_bundled_subset(tmp_path):
    """The CLI turns the fallback off for an explicit --data-dir; the page's studies say
    what the page's config says, so an offline classroom can run one."""
    for fallback in (True, False):
        base = TrainConfig(data_dir=str(tmp_path), bundled_fallback=fallback, max_steps=3)
        command = studies.study_command(StudySpec(base, (1,), (0,)), tmp_path)
        at = command.index("--bundled-fallback")
        assert command[at + 1] == str(fallback).lower()


def test_oversized_or_malformed_study_files_are_skipped(tmp_path):
    from sgan_core.studies import results as study_results

    folder = tmp_path / "s"
    (folder / "cells").mkdir(parents=True)
    (folder / "study.json").write_text(" " * (studies.MAX_JSON_BYTES + 1))
    (folder / "cells" / "labels00001_seed0.json").write_text(json.dumps(_cell(1, 0.5, 0.3)))
    (folder / "cells" / "labels00002_seed0.json").write_text(json.dumps(["not", "a", "cell"]))
    (folder / "cells" / "labels00005_seed0.json").write_text(
        json.dumps({**_cell(5, 0.5, 0.3), "pad": "x" * study_results.MAX_CELL_BYTES}))
    study = studies.read_study(folder)
    assert study.record == {} and [row["labels_per_class"] for row in study.rows] == [1]


def test_gap_words_keep_a_decimal_only_below_ten_points():
    assert [budget_figures.gap_words(p) for p in (22.44, 9.94, 3.06, 0.0, -1.25, -12.6)] == [
        "+22 pts", "+9.9 pts", "+3.1 pts", "+0.0 pts", "-1.2 pts", "-13 pts"]


def test_a_study_in_the_list_says_what_it_sweeps_in_few_words():
    assert studies.sweep_words([100, 1, 2, 5, 10, 20, 50], 3, 10000) == (
        "labels/class 1-100 (7 counts); 3 seeds; 10,000 steps")
    assert studies.sweep_words([1, 10], 1, None) == "labels/class 1, 10; 1 seed; timed"
    assert studies.sweep_words([], 0, 500) == "labels/class ?; 0 seeds; 500 steps"
