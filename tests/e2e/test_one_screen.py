"""End-to-end: the lesson fits one projector screen, measured in Chromium.

Presenter view at 1280x720 and at 1920x1080: the control strip, the key numbers and the
Lesson tab's three pictures (samples, confusion matrix, accuracy) lie wholly inside the
viewport with nothing to scroll, the numbers are at least 48 px and the charts' words
at least 16 px; Start, Pause and Next step in the strip drive the run. The ordinary
page at 1280x720 shows the numbers and the sample grid on its first screen.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from testkit.browser import wait_idle
from tests.e2e.readable import cut_short
from tests.e2e.scenario import in_a_tab
from tests.e2e.test_browser import (FIRST_SNAPSHOT_TIMEOUT_MS, RUN_IN_URL, chart, no_exceptions,
                                    run_state, shoot, sidebar_button, step_count, wait_until)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROJECTORS = ((1280, 720), (1920, 1080))
MIN_NUMBER_PX = 48  # the key numbers, from the back of a room
MIN_CHART_TEXT_PX = 16
CHART_TEXT = ".xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext, " \
             ".annotation-text, text.textpoint"  # textpoint: the heatmap's counts


def test_presenter_view_is_the_lesson_on_one_screen(browser, dashboard_server,
                                                    artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "one_screen", _presenter,
             width=PROJECTORS[0][0], height=PROJECTORS[0][1])


def test_the_ordinary_page_s_first_screen_has_a_picture(browser, dashboard_server,
                                                        artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "first_screen", _first_screen,
             width=1280, height=720)


def _presenter(page, server, shots: Path, expect) -> None:
    page.goto(f"{server.url}/?present=1")
    wait_idle(page, 30_000)
    strip = page.locator(".st-key-present_strip")
    strip.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url(RUN_IN_URL, timeout=30_000)
    pictures = {"samples": page.locator(".st-key-present_samples img").first,
                "confusion": chart(page, "confusion_chart"),
                "accuracy": chart(page, "accuracy_chart")}
    for picture in pictures.values():
        expect(picture).to_be_visible(timeout=FIRST_SNAPSHOT_TIMEOUT_MS)
    strip.get_by_role("button", name="Pause", exact=True).click()
    wait_until(lambda: run_state(page) == "paused", 20, "the state 'paused'")
    wait_idle(page, 30_000)
    expect(strip.get_by_role("button", name="Resume", exact=True)).to_be_enabled()
    before = step_count(page)
    strip.get_by_role("button", name="Next step", exact=True).click()
    wait_until(lambda: step_count(page) == before + 1, 30, "Next step's one step")
    wait_idle(page, 30_000)
    page.mouse.move(0, 0)  # no tooltip of the last button pressed over the screen
    for width, height in PROJECTORS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1500)  # plotly redraws charts at the new width
        on_screen = {"strip": strip, "numbers": page.locator(".sgan-headline").first,
                     **pictures}
        for name, element in on_screen.items():
            _inside_viewport(element, width, height, f"{name} at {width}x{height}")
        assert not _scrolls(page), f"the presenter view scrolls at {width}x{height}"
        assert not cut_short(strip), f"strip labels cut short: {cut_short(strip)}"
        shoot(page, shots, f"one_screen_{width}x{height}")
    numbers = page.locator(".sgan-big")
    assert numbers.count() == 4
    assert min(_font_px(numbers.nth(i)) for i in range(4)) >= MIN_NUMBER_PX
    for key in ("confusion_chart", "accuracy_chart"):
        sizes = chart(page, key).locator(CHART_TEXT).evaluate_all(
            "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))")
        assert sizes and min(sizes) >= MIN_CHART_TEXT_PX, f"{key}: text of {min(sizes)} px"
    no_exceptions(page)
    strip.get_by_role("button", name="Stop", exact=True).click()


def _first_screen(page, server, shots: Path, expect) -> None:
    page.goto(server.url)
    wait_idle(page, 30_000)
    sidebar_button(page, "Start").click()
    page.wait_for_url(RUN_IN_URL, timeout=30_000)
    grid = page.locator(".st-key-pair_top [data-testid='stImage'] img").first
    expect(grid).to_be_visible(timeout=FIRST_SNAPSHOT_TIMEOUT_MS)
    sidebar_button(page, "Pause").click()
    wait_until(lambda: run_state(page) == "paused", 20, "the state 'paused'")
    wait_idle(page, 30_000)
    numbers = page.locator("[data-testid='stMetric']").filter(has_text="SGAN accuracy")
    _inside_viewport(numbers.first, 1280, 720, "the SGAN accuracy")
    _inside_viewport(grid, 1280, 720, "the sample grid")
    shoot(page, shots, "first_screen_1280x720")
    sidebar_button(page, "Stop").click()


def _inside_viewport(element, width: int, height: int, what: str) -> None:
    box = element.bounding_box()
    assert box is not None, f"{what} is not drawn"
    assert box["x"] >= 0 and box["y"] >= 0, f"{what} starts off screen: {box}"
    assert box["x"] + box["width"] <= width + 0.5, f"{what} is cut at the right: {box}"
    assert box["y"] + box["height"] <= height + 0.5, f"{what} is below the fold: {box}"


def _scrolls(page) -> bool:
    """Streamlit scrolls its main area, not the document: is there more to scroll?"""
    return page.locator("[data-testid='stMain']").evaluate(
        "main => main.scrollHeight > main.clientHeight + 2")


def _font_px(element) -> float:
    return element.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")


def test_the_recorded_demo_in_the_presenter_view_fits_one_screen(browser, dashboard_server,
                                                                 artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "one_screen_demo", _demo,
             width=PROJECTORS[0][0], height=PROJECTORS[0][1])


def _demo(page, server, shots: Path, expect) -> None:
    """The classroom's first picture: the demo opened straight into the presenter view."""
    page.goto(f"{server.url}/?demo=1&present=1")
    wait_idle(page)
    pictures = {"samples": page.locator(".st-key-present_samples img").first,
                "confusion": chart(page, "confusion_chart"),
                "accuracy": chart(page, "accuracy_chart"),
                "numbers": page.locator(".sgan-headline").first}
    for name, picture in pictures.items():
        expect(picture).to_be_visible()
        _inside_viewport(picture, *PROJECTORS[0], f"the demo's {name}")
    assert not _scrolls(page), "the demo in the presenter view scrolls"
    shoot(page, shots, "one_screen_demo")
