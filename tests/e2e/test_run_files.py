"""End-to-end: the recorded demo opens in one click, a share link reopens it at a moment,
and a run downloaded in Chromium opens again from the file chooser."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sgan_core.storage.recorded_run import DEMO_FILE
from testkit.browser import wait_idle
from tests.e2e.scenario import in_a_tab
from tests.e2e.test_browser import chart, no_exceptions, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not DEMO_FILE.is_file(), reason="no demo recording")]


def test_demo_share_link_download_and_open(browser, dashboard_server, artifacts_dir: Path):
    in_a_tab(browser, dashboard_server, artifacts_dir, "run_files", _round_trip, height=2400)


def _round_trip(page, server, shots: Path, expect) -> None:
    page.goto(server.url)
    wait_idle(page, 30_000)
    page.locator(".st-key-demo_intro").get_by_role("button").click()
    expect(page.get_by_text(re.compile(r"^Recorded run from demo-run\.sganrun"))).to_be_visible()
    page.wait_for_url(re.compile(r"demo=1"), timeout=30_000)
    expect(chart(page, "confusion_chart")).to_be_visible()
    no_exceptions(page)
    shoot(page, shots, "demo_opened")

    page.goto(f"{server.url}/?demo=1&moment=100")  # a share link: the nearest moment
    expect(page.get_by_text(re.compile(r"^Showing the run at step"))).to_be_visible()
    wait_idle(page, 30_000)
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download this run")).click()
    saved = shots / "downloaded.sganrun"
    download.value.save_as(saved)
    assert saved.stat().st_size > 100_000

    page.goto(server.url)  # a fresh page opens the downloaded file
    wait_idle(page, 30_000)
    uploader = page.locator(".st-key-w_run_file input[type='file']")
    uploader.set_input_files(str(saved))
    expect(page.get_by_text(re.compile(r"^Recorded run from downloaded\.sganrun"))).to_be_visible()
    expect(chart(page, "confusion_chart")).to_be_visible()
    no_exceptions(page)
    shoot(page, shots, "downloaded_opened")
