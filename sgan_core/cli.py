"""Headless training: `python -m sgan_core train ...`.

Every TrainConfig field is a flag (`--labels-per-class 10`); the run is the same
TrainingRun the dashboard drives, so what the CLI measures is what the page shows.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from sgan_core.config import ConfigError, TrainConfig

EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    for field in dataclasses.fields(TrainConfig):
        kind = {"bool": _bool, "int": int, "float": float}.get(str(field.type), str)
        default = field.default if field.default is not dataclasses.MISSING else "per-user cache"
        # The spelling `--steps N` is an alias of `--max-steps N`.
        aliases = ["--steps"] if field.name == "max_steps" else []
        parser.add_argument(_flag(field.name), *aliases, dest=field.name, type=kind,
                            default=None, metavar=field.name.upper(),
                            help=f"default: {default}")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m sgan_core",
                            description="SGAN Studio: headless semi-supervised GAN training.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    train = commands.add_parser("train", help="train an SGAN and its baseline")
    _add_config_flags(train)
    train.add_argument("--out", type=Path, default=None,
                       help="run folder for metrics.json, history.csv, checkpoint.pt")
    train.add_argument("--resume", type=Path, default=None,
                       help="checkpoint.pt to continue (its config wins over flags)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Flags that were given override TrainConfig's defaults."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
             if getattr(args, f.name, None) is not None}
    cli_defaults = {"num_threads": 2, "eval_every_s": 5.0}  # headless: both cores
    return TrainConfig(**{**cli_defaults, **given})


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _train(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _make_run(args: argparse.Namespace):
    from sgan_core.checkpoints import CheckpointError
    from sgan_core.run import TrainingRun

    if args.resume is None:
        cfg = config_from_args(args)
        if cfg.max_steps == 0 and cfg.time_budget_s == 0:
            raise ConfigError("no limit given: add --steps N (alias --max-steps) "
                              "or --time-budget-s S")
        return TrainingRun(cfg)
    try:
        return TrainingRun.from_checkpoint(args.resume)
    except CheckpointError as error:
        raise ConfigError(str(error)) from error


def _train(args: argparse.Namespace) -> int:
    import torch

    run = _make_run(args)
    torch.set_num_threads(run.config.num_threads)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    run.start()
    try:
        final = _follow(run, show_progress=not args.no_progress)
    finally:
        run.stop()
    if final.error and final.run_status == "failed":
        print(f"error: {final.error}", file=sys.stderr)
        return EXIT_RUN_FAILED if "not found" not in final.error else EXIT_BAD_INPUT
    metrics = _final_metrics(run, final)
    print(json.dumps(metrics, indent=2))
    if args.out is not None:
        _write_outputs(args.out, run, metrics)
    return 0 if final.error is None else EXIT_RUN_FAILED


def _follow(run, show_progress: bool):
    """Poll snapshots until the run ends; a progress bar on stderr."""
    from tqdm import tqdm

    cfg = run.config
    by_steps = cfg.max_steps > 0
    total = cfg.max_steps if by_steps else cfg.time_budget_s
    bar = tqdm(total=total, unit="step" if by_steps else "s", disable=not show_progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        while True:
            current = run.snapshot()
            bar.n = min(total, current.step if by_steps else round(current.elapsed_s, 1))
            bar.set_postfix_str(_postfix(current), refresh=True)
            if current.run_status in ("finished", "failed", "stopped"):
                return current
            if current.error:  # diverged or crashed: the CLI has no Resume button
                return current
            time.sleep(0.5)
    finally:
        bar.close()


def _postfix(current) -> str:
    if current.test_accuracy is None:
        return current.run_status
    baseline = current.baseline_test_accuracy
    text = f"acc {current.test_accuracy:.3f}"
    if baseline is not None:
        text += f" base {baseline:.3f}"
    return text + f" {current.images_per_second:.0f} img/s"


def _final_metrics(run, final) -> dict:
    sgan, baseline = run.full_test_accuracies()
    cfg = run.config
    return {
        "dataset": cfg.dataset,
        "labels_per_class": cfg.labels_per_class,
        "seed": cfg.seed,
        "steps": final.step,
        "seconds": round(final.elapsed_s, 2),
        "images_per_second": round(final.images_per_second, 1),
        "test_accuracy": sgan,
        "baseline_test_accuracy": baseline,
        "test_images": int(len(run.trainer.split.test_targets)),
        "fake_rejection_rate": final.fake_rejection_rate,
        "false_rejection_rate": final.false_rejection_rate,
        "status": final.run_status,
        "error": final.error,
        "data_source": final.data_source,
        "precision": run.trainer.precision,  # what "auto" resolved to on this machine
        "config": cfg.to_dict(),
    }


def _write_outputs(out: Path, run, metrics: dict) -> None:
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    run.history.to_csv(out / "history.csv")
    run.save_checkpoint(out / "checkpoint.pt")
