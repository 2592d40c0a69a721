"""End-to-end at a projector's 1280x720: every chart's words stay readable.

Plotly's mode bar (shown while the mouse is on a chart; its camera button saves the
chart as a PNG) covers no title, axis title, legend entry, tick or count, on the live
page (the recorded demo, normal and presenter view) and on the Compare page; the
Compare page's confusion counts stay inside their cells with three runs chosen; the
Label budget table shows every column. Measured in Chromium, screenshots under
test-artifacts/e2e/.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from testkit.browser import DashboardServer, wait_idle
from tests.e2e.conftest import running_server
from tests.e2e.readable import counts_out_of_cells, words_under_modebar
from tests.e2e.test_browser import chart, no_exceptions, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VIEWPORT = {"width": 1280, "height": 720}
LIVE_CHARTS = ("confusion_chart", "embedding_chart", "p_fake_chart")
SAVED_RUNS = (1, 10, 100)  # labels per class of the Compare page's three saved runs
FULL_TEST_COUNT = 1135  # MNIST's test images of a 1: the widest count a matrix shows


@pytest.fixture(scope="module")
def charts_server(artifacts_dir: Path) -> Iterator[DashboardServer]:
    with running_server(artifacts_dir / "charts-server.log",
                        {"SGAN_PREWARM_UMAP": "0"}) as server:
        _save_runs(server.data_dir / "runs" / "page")
        yield server


def _save_runs(folder: Path) -> None:
    """Finished runs as the page keeps them, their matrices counted on a full test set
    (four-digit counts, the widest there are)."""
    from sgan_core.storage import run_folder
    from sgan_core.config import TrainConfig
    from tests import fakes

    confusion = np.full((11, 11), 7)
    np.fill_diagonal(confusion, FULL_TEST_COUNT)
    for labels in SAVED_RUNS:
        cfg = TrainConfig(download=False, labels_per_class=labels)
        snapshot = fakes.make_snapshot(cfg, status="finished", step=500,
                                       confusion=confusion)
        run_folder.write_snapshot_files(folder / f"r{labels}", snapshot)


@pytest.fixture
def tab(browser, charts_server) -> Iterator[object]:
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # plotly's script loads lazily; 2 busy cores
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    except BaseException:
        print(f"--- server output (tail) ---\n{charts_server.log_tail()}")
        raise
    finally:
        context.close()


def _compare_saved_runs(page, server: DashboardServer) -> None:
    """The Compare page with the three saved runs chosen."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/compare")
    wait_idle(page)
    for _ in SAVED_RUNS:
        page.locator(".st-key-wc_runs input").click()
        page.get_by_role("option").first.click()
        wait_idle(page)
        page.keyboard.press("Escape")
    for name in "ABC":
        expect(chart(page, f"compare_confusion_{name}")).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(1000)  # plotly lays its charts out again once they are sized


def test_compare_counts_stay_inside_their_cells(tab, charts_server, artifacts_dir):
    """Three runs at 1280 px: three to a row gave a matrix cell 14 px for a count 22 px
    wide; every count now ends inside its cell, in type still readable."""
    page = tab
    _compare_saved_runs(page, charts_server)
    for name in "ABC":
        plot = chart(page, f"compare_confusion_{name}")
        plot.scroll_into_view_if_needed()
        counts, out = counts_out_of_cells(plot)
        assert counts == 121 and not out, f"run {name}: counts out of their cells: {out}"
        font = plot.locator(".heatmaplayer text").first.evaluate(
            "t => parseFloat(getComputedStyle(t).fontSize)")
        assert font >= 9, f"run {name}: counts drawn at {font} px"
    shoot(page, artifacts_dir, "charts_compare_1280")


def test_the_label_budget_table_shows_every_column(tab, charts_server, artifacts_dir):
    """The shipped study's table beside its chart: its columns (drawn on a canvas)
    end inside the table's box, so the last one, the gap, is in sight."""
    page = tab
    from playwright.sync_api import expect

    page.goto(f"{charts_server.url}/label-budget")
    wait_idle(page)
    table = page.locator("[data-testid='stDataFrame']").first
    headers = table.locator("th")  # the grid's table for screen readers
    expect(headers).to_have_count(5)
    assert headers.nth(4).text_content().startswith("gap")
    scroller = table.locator(".dvn-scroller").first
    page.wait_for_timeout(1000)  # the grid sizes its columns once drawn
    columns_px, shown_px = scroller.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert columns_px <= shown_px + 1, (
        f"the columns take {columns_px} px in a table {shown_px} px wide: the last is cut")
    box = table.bounding_box()
    assert box["x"] + box["width"] <= VIEWPORT["width"], f"the table leaves the window: {box}"
    shoot(page, artifacts_dir, "charts_budget_1280")


# --- Plotly's mode bar --------------------------------------------------------------

def _uncovered(plot, where: str) -> None:
    """The chart's mode bar, once shown, covers none of its words and its camera button
    is on screen."""
    found = words_under_modebar(plot)
    assert found["count"] >= 3, f"{where}: only {found['count']} texts found"
    assert found["camera"], f"{where}: the camera button is not on screen"
    assert not found["under"], f"{where}: the mode bar {found['bar']} covers {found['under']}"


@pytest.mark.parametrize("view", ["normal", "presenter"])
def test_the_mode_bar_covers_no_words_of_the_live_charts(tab, charts_server, artifacts_dir,
                                                         view):
    """The recorded demo: every chart of the page, those of each presenter-view tab
    too (the view shows one tab at a time)."""
    page = tab
    from playwright.sync_api import expect

    present = "&present=1" if view == "presenter" else ""
    page.goto(f"{charts_server.url}/?demo=1{present}")
    for key in LIVE_CHARTS:  # drawn, if in a tab not shown
        expect(page.locator(f".st-key-{key} .js-plotly-plot").first).to_be_attached()
    wait_idle(page)
    tabs = page.locator("[data-testid='stMain'] [role='tab']")
    measured = set(_charts_uncovered(page, view, artifacts_dir))
    for index in range(tabs.count()):
        tabs.nth(index).click()
        page.wait_for_timeout(1000)  # plotly sizes a chart when its tab shows
        measured |= set(_charts_uncovered(page, view, artifacts_dir))
    assert set(LIVE_CHARTS) <= measured, measured
    assert measured & {"curves_chart", "accuracy_chart"}, measured
    no_exceptions(page)


def _charts_uncovered(page, view: str, shots: Path) -> list[str]:
    """Check each plotly chart on screen (`_uncovered`); their keys."""
    keys = []
    plots = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    for index in range(plots.count()):
        plot = plots.nth(index)
        if not plot.is_visible():
            continue
        key = plot.evaluate("el => el.closest('[class*=\"st-key-\"]').className"
                            ".match(/st-key-(\\S+)/)[1]")
        plot.hover()
        plot.screenshot(path=str(shots / f"charts_{view}_{key}.png"))
        _uncovered(plot, f"{view} view, {key}")
        keys.append(key)
    return keys


def test_the_mode_bar_covers_no_words_of_the_compare_charts(tab, charts_server,
                                                            artifacts_dir):
    page = tab
    _compare_saved_runs(page, charts_server)
    keys = ["compare_accuracy", "compare_loss", *(f"compare_confusion_{n}" for n in "ABC")]
    for key in keys:
        chart(page, key).hover()
        chart(page, key).screenshot(path=str(artifacts_dir / f"charts_{key}.png"))
        _uncovered(chart(page, key), key)
    no_exceptions(page)
