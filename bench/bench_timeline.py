"""What the timeline costs: memory of a real run's timeline filled to its cap and past it,
the time of one scrub move on the page (server side), and the time to open run files.

    nice -n 15 python bench/bench_timeline.py [--evaluations 260] [--moves 30]

Prints figures, asserts nothing. The run is a real TrainingRun with the page's default
figure sizes (2,000 test images in the map and the confusion matrix, 64 samples, 500
fakes per evaluation) on the bundled MNIST subset, evaluating as often as it can
(eval_every_s 0.01), so `--evaluations` of them fill the 120-moment timeline and thin
it (every evaluation past the cap halves the kept ones in turn).

(a) memory: Timeline.nbytes() (the arrays the moments hold; shared ones once) and the
    process's VmRSS from /proc at the first evaluation, every 60 evaluations, whenever
    the timeline is full (120 kept: evaluations 120, 238, 476, ...) and at the end
    (--evaluations 238 ends on a full timeline). The bound is on moment count, so a
    longer run (30 minutes of a page run is 900 evaluations) keeps at most the same 120
    moments; only the history (12 floats per evaluation) grows with time.
(b) scrub: the run saved as a run file and opened on the page (AppTest, in this
    process, PCA-only map service); `--moves` slider moves to seeded random moments,
    each the wall time of one whole-page rerun (the server's script and AppTest's
    reading of it: an upper bound of the server's time).
(c) opening: read_run_file of the page's download and of the demo's options
    (--export-half --export-moments 40 --export-fakes 60), file sizes.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sgan_core.threads import configure_threads  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fill_timeline(evaluations: int, every: int = 60):
    """A real run evaluating back to back until `evaluations` are in its timeline."""
    import torch

    from sgan_core.config import TrainConfig
    from sgan_core.runs.training_run import TrainingRun

    torch.set_num_threads(1)
    empty = tempfile.mkdtemp()  # no dataset here: the bundled subset
    cfg = TrainConfig(data_dir=empty, download=False, eval_every_s=0.01, num_threads=1,
                      max_steps=1_000_000)
    run = TrainingRun(cfg)
    run.start()
    timeline, marks, started = run.timeline(), {}, time.monotonic()
    while timeline.evaluations_seen < evaluations:
        seen = timeline.evaluations_seen
        if seen >= 1 and "first" not in marks:
            marks["first"] = (seen, len(timeline), timeline.nbytes(), rss_mb())
        if len(timeline) >= timeline.capacity:  # full again every time it refills
            marks.setdefault(f"full@{seen}", (seen, len(timeline), timeline.nbytes(), rss_mb()))
        if seen and seen % every == 0:
            marks.setdefault(f"{seen}", (seen, len(timeline), timeline.nbytes(), rss_mb()))
        if run.snapshot().error:
            raise SystemExit(f"the run failed: {run.snapshot().error}")
        time.sleep(0.2)
    # Taken now, not after a pause: pausing evaluates once more, which may thin it.
    frozen = Frozen(run.snapshot(), timeline.moments(), run.discriminator_weights())
    marks["end"] = (timeline.evaluations_seen, len(timeline), timeline.nbytes(), rss_mb())
    run.stop()
    print(f"(a) {marks['end'][0]} evaluations in {time.monotonic() - started:.0f} s "
          f"(step {frozen.snapshot().step}); kept {len(frozen.moments)}, "
          f"stride {timeline.stride}")
    for name, (seen, kept, nbytes, rss) in marks.items():
        print(f"    {name:>9}: evaluations {seen:4d}  kept {kept:3d}  "
              f"timeline {nbytes / 2**20:7.1f} MB  VmRSS {rss:7.1f} MB")
    return frozen


class Frozen:
    """The run as it was when the count was reached: what the page's download reads."""

    def __init__(self, snapshot, moments, weights) -> None:
        from sgan_core.storage.recorded_run import RecordedTimeline

        self.moments, self.weights, self._snapshot = moments, weights, snapshot
        self._timeline = RecordedTimeline(moments)

    def snapshot(self):
        return self._snapshot

    def timeline(self):
        return self._timeline

    def discriminator_weights(self):
        return self.weights


def scrub(run, moves: int) -> None:
    import numpy as np
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.sidebar import run_files as runfiles
    from dashboard import server
    from sgan_core.features.embedding_service import EmbeddingService
    from sgan_core.storage.recorded_run import open_run_file

    server.new_embedding_service = lambda: EmbeddingService(child_factory=None)  # PCA only
    st.cache_resource.clear()
    recorded = open_run_file(runfiles.export_bytes(run), "bench.sganrun")
    run_id = server.registry().add(recorded)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.query_params["run"] = run_id
    at.run()
    options = at.select_slider(key="w_timeline").options
    rng = np.random.default_rng(0)
    times = []
    for index in rng.integers(0, len(options) - 1, moves):
        slider = at.select_slider(key="w_timeline")
        started = time.perf_counter()
        slider.set_value(recorded.timeline().moments()[int(index)].evaluation_version).run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    times.sort()
    print(f"(b) scrub over {len(options) - 1} moments, {moves} moves, page rerun per move: "
          f"median {1000 * statistics.median(times):.0f} ms, "
          f"p90 {1000 * times[int(0.9 * (len(times) - 1))]:.0f} ms, "
          f"max {1000 * times[-1]:.0f} ms")
    server.shutdown_all()


def opening(run) -> None:
    from dashboard.sidebar import run_files as runfiles
    from sgan_core.storage.run_file import ExportOptions, export_run, read_run_file

    def demo() -> bytes:
        buffer = io.BytesIO()
        export_run(run, buffer, ExportOptions(max_moments=40, fakes_per_moment=60, half=True))
        return buffer.getvalue()

    for name, build in (("page download", lambda: runfiles.export_bytes(run)),
                        ("demo options", demo)):
        started = time.perf_counter()
        data = build()
        built = time.perf_counter() - started
        record = read_run_file(data, name)
        seconds = time.perf_counter() - started - built
        print(f"(c) {name}: {len(data) / 2**20:.1f} MB, {len(record.moments)} moments, "
              f"written in {built:.2f} s, read in {seconds:.2f} s")


def main() -> None:
    configure_threads()  # first, before this process imports torch
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=260)
    parser.add_argument("--moves", type=int, default=30)
    args = parser.parse_args()
    run = fill_timeline(args.evaluations)
    opening(run)
    scrub(run, args.moves)


if __name__ == "__main__":
    main()
