"""What a run tells people when something goes wrong: the words, in one place, each
saying what to do on the page (the CLI words its own: sgan_core/cli/main.py). Code decides
on `snapshot.ErrorKind`, never on these strings."""
from __future__ import annotations

import traceback


def could_not_start(error: Exception) -> str:
    return (f"The run could not start: {error!r}. Check the settings and the data folder, "
            "then press Reset and Start.")


def crashed(error: Exception) -> str:
    return (f"The run stopped on an unexpected error: {error!r}. Save a checkpoint if you "
            "need one, then press Reset and Start.")


def step_failed(error: Exception) -> str:
    return (f"Training step failed: {error!r}. Press Resume to try again, or Reset with "
            "other settings.\n" + traceback.format_exc(limit=3))


def diverged(step: int) -> str:
    return (f"The losses became NaN or infinite at step {step}: the run diverged. Lower "
            "the learning rates (try half) and press Resume, or press Reset to start "
            "again.")
