"""Is the Label budget page responsive while its study runs? (The target: the status
refresh at most 1 s late, so the page keeps up with the study it shows.)

    python bench/bench_study_page.py [--watch-s 40] [--steps 3000]

Starts `streamlit run dashboard/app.py` on a loopback port with headless Chromium (as
the end-to-end tests do), opens /label-budget, starts a study with the page's own
inputs (the bundled MNIST subset, label counts 1 and 5, seed 0, `--steps` a cell: two
cells, so both of the study's workers train while it is watched), then records in the
browser, for `--watch-s` seconds, when each of the page's reruns starts (the app's
script state turning to "running"; the progress fragment reruns every 1 s while the
study moves) and when the progress line's words change. Prints the intervals between
reruns and how late each was against the fragment's 1 s period, then cancels the
study. Run it on an otherwise idle machine. Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere

from testkit.browser import DashboardServer, launch_chromium, type_into, wait_idle  # noqa: E402

PERIOD_S = 1.0  # dashboard/views/budget/page.py's REFRESH_S
# In the page: push the time of every change of the app's script state to "running".
RECORD = """() => {
  window.__reruns = [];
  const app = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running')
      window.__reruns.push(performance.now() / 1000);
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def _start_study(page, url: str, steps: int) -> None:
    page.goto(f"{url}/label-budget")
    wait_idle(page, 60_000)
    for value in ("10", "50", "100"):  # keep 1 and 5 of the default counts
        page.locator(".st-key-wb_labels").get_by_role(
            "button", name=f"Remove {value}", exact=True).click()
        wait_idle(page)
    type_into(page, "Seeds", "0")
    type_into(page, "Steps per cell", str(steps))
    page.get_by_role("button", name="Start study").click()
    page.get_by_text("Running:").first.wait_for(timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watch-s", type=float, default=40.0)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sgan-bench-study-page-") as tmp:
        env = {"SGAN_PREWARM_UMAP": "0", "SGAN_STUDIES_DIR": str(Path(tmp) / "studies")}
        # an empty data folder that exists: offline, the bundled subset (as the e2e tests)
        server = DashboardServer(Path(tmp), Path(tmp) / "server.log", env).start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                _start_study(page, server.url, args.steps)
                time.sleep(5)  # the workers' start-up (spawn, data) is not the steady state
                page.evaluate(RECORD)
                time.sleep(args.watch_s)
                reruns = page.evaluate("window.__reruns")
                progress = page.locator("[data-testid='stProgress']").first.inner_text(
                    timeout=5_000) if page.locator("[data-testid='stProgress']").count() else ""
                cancel = page.get_by_role("button", name="Cancel study")
                if cancel.count():
                    cancel.click()
                browser.close()
        finally:
            server.stop()
    gaps = [b - a for a, b in zip(reruns, reruns[1:])]
    late = sorted(max(0.0, gap - PERIOD_S) for gap in gaps)
    print(f"Label budget page while its 2-cell study trains ({os.cpu_count()} cores, load "
          f"average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end):")
    print(f"  reruns in {args.watch_s:.0f} s: {len(reruns)}; progress line: {progress!r}")
    if gaps:
        print(f"  interval between reruns: median {statistics.median(gaps):.2f} s, "
              f"max {max(gaps):.2f} s")
        print(f"  late against the {PERIOD_S:.0f} s period: median "
              f"{statistics.median(late):.2f} s, p90 {late[int(0.9 * (len(late) - 1))]:.2f} s, "
              f"max {late[-1]:.2f} s")


if __name__ == "__main__":
    main()
