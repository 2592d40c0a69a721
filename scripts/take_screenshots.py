"""Screenshots of the page mid-training, at projector and laptop sizes (docs/screenshots/).

    python scripts/take_screenshots.py --data-dir data --seconds 90

Starts `streamlit run dashboard/app.py` on a free loopback port (the same way the
browser test does), presses Start in headless Chromium, waits, then for each window
size saves what a viewer sees: the top of the page, the samples and confusion matrix,
the curves, and the feature map and inspector (Streamlit scrolls inside its own
container, so each is scrolled into view). Also one tall picture of the whole page.
Then the presenter view (?present=1) at a 1280x720 projector's size, the same views
(present-1280x720-*.png). --presenter-only takes just those. The Label budget page
drawing the shipped study (assets/studies/), as it opens, at both sizes (budget-*.png);
--budget-only takes just those.
Uses the full dataset in --data-dir when it is there, otherwise the bundled subset.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from testkit.browser import DashboardServer, launch_chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
SIZES = ((1024, 768), (1366, 900))
PROJECTOR = (1280, 720)
# (file suffix, heading scrolled to the top of the window; None: the top of the page)
VIEWS = (("top", None), ("charts", "Generated samples"), ("curves", "Training curves"),
         ("map", "Feature map"))


def shoot_views(page, width: int, height: int, prefix: str = "") -> None:
    page.set_viewport_size({"width": width, "height": height})
    time.sleep(2)
    for suffix, heading in VIEWS:
        if heading is not None:
            target = page.get_by_role("heading", name=heading).first
            if target.count() == 0:
                continue
            target.evaluate("element => element.scrollIntoView({block: 'start'})")
        else:
            page.locator("[data-testid='stMain']").evaluate("e => e.scrollTo(0, 0)")
        time.sleep(1)
        page.screenshot(path=str(OUT / f"{prefix}{width}x{height}-{suffix}.png"))


def shoot_presenter(page) -> None:
    """The same run in the presenter view, as a projector shows it."""
    page.wait_for_url(re.compile(r"[?&]run="), timeout=60_000)
    url = page.url + ("&" if "?" in page.url else "?") + "present=1"
    print("presenter view of", url)
    page.set_viewport_size({"width": PROJECTOR[0], "height": PROJECTOR[1]})
    page.goto(url)
    page.wait_for_selector(READY, timeout=60_000)
    time.sleep(8)  # the panels' first paint after a reload
    shoot_views(page, *PROJECTOR, prefix="present-")


def shoot_budget(page, server: DashboardServer) -> None:
    """The Label budget page as it opens on the shipped study (its chart at the top),
    then scrolled to the chart's foot (legend, table, downloads)."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server.url}/label-budget")
        page.wait_for_selector(READY, timeout=60_000)
        page.wait_for_selector(".st-key-budget_chart .vega-embed svg .mark-line path",
                               timeout=60_000)
        time.sleep(1)
        page.screenshot(path=str(OUT / f"budget-{width}x{height}-top.png"))
        page.locator(".st-key-budget_chart").evaluate(
            "element => element.scrollIntoView({block: 'start'})")
        time.sleep(1)
        page.screenshot(path=str(OUT / f"budget-{width}x{height}-chart.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--presenter-only", action="store_true",
                        help="only the presenter view at 1280x720")
    parser.add_argument("--budget-only", action="store_true",
                        help="only the Label budget page with the shipped study")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    server = DashboardServer(Path(args.data_dir).resolve(), ROOT / "test-artifacts" / "shots.log")
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            if not args.presenter_only:
                shoot_budget(browser.new_page(), server)
            if args.budget_only:
                browser.close()
                return
            page = browser.new_page(viewport={"width": SIZES[-1][0], "height": SIZES[-1][1]})
            page.goto(server.url)
            page.wait_for_selector(READY, timeout=60_000)
            page.get_by_role("button", name="Start").click()
            time.sleep(args.seconds)
            if not args.presenter_only:
                for width, height in SIZES:
                    shoot_views(page, width, height)
                page.set_viewport_size({"width": 1366, "height": 3200})
                time.sleep(3)
                page.screenshot(path=str(OUT / "dashboard.png"))
            shoot_presenter(page)
            browser.close()
    finally:
        server.stop()
    print(f"saved {sorted(p.name for p in OUT.glob('*.png'))}")


if __name__ == "__main__":
    main()
