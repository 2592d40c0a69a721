"""bench_runaway.py's child: trains this tree with one config (and, optionally, one
experiment on the MLP discriminator) and prints G's and D's losses as it goes.

    python bench/children/runaway.py TREE PAYLOAD

PAYLOAD: JSON {"config": TrainConfig fields, "steps", "every", "marks": [steps],
"widths", "leaky", "preact"}. Prints a JSON line every `every` steps: the window's mean
G loss and D's unsupervised losses, and at the marks the validation accuracy.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this tree's bench/
from bench.children.common import build_trainer, start_child, validation_accuracy  # noqa: E402


def apply_experiment(args: dict) -> None:
    """The experiment's changes to the MLP discriminator (none is a config field)."""
    import torch
    from sgan_core.training import models

    if args.get("widths"):  # its hidden widths
        models.MLP_WIDTHS = tuple(args["widths"])
    if args.get("leaky"):  # a leaky-ReLU slope for its activation
        models.MLP_ACTIVATION = lambda: torch.nn.LeakyReLU(args["leaky"])
    if args.get("preact"):  # feature matching on the last hidden layer's pre-activations
        # (G gets a gradient from units that never fire on its fakes)
        def forward(self, images):
            pre = self.trunk[:-1](images)  # the trunk without its last activation
            return self.head(self.trunk[-1](pre)).float(), pre.float()
        models.Discriminator.forward = forward


def trace(trainer, split, args: dict) -> None:
    """Train args["steps"] steps, printing a row every args["every"]."""
    window = []
    for step in range(1, args["steps"] + 1):
        losses = trainer.train_step()
        window.append((losses.generator, losses.unsupervised_real, losses.unsupervised_fake))
        if step % args["every"] == 0:
            mean = [sum(v) / len(window) for v in zip(*window)]
            row = {"step": step, "g": mean[0], "real": mean[1], "fake": mean[2]}
            if step in args["marks"]:
                row["sgan"] = validation_accuracy(trainer.accuracy_discriminator, split)
                row["baseline"] = validation_accuracy(trainer.accuracy_baseline, split)
            print(json.dumps(row), flush=True)
            window = []


def main() -> None:
    args = start_child(__doc__.splitlines()[0],
                       "JSON: config, steps, every, marks, experiment", threads=1)
    apply_experiment(args)
    trainer, split = build_trainer(args["config"])
    trace(trainer, split, args)

if __name__ == "__main__":
    main()
