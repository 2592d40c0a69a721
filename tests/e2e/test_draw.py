"""End-to-end: a student draws a digit with the mouse in Chromium and the live
discriminator's verdict appears beside the canvas (real pointer events on the
streamlit-drawable-canvas component, no injected value). The run is paused first: the
live D still answers, and the panels above stop changing height under the pen."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.scenario import in_a_tab, start_and_pause
from tests.e2e.test_browser import chart, no_exceptions, shoot, sidebar_button

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CANVAS = ".st-key-w_draw canvas"
WHAT_D_SEES = ".st-key-draw_seen img"


def test_drawing_a_digit_gets_a_verdict(browser, dashboard_server, artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "draw", _draw_a_seven, height=2400)


def _draw_a_seven(page, server, shots: Path, expect) -> None:
    start_and_pause(page, server, expect)  # the panels above stop moving the canvas
    empty = page.get_by_text(re.compile("^Draw a digit on the black square"))
    expect(empty).to_be_visible()

    canvas = page.locator(CANVAS).last  # Fabric's top canvas takes the pointer
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    stroke(page, box, [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])  # a 7: bar, then slant
    verdict = page.get_by_text(re.compile(r"^D's verdict: (\d|fake) \(\d+%\); P\(fake\) = \d+%$"))
    expect(verdict).to_be_visible()
    just_the_seven = what_d_sees(page)
    stroke(page, box, [(0.35, 0.5), (0.65, 0.5)])  # and its cross-bar (a second stroke)
    # Wait for the picture of both strokes: Undo must then bring back a different one.
    expect(page.locator(WHAT_D_SEES)).not_to_have_attribute("src", just_the_seven)
    expect(chart(page, "draw_chart")).to_be_visible()
    expect(page.get_by_text("what D sees")).to_be_visible()
    no_exceptions(page)
    shoot(page, shots, "draw")

    seen = what_d_sees(page)
    page.get_by_role("button", name="Undo").click()  # the cross-bar goes
    expect(page.locator(WHAT_D_SEES)).not_to_have_attribute("src", seen)
    expect(verdict).to_be_visible()
    page.get_by_role("button", name="Reset canvas & history").click()
    expect(empty).to_be_visible()
    no_exceptions(page)
    sidebar_button(page, "Stop").click()


def what_d_sees(page) -> str:
    """The src of the small "what D sees" picture (a new one for every new drawing)."""
    return page.locator(WHAT_D_SEES).get_attribute("src")


def stroke(page, box: dict, points: list[tuple[float, float]]) -> None:
    """Press, move through the points (shares of the canvas) in small steps, release."""
    def at(point: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(point), steps=12)
    page.mouse.up()
