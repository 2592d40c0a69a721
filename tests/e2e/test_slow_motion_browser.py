"""End-to-end: slow motion in Chromium. The switch pauses the run; each Next step moves
the run by exactly one step and shows that step's batches, loss terms and changes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.scenario import in_a_tab, start_and_pause
from tests.e2e.test_browser import no_exceptions, shoot, sidebar_button, step_count

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_next_step_walks_the_run_one_step_at_a_time(browser, dashboard_server,
                                                    artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "slow_motion", _two_steps, height=3000)


def _two_steps(page, server, shots: Path, expect) -> None:
    start_and_pause(page, server, expect)
    page.get_by_text("Slow motion: one training step at a time").click()  # the switch
    expect(page.get_by_text(re.compile("^Press Next step"))).to_be_visible()
    for _ in range(2):
        before = step_count(page)
        page.get_by_role("button", name="Next step", exact=True).click()
        title = f"Step {before + 1:,}: (1) D's update, then (2) G's update"
        expect(page.get_by_text(title)).to_be_visible()
        assert step_count(page) == before + 1
    expect(page.get_by_text("What each update changed", exact=True)).to_be_visible()
    no_exceptions(page)
    shoot(page, shots, "slow_motion")
    sidebar_button(page, "Stop").click()
