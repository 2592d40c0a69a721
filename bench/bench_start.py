"""Start -> first picture on a cold and on a warm dashboard server, in headless Chromium.

    python bench/bench_start.py [--rounds 3] [--idle-s 10] [--prewarm on|off|both]
                                [--timeout-s 120] [--deadline-s 1800]

Each round starts a fresh `streamlit run` (testkit.browser.DashboardServer: loopback
only, an empty data folder, so the run trains offline on the bundled MNIST subset, the
sidebar's defaults otherwise) and opens the live page at 1280x720 in a new browser
context (nothing cached). It waits `--idle-s` seconds, a person reading the first page
(the server's background work, UMAP's compile and with `--prewarm on` the training
prewarm, runs meanwhile), presses Start and times the press to the first picture: the
sample grid's image loaded or a plotly chart drawn, whichever comes first. That is the
cold figure: the server's first Start. Then it presses Stop, opens the page again in a
new tab (a new session, the browser's cache kept) on the same server and times Start ->
first picture once more: the warm figure. The first page's own time (opening it until
Start is on it) is printed too: the prewarm begins after that page is drawn and must not
slow it.

Both times are taken inside the page (performance.now() at the press, and a 20 ms timer
that looks for the picture), so polling from Python adds nothing. The loading panel's
progress texts (st.progress) seen on the way are printed with their times. `--prewarm
both` alternates servers with SGAN_PREWARM_TRAINING=1 and =0 in each round (which goes
first alternates too), so a busy machine weighs on both alike. Prints each figure and
the medians; asserts nothing. Every wait is bounded (`--timeout-s` each, `--deadline-s`
for the whole bench) and every server is stopped on the way out.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere

from testkit.browser import DashboardServer, launch_chromium, wait_idle  # noqa: E402

VIEWPORT = {"width": 1280, "height": 720}
SIDEBAR = "[data-testid='stSidebar']"
# In the page from its first script on: the press on Start (capture phase, before
# Streamlit sees it), then every 20 ms the first picture and each new progress text.
RECORDER = """
window.__bench = {pressed: null, picture: null, what: null, texts: []};
document.addEventListener('pointerdown', event => {
  if (window.__bench.pressed === null && event.target.closest('.st-key-b_start')) {
    window.__bench.pressed = performance.now();
  }
}, true);
setInterval(() => {
  const bench = window.__bench;
  if (bench.pressed === null || bench.picture !== null) return;
  const image = document.querySelector("[data-testid='stImage'] img");
  const chart = document.querySelector(".js-plotly-plot .main-svg");
  if (image && image.complete && image.naturalWidth > 0) bench.what = 'sample grid';
  else if (chart) bench.what = 'chart';
  if (bench.what) { bench.picture = performance.now(); return; }
  const bar = document.querySelector("[data-testid='stProgress']");
  const text = bar ? bar.innerText.trim() : '';
  const last = bench.texts.length ? bench.texts[bench.texts.length - 1][1] : '';
  if (text && text !== last) bench.texts.push([performance.now() - bench.pressed, text]);
}, 20);
"""


@dataclass
class Press:
    """One Start -> first picture."""

    seconds: float
    what: str  # "sample grid" or "chart"
    texts: list[tuple[float, str]] = field(default_factory=list)  # (s after Start, text)


def press_start(page, timeout_s: float) -> Press:
    """Press the sidebar's Start and wait for the first picture (times from the page)."""
    button = page.locator(SIDEBAR).get_by_role("button", name="Start", exact=True)
    button.wait_for(state="visible", timeout=timeout_s * 1000)
    fallback = page.evaluate("performance.now()")  # if the press was not seen (key renamed)
    button.click()
    page.wait_for_function("() => window.__bench.picture !== null", timeout=timeout_s * 1000,
                           polling=100)
    seen = page.evaluate("window.__bench")
    pressed = seen["pressed"] if seen["pressed"] is not None else fallback
    return Press((seen["picture"] - pressed) / 1000.0, seen["what"],
                 [(at / 1000.0, text) for at, text in seen["texts"]])


def open_page(context, url: str, timeout_s: float):
    page = context.new_page()
    page.add_init_script(RECORDER)
    page.goto(url, timeout=timeout_s * 1000)
    wait_idle(page, timeout_s * 1000)
    page.locator(SIDEBAR).get_by_role("button", name="Start", exact=True).wait_for(
        state="visible", timeout=timeout_s * 1000)
    return page


