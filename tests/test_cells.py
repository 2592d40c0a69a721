"""Opening a confusion-matrix cell: which images a snapshot can show, and the page."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dashboard import cells
from sgan_core import snapshot as snap
from tests import fakes
from tests.test_app import fake_engine, new_page, server  # noqa: F401 (fixtures)


def test_fake_row_shows_the_grid_tiles_with_that_verdict():
    snapshot = fakes.make_snapshot()  # 16 tiles, verdicts 0..10, 0..4
    shown = cells.cell_images(snapshot, truth=10, verdict=3)
    assert shown.title == "fakes called 3" and shown.count == 7
    assert len(shown.images) == 2 and len(shown.captions) == 2
    assert shown.captions[0].startswith("P(3) ") and "P(fake)" in shown.captions[0]
    assert "fixed-noise sample grid" in shown.note


def test_real_called_fake_shows_the_inspectors_rejected_reals_of_that_class():
    snapshot = fakes.make_snapshot()  # rejected reals: labels 0..3, P(fake) 0.9
    low = dataclasses.replace(snapshot.inspection,
                              rejected_reals_p_fake=snap.frozen_array([0.9, 0.4, 0.9, 0.9]))
    snapshot = dataclasses.replace(snapshot, inspection=low)
    assert cells.cell_images(snapshot, 2, 10).captions == ("P(fake) 0.90",)
    assert len(cells.cell_images(snapshot, 1, 10).images) == 0  # 0.4: D said a class


def test_real_cells_say_their_images_are_not_kept():
    shown = cells.cell_images(fakes.make_snapshot(), truth=4, verdict=9)
    assert shown.title == "real 4 called 9" and len(shown.images) == 0
    assert "Only the count" in shown.note


def test_cell_index_reads_plotly_labels_and_rejects_others():
    names = fakes.CLASS_NAMES
    assert cells.cell_index("fake", names) == 10 and cells.cell_index("4", names) == 4
    assert cells.cell_index(np.int64(2), names) == 2 and cells.cell_index("cat", names) is None
    with pytest.raises(ValueError, match="no cell"):
        cells.cell_images(fakes.make_snapshot(), 11, 0)


def test_the_boxes_open_a_cell_on_the_page(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    at.selectbox(key="w_cell_truth").set_value("fake")
    at.selectbox(key="w_cell_verdict").set_value("3").run()
    assert not at.exception
    assert any("fakes called 3" in m.value for m in at.markdown)
    captions = [t for image in at.image for t in image.captions]
    assert sum(c.startswith("P(3) ") for c in captions) == 2
