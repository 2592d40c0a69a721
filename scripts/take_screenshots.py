"""Screenshots of the page mid-training for the README (docs/screenshots/).

    python scripts/take_screenshots.py --data-dir data --seconds 90

Starts `streamlit run dashboard/app.py` on a free loopback port (the same way the
browser test does), presses Start in headless Chromium, waits, and saves the whole page
and the first screen. Uses the full dataset in --data-dir when it is there, otherwise
the bundled subset.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import DashboardServer, launch_chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--seconds", type=float, default=90.0)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    server = DashboardServer(Path(args.data_dir).resolve(), ROOT / "test-artifacts" / "shots.log")
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(server.url)
            page.wait_for_selector(READY, timeout=60_000)
            page.get_by_role("button", name="Start").click()
            time.sleep(args.seconds)
            page.wait_for_selector(READY, timeout=30_000)
            page.screenshot(path=str(OUT / "dashboard-top.png"))
            # Streamlit scrolls inside its own container, so a "full page" shot needs a
            # viewport tall enough for every panel.
            page.set_viewport_size({"width": 1600, "height": 2900})
            time.sleep(3)
            page.wait_for_selector(READY, timeout=30_000)
            page.screenshot(path=str(OUT / "dashboard.png"))
            browser.close()
    finally:
        server.stop()
    print(f"saved {OUT / 'dashboard.png'} and {OUT / 'dashboard-top.png'}")


if __name__ == "__main__":
    main()
