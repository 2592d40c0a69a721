"""Film strip downloads: the sample grid over the timeline as a GIF, the confusion
matrices over time as CSV."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from dashboard.figures import filmstrip
from sgan_core.runs.timeline import Moment
from dashboard.panels import filmstrip as panel
from tests import fakes
from tests.test_app import fake_engine, server  # noqa: F401 (fixtures)
from tests.test_timeline_page import started_page_with_timeline


def moments(count: int) -> list[Moment]:
    return [Moment.of(fakes.make_snapshot(step=10 * n, version=n, evaluation_version=n))
            for n in range(1, count + 1)]


def test_the_gif_has_one_frame_per_moment_and_the_grids_size():
    kept = moments(3)
    gif = Image.open(io.BytesIO(filmstrip.samples_gif(kept, fakes.CLASS_NAMES)))
    assert gif.format == "GIF" and gif.n_frames == 3
    first = filmstrip.frame(kept[0], fakes.CLASS_NAMES)
    assert gif.size == (first.shape[1], first.shape[0])
    assert gif.info["duration"] == filmstrip.FRAME_MS
    gif.seek(2)
    gif.convert("RGB").load()  # the last frame decodes too


def test_moments_without_samples_are_skipped_and_none_at_all_is_an_error():
    kept = moments(2)
    kept.insert(1, Moment.of(fakes.make_snapshot(samples=None, evaluation_version=9)))
    gif = Image.open(io.BytesIO(filmstrip.samples_gif(kept, fakes.CLASS_NAMES)))
    assert gif.n_frames == 2
    with pytest.raises(ValueError, match="no moment with a sample grid"):
        filmstrip.samples_gif(kept[1:2], fakes.CLASS_NAMES)


def test_the_csv_holds_every_cell_of_every_moment():
    kept = moments(2)
    rows = list(csv.DictReader(io.StringIO(filmstrip.confusion_csv(kept, fakes.CLASS_NAMES))))
    assert tuple(rows[0]) == filmstrip.CSV_COLUMNS
    assert len(rows) == 2 * 11 * 11
    assert [int(r["step"]) for r in rows[:: 121]] == [10, 20]
    seven = [r for r in rows if r["truth"] == "fake" and r["verdict"] == "3"]
    assert [int(r["count"]) for r in seven] == [7, 7]
    total = sum(int(r["count"]) for r in rows if r["step"] == "10")
    assert total == int(np.asarray(kept[0].confusion).sum())


def film_buttons(at) -> list[str]:
    """The film strip's download buttons (the sidebar's "Download this run" is not one)."""
    return [element.proto.label for element in at.get("download_button")
            if element.key != "download_run"]


def test_the_page_makes_both_files_on_request(fake_engine):
    at = started_page_with_timeline()  # evaluations at steps 10, 20, 30
    assert film_buttons(at) == []  # nothing built before the press
    at.button(key=panel.BUTTON_KEY).click().run()
    assert not at.exception
    assert film_buttons(at) == ["Sample grid film (GIF)", "Confusion matrices (CSV)"]
    assert any("3 moments, up to step 30" in caption.value for caption in at.caption)
