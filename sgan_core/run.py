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
import traceback
from typing import Optional

import numpy as np
import torch

from sgan_core import snapshot as snap
from sgan_core.config import ConfigError, TrainConfig
from sgan_core.data import DataError, load_split
from sgan_core.evaluation import Evaluator, predict
from sgan_core.history import History, LossAverager
from sgan_core.losses import class_probabilities
from sgan_core.trainer import Trainer

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0  # progress-only snapshots between evaluations


class TrainingRun:
    """Owns one Trainer and the thread that drives it."""

    def __init__(self, cfg: TrainConfig, run_id: Optional[str] = None,
                 restore: Optional[dict] = None) -> None:
        self.config = cfg
        self.run_id = run_id or secrets.token_urlsafe(16)
        self._restore = restore  # checkpoint contents to continue from
        self._state_lock = threading.Lock()  # commands and the published snapshot
        self._model_lock = threading.Lock()  # the trainer between steps
        self._wake = threading.Condition(self._state_lock)
        self._stop_requested = False
        self._paused = False
        self._pending_steps = 0
        self._pending_lrs: Optional[tuple[Optional[float], Optional[float]]] = None
        self._snapshot = snap.Snapshot(run_status=snap.STATUS_IDLE, config=cfg)
        self._thread: Optional[threading.Thread] = None
        self.trainer: Optional[Trainer] = None
        self.evaluator: Optional[Evaluator] = None
        self.history = History((restore or {}).get("history"))
        self._elapsed = float((restore or {}).get("elapsed_s", 0.0))

    # ----- commands (any thread) -----
    def start(self) -> None:
        with self._state_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._worker, daemon=True,
                                            name=f"sgan-run-{self.run_id[:6]}")
        self._thread.start()

    def pause(self) -> None:
        self._command(paused=True)

    def resume(self) -> None:
        self._command(paused=False)

    def step(self, n: int = 1) -> None:
        """Do n steps while paused (the run stays paused), then publish."""
        with self._wake:
            self._paused = True
            self._pending_steps += max(1, int(n))
            self._wake.notify_all()

    def set_learning_rates(self, d_lr: Optional[float] = None,
                           g_lr: Optional[float] = None) -> None:
        for value in (d_lr, g_lr):
            if value is not None and not 0 < value <= 1:
                raise ConfigError(f"learning rate must be in (0, 1], got {value}")
        with self._wake:
            self._pending_lrs = (d_lr, g_lr)
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stop_requested = True
            self._wake.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _command(self, paused: bool) -> None:
        with self._wake:
            self._paused = paused
            current = self._snapshot
            if not paused and current.run_status == snap.STATUS_PAUSED:
                self._pending_steps = 0
                self._snapshot = _replace(current, error=None, run_status=snap.STATUS_RUNNING,
                                          version=current.version + 1)
            self._wake.notify_all()

    # ----- reading (any thread) -----
    def snapshot(self) -> snap.Snapshot:
        with self._state_lock:
            return self._snapshot

    @property
    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def classify(self, images: np.ndarray) -> np.ndarray:
        """Probabilities over N classes + fake, (B, N+1), for uint8 (B,)H,W,C images."""
        if self.trainer is None:
            raise RuntimeError("The model is not ready yet: start the run first.")
        batch = np.asarray(images, dtype=np.uint8)
        batch = batch[None] if batch.ndim == 3 else batch
        tensor = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)
        with self._model_lock:
            logits, _ = predict(self.trainer.eval_discriminator, tensor)
        return class_probabilities(logits).numpy()

    # ----- the worker thread -----
    def _worker(self) -> None:
        torch.set_num_threads(self.config.num_threads)
        self._publish(status=snap.STATUS_LOADING)
        try:
            self._build()
        except (DataError, ConfigError) as error:
            self._publish(status=snap.STATUS_FAILED, error=str(error))
            return
        except Exception as error:  # anything else: report it, never lose it
            log.exception("run %s failed to start", self.run_id)
            self._publish(status=snap.STATUS_FAILED,
                          error=f"The run could not start: {error!r}. Check the settings "
                                "and the data folder, then press Reset and Start.")
            return
        try:
            self._loop()
        except Exception as error:  # evaluation or publishing broke: report, never lose it
            log.exception("run %s stopped on an error", self.run_id)
            with self._state_lock:  # no evaluation here: that may be what failed
                current = self._snapshot
                self._snapshot = _replace(
                    current, run_status=snap.STATUS_FAILED, version=current.version + 1,
                    error=f"The run stopped on an unexpected error: {error!r}. Save a "
                          "checkpoint if you need one, then press Reset and Start.")
        finally:
            with self._wake:
                self._wake.notify_all()

    def _build(self) -> None:
        restore = self._restore or {}
        split = load_split(self.config, labeled_indices=restore.get("labeled_indices"))
        trainer = Trainer(self.config, split)
        if "trainer" in restore:
            trainer.load_state_dict(restore["trainer"])
        self.evaluator = Evaluator(self.config, split, self.config.noise_dim)
        self.trainer = trainer
        self._publish(status=snap.STATUS_PAUSED if self._paused else snap.STATUS_RUNNING,
                      evaluate=True)

    def _loop(self) -> None:
        averager = LossAverager()
        last_publish = last_progress = time.monotonic()
        while True:
            action = self._next_action()
            if action == "stop":
                self._publish(status=snap.STATUS_STOPPED, evaluate=True, averager=averager)
                return
            if action == "just_paused":  # show the state the user paused at
                self._publish(status=snap.STATUS_PAUSED, evaluate=True, averager=averager)
                continue
            if action == "wait":
                continue
            progress = self._budget_progress()
            self.trainer.budget_progress = progress  # drives lr_decay_to_budget
            if progress >= 1.0:
                self._publish(status=snap.STATUS_FINISHED, evaluate=True, averager=averager)
                return
            if not self._train_one(averager):
                continue
            single, now = action == "single", time.monotonic()
            if single or now - last_publish >= self.config.eval_every_s:
                status = snap.STATUS_PAUSED if single and self._paused else snap.STATUS_RUNNING
                if not single or self._pending_steps == 0:
                    self._publish(status=status, evaluate=True, averager=averager)
                    last_publish = last_progress = time.monotonic()
            elif now - last_progress >= PROGRESS_EVERY_S:
                # Step, epoch and images/s are cheap: the status line ticks every second
                # while the (costly) evaluation keeps to eval_every_s.
                self._publish(status=snap.STATUS_RUNNING)
                last_progress = now

    def _next_action(self) -> str:
        """Apply pending commands; say what the loop does next."""
        with self._wake:
            if self._pending_lrs is not None:
                self.trainer.set_learning_rates(*self._pending_lrs)
                self._pending_lrs = None
            if self._stop_requested:
                return "stop"
            if self._paused and self._pending_steps == 0:
                if self._snapshot.run_status == snap.STATUS_RUNNING:
                    return "just_paused"
                self._wake.wait(timeout=0.5)
                return "wait"
            if self._pending_steps > 0:
                self._pending_steps -= 1
                return "single"
            return "train"

    def _train_one(self, averager: LossAverager) -> bool:
        """One step; on an exception or a non-finite loss, pause and report."""
        started = time.monotonic()
        try:
            with self._model_lock:
                step_losses = self.trainer.train_step()
        except Exception as error:
            log.exception("training step failed in run %s", self.run_id)
            self._fail_soft(f"Training step failed: {error!r}. Press Resume to try again, "
                            "or Reset with other settings.\n" + traceback.format_exc(limit=3))
            return False
        self._elapsed += time.monotonic() - started
        if not step_losses.is_finite():
            self._fail_soft(
                f"The losses became NaN or infinite at step {self.trainer.step_count}: the "
                "run diverged. Lower the learning rates (try half) and press Resume, "
                "or press Reset to start again.")
            return False
        averager.add(step_losses)
        return True

    def _fail_soft(self, message: str) -> None:
        with self._wake:
            self._paused = True
            self._pending_steps = 0
        self._publish(status=snap.STATUS_PAUSED, error=message)

    def _budget_progress(self) -> float:
        """Share of the step or time budget used (whichever is further); 0 = no budget."""
        cfg = self.config
        return max(self.trainer.step_count / cfg.max_steps if cfg.max_steps else 0.0,
                   self._elapsed / cfg.time_budget_s if cfg.time_budget_s else 0.0)

    # ----- publishing -----
    def _publish(self, status: str, evaluate: bool = False, error: Optional[str] = None,
                 averager: Optional[LossAverager] = None) -> None:
        fields: dict = {"run_status": status}
        if error is not None:
            fields["error"] = error
        if self.trainer is not None:
            started = time.monotonic()
            fields.update(self._progress_fields())
            if evaluate:
                fields.update(self._evaluation_fields(averager))
                fields["evaluation_version"] = self._snapshot.evaluation_version + 1
            # Evaluation time counts as training time: a time budget is wall-clock honest.
            self._elapsed += time.monotonic() - started
        with self._state_lock:
            version = self._snapshot.version + 1
            self._snapshot = _replace(self._snapshot, version=version, **fields)

    def _progress_fields(self) -> dict:
        trainer = self.trainer
        split = trainer.split
        real_images = trainer.step_count * (self.config.batch_size
                                            + self.config.labeled_batch_size)
        d_lr, g_lr = trainer.current_learning_rates()
        return {
            "class_names": split.spec.class_names,
            "step": trainer.step_count,
            "epoch": trainer.unlabeled.epoch,
            "elapsed_s": self._elapsed,
            "images_per_second": real_images / self._elapsed if self._elapsed > 0 else 0.0,
            "d_lr": d_lr, "g_lr": g_lr,
            "base_d_lr": trainer.base_d_lr, "base_g_lr": trainer.base_g_lr,
            "data_source": split.source, "data_notice": split.notice,
        }

    def _evaluation_fields(self, averager: Optional[LossAverager]) -> dict:
        with self._model_lock:
            result = self.evaluator.evaluate(self.trainer)
        if averager is not None and averager.count:
            row = averager.pop()
            row.update(step=self.trainer.step_count, seconds=self._elapsed,
                       test_accuracy=result.test_accuracy,
                       baseline_test_accuracy=result.baseline_test_accuracy
                       if result.baseline_test_accuracy is not None else np.nan)
            self.history.append(row)
        return {
            "test_accuracy": result.test_accuracy,
            "baseline_test_accuracy": result.baseline_test_accuracy,
            "fake_rejection_rate": result.fake_rejection_rate,
            "false_rejection_rate": result.false_rejection_rate,
            "confusion": result.confusion,
            "samples": result.samples,
            "inspection": result.inspection,
            "features": result.features,
            "history": self.history.columns(),
        }

    # ----- after the run -----
    def full_test_accuracies(self) -> tuple[float, Optional[float]]:
        """SGAN and baseline accuracy on the whole official test set."""
        with self._model_lock:
            return self.evaluator.test_accuracies(self.trainer, full=True)

    def save_checkpoint(self, path) -> None:
        from sgan_core.checkpoints import save_run  # late: checkpoints imports run types

        with self._model_lock:
            save_run(path, self)

    @classmethod
    def from_checkpoint(cls, path) -> "TrainingRun":
        from sgan_core.checkpoints import load_run

        cfg, restore = load_run(path)
        return cls(cfg, restore=restore)


def _replace(snapshot: snap.Snapshot, **fields) -> snap.Snapshot:
    return dataclasses.replace(snapshot, **fields)
