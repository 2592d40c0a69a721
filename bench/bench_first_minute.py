"""The page's default offline run, as a class sees it: SGAN vs baseline over the first
minute(s) on the bundled MNIST subset, this tree against a reference commit.

    python bench/bench_first_minute.py [--ref d195b05] [--seconds 90] [--seeds 3]

Runs the CLI with the page's defaults (TrainConfig's: 1 thread, an evaluation every
2 s, 10 labels per class, no data folder -> the bundled subset) in a fresh process per
tree and seed, and prints test-subset accuracy (the page's figure) at each evaluation.
Runs one after the other, never at once. Asserts nothing.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_step import reference_tree  # noqa: E402


def history(tree: Path, seconds: float, seed: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as empty:
        subprocess.run([sys.executable, "-m", "sgan_core", "train", "--time-budget-s",
                        str(seconds), "--num-threads", "1", "--eval-every-s", "2",
                        "--seed", str(seed), "--out", out, "--no-progress"],
                       cwd=tree, check=True, capture_output=True,
                       env={"SGAN_DATA_DIR": empty, "PATH": "/usr/bin:/bin",
                            "HOME": str(Path.home())})
        with open(Path(out) / "history.csv") as handle:
            return list(csv.DictReader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="d195b05")
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3])
    args = parser.parse_args()
    trees = {"this tree": ROOT, f"ref {args.ref}": reference_tree(args.ref)}
    for seed in args.seeds:
        for name, tree in trees.items():
            rows = history(tree, args.seconds, seed)
            print(f"\n{name}, seed {seed}: seconds step SGAN baseline gap (test subset)")
            for row in rows:
                sgan, base = float(row["test_accuracy"]), float(row["baseline_test_accuracy"])
                print(f"  {float(row['seconds']):6.1f} {int(float(row['step'])):6d} "
                      f"{sgan:.4f} {base:.4f} {100 * (sgan - base):+5.1f}", flush=True)


if __name__ == "__main__":
    main()
