"""The sidebar's settings and buttons through AppTest (the conversions themselves are
tested without a page in tests/test_controls.py)."""
from __future__ import annotations

from tests.test_app import fake_engine, new_page, server, the_run  # noqa: F401


def errors(at) -> str:
    return " ".join(e.value for e in at.sidebar.error)


def warnings(at) -> str:
    return " ".join(e.value for e in at.sidebar.warning)


def test_a_decimal_comma_blocks_start_and_says_to_use_a_point(fake_engine):
    at = new_page()
    at.text_input(key="w_d_lr").input("0,001").run()
    assert not at.exception
    assert "D learning rate: '0,001': use a point for decimals (0.001)" in errors(at)
    assert at.button(key="b_start").disabled
    at.text_input(key="w_d_lr").input("0.001").run()
    at.radio(key="w_length_unit").set_value("minutes").run()
    at.text_input(key="w_minutes").input("1,5").run()
    assert "Minutes: '1,5': use a point for decimals (1.5)" in errors(at)
    assert at.button(key="b_start").disabled


def test_steps_typed_with_thousands_commas_train_that_many_steps(fake_engine):
    at = new_page()
    at.radio(key="w_length_unit").set_value("steps").run()
    at.text_input(key="w_steps").input("2,000").run()
    assert not errors(at) and not at.button(key="b_start").disabled
    at.button(key="b_start").click().run()
    assert not at.exception and the_run(at).config.max_steps == 2000


def test_a_run_started_with_changed_settings_is_not_told_to_restart(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    first = the_run(at)
    at.select_slider(key="w_labels").set_value(20).run()
    assert "labeled examples per class. These apply to a new run: press Stop, then " \
           "Start" in warnings(at)
    at.button(key="b_stop").click().run()
    assert "Press Start to train a new run with them" in warnings(at)
    at.button(key="b_start").click().run()  # the new run loads with the changed slider
    assert not at.exception and the_run(at) is not first
    assert the_run(at).config.labels_per_class == 20
    assert "Changed:" not in warnings(at)
    at.run()
    assert "Changed:" not in warnings(at)
    at.select_slider(key="w_labels").set_value(50).run()  # a change to the new run
    assert "Changed: labeled examples per class. These apply" in warnings(at)


def test_start_is_off_is_drawn_with_a_shipped_icon_not_an_emoji(fake_engine):
    """An emoji is an empty box where no emoji font is installed (a bare classroom
    laptop, the Docker image); Material icons ship with Streamlit as a font."""
    at = new_page()
    at.text_input(key="w_seed").input("abc").run()
    blocked = [e for e in at.sidebar.error if e.value.startswith("Start is off")]
    assert len(blocked) == 1 and blocked[0].icon == ":material/block:"
    assert all(e.icon == "" or e.icon.startswith(":material/") for e in at.error)
