"""Screenshots of the page mid-training, at projector and laptop sizes (docs/screenshots/).

    python scripts/take_screenshots.py --data-dir data --seconds 90

Starts `streamlit run dashboard/app.py` on a free loopback port (the same way the
browser test does), with its runs folder in a temporary folder (never the repository's
runs/), presses Start in headless Chromium, waits, then for each window size saves what
a viewer sees: the top of the page, the samples and confusion matrix, the curves, the
feature map and inspector, the upload and drawing panels (Streamlit scrolls inside its
own container, so each is scrolled into view), and the sidebar's "Save, open, share"
box. Also one tall picture of the whole page with its notes open, and the sidebar saying
a changed setting needs a new run. Then the Compare runs page with two
finished runs (1 and 10 labels per class, trained first by the CLI into the runs
folder: compare-*.png), and a short lesson in the presenter view at 1280x720 and
1920x1080 projectors' sizes, before Start, 30 s after it and after the run
(present-<size>-{before,30s,after}.png), then the ordinary page's first screen at both
sizes (<size>-first-screen.png). --presenter-only takes just the lesson. The
Label budget page drawing the shipped study (assets/studies/), as it opens, at both
sizes (budget-*.png); --budget-only takes just those.
Uses the full dataset in --data-dir when it is there, otherwise the bundled subset.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from testkit.browser import DashboardServer, launch_chromium, type_into, wait_idle  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES = ((1024, 768), (1366, 900))
PROJECTORS = ((1280, 720), (1920, 1080))
# (file suffix, heading scrolled to the top of the window; None: the top of the page)
VIEWS = (("top", None), ("charts", "Generated samples"), ("curves", "Training curves"),
         ("map", "Feature map"), ("try", "Try your own image"))
# Below 1200 px the panel pairs stack (dashboard/layout.py): the right-hand panels too.
STACKED_VIEWS = (("confusion", "Confusion matrix"), ("inspector", "Fake-rejection inspector"))
COMPARE_VIEWS = (("top", None), ("curves", ".st-key-compare_accuracy"), ("runs", "Run A"),
                 ("run-b", "Run B"))
COMPARED = (1, 10)  # labels per class of the two finished runs on the Compare page


def scroll_to(page, heading) -> bool:
    """Bring a heading (its name, or a CSS selector starting with '.') to the window's
    top; None: the page's top. False when the page has no such heading."""
    if heading is None:
        page.locator("[data-testid='stMain']").evaluate("e => e.scrollTo(0, 0)")
        return True
    target = (page.locator(heading) if heading.startswith(".")
              else page.get_by_role("heading", name=heading)).first
    if target.count() == 0:
        return False
    target.evaluate("element => element.scrollIntoView({block: 'start'})")
    return True


def shoot_views(page, width: int, height: int, views=VIEWS, prefix: str = "") -> None:
    page.set_viewport_size({"width": width, "height": height})
    time.sleep(2)
    for suffix, heading in views:
        if scroll_to(page, heading):
            time.sleep(1)
            page.screenshot(path=str(OUT / f"{prefix}{width}x{height}-{suffix}.png"))
        else:
            print(f"no heading {heading!r}: {prefix}{width}x{height}-{suffix}.png not taken")


def shoot_run_file_box(page, width: int, height: int) -> None:
    """The sidebar's "Save, open, share" box, opened and scrolled into view."""
    page.set_viewport_size({"width": width, "height": height})
    box = page.locator("[data-testid='stSidebar'] [data-testid='stExpander']").filter(
        has_text="Save, open, share").first
    if box.locator("details[open]").count() == 0 and box.get_attribute("open") is None:
        box.locator("summary").first.click()
        wait_idle(page)
    box.evaluate("element => element.scrollIntoView({block: 'start'})")
    time.sleep(1)
    page.screenshot(path=str(OUT / f"{width}x{height}-sidebar.png"))
    page.locator("[data-testid='stSidebarContent']").evaluate("e => e.scrollTo(0, 0)")


