"""Helpers the browser tests, the benchmarks and the screenshot script share: a real
`streamlit run` server on a loopback port, Debian's headless Chromium through
playwright (never a browser playwright downloads), and the two moves every one of them
makes on the page: waiting until its script is idle, and typing into an input.
Product code never imports this.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional, Union

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
HEALTH_TIMEOUT_S = 60.0
# As root in a sandbox: no sandbox, no GPU, and no background calls to Google's hosts
# (the closed network refuses them, many at a time).
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Streamlit marks its app with the state of the page's script; "notRunning" once a
# rerun has finished, so what is read or clicked next is what that rerun drew.
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# In the page: a flag that turns true when the script next starts a rerun. Set before a
# change, it tells "idle after the change's rerun" from "idle, the rerun not yet begun".
_WATCH_RERUN = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  window.__rerunStarted = false;
  const observer = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') {
      window.__rerunStarted = true;
      observer.disconnect();
    }
  });
  observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DashboardServer:
    """`python -m streamlit run dashboard/app.py` on a free loopback port, in its own
    process group so that stopping it leaves no orphan behind."""

    def __init__(self, data_dir: Path, log_path: Path,
                 extra_env: Optional[dict[str, str]] = None, app: str = "dashboard/app.py") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.data_dir = data_dir
        self.extra_env = extra_env or {}
        self.app = app
        self.process: Optional[subprocess.Popen] = None

    def start(self, timeout_s: float = HEALTH_TIMEOUT_S) -> "DashboardServer":
        env = dict(os.environ, SGAN_DATA_DIR=str(self.data_dir), PYTHONUNBUFFERED="1",
                   **self.extra_env)
        command = [sys.executable, "-m", "streamlit", "run", self.app,
                   "--server.port", str(self.port), "--server.address", "127.0.0.1",
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # a file, not a pipe: a full pipe would block it
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()  # the child holds its own descriptor
        self._wait_healthy(timeout_s)
        return self

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the dashboard server exited with code "
                                   f"{self.process.returncode} before answering:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{self.url}/_stcore/health did not answer 'ok' within "
                           f"{timeout_s:.0f} s. Server output:\n{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                return reply.read().decode().strip() == "ok"
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server output)"
        # uvicorn logs every media GET: drop those, they bury the traceback
        kept = [line for line in text.splitlines() if '"GET /' not in line]
        return "\n".join(kept[-lines:]) or "(no server output)"

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to the whole group, then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait_s)
                return
            except subprocess.TimeoutExpired:
                continue


def launch_chromium(playwright):
    """Debian's chromium through playwright (never a browser playwright downloads)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _timeout(timeout_ms: Optional[float]) -> dict[str, float]:
    """Playwright's timeout keyword, or none: the page's default."""
    return {} if timeout_ms is None else {"timeout": timeout_ms}


def wait_idle(page: Any, timeout_ms: Optional[float] = None) -> None:
    """Wait until the page's script has finished its rerun (within the page's default
    timeout unless `timeout_ms` says)."""
    page.wait_for_selector(APP_IDLE, **_timeout(timeout_ms))


def type_into(page: Any, field: Union[str, Any], text: str,
              timeout_ms: Optional[float] = None) -> None:
    """Type `text` into an input (its exact label, or a locator) and press Enter, then
    wait until the rerun that sends the new value has finished. Only idle is not
    enough: on a busy machine the page is still idle just after Enter, and a button
    clicked then acts on the value before (an on_click's args are bound at its last
    draw). An unchanged value starts no rerun, so then only idle is awaited."""
    box = page.get_by_label(field, exact=True) if isinstance(field, str) else field
    changes = box.input_value() != text
    if changes:
        page.evaluate(_WATCH_RERUN)
    box.fill(text)
    box.press("Enter")
    if changes:
        page.wait_for_function("() => window.__rerunStarted === true", **_timeout(timeout_ms))
    wait_idle(page, timeout_ms)
