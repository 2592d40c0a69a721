"""sgan_core.storage.run_file / recorded: a run survives the round trip to one file, and every
bad file is refused with a problem kind and a message, never a traceback or a pickle."""
from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from sgan_core.storage import run_file
from sgan_core.storage.recorded_run import RecordedRun, RecordedRunError, open_run_file
from sgan_core.storage.run_file import ExportOptions, RunFileError, RunFileProblem
from sgan_core.snapshot import RunStatus
from sgan_core.runs.timeline import Timeline
from tests import fakes


def recorded_timeline(count: int = 6) -> Timeline:
    timeline = Timeline()
    for number in range(1, count + 1):
        timeline.add(fakes.make_snapshot(step=10 * number, version=number))
    return timeline


def file_bytes(count: int = 6, options: ExportOptions = ExportOptions(),
               weights=None) -> bytes:
    timeline = recorded_timeline(count)
    buffer = io.BytesIO()
    run_file.write_run_file(buffer, fakes.make_snapshot(step=10 * count, version=count),
                            timeline.moments(), weights, options, command=["train", "x"])
    return buffer.getvalue()


def assert_same_arrays(left, right) -> None:
    for name in vars(left):
        np.testing.assert_allclose(getattr(left, name), getattr(right, name), rtol=1e-3,
                                   atol=1e-3, err_msg=name)


def test_round_trip_keeps_the_figures():
    moments = recorded_timeline(6).moments()
    record = run_file.read_run_file(file_bytes(6))
    latest = fakes.make_snapshot(step=60, version=6)
    assert record.manifest["command"] == ["train", "x"]
    assert record.snapshot.config == latest.config
    assert record.snapshot.test_accuracy == latest.test_accuracy
    assert record.snapshot.class_names == latest.class_names
    for name, values in latest.history.items():
        np.testing.assert_array_equal(record.snapshot.history[name], values)
    assert ([m.evaluation_version for m in record.moments]
            == [m.evaluation_version for m in moments])
    for stored, original in zip(record.moments, moments):
        np.testing.assert_array_equal(stored.confusion, original.confusion)
        assert stored.confusion.dtype == original.confusion.dtype
        assert_same_arrays(stored.samples, original.samples)
        assert_same_arrays(stored.cells, original.cells)
        np.testing.assert_allclose(stored.features.real, original.features.real, rtol=1e-5)
    # the test images every moment shares are stored once and come back shared
    assert record.moments[0].cells.real_images is record.moments[-1].cells.real_images


def test_export_options_thin_the_timeline_and_halve_the_weights():
    weights = {"w": np.linspace(-1, 1, 1000, dtype=np.float32)}
    full = file_bytes(40, weights=weights)
    small = file_bytes(40, ExportOptions(max_moments=5, fakes_per_moment=3, half=True),
                       weights=weights)
    record = run_file.read_run_file(small)
    versions = [m.evaluation_version for m in record.moments]
    assert len(versions) == 5 and versions[0] == 1 and versions[-1] == 40
    assert all(len(m.cells.fake_images) <= 3 for m in record.moments)
    assert record.weights["w"].dtype == np.float32
    np.testing.assert_allclose(record.weights["w"], weights["w"], atol=1e-3)
    assert len(small) < len(full) / 2


def test_recorded_run_is_read_only_and_at_rest():
    run = open_run_file(file_bytes(4), "lesson.sganrun")
    assert run.snapshot().run_status == RunStatus.STOPPED and not run.is_alive
    assert run.snapshot().data_notice is None  # it spoke of the recording machine
    assert run.snapshot().data_source == "fake"
    assert len(run.timeline()) == 4
    for command in (run.pause, run.resume, run.step, run.start, run.set_learning_rates):
        with pytest.raises(RecordedRunError, match="does not train"):
            command()
    run.stop()  # Reset and the registry may always let it go
    with pytest.raises(RuntimeError, match="without its discriminator"):
        run.classify(np.zeros((28, 28, 1), np.uint8))


