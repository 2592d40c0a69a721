"""Commands to a run from any thread, picked up by the run's thread between steps.

The mailbox shares the run's state lock (its condition wakes the paused worker), so a
command and the snapshot it changes move together.
"""
from __future__ import annotations

import enum
import threading
from typing import Optional

from sgan_core.config import check_learning_rate


class Action(enum.Enum):
    """What the run's loop does next."""

    STOP = "stop"
    JUST_PAUSED = "just_paused"  # paused since the last look: publish the paused state
    WAIT = "wait"  # paused: nothing to do (the wait already happened)
    SINGLE = "single"  # one requested step while paused
    TRACED = "traced"  # the same, watched: slow motion (sgan_core/training/step_trace.py)
    TRAIN = "train"


class Mailbox:
    """Pause, step, stop and live learning rates; all fields guarded by `wake`."""

    def __init__(self, lock: threading.Lock) -> None:
        self.wake = threading.Condition(lock)
        self.stop_requested = False
        self.paused = False
        self.pending_steps = 0
        self.trace_steps = False  # the pending steps are slow motion's
        self.pending_lrs: Optional[tuple[Optional[float], Optional[float]]] = None

    def step(self, n: int, traced: bool = False) -> None:
        with self.wake:
            self.paused = True
            self.pending_steps += max(1, int(n))
            self.trace_steps = traced
            self.wake.notify_all()

    def set_learning_rates(self, d_lr: Optional[float], g_lr: Optional[float]) -> None:
        for value in (d_lr, g_lr):
            if value is not None:
                check_learning_rate("learning rate", value)
        with self.wake:
            self.pending_lrs = (d_lr, g_lr)
            self.wake.notify_all()

    def request_stop(self) -> None:
        with self.wake:
            self.stop_requested = True
            self.wake.notify_all()

    def hold(self) -> None:
        """Pause and drop pending steps (after an error): the caller holds `wake`."""
        self.paused = True
        self.pending_steps = 0

    def next_action(self, trainer, showing_running: bool) -> Action:
        """Apply pending learning rates to `trainer`; say what the loop does next.
        `showing_running`: the published snapshot still says "running"."""
        with self.wake:
            if self.pending_lrs is not None:
                trainer.set_learning_rates(*self.pending_lrs)
                self.pending_lrs = None
            if self.stop_requested:
                return Action.STOP
            if self.paused and self.pending_steps == 0:
                if showing_running:
                    return Action.JUST_PAUSED
                self.wake.wait(timeout=0.5)
                return Action.WAIT
            if self.pending_steps > 0:
                self.pending_steps -= 1
                return Action.TRACED if self.trace_steps else Action.SINGLE
            return Action.TRAIN
