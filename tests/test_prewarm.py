"""The training prewarm (dashboard/server.py, sgan_core.runs.training_run.load_ahead): what Start needs
is loaded while the first page is open, once per server, never from the network."""
from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.sidebar import settings as controls
from dashboard import server
from sgan_core.data import loading as data
from sgan_core.runs.training_run import load_ahead
from tiny_config import tiny_cfg


@pytest.fixture
def fresh_prewarm():
    """The prewarm as on a server that has not run it yet."""
    server.training_prewarm.clear()
    yield
    server.training_prewarm.clear()


def test_load_ahead_reads_the_data_a_run_reads_and_never_downloads(tmp_path, monkeypatch):
    tried = []
    monkeypatch.setattr(data, "_try_download", lambda *args: tried.append(args))
    data._read_bundled.cache_clear()
    load_ahead(tiny_cfg(tmp_path / "empty", download=True))  # nothing there: the subset
    assert tried == [] and "torchvision.datasets" in sys.modules
    assert data._read_bundled.cache_info().currsize == 1  # a run's load_split finds it


def test_load_ahead_says_when_the_data_cannot_be_had(tmp_path):
    with pytest.raises(data.DataError, match="Fashion-MNIST was not found"):
        load_ahead(tiny_cfg(tmp_path / "empty", dataset="fashion-mnist"))


def test_a_server_prewarms_once_with_the_sidebars_defaults(fresh_prewarm, monkeypatch):
    calls: list = []
    monkeypatch.setattr("sgan_core.runs.training_run.load_ahead", calls.append)
    monkeypatch.setattr(server, "serving", lambda: True)
    monkeypatch.setattr(server, "PREWARM_AFTER_S", 0.0)
    monkeypatch.delenv("SGAN_PREWARM_TRAINING", raising=False)
    server.prewarm_training(controls.default_config)
    server.prewarm_training(controls.default_config)  # a second page view
    server.training_prewarm(controls.default_config).join(30)
    assert calls == [controls.default_config()]


@pytest.mark.parametrize("switch, serving", [("0", True), ("1", False)])
def test_no_prewarm_when_switched_off_or_outside_a_server(monkeypatch, switch, serving):
    started = []
    monkeypatch.setattr(server, "serving", lambda: serving)
    monkeypatch.setattr(server, "training_prewarm", lambda _: started.append(True))
    monkeypatch.setenv("SGAN_PREWARM_TRAINING", switch)
    server.prewarm_training(controls.default_config)
    assert started == []


def _says_whether_serving() -> None:
    import streamlit as st

    from dashboard import server

    st.markdown(f"serving: {server.serving()}")


def test_a_page_in_apptest_is_not_a_server():
    """AppTest puts a mock where the runtime is: the tests' pages never prewarm."""
    at = AppTest.from_function(_says_whether_serving, default_timeout=30).run()
    assert not at.exception and at.markdown[0].value == "serving: False"
    assert not server.serving()  # and no runtime at all outside a page
