"""The Compare runs page: runs from the runs folder (kept across a server restart) and
this tab's live runs, 2 to 6 of them overlaid and side by side; two live runs started
from the page; bad folders and a full server are messages."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.figures import compare as compare_figures
from dashboard.views.compare import page as compare_page, start as compare_start
from dashboard.sidebar import settings as controls
from dashboard import server, state
from sgan_core.storage import run_folder
from sgan_core.config import TrainConfig
from sgan_core.storage.recorded_run import DEMO_FILE, RecordedRun, open_demo
from tests import fakes
from tests.first_paint import heavy_modules_after_paint
from tests.tiny_config import tiny_cfg

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGE = "views/compare/compare_runs.py"


@pytest.fixture
def compare_env(monkeypatch, runs_folder, idx_dataset):
    """A fresh server with fake live runs, a tiny default config, an empty runs folder."""
    st.cache_resource.clear()
    monkeypatch.setenv("SGAN_PREWARM_UMAP", "0")
    monkeypatch.setattr(server, "new_registry", fakes.new_fake_registry)
    monkeypatch.setattr(server, "new_embedding_service", fakes.FakeEmbeddingService)
    tiny = tiny_cfg(idx_dataset(), eval_every_s=30.0)
    monkeypatch.setattr(controls, "default_config", lambda: tiny)
    yield runs_folder
    server.shutdown_all()


def saved_run(root: Path, name: str, labels: int, accuracy: float) -> str:
    """A run folder as the page's recorder writes it; returns its option key."""
    cfg = TrainConfig(download=False, labels_per_class=labels)
    snapshot = fakes.make_snapshot(cfg, status="finished", step=500, test_accuracy=accuracy)
    run_folder.write_snapshot_files(root / "page" / name, snapshot)
    return compare_page.DISK + f"page/{name}"


def listed(at: AppTest) -> list[str]:
    """The runs the picker offers, by folder name (its options are the labels)."""
    return [label.split(":")[0] for label in at.multiselect(key="wc_runs").options]


def compare_page_at() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    return at.switch_page(PAGE).run()


def test_two_saved_runs_are_overlaid_and_drawn_side_by_side(compare_env):
    one = saved_run(compare_env, "r1", labels=1, accuracy=0.4)
    ten = saved_run(compare_env, "r10", labels=10, accuracy=0.9)
    at = compare_page_at()
    assert not at.exception
    assert sorted(listed(at)) == ["page/r1", "page/r10"]
    assert "Pick 2 to 6 runs" in at.info[-1].value
    at.multiselect(key="wc_runs").set_value([one, ten]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["labels/class"]) == [1, 10] and list(table["SGAN"]) == [0.4, 0.9]
    # the figures first (at 1024 px the rest scrolls out of sight); the gap in points
    assert list(table.columns)[:6] == ["run", "labels/class", "SGAN", "baseline",
                                       "gap (pts)", "fakes caught"]
    assert list(table["gap (pts)"]) == pytest.approx([-20.0, 30.0])  # baseline 60%
    charts = {chart.proto.id: chart for chart in at.get("plotly_chart")}
    assert len(charts) == 4  # accuracy, loss, and one confusion matrix per run
    assert [s.value for s in at.subheader] == ["Run A: 1 label per class",
                                               "Run B: 10 labels per class"]
    assert len(at.get("image")) == 2  # the two sample grids


def _block(node, key: str):
    """The block st.container(key=key) made, anywhere under `node` (None: not drawn)."""
    if getattr(node, "key", None) == key:
        return node
    for child in getattr(node, "children", {}).values():
        found = _block(child, key)
        if found is not None:
            return found
    return None


def _row(at: AppTest, first: int) -> list[list[str]]:
    """The subheaders of each column of the side-by-side row starting at run `first`."""
    row = _block(at.main, f"pair_compare_{first}")
    assert row is not None, f"no side-by-side row for run {first}"
    return [[s.value for s in column.subheader] for column in row.columns]


def test_runs_fill_their_rows_with_no_empty_column(compare_env):
    """Two runs in three columns got 165 px each at 1024 px (counts overlapped), three
    runs in a row 240 px each at 1280 px (counts spilled out of their cells); rows hold
    at most two runs, as many columns as runs, in a row that stacks when narrow
    (tests/e2e/test_pages.py and test_readable_charts.py measure it in Chromium)."""
    keys = [saved_run(compare_env, f"r{i}", labels=i, accuracy=0.5) for i in (1, 2, 3, 5, 7)]
    at = compare_page_at()
    at.multiselect(key="wc_runs").set_value(keys[:2]).run()
    assert _row(at, 0) == [["Run A: 1 label per class"], ["Run B: 2 labels per class"]]
    at.multiselect(key="wc_runs").set_value(keys).run()
    assert _row(at, 2) == [["Run C: 3 labels per class"], ["Run D: 5 labels per class"]]
    assert _row(at, 4) == [["Run E: 7 labels per class"]]


def test_saved_runs_are_listed_after_a_server_restart(compare_env):
    keys = [saved_run(compare_env, f"r{i}", labels=i, accuracy=0.5) for i in (1, 2)]
    compare_page_at()
    st.cache_resource.clear()  # the server's memory is gone; the runs folder is not
    at = compare_page_at()
    assert sorted(listed(at)) == [key[len(compare_page.DISK):] for key in keys]


