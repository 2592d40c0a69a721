"""A training run in a background daemon thread: the only place that owns threads
for training.

Readers call `snapshot()` and get the latest frozen Snapshot; control flows the other
way as commands (pause, resume, step, stop, learning rates) picked up between steps.
The worker thread makes no UI call: it only publishes snapshots.
"""
from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from sgan_core.training import reporting
from sgan_core.runs import messages
from sgan_core import snapshot as snap
from sgan_core.config import ConfigError, TrainConfig
from sgan_core.data.loading import DataError, load_split
from sgan_core.training.evaluation import Evaluator, verdict_probabilities
from sgan_core.training.history import History, LossAverager
from sgan_core.runs.commands import Action, Mailbox
from sgan_core.runs.handle import RunKeeper
from sgan_core.training.step_trace import SlowMotion, StepTrace
from sgan_core.runs.timeline import Timeline
from sgan_core.training.trainer import Trainer

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0  # progress-only snapshots between evaluations


def load_ahead(cfg: TrainConfig) -> None:
    """Pay now what a run of `cfg` pays at its start (a server does this while its first
    page is open; importing this module already brought torch and the models):
    torchvision, which loading the data imports (about a second), and the dataset read
    into sgan_core.data.loading's cache, from the data folder or the bundled subset, never
    downloaded from here. DataError where cfg's data cannot be had. It sets no thread
    count: torch keeps that process-wide, and each run's thread sets its own before
    its first torch work."""
    import torchvision.datasets  # noqa: F401

    load_split(dataclasses.replace(cfg, download=False))


class RunNotBuilt(RuntimeError):
    """The run has not built its models yet: there is nothing to save."""


