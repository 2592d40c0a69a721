"""How long after Start the first UMAP map arrives on a cold machine.

    python bench/bench_first_map.py [--start-after-s 0] [--warm-cache] [--seconds 180]

Plays the dashboard's part without a browser: the embedding service starts as on the
first page view (its UMAP child begins importing and compiling), Start is pressed
`--start-after-s` later (0: at once, the worst case), and the newest features of the
real training run (default config, bundled MNIST subset) are handed to the service every
second, like the map fragment does. Prints when the first PCA and the first UMAP frames
arrive, counted from Start. By default numba's cache is a fresh empty folder, as on a
machine that never ran UMAP. The training thread runs here, as in the server.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
from sgan_core.threads import configure_threads  # noqa: E402


def main() -> None:
    configure_threads()  # first, before this process imports torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-after-s", type=float, default=0.0,
                        help="seconds between the first page view and Start")
    parser.add_argument("--warm-cache", action="store_true",
                        help="keep numba's usual cache instead of a fresh empty one")
    parser.add_argument("--seconds", type=float, default=180.0, help="give up after this")
    args = parser.parse_args()
    if not args.warm_cache:  # before the child starts: it inherits the environment
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="sgan-numba-")

    from sgan_core.config import TrainConfig
    from sgan_core.features.embedding_service import EmbeddingService
    from sgan_core.features.projection import Method
    from sgan_core.runs.training_run import TrainingRun

    page_view = time.perf_counter()
    service = EmbeddingService()  # what server.prewarm_embedding() does on a page view
    time.sleep(args.start_after_s)
    run = TrainingRun(TrainConfig(download=False, time_budget_s=args.seconds))
    run.start()
    started, seen = time.perf_counter(), set()
    while time.perf_counter() - started < args.seconds and Method.UMAP not in seen:
        snapshot = run.snapshot()
        if snapshot.features is not None:
            service.submit("bench", snapshot.features)
        frame = service.latest("bench")
        if frame is not None and frame.projection.method not in seen:
            seen.add(frame.projection.method)
            print(f"first {frame.projection.method.value} frame {time.perf_counter() - started:.1f} s "
                  f"after Start (step {frame.projection.step}, {snapshot.step} now; UMAP "
                  f"{frame.umap_phase.value}{'; ' + frame.problem if frame.problem else ''})",
                  flush=True)
        time.sleep(1.0)
    print(f"Start came {started - page_view:.1f} s after the page view; training ran at "
          f"{run.snapshot().step / (time.perf_counter() - started):.1f} steps/s", flush=True)
    run.stop()
    service.close()


if __name__ == "__main__":
    main()
