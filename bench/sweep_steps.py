"""Validation accuracy per training step for config overrides (tuning; contention-proof).

    python bench/sweep_steps.py '{"d_lr": 0.0005}' 2000 --seeds 100 101 102
    (env: T=threads, default 1; EVERY=marks every N steps, default 500)

Tuning selects on the validation slice carved from training data, never on the test set:
this script does not even compute a test figure. Use tuning seeds (100 and up) here and
report test figures only on seeds that tuned nothing (bench/README.md says which).
With no time or step budget the lr_decay_to_budget schedule is off: pass
"lr_decay_steps": STEPS to mimic a budgeted run.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgan_core.threads import configure_threads  # noqa: E402

configure_threads()  # before torch loads, as the CLI does
import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("T", "1")))

from sgan_core.config import TrainConfig  # noqa: E402
from sgan_core.data.loading import load_split  # noqa: E402
from sgan_core.training.evaluation import Evaluator  # noqa: E402
from sgan_core.training.trainer import Trainer  # noqa: E402


def validation_marks(overrides: dict, steps: int, every: int, seed: int) -> dict[int, tuple]:
    """{step: (SGAN, baseline) validation accuracy} every `every` steps and at the end."""
    data_dir = os.environ.get("SGAN_DATA_DIR", "data")
    cfg = TrainConfig(data_dir=data_dir, download=False, **{"seed": seed, **overrides})
    split = load_split(cfg)
    trainer, evaluator = Trainer(cfg, split), Evaluator(cfg, split, cfg.noise_dim)
    started, marks = time.time(), {}
    for step in range(1, steps + 1):
        trainer.train_step()
        if step % every == 0 or step == steps:
            result = evaluator.validation_accuracies(trainer)
            marks[step] = (result.sgan, result.baseline)
            print(f"seed {seed} step {step}: validation {result.sgan:.4f} / "
                  f"{result.baseline:.4f}", flush=True)
    print(f"seed {seed}: {(time.time() - started) / steps * 1000:.1f} ms/step", flush=True)
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="?", default="{}")
    parser.add_argument("steps", nargs="?", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[100])
    args = parser.parse_args()
    overrides = json.loads(args.overrides)
    every = int(os.environ.get("EVERY", "500"))
    runs = [validation_marks(overrides, args.steps, every, seed) for seed in args.seeds]
    for step in runs[0]:
        sgan = [run[step][0] for run in runs]
        base = [run[step][1] for run in runs]
        print(f"{overrides} step {step}: validation SGAN median {statistics.median(sgan):.4f} "
              f"({' '.join(f'{v:.4f}' for v in sgan)}), baseline median "
              f"{statistics.median(base):.4f}", flush=True)


if __name__ == "__main__":
    main()