class TrainingRun:
    """Owns one Trainer and the thread that drives it."""

    def __init__(self, cfg: TrainConfig, run_id: Optional[str] = None,
                 restore: Optional[dict] = None,
                 recorder: Optional[RunKeeper] = None) -> None:
        self.config = cfg
        self.recorder = recorder  # keeps the run on disk (storage.run_folder.RunRecorder)
        self.run_id = run_id or secrets.token_urlsafe(16)
        self._restore = restore  # checkpoint contents to continue from
        self._state_lock = threading.Lock()  # commands and the published snapshot
        self._model_lock = threading.Lock()  # the trainer between steps
        self._mail = Mailbox(self._state_lock)  # commands, under the state lock
        self._snapshot = snap.Snapshot(run_status=snap.RunStatus.IDLE, config=cfg,
                                       start_stage=snap.StartStage.WAITING)
        self._thread: Optional[threading.Thread] = None
        self.trainer: Optional[Trainer] = None
        self.evaluator: Optional[Evaluator] = None
        self.history = History((restore or {}).get("history"))
        self._timeline = Timeline()  # every evaluation, thinned: for scrubbing back
        self._slow = SlowMotion()  # steps traced on request (slow motion), the latest kept
        self._elapsed = float((restore or {}).get("elapsed_s", 0.0))
        self._stage_seconds: dict[snap.StartStage, float] = {}  # start-up, for the log

    # ----- commands (any thread) -----
    def start(self) -> None:
        with self._state_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._worker, daemon=True,
                                            name=f"sgan-run-{self.run_id[:6]}")
        self._thread.start()

    def run_here(self) -> None:
        """Train in the calling thread until the run ends (the CLI's way): once one thread
        had run 2-thread torch work, another thread's elementwise ops ran 2-4x slower (two
        OpenMP teams on 2 cores; bench/README.md). Commands from other threads still work."""
        with self._state_lock:
            if self._thread is not None:
                raise RuntimeError("this run is already training")
            self._thread = threading.current_thread()
        self._worker()

    def pause(self) -> None:
        self._command(paused=True)

    def resume(self) -> None:
        self._command(paused=False)

    def step(self, n: int = 1, traced: bool = False) -> None:
        """Do n steps while paused (the run stays paused), then publish; traced: watched."""
        self._mail.step(n, traced)

    def set_learning_rates(self, d_lr: Optional[float] = None,
                           g_lr: Optional[float] = None) -> None:
        self._mail.set_learning_rates(d_lr, g_lr)

    def stop(self, timeout: float = 10.0) -> None:
        self._mail.request_stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _command(self, paused: bool) -> None:
        with self._mail.wake:
            self._mail.paused = paused
            current = self._snapshot
            if not paused and current.run_status == snap.RunStatus.PAUSED:
                self._mail.pending_steps = 0
                self._snapshot = dataclasses.replace(
                    current, error=None, error_kind=None, run_status=snap.RunStatus.RUNNING,
                    version=current.version + 1)
            self._mail.wake.notify_all()

    # ----- reading (any thread) -----
    def snapshot(self) -> snap.Snapshot:
        with self._state_lock:
            return self._snapshot

    def timeline(self) -> Timeline:
        return self._timeline

    def step_trace(self) -> Optional[StepTrace]:
        return self._slow.latest()  # the latest traced step (slow motion); None before

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def classify(self, images: np.ndarray) -> np.ndarray:
        """Probabilities over N classes + fake, (B, N+1), for uint8 (B,)H,W,C images."""
        if self.trainer is None:
            raise RuntimeError("The model is not ready yet: start the run first.")
        with self._model_lock:  # the live D: the verdict of the one in the game
            return verdict_probabilities(self.trainer.discriminator, images)

    # ----- the worker thread -----
    def _worker(self) -> None:
        torch.set_num_threads(self.config.num_threads)
        self._publish(status=snap.RunStatus.LOADING, stage=snap.StartStage.LOADING_DATA)
        try:
            self._build()
        except (DataError, ConfigError) as error:
            self._publish(status=snap.RunStatus.FAILED, error=str(error),
                          error_kind=snap.ErrorKind.BAD_INPUT)
            return
        except Exception as error:  # anything else: report it, never lose it
            log.exception("run %s failed to start", self.run_id)
            self._publish(status=snap.RunStatus.FAILED, error_kind=snap.ErrorKind.CRASHED,
                          error=messages.could_not_start(error))
            return
        try:
            self._loop()
        except Exception as error:  # evaluation or publishing broke: report, never lose it
            log.exception("run %s stopped on an error", self.run_id)
            with self._state_lock:  # no evaluation here: that may be what failed
                current = self._snapshot
                self._snapshot = dataclasses.replace(
                    current, run_status=snap.RunStatus.FAILED, version=current.version + 1,
                    error_kind=snap.ErrorKind.CRASHED, error=messages.crashed(error))
        finally:
            with self._mail.wake:
                self._mail.wake.notify_all()

    def _build(self) -> None:
        restore = self._restore or {}
        split = load_split(self.config, labeled_indices=restore.get("labeled_indices"))
        self._publish(status=snap.RunStatus.LOADING, stage=snap.StartStage.BUILDING_MODELS)
        trainer = Trainer(self.config, split)
        if "trainer" in restore:
            trainer.load_state_dict(restore["trainer"])
        self.evaluator = Evaluator(self.config, split, self.config.noise_dim)
        self.trainer = trainer
        self._publish(status=snap.RunStatus.LOADING, stage=snap.StartStage.FIRST_EVALUATION)
        self._publish(status=(snap.RunStatus.PAUSED if self._mail.paused
                              else snap.RunStatus.RUNNING), evaluate=True)

    def _loop(self) -> None:
        averager = LossAverager()
        last_publish = last_progress = time.monotonic()
        while True:
            action = self._mail.next_action(
                self.trainer, self.snapshot().run_status == snap.RunStatus.RUNNING)
            if action is Action.STOP:
                self._publish(status=snap.RunStatus.STOPPED, evaluate=True, averager=averager)
                return
            if action is Action.JUST_PAUSED:  # show the state the user paused at
                self._publish(status=snap.RunStatus.PAUSED, evaluate=True, averager=averager)
                continue
            if action is Action.WAIT:
                continue
            progress = self._budget_progress()
            self.trainer.budget_progress = progress  # drives lr_decay_to_budget
            if progress >= 1.0:
                self._publish(status=snap.RunStatus.FINISHED, evaluate=True, averager=averager)
                return
            if not self._train_one(averager, traced=action is Action.TRACED):
                continue
            single, now = action in (Action.SINGLE, Action.TRACED), time.monotonic()
            if single or now - last_publish >= self.config.eval_every_s:
                paused = single and self._mail.paused
                status = snap.RunStatus.PAUSED if paused else snap.RunStatus.RUNNING
                if not single or self._mail.pending_steps == 0:
                    self._publish(status=status, evaluate=True, averager=averager)
                    last_publish = last_progress = time.monotonic()
            elif now - last_progress >= PROGRESS_EVERY_S:
                # Cheap progress (step, images/s) every second; evaluations keep to eval_every_s.
                self._publish(status=snap.RunStatus.RUNNING)
                last_progress = now

    def _train_one(self, averager: LossAverager, traced: bool = False) -> bool:
        """One step (traced: for slow motion); on an exception or a NaN loss, pause, report."""
        started = time.monotonic()
        try:
            with self._model_lock:
                step_losses = self._slow.step(self.trainer, traced)
        except Exception as error:
            log.exception("training step failed in run %s", self.run_id)
            self._fail_soft(messages.step_failed(error), snap.ErrorKind.STEP_FAILED)
            return False
        self._elapsed += time.monotonic() - started
        if not step_losses.is_finite():
            self._fail_soft(messages.diverged(self.trainer.step_count),
                            snap.ErrorKind.DIVERGED)
            return False
        averager.add(step_losses)
        return True

    def _fail_soft(self, message: str, kind: snap.ErrorKind) -> None:
        with self._mail.wake:
            self._mail.hold()
        self._publish(status=snap.RunStatus.PAUSED, error=message, error_kind=kind)

    def _budget_progress(self) -> float:
        """Share of the step or time budget used (whichever is further); 0 = no budget."""
        cfg = self.config
        return max(self.trainer.step_count / cfg.max_steps if cfg.max_steps else 0.0,
                   self._elapsed / cfg.time_budget_s if cfg.time_budget_s else 0.0)

    # ----- publishing -----
    def _publish(self, status: str, evaluate: bool = False, error: Optional[str] = None,
                 averager: Optional[LossAverager] = None,
                 error_kind: Optional[snap.ErrorKind] = None,
                 stage: Optional[snap.StartStage] = None) -> None:
        fields: dict = {"run_status": status}
        if error is not None:
            fields.update(error=error, error_kind=error_kind)
        if self.trainer is not None:
            started = time.monotonic()
            fields.update(reporting.progress_fields(self.trainer, self._elapsed))
            if evaluate:
                fields.update(self._evaluation_fields(averager))
                fields["evaluation_version"] = self._snapshot.evaluation_version + 1
            # Evaluation time counts as training time: a time budget is wall-clock honest.
            self._elapsed += time.monotonic() - started
        if evaluate and self._snapshot.start_stage != snap.StartStage.READY:
            stage = snap.StartStage.READY  # the first evaluation, just done, ends start-up
        if stage is not None:
            fields.update(self._stage_fields(stage))
        with self._state_lock:
            version = self._snapshot.version + 1
            published = dataclasses.replace(self._snapshot, version=version, **fields)
            self._snapshot = published
        if evaluate and self.trainer is not None:
            self._timeline.add(published)  # outside the lock: it copies features
            if self.recorder is not None:  # between steps, on this thread; never raises
                self.recorder.record(self, published)

    def _stage_fields(self, stage: snap.StartStage) -> dict:
        """The snapshot's start-up fields on entering `stage`; the time each stage took
        goes to the log when the start-up ends."""
        now, current = time.time(), self._snapshot
        fields = {"start_stage": stage, "stage_began_at": now}
        if current.start_began_at is None:
            fields["start_began_at"] = now
        self._stage_seconds[current.start_stage] = now - (current.stage_began_at or now)
        if stage == snap.StartStage.READY:
            log.info("run %s started in %.2f s (%s)", self.run_id,
                     now - (current.start_began_at or now),
                     ", ".join(f"{name.value} {seconds:.2f} s" for name, seconds
                               in self._stage_seconds.items() if name.step > 0))
        return fields

    def _evaluation_fields(self, averager: Optional[LossAverager]) -> dict:
        with self._model_lock:
            result = self.evaluator.evaluate(self.trainer)
        if averager is not None and averager.count:
            row = averager.pop()
            row.update(step=self.trainer.step_count, seconds=self._elapsed,
                       **reporting.history_accuracies(result))
            self.history.append(row)
        return {**reporting.evaluation_fields(result, self.trainer),
                "history": self.history.columns()}

    # ----- after the run -----
    def final_figures(self) -> dict:
        """metrics.json's figures (see reporting.final_figures), between steps."""
        with self._model_lock:
            return reporting.final_figures(self.evaluator, self.trainer)

    def checkpoint_state(self) -> dict:
        """Everything a checkpoint holds, taken between steps (the caller need not
        know the run's insides)."""
        with self._model_lock:
            if self.trainer is None:
                raise RunNotBuilt("Nothing to save yet: the run has not built its models.")
            return {
                "config": self.config.to_dict(),
                "labeled_indices": torch.as_tensor(self.trainer.split.labeled_indices),
                "trainer": self.trainer.state_dict(),
                "history": list(self.history.rows),
                "elapsed_s": float(self._elapsed),
            }

    def discriminator_weights(self) -> Optional[dict[str, np.ndarray]]:
        """A copy of the live D's weights (what a run file keeps for verdicts on new
        images), taken between steps; None before the models are built."""
        with self._model_lock:
            if self.trainer is None:
                return None
            return {name: value.detach().cpu().numpy().copy()
                    for name, value in self.trainer.discriminator.state_dict().items()}

    def storage_problem(self) -> Optional[str]:
        """What keeping this run on disk ran into (a full disk, the runs folder's cap),
        in words for the page; None when all is kept, or nothing keeps it."""
        return None if self.recorder is None else self.recorder.problem

    def run_folder(self) -> Optional[Path]:
        """The folder that keeps this run (the page's runs), or None."""
        return None if self.recorder is None else self.recorder.folder
