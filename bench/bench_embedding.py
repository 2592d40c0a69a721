"""What UMAP costs here: start-up, warm update time, and the slowdown it causes in the
training process, through the dashboard's EmbeddingService (UMAP in its own process).

    python bench/bench_embedding.py [--points 2000] [--fakes 200] [--dim 128]
                                    [--updates 10] [--loop-s 3] [--pairs 5] [--cold]
                                    [--control]

Features are random clustered points (10 blobs) shaped like the discriminator's; each
update nudges them a little, the way consecutive training snapshots differ. The cost to
training is measured in this process, like the trainer's thread would feel it: (1) the
rate of a busy pure-Python loop (the worst case for the GIL) and (2) the longest time a
thread sleeping 2 ms at a time waited to run again (the GIL hold times: the busy loop
hands the GIL over every 5 ms). Each is taken with the load on and off in alternating
windows, because the machine is shared and its load drifts: the UMAP process importing
and compiling vs paused (SIGSTOP), and back-to-back updates vs an idle service. Loop-rate
ratios near 1 and waits of a few ms mean the embedding does not slow training.
`--cold` points NUMBA_CACHE_DIR at a fresh folder, as on a machine that never ran UMAP.
(UMAP in a thread of the server, measured before it moved to a child: bench/README.md.)
`--control`
measures an unrelated nice-10 busy process the same way, to tell CPU sharing on a busy
machine from GIL contention.
Run it in a fresh process: the start-up figures are only meaningful the first time.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
from sgan_core.threads import configure_threads  # noqa: E402

from sgan_core.features.embedding_service import EmbeddingService, UmapPhase  # noqa: E402
from sgan_core.features.projection import (  # noqa: E402
    Method, Projection, clustered_points)
from sgan_core.snapshot import Features  # noqa: E402

RUN = "bench"  # the one run id the service is fed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000, help="real points per frame")
    parser.add_argument("--fakes", type=int, default=200, help="fake points per frame")
    parser.add_argument("--dim", type=int, default=128, help="feature dimension")
    parser.add_argument("--updates", type=int, default=10, help="timed warm updates")
    parser.add_argument("--loop-s", type=float, default=3.0, help="seconds per loop rate")
    parser.add_argument("--pairs", type=int, default=5, help="on/off windows compared")
    parser.add_argument("--cold", action="store_true",
                        help="a fresh, empty numba cache for the UMAP child")
    parser.add_argument("--control", action="store_true",
                        help="also measure an unrelated nice-10 busy process (CPU sharing)")
    return parser.parse_args()


def loop_rate(seconds: float) -> float:
    """Iterations per second of a busy pure-Python loop, over `seconds`."""
    count, total = 0, 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for i in range(10_000):
            total += i * i
        count += 10_000
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


@dataclass
class Window:
    rate: float  # busy-loop iterations per second
    stall_s: float  # longest time the probe thread waited past its 2 ms sleep


def measure(seconds: float) -> Window:
    """Loop rate, plus the worst wake-up delay of a thread sleeping 2 ms at a time: a
    thread that wants the GIL waits as long as another thread holds it (the busy loop
    hands it over every 5 ms; umap's numba code in this process does not)."""
    worst, done = [0.0], threading.Event()

    def probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            time.sleep(0.002)
            worst[0] = max(worst[0], time.perf_counter() - started - 0.002)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    rate = loop_rate(seconds)
    done.set()
    thread.join()
    return Window(rate, worst[0])


def frames(args: argparse.Namespace, n: int = 4) -> list[Features]:
    """A few nudged variants of one feature set, made up front (cheap to cycle)."""
    rng = np.random.default_rng(0)
    real = clustered_points(args.points, args.dim, seed=1)
    fake = clustered_points(args.fakes, args.dim, seed=2)
    labels = np.arange(args.points) % 10
    out = []
    for _ in range(n):
        real = real + rng.normal(scale=0.05, size=real.shape).astype(np.float32)
        out.append(Features(0, real, labels, fake))
    return out


def at_step(features: Features, step: int) -> Features:
    return Features(step, features.real, features.real_labels, features.fake)


def wait_until(condition: Callable[[], bool], timeout: float, poll_s: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime, stime in clock ticks


def process_nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def drawn(service: EmbeddingService) -> Projection:
    frame = service.latest(RUN)
    assert frame is not None and not frame.problem, frame
    return frame.projection


def timed_updates(service: EmbeddingService, variants: list[Features], n: int, step: int):
    """Submit-to-frame seconds and the child's fit seconds, n updates."""
    walls, fits = [], []
    for i in range(n):
        step += 1
        started = time.perf_counter()
        service.submit(RUN, at_step(variants[i % len(variants)], step))
        assert wait_until(lambda: drawn(service).step == step, 120.0)
        walls.append(time.perf_counter() - started)
        fits.append(drawn(service).seconds)
    return walls, fits, step


class Feeder:
    """Submits a new frame as soon as the last one is drawn, while switched on."""

    def __init__(self, service: EmbeddingService, variants: list[Features], step: int) -> None:
        self.service, self.variants, self.step, self.frames = service, variants, step, 0
        self.on, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        while not self.done.is_set():
            if not self.on.wait(0.05):
                continue
            self.step += 1
            step = self.step
            self.service.submit(RUN, at_step(self.variants[step % len(self.variants)], step))
            wait_until(lambda: self.done.is_set() or drawn(self.service).step == step,
                       120.0, poll_s=0.02)  # a light poll: the loop is measured
            self.frames += not self.done.is_set()

    def close(self) -> None:
        self.done.set()
        self.thread.join()


def paired(load_on: Callable[[], None], load_off: Callable[[], None], pairs: int,
           window_s: float, until: Callable[[], bool] = lambda: False,
           ) -> list[tuple[Window, Window]]:
    """(on, off) windows, alternating: the machine is shared and its load drifts, so
    each 'on' window is compared with the 'off' window just before it. Stops early
    once `until()` is true."""
    windows = []
    for _ in range(pairs):
        if until():
            break
        load_off()
        off = measure(window_s)
        load_on()
        windows.append((measure(window_s), off))
    load_off()
    return windows


def switch(event: threading.Event) -> tuple[Callable[[], None], Callable[[], None]]:
    """(on, off) for a load gated by `event`; off waits for a frame in flight to end."""
    return event.set, lambda: (event.clear(), time.sleep(0.3))


def signals(pid: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """(on, off) for a whole process: SIGCONT / SIGSTOP (its wall clock just pauses)."""
    return (lambda: os.kill(pid, signal.SIGCONT)), (lambda: os.kill(pid, signal.SIGSTOP))


def describe(windows: list[tuple[Window, Window]]) -> str:
    ratios = [on.rate / off.rate for on, off in windows]
    return (f"loop rate {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, "
            f"max {max(ratios):.2f}, {len(ratios)} pairs); longest GIL wait "
            f"{max(on.stall_s for on, _ in windows) * 1e3:.0f} ms on vs "
            f"{max(off.stall_s for _, off in windows) * 1e3:.0f} ms off")


def bench_service(args: argparse.Namespace, variants: list[Features]) -> None:
    started = time.perf_counter()
    service = EmbeddingService(frame_interval_s=0.0)  # the dashboard's, minus the pacing
    service.submit(RUN, at_step(variants[0], 0))
    assert wait_until(lambda: service.child_pid is not None, 30.0), service.latest(RUN)
    pid = service.child_pid
    ready = lambda: service.umap_phase is not UmapPhase.WARMING  # noqa: E731
    on, off = signals(pid)
    windows = paired(on, off, 100, args.loop_s, until=ready)
    on()
    print(f"UMAP child importing + compiling vs paused (SIGSTOP), until ready: "
          f"{describe(windows)}")
    assert wait_until(ready, 600.0) and service.umap_phase is UmapPhase.READY, \
        service.latest(RUN)
    print(f"UMAP child ready (import + compile, nice {process_nice(pid)}"
          f"{', cold numba cache' if args.cold else ''}): "
          f"{time.perf_counter() - started:.1f} s after the service started (wall, "
          f"SIGSTOP pauses included)")
    assert wait_until(lambda: drawn(service).method is Method.UMAP, 120.0)
    print(f"first UMAP frame of {args.points} + {args.fakes} points (200 epochs): "
          f"{drawn(service).seconds:.2f} s; {time.perf_counter() - started:.1f} s after start")

    walls, fits, step = timed_updates(service, variants, args.updates, step=0)
    print(f"warm update of {args.points} + {args.fakes} points x {args.dim} via the service, "
          f"{args.updates} runs: submit-to-frame median {statistics.median(walls):.3f} s "
          f"(min {min(walls):.3f}, max {max(walls):.3f}); fit median "
          f"{statistics.median(fits):.3f} s")

    feeder = Feeder(service, variants, step)
    cpu_before = process_cpu_s(pid)
    windows = paired(*switch(feeder.on), args.pairs, args.loop_s)
    cores = (process_cpu_s(pid) - cpu_before) / (args.pairs * args.loop_s)
    print(f"back-to-back UMAP updates vs idle service: {describe(windows)}; "
          f"{feeder.frames} frames, UMAP child busy {cores:.2f} cores while on")
    feeder.close()
    service.close()


def bench_control(args: argparse.Namespace) -> None:
    """An unrelated nice-10 busy process, paused and resumed like the UMAP process: how
    much of the slowdown is plain CPU sharing on this (shared) machine, not the GIL."""
    busy = subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", "while True: pass"])
    try:
        windows = paired(*signals(busy.pid), args.pairs, args.loop_s)
    finally:
        os.kill(busy.pid, signal.SIGCONT)
        busy.kill()
        busy.wait()
    print(f"[control] a nice-10 busy process vs paused: {describe(windows)}")


def main() -> None:
    configure_threads()  # first, before this process imports torch
    args = parse_args()
    if args.cold:  # before the child starts: it inherits the environment
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="sgan-numba-")
    variants = frames(args)
    print(f"busy-loop baseline: {loop_rate(args.loop_s) / 1e6:.2f} M iterations/s")
    bench_service(args, variants)
    if args.control:
        bench_control(args)


if __name__ == "__main__":
    main()
