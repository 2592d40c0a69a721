"""End-to-end: the real dashboard in headless Chromium, as a teacher would use it.

Start a run, watch every live panel appear and move, pause, reload the page (the run id
is in the URL) and find the same paused run, then stop it. Full-page screenshots go to
test-artifacts/e2e/ so a failure can be looked at.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

import pytest

from testkit.browser import wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RUN_IN_URL = re.compile(r"[?&]run=([^&#]+)")
FIRST_SNAPSHOT_TIMEOUT_MS = 60_000  # data load + model build + first evaluation, 2 cores


def progress_value(page, name: str) -> str:
    """The progress line's data-state or data-step (dashboard/panels/status.py)."""
    line = page.locator(".sgan-progress").first
    return (line.get_attribute(f"data-{name}") or "") if line.count() else ""


def run_state(page) -> str:
    """The run's state as the page shows it: "running", "paused", ..."""
    return progress_value(page, "state")


def step_count(page) -> int:
    return int(progress_value(page, "step") or 0)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str,
               poll_s: float = 0.25) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # an element replaced mid-read by the next refresh: try again
            pass
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def sidebar_button(page, name: str):
    return page.locator("[data-testid='stSidebar']").get_by_role("button", name=name, exact=True)


def chart(page, key: str):
    """The rendered plotly chart of st.plotly_chart(..., key=key)."""
    # .first: while a fragment redraws, the old element may linger beside the new one
    return page.locator(f".st-key-{key} [data-testid='stPlotlyChart'] .js-plotly-plot").first


def shoot(page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def no_exceptions(page) -> None:
    shown = page.locator("[data-testid='stException']")
    assert shown.count() == 0, f"the page shows an exception: {shown.first.inner_text()[:500]}"


def test_train_pause_reload_stop(page, dashboard_server, artifacts_dir: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # plotly's script loads lazily; 2 busy cores
    try:
        _scenario(page, dashboard_server, artifacts_dir, expect)
    except BaseException:
        try:
            shoot(page, artifacts_dir, "failure")
        finally:
            print(f"--- server output (tail) ---\n{dashboard_server.log_tail()}")
        raise


def _scenario(page, server, shots: Path, expect) -> None:
    # (1) first paint: the intro and an enabled Start button, no run in the URL
    page.goto(server.url)
    wait_idle(page, 30_000)
    expect(page.get_by_role("heading", name="SGAN Studio")).to_be_visible()
    expect(sidebar_button(page, "Start")).to_be_enabled()
    shoot(page, shots, "01_first_paint")

    # (2) Start: the run id lands in the URL, every live panel appears
    sidebar_button(page, "Start").click()
    page.wait_for_url(RUN_IN_URL, timeout=30_000)
    run_id = RUN_IN_URL.search(page.url).group(1)
    samples = page.locator("[data-testid='stImage'] img").first
    expect(page.get_by_text(re.compile(r"\d+ of \d+ rejected as fake"))).to_be_visible(
        timeout=FIRST_SNAPSHOT_TIMEOUT_MS)
    expect(samples).to_be_visible()
    expect(chart(page, "confusion_chart")).to_be_visible()
    # rows and columns are labelled: the (N+1)-th is the fake class
    confusion = chart(page, "confusion_chart")
    expect(confusion.locator(".ytick text", has_text=re.compile("^fake$"))).to_have_count(1)
    expect(confusion.locator(".xtick text", has_text=re.compile("^fake$"))).to_have_count(1)
    expect(chart(page, "curves_chart")).to_be_visible()
    expect(chart(page, "embedding_chart")).to_be_visible(timeout=FIRST_SNAPSHOT_TIMEOUT_MS)
    no_exceptions(page)
    shoot(page, shots, "02_training")

    # (3) it moves: the step count grows and the sample grid is redrawn
    first_step, first_src = step_count(page), samples.get_attribute("src")
    wait_until(lambda: step_count(page) > first_step, 20, "the step count to grow")
    wait_until(lambda: samples.get_attribute("src") != first_src, 20,
               "the sample grid to be redrawn from a newer snapshot")
    assert run_state(page) == "running"
    shoot(page, shots, "03_training_later")

    # (4) Pause: the state says so and the step count stands still
    sidebar_button(page, "Pause").click()
    wait_until(lambda: run_state(page) == "paused", 20, "the state 'paused'")
    expect(sidebar_button(page, "Resume")).to_be_enabled()
    paused_step = step_count(page)
    time.sleep(2.5)  # more than two refresh ticks
    assert step_count(page) == paused_step, "the step count moved while paused"
    shoot(page, shots, "04_paused")

    # (5) Reload: the URL brings back the same run, still paused, step not reset
    page.reload()
    wait_idle(page, 30_000)
    wait_until(lambda: run_state(page) == "paused", 20,
               "the reloaded page to show the paused run")
    assert RUN_IN_URL.search(page.url).group(1) == run_id, "the reload lost the run id"
    assert step_count(page) == paused_step, "the reloaded page shows another step count"
    expect(chart(page, "confusion_chart")).to_be_visible()
    expect(sidebar_button(page, "Resume")).to_be_enabled()
    no_exceptions(page)
    shoot(page, shots, "05_reloaded")

    # (6) Stop: the run ends and Start is offered again
    sidebar_button(page, "Stop").click()
    wait_until(lambda: run_state(page) == "stopped", 20, "the state 'stopped'")
    expect(sidebar_button(page, "Start")).to_be_enabled()
    no_exceptions(page)
    shoot(page, shots, "06_stopped")

    # (7) no script run raised on the server, not even one the next refresh painted over
    log = server.log_path.read_text(errors="replace")
    assert "Uncaught app execution" not in log, (
        "the server logged an exception in a script run (it flashes on the page):\n"
        + log[log.index("Uncaught app execution"):][:3000])


def test_a_paused_tab_follows_a_resume_in_another_tab(browser, dashboard_server) -> None:
    """Two tabs on one run: when one resumes it, the other, paused, shows "running"
    within 5 s (a paused tab still watches its run)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        first, second = context.new_page(), context.new_page()
        first.goto(dashboard_server.url)
        wait_idle(first, 30_000)
        sidebar_button(first, "Start").click()
        first.wait_for_url(RUN_IN_URL, timeout=30_000)
        wait_until(lambda: run_state(first) == "running", 60, "the run to start")
        sidebar_button(first, "Pause").click()
        wait_until(lambda: run_state(first) == "paused", 20, "'paused'")
        second.goto(first.url)
        wait_until(lambda: run_state(second) == "paused", 30, "the second tab")
        sidebar_button(second, "Resume").click()
        wait_until(lambda: run_state(first) == "running", 5,
                   "the first tab to show the resumed run")
        sidebar_button(first, "Stop").click()
        wait_until(lambda: run_state(first) == "stopped", 20, "'stopped'")
    finally:
        context.close()
