"""How long torch's OpenMP threads should spin before sleeping: the 2-thread step's time
for several GOMP_SPINCOUNT values, on an idle machine and with a busy neighbour.

    python bench/bench_spin.py --data-dir data [--spins 1000 300000 unset] [--rounds 3]
                               [--threads 2] [--worker-thread]

libgomp reads GOMP_SPINCOUNT once, when torch loads, so every value gets its own fresh
process (sgan_core/threads.py sets the project's choice before torch loads; here the
child sets its own first). Each round measures every value once, idle and then with a
busy-loop process holding one core ("contended": a second busy program on a 2-core
laptop, the page's own server, a browser) or, with `--neighbour torch`, a second
training process like it; prints per round and the medians: ms per
step (median of the timed steps). Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = ROOT / "bench" / "children" / "spin.py"

BUSY = "while True: pass"


def _child(spin: str, options: argparse.Namespace, **overrides) -> list[str]:
    """The command of one training child for `spin` (overrides: the neighbour's)."""
    payload = {"spin": spin, "root": str(ROOT), "data_dir": options.data_dir,
               "threads": options.threads, "warmup": options.warmup, "steps": options.steps,
               "worker_thread": options.worker_thread, **overrides}
    return [sys.executable, str(CHILD), json.dumps(payload)]


def measure(spin: str, options: argparse.Namespace) -> float:
    out = subprocess.run(_child(spin, options), check=True, capture_output=True, text=True,
                         timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])["ms"]


def measure_contended(spin: str, options: argparse.Namespace) -> float:
    if options.neighbour == "busy":
        busy = subprocess.Popen([sys.executable, "-c", BUSY])
    else:  # a second training process with the same threads and spin setting
        busy = subprocess.Popen(_child(spin, options, warmup=0, steps=0,
                                       worker_thread=False, forever=True))
    try:
        return measure(spin, options)
    finally:
        busy.kill()
        busy.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--spins", nargs="+", default=["1000", "300000", "unset"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--worker-thread", action="store_true",
                        help="train in a thread started after the main thread built the "
                             "trainer (how run.py trains)")
    parser.add_argument("--no-contended", action="store_true")
    parser.add_argument("--neighbour", choices=("busy", "torch"), default="busy",
                        help="contended: a busy loop on one core, or a second training "
                             "process with the same threads and spin setting")
    options = parser.parse_args()
    results: dict[tuple[str, str], list[float]] = {}
    for round_index in range(options.rounds):
        for spin in options.spins:
            cases = [("idle", measure)]
            if not options.no_contended:
                cases.append(("contended", measure_contended))
            for label, run in cases:
                ms = run(spin, options)
                results.setdefault((spin, label), []).append(ms)
                print(f"round {round_index + 1} spin {spin:>8} {label:>9}: {ms:7.1f} ms/step",
                      flush=True)
    print(f"\nmedians over {options.rounds} rounds, {options.threads} threads"
          f"{', worker thread' if options.worker_thread else ''}:")
    for (spin, label), values in results.items():
        print(f"  GOMP_SPINCOUNT {spin:>8} {label:>9}: {statistics.median(values):7.1f} ms/step")


if __name__ == "__main__":
    main()
