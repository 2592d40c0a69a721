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

from sgan_core.config import ConfigError, TrainConfig, field_docs
from sgan_core.snapshot import ErrorKind

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


# The CLI's own defaults where they differ from TrainConfig's (the page's): headless
# training has both cores and no page to refresh.
CLI_DEFAULTS = {"num_threads": 2, "eval_every_s": 5.0}
# What a resumed run may change: how long and how it runs, not what it learns from.
RESUMABLE_FIELDS = ("max_steps", "time_budget_s", "eval_every_s", "num_threads", "device")


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    docs = field_docs()
    for field in dataclasses.fields(TrainConfig):
        kind = {"bool": _bool, "int": int, "float": float}.get(str(field.type), str)
        if field.name in CLI_DEFAULTS:
            default = CLI_DEFAULTS[field.name]
        elif field.default is not dataclasses.MISSING:
            default = field.default
        else:
            default = "SGAN_DATA_DIR or the per-user cache"
        # The spelling `--steps N` is an alias of `--max-steps N`.
        aliases = ["--steps"] if field.name == "max_steps" else []
        parser.add_argument(_flag(field.name), *aliases, dest=field.name, type=kind,
                            default=None, metavar=field.name.upper(),
                            help=f"{docs[field.name]} (default: {default})")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m sgan_core",
                            description="SGAN Studio: headless semi-supervised GAN training.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    train = commands.add_parser("train", help="train an SGAN and its baseline")
    _add_config_flags(train)
    train.add_argument("--out", type=Path, default=None,
                       help="run folder for metrics.json, history.csv, checkpoint.pt")
    train.add_argument("--resume", type=Path, default=None,
                       help="checkpoint.pt (or the run folder holding it) to continue; "
                            f"only {', '.join(_flag(n) for n in RESUMABLE_FIELDS)} may "
                            "change, everything else comes from the checkpoint")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _given(args: argparse.Namespace) -> dict:
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
            if getattr(args, f.name, None) is not None}


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Flags that were given override the CLI's defaults, then TrainConfig's."""
    given = _given(args)
    if "data_dir" in given:
        _check_data_dir(given["data_dir"])
        # An explicit folder means "this data": never train on the bundled subset instead.
        given.setdefault("bundled_fallback", False)
    return TrainConfig(**{**CLI_DEFAULTS, **given})


def _check_data_dir(data_dir: str) -> None:
    if not Path(data_dir).expanduser().is_dir():
        raise ConfigError(f"--data-dir {data_dir} does not exist: give the folder that "
                          "holds MNIST/raw/... (torchvision's layout), or leave the flag "
                          "out to use SGAN_DATA_DIR or the per-user cache")


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
    from sgan_core.run import TrainingRun

    if args.resume is None:
        cfg = config_from_args(args)
        if cfg.max_steps == 0 and cfg.time_budget_s == 0:
            raise ConfigError("no limit given: add --steps N (alias --max-steps) "
                              "or --time-budget-s S")
        return TrainingRun(cfg)
    return _resumed_run(args)


def _resumed_run(args: argparse.Namespace):
    from sgan_core.checkpoints import CheckpointError, load_run
    from sgan_core.run import TrainingRun

    path = args.resume / "checkpoint.pt" if args.resume.is_dir() else args.resume
    try:
        cfg, restore = load_run(path)
    except CheckpointError as error:
        raise ConfigError(str(error)) from error
    given = _given(args)
    fixed = sorted(name for name in given if name not in RESUMABLE_FIELDS
                   and given[name] != getattr(cfg, name))
    if fixed:
        raise ConfigError(f"{', '.join(_flag(n) for n in fixed)} cannot change when resuming "
                          f"(the checkpoint fixes them); only "
                          f"{', '.join(_flag(n) for n in RESUMABLE_FIELDS)} may")
    return TrainingRun(cfg.replace(**given), restore=restore)


def _train(args: argparse.Namespace) -> int:
    import torch

    run = _make_run(args)
    torch.set_num_threads(run.config.num_threads)
    if args.out is not None:
        _prepare_out(args.out)
    # Train in this (the main) thread; the progress bar only reads snapshots.
    follower = _Follower(run, show_progress=not args.no_progress)
    follower.start()
    try:
        run.run_here()
    finally:
        follower.finish()
    final = run.snapshot()
    if final.error is not None:
        print(f"error: {_cli_message(final)}", file=sys.stderr)
        return EXIT_BAD_INPUT if final.error_kind == ErrorKind.BAD_INPUT else EXIT_RUN_FAILED
    metrics = _final_metrics(run, final)
    print(json.dumps(metrics, indent=2))
    if args.out is not None:
        _write_outputs(args.out, run, metrics)
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


class _Follower:
    """A progress bar on stderr, fed from snapshots by a thread that touches no torch;
    it stops the run when the run asks for a button the CLI does not have (Resume)."""

    def __init__(self, run, show_progress: bool) -> None:
        import threading

        self.run = run
        self.show_progress = show_progress
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True, name="progress")

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _follow(self) -> None:
        from tqdm import tqdm

        cfg = self.run.config
        by_steps = cfg.max_steps > 0
        total = cfg.max_steps if by_steps else cfg.time_budget_s
        with tqdm(total=total, unit="step" if by_steps else "s", file=sys.stderr,
                  disable=not self.show_progress, dynamic_ncols=True) as bar:
            while True:
                current = self.run.snapshot()
                bar.n = min(total, current.step if by_steps else round(current.elapsed_s, 1))
                bar.set_postfix_str(_postfix(current), refresh=True)
                if current.error is not None and current.run_status == "paused":
                    self.run.stop(timeout=0)  # diverged or a step failed: no Resume here
                if self._done.wait(0.5):
                    return


def _postfix(current) -> str:
    if current.test_accuracy is None:
        return current.run_status.value
    baseline = current.baseline_test_accuracy
    text = f"acc {current.test_accuracy:.3f}"
    if baseline is not None:
        text += f" base {baseline:.3f}"
    return text + f" {current.steps_per_second:.1f} steps/s"


def _final_metrics(run, final) -> dict:
    cfg = run.config
    elapsed = max(final.elapsed_s, 1e-9)
    return {
        "dataset": cfg.dataset,
        "labels_per_class": cfg.labels_per_class,
        "seed": cfg.seed,
        "steps": final.step,
        "seconds": round(final.elapsed_s, 2),
        "steps_per_second": round(final.step / elapsed, 2),
        "images_per_second": round(final.step * cfg.batch_size / elapsed, 1),  # unlabeled
        "labeled_images_per_second": round(final.step * cfg.labeled_batch_size / elapsed, 1),
        **run.final_figures(),
        "status": final.run_status.value,
        "data_source": final.data_source,
        "config": cfg.to_dict(),
    }


def _write_outputs(out: Path, run, metrics: dict) -> None:
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    run.history.to_csv(out / "history.csv")
    run.save_checkpoint(out / "checkpoint.pt")