def draw_a_seven(page) -> None:
    """A 7 on the drawing canvas with the mouse, so the panel shows D's answer."""
    canvas = page.locator(".st-key-w_draw canvas").last  # Fabric's top canvas
    if canvas.count() == 0:
        print("no drawing canvas on the page")
        return
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.25 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for x, y in ((0.75, 0.2), (0.45, 0.85)):
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=12)
    page.mouse.up()
    page.get_by_text(re.compile(r"^D's verdict")).first.wait_for(timeout=30_000)


def shoot_new_run_warning(page) -> None:
    """Another seed in the sidebar: the page says, by the buttons, that this
    needs a new run (at 1024x768, where the bottom of the sidebar is out of sight)."""
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    type_into(page, "Seed", "1")
    page.locator("[data-testid='stSidebar'] [data-testid='stAlert']").first.wait_for()
    wait_idle(page)  # the rerun that drew the warning has finished
    scroll_to(page, None)
    page.locator("[data-testid='stSidebarContent']").evaluate("e => e.scrollTo(0, 0)")
    time.sleep(1)
    page.screenshot(path=str(OUT / f"{SIZES[0][0]}x{SIZES[0][1]}-new-run.png"))


def open_explanations(page) -> None:
    """Every "What am I looking at?" note opened, for the tall picture."""
    notes = page.locator("[data-testid='stMain'] details summary").filter(
        has_text="What am I looking at?")
    for index in range(notes.count()):
        notes.nth(index).click()
    time.sleep(2)


def shoot_lesson(page, server: DashboardServer, minutes: float) -> None:
    """A lesson in the presenter view, at both projector sizes: before Start, 30 s
    after it, and after the run (a run of `minutes`, set in the sidebar first: the view
    hides the sidebar but keeps its settings); then the ordinary page's first screen."""
    page.set_viewport_size({"width": PROJECTORS[0][0], "height": PROJECTORS[0][1]})
    page.goto(server.url)
    wait_idle(page, 60_000)
    page.get_by_role("button", name="Start").first.wait_for(timeout=60_000)
    type_into(page, page.locator(".st-key-w_minutes input"), f"{minutes:g}", 60_000)
    page.get_by_text("Presenter view", exact=True).click()
    strip = page.locator(".st-key-present_strip")
    strip.wait_for(timeout=60_000)
    shoot_projectors(page, "present-", "before")
    started = time.monotonic()
    strip.get_by_role("button", name="Start", exact=True).click()
    time.sleep(max(0.0, 30.0 - (time.monotonic() - started)))
    shoot_projectors(page, "present-", "30s")
    page.locator(".sgan-progress[data-state='finished']").wait_for(
        timeout=int((60 * minutes + 120) * 1000))
    time.sleep(3)  # the last evaluation's pictures
    shoot_projectors(page, "present-", "after")
    strip.get_by_role("button", name="Leave").click()
    page.locator("[data-testid='stSidebar']").wait_for(timeout=60_000)
    shoot_projectors(page, "", "first-screen")


def shoot_projectors(page, prefix: str, suffix: str) -> None:
    """The window as it is, at each projector size (no scrolling: what a class sees)."""
    for width, height in PROJECTORS:
        page.set_viewport_size({"width": width, "height": height})
        page.mouse.move(0, 0)  # no tooltip over the picture
        time.sleep(2)  # plotly redraws at the new width
        page.screenshot(path=str(OUT / f"{prefix}{width}x{height}-{suffix}.png"))


