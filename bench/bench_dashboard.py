"""What the live page costs: training speed with the dashboard open vs headless, time
from Start to the first picture, server time per refresh, and server memory.

    python bench/bench_dashboard.py [--seconds 60] [--warmup 10] [--start-trials 3] [--repeats 1]

Prints figures, asserts nothing. Needs Debian's /usr/bin/chromium and playwright (as the
end-to-end test does). Both sides train the config the sidebar gives a new page (the
bundled MNIST subset: SGAN_DATA_DIR points to an empty folder, so it runs offline).

How each figure is taken:
(a) throughput, images/s = new unlabeled training images per second (batch_size a step) of
    training, from the run's own counters: the snapshot's cumulative `images_per_second`
    times `elapsed_s` gives images consumed, so over a window [A, B] of snapshots
    rate = (images_B - images_A) / (elapsed_B - elapsed_A). The window starts `--warmup`
    seconds after the first running snapshot and lasts `--seconds`.
      headless: a TrainingRun in a child process (nothing else running);
      with page: `streamlit run` on a loopback port with one headless Chromium tab, the
      run started by clicking Start. The server runs dashboard/app.py unchanged through
      a wrapper script (bench/children/timed_app.py) that times the `draw_*` fragment
      bodies and records the
      (step, elapsed, images/s) of each snapshot it draws, so both sides are read the
      same way.
    The page's cost includes everything the page brings: refreshes, figure building,
    the UMAP worker (import, numba compile, updates) and Chromium itself, on 2 cores.
    Where the CPU goes during the window (cores): the server's training thread, its
    embedding service, the rest of the server (page scripts, websocket), the UMAP child
    and Chromium (from /proc; unlike rates, CPU seconds do not drift with the load).
(b) Start -> first snapshot: click on Start until the sample grid's caption is on the
    page (cold: first run of a fresh server; warm: after Reset, same server).
(c) server time per refresh: wall time of `draw_status`, `draw_samples`, `draw_confusion`, `draw_curves`, `draw_map` and
    `draw_inspector` (the bodies of the live fragments) inside the server, and the CPU
    time of the script thread meanwhile (time.thread_time: about the time it held the
    GIL, and unlike wall time not stretched when the machine is busy); also the
    client's view, from the page's script-state attribute (running -> notRunning),
    which adds the websocket and the browser's work.
(d) peak RSS: VmHWM of the server process (and of the headless child) from /proc.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere
from sgan_core.threads import configure_threads  # noqa: E402
from bench.children.timed_app import PARTS  # noqa: E402
from testkit.browser import DashboardServer, launch_chromium, wait_idle  # noqa: E402

TIMED_APP = ROOT / "bench" / "children" / "timed_app.py"  # the page the server runs
SAMPLES_CAPTION = re.compile(r"\d+ of \d+ rejected as fake")
# Records every change of the page's script state with the browser's clock.
STATE_OBSERVER = """
window.__scriptStates = [];
new MutationObserver((mutations) => {
  for (const m of mutations) {
    if (m.attributeName === 'data-test-script-state' && m.target.dataset.testid === 'stApp') {
      window.__scriptStates.push([Date.now() / 1000, m.target.getAttribute(m.attributeName)]);
    }
  }
}).observe(document, {attributes: true, subtree: true,
                      attributeFilter: ['data-test-script-state']});
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="throughput window")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds after the first running snapshot before the window")
    parser.add_argument("--start-trials", type=int, default=3,
                        help="Start -> first snapshot trials on the page (first is cold)")
    parser.add_argument("--repeats", type=int, default=1, help="headless/page pairs")
    parser.add_argument("--no-embedding", action="store_true",
                        help="diagnostic: serve the page without the embedding worker")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="diagnostic: sys.setswitchinterval in the server (default 0.005)")
    parser.add_argument("--phase", choices=("headless",), help=argparse.SUPPRESS)
    return parser.parse_args()


