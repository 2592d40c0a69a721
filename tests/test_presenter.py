"""Presenter view: ?present=1 or the sidebar switch hides the controls and shows the key
numbers in big type; the Leave button brings the ordinary page back."""
from __future__ import annotations

from dashboard import presenter
from dashboard.panels import status
from tests import fakes
from tests.test_app import fake_engine, new_page, server  # noqa: F401 (fixtures)


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
    from dashboard import figures, state

    figure = figures.confusion_figure(fakes.make_confusion(), fakes.CLASS_NAMES)
    monkeypatch.setattr(state, "presenting", lambda: False)
    assert presenter.enlarged(figure) is figure
    monkeypatch.setattr(state, "presenting", lambda: True)
    big = presenter.enlarged(figure)
    assert big.layout.font.size == presenter.PLOT_PX > figure.layout.font.size
    assert big.data[0].textfont.size > figure.data[0].textfont.size


def test_enlarging_a_chart_leaves_the_cached_one_alone(monkeypatch):
    from dashboard import figures, state

    figure = figures.curves_figure(fakes.make_history(rows=10), 0.5, mark_step=30)
    before = figure.to_json()
    monkeypatch.setattr(state, "presenting", lambda: True)
    big = presenter.enlarged(figure)
    assert big.layout.xaxis2.tickfont.size == presenter.PLOT_PX - 2
    assert big.layout.yaxis3.title.font.size == presenter.PLOT_PX
    assert {note.font.size for note in big.layout.annotations} == {presenter.PLOT_PX}
    assert big.layout.legend.font.size == presenter.PLOT_PX - 2
    assert figure.to_json() == before  # the normal page's figure is untouched