def train_finished_runs(runs_dir: Path, data_dir: Path, seconds: float) -> None:
    """Two short CLI runs into the runs folder, for the Compare page to read back."""
    for labels in COMPARED:
        command = [sys.executable, "-m", "sgan_core", "train", "--data-dir", str(data_dir),
                   "--labels-per-class", str(labels), "--time-budget-s", str(seconds),
                   "--no-progress", "--out", str(runs_dir / f"labels-{labels}")]
        print("training", " ".join(command[3:]))
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def shoot_compare(page, server: DashboardServer) -> None:
    """The Compare runs page with the two finished runs chosen."""
    page.set_viewport_size({"width": SIZES[-1][0], "height": SIZES[-1][1]})
    page.goto(f"{server.url}/compare")
    wait_idle(page, 60_000)
    picker = page.locator(".st-key-wc_runs")
    for labels in COMPARED:
        picker.locator("input").first.click()
        page.get_by_role("option", name=re.compile(f"labels-{labels}\\b")).first.click()
        wait_idle(page, 60_000)
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Run B").first.wait_for(timeout=60_000)
    time.sleep(4)  # plotly draws after the script run
    for width, height in SIZES:
        shoot_views(page, width, height, COMPARE_VIEWS, prefix="compare-")


def shoot_budget(page, server: DashboardServer) -> None:
    """The Label budget page as it opens on the shipped study (its chart at the top),
    then scrolled to the chart's foot (legend, table, downloads)."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server.url}/label-budget")
        wait_idle(page, 60_000)
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
    parser.add_argument("--compare-seconds", type=float, default=40.0,
                        help="training time of each finished run on the Compare page")
    parser.add_argument("--presenter-only", action="store_true",
                        help="only the lesson in the presenter view and the first screen")
    parser.add_argument("--lesson-minutes", type=float, default=1.5,
                        help="length of the presenter view's run")
    parser.add_argument("--budget-only", action="store_true",
                        help="only the Label budget page with the shipped study")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="sgan-shots-") as scratch:
        runs_dir = Path(scratch) / "runs"
        if not (args.presenter_only or args.budget_only):
            train_finished_runs(runs_dir, data_dir, args.compare_seconds)
        server = DashboardServer(data_dir, ROOT / "test-artifacts" / "shots.log",
                                 {"SGAN_RUNS_DIR": str(runs_dir),
                                  "SGAN_STUDIES_DIR": f"{scratch}/studies"})
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                if not args.presenter_only:
                    shoot_budget(browser.new_page(), server)
                if not (args.budget_only or args.presenter_only):
                    page = browser.new_page(viewport={"width": SIZES[-1][0],
                                                      "height": SIZES[-1][1]})
                    shoot_live(page, server, args)
                if not args.budget_only:
                    shoot_lesson(browser.new_page(), server, args.lesson_minutes)
                if not (args.presenter_only or args.budget_only):
                    shoot_compare(browser.new_page(), server)
                browser.close()
        finally:
            server.stop()
    print(f"saved {sorted(p.name for p in OUT.glob('*.png'))}")


def shoot_live(page, server: DashboardServer, args: argparse.Namespace) -> None:
    page.goto(server.url)
    wait_idle(page, 60_000)
    start = page.get_by_role("button", name="Start")
    start.wait_for(timeout=60_000)  # an idle app can be a skeleton page before the first paint
    time.sleep(1)
    page.screenshot(path=str(OUT / "1366x900-intro.png"))  # before any run
    start.click()
    time.sleep(args.seconds)
    draw_a_seven(page)
    for width, height in SIZES:
        views = VIEWS + (STACKED_VIEWS if width < 1200 else ())
        shoot_views(page, width, height, views)
        shoot_run_file_box(page, width, height)
    page.set_viewport_size({"width": 1366, "height": 4200})
    open_explanations(page)
    scroll_to(page, None)
    page.screenshot(path=str(OUT / "dashboard.png"))
    shoot_new_run_warning(page)
    sidebar_stop(page)


def sidebar_stop(page) -> None:
    """Stop the live run: the lesson's run that follows gets the CPU to itself."""
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Stop").click()
    wait_idle(page, 60_000)


if __name__ == "__main__":
    main()
