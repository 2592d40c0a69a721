"""bench_step.py's child: times Trainer.train_step of one tree in a fresh process.

    python bench/children/step.py TREE PAYLOAD THREADS

TREE: the tree whose sgan_core is measured; PAYLOAD: JSON {"config": TrainConfig
fields, "steps", "warmup", "worker_thread"}; THREADS: torch's intra-op threads. Prints
one JSON line: ms a step (median), GFLOP a step, the matmul peak and the two floors.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this tree's bench/
from bench.children.common import (build_trainer, run_in_worker_thread,  # noqa: E402
                                   start_child, timings)


def matmul_gflops(torch, dtype) -> float:
    """A 1024x1024 matmul's GFLOP/s in the step's precision: the peak to set it against."""
    a = torch.randn(1024, 1024, dtype=dtype)
    b = torch.randn(1024, 1024, dtype=dtype)
    times = timings(lambda: a @ b, repeats=10, warmup=3)
    return 2 * 1024 ** 3 / sorted(times)[len(times) // 2] / 1e9


def measure_steps(trainer, args: dict, result: dict) -> None:
    """ms a step over args["steps"] steps after args["warmup"], and one step's FLOPs."""
    from torch.utils.flop_counter import FlopCounterMode

    for _ in range(args["warmup"]):
        trainer.train_step()
    with FlopCounterMode(display=False) as counter:
        trainer.train_step()
    flops = counter.get_total_flops()
    times = timings(trainer.train_step, repeats=args["steps"])
    result.update(ms=1000 * statistics.median(times), gflop=flops / 1e9)


def matmul_floor_ms(torch, trainer) -> tuple[float, int]:
    """The step's own matmuls alone, replayed back to back at their recorded shapes,
    strides and dtypes: how fast the step could be if everything else were free."""
    from torch.utils._python_dispatch import TorchDispatchMode

    calls = []

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default):
                calls.append((func, [(a.shape, a.stride(), a.dtype)
                                     if isinstance(a, torch.Tensor) else a for a in args]))
            return func(*args, **(kwargs or {}))

    with Record():
        trainer.train_step()
    replay = [(func, [torch.randn(a[0], dtype=a[2]).as_strided(a[0], a[1])
                      if isinstance(a, tuple) and len(a) == 3 and isinstance(a[2], torch.dtype)
                      else a for a in spec]) for func, spec in calls]

    def once() -> None:
        for func, arguments in replay:
            func(*arguments)

    return 1000 * statistics.median(timings(once, repeats=20, warmup=3)), len(calls)


def update_floor_ms(trainer) -> tuple[float, int, int]:
    """The step's parameter updates alone, on the gradients the last step left: every
    optimiser's step() and every weight average's update(), back to back. With the
    matmuls, the work no implementation of this config can skip."""
    optimisers = [trainer.d_optimizer, trainer.g_optimizer, trainer.baseline_optimizer]
    averages = [(trainer.d_average, trainer.discriminator),
                (trainer.baseline_average, trainer.baseline)]

    def once() -> None:
        for optimiser in optimisers:
            optimiser.step()
        for average, model in averages:
            average.update(model)

    median_s = statistics.median(timings(once, repeats=20, warmup=3))
    return 1000 * median_s, len(optimisers), len(averages)


def main() -> None:
    args = start_child(__doc__.splitlines()[0], "JSON: config, steps, warmup, worker_thread")
    import torch

    trainer, _ = build_trainer(args["config"])
    precision = getattr(trainer, "precision", "float32")
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    result: dict = {"precision": precision}
    run_in_worker_thread(lambda: measure_steps(trainer, args, result), args["worker_thread"])
    result["peak_gflops"] = matmul_gflops(torch, dtype)
    result["matmul_floor_ms"], result["matmuls"] = matmul_floor_ms(torch, trainer)
    result["update_floor_ms"], result["optimisers"], result["averages"] = update_floor_ms(trainer)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
