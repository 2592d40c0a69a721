"""bench_spin.py's child: the 2-thread step's time under one GOMP_SPINCOUNT value.

    python bench/children/spin.py PAYLOAD

PAYLOAD: JSON {"spin": a count or "unset", "root", "data_dir", "threads", "warmup",
"steps", "worker_thread", "forever"}. Prints one JSON line {"ms": median ms a step};
with "forever" it trains on until it is killed (the busy neighbour of a measurement).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this tree's bench/
from bench.children.common import (build_trainer, measure_tree,  # noqa: E402
                                   project_thread_settings, run_in_worker_thread, timings)


def set_spin(spin: str) -> None:
    """GOMP_SPINCOUNT for libgomp, which reads it once, when torch loads: so before that.
    "unset": libgomp's own default (300,000 spins)."""
    os.environ.pop("GOMP_SPINCOUNT", None)
    if spin != "unset":
        os.environ["GOMP_SPINCOUNT"] = spin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("payload", help="JSON: spin, root, data_dir, threads, warmup, ...")
    args = json.loads(parser.parse_args().payload)
    set_spin(args["spin"])
    import torch  # libgomp reads the spin here

    measure_tree(args["root"])
    project_thread_settings()  # after torch: the rest of the project's settings, not its spin
    torch.set_num_threads(args["threads"])
    trainer, _ = build_trainer({"data_dir": args["data_dir"], "download": False,
                                "num_threads": args["threads"]})
    times: list[float] = []

    def measure() -> None:
        torch.set_num_threads(args["threads"])
        times.extend(timings(trainer.train_step, repeats=args["steps"], warmup=args["warmup"]))

    run_in_worker_thread(measure, args["worker_thread"])
    while args.get("forever"):  # the neighbour: the same training, until it is killed
        trainer.train_step()
    print(json.dumps({"ms": 1000 * sorted(times)[len(times) // 2]}))


if __name__ == "__main__":
    main()
