"""`python -m sgan_core study ...`: a label-budget study from the command line.

    python -m sgan_core study --dataset mnist --data-dir data --labels-per-class 1 5 10 \
        --seeds 0 1 2 --max-steps 3000 --out runs/label-study [--backend ray]

Every TrainConfig field but the swept two is a flag, as for `train`; the cells run in
worker processes (or Ray tasks), a rerun with the same --out resumes, and the results
are results.csv, summary.csv and results.json in --out. Exit codes as for `train`:
2 for bad input (one line on stderr), 1 when a cell crashed, 130 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from sgan_core.cli.common import EXIT_RUN_FAILED, add_config_flags, config_from_args
from sgan_core.studies.study import make_spec, pending_cells, run_study
from sgan_core.studies.backends import BACKENDS, make_backend

# A study's cells default to one thread each (one cell per core) and rarely evaluate
# along the way: a cell reports its final figures, and evaluation eats its time budget.
STUDY_DEFAULTS = {"num_threads": 1, "eval_every_s": 30.0}


def add_study_parser(commands: Any) -> None:
    """Register the `study` subcommand on the CLI's subparsers."""
    study = commands.add_parser(
        "study", help="a label-budget study: SGAN vs baseline over label counts and seeds",
        description="Train one SGAN and its baseline per (labels per class, seed) cell in "
                    "worker processes; resumable; writes results.csv/json to --out.")
    study.add_argument("--labels-per-class", dest="study_labels", type=int, nargs="+",
                       required=True, metavar="N", help="label counts per class to sweep")
    study.add_argument("--seeds", dest="study_seeds", type=int, nargs="+", default=[0],
                       metavar="SEED", help="seeds per label count (default: 0)")
    study.add_argument("--out", type=Path, required=True,
                       help="study folder; rerunning with the same folder resumes")
    study.add_argument("--backend", default="local", metavar="|".join(BACKENDS),
                       help="where cells run: local worker processes or Ray tasks")
    study.add_argument("--ray-address", default=None, metavar="ADDR",
                       help="Ray cluster (HOST:PORT or ray://HOST:PORT); without it "
                            "--backend ray starts a local Ray runtime")
    study.add_argument("--workers", type=int, default=None, metavar="K",
                       help="cells at once (default: cores // --num-threads)")
    study.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_flags(study, defaults=STUDY_DEFAULTS, exclude=("labels_per_class", "seed"))


def run_study_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the study `args` asks for; `argv` is recorded in study.json as the command."""
    base = config_from_args(args, defaults=STUDY_DEFAULTS)
    spec = make_spec(base, args.study_labels, args.study_seeds)
    backend = make_backend(args.backend, args.workers, base.num_threads, args.ray_address)
    command = ["python", "-m", "sgan_core", *argv]
    _interrupt_on_sigterm()  # a killed study ends its workers (finished cells are kept)
    done = len(spec.cells()) - len(pending_cells(spec, args.out))  # a resume starts there
    bar = _progress_bar(len(spec.cells()), done, show=not args.no_progress)
    try:
        outcome = run_study(spec, args.out, backend, command=command,
                            on_cell=lambda row: _advance(bar, row))
    finally:
        bar.close()
    print(json.dumps(outcome.document["summary"], indent=2))
    for row in outcome.crashed:
        print(f"error: cell labels_per_class={row['labels_per_class']} seed={row['seed']} "
              f"crashed: {(row.get('error') or '?').splitlines()[0]} (rerun to retry it)",
              file=sys.stderr)
    return EXIT_RUN_FAILED if outcome.crashed else 0


def _interrupt_on_sigterm() -> None:
    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _progress_bar(total: int, done: int, show: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="cell", file=sys.stderr, disable=not show,
                dynamic_ncols=True)


def _advance(bar, row: dict[str, Any]) -> None:
    text = f"labels {row['labels_per_class']} seed {row['seed']}: {row['status']}"
    if row.get("test_accuracy") is not None:
        text += (f" sgan {row['test_accuracy']:.3f} "
                 f"base {row.get('baseline_test_accuracy', float('nan')):.3f}")
    bar.set_postfix_str(text, refresh=False)
    bar.update(1)
