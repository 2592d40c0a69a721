"""sgan_core.runs.timeline: bounded, evenly thinned, ordered; the run records its evaluations."""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from sgan_core import snapshot as snap
from sgan_core.runs.training_run import TrainingRun
from sgan_core.features.projection import pca_2d, standardise
from sgan_core.runs.timeline import Moment, Timeline, map_of
from tests import fakes
from tiny_config import tiny_cfg

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def evaluated(number: int) -> snap.Snapshot:
    """The snapshot of evaluation `number` (1, 2, ...), at step 10 x number."""
    return fakes.make_snapshot(step=10 * number, version=number,
                               evaluation_version=number)


def fill(timeline: Timeline, count: int) -> list[int]:
    for number in range(1, count + 1):
        timeline.add(evaluated(number))
    return [moment.evaluation_version for moment in timeline.moments()]


def test_keeps_everything_below_capacity_in_order():
    assert fill(Timeline(capacity=10), 7) == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("capacity", [2, 3, 10, 120])
@pytest.mark.parametrize("count", [1, 9, 10, 11, 50, 301])
def test_bounded_keeps_first_and_latest_in_order(capacity, count):
    versions = fill(Timeline(capacity=capacity), count)
    assert len(versions) <= capacity
    assert versions[0] == 1 and versions[-1] == count
    assert versions == sorted(set(versions))


@pytest.mark.parametrize("count", [10, 37, 64, 200, 1000])
def test_thinning_is_even(count):
    """Every kept moment but the latest is exactly `stride` evaluations after the one
    before it; full timelines stay at least half full."""
    timeline = Timeline(capacity=10)
    versions = fill(timeline, count)
    gaps = np.diff(versions[:-1])
    assert (gaps == timeline.stride).all(), versions
    assert 0 < versions[-1] - versions[-2] <= timeline.stride
    assert len(versions) >= min(count, timeline.capacity // 2)


def test_ignores_repeats_and_unevaluated_snapshots():
    timeline = Timeline(capacity=5)
    timeline.add(evaluated(1))
    timeline.add(evaluated(1))  # a progress-only publish keeps the evaluation_version
    timeline.add(fakes.make_snapshot(evaluation_version=2, confusion=None))
    assert [m.evaluation_version for m in timeline.moments()] == [1]


def test_bad_capacity_says_why():
    with pytest.raises(ValueError, match="at least 2"):
        Timeline(capacity=1)


def test_moment_replays_onto_the_latest_snapshot():
    early, latest = evaluated(1), evaluated(2)
    early = dataclasses.replace(early, test_accuracy=0.25, confusion=fakes.make_confusion() * 0)
    shown = Moment.of(early).applied_to(latest)
    assert shown.step == 10 and shown.test_accuracy == 0.25
    assert shown.confusion.sum() == 0 and shown.evaluation_version == 1
    assert shown.history is latest.history  # curves still show the whole run
    # A moment keeps the map it draws: the features' PCA coordinates, not the features.
    stacked = np.concatenate([early.features.real, early.features.fake])
    expected = pca_2d(standardise(stacked))
    assert shown.features.real.shape == (len(early.features.real), 2)
    np.testing.assert_allclose(np.concatenate([shown.features.real, shown.features.fake]),
                               expected, rtol=1e-4, atol=1e-4)


def test_past_maps_line_up_with_the_moment_before():
    """A moment's map is turned, mirrored, scaled and shifted onto the moment before's
    (same test images, same order), so scrubbing does not flip or spin the map."""
    features = evaluated(1).features
    plain = map_of(features).real
    mirror_turn = np.array([[0.0, 1.0], [1.0, 0.0]])  # a quarter turn and a mirror
    previous = plain @ mirror_turn * 2.0 + 3.0
    aligned = map_of(features, previous).real
    np.testing.assert_allclose(aligned, previous, rtol=1e-4, atol=1e-4)
    assert np.abs(plain - previous).max() > 1.0  # without the alignment it would jump

    timeline = Timeline(capacity=5)
    timeline.add(evaluated(1))
    timeline.add(evaluated(2))
    one, two = (moment.features for moment in timeline.moments())
    expected = map_of(evaluated(2).features, one.real)
    np.testing.assert_allclose(two.real, expected.real, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(two.fake, expected.fake, rtol=1e-5, atol=1e-5)
    assert np.abs(map_of(evaluated(2).features).real - two.real).max() > 1e-3


def test_memory_is_measured_and_bounded():
    timeline = Timeline(capacity=8)
    fill(timeline, 100)
    per_moment = Moment.of(evaluated(1)).nbytes()
    assert 0 < timeline.nbytes() <= 8 * per_moment


def test_the_run_records_every_evaluation(idx_dataset):
    run = TrainingRun(tiny_cfg(idx_dataset(), eval_every_s=0.05))
    run.start()
    try:
        deadline = time.monotonic() + 30
        while len(run.timeline()) < 3:
            assert time.monotonic() < deadline, "no three evaluations in 30 s"
            time.sleep(0.02)
        run.pause()
    finally:
        run.stop()
    moments = run.timeline().moments()
    final = run.snapshot()
    assert moments[-1].evaluation_version == final.evaluation_version
    assert [m.evaluation_version for m in moments] == list(
        range(1, final.evaluation_version + 1))
    assert [m.step for m in moments] == sorted(m.step for m in moments)
    assert moments[-1].samples is final.samples


def test_moments_keep_their_cells_and_share_the_test_images():
    timeline = Timeline(capacity=8)
    fill(timeline, 3)
    first, _, last = timeline.moments()
    assert first.cells is not None and first.cells.real_images is last.cells.real_images
    shared = first.cells.real_images.nbytes
    each_alone = sum(m.nbytes() for m in timeline.moments())
    assert each_alone - 3 * shared < timeline.nbytes() <= each_alone - 2 * shared
