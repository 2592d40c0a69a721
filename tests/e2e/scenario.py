"""What the one-feature browser tests share: a tab of their own that leaves a screenshot
and the server's output behind when it fails, and a run started and paused (so the
panels stop changing under the mouse; the live D still answers)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from testkit.browser import wait_idle
from tests.e2e.test_browser import (FIRST_SNAPSHOT_TIMEOUT_MS, RUN_IN_URL, chart, run_state,
                                    shoot, sidebar_button, wait_until)


def in_a_tab(browser, server, shots: Path, name: str,
             scenario: Callable[..., None], height: int = 2000, width: int = 1366) -> None:
    """scenario(page, server, shots, expect) in a fresh tab, 1366 px wide unless told."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # plotly's script loads lazily; 2 busy cores
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        scenario(page, server, shots, expect)
    except BaseException:
        shoot(page, shots, f"{name}_failure")
        print(f"--- server output (tail) ---\n{server.log_tail()}")
        raise
    finally:
        context.close()


def start_and_pause(page, server, expect):
    """Start a run, wait for its first evaluation, pause it; returns the confusion chart."""
    page.goto(server.url)
    wait_idle(page, 30_000)
    sidebar_button(page, "Start").click()
    page.wait_for_url(RUN_IN_URL, timeout=30_000)
    confusion = chart(page, "confusion_chart")
    expect(confusion).to_be_visible(timeout=FIRST_SNAPSHOT_TIMEOUT_MS)
    sidebar_button(page, "Pause").click()
    wait_until(lambda: run_state(page) == "paused", 20, "the state 'paused'")
    wait_idle(page, 30_000)
    return confusion