def test_recorded_run_gives_the_stored_discriminators_verdicts(idx_dataset):
    from sgan_core.runs.training_run import TrainingRun
    from tiny_config import tiny_cfg

    import torch
    torch.set_num_threads(1)
    live = TrainingRun(tiny_cfg(idx_dataset(), max_steps=3))
    live.run_here()
    buffer = io.BytesIO()
    run_file.export_run(live, buffer)
    recorded = open_run_file(buffer.getvalue(), "tiny.sganrun")
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
    np.testing.assert_allclose(recorded.classify(images), live.classify(images), atol=1e-5)
    assert isinstance(recorded, RecordedRun)


def _zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Payload:
    """Would run a shell command if anything unpickled it."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/sgan-pickle-ran",))


def _rewritten(data: bytes, name: str, content: bytes) -> bytes:
    """The run file with one member replaced."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {entry: archive.read(entry) for entry in archive.namelist()}
    entries[name] = content
    return _zip(entries)


def _object_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, evil=np.array([Payload()], dtype=object))
    return buffer.getvalue()


BAD_FILES = {
    "empty": (lambda good: b"", RunFileProblem.NOT_A_RUN_FILE),
    "text": (lambda good: b"step,loss\n1,2\n", RunFileProblem.NOT_A_RUN_FILE),
    "png": (lambda good: b"\x89PNG\r\n\x1a\n" + bytes(100), RunFileProblem.NOT_A_RUN_FILE),
    "pickle with code": (lambda good: pickle.dumps(Payload()), RunFileProblem.PICKLE),
    "old pickle": (lambda good: pickle.dumps(Payload(), protocol=0), RunFileProblem.PICKLE),
    "torch checkpoint": (lambda good: _zip({"archive/data.pkl": pickle.dumps({"a": 1})}),
                         RunFileProblem.PICKLE),
    "object arrays": (lambda good: _rewritten(good, "arrays.npz", _object_npz()),
                      RunFileProblem.PICKLE),
    "truncated": (lambda good: good[: len(good) // 2], RunFileProblem.TRUNCATED),
    "other zip": (lambda good: _zip({"notes.txt": b"hi"}), RunFileProblem.NOT_A_RUN_FILE),
    "wrong version": (lambda good: _rewritten(good, run_file.MANIFEST, b'{"format": '
                      b'"sgan-studio-run", "format_version": 99}'), RunFileProblem.WRONG_VERSION),
    "bad config": (lambda good: _rewritten(good, "config.json", b'{"labels_per_class": -3}'),
                   RunFileProblem.DAMAGED),
    "broken json": (lambda good: _rewritten(good, "run.json", b"{"), RunFileProblem.DAMAGED),
    "missing arrays": (lambda good: _rewritten(good, "arrays.npz", _npz_of(x=np.zeros(2))),
                       RunFileProblem.DAMAGED),
}


def _npz_of(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_with_a_reason(case, tmp_path):
    make, problem = BAD_FILES[case]
    data = make(file_bytes(2))
    with pytest.raises(RunFileError) as refused:
        run_file.read_run_file(data, "upload.sganrun")
    assert refused.value.problem is problem
    assert "upload.sganrun" in str(refused.value)
    assert not os.path.exists("/tmp/sgan-pickle-ran")


def test_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.sganrun"
    with open(path, "wb") as handle:
        handle.truncate(run_file.MAX_FILE_BYTES + 1)  # sparse: no bytes written
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read it"))
    with pytest.raises(RunFileError) as refused:
        run_file.read_run_file(path, "huge.sganrun")
    assert refused.value.problem is RunFileProblem.TOO_LARGE
    assert "50 MB" in str(refused.value)


def test_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(run_file, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(RunFileError) as refused:
        run_file.read_run_file(_zip({"big": bytes(5000)}))
    assert refused.value.problem is RunFileProblem.TOO_LARGE
