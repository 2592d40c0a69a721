"""Training benchmarks: accuracy against time, throughput, peak memory.

Prints figures; asserts nothing (machines here are shared and noisy).

    python bench/bench_training.py accuracy --data-dir data --seconds 60 600 [--seeds 0 1 2]
    python bench/bench_training.py accuracy --data-dir data --dataset fashion-mnist --seconds 300
    python bench/bench_training.py throughput --data-dir data --repeats 5
    python bench/bench_training.py memory --data-dir data --seconds 60

`accuracy` runs the real CLI once per budget (a fresh process each time, as a user
would) and reads metrics.json (full test set) and history.csv (2,000-image subset); per
run it prints ms a step, GFLOP a step (counted on the run's config by bench_step.py),
achieved GFLOP/s and the MFU against the 1024x1024 matmul peak (in the run's
precision, at its threads) measured in the same benchmark,
and the validation accuracy at 1k/2k/4k steps. (`bench_step.py` times the bare step
side by side against a reference commit; `bench_learning.py` compares validation
accuracy per step between trees or configs.)
`throughput` times our default step against a DCGAN-sized SGAN step in one process,
alternating the two, and reports medians of images/s and their ratio.
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from sgan_core.threads import configure_threads  # noqa: E402
from bench.bench_step import measure as measure_step  # noqa: E402


def run_cli(data_dir: str, dataset: str, seconds: float, out: Path, extra: list[str],
            seed: int = 0) -> dict:
    command = [sys.executable, "-m", "sgan_core", "train", "--dataset", dataset,
               "--data-dir", data_dir, "--download", "false", "--labels-per-class", "10",
               "--seed", str(seed), "--time-budget-s", str(seconds), "--out", str(out),
               "--no-progress", *extra]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["wall_s"] = wall
    metrics["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with open(out / "history.csv") as handle:
        metrics["history"] = list(csv.DictReader(handle))
    return metrics


def accuracy_at(history: list[dict], second: float) -> str:
    """Subset accuracy of the last evaluation at or before `second` of training."""
    rows = [r for r in history if float(r["seconds"]) <= second]
    if not rows:
        return "-"
    row = rows[-1]
    return f"{float(row['test_accuracy']):.4f} / {float(row['baseline_test_accuracy']):.4f}"


def matmul_peak_gflops(threads: int = 2) -> dict[str, float]:
    """The machine's 1024x1024 matmul speed in GFLOP/s ({"bfloat16": .., "float32": ..})
    at `threads`, in a fresh process, to print beside step counts: machines of this
    project differ."""
    code = ("import json, time, torch; torch.set_num_threads(%d); peaks = {}\n"
            "for dt in (torch.bfloat16, torch.float32):\n"
            "    a = torch.randn(1024, 1024, dtype=dt); [a @ a for _ in range(3)]\n"
            "    t = []\n"
            "    for _ in range(15):\n"
            "        s = time.perf_counter(); a @ a; t.append(time.perf_counter() - s)\n"
            "    peaks[str(dt).split('.')[1]] = 2 * 1024 ** 3 / sorted(t)[7] / 1e9\n"
            "print(json.dumps(peaks))" % threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def step_gflop(run_folder: Path) -> float:
    """GFLOP of one training step (forward and backward matmuls of D, G and the
    baseline) at the config the run wrote to its folder, counted by bench_step.py's
    child process over one real step."""
    config = json.loads((run_folder / "config.json").read_text())
    return measure_step(ROOT, config, threads=1, steps=1, warmup=1,
                        worker_thread=False)["gflop"]


def validation_at_steps(history: list[dict], marks=(1000, 2000, 4000)) -> str:
    """Validation accuracy (SGAN / baseline) of the first evaluation at or after each
    step mark, with the step it was taken at: the figure a tuning choice may use."""
    parts = []
    for mark in marks:
        row = next((r for r in history if int(r["step"]) >= mark), None)
        if row is not None:
            parts.append(f"{mark:,}: {float(row['validation_accuracy']):.4f} / "
                         f"{float(row['baseline_validation_accuracy']):.4f} "
                         f"(step {int(row['step']):,})")
    return "; ".join(parts) or f"no evaluation reached step {marks[0]:,}"


def command_accuracy(args: argparse.Namespace) -> None:
    print(f"dataset={args.dataset} labels_per_class=10 seeds={args.seeds} extra={args.extra}")
    peaks_at: dict[int, dict[str, float]] = {}  # threads -> matmul peaks
    finals: dict[float, list[tuple[int, float, float]]] = {s: [] for s in args.seconds}
    for seed in args.seeds:
        for seconds in args.seconds:
            out = ROOT / "runs" / f"bench-{args.dataset}-{int(seconds)}s-seed{seed}"
            metrics = run_cli(args.data_dir, args.dataset, seconds, out, args.extra, seed)
            finals[seconds].append((seed, metrics["test_accuracy"],
                                    metrics["baseline_test_accuracy"]))
            per_step = 1000 * metrics["seconds"] / max(1, metrics["steps"])
            print(f"\n== seed {seed}, budget {seconds:.0f} s: steps {metrics['steps']} "
                  f"({per_step:.1f} ms/step, evaluations included), "
                  f"{metrics['images_per_second']:.0f} unlabeled img/s, "
                  f"wall {metrics['wall_s']:.0f} s")
            print(f"full test set: SGAN {metrics['test_accuracy']:.4f}  "
                  f"baseline {metrics['baseline_test_accuracy']:.4f}  "
                  f"(validation {metrics.get('validation_accuracy', float('nan')):.4f} / "
                  f"{metrics.get('baseline_validation_accuracy', float('nan')):.4f}; "
                  f"peak RSS of the runs so far: {metrics['peak_rss_mb']:.0f} MB)")
            threads = int(metrics["config"]["num_threads"])
            if threads not in peaks_at:
                peaks_at[threads] = matmul_peak_gflops(threads)
                print(f"  1024x1024 matmul peak, {threads} thread(s): " + ", ".join(
                    f"{dtype} {gflops:.0f} GFLOP/s" for dtype, gflops in
                    peaks_at[threads].items()))
            print(f"  per step: {step_figures(out, metrics, peaks_at[threads])}")
            print(f"  validation at steps (SGAN / baseline): "
                  f"{validation_at_steps(metrics['history'])}")
            for mark in [m for m in (30, 60, 120, 180, 300, 450, 600) if m <= seconds]:
                print(f"  subset acc at {mark:>3} s (SGAN / baseline): "
                      f"{accuracy_at(metrics['history'], mark)}", flush=True)
    for seconds, rows in finals.items():
        sgan, baseline = [r[1] for r in rows], [r[2] for r in rows]
        print(f"\nbudget {seconds:.0f} s over seeds {[r[0] for r in rows]}: SGAN median "
              f"{statistics.median(sgan):.4f} (min {min(sgan):.4f}, max {max(sgan):.4f}), "
              f"baseline median {statistics.median(baseline):.4f}")


def step_figures(run_folder: Path, metrics: dict, peaks: dict[str, float]) -> str:
    """ms a step (evaluations included), achieved GFLOP/s and that as a share of the
    matmul peak in the run's precision, measured in this same benchmark: the MFU."""
    ms = 1000 * metrics["seconds"] / max(1, metrics["steps"])
    gflop = step_gflop(run_folder)
    achieved = gflop / (ms / 1000)
    peak = peaks.get(metrics.get("precision", "float32"), float("nan"))
    return (f"{ms:.1f} ms, {gflop:.2f} GFLOP, {achieved:.0f} GFLOP/s achieved, "
            f"MFU {achieved / peak:.1%} of the {metrics.get('precision')} matmul peak")