def test_start_two_live_runs_and_watch_them_side_by_side(compare_env):
    at = compare_page_at()
    at.selectbox(key="wc_labels_a").set_value(1)
    at.selectbox(key="wc_labels_b").set_value(10)
    at.button(key="b_compare_start").click().run()
    assert not at.exception
    chosen = at.multiselect(key="wc_runs").value
    assert len(chosen) == 2 and all(key.startswith(compare_page.LIVE) for key in chosen)
    table = at.dataframe[0].value
    assert list(table["labels/class"]) == [1, 10] and set(table["status"]) == {"running"}
    runs = [server.registry().get(key[len(compare_page.LIVE):]) for key in chosen]
    assert [run.config.labels_per_class for run in runs] == [1, 10]
    at.button(key="b_compare_stop").click().run()
    assert all(run.snapshot().run_status == "stopped" for run in runs)


def test_a_full_server_starts_what_fits_and_says_so(compare_env, monkeypatch):
    monkeypatch.setenv("SGAN_MAX_ACTIVE_RUNS", "1")
    at = compare_page_at()
    at.button(key="b_compare_start").click().run()
    assert not at.exception
    assert "1 of the 2 runs started" in at.warning[0].value
    assert len(server.registry()) == 1


def test_an_unreadable_folder_is_listed_as_a_problem(compare_env):
    good = saved_run(compare_env, "good", labels=5, accuracy=0.7)
    broken = compare_env / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    at = compare_page_at()
    assert not at.exception
    assert listed(at) == [good[len(compare_page.DISK):]]
    assert "could not be read" in at.expander[-1].proto.label


def test_no_runs_says_how_to_get_some(compare_env):
    at = compare_page_at()
    assert not at.exception
    assert "No runs yet" in at.info[0].value


# --- pure figures ---------------------------------------------------------------------------

def test_overlays_give_each_run_one_colour_sgan_solid_baseline_dashed():
    runs = [("A", fakes.make_snapshot()), ("B", fakes.make_snapshot())]
    fig = compare_figures.accuracy_overlay(runs)
    assert [t.name for t in fig.data] == ["A: SGAN", "A: baseline (labels only)",
                                          "B: SGAN", "B: baseline (labels only)"]
    assert [t.line.dash for t in fig.data] == ["solid", "dash"] * 2
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert max(fig.data[0].y) <= 100.0 and max(fig.data[0].y) > 1.0  # percent
    loss = compare_figures.loss_overlay(runs, "generator_loss")
    assert [t.name for t in loss.data] == ["A", "B"]


def test_final_rows_leave_missing_figures_empty():
    snapshot = fakes.make_snapshot(test_accuracy=None, baseline_test_accuracy=None)
    row = compare_figures.final_rows([("A", snapshot)])[0]
    assert row["SGAN"] is None and row["gap (pts)"] is None and row["status"] == "running"


@pytest.mark.parametrize("page", [PAGE, "views/budget/label_budget.py"])
def test_the_study_and_compare_pages_import_no_torch(page, runs_folder):
    saved_run(runs_folder, "r1", labels=1, accuracy=0.4)  # the list reads its folder
    assert heavy_modules_after_paint(page) == []


def test_a_run_that_cannot_be_saved_says_so_on_the_live_and_compare_pages(compare_env):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.button(key="b_start").click().run()
    run = server.registry().get(at.query_params["run"])
    problem = "The disk holding /x is full: free some space. This run is not being saved."
    run.recorder = type("Recorder", (), {"problem": problem, "folder": "/x"})()
    at.run()
    assert problem in [box.value for box in at.warning]
    at.switch_page(PAGE).run()
    other = saved_run(compare_env, "r1", labels=1, accuracy=0.5)
    at.run()
    at.multiselect(key="wc_runs").set_value([compare_page.LIVE + run.run_id, other]).run()
    assert not at.exception
    assert problem in [box.value for box in at.warning]


@pytest.mark.skipif(not DEMO_FILE.is_file(), reason="no demo recording shipped")
def test_opened_recordings_are_listed_as_what_they_are_not_as_live(compare_env):
    """The recorded demo and an opened run file, shown on this tab's live page, were
    offered as "Live: 10 labels per class, seed 9"."""
    demo = open_demo()
    ids = [server.registry().add(run) for run in (demo, RecordedRun(demo.record,
                                                                    "lesson.sganrun"))]
    at = compare_page_at()
    at.session_state[compare_start.STARTED] = ids  # as if this tab had shown them
    at.run()
    assert not at.exception
    labels = at.multiselect(key="wc_runs").options
    assert len(labels) == 2 and not [label for label in labels if "Live" in label]
    assert labels[0].startswith("Recorded demo: 10 labels per class, seed 9")
    assert labels[1].startswith("Opened file lesson.sganrun: 10 labels per class")


def _start_panel(at: AppTest):
    return next(box for box in at.expander if box.label == compare_start.PANEL)


def test_start_both_while_both_train_says_why_and_keeps_the_panel_open(compare_env):
    """Pressed again while the first two trained, it started nothing and said nothing
    where it could be seen: the panel closed over its message (its `expanded` flipped
    once runs had started)."""
    at = compare_page_at()
    assert _start_panel(at).proto.expanded
    at.button(key="b_compare_start").click().run()
    runs = [info.run_id for info in server.registry().overview()]
    at.button(key="b_compare_start").click().run()
    assert not at.exception
    assert [info.run_id for info in server.registry().overview()] == runs  # none more
    said = [box.value for box in _start_panel(at).warning]
    assert said and said[0].startswith("Both runs are still training: press **Stop the runs")
    assert _start_panel(at).proto.expanded  # the same as drawn first: the browser keeps it