def dashboard_config() -> Any:
    """Exactly the config the sidebar builds for a new page."""
    from dashboard.sidebar import settings as controls

    base = controls.default_config()
    return controls.widgets_to_config(controls.config_to_widgets(base), base)


def window_rate(points: list[dict], warmup: float, seconds: float) -> Optional[dict]:
    """Images/s over the window, from snapshots {t, elapsed_s, ips, status} in time order."""
    running = [p for p in points if p["status"] == "running" and p["elapsed_s"] > 0]
    if not running:
        return None
    begin = running[0]["t"] + warmup
    window = [p for p in running if begin <= p["t"] <= begin + seconds]
    if len(window) < 2 or window[-1]["elapsed_s"] <= window[0]["elapsed_s"]:
        return None
    first, last = window[0], window[-1]
    images = last["ips"] * last["elapsed_s"] - first["ips"] * first["elapsed_s"]
    span = last["elapsed_s"] - first["elapsed_s"]
    return {"rate": images / span, "span_s": span, "t0": first["t"], "t1": last["t"],
            "steps": last["step"] - first["step"]}


def vm_hwm_mb(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


# --- headless: a TrainingRun in a child process -----------------------------------------

def headless_phase(args: argparse.Namespace) -> None:
    """Child process: train the sidebar's config with nothing else running; print JSON."""
    from sgan_core.runs.training_run import TrainingRun

    run = TrainingRun(dashboard_config())
    started = time.time()
    run.start()
    points, first_samples_s, last_version = [], None, -1
    deadline = started + 120 + args.warmup + args.seconds
    while time.time() < deadline:
        snapshot = run.snapshot()
        if snapshot.version != last_version:
            last_version = snapshot.version
            if first_samples_s is None and snapshot.samples is not None:
                first_samples_s = time.time() - started
            points.append(dict(t=time.time(), status=snapshot.run_status, step=snapshot.step,
                               elapsed_s=snapshot.elapsed_s, ips=snapshot.images_per_second))
            rate = window_rate(points, args.warmup, args.seconds)
            if rate and rate["t1"] - rate["t0"] >= args.seconds - 2 * run.config.eval_every_s:
                break
        time.sleep(0.1)
    run.stop()
    print(json.dumps({"rate": window_rate(points, args.warmup, args.seconds),
                      "first_samples_s": first_samples_s, "peak_rss_mb": vm_hwm_mb(os.getpid())}))


def run_headless(args: argparse.Namespace, env: dict) -> dict:
    command = [sys.executable, __file__, "--phase", "headless", "--seconds", str(args.seconds),
               "--warmup", str(args.warmup)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- with the page open in Chromium -----------------------------------------------------

def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (seconds), those still alive."""
    return sum(_stat_cpu(Path(f"/proc/{pid}/stat")) for pid in pids)


def _stat_cpu(stat: Path) -> float:
    """utime + stime (seconds) from a /proc .../stat file; 0 once it is gone."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def server_cpu_parts(pid: int, threads: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far: the training thread, the embedding service's threads (found by
    the names the wrapper logged: `threads`, name -> native id), the rest of the server
    process (page scripts, websocket; threads that ended count too) and its child
    processes (the UMAP child)."""
    named = {"training thread": 0.0, "embedding service": 0.0}
    for name, tid in threads.items():
        role = next((role for prefix, role in (("sgan-run", "training thread"),
                                                ("sgan-embedding", "embedding service"))
                     if name.startswith(prefix)), None)
        if role:
            named[role] += _stat_cpu(Path(f"/proc/{pid}/task/{tid}/stat"))
    rest = cpu_seconds([pid]) - sum(named.values())
    return {**named, "rest of the server": rest, "UMAP child": cpu_seconds(processes_under(pid))}


def processes_under(root: int, name_part: str = "") -> list[int]:
    """Processes descended from `root` whose name contains `name_part`."""
    parents, names = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                names[int(entry.name)] = stat[stat.index("(") + 1:stat.rindex(")")]
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                pass

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    return [pid for pid, name in names.items() if name_part in name and descends(pid)]


def chromium_pids() -> list[int]:
    """Chromium processes descended from this bench process."""
    return processes_under(os.getpid(), "chrom")


def click_start_and_wait(page, timeout_s: float = 180.0) -> float:
    """Seconds from the click on Start to the sample grid's caption on the page."""
    start = page.locator("[data-testid='stSidebar']").get_by_role("button", name="Start",
                                                                    exact=True)
    start.wait_for(state="visible")
    clicked = time.time()
    start.click()
    page.get_by_text(SAMPLES_CAPTION).first.wait_for(state="visible", timeout=timeout_s * 1000)
    return time.time() - clicked


def reset_page(page) -> None:
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="Reset", exact=True).click()
    sidebar.get_by_role("button", name="Yes, reset", exact=True).click()  # it asks first
    page.get_by_text(SAMPLES_CAPTION).first.wait_for(state="detached", timeout=30_000)
    wait_idle(page, 30_000)