def command_memory(args: argparse.Namespace) -> None:
    out = ROOT / "runs" / "bench-memory"
    metrics = run_cli(args.data_dir, args.dataset, args.seconds[0], out, args.extra)
    print(f"peak RSS of a {args.seconds[0]:.0f} s CLI training run: "
          f"{metrics['peak_rss_mb']:.0f} MB")


def command_throughput(args: argparse.Namespace) -> None:
    from bench.dcgan_reference import time_steps  # local helper, see that file

    results: dict[str, list[float]] = {"sgan-studio (mlp)": [], "dcgan-sized sgan": []}
    for _ in range(args.repeats):
        for name in results:
            results[name].append(time_steps(name, args.data_dir, args.steps))
    ours = statistics.median(results["sgan-studio (mlp)"])
    dcgan = statistics.median(results["dcgan-sized sgan"])
    for name, values in results.items():
        print(f"{name:>20}: median {statistics.median(values):7.0f} real img/s "
              f"(runs: {', '.join(f'{v:.0f}' for v in values)})")
    print(f"ratio ours / dcgan-sized: {ours / dcgan:.2f}x")


def main() -> None:
    configure_threads()  # first, before this process imports torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("accuracy", "throughput", "memory"))
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="accuracy: one run per seed and budget")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="more CLI flags, e.g. --extra --d-lr 0.001")
    args = parser.parse_args()
    {"accuracy": command_accuracy, "memory": command_memory,
     "throughput": command_throughput}[args.mode](args)


if __name__ == "__main__":
    main()
