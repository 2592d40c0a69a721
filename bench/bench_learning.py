"""Learning per step, this tree against a reference commit: validation accuracy at marks.

    python bench/bench_learning.py --data-dir data --ref d195b05 --seeds 100 101 102 \
        --marks 1000 2000 4000 [--config '{"feature_matching_target": "same_batch"}']

Each (tree, seed) trains in its own fresh process with the same config (one thread, so
it is contention-proof: the figures are per step, not per second) and prints SGAN and
baseline accuracy on the validation slice at each mark, then the medians over seeds.
Validation only: this is for choices; nothing here looks at the test set. `--no-ref`
measures this tree alone (e.g. two configs of it). Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_step import reference_tree  # noqa: E402

CHILD = ROOT / "bench" / "children" / "learning.py"  # run by path: see bench/children/


def run(tree: Path, config: dict, marks: list[int]) -> dict[int, tuple[float, float]]:
    payload = json.dumps({"config": config, "marks": marks})
    out = subprocess.run([sys.executable, str(CHILD), str(tree), payload], cwd=tree,
                         check=True, capture_output=True, text=True)
    return {int(k): tuple(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--ref", default="d195b05")
    parser.add_argument("--no-ref", action="store_true", help="this tree only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--marks", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--config", default="{}", help="TrainConfig overrides (JSON)")
    args = parser.parse_args()
    config = {"data_dir": args.data_dir, "download": False, "labels_per_class": 10,
              "num_threads": 1, "lr_decay_steps": max(args.marks),
              **json.loads(args.config)}
    trees = {"this tree": ROOT}
    if not args.no_ref:
        trees[f"ref {args.ref}"] = reference_tree(args.ref)
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for seed in args.seeds:
        for name, tree in trees.items():
            marks = run(tree, {**config, "seed": seed}, args.marks)
            results[name].append(marks)
            print(f"seed {seed} {name:>14}: " + "  ".join(
                f"{step}: {sgan:.4f}/{base:.4f}" for step, (sgan, base) in marks.items()),
                flush=True)
    print(f"config {args.config}; validation accuracy SGAN/baseline, median over seeds "
          f"{args.seeds}:")
    for name, runs in results.items():
        print(f"{name:>14}: " + "  ".join(
            f"{step}: {statistics.median(r[step][0] for r in runs):.4f}/"
            f"{statistics.median(r[step][1] for r in runs):.4f}" for step in args.marks))


if __name__ == "__main__":
    main()
