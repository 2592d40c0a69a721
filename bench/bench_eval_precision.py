"""What evaluating in bfloat16 costs and changes: one periodic evaluation's time in the
step's precision against float32, and how many validation verdicts differ.

    python bench/bench_eval_precision.py RUN_FOLDER [RUN_FOLDER ...] [--threads 1]

Each RUN_FOLDER is a CLI run's `--out` folder (its checkpoint.pt). For each: the
validation accuracy of the weight averages (D and baseline) and of the live D with
float32 and with bfloat16 autocast matmuls, the verdicts (argmax) that differ between
the two, and the time of `predict` over the validation slice; then the time of one
`Evaluator.evaluate` (what a run does every `eval_every_s`) with the run's precision
forced to each. Validation only: the test set decides nothing. Asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from sgan_core.threads import configure_threads  # noqa: E402

configure_threads()  # before torch loads, as the CLI does
import torch  # noqa: E402

from sgan_core.storage.checkpoints import load_run  # noqa: E402
from sgan_core.data.loading import load_split  # noqa: E402
from sgan_core.training.evaluation import Evaluator, accuracy, predict  # noqa: E402
from sgan_core.training.trainer import Trainer  # noqa: E402

PRECISIONS = ("float32", "bfloat16")


def timed(work, repeats: int = 5) -> tuple[float, object]:
    """Median seconds of `repeats` calls (after one warm-up), and the last result."""
    result = work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def compare_models(trainer: Trainer, split) -> None:
    images, targets = split.validation_images, split.validation_targets
    models = {"average D": trainer.accuracy_discriminator,
              "average baseline": trainer.accuracy_baseline, "live D": trainer.discriminator}
    for name, model in models.items():
        runs = {p: timed(lambda p=p: predict(model, images, precision=p)[0])
                for p in PRECISIONS}
        (t32, exact), (t16, fast) = runs["float32"], runs["bfloat16"]
        differ = int((exact.argmax(1) != fast.argmax(1)).sum())
        print(f"  {name:>16}: validation float32 {accuracy(exact, targets):.4f} "
              f"({1000 * t32:.0f} ms), bfloat16 {accuracy(fast, targets):.4f} "
              f"({1000 * t16:.0f} ms); verdicts differ on {differ} of {len(targets)}")


def time_evaluations(trainer: Trainer, cfg, split) -> None:
    evaluator = Evaluator(cfg, split, cfg.noise_dim)
    for precision in PRECISIONS:
        trainer.precision = precision
        seconds, _ = timed(lambda: evaluator.evaluate(trainer))
        print(f"  one periodic evaluation in {precision}: {1000 * seconds:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="CLI --out folders with checkpoint.pt")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for folder in args.runs:
        cfg, state = load_run(Path(folder) / "checkpoint.pt")
        split = load_split(cfg)
        trainer = Trainer(cfg, split)
        trainer.load_state_dict(state["trainer"] if "trainer" in state else state)
        print(f"{folder} (step {trainer.step_count:,}, {args.threads} thread(s))")
        compare_models(trainer, split)
        time_evaluations(trainer, cfg, split)


if __name__ == "__main__":
    main()
