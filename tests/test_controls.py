"""dashboard.controls without a page: widget values <-> TrainConfig, and button states."""
from __future__ import annotations

import pytest

from dashboard import controls
from sgan_core import snapshot as snap
from sgan_core.config import ConfigError, TrainConfig


def test_widgets_round_trip_a_config():
    cfg = TrainConfig(dataset="fashion-mnist", labels_per_class=25,
                      generator_loss="non_saturating", d_lr=0.001, g_lr=0.002,
                      batch_size=64, labeled_batch_size=64, seed=7, time_budget_s=90.0,
                      architecture="conv", num_threads=1, precision="float32")
    values = controls.config_to_widgets(cfg)
    assert values["w_length_unit"] == "minutes" and values["w_minutes"] == 1.5
    assert controls.widgets_to_config(values, TrainConfig()) == cfg


def test_training_length_in_steps_clears_the_time_budget():
    values = controls.config_to_widgets(TrainConfig())
    values.update(w_length_unit="steps", w_steps=500, w_batch=32)
    cfg = controls.widgets_to_config(values, TrainConfig(time_budget_s=60.0))
    assert (cfg.max_steps, cfg.time_budget_s) == (500, 0.0)
    assert cfg.batch_size == cfg.labeled_batch_size == 32


def test_settings_the_sidebar_does_not_show_come_from_the_base():
    base = TrainConfig(eval_every_s=0.5, download=False)
    cfg = controls.widgets_to_config(controls.config_to_widgets(base), base)
    assert cfg.eval_every_s == 0.5 and cfg.download is False


def test_bad_values_raise_config_error_with_a_message():
    values = controls.config_to_widgets(TrainConfig())
    values["w_labels"] = 0
    with pytest.raises(ConfigError, match="labels_per_class"):
        controls.widgets_to_config(values, TrainConfig())


def test_only_non_live_changes_need_a_new_run():
    current = TrainConfig()
    assert controls.fields_needing_new_run(current.replace(d_lr=0.01, g_lr=0.02),
                                           current) == []
    changed = controls.fields_needing_new_run(
        current.replace(labels_per_class=50, batch_size=32, labeled_batch_size=32), current)
    assert changed == ["batch size", "labeled examples per class"]


@pytest.mark.parametrize("status, expected", [
    (None, {"Start"}),
    (snap.STATUS_LOADING, {"Pause", "Stop", "Reset"}),
    (snap.STATUS_RUNNING, {"Pause", "Stop", "Reset"}),
    (snap.STATUS_PAUSED, {"Resume", "Step", "Stop", "Reset"}),
    (snap.STATUS_FINISHED, {"Start", "Reset"}),
    (snap.STATUS_FAILED, {"Start", "Reset"}),
])
def test_buttons_follow_the_run_state(status, expected):
    assert controls.enabled_buttons(status) == expected


def test_dataset_facts_cap_the_slider(tmp_path):
    limit, total = controls.dataset_facts("cifar10", str(tmp_path))
    assert limit == controls.MAX_LABELS_SLIDER and total == 50_000
    mnist_limit, _ = controls.dataset_facts("mnist", str(tmp_path))  # bundled subset
    assert 1 <= mnist_limit < 1000
