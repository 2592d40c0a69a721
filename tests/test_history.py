"""sgan_core.training.history: loss means by name, and a history no reader can change."""
from __future__ import annotations

import math

import numpy as np
import pytest

from sgan_core.training.history import History, LossAverager
from sgan_core.training.trainer import StepLosses


def test_means_are_by_name_and_the_unsupervised_total_is_their_sum():
    averager = LossAverager()
    averager.add(StepLosses(1.0, 2.0, 3.0, 4.0, 5.0))
    averager.add(StepLosses(3.0, 4.0, 5.0, 6.0, 7.0))
    means = averager.pop()
    assert means == {"supervised_loss": 2.0, "unsupervised_loss_real": 3.0,
                     "unsupervised_loss_fake": 4.0, "generator_loss": 5.0,
                     "baseline_loss": 6.0, "unsupervised_loss": 7.0}
    assert averager.count == 0 and all(math.isnan(v) for v in averager.pop().values())


def test_history_columns_cannot_be_changed_by_a_reader():
    history = History()
    history.append({"step": 1, "test_accuracy": 0.5})
    columns = history.columns()
    with pytest.raises(TypeError):
        columns["step"] = np.array([9.0])  # no new or replaced keys
    with pytest.raises(ValueError):
        columns["step"][0] = 9.0  # no changed values
    assert np.isnan(columns["baseline_test_accuracy"][0])  # missing cells are NaN
