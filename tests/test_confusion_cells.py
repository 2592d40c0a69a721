"""Opening a confusion-matrix cell: which images a snapshot can show, and the page."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from dashboard.figures import confusion_cells
from sgan_core import snapshot as snap
from sgan_core.runs import timeline
from tests import fakes
from tests.test_app import fake_engine, new_page, server  # noqa: F401 (fixtures)


def test_every_cell_shows_exactly_the_images_it_counts():
    snapshot = fakes.make_snapshot()
    n = snapshot.num_classes
    for truth in range(n + 1):
        for verdict in range(n + 1):
            shown = confusion_cells.cell_images(snapshot, truth, verdict, limit=1000)
            assert len(shown.images) == shown.count == snapshot.confusion[truth, verdict]
            assert len(shown.captions) == shown.count


def test_a_real_cell_is_capped_and_ordered_by_how_sure_d_was():
    snapshot = fakes.make_snapshot()  # 42 real 4s called 4; P(verdict) 0.99 down to 0.5
    shown = confusion_cells.cell_images(snapshot, truth=4, verdict=4)
    assert shown.title == "real 4 called 4" and shown.count == 42
    assert len(shown.images) == confusion_cells.MAX_SHOWN
    assert shown.captions[0] == "P(4) 0.99 · P(fake) 0.01"
    assert "All 42 images" in shown.note and "showing the 32 D was most sure of" in shown.note
    least = confusion_cells.cell_images(snapshot, truth=4, verdict=4, most_sure=False)
    assert least.captions[0].startswith("P(4) 0.50") and "least sure" in least.note
    members = snapshot.cells
    inside = np.flatnonzero((members.real_targets == 4) & (members.real_verdicts == 4))
    assert np.array_equal(shown.images, members.real_images[inside[:32]])


def test_fakes_and_reals_called_fake_say_p_fake():
    snapshot = fakes.make_snapshot()  # seven fakes accepted as 3
    accepted = confusion_cells.cell_images(snapshot, truth=10, verdict=3)
    assert accepted.title == "fakes called 3" and len(accepted.images) == 7
    assert "fresh fakes" in accepted.note and "P(fake)" in accepted.captions[0]
    rejected = confusion_cells.cell_images(snapshot, truth=2, verdict=10)
    assert rejected.captions[0] == "P(fake) 0.99"


def test_a_thinned_past_moment_says_how_many_fakes_it_keeps(monkeypatch):
    monkeypatch.setattr(timeline, "FAKE_BYTES_PER_MOMENT", 28 * 28 * 10)  # ten fakes
    past = timeline.Moment.of(fakes.make_snapshot()).applied_to(fakes.make_snapshot())
    assert len(past.cells.fake_images) == 10
    shown = confusion_cells.cell_images(past, truth=10, verdict=10)
    assert len(shown.images) < shown.count
    assert f"keeps {len(shown.images)} of the cell's {shown.count} fakes" in shown.note


def test_without_cells_the_fake_row_falls_back_to_the_grid_tiles():
    snapshot = fakes.make_snapshot(cells=None)  # 16 tiles, verdicts 0..10, 0..4
    shown = confusion_cells.cell_images(snapshot, truth=10, verdict=3)
    assert shown.title == "fakes called 3" and shown.count == 7
    assert len(shown.images) == 2 and len(shown.captions) == 2
    assert shown.captions[0].startswith("P(3) ") and "P(fake)" in shown.captions[0]
    assert "fixed-noise sample grid" in shown.note


def test_without_cells_real_called_fake_shows_the_inspectors_rejected_reals():
    snapshot = fakes.make_snapshot(cells=None)  # rejected reals: labels 0..3, P(fake) 0.9
    low = dataclasses.replace(snapshot.inspection,
                              rejected_reals_p_fake=snap.frozen_array([0.9, 0.4, 0.9, 0.9]))
    snapshot = dataclasses.replace(snapshot, inspection=low)
    assert confusion_cells.cell_images(snapshot, 2, 10).captions == ("P(fake) 0.90",)
    assert len(confusion_cells.cell_images(snapshot, 1, 10).images) == 0  # 0.4: D said a class


def test_without_cells_real_cells_say_their_images_are_not_kept():
    shown = confusion_cells.cell_images(fakes.make_snapshot(cells=None), truth=4, verdict=9)
    assert shown.title == "real 4 called 9" and len(shown.images) == 0
    assert "only the count" in shown.note


def test_cell_index_reads_plotly_labels_and_rejects_others():
    names = fakes.CLASS_NAMES
    assert confusion_cells.cell_index("fake", names) == 10 and confusion_cells.cell_index("4", names) == 4
    assert confusion_cells.cell_index(np.int64(2), names) == 2 and confusion_cells.cell_index("cat", names) is None
    with pytest.raises(ValueError, match="no cell"):
        confusion_cells.cell_images(fakes.make_snapshot(), 11, 0)


def test_the_boxes_open_a_cell_on_the_page(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    at.selectbox(key="w_cell_truth").set_value("fake")
    at.selectbox(key="w_cell_verdict").set_value("3").run()
    assert not at.exception
    assert any("fakes called 3" in m.value for m in at.markdown)
    captions = [t for image in at.image for t in image.captions]
    assert sum(c.startswith("P(3) ") for c in captions) == 7


def click(row: int, column: int) -> dict:
    """What st.plotly_chart(on_select="rerun") returns after a click on a cell target."""
    return {"selection": {"points": [{"curve_number": 1, "point_index": row * 11 + column,
                                      "customdata": [row, column, 0.1]}]}}


def test_a_click_on_the_matrix_opens_its_cell(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    at.session_state["confusion_chart"] = click(4, 9)
    at.run()
    assert not at.exception
    assert at.selectbox(key="w_cell_truth").value == "4"
    assert at.selectbox(key="w_cell_verdict").value == "9"
    assert any("real 4 called 9" in m.value for m in at.markdown)
    assert len([t for image in at.image for t in image.captions if t.startswith("P(9) ")]) == 2


def outline(at) -> list[dict]:
    """The rectangles drawn over the page's confusion matrix."""
    chart = next(c for c in at.get("plotly_chart") if "confusion_chart" in c.proto.id)
    return [shape for shape in json.loads(chart.proto.spec)["layout"].get("shapes", [])
            if shape.get("type") == "rect"]


def test_the_open_cell_is_outlined_on_the_matrix(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    assert outline(at) == []  # no cell open, no outline
    at.session_state["confusion_chart"] = click(4, 9)
    at.run()  # the click's own rerun already shows the outline
    (shape,) = outline(at)
    assert (shape["x0"], shape["x1"], shape["y0"], shape["y1"]) == (8.5, 9.5, 3.5, 4.5)
    assert shape["line"]["color"] == confusion_cells.OUTLINE_COLOR
    at.selectbox(key="w_cell_truth").set_value("fake").run()  # the boxes move it
    (shape,) = outline(at)
    assert (shape["x0"], shape["y0"]) == (8.5, 9.5)
    at.selectbox(key="w_cell_verdict").set_value("-").run()
    assert outline(at) == []
