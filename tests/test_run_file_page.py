"""Save, open and share runs on the page (AppTest): a downloaded run opens again with the
same figures, every bad file is refused in words and changes nothing, the demo opens
in one click, and ?run=&moment= links reopen the same moment."""
from __future__ import annotations

import json
import pickle

import pytest

from dashboard.sidebar import run_files as runfiles
from sgan_core.storage.recorded_run import DEMO_FILE
from tests import fakes
from tests import test_run_file as files
from tests.test_app import fake_engine, new_page, server, the_run  # noqa: F401 (fixtures)
from tests.test_timeline_page import captions, started_page_with_timeline


def chart_data(at) -> dict:
    """Every chart's data by its key, but the feature map's (the tests' stand-in for
    the map service works on the raw features, which a run file keeps at float16)."""
    return {chart.key: json.loads(chart.proto.spec)["data"]
            for chart in at.get("plotly_chart") if chart.key != "embedding_chart"}


def shown(at) -> tuple:
    """(metrics, charts, captions); the data source's line aside: a run file does not
    keep it (it spoke of the recording machine's folders)."""
    metrics = [(m.label, m.value) for m in at.metric]
    kept = [c for c in captions(at).split(" | ") if not c.startswith(":material/info: Training on")]
    return metrics, chart_data(at), " | ".join(kept)


def share_link(at) -> str:
    """The link the sidebar shows (relative in AppTest, which has no browser URL)."""
    links = [block.value for block in at.code if "moment=" in block.value or "?" in block.value]
    assert len(links) == 1, links
    return links[0]


def open_file(at, data: bytes, name: str = "lesson.sganrun"):
    at.file_uploader(key=runfiles.UPLOAD_KEY).set_value((name, data, "application/zip"))
    return at.run()


def test_download_then_open_shows_the_same_run(fake_engine):
    at = started_page_with_timeline()
    the_run(at).pause()  # a run at rest: nothing moves between the two looks
    at.run()
    assert at.get("download_button"), "no Download this run button"
    data = runfiles.export_bytes(the_run(at))  # what the button hands the browser
    at.select_slider(key="w_timeline").set_value(1).run()
    before_past = shown(at)
    at.button(key="timeline_live").click().run()
    before_live = shown(at)

    page = open_file(new_page(), data)
    assert not page.exception
    assert runfiles.is_recorded(the_run(page))
    assert any("Recorded run" in info.value for info in page.info)
    live_metrics, live_charts, _ = shown(page)
    assert len(live_metrics) >= 4 and len(live_charts) >= 3
    assert live_metrics == before_live[0] and live_charts == before_live[1]
    page.select_slider(key="w_timeline").set_value(1).run()
    assert shown(page) == before_past
    assert page.query_params["moment"] == "10"  # the URL names the moment shown


@pytest.mark.parametrize("case", sorted(files.BAD_FILES))
def test_bad_files_are_refused_and_change_nothing(fake_engine, case):
    at = new_page()
    at.button(key="b_start").click().run()
    run_id = at.query_params["run"]
    make, _ = files.BAD_FILES[case]
    at = open_file(at, make(files.file_bytes(2)), "bad.sganrun")
    assert not at.exception
    assert any("Could not open it" in error.value and "bad.sganrun" in error.value
               for error in at.error), [e.value for e in at.error]
    assert at.query_params["run"] == run_id and not runfiles.is_recorded(the_run(at))
    at.run()  # the refusal stays said while the file sits in the box, opened once
    assert any("Could not open it" in error.value for error in at.error)


def test_a_pickle_on_a_fresh_page_leaves_it_empty(fake_engine):
    at = open_file(new_page(), pickle.dumps(files.Payload()), "evil.sganrun")
    assert any("never opens pickles" in error.value for error in at.error)
    assert "run" not in at.query_params


@pytest.mark.skipif(not DEMO_FILE.is_file(), reason="no demo recording shipped")
def test_demo_opens_in_one_click_and_a_live_run_can_follow(fake_engine):
    at = new_page()
    at.button(key="demo_intro").click().run()
    assert not at.exception
    assert at.query_params["demo"] == "1" and runfiles.is_demo(the_run(at))
    assert any("Recorded run" in info.value for info in at.info)
    slider = at.select_slider(key="w_timeline")
    assert len(slider.options) >= 3 and slider.value == "live"
    assert at.get("plotly_chart") and at.metric
    assert at.button(key="b_start").disabled is False  # the live run can follow
    at.button(key="b_start").click().run()
    assert not runfiles.is_recorded(the_run(at)) and "demo" not in at.query_params


