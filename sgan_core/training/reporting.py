"""What a run reports: the snapshot's progress and evaluation fields, and metrics.json's
final figures. One place maps the evaluation's results to named figures, each saying
which model it comes from, so run.py and the CLI copy nothing by hand."""
from __future__ import annotations

import numpy as np

from sgan_core.training.evaluation import Accuracies, Evaluation, Evaluator


def progress_fields(trainer, elapsed_s: float) -> dict:
    """Cheap figures published every second: step, rates, learning rates, data source."""
    split = trainer.split
    per_second = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
    d_lr, g_lr = trainer.current_learning_rates()
    return {
        "class_names": split.spec.class_names,
        "step": trainer.step_count,
        "epoch": trainer.unlabeled.epoch,
        "elapsed_s": elapsed_s,
        # New unlabeled images only: the labeled batch re-draws the same few images.
        "images_per_second": trainer.step_count * trainer.cfg.batch_size * per_second,
        "steps_per_second": trainer.step_count * per_second,
        "d_lr": d_lr, "g_lr": g_lr,
        "base_d_lr": trainer.base_d_lr, "base_g_lr": trainer.base_g_lr,
        "data_source": split.source, "data_notice": split.notice,
    }


def accuracies(result: Evaluation) -> dict:
    """The four accuracies of an evaluation (None where there is no baseline)."""
    return _accuracy_fields(result.test, result.validation)


def _accuracy_fields(test: Accuracies, validation: Accuracies) -> dict:
    return {
        "test_accuracy": test.sgan,
        "baseline_test_accuracy": test.baseline,
        "validation_accuracy": validation.sgan,
        "baseline_validation_accuracy": validation.baseline,
    }


def history_accuracies(result: Evaluation) -> dict:
    """The accuracies as a history row wants them: NaN, not None, for a missing one."""
    return {name: np.nan if value is None else value
            for name, value in accuracies(result).items()}


def evaluation_fields(result: Evaluation, trainer) -> dict:
    """An evaluation's snapshot fields (the history column arrays are the run's)."""
    return {
        **accuracies(result),
        "accuracy_model": trainer.accuracy_model_name,
        "fake_rejection_rate": result.game.fake_rejection_rate,
        "false_rejection_rate": result.game.false_rejection_rate,
        "confusion": result.game.confusion,
        "samples": result.samples,
        "inspection": result.inspection,
        "features": result.features,
        "cells": result.cells,
    }


def final_figures(evaluator: Evaluator, trainer) -> dict:
    """Accuracies on the validation slice and the whole official test set, and the
    game's figures on the whole test set, for metrics.json; each says which model."""
    game = evaluator.final_game_figures(trainer)
    return {
        **_accuracy_fields(evaluator.test_accuracies(trainer, full=True),
                           evaluator.validation_accuracies(trainer)),
        "accuracy_model": trainer.accuracy_model_name,
        "fake_rejection_rate": game.fake_rejection_rate,
        "false_rejection_rate": game.false_rejection_rate,
        "rejection_model": "live",
        "test_images": int(len(trainer.split.test_targets)),
        "validation_images": int(len(trainer.split.validation_targets)),
        "precision": trainer.precision,  # what "auto" resolved to here
        "device": str(trainer.device),
    }
