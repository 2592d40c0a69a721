"""How soon the Label budget page draws the shipped study's chart.

    python bench/bench_budget_page.py [--study DIR] [--opens 5]

Starts `streamlit run dashboard/app.py` on a loopback port with headless Chromium (as
the end-to-end tests do) and opens /label-budget `--opens` times, each in a fresh
browser context, then from the live page's sidebar link as a class gets there (the
app's scripts already loaded). Each figure is the time from `page.goto` (or the click)
to the shipped study's chart having drawn its curves: an SVG line mark of the Vega-Lite chart inside
`.st-key-budget_chart`, or a plotly trace there (the chart before it moved to
Vega-Lite, so the same script times older commits). The first open is also the
server's first script run (cold imports); the rest are warm. Each open also says
whether the browser fetched plotly.js.
`--study` is a shipped-study folder (study.json + results.json) to serve instead of
assets/studies/ (through SGAN_SHIPPED_STUDIES_DIR). Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere

from testkit.browser import DashboardServer, launch_chromium, wait_idle  # noqa: E402

TRACE = (".st-key-budget_chart .vega-embed svg .mark-line path, "  # Vega-Lite, SVG
         ".st-key-budget_chart .js-plotly-plot .scatterlayer .trace")  # plotly (older)
TITLE = "h1:has-text('Label budget')"  # the page script's first element
PLOTLY_JS = "PlotlyChart"  # the name of Streamlit's lazily loaded plotly.js chunk
NAV_LINK = "a[data-testid='stPageLink-NavLink'][href$='label-budget']"  # the sidebar's link


def _shipped_folder(study: Path | None, tmp: Path) -> dict[str, str]:
    if study is None:
        return {}
    target = tmp / "shipped" / study.name
    target.mkdir(parents=True)
    for name in ("study.json", "results.json"):
        shutil.copy(study / name, target / name)
    return {"SGAN_SHIPPED_STUDIES_DIR": str(tmp / "shipped")}


def _open(page, url: str) -> tuple[float, float, bool]:
    """(seconds to the chart's first trace, seconds to the page's title, whether the
    browser fetched plotly.js on the way)."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    started = time.perf_counter()
    page.goto(f"{url}/label-budget")
    page.wait_for_selector(TITLE, timeout=60_000)
    titled = time.perf_counter() - started
    page.wait_for_selector(TRACE, timeout=60_000)
    return time.perf_counter() - started, titled, any(PLOTLY_JS in u for u in fetched)


def _navigate(page, url: str) -> float:
    """Seconds from a click on the sidebar's "Label budget" link, on the live page a
    class opens first, to the chart's first trace (the app's own scripts loaded)."""
    page.goto(url)
    page.wait_for_selector(NAV_LINK, timeout=60_000)
    wait_idle(page, 60_000)
    started = time.perf_counter()
    page.click(NAV_LINK)
    page.wait_for_selector(TRACE, timeout=60_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=None)
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="sgan-bench-budget-") as tmp:
        env = {"SGAN_PREWARM_UMAP": "0", "SGAN_STUDIES_DIR": str(Path(tmp) / "studies"),
               **_shipped_folder(args.study, Path(tmp))}
        # an empty data folder that exists: offline, the bundled subset (as the e2e tests)
        server = DashboardServer(Path(tmp), Path(tmp) / "server.log", env).start()
        times, cached, navigated = [], [], []
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for _ in range(args.opens):  # a fresh context: nothing cached
                    context = browser.new_context(viewport={"width": 1366, "height": 900})
                    times.append(_open(context.new_page(), server.url))
                    context.close()
                context = browser.new_context(viewport={"width": 1366, "height": 900})
                page = context.new_page()
                for _ in range(args.opens):  # one context: the scripts come from its cache
                    cached.append(_open(page, server.url))
                context.close()
                for _ in range(args.opens):  # the way a class gets there: from the app
                    context = browser.new_context(viewport={"width": 1366, "height": 900})
                    navigated.append(_navigate(context.new_page(), server.url))
                    context.close()
                browser.close()
        finally:
            server.stop()
    load = os.getloadavg()[0]
    print(f"shipped chart drawn after opening /label-budget ({os.cpu_count()} cores, "
          f"load average {load_before:.1f} at the start, {load:.1f} at the end):")
    print(f"  first open (server's first run): chart {times[0][0]:.2f} s "
          f"(title {times[0][1]:.2f} s)")
    print(f"  plotly.js fetched on {sum(t[2] for t in times)} of {len(times)} fresh-browser "
          "opens")
    for what, opens in (("warm server, fresh browser", times[1:] or times),
                        ("warm server, browser cache", cached[1:] or cached)):
        charts, titles = [t[0] for t in opens], [t[1] for t in opens]
        print(f"  {what} ({len(opens)} opens): chart median "
              f"{statistics.median(charts):.2f} s, max {max(charts):.2f} s; title median "
              f"{statistics.median(titles):.2f} s")
    print(f"  from the live page's sidebar link, fresh browser ({len(navigated)} opens): "
          f"chart median {statistics.median(navigated):.2f} s, max {max(navigated):.2f} s")


if __name__ == "__main__":
    main()
