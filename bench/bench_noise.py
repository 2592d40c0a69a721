"""The noise layers' draws: torch's `randn` against `models.quantile_normal`.

    python bench/bench_noise.py --data-dir data [--threads 1] [--rounds 5]

Prints (1) one call of 300,000 values each way, and (2) the whole training step with
each, two trainers in one process timed in alternating blocks of 20 steps, as CPU time
per step (a busy neighbour slows both alike; on an idle machine wall time agrees).
Asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgan_core.threads import configure_threads  # noqa: E402

configure_threads()  # before torch loads, as the CLI does
import torch  # noqa: E402


def median_cpu_ms(work, repeats: int) -> float:
    work()
    times = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return 1000 * statistics.median(times)


def one_call(count: int = 300_000) -> None:
    from sgan_core.training.models import quantile_normal
    generator = torch.Generator().manual_seed(0)
    for dtype in (torch.bfloat16, torch.float32):
        like = torch.empty(count, dtype=dtype)
        randn = median_cpu_ms(lambda: torch.randn(count, dtype=dtype, generator=generator), 40)
        lookup = median_cpu_ms(lambda: quantile_normal(like, generator), 40)
        print(f"{count:,} values, {dtype}: randn {randn:.2f} ms, lookup {lookup:.2f} ms")


def whole_step(data_dir: str, rounds: int) -> None:
    import sgan_core.training.models as models
    from sgan_core.config import TrainConfig
    from sgan_core.data.loading import load_split
    from sgan_core.training.trainer import Trainer

    lookup_random = models.RunRandomness._random

    def randn_random(self, like, normal):  # torch's own draw, to set against the lookup
        draw = torch.randn if normal else torch.rand
        return draw(like.shape, dtype=like.dtype, device=like.device, generator=self.generator)

    cfg = TrainConfig(data_dir=data_dir, download=False, labels_per_class=10, seed=100)
    split = load_split(cfg)
    ways = {"randn": randn_random, "lookup": lookup_random}
    trainers = {name: Trainer(cfg, split) for name in ways}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for round_ in range(rounds + 1):
        for name, draw in ways.items():
            models.RunRandomness._random = draw
            started = time.process_time()
            for _ in range(20):
                trainers[name].train_step()
            if round_ > 0:  # round 0 warms both up
                times[name].append(1000 * (time.process_time() - started) / 20)
    models.RunRandomness._random = lookup_random
    for name, values in times.items():
        print(f"whole step with {name:>6}: {statistics.median(values):.1f} ms CPU per step "
              f"(rounds: {', '.join(f'{v:.1f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    one_call()
    whole_step(args.data_dir, args.rounds)


if __name__ == "__main__":
    main()
