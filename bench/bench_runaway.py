"""Does D run away from G? Long-schedule runs on tuning seeds, traced by G's loss.

    python bench/bench_runaway.py --data-dir data --seeds 100 101 102 103 --steps 8000 \
        --decay-steps 20000 --configs '{"trained": {}, "fixed": {"train_hidden_scales": false}}'

A runaway: D's unsupervised losses fall towards 0 (every fake caught) and G's
feature-matching loss climbs from its healthy 0.3-0.5 to 5-30, while the SGAN's accuracy
stalls (bench/README.md, "20,000 steps"). G's loss needs no label, so it is the signal.
Each (config, seed) trains in its own process with one thread (`--jobs` at once: the
figures are per step, so sharing the cores changes none of them) and prints, every
`--every` steps, the window's mean G loss and D's unsupervised losses, and the
validation accuracy (SGAN / baseline) at `--marks`. Validation only; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = ROOT / "bench" / "children" / "runaway.py"


def run(config: dict, steps: int, every: int, marks: list[int]) -> list[dict]:
    experiment = {key: config.pop(key, None) for key in ("widths", "leaky", "preact")}
    payload = json.dumps({"config": config, "steps": steps, "every": every, "marks": marks,
                          **experiment})
    out = subprocess.run([sys.executable, str(CHILD), str(ROOT), payload], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def summary(name: str, seed: int, rows: list[dict], threshold: float) -> str:
    """One line per run: where G's loss first passed `threshold`, its peak, the marks."""
    late = [r for r in rows if r["step"] > 1000]
    first = next((r["step"] for r in late if r["g"] > threshold), None)
    peak = max((r["g"] for r in late), default=float("nan"))
    marks = "  ".join(f"{r['step']}: {r['sgan']:.4f}/{r['baseline']:.4f}"
                      for r in rows if "sgan" in r)
    verdict = f"RUNAWAY from ~{first}" if first else "no runaway"
    return (f"{name:>12} seed {seed}: {verdict}; G's loss peak {peak:.2f}, last "
            f"{rows[-1]['g']:.2f}, D fake loss last {rows[-1]['fake']:.3f}; {marks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--decay-steps", type=int, default=20000,
                        help="linear decay to 0 over this many steps (a 600 s run's)")
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--marks", type=int, nargs="+", default=[2000, 4000, 6000, 8000])
    parser.add_argument("--threshold", type=float, default=1.5,
                        help="G's window loss above this after step 1,000 = runaway")
    parser.add_argument("--configs", default='{"default": {}}',
                        help='JSON {"name": {TrainConfig overrides}}; "widths": [...] '
                             "sets the MLP discriminator's hidden widths, "
                             '"leaky": slope its activation, "preact": true feature matching '
                             "on the last hidden layer's pre-activations")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    base = {"data_dir": args.data_dir, "download": False, "labels_per_class": 10,
            "num_threads": 1, "lr_decay_steps": args.decay_steps, "lr_decay_to_budget": False}
    configs = json.loads(args.configs)
    marks = [m for m in args.marks if m % args.every == 0 and m <= args.steps]
    jobs = [(name, seed) for seed in args.seeds for name in configs]

    def one(job: tuple[str, int]) -> tuple[str, int, list[dict]]:
        name, seed = job
        rows = run({**base, **configs[name], "seed": seed}, args.steps, args.every, marks)
        trace = " ".join(f"{r['g']:.2f}" for r in rows)
        print(f"{name:>12} seed {seed} G's loss every {args.every}: {trace}\n"
              f"{summary(name, seed, rows, args.threshold)}", flush=True)
        return name, seed, rows

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, jobs))
    print(f"configs {args.configs}; {args.steps} steps, decay over {args.decay_steps}; "
          f"validation SGAN/baseline:")
    for name, seed, rows in results:
        print(summary(name, seed, rows, args.threshold))


if __name__ == "__main__":
    main()
