"""Presenter view: ?present=1 or the sidebar switch hides the controls and shows the key
numbers in big type; the Leave button brings the ordinary page back."""
from __future__ import annotations

from dashboard.views.live import presenter
from dashboard.panels import status
from tests import fakes
from tests.test_app import (fake_engine, new_page, server, the_run, tiny_engine,  # noqa: F401
                            wait_for)


def big_numbers(at) -> str:
    return " ".join(m.value for m in at.markdown if "sgan-big" in m.value)


def hides_sidebar(at) -> bool:
    return any("stSidebar" in getattr(element, "value", "") and "display: none" in
               getattr(element, "value", "") for element in at.get("html"))


def metric_labels(at) -> list[str]:
    return [metric.label for metric in at.metric]


def test_the_url_flag_hides_the_controls_and_shows_the_big_numbers(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    assert not hides_sidebar(at) and not big_numbers(at)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception and hides_sidebar(at)
    assert at.toggle(key=presenter.TOGGLE_KEY).value is True
    shown = big_numbers(at)  # fakes.make_snapshot: SGAN 80%, baseline 60%, 90% caught
    for label, value in (("SGAN accuracy", "80.0%"), ("Baseline", "60.0%"),
                         ("Gap", "+20.0 pts"), ("Fakes caught", "90.0%")):
        assert f">{label}<" in shown and f">{value}<" in shown
    assert "SGAN accuracy" not in metric_labels(at)  # the big numbers replace the row
    assert at.button(key=presenter.LEAVE_KEY)


def test_the_switch_and_the_leave_button(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    at.toggle(key=presenter.TOGGLE_KEY).set_value(True).run()
    assert at.query_params["present"] == ["1"] or at.query_params["present"] == "1"
    assert hides_sidebar(at) and big_numbers(at)
    at.button(key=presenter.LEAVE_KEY).click().run()
    assert "present" not in at.query_params
    assert not hides_sidebar(at) and not big_numbers(at)
    assert "SGAN accuracy" in metric_labels(at)
    assert at.toggle(key=presenter.TOGGLE_KEY).value is False


def test_the_big_numbers_are_at_least_48_px():
    assert presenter.BIG_PX >= 48
    figures = status.headline_figures(fakes.make_snapshot())
    assert [label for label, _ in figures] == ["SGAN accuracy", "Baseline", "Gap",
                                              "Fakes caught"]


def test_charts_get_larger_text_only_in_the_presenter_view(monkeypatch):
    from dashboard.figures import charts as figures
    from dashboard import state

    figure = figures.confusion_figure(fakes.make_confusion(), fakes.CLASS_NAMES)
    monkeypatch.setattr(state, "presenting", lambda: False)
    assert presenter.enlarged(figure) is figure
    monkeypatch.setattr(state, "presenting", lambda: True)
    big = presenter.enlarged(figure)
    assert big.layout.font.size == presenter.PLOT_PX > figure.layout.font.size
    assert big.data[0].textfont.size > figure.data[0].textfont.size


def test_enlarging_a_chart_leaves_the_cached_one_alone(monkeypatch):
    from dashboard.figures import charts as figures
    from dashboard import state

    figure = figures.curves_figure(fakes.make_history(rows=10), 0.5, mark_step=30)
    before = figure.to_json()
    monkeypatch.setattr(state, "presenting", lambda: True)
    big = presenter.enlarged(figure)
    assert big.layout.xaxis2.tickfont.size == presenter.PLOT_PX - 2
    assert big.layout.yaxis3.title.font.size == presenter.PLOT_PX
    assert {note.font.size for note in big.layout.annotations} == {presenter.PLOT_PX}
    assert big.layout.legend.font.size == presenter.PLOT_PX - 2
    assert figure.to_json() == before  # the normal page's figure is untouched


def test_the_control_strip_starts_pauses_and_stops_a_run(fake_engine):
    at = new_page(present="1")
    assert not at.exception and hides_sidebar(at)
    assert at.button(key="p_start").disabled is False
    assert at.button(key="p_pause").disabled and at.button(key="p_next").disabled
    at.button(key="p_start").click().run()
    run = the_run(at)
    assert run is not None and at.query_params["present"] in ("1", ["1"])
    at.button(key="p_pause").click().run()
    assert run.snapshot().run_status == "paused"
    assert at.button(key="p_pause").label == "Resume"  # one button, both ways
    assert at.button(key="p_next").disabled is False  # a paused run can step
    at.button(key="p_stop").click().run()
    assert run.snapshot().run_status == "stopped"
    assert at.button(key="p_start").disabled is False  # a new run may follow


def test_the_lesson_tab_holds_the_three_pictures_and_the_rest_is_in_tabs(fake_engine):
    at = new_page(present="1")
    at.button(key="p_start").click().run()
    assert not at.exception
    assert [tab.label for tab in at.tabs] == list(presenter.TABS)
    lesson = at.tabs[0]
    assert len(lesson.image) == 1  # the sample grid
    assert {chart.key for chart in lesson.get("plotly_chart")} == {"confusion_chart",
                                                                   "accuracy_chart"}
    keys = {chart.key for tab in at.tabs[1:] for chart in tab.get("plotly_chart")}
    assert "embedding_chart" in keys  # the map is one click away, not lost
    assert not at.metric  # the headline's big numbers instead of the metrics rows
    assert not [m for m in at.markdown if "This run:" in m.value]  # no settings line


def test_the_intro_in_the_presenter_view_points_at_the_strip(fake_engine):
    at = new_page(present="1")
    intro = " ".join(m.value for m in at.markdown)
    assert "Press **Start** above" in intro and "in the sidebar" not in intro


def test_next_step_in_the_strip_is_slow_motion_s_own_step(tiny_engine):
    from dashboard.panels import slow_motion

    at = new_page(present="1")
    at.button(key="p_start").click().run()
    run = the_run(at)
    wait_for(lambda: run.snapshot().step > 0 and run.snapshot().samples is not None)
    at.run()
    step = run.snapshot().step
    at.button(key="p_next").click().run()  # a running run: paused, then one step
    assert not at.exception, at.exception
    assert run.snapshot().run_status == "paused"
    assert run.step_trace() is not None and run.step_trace().step == run.snapshot().step
    assert run.snapshot().step > step
    assert at.toggle(key=slow_motion.TOGGLE_KEY).value is True  # its tab shows the trace


def test_a_recording_s_banner_is_one_line_in_the_presenter_view(fake_engine):
    at = new_page(demo="1", present="1")
    assert not at.exception
    assert not [info.value for info in at.info if "Recorded run" in info.value]
    line = next(c for c in at.caption if "Recorded run" in c.value)
    assert "not training" in line.value and "test images" in line.help
