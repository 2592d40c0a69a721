"""bench_dashboard.py's page: dashboard/app.py's main() with its live panels' drawing
timed (bench only).

    streamlit run bench/children/timed_app.py     (SGAN_BENCH_LOG=draws.jsonl)

Each `draw_*` of the live layout named in PARTS is wrapped: every call appends a JSON
line to $SGAN_BENCH_LOG with its wall and thread-CPU time and the snapshot it drew
(step, elapsed, images/s), so the page's training rate is read from what the page
drew, as the headless side reads it from its snapshots. Diagnostics from the
environment: SGAN_BENCH_SWITCH_INTERVAL (the GIL's hand-over interval, s) and
SGAN_BENCH_NO_EMBEDDING (no UMAP/PCA service at all).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("status", "samples", "confusion", "curves", "map", "inspector")  # live_layout's draw_*


class _NoService:
    """An embedding service that never embeds: the page without its UMAP/PCA work."""

    def submit(self, run_id, features): pass
    def latest(self, run_id): return None
    def discard(self, run_id): pass
    def close(self, timeout=5.0): return True


def apply_diagnostics() -> None:
    """The diagnostic settings bench_dashboard.py passes through the environment."""
    if os.environ.get("SGAN_BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["SGAN_BENCH_SWITCH_INTERVAL"]))
    if os.environ.get("SGAN_BENCH_NO_EMBEDDING"):
        import dashboard.server

        dashboard.server.new_embedding_service = _NoService


def timed(part: str, original: Callable, log_path: str, lock: threading.Lock) -> Callable:
    """`original` (a draw_* function), logging each call's time and snapshot."""
    def draw(*args: Any) -> Any:
        # the Snapshot among the arguments (draw_curves/draw_map also take `past`)
        snapshot = next(a for a in args if hasattr(a, "run_status"))
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args)
        finally:
            record = dict(t=time.time(), part=part, draw_s=time.perf_counter() - started,
                          cpu_s=time.thread_time() - cpu,
                          status=snapshot.run_status, step=snapshot.step,
                          elapsed_s=snapshot.elapsed_s, ips=snapshot.images_per_second,
                          has_samples=snapshot.samples is not None,
                          version=snapshot.version)
            if part == "status":  # which OS thread is which, for the CPU breakdown
                record["threads"] = {t.name: t.native_id for t in threading.enumerate()}
            with lock, open(log_path, "a") as log:
                log.write(json.dumps(record) + "\n")
    return draw


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import dashboard.app as app
    import dashboard.views.live.layout as live_layout

    apply_diagnostics()
    # Streamlit runs this script again on every rerun, but the modules stay imported:
    # wrap once, or each rerun would time the timing wrapper of the last.
    if not getattr(app, "_bench_wrapped", False):
        lock, log_path = threading.Lock(), os.environ["SGAN_BENCH_LOG"]
        for part in PARTS:
            name = "draw_" + part
            setattr(live_layout, name, timed(part, getattr(live_layout, name), log_path, lock))
        app._bench_wrapped = True
    app.main()


if __name__ == "__main__":  # as Streamlit runs it; bench_dashboard.py imports PARTS
    main()