def stop_run(page, timeout_s: float) -> None:
    """Stop the run (so it does not train beside the next one) and wait for Start."""
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_role("button", name="Stop", exact=True).click()
    start = sidebar.get_by_role("button", name="Start", exact=True)
    deadline = time.monotonic() + timeout_s
    while not start.is_enabled():
        if time.monotonic() > deadline:
            raise TimeoutError("the run did not stop")
        time.sleep(0.2)


@dataclass
class Server:
    """One fresh server's figures."""

    paint_s: float  # opening the first page until Start is on it
    cold: Press
    warm: Press


def one_server(browser, prewarm: bool, args: argparse.Namespace) -> Server:
    """The first page, a cold and a warm Start on a fresh server."""
    with tempfile.TemporaryDirectory(prefix="sgan-bench-start-") as tmp:
        env = {"SGAN_RUNS_DIR": f"{tmp}/runs", "SGAN_STUDIES_DIR": f"{tmp}/studies",
               "SGAN_PREWARM_TRAINING": "1" if prewarm else "0"}
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        server = DashboardServer(data_dir, Path(tmp) / "server.log", env)
        server.start()
        context = browser.new_context(viewport=VIEWPORT)
        try:
            opened = time.monotonic()
            page = open_page(context, server.url, args.timeout_s)
            paint_s = time.monotonic() - opened
            time.sleep(args.idle_s)
            cold = press_start(page, args.timeout_s)
            stop_run(page, args.timeout_s)
            page.close()
            page = open_page(context, server.url, args.timeout_s)  # new session, same server
            warm = press_start(page, args.timeout_s)
            stop_run(page, args.timeout_s)
            return Server(paint_s, cold, warm)
        except Exception:
            print(f"--- server output (tail) ---\n{server.log_tail()}", flush=True)
            raise
        finally:
            context.close()
            server.stop()


def describe(press: Press) -> str:
    stages = "; ".join(f"{at:.1f} s {text!r}" for at, text in press.texts)
    return f"{press.seconds:5.1f} s ({press.what}){'  progress: ' + stages if stages else ''}"


def median(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def report(results: dict[bool, list[Server]]) -> None:
    for prewarm, servers in results.items():
        if not servers:
            continue
        figures = {"first page": [s.paint_s for s in servers],
                   "cold": [s.cold.seconds for s in servers],
                   "warm": [s.warm.seconds for s in servers]}
        print(f"prewarm {'on ' if prewarm else 'off'}: " + "; ".join(
            f"{name} median {median(values):.1f} s {[round(x, 1) for x in values]}"
            for name, values in figures.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh servers per setting")
    parser.add_argument("--idle-s", type=float, default=10.0,
                        help="seconds between the first page and Start")
    parser.add_argument("--prewarm", choices=("on", "off", "both"), default="on",
                        help="SGAN_PREWARM_TRAINING of the servers (both: alternate)")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="limit of each wait")
    parser.add_argument("--deadline-s", type=float, default=1800.0,
                        help="no new server after this many seconds")
    args = parser.parse_args()
    settings = {"on": (True,), "off": (False,), "both": (True, False)}[args.prewarm]
    from playwright.sync_api import sync_playwright

    began = time.monotonic()
    results: dict[bool, list[Server]] = {prewarm: [] for prewarm in settings}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for round_number in range(1, args.rounds + 1):
                # Each setting goes first in every other round: the bench's first server
                # also meets cold file caches.
                for prewarm in settings[::1 if round_number % 2 else -1]:
                    if time.monotonic() - began > args.deadline_s:
                        print(f"deadline of {args.deadline_s:.0f} s reached", flush=True)
                        report(results)
                        return
                    figures = one_server(browser, prewarm, args)
                    results[prewarm].append(figures)
                    label = f"round {round_number}, prewarm {'on ' if prewarm else 'off'}"
                    print(f"{label}: first page {figures.paint_s:.1f} s", flush=True)
                    print(f"{' ' * len(label)}  cold {describe(figures.cold)}", flush=True)
                    print(f"{' ' * len(label)}  warm {describe(figures.warm)}", flush=True)
        finally:
            browser.close()
    report(results)


if __name__ == "__main__":
    main()
