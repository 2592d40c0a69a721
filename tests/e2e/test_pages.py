"""End-to-end: the Label budget and Compare runs pages in headless Chromium.

Label budget: a tiny steps-based study (2 label counts, 1 seed, 3 steps a cell) started
with the page's own inputs; its points appear on the chart (Vega-Lite, drawn as SVG),
and the page never fetches plotly.js. Compare runs: two live runs
started side by side (1 and 10 labels per class), both drawn: table, accuracy overlay,
a sample grid and a confusion matrix each. The pages get their own server, with studies
and runs in a temporary folder and the cap of two runs to themselves.
"""
from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Iterator

import pytest

from testkit.browser import DashboardServer, type_into, wait_idle
from tests.e2e.readable import (CHART_TEXTS, HEATMAP_TEXTS, cut_short, overlapping_texts,
                                settled_overlapping_texts, shown_scale)
from tests.e2e.conftest import open_tab, running_server
from tests.e2e.test_browser import FIRST_SNAPSHOT_TIMEOUT_MS, shoot, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
STUDY_TIMEOUT_S = 180  # two cells of 3 steps each, worker start-up on 2 busy cores


@pytest.fixture(scope="module")
def pages_server(artifacts_dir: Path) -> Iterator[DashboardServer]:
    env = {"SGAN_MAX_ACTIVE_RUNS": "2", "SGAN_PREWARM_UMAP": "0"}
    with running_server(artifacts_dir / "pages-server.log", env) as server:
        yield server


@contextlib.contextmanager
def shots_on_failure(page, server: DashboardServer, folder: Path, name: str):
    """A screenshot and the server's last words when the test fails."""
    try:
        yield
    except BaseException:
        shoot(page, folder, f"pages_failure_{name}")
        print(f"--- server output (tail) ---\n{server.log_tail()}")
        raise


@pytest.fixture
def tab(browser) -> Iterator[object]:
    with open_tab(browser) as page:
        yield page


def open_page(page, server: DashboardServer, path: str, heading: str) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # plotly's script loads lazily; 2 busy cores
    page.goto(f"{server.url}/{path}")
    wait_idle(page)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def plotted(page, key: str) -> list[dict]:
    """Name and point count of each trace of the chart st.plotly_chart(key=key) drew."""
    figure = page.locator(f".st-key-{key} .js-plotly-plot").first
    # _fullData: plotly.js's decoded traces (numpy arrays arrive base64-packed in .data)
    return figure.evaluate("el => (el._fullData || []).map(t => ({name: t.name, "
                           "points: t._length || 0}))")


def study_points(page) -> dict[str, list[str]]:
    """The label counts of the points the Label budget chart drew, per series: Vega
    writes each point's tooltip fields into its SVG path's aria-label."""
    labels = page.locator(".st-key-budget_chart .vega-embed svg g.mark-symbol "
                          "path[aria-label*='mean test accuracy']").evaluate_all(
        "paths => paths.map(p => p.getAttribute('aria-label'))")
    drawn: dict[str, list[str]] = {}
    for label in labels:
        fields = dict(part.split(": ", 1) for part in label.split("; "))
        drawn.setdefault(fields["model"], []).append(fields["labels per class"])
    return drawn


# The chart's words a viewer reads: the gaps (not their white halo, which Vega leaves
# out of the accessibility tree), tick labels, axis titles, legend and chart title.
CHART_WORDS = ("text[aria-roledescription='text mark'], .role-axis-label text, "
               ".role-axis-title text, .role-legend-label text, .role-title-text text")
# Those of them drawn outside the chart's own SVG box (cut off on screen).
_OUTSIDE = """([svg, selector]) => {
  const frame = svg.getBoundingClientRect();
  return [...svg.querySelectorAll(selector)].filter(t => {
    const r = t.getBoundingClientRect();
    return r.left < frame.left - 1 || r.right > frame.right + 1
        || r.top < frame.top - 1 || r.bottom > frame.bottom + 1;
  }).map(t => t.textContent);
}"""
SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "studies" / "mnist-full"


def remove_labels(page, values: tuple[str, ...]) -> None:
    """Take label counts off the multiselect (each chip has a "Remove N" button)."""
    for value in values:
        page.locator(".st-key-wb_labels").get_by_role("button", name=f"Remove {value}",
                                                      exact=True).click()
        wait_idle(page)


def test_a_tiny_study_from_the_page_fills_the_chart(tab, pages_server, artifacts_dir):
    page = tab
    from playwright.sync_api import expect

    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    with shots_on_failure(page, pages_server, artifacts_dir, "study"):
        open_page(page, pages_server, "label-budget", "Label budget")
        remove_labels(page, ("10", "50", "100"))  # keeps 1 and 5
        type_into(page, "Seeds", "0")
        type_into(page, "Steps per cell", "3")
        expect(page.get_by_text("= 2 cells")).to_be_visible()
        page.get_by_role("button", name="Start study").click()
        expect(page.get_by_text(re.compile(r"Finished: all 2 cells"))).to_be_visible(
            timeout=STUDY_TIMEOUT_S * 1000)
        wait_until(lambda: study_points(page).get("SGAN") == ["1", "5"], 30,
                   "the study's two SGAN points on the chart")
        assert study_points(page)["baseline (labels only)"] == ["1", "5"]
        assert page.locator("[data-testid='stException']").count() == 0
        assert not [url for url in fetched if "PlotlyChart" in url]  # 4.7 MB not needed
        shoot(page, artifacts_dir, "pages_01_study_done")


