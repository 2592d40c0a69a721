"""Accuracy per training step for config overrides (tuning; contention-proof).

    python bench/sweep_steps.py '{"d_lr": 0.0005}' 2000    # T=threads (default 1), EVERY=500

Prints SGAN / baseline accuracy on the 2,000-image test subset every EVERY steps and at
the end. With no time or step budget the lr_decay_to_budget schedule is off: pass
"lr_decay_steps": STEPS to mimic a budgeted run.
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("T", "1")))

from sgan_core.config import TrainConfig  # noqa: E402
from sgan_core.data import load_split  # noqa: E402
from sgan_core.evaluation import Evaluator  # noqa: E402
from sgan_core.trainer import Trainer  # noqa: E402


def main() -> None:
    overrides = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    every = int(os.environ.get("EVERY", "500"))
    data_dir = os.environ.get("SGAN_DATA_DIR", "data")
    cfg = TrainConfig(data_dir=data_dir, download=False, **overrides)
    split = load_split(cfg)
    trainer, evaluator = Trainer(cfg, split), Evaluator(cfg, split, cfg.noise_dim)
    started, marks = time.time(), []
    for step in range(1, steps + 1):
        losses = trainer.train_step()
        if step % every == 0 or step == steps:
            sgan, baseline = evaluator.test_accuracies(trainer)
            marks.append(f"{step}:{sgan:.3f}/{baseline:.3f}")
            print(marks[-1], flush=True)
    print(overrides, f"{(time.time() - started) / steps * 1000:.1f}ms/step", " ".join(marks),
          f"sup={losses.supervised:.3f} g={losses.generator:.2f}", flush=True)


if __name__ == "__main__":
    main()
