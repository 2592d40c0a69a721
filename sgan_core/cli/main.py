"""Headless training: `python -m sgan_core train ...` (and `study ...`, in study_cli.py).

Every TrainConfig field is a flag (`--labels-per-class 10`); the run is the same
TrainingRun the dashboard drives, so what the CLI measures is what the page shows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from sgan_core.cli.common import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED,
                                  RESUMABLE_FIELDS, OneLineParser, add_config_flags,
                                  config_from_args, flag, given_fields)
from sgan_core.config import ConfigError
from sgan_core.cli.export import add_export_flags, check_export_target, write_export
from sgan_core.runs.progress import run_followed
from sgan_core.storage.run_folder import disk_message, final_metrics, write_finished
from sgan_core.snapshot import ErrorKind
from sgan_core.cli.study import add_study_parser, run_study_command
from sgan_core.threads import configure_threads


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m sgan_core",
                           description="SGAN Studio: headless semi-supervised GAN training "
                                       "and label-budget studies.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser("train", help="train an SGAN and its baseline")
    add_config_flags(train)
    train.add_argument("--out", type=Path, default=None,
                       help="run folder for metrics.json, history.csv, checkpoint.pt")
    train.add_argument("--resume", type=Path, default=None,
                       help="checkpoint.pt (or the run folder holding it) to continue; "
                            f"only {', '.join(flag(n) for n in RESUMABLE_FIELDS)} may "
                            "change, everything else comes from the checkpoint")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_export_flags(train)
    add_study_parser(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_threads()  # before anything below imports torch
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        return run_study_command(args, argv) if args.command == "study" else _train(args, argv)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _make_run(args: argparse.Namespace):
    from sgan_core.runs.training_run import TrainingRun

    if args.resume is None:
        cfg = config_from_args(args)
        if cfg.max_steps == 0 and cfg.time_budget_s == 0:
            raise ConfigError("no limit given: add --steps N (alias --max-steps) "
                              "or --time-budget-s S")
        return TrainingRun(cfg)
    return _resumed_run(args)


def _resumed_run(args: argparse.Namespace):
    from sgan_core.storage.checkpoints import CheckpointError, load_run
    from sgan_core.runs.training_run import TrainingRun

    path = args.resume / "checkpoint.pt" if args.resume.is_dir() else args.resume
    try:
        cfg, restore = load_run(path)
    except CheckpointError as error:
        raise ConfigError(str(error)) from error
    given = given_fields(args)
    fixed = sorted(name for name in given if name not in RESUMABLE_FIELDS
                   and given[name] != getattr(cfg, name))
    if fixed:
        raise ConfigError(f"{', '.join(flag(n) for n in fixed)} cannot change when resuming "
                          f"(the checkpoint fixes them); only "
                          f"{', '.join(flag(n) for n in RESUMABLE_FIELDS)} may")
    return TrainingRun(cfg.replace(**given), restore=restore)


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    import torch

    run = _make_run(args)
    torch.set_num_threads(run.config.num_threads)
    if args.out is not None:
        _prepare_out(args.out)
    check_export_target(args)  # before training: a bad path must not cost the run
    # Train in this (the main) thread; the progress bar only reads snapshots.
    final = run_followed(run, show_progress=not args.no_progress)
    if final.error is not None:
        print(f"error: {_cli_message(final)}", file=sys.stderr)
        return EXIT_BAD_INPUT if final.error_kind == ErrorKind.BAD_INPUT else EXIT_RUN_FAILED
    metrics = final_metrics(run, final)
    print(json.dumps(metrics, indent=2))
    if args.out is not None:
        try:
            write_finished(args.out, run, final, metrics)
        except OSError as error:
            print(f"error: {disk_message(error, args.out)}", file=sys.stderr)
            return EXIT_RUN_FAILED
    write_export(args, run, argv)
    return 0


def _prepare_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create --out {out}: {error.strerror}; choose a "
                          "writable folder") from error


def _cli_message(final) -> str:
    """The run's error in the CLI's terms (the page's words speak of its buttons)."""
    if final.error_kind == ErrorKind.DIVERGED:
        return (f"the run diverged at step {final.step} (the losses became NaN or "
                "infinite): lower the learning rates, e.g. --d-lr and --g-lr at half "
                "their values, and run again")
    if final.error_kind == ErrorKind.STEP_FAILED:
        return f"a training step failed at step {final.step}: {final.error.splitlines()[0]}"
    return final.error
