"""What the CLI's subcommands share: exit codes, the one-line error parser, and every
TrainConfig field as a flag (its help is the field's doc, `config.field_docs`)."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Sequence

from sgan_core.config import ConfigError, TrainConfig, field_docs

EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: the shells' 128 + SIGINT


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")


def flag(name: str) -> str:
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


def add_config_flags(parser: argparse.ArgumentParser, defaults: dict = CLI_DEFAULTS,
                     exclude: Sequence[str] = ()) -> None:
    """Every TrainConfig field (but `exclude`) as a flag whose help is the field's doc."""
    docs = field_docs()
    for field in dataclasses.fields(TrainConfig):
        if field.name in exclude:
            continue
        kind = {"bool": _bool, "int": int, "float": float}.get(str(field.type), str)
        if field.name in defaults:
            default = defaults[field.name]
        elif field.default is not dataclasses.MISSING:
            default = field.default
        else:
            default = "SGAN_DATA_DIR or the per-user cache"
        # The spelling `--steps N` is an alias of `--max-steps N`.
        aliases = ["--steps"] if field.name == "max_steps" else []
        parser.add_argument(flag(field.name), *aliases, dest=field.name, type=kind,
                            default=None, metavar=field.name.upper(),
                            help=f"{docs[field.name]} (default: {default})")


def given_fields(args: argparse.Namespace) -> dict:
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
            if getattr(args, f.name, None) is not None}


def config_from_args(args: argparse.Namespace, defaults: dict = CLI_DEFAULTS) -> TrainConfig:
    """Flags that were given override `defaults`, then TrainConfig's."""
    given = given_fields(args)
    if "data_dir" in given:
        _check_data_dir(given["data_dir"])
        # An explicit folder means "this data": never train on the bundled subset instead.
        given.setdefault("bundled_fallback", False)
    return TrainConfig(**{**defaults, **given})


def _check_data_dir(data_dir: str) -> None:
    if not Path(data_dir).expanduser().is_dir():
        raise ConfigError(f"--data-dir {data_dir} does not exist: give the folder that "
                          "holds MNIST/raw/... (torchvision's layout), or leave the flag "
                          "out to use SGAN_DATA_DIR or the per-user cache")