def client_refresh_times(states: list, t0: float, t1: float) -> list[float]:
    """Durations of the page's running -> notRunning spells inside [t0, t1]."""
    times, began = [], None
    for stamp, value in states:
        if value == "running":
            began = stamp
        elif value == "notRunning" and began is not None:
            if t0 <= began <= t1:
                times.append(stamp - began)
            began = None
    return times


def run_with_page(args: argparse.Namespace, data_dir: Path, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    log_path = work / "draws.jsonl"
    log_path.unlink(missing_ok=True)
    server = DashboardServer(data_dir, work / "server.log", app=str(TIMED_APP),
                             extra_env=_diagnostic_env(args, log_path))
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.add_init_script(STATE_OBSERVER)
                return _page_session(args, server, page, log_path)
            finally:
                browser.close()
    finally:
        server.stop()


def _diagnostic_env(args: argparse.Namespace, log_path: Path) -> dict[str, str]:
    env = {"SGAN_BENCH_LOG": str(log_path)}
    if args.no_embedding:
        env["SGAN_BENCH_NO_EMBEDDING"] = "1"
    if args.switch_interval is not None:
        env["SGAN_BENCH_SWITCH_INTERVAL"] = str(args.switch_interval)
    return env


def _page_session(args: argparse.Namespace, server: Any, page: Any, log_path: Path) -> dict:
    opened = time.time()
    page.goto(server.url)
    wait_idle(page, 60_000)
    result: dict = {"first_paint_s": time.time() - opened, "start_to_first": []}
    result["start_to_first"].append(click_start_and_wait(page))
    cpu_begin: Optional[tuple] = None
    deadline = time.time() + 120 + args.warmup + args.seconds
    while time.time() < deadline:  # wait out the window, sampling CPU at its start
        time.sleep(1.0)
        rate = window_rate(read_log(log_path), args.warmup, args.seconds)
        if rate and cpu_begin is None:
            cpu_begin = (time.time(), cpu_seconds([server.process.pid]),
                         cpu_seconds(chromium_pids()),
                         server_cpu_parts(server.process.pid, _threads(log_path)))
        if rate and rate["t1"] - rate["t0"] >= args.seconds - 2:
            break
    now = time.time()
    draws = read_log(log_path)
    result["rate"] = rate = window_rate(draws, args.warmup, args.seconds)
    if rate:
        in_window = [d for d in draws if rate["t0"] <= d["t"] <= rate["t1"]]
        for part in PARTS:
            for key in ("draw_s", "cpu_s"):
                result[f"{key}_{part}"] = [d[key] for d in in_window if d["part"] == part]
        result["window_s"] = rate["t1"] - rate["t0"]
        states = page.evaluate("window.__scriptStates")
        result["client_refresh_s"] = client_refresh_times(states, rate["t0"], rate["t1"])
    if cpu_begin:
        wall = now - cpu_begin[0]
        result["server_cpu"] = (cpu_seconds([server.process.pid]) - cpu_begin[1]) / wall
        result["chromium_cpu"] = (cpu_seconds(chromium_pids()) - cpu_begin[2]) / wall
        parts = server_cpu_parts(server.process.pid, _threads(log_path))
        result["cpu_parts"] = {role: (seconds - cpu_begin[3].get(role, 0.0)) / wall
                               for role, seconds in parts.items()}
    result["page_images_per_s"] = _metric(page, "Images / s")
    for _ in range(max(0, args.start_trials - 1)):
        reset_page(page)
        result["start_to_first"].append(click_start_and_wait(page))
    reset_page(page)
    result["server_peak_rss_mb"] = vm_hwm_mb(server.process.pid)
    return result


def _threads(log_path: Path) -> dict[str, int]:
    """Thread name -> native id, as the server last logged them."""
    logged = [d["threads"] for d in read_log(log_path) if "threads" in d]
    return logged[-1] if logged else {}


def _metric(page: Any, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{label}$")))
    try:
        return metric.locator("[data-testid='stMetricValue']").first.inner_text(timeout=5000)
    except Exception:
        return "?"


# --- report ---------------------------------------------------------------------------

def median(values: list) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: Optional[float], spec: str = ".1f", unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def report(args: argparse.Namespace, headless: list[dict], paged: list[dict]) -> None:
    cfg = dashboard_config()
    print(f"\nconfig: the sidebar's default ({cfg.dataset}, {cfg.architecture}, batch "
          f"{cfg.batch_size}+{cfg.labeled_batch_size} labeled, {cfg.num_threads} training "
          f"thread(s)); window {args.seconds:g} s after {args.warmup:g} s warm-up; "
          f"{args.repeats} repeat(s); {os.cpu_count()} CPUs"
          + ("; DIAGNOSTIC: no embedding worker" if args.no_embedding else "")
          + (f"; DIAGNOSTIC: switch interval {args.switch_interval:g} s"
             if args.switch_interval is not None else ""))
    h_rates = [r["rate"]["rate"] for r in headless if r.get("rate")]
    p_rates = [r["rate"]["rate"] for r in paged if r.get("rate")]
    h, p = median(h_rates), median(p_rates)
    print("(a) training throughput, unlabeled images/s (median over repeats; "
          f"{cfg.batch_size} a step, evaluations every {cfg.eval_every_s:g} s included)")
    print(f"    headless              {fmt(h, ',.0f')}   runs: {[round(x) for x in h_rates]}"
          f"   {per_step(h, cfg.batch_size)}")
    print(f"    with page in Chromium {fmt(p, ',.0f')}   runs: {[round(x) for x in p_rates]}"
          f"   {per_step(p, cfg.batch_size)}"
          f"   (page showed {paged[-1].get('page_images_per_s', '?')} cumulative)")
    ratio = p / h if h and p else None
    print(f"    ratio page/headless   {fmt(ratio, '.2f')}   (target >= 0.90)")
    def cores(role: str) -> str:
        return fmt(median([r.get("cpu_parts", {}).get(role) for r in paged]), ".2f")

    print(f"    CPU during the window (cores): server process "
          f"{fmt(median([r.get('server_cpu') for r in paged]), '.2f')} (training thread "
          f"{cores('training thread')}, embedding service {cores('embedding service')}, "
          f"rest {cores('rest of the server')}), UMAP child {cores('UMAP child')}, "
          f"chromium {fmt(median([r.get('chromium_cpu') for r in paged]), '.2f')}")
    cold = [r["start_to_first"][0] for r in paged]
    warm = [s for r in paged for s in r["start_to_first"][1:]]
    print("(b) Start click -> first sample grid on the page")
    print(f"    cold (fresh server)   median {fmt(median(cold), '.1f', ' s')}  {[round(x, 1) for x in cold]}")
    print(f"    warm (after Reset)    median {fmt(median(warm), '.1f', ' s')}  {[round(x, 1) for x in warm]}")
    print(f"    headless, start() -> first snapshot with samples: "
          f"median {fmt(median([r.get('first_samples_s') for r in headless]), '.1f', ' s')}")
    print(f"    first paint (goto -> script idle): median "
          f"{fmt(median([r['first_paint_s'] for r in paged]), '.2f', ' s')}")
    client = [d for r in paged for d in r.get("client_refresh_s", [])]
    print("(c) per refresh of the live fragments (one tab, during the window)")
    busy = busy_cpu = 0.0
    for part in PARTS:
        draws = [d for r in paged for d in r.get(f"draw_s_{part}", [])]
        cpus = [c for r in paged for c in r.get(f"cpu_s_{part}", [])]
        busy, busy_cpu = busy + sum(draws), busy_cpu + sum(cpus)
        middle = median(draws) and 1000 * median(draws)
        middle_cpu = median(cpus) and 1000 * median(cpus)
        print(f"    server, draw_{part:<9} median {fmt(middle, '.0f', ' ms')}"
              f"  p90 {fmt(_p90(draws), '.0f', ' ms')}  n={len(draws)}"
              f"   thread CPU median {fmt(middle_cpu, '.0f', ' ms')}  p90 {fmt(_p90(cpus), '.0f', ' ms')}")
    window = sum(r.get("window_s", 0.0) for r in paged)
    print(f"    server drawing time per second of training: {fmt(window and busy / window, '.3f', ' s')}"
          f" (thread CPU {fmt(window and busy_cpu / window, '.3f', ' s')})")
    print(f"    client, running->idle median {fmt(median(client) and 1000 * median(client), '.0f', ' ms')}"
          f"  p90 {fmt(_p90(client), '.0f', ' ms')}  n={len(client)}")
    print("(d) peak RSS (VmHWM)")
    print(f"    server process        max {fmt(max([r.get('server_peak_rss_mb') or 0 for r in paged] or [0]), '.0f', ' MB')}")
    print(f"    headless child        max {fmt(max([r.get('peak_rss_mb') or 0 for r in headless] or [0]), '.0f', ' MB')}")


def _p90(values: list[float]) -> Optional[float]:
    if len(values) < 2:
        return None
    return 1000 * statistics.quantiles(values, n=10)[-1]


def per_step(images_per_s: float | None, batch_size: int) -> str:
    """The same rate as steps/s and ms a step, to set beside bench_step.py's bare loop."""
    if not images_per_s:
        return ""
    steps = images_per_s / batch_size
    return f"= {steps:.1f} steps/s, {1000 / steps:.1f} ms/step"


def main() -> None:
    configure_threads()  # first, before this process imports torch
    args = parse_args()
    if args.phase == "headless":
        headless_phase(args)
        return
    if not os.access("/usr/bin/chromium", os.X_OK):
        sys.exit("bench_dashboard: /usr/bin/chromium is missing (apt-get install chromium)")
    headless, paged = [], []
    with tempfile.TemporaryDirectory(prefix="sgan-bench-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"  # empty: the bundled MNIST subset, offline
        data_dir.mkdir()
        env = dict(os.environ, SGAN_DATA_DIR=str(data_dir))
        os.environ["SGAN_DATA_DIR"] = str(data_dir)
        for repeat in range(args.repeats):
            print(f"[{repeat + 1}/{args.repeats}] headless ...", flush=True)
            headless.append(run_headless(args, env))
            print(f"[{repeat + 1}/{args.repeats}] with the page in Chromium ...", flush=True)
            paged.append(run_with_page(args, data_dir, work))
    report(args, headless, paged)


if __name__ == "__main__":
    main()
