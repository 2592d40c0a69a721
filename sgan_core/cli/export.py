"""`python -m sgan_core train ... --export FILE`: the run as one run file (sgan_core/
run_file.py) that the page opens, e.g. the recording shipped as the page's demo."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from sgan_core.config import ConfigError
from sgan_core.runs.timeline import DEFAULT_CAPACITY


def add_export_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--export", type=Path, default=None, metavar="FILE",
                        help="also write the run as one run file (.sganrun: config, "
                             "history, timeline, sample grids, D's weights) that the "
                             "page opens with 'Open a run file'")
    parser.add_argument("--export-moments", type=int, default=DEFAULT_CAPACITY,
                        metavar="N", help="timeline moments the run file keeps, evenly "
                                          f"spread (default: {DEFAULT_CAPACITY}, all)")
    parser.add_argument("--export-fakes", type=int, default=500, metavar="N",
                        help="generated images kept per moment behind the confusion "
                             "matrix's fake row (default: 500)")
    parser.add_argument("--export-half", action="store_true",
                        help="store weights, probabilities and features in float16: "
                             "about half the size (the shipped demo uses it)")


def check_export_target(args: argparse.Namespace) -> None:
    """Refuse a bad --export before training, not after ten minutes of it."""
    target = args.export
    if target is None:
        return
    if args.export_moments < 2 or args.export_fakes < 1:
        raise ConfigError("--export-moments must be at least 2 (the first and the last "
                          "moment) and --export-fakes at least 1")
    if target.is_dir():
        raise ConfigError(f"--export {target} is a folder: give a file name, e.g. "
                          f"{target / 'run.sganrun'}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the folder of --export {target}: "
                          f"{error.strerror}; choose a writable place") from error
    if not os.access(target.parent, os.W_OK):
        raise ConfigError(f"--export {target}: its folder is not writable; choose another")


def write_export(args: argparse.Namespace, run, argv: Sequence[str]) -> None:
    """Write the run file (write then rename: an interrupted export leaves no half file)
    and say where it is and how big."""
    if args.export is None:
        return
    from sgan_core.storage.files import write_atomic
    from sgan_core.storage.run_file import ExportOptions, export_run

    options = ExportOptions(max_moments=args.export_moments,
                            fakes_per_moment=args.export_fakes, half=args.export_half,
                            compress_level=9)  # written once, opened often: smallest
    command = ["python", "-m", "sgan_core", *argv]
    try:
        write_atomic(args.export, lambda temporary: export_run(run, temporary, options,
                                                               command=command))
    except OSError as error:  # e.g. the disk filled up: --out's files are written already
        raise ConfigError(f"could not write --export {args.export}: {error.strerror or error}"
                          "; free some space or choose another place") from error
    size_mb = args.export.stat().st_size / 2**20
    print(f"run file: {args.export} ({size_mb:.1f} MB)", file=sys.stderr, flush=True)
