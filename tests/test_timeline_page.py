"""The timeline bar through AppTest: scrub back, every panel shows the moment, Live, Play.

The run is tests/fakes.py's FakeRun given a real Timeline of three hand-made
evaluations, so each moment's figures are known exactly.
"""
from __future__ import annotations

import dataclasses
import json
import time

import numpy as np

from dashboard.figures.moment_choice import LIVE
from sgan_core import snapshot as snap
from sgan_core.runs.timeline import Timeline
from tests import fakes
from tests.test_app import fake_engine, new_page, server, the_run  # noqa: F401 (fixtures)


def all_fake_samples() -> snap.Samples:
    samples = fakes.make_samples()
    return dataclasses.replace(samples, verdicts=snap.frozen_array(np.full(16, 10)))


def started_page_with_timeline():
    """A started page whose run has evaluations 1..3 at steps 10, 20, 30; evaluation 1
    rejected all 16 samples as fake (the live snapshot rejects 1)."""
    at = new_page()
    at.button(key="b_start").click().run()
    timeline = Timeline(capacity=10)
    for number in (1, 2, 3):
        extra = {"samples": all_fake_samples()} if number == 1 else {}
        timeline.add(fakes.make_snapshot(step=10 * number, version=number,
                                         evaluation_version=number, **extra))
    the_run(at).timeline = lambda: timeline
    return at.run()


def captions(at) -> str:
    """Every caption on the page, the images' own included."""
    texts = [c.value for c in at.caption] + [t for i in at.image for t in i.captions]
    return " | ".join(texts)


def curve_marks(at) -> list:
    """The vertical lines drawn on the training curves (the chosen moment's step)."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if any(a.get("text") == "Test accuracy (%)"
               for a in spec["layout"].get("annotations", [])):
            return [shape["x0"] for shape in spec["layout"].get("shapes", [])]
    raise AssertionError("no curves chart on the page")


def test_scrub_back_shows_the_moment_then_live_snaps_back(fake_engine):
    at = started_page_with_timeline()
    slider = at.select_slider(key="w_timeline")
    assert slider.options == ["step 10 · 0:12", "step 20 · 0:12", "step 30 · 0:12", "Live"]
    assert "1 of 16 rejected as fake" in captions(at) and curve_marks(at) == []
    slider.set_value(1).run()
    assert not at.exception
    assert "16 of 16 rejected as fake" in captions(at)
    assert "Showing the run at step 10" in captions(at)
    assert curve_marks(at) == [10, 10, 10]  # one dotted line per curve panel
    assert "the UMAP map follows the live run only" in captions(at)
    at.button(key="timeline_live").click().run()
    assert at.select_slider(key="w_timeline").value == LIVE
    assert "1 of 16 rejected as fake" in captions(at) and curve_marks(at) == []


def test_play_replays_to_the_end_then_goes_live(fake_engine):
    at = started_page_with_timeline()
    at.select_slider(key="w_timeline").set_value(1).run()
    at.selectbox(key="w_timeline_speed").set_value(4.0).run()
    at.toggle(key="w_timeline_play").set_value(True).run()
    seen = [at.select_slider(key="w_timeline").value]
    for _ in range(6):
        time.sleep(0.3)
        at.run()
        seen.append(at.select_slider(key="w_timeline").value)
        if seen[-1] == LIVE:
            break
    assert not at.exception
    assert seen[0] == 2 and seen[-1] == LIVE, seen
    assert [v for v in seen if v != LIVE] == sorted(v for v in seen if v != LIVE)
    assert at.toggle(key="w_timeline_play").value is False


def test_a_run_without_evaluations_says_what_the_timeline_will_do(fake_engine):
    at = new_page()
    at.button(key="b_start").click().run()
    the_run(at).timeline = lambda: Timeline()
    at.run()
    assert "the first evaluation starts it" in captions(at)
