"""A run's progress on stderr, fed from its snapshots by a thread that touches no torch."""
from __future__ import annotations

import sys
import threading

from tqdm import tqdm


class Follower:
    """A progress bar on stderr, fed from snapshots by a thread that touches no torch;
    it stops the run when the run asks for a button the CLI does not have (Resume)."""

    def __init__(self, run, show_progress: bool) -> None:
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


def run_followed(run, show_progress: bool):
    """Train `run` in the calling thread with a Follower beside it; return the final
    snapshot. The follower also ends a run that paused on an error, which would
    otherwise wait for a Resume nobody can press."""
    follower = Follower(run, show_progress=show_progress)
    follower.start()
    try:
        run.run_here()
    finally:
        follower.finish()
    return run.snapshot()