def test_start_after_the_demo_trains_on_the_sidebar_s_own_settings(fake_engine):
    """The demo's settings (its data folder, seed 9, 20,000 steps) never reach the
    sidebar: Start then trains a fresh run on the defaults and this server's data."""
    fresh = new_page()
    fresh.button(key="b_start").click().run()
    default = the_run(fresh).config  # what Start trains on a page that saw no demo
    at = new_page()
    at.button(key="demo_intro").click().run()
    recorded = the_run(at).config
    assert (recorded.seed, recorded.max_steps) != (default.seed, default.max_steps)
    assert not [w.value for w in at.sidebar.warning]  # no "Changed: ..." against the demo
    at.button(key="b_start").click().run()
    started = the_run(at).config
    assert not at.exception and not runfiles.is_recorded(the_run(at))
    for name in ("data_dir", "seed", "max_steps", "time_budget_s", "labels_per_class",
                 "d_lr", "g_lr"):
        assert getattr(started, name) == getattr(default, name), name


@pytest.mark.skipif(not DEMO_FILE.is_file(), reason="no demo recording shipped")
def test_the_demo_banner_says_which_test_images_its_figures_are_on(fake_engine):
    at = new_page(demo="1")
    banner = next(info.value for info in at.info if "Recorded run" in info.value)
    assert f"{the_run(at).config.eval_test_subset:,} test images" in banner
    assert "whole test set" in banner


def test_the_download_names_the_step_only_of_a_run_at_rest():
    running = fakes.FakeRun(fakes.TrainConfig(download=False))
    running._snapshot = fakes.make_snapshot(status="running", step=2797)
    assert runfiles.download_name(running) == "sgan-mnist-10x.sganrun"
    running._snapshot = fakes.make_snapshot(status="paused", step=2898)
    assert runfiles.download_name(running) == "sgan-mnist-10x-step2898.sganrun"


@pytest.mark.skipif(not DEMO_FILE.is_file(), reason="no demo recording shipped")
def test_demo_link_opens_it_at_the_moment(fake_engine):
    at = new_page(demo="1")
    moments = the_run(at).timeline().moments()
    step = moments[2].step
    at = new_page(demo="1", moment=str(step + 1))  # the nearest kept moment
    assert at.select_slider(key="w_timeline").value == moments[2].evaluation_version
    assert f"Showing the run at step {step:,}" in captions(at)
    assert share_link(at) == f"?demo=1&moment={step}"  # works after a server restart too


def test_share_link_reopens_the_run_at_its_moment(fake_engine):
    at = started_page_with_timeline()
    at.select_slider(key="w_timeline").set_value(2).run()
    assert share_link(at) == f"?run={at.query_params['run']}&moment=20"
    other_tab = new_page(run=at.query_params["run"], moment="20")
    other_tab.run()  # the run's timeline (the test's stand-in) is set on the run object
    assert other_tab.select_slider(key="w_timeline").value == 2
    assert "Showing the run at step 20" in captions(other_tab)
    other_tab.button(key="timeline_live").click().run()
    assert "moment" not in other_tab.query_params


def test_charts_download_as_png(fake_engine):
    at = started_page_with_timeline()
    configs = [json.loads(chart.proto.config) for chart in at.get("plotly_chart")]
    assert configs and all(c["toImageButtonOptions"]["format"] == "png" for c in configs)
    names = {c["toImageButtonOptions"]["filename"] for c in configs}
    assert {"sgan-confusion", "sgan-curves"} <= names


def test_page_download_keeps_what_fits_the_budget(monkeypatch):
    """The page's download keeps every moment that fits (all 120 of an MNIST run) and
    fewer, evenly spread, when a moment is large, so the page can open it again."""
    from sgan_core.storage.run_file import read_run_file

    timeline = files.recorded_timeline(12)
    run = type("Run", (), {"timeline": lambda self: timeline,
                           "snapshot": lambda self: fakes.make_snapshot(step=120, version=12),
                           "discriminator_weights": lambda self: None})()
    assert runfiles.page_moments(run) == 120  # the fakes' moments are small
    newest = timeline.moments()[-1]
    per_moment = newest.nbytes() - newest.cells.real_images.nbytes
    monkeypatch.setattr(runfiles, "EXPORT_BUDGET_BYTES", 5 * per_moment)
    assert runfiles.page_moments(run) == 5
    record = read_run_file(runfiles.export_bytes(run))
    assert [m.evaluation_version for m in record.moments] == [1, 4, 7, 9, 12]
