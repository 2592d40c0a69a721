"""The page through Streamlit's AppTest: controls -> config, Start -> panels, messages.

run_every never fires in AppTest, so a test calls at.run() again to refresh. Runs and
their threads live in st.cache_resource, which outlives a test: the fixture stops them.
Tests using `tiny_engine` drive the real TrainingRun on a tiny config and the bundled MNIST
subset; the others use tests/fakes.py for exact, instant control of the run.
"""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.sidebar import settings as controls
from dashboard.figures import charts as figures
from dashboard import state
from dashboard import server as resources  # `server` is this file's fixture
from sgan_core.config import TrainConfig
from tests import fakes
from tests.first_paint import heavy_modules_after_paint

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def server(monkeypatch):
    """A fresh 'server': empty caches, PCA-only embedding (no umap import in tests)."""
    st.cache_resource.clear()
    monkeypatch.setenv("SGAN_PREWARM_UMAP", "0")  # no UMAP process in tests
    monkeypatch.delenv("SGAN_ADMIN_TOKEN", raising=False)
    monkeypatch.setattr(resources, "new_embedding_service", _pca_service)
    yield
    resources.shutdown_all()


def _pca_service():
    from sgan_core.features.embedding_service import EmbeddingService

    return EmbeddingService(child_factory=None, poll_s=0.05)  # PCA only


@pytest.fixture
def fake_engine(server, monkeypatch):
    monkeypatch.setattr(resources, "new_registry", fakes.new_fake_registry)
    monkeypatch.setattr(resources, "new_embedding_service", fakes.FakeEmbeddingService)


@pytest.fixture
def tiny_engine(server, monkeypatch, tmp_path):
    """The real engine on a config that evaluates every 0.2 s on the bundled subset."""
    tiny = TrainConfig(data_dir=str(tmp_path), download=False, labels_per_class=2,
                       batch_size=16, labeled_batch_size=16, validation_size=100,
                       eval_every_s=0.2, eval_test_subset=200, embedding_points=100,
                       embedding_fakes=20, sample_grid_size=16, time_budget_s=120.0)
    monkeypatch.setattr(controls, "default_config", lambda: tiny)
    return tiny


def new_page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update(query)
    return at.run()


def the_run(at: AppTest):
    return resources.registry().get(at.query_params["run"])


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the run"
        time.sleep(0.05)


def test_first_paint_builds_no_model_and_imports_no_umap_nor_torch():
    assert heavy_modules_after_paint() == []


def test_sidebar_builds_the_config_of_the_run(fake_engine):
    at = new_page()
    assert not at.exception and "run" not in at.query_params
    assert at.button(key="b_start").disabled is False
    assert at.button(key="b_pause").disabled is True
    at.select_slider(key="w_labels").set_value(20)
    at.radio(key="w_gen_loss").set_value("non_saturating")
    at.selectbox(key="w_batch").set_value(32)
    at.text_input(key="w_seed").input("3")
    at.radio(key="w_length_unit").set_value("steps").run()
    at.text_input(key="w_steps").input("500")
    at.button(key="b_start").click().run()
    assert not at.exception
    cfg = the_run(at).config
    assert (cfg.labels_per_class, cfg.generator_loss, cfg.batch_size, cfg.seed) == \
        (20, "non_saturating", 32, 3)
    assert (cfg.max_steps, cfg.time_budget_s, cfg.num_threads) == (500, 0.0, 1)
    assert "= 200 labeled images" in at.sidebar.caption[0].value


def test_switching_dataset_keeps_the_labels_and_updates_the_total(fake_engine):
    at = new_page()
    at.select_slider(key="w_labels").set_value(50).run()
    at.selectbox(key="w_dataset").set_value("cifar10").run()
    assert at.select_slider(key="w_labels").value == 50  # new stops must not reset it
    assert at.sidebar.caption[0].value == "= 500 labeled images of 50,000"


def test_label_slider_stops_where_people_look_and_leaves_unlabeled_images(fake_engine):
    at = new_page()
    options = [int(v) for v in at.select_slider(key="w_labels").options]
    # bundled subset: 1,000 per class, 100 held out for validation -> at most 899
    assert options == [1, 2, 3, 5, 10, 20, 50, 100, 200, 500]
    at.selectbox(key="w_dataset").set_value("cifar10").run()
    options = [int(v) for v in at.select_slider(key="w_labels").options]
    assert options[-1] == 2000 and 5000 not in options  # 5,000 per class, 100 validation


