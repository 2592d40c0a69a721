"""Fixtures for the end-to-end tests: a real `streamlit run` server and headless Chromium.

The server runs offline on the bundled MNIST subset (SGAN_DATA_DIR points to an empty
folder and the download attempt fails fast without a network). Chromium is Debian's
/usr/bin/chromium driven by playwright's Python package; playwright never downloads a
browser of its own. Outside CI a machine without chromium skips these tests; in CI
(CI=true) a missing browser is a failure, so the browser test cannot silently vanish.

`DashboardServer` and `launch_chromium` live in testkit/browser.py, shared with bench/ and
scripts/.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Optional

import pytest

from testkit.browser import ARTIFACTS, CHROMIUM, DashboardServer, in_ci, launch_chromium


def require_browser() -> None:
    """Skip (outside CI) or fail (in CI) when the browser stack is missing."""
    problem = None
    if not os.access(CHROMIUM, os.X_OK):
        problem = (f"{CHROMIUM} is missing: install Debian's chromium "
                   "(apt-get install chromium fonts-dejavu-core), as .ci/run does")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed: pip install -r requirements.txt"
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"end-to-end test cannot run in CI: {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@contextlib.contextmanager
def running_server(log_path: Path, extra_env: Optional[dict[str, str]] = None
                   ) -> Iterator[DashboardServer]:
    """A dashboard server on an empty data folder (offline: the bundled subset), its
    runs and studies kept in temporary folders, never the repository's runs/."""
    require_browser()
    with tempfile.TemporaryDirectory(prefix="sgan-e2e-data-") as data_dir:
        env = {"SGAN_RUNS_DIR": f"{data_dir}/runs", "SGAN_STUDIES_DIR": f"{data_dir}/studies",
               **(extra_env or {})}
        server = DashboardServer(Path(data_dir), log_path, env)
        try:
            server.start()
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def dashboard_server(artifacts_dir: Path) -> Iterator[DashboardServer]:
    # Shared by every e2e test, each of which may leave a paused run behind (a paused
    # run keeps its slot until it is parked after SGAN_IDLE_PAUSE_S): room for all of
    # them, so no test depends on which ran before it. The cap has its own test.
    with running_server(artifacts_dir / "server.log",
                        {"SGAN_MAX_ACTIVE_RUNS": "16"}) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def open_tab(browser) -> Iterator[object]:
    # Tall: Streamlit scrolls inside its own container, so a "full page" screenshot is
    # only the viewport; this height shows every panel in one picture.
    context = browser.new_context(viewport={"width": 1600, "height": 2800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, dashboard_server: DashboardServer) -> Iterator[object]:
    with open_tab(browser) as page:
        yield page
