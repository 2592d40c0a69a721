"""bench_learning.py's child: trains one tree with one config and prints the validation
accuracy (SGAN, baseline) at each mark.

    python bench/children/learning.py TREE PAYLOAD

TREE: the tree whose sgan_core is measured; PAYLOAD: JSON {"config": TrainConfig
fields, "marks": [steps]}. Prints one JSON line {step: [sgan, baseline]}. One thread:
the figures are per step, so a busy neighbour changes none of them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this tree's bench/
from bench.children.common import build_trainer, start_child, validation_accuracy  # noqa: E402


def weight_averages(trainer) -> tuple:
    """The averaged D and baseline whose accuracy a run reports; a reference commit's
    trainer may call them eval_discriminator and eval_baseline."""
    return (getattr(trainer, "accuracy_discriminator", None) or trainer.eval_discriminator,
            getattr(trainer, "accuracy_baseline", None) or trainer.eval_baseline)


def accuracies_at(trainer, split, marks: list[int]) -> dict[int, tuple[float, float]]:
    """Train to the last mark; the validation accuracy of both models at each."""
    found = {}
    for step in range(1, max(marks) + 1):
        trainer.train_step()
        if step in marks:
            found[step] = tuple(validation_accuracy(model, split)
                                for model in weight_averages(trainer))
            # a reference commit's predict() may leave a model in eval mode; training
            # goes on in train mode
            trainer.discriminator.train()
            trainer.baseline.train()
    return found


def main() -> None:
    args = start_child(__doc__.splitlines()[0], "JSON: config, marks", threads=1)
    trainer, split = build_trainer(args["config"])
    print(json.dumps(accuracies_at(trainer, split, args["marks"])))

if __name__ == "__main__":
    main()