def progress(at) -> dict[str, str]:
    """The run's state and step as the progress line shows them (its data attributes,
    dashboard/panels/status.py), e.g. {"State": "running", "Step": "1,234"}."""
    for block in at.markdown:
        found = re.search(r'data-state="(\w+)" data-step="(\d+)"', block.value)
        if found:
            return {"State": found[1], "Step": f"{int(found[2]):,}"}
    return {}


def data_line(at) -> str:
    """The one line saying where the training images come from, and its details."""
    line = next(c for c in at.caption if c.value.startswith(":material/info: Training on"))
    return f"{line.value} {line.help}"


def test_panels_render_a_snapshot(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4  # confusion, curves, embedding, P(fake)
    assert len(at.image) == 3  # samples, fooling fakes, rejected reals
    metrics = {m.label: m for m in at.metric}
    assert metrics["SGAN accuracy"].value == "80.0%"
    assert metrics["SGAN accuracy"].delta == "+20.0 pts"
    assert metrics["Fakes caught"].value == "90.0%"
    assert progress(at) == {"State": "running", "Step": "1"}
    assert "bundled MNIST subset" in data_line(at)
    assert any("PCA while UMAP warms up" in c.value for c in at.caption)
    assert len(at.expander) >= 6  # every panel explains itself


def test_the_data_source_is_one_short_line_with_its_story_behind_the_question_mark(
        fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    assert not [info.value for info in at.info if "bundled" in info.value]  # no block
    line = next(c for c in at.caption if c.value.startswith(":material/info: Training on"))
    assert len(line.value) < 120 and line.help == "using the bundled MNIST subset"


def test_no_gap_is_claimed_between_two_untrained_models(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    run._snapshot = fakes.make_snapshot(step=0, test_accuracy=0.105,
                                        baseline_test_accuracy=0.162, version=7)
    at.run()
    sgan = {m.label: m for m in at.metric}["SGAN accuracy"]
    assert sgan.value == "10.5%" and not sgan.delta  # no red "-5.7 pts" at step 0
    run._snapshot = fakes.make_snapshot(step=1, test_accuracy=0.105,
                                        baseline_test_accuracy=0.162, version=8)
    at.run()
    assert {m.label: m for m in at.metric}["SGAN accuracy"].delta == "-5.7 pts"


class _SlowEmbeddingService(fakes.FakeEmbeddingService):
    """Like the real service: a frame only some time after the features were handed in
    (here: never), so the page must not wait for it to draw a map."""

    def submit(self, run_id, features) -> None:
        pass


def test_a_run_at_rest_shows_its_map_at_once(fake_engine, monkeypatch):
    monkeypatch.setattr(resources, "new_embedding_service", _SlowEmbeddingService)
    at = new_page()
    at.button(key="b_start").click().run()
    at.button(key="b_stop").click().run()  # at rest: the map is drawn once
    assert not at.exception
    assert "embedding_chart" in [chart.key for chart in at.get("plotly_chart")]
    assert not any("The feature map: shown after" in c.value for c in at.caption)
    assert any(c.value.startswith("PCA while UMAP warms up") for c in at.caption)


def test_progress_only_snapshots_update_the_status_but_reuse_the_charts(fake_engine,
                                                                        monkeypatch):
    import dataclasses

    built: list[int] = []
    original = figures.confusion_figure
    monkeypatch.setattr(figures, "confusion_figure",
                        lambda *args: built.append(1) or original(*args))
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    current = run.snapshot()
    run._snapshot = dataclasses.replace(current, step=4321, version=current.version + 1)
    at.run()
    assert not at.exception
    assert progress(at)["Step"] == "4,321"
    assert len(built) == 1  # same evaluation_version: the cached figure is sent again
    run._snapshot = dataclasses.replace(run.snapshot(), version=current.version + 2,
                                        evaluation_version=current.evaluation_version + 1)
    at.run()
    assert len(built) == 2


def test_a_failing_panel_shows_a_message_and_the_others_still_draw(fake_engine, monkeypatch):
    def broken(*args):
        raise ValueError("odd snapshot")

    monkeypatch.setattr(figures, "confusion_figure", broken)
    at = new_page()
    at.button(key="b_start").click().run()
    assert not at.exception
    assert "confusion matrix panel could not be drawn" in at.error[0].value
    assert len(at.get("plotly_chart")) == 3


def test_buttons_drive_the_run_and_reset_forgets_it(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    at.button(key="b_pause").click().run()
    assert at.button(key="b_step").disabled is False
    at.button(key="b_step").click().run()
    at.button(key="b_resume").click().run()
    at.button(key="b_stop").click().run()
    assert [c[0] for c in run.calls] == ["pause", "step", "resume", "stop"]
    assert at.button(key="b_start").disabled is False  # a stopped run can be replaced
    at.button(key="b_reset").click().run()
    assert at.query_params["run"] and "forgets it" in at.sidebar.warning[0].value
    at.button(key="b_reset_no").click().run()  # Cancel: nothing happens
    assert at.query_params["run"] and not at.sidebar.warning
    at.button(key="b_reset").click().run()
    at.button(key="b_reset_yes").click().run()
    assert not at.exception and "run" not in at.query_params
    assert len(at.get("plotly_chart")) == 0


def test_changed_settings_say_they_need_a_new_run_and_lrs_apply_live(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    at.text_input(key="w_d_lr").input("0.001").run()
    assert ("lrs", 0.001, TrainConfig().g_lr) in the_run(at).calls
    assert not at.sidebar.warning
    at.select_slider(key="w_labels").set_value(50).run()
    # next to the buttons (the top of the sidebar), and the right advice for a live run
    warning = at.sidebar.warning[0].value
    assert "labeled examples per class" in warning and "press Stop, then Start" in warning
    assert "Reset" not in warning
    assert the_run(at).config.labels_per_class == 10
    at.button(key="b_stop").click().run()
    assert "Press Start to train a new run" in at.sidebar.warning[0].value


def test_a_second_tab_reattaches_by_url_with_the_run_settings(fake_engine):
    first = new_page()
    first.select_slider(key="w_labels").set_value(5)
    first.button(key="b_start").click().run()
    run_id = first.query_params["run"]
    second = new_page(run=run_id)
    assert not second.exception and second.query_params["run"] == run_id
    assert second.select_slider(key="w_labels").value == 5
    assert second.button(key="b_pause").disabled is False
    assert len(second.get("plotly_chart")) == 4


def test_unknown_run_id_in_the_url_is_explained(fake_engine):
    at = new_page(run="no-such-run")
    assert not at.exception
    words = at.warning[0].value
    assert "has no run with the id in this link" in words and "mistyped" in words
    assert "reset" not in words.lower()  # it never existed: nobody reset it
    assert "run" not in at.query_params


def test_a_reset_run_s_link_says_it_was_reset(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run_id = at.query_params["run"]
    run_id = run_id[0] if isinstance(run_id, list) else run_id
    at.button(key="b_reset").click().run()
    at.button(key="b_reset_yes").click().run()
    later = new_page(run=run_id)
    assert not later.exception
    assert "was reset or replaced" in later.warning[0].value


def test_start_beyond_the_cap_says_why(fake_engine, monkeypatch):
    monkeypatch.setenv("SGAN_MAX_ACTIVE_RUNS", "1")
    new_page().button(key="b_start").click().run()
    second = new_page()
    second.button(key="b_start").click().run()
    assert not second.exception and "run" not in second.query_params
    assert "already training" in second.error[0].value


def test_invalid_settings_show_the_config_error(fake_engine, monkeypatch):
    def reject(values, base):
        raise controls.ConfigError("labels_per_class must be at least 1")

    monkeypatch.setattr(controls, "widgets_to_config", reject)
    at = new_page()
    assert "labels_per_class" in at.sidebar.error[0].value
    assert at.button(key="b_start").disabled is True


def _png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploaded_image_is_classified_and_a_bad_file_is_explained(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    at.file_uploader(key="w_upload").set_value(("digit.png", _png_bytes(), "image/png")).run()
    assert not at.exception and len(at.get("plotly_chart")) == 5
    at.file_uploader(key="w_upload").set_value(("x.png", b"garbage", "image/png")).run()
    assert not at.exception and "not a readable PNG or JPEG" in at.error[0].value


def test_real_run_trains_and_the_panels_draw_it(tiny_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    wait_for(lambda: run.snapshot().step > 0 and run.snapshot().features is not None)
    at.run()  # draws the snapshot and hands its features to the embedding service
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) >= 3 and len(at.image) >= 1  # mistakes: if any
    assert "bundled subset" in data_line(at)
    wait_for(lambda: resources.embeddings().latest(at.query_params["run"]) is not None)
    at.button(key="b_pause").click().run()
    wait_for(lambda: run.snapshot().run_status == "paused")
    at.run()
    assert progress(at)["State"] == "paused"
    assert len(at.get("plotly_chart")) == 4 and not at.exception


def test_missing_dataset_fails_with_a_message_not_an_exception(tiny_engine):
    at = new_page()
    at.selectbox(key="w_dataset").set_value("cifar10").run()
    at.button(key="b_start").click().run()
    run = the_run(at)
    wait_for(lambda: run.snapshot().run_status == "failed")
    at.run()
    assert not at.exception
    assert "CIFAR-10 was not found" in at.error[0].value
    assert at.button(key="b_reset").disabled is False




# --- what a newcomer meets on a first visit ---------------------------------------------

def test_an_invalid_number_turns_start_off_and_says_why(fake_engine):
    at = new_page()
    at.text_input(key="w_minutes").input("0.01").run()  # below the 0.1 minimum
    assert at.button(key="b_start").disabled is True
    errors = " ".join(e.value for e in at.sidebar.error)
    assert "Minutes: '0.01' is not a number from 0.1 to 240" in errors
    assert "Start is off" in errors
    at.radio(key="w_length_unit").set_value("steps").run()
    at.text_input(key="w_steps").input("1e12").run()  # was read as 1 step
    assert at.button(key="b_start").disabled is True
    assert "Steps: '1e12' is not a whole number from 1 to 10,000,000" in at.sidebar.error[0].value
    at.text_input(key="w_steps").input("400").run()
    assert at.button(key="b_start").disabled is False and not at.sidebar.error
    at.button(key="b_start").click().run()
    assert the_run(at).config.max_steps == 400


def test_a_second_tab_shows_and_keeps_the_base_learning_rates(fake_engine):
    first = new_page()
    first.text_input(key="w_d_lr").input("0.001").run()
    first.button(key="b_start").click().run()
    run = the_run(first)
    assert run.snapshot().d_lr == 0.0005  # decayed; the base rate is still 0.001
    second = new_page(run=first.query_params["run"])
    assert second.text_input(key="w_d_lr").value == "0.001"
    assert not [call for call in run.calls if call[0] == "lrs"]  # nothing sent back
    first.text_input(key="w_g_lr").input("0.002").run()  # a live change in one tab ...
    second.run()
    assert second.text_input(key="w_g_lr").value == "0.002"  # ... shows in the other
    assert [call for call in run.calls if call[0] == "lrs"] == [("lrs", 0.001, 0.002)]
    this_run = [m.value for m in second.main.markdown if m.value.startswith("**This run:**")]
    assert "learning rates D 0.001, G 0.002" in this_run[0]


def test_a_paused_tab_keeps_watching_its_run():
    from dashboard.views.live.layout import fragment_intervals

    paused = fakes.make_snapshot(status="paused")
    assert fragment_intervals(paused, False, 2.0, 6.0) == (1.0, None, None)
    assert fragment_intervals(fakes.make_snapshot(), True, 2.0, 6.0) == (1.0, 2.0, 6.0)
    finished = fakes.make_snapshot(status="finished")
    assert fragment_intervals(finished, False, 2.0, 6.0) == (None, None, None)


def test_a_run_nobody_watches_is_paused_and_gives_up_its_slot(fake_engine, monkeypatch):
    monkeypatch.setenv("SGAN_MAX_ACTIVE_RUNS", "1")
    first = new_page()
    first.button(key="b_start").click().run()
    registry = resources.registry()
    registry._clock = lambda: time.monotonic() + 3600  # an hour without a heartbeat
    second = new_page()
    second.button(key="b_start").click().run()  # the closed tab's slot is free
    assert not second.exception and the_run(second).snapshot().run_status == "running"
    assert the_run(first).snapshot().run_status == "paused"
    first.run()  # its link still works: paused by the server, resumable
    assert "Paused by the server" in first.info[0].value
    first.button(key="b_resume").click().run()
    assert "already training" in first.error[0].value  # the cap still holds
    second.button(key="b_stop").click().run()
    first.button(key="b_resume").click().run()
    assert the_run(first).snapshot().run_status == "running"


def test_the_server_owner_sees_and_stops_every_run(fake_engine, monkeypatch):
    monkeypatch.setenv("SGAN_ADMIN_TOKEN", "s3cret")
    visitor = new_page()
    visitor.button(key="b_start").click().run()
    run_id = visitor.query_params["run"]
    assert not any("Runs on this server" in e.label for e in visitor.expander)
    assert not any("Runs on this server" in e.label for e in new_page(admin="guess").expander)
    assert "does not match" in new_page(admin="guess").warning[0].value
    owner = new_page(admin="s3cret")
    assert any(e.label == "Runs on this server (1)" for e in owner.expander)
    assert run_id[:8] in owner.markdown[0].value + " ".join(m.value for m in owner.markdown)
    owner.button(key=f"admin_stop_{run_id}").click().run()
    assert resources.registry().get(run_id).snapshot().run_status == "stopped"


def test_the_first_page_view_starts_the_umap_warm_up_before_any_start(fake_engine, monkeypatch):
    """Item 8: the first map came 131 s after the first Start (numba compiling while
    training held the cores): the first page view starts the feature-map service, so its
    UMAP child compiles while the teacher is still talking."""
    monkeypatch.setenv("SGAN_PREWARM_UMAP", "1")
    made = []
    monkeypatch.setattr(resources, "new_embedding_service",
                        lambda: made.append("service") or fakes.FakeEmbeddingService())
    at = new_page()
    assert not at.exception and "run" not in at.query_params  # nobody pressed Start
    assert made == ["service"]
    at.run()
    assert made == ["service"]  # one per server, not one per rerun


def test_a_gap_that_rounds_to_zero_is_neither_green_nor_red(fake_engine):
    import dataclasses

    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    run._snapshot = dataclasses.replace(run.snapshot(), test_accuracy=0.6996,
                                        baseline_test_accuracy=0.7, version=99)
    at.run()
    gap = {m.label: m for m in at.metric}["SGAN accuracy"]
    from streamlit.proto.Metric_pb2 import Metric

    assert gap.delta == "0.0 pts"  # was "-0.0 pts" in red
    assert gap.proto.color == Metric.MetricColor.GRAY
    assert gap.proto.direction == Metric.MetricDirection.NONE


def test_the_panels_say_which_discriminator_their_figures_come_from(fake_engine):
    """Accuracy from the weight average, everything about fakes from the live D."""
    at = new_page()
    at.button(key="b_start").click().run()
    text = " ".join([c.value for c in at.caption] + [t for i in at.image for t in i.captions])
    assert "verdicts of the live discriminator" in text
    assert "P(fake) from the live discriminator" in text
    assert "Verdicts of the live discriminator" in text  # the confusion matrix
    helps = {m.label: m.help for m in at.metric}
    assert "live discriminator" in helps["Fakes caught"]
    assert "weight average" in helps["SGAN accuracy"]


def test_a_starting_run_says_what_it_is_doing_on_the_live_page(fake_engine):
    from sgan_core.snapshot import RunStatus, Snapshot, StartStage

    at = new_page()
    at.button(key="b_start").click().run()
    run = the_run(at)
    now = time.time()
    run._snapshot = Snapshot(run_status=RunStatus.LOADING, config=run.config, version=5,
                             start_stage=StartStage.BUILDING_MODELS,
                             start_began_at=now - 3.0, stage_began_at=now - 1.0)
    at.run()
    assert not at.exception
    bar = at.get("progress")[0]
    assert bar.value == 33 and "Step 2 of 3: Building the models" in bar.proto.text  # 1 done
    assert "s since Start" in " ".join(c.value for c in at.caption)
    assert progress(at) == {}  # no "loading · step 0 · 0:00 elapsed" meanwhile