def test_two_live_runs_side_by_side_on_the_compare_page(tab, pages_server, artifacts_dir):
    page = tab
    from playwright.sync_api import expect

    with shots_on_failure(page, pages_server, artifacts_dir, "compare"):
        open_page(page, pages_server, "compare", "Compare runs")
        page.get_by_role("button", name="Start both").click()
        expect(page.get_by_role("heading", name="Run A: 1 label per class")).to_be_visible(
            timeout=FIRST_SNAPSHOT_TIMEOUT_MS)  # the first Start imports torch
        expect(page.get_by_role("heading", name="Run B: 10 labels per class")).to_be_visible()
        wait_until(lambda: len([t for t in plotted(page, "compare_accuracy")
                                if t["points"] > 0]) == 4, FIRST_SNAPSHOT_TIMEOUT_MS / 1000,
                   "SGAN and baseline accuracy of both runs")
        for name in ("A", "B"):
            expect(page.locator(f".st-key-compare_confusion_{name} .js-plotly-plot")
                   ).to_be_visible()
        expect(page.get_by_text(re.compile(r"\d+ of \d+ samples rejected as fake"))
               ).to_have_count(2)
        assert page.locator("[data-testid='stException']").count() == 0
        shoot(page, artifacts_dir, "pages_02_compare_live")
        page.get_by_role("button", name="Stop the runs started here").click()
        expect(page.get_by_role("button", name="Stop the runs started here")).to_have_count(
            0, timeout=30_000)
        wait_idle(page)  # stopped: nothing redraws under the measuring
        _side_by_side_and_readable(page, expect)


def _side_by_side_and_readable(page, expect) -> None:
    """Two runs share the row at 1366 px and stack at 1024 px; either way the tiles'
    verdicts are at least 12 px tall and the matrices' counts never overlap (three
    columns would give each run 165 px at 1024 px, too narrow for both)."""
    grids = page.locator("[data-testid='stMain'] [data-testid='stImage'] img")  # the 2 grids
    # 1366 again after 1024: a legend placed from the last layout's size met an axis title
    for width, height, side_by_side in ((1366, 900, True), (1024, 768, False),
                                        (1366, 900, True)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(2000)  # plotly re-lays its charts out after a resize
        expect(grids).to_have_count(2)
        boxes = [grids.nth(i).bounding_box() for i in range(2)]
        assert (abs(boxes[0]["y"] - boxes[1]["y"]) < 40) == side_by_side, (width, boxes)
        for index in range(2):
            shown = shown_scale(grids.nth(index)) * 30  # dashboard/figures/images.py: 30 px
            assert shown >= 12, f"at {width} px run {index}'s verdicts are {shown:.1f} px"
        for name in ("A", "B"):
            plot = page.locator(f".st-key-compare_confusion_{name} .js-plotly-plot").first
            counts, overlaps = overlapping_texts(plot, HEATMAP_TEXTS)
            assert counts == 121 and not overlaps, f"{width} px, run {name}: {overlaps}"
        assert not cut_short(page.locator(".st-key-wc_loss")), f"{width} px: loss name cut"
        for key in ("compare_accuracy", "compare_loss"):  # legends, titles, ticks
            plot = page.locator(f".st-key-{key} .js-plotly-plot").first
            texts, overlaps = overlapping_texts(plot, CHART_TEXTS)
            assert texts >= 8 and not overlaps, f"{width} px, {key}: {overlaps}"


@pytest.mark.parametrize("width, height", [(1024, 768), (1366, 900)])
def test_the_shipped_study_is_drawn_readable(browser, pages_server, artifacts_dir, width,
                                             height):
    """The chart a class sees on opening the page: every count of the shipped study on
    both curves, the legend's three entries, and no words on top of each other or cut
    off at the chart's edge, at a laptop's and a projector's size."""
    from playwright.sync_api import expect

    summary = json.loads((SHIPPED / "results.json").read_text())["summary"]
    counts = [str(entry["labels_per_class"]) for entry in summary]
    with open_tab(browser) as page:
        page.set_viewport_size({"width": width, "height": height})
        with shots_on_failure(page, pages_server, artifacts_dir, f"shipped_{width}"):
            open_page(page, pages_server, "label-budget", "Label budget")
            assert not cut_short(page.locator(".st-key-wb_study")), "study list cut"
            svg = page.locator(".st-key-budget_chart .vega-embed svg").first
            expect(svg.locator(".mark-line path").first).to_be_attached()
            assert study_points(page) == {"SGAN": counts, "baseline (labels only)": counts}
            legend = svg.locator(".role-legend-label text").all_text_contents()
            assert legend == ["SGAN", "baseline (labels only)", "your slider"]
            words, overlaps = settled_overlapping_texts(svg, CHART_WORDS)
            assert words >= 2 * len(counts) + 3 and not overlaps, f"words overlap: {overlaps}"
            cut = svg.evaluate(f"el => ({_OUTSIDE})([el, {json.dumps(CHART_WORDS)}])")
            assert not cut, f"cut off at the chart's edge: {cut}"
            box = svg.bounding_box()
            assert box["x"] + box["width"] <= width  # the whole chart fits the window
            shoot(page, artifacts_dir, f"pages_03_shipped_{width}x{height}")
