"""dashboard.sidebar.settings without a page: widget values <-> TrainConfig, and button states."""
from __future__ import annotations

import re

import pytest

from dashboard.sidebar import settings as controls, inputs
from dashboard import server, state
from sgan_core import snapshot as snap
from sgan_core.config import ConfigError, TrainConfig


def test_widgets_round_trip_a_config():
    cfg = TrainConfig(dataset="fashion-mnist", labels_per_class=25,
                      generator_loss="non_saturating", d_lr=0.001, g_lr=0.002,
                      batch_size=64, labeled_batch_size=64, seed=7, time_budget_s=90.0,
                      architecture="conv", num_threads=1, precision="float32")
    values = controls.config_to_widgets(cfg)
    assert values["w_length_unit"] == "minutes" and values["w_minutes"] == "1.5"
    assert controls.widgets_to_config(values, TrainConfig()) == cfg


def test_training_length_in_steps_clears_the_time_budget():
    values = controls.config_to_widgets(TrainConfig())
    values.update(w_length_unit="steps", w_steps="500", w_batch=32)
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
    (snap.RunStatus.LOADING, {"Pause", "Stop", "Reset"}),
    (snap.RunStatus.RUNNING, {"Pause", "Stop", "Reset"}),
    (snap.RunStatus.PAUSED, {"Resume", "Step", "Stop", "Reset"}),
    (snap.RunStatus.FINISHED, {"Start", "Reset"}),
    (snap.RunStatus.FAILED, {"Start", "Reset"}),
])
def test_buttons_follow_the_run_state(status, expected):
    assert controls.enabled_buttons(status) == expected


def test_dataset_facts_cap_the_slider_where_unlabeled_images_remain(tmp_path):
    assert controls.dataset_facts("cifar10", str(tmp_path), 1000) == (4899, 50_000)
    # bundled subset: 1,000 per class; 900 labeled + 100 validation would leave none
    assert controls.dataset_facts("mnist", str(tmp_path), 1000) == (899, 10_000)


@pytest.mark.parametrize("text, expected", [
    ("0.0005", 0.0005), (" 1e-3 ", 0.001), ("1", 1.0), ("0.1", 0.1)])
def test_typed_numbers_are_read_in_full(text, expected):
    assert inputs.parse_number(text, inputs.NUMBER_FIELDS["w_d_lr"]) == expected


@pytest.mark.parametrize("key, text, message", [
    ("w_minutes", "0.01", "Minutes: '0.01' is not a number from 0.1 to 240"),
    ("w_steps", "1e12", "Steps: '1e12' is not a whole number from 1 to 10,000,000"),
    ("w_steps", "2.5", "Steps: '2.5' is not a whole number; type one from 1 to"),
    ("w_d_lr", "", "D learning rate: nothing is not a number from 0.00001 to 1"),
    ("w_seed", "abc", "Seed: 'abc' is not a whole number from 0 to 2,147,483,647"),
    ("w_d_lr", "nan", "is not a number"), ("w_threads", "inf", "is not a whole number"),
])
def test_typed_numbers_out_of_range_say_what_works(key, text, message):
    with pytest.raises(inputs.InputError, match=message.replace("(", r"\(")):
        inputs.parse_number(text, inputs.NUMBER_FIELDS[key])


@pytest.mark.parametrize("key, text, message", [
    ("w_d_lr", "0,001", "D learning rate: '0,001': use a point for decimals (0.001)"),
    ("w_g_lr", " 0,0005 ", "G learning rate: '0,0005': use a point for decimals (0.0005)"),
    ("w_minutes", "1,5", "Minutes: '1,5': use a point for decimals (1.5)"),
    ("w_minutes", "1,000", "Minutes: '1,000': use a point for decimals (1.000)"),
    ("w_minutes", "1,000,5", "Minutes: '1,000,5': use a point for decimals, not a comma"),
    ("w_steps", "1,5", "Steps: '1,5': a comma may only group thousands (as in 10,000)"),
    ("w_steps", "10,00", "Steps: '10,00': a comma may only group thousands"),
    ("w_seed", "0,001", "Seed: '0,001': a comma may only group thousands"),
    ("w_threads", "1,000.5", "CPU threads for training: '1,000.5': a comma may only"),
])
def test_a_decimal_comma_is_refused_not_misread(key, text, message):
    with pytest.raises(inputs.InputError, match=re.escape(message)):
        inputs.parse_number(text, inputs.NUMBER_FIELDS[key])


@pytest.mark.parametrize("key, text, expected", [
    ("w_steps", "1,000", 1000), ("w_steps", "10,000,000", 10_000_000),
    ("w_seed", "2,147,483,647", 2**31 - 1), ("w_seed", "1,234", 1234)])
def test_whole_numbers_may_group_thousands_as_the_page_writes_them(key, text, expected):
    assert inputs.parse_number(text, inputs.NUMBER_FIELDS[key]) == expected


def test_only_the_length_field_in_use_is_checked():
    values = controls.config_to_widgets(TrainConfig())
    values.update(w_steps="junk")
    assert controls.input_errors(values) == {}  # the length is in minutes
    values.update(w_length_unit="steps")
    assert list(controls.input_errors(values)) == ["w_steps"]
    assert controls.Settings(input_errors=controls.input_errors(values)).start_blocker()


def test_label_stops_are_the_values_people_try():
    assert inputs.label_options(899) == [1, 2, 3, 5, 10, 20, 50, 100, 200, 500]
    assert inputs.label_options(4899)[-1] == 2000
    assert inputs.label_options(899, current=37) == [1, 2, 3, 5, 10, 20, 37, 50, 100, 200,
                                                     500]
    assert inputs.label_options(24, current=900) == [1, 2, 3, 5, 10, 20]
    assert inputs.nearest_option(900, [1, 2, 500]) == 500
    assert inputs.nearest_option(0, [1, 2]) == 1


def test_the_new_run_advice_depends_on_whether_start_is_possible():
    live = controls.new_run_message(["seed"], snap.RunStatus.RUNNING)
    assert "press Stop, then Start" in live and "Reset" not in live
    ended = controls.new_run_message(["seed"], snap.RunStatus.FINISHED)
    assert "Press Start" in ended and "Stop" not in ended


def test_sidebar_tooltips_are_the_config_field_docs(monkeypatch):
    """One string per field feeds `--help` and the sidebar (CleanRL's habit)."""
    import sys
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import fakes
    from sgan_core.config import field_docs

    import streamlit as st

    monkeypatch.setattr(server, "new_registry", fakes.new_fake_registry)
    monkeypatch.setattr(server, "new_embedding_service", fakes.FakeEmbeddingService)
    monkeypatch.setenv("SGAN_PREWARM_UMAP", "0")
    st.cache_resource.clear()  # a fresh 'server' with the fake registry
    app = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
    at = AppTest.from_file(app, default_timeout=30).run()
    docs = field_docs()
    assert at.text_input(key="w_seed").help.startswith(docs["seed"])
    assert at.text_input(key="w_d_lr").help.startswith(docs["d_lr"])
    assert "apply live" in at.text_input(key="w_d_lr").help  # the page's own note
    assert at.selectbox(key="w_architecture").help.startswith(docs["architecture"])
    assert at.selectbox(key="w_precision").help.startswith(docs["precision"])
    assert tuple(at.radio(key="w_gen_loss").options) == ("feature matching", "non saturating")
    server.shutdown_all()
    st.cache_resource.clear()
