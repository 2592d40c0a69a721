"""How long UMAP takes here: import, first (compiling) fit, and warm aligned updates.

    python bench/bench_embedding.py [--points 2000] [--dim 128] [--updates 10] [--threads 1]

Uses random clustered features (10 blobs) shaped like the discriminator's; each update
nudges the features a little, the way consecutive training snapshots differ, and runs
`UmapProjector.project` (init from the previous layout, 50 epochs) plus the Procrustes
alignment, exactly what the dashboard's embedding worker does. Run it in a fresh process:
the import and compile figures are only meaningful the first time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from sgan_core.embedding import UmapProjector, align_to, clustered_points  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000, help="real points per frame")
    parser.add_argument("--fakes", type=int, default=0, help="extra fake points per frame")
    parser.add_argument("--dim", type=int, default=128, help="feature dimension")
    parser.add_argument("--updates", type=int, default=10, help="timed warm updates")
    parser.add_argument("--threads", type=int, default=1, help="numba threads (app: 1)")
    return parser.parse_args()


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    args = parse_args()
    _, import_s = timed(__import__, "umap")
    print(f"import umap: {import_s:.1f} s")

    projector = UmapProjector(threads=args.threads)
    _, compile_s = timed(projector.warm_up)
    print(f"first fit (300 points, compiles numba): {compile_s:.1f} s")

    rng = np.random.default_rng(0)
    real = clustered_points(args.points, args.dim, seed=1)
    fake = clustered_points(args.fakes, args.dim, seed=2)
    (previous, _), first_s = timed(projector.project, real, fake)
    print(f"first fit of {args.points} + {args.fakes} points (200 epochs): {first_s:.2f} s")

    seconds, drift = [], []
    for _ in range(args.updates):
        real = real + rng.normal(scale=0.05, size=real.shape).astype(np.float32)
        started = time.perf_counter()
        current, _ = projector.project(real, fake)
        aligned = align_to(previous, current)
        seconds.append(time.perf_counter() - started)
        spread = np.linalg.norm(previous - previous.mean(0), axis=1).mean()
        drift.append(float(np.linalg.norm(aligned - previous, axis=1).mean() / spread))
        previous = aligned
    print(
        f"aligned update of {args.points} x {args.dim} ({args.threads} numba thread(s)), "
        f"{args.updates} runs: median {statistics.median(seconds):.3f} s, "
        f"min {min(seconds):.3f} s, max {max(seconds):.3f} s"
    )
    print(f"mean point movement per update / mean spread: median {statistics.median(drift):.3f}")


if __name__ == "__main__":
    main()
