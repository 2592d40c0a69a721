"""Step time of Trainer.train_step, this tree against a reference commit, side by side.

    python bench/bench_step.py --data-dir data [--ref d195b05] [--threads 2] [--rounds 5]
    python bench/bench_step.py --cli --steps 600 [--threads 2]     # whole CLI runs

Each round times `--steps` steps (after `--warmup`) of this tree and of the reference
tree (a `git worktree` of --ref), alternating, each in its own fresh process with the
same config, so a busy neighbour hits both alike. Prints per round and the medians: ms
per step, achieved GFLOP/s (FLOPs counted by torch.utils.flop_counter over one real
step), a 1024x1024 matmul's GFLOP/s in the same precision measured in the same process
(the peak), their ratio (model FLOP utilisation) and the speed-up; and two floors timed
in the same process: the step's matmuls replayed alone, and its parameter updates (the
optimisers' steps and weight averages) alone. Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = ROOT / "bench" / "children" / "step.py"  # run by path: see bench/children/


def measure(tree: Path, config: dict, threads: int, steps: int, warmup: int,
            worker_thread: bool) -> dict:
    payload = json.dumps({"config": config, "steps": steps, "warmup": warmup,
                          "worker_thread": worker_thread})
    out = subprocess.run([sys.executable, str(CHILD), str(tree), payload, str(threads)],
                         cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_cli(tree: Path, data_dir: str, threads: int, steps: int) -> dict:
    """A whole `python -m sgan_core train --steps N` run (evaluations included), as a
    user starts it: ms per step from its metrics.json (training seconds / steps)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "sgan_core", "train", "--data-dir", data_dir,
                        "--download", "false", "--labels-per-class", "10", "--steps",
                        str(steps), "--num-threads", str(threads), "--out", out,
                        "--no-progress"], cwd=tree, check=True, capture_output=True)
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    return {"ms": 1000 * metrics["seconds"] / metrics["steps"], "gflop": float("nan"),
            "peak_gflops": float("nan"), "precision": metrics.get("precision", "?")}


def reference_tree(ref: str) -> Path:
    where = Path(tempfile.gettempdir()) / f"sgan-ref-{ref}"
    if not where.exists():
        subprocess.run(["git", "worktree", "add", "-f", "--detach", str(where), ref],
                       cwd=ROOT, check=True, capture_output=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--ref", default="d195b05", help="commit to compare against")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--worker-thread", action="store_true",
                        help="train in a worker thread, as run.py does")
    parser.add_argument("--cli", action="store_true",
                        help="time whole CLI runs of --steps steps instead of a bare loop")
    args = parser.parse_args()
    config = {"data_dir": args.data_dir, "download": False, "labels_per_class": 10,
              "num_threads": args.threads, "precision": args.precision}
    trees = {"this tree": ROOT, f"ref {args.ref}": reference_tree(args.ref)}
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        for name, tree in trees.items():
            if args.cli:
                row = measure_cli(tree, args.data_dir, args.threads, args.steps)
            else:
                row = measure(tree, config, args.threads, args.steps, args.warmup,
                              args.worker_thread)
            results[name].append(row)
            print(f"round {round_} {name:>14}: {row['ms']:6.1f} ms/step "
                  f"({row['gflop']:.2f} GFLOP/step, peak {row['peak_gflops']:.0f} GFLOP/s, "
                  f"{row['precision']})", flush=True)
    medians = {}
    for name, rows in results.items():
        ms = statistics.median(r["ms"] for r in rows)
        medians[name] = ms
        if args.cli:
            print(f"{name:>14}: median {ms:6.1f} ms/step over whole CLI runs")
            continue
        peak = statistics.median(r["peak_gflops"] for r in rows)
        achieved = rows[0]["gflop"] / (ms / 1000)
        floor = statistics.median(r["matmul_floor_ms"] for r in rows)
        print(f"{name:>14}: median {ms:6.1f} ms/step, {achieved:5.0f} GFLOP/s achieved, "
              f"matmul peak {peak:5.0f} GFLOP/s, MFU {achieved / peak:.1%}; the step's "
              f"{rows[0]['matmuls']} matmuls alone {floor:.1f} ms ({floor / ms:.0%} of the step)")
        updates = statistics.median(r["update_floor_ms"] for r in rows)
        print(f"{'':>14}  its {rows[0]['optimisers']} optimiser steps and "
              f"{rows[0]['averages']} weight averages alone {updates:.1f} ms; matmuls + "
              f"updates {floor + updates:.1f} ms")
    this, ref = medians["this tree"], medians[f"ref {args.ref}"]
    where = " in a worker thread" if args.worker_thread else " (CLI runs)" if args.cli else ""
    print(f"speed-up (ref / this): {ref / this:.2f}x at {args.threads} threads{where}")
    if not args.cli:
        floors = [r["matmul_floor_ms"] + r["update_floor_ms"] for r in results["this tree"]]
        print(f"a third of the reference's step: {ref / 3:.1f} ms; this tree's matmuls + "
              f"updates alone: {statistics.median(floors):.1f} ms")


if __name__ == "__main__":
    main()
