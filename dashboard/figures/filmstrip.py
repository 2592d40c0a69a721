"""Film strip downloads of a run's timeline (pure: moments in, file bytes out).

- `samples_gif`: the fixed-noise sample grid of every kept moment, one GIF frame each,
  oldest first, the verdict tiles exactly as the samples panel draws them, with the
  step and training time above. Frames are as evenly spaced as the timeline's moments
  (sgan_core/runs/timeline.py thins them evenly), so the film's pace is the run's.
- `confusion_csv`: the confusion matrix of every kept moment in long form (step,
  seconds, truth, verdict, count), rows = truth as on the page; "fake" names the
  (N+1)-th class.
"""
from __future__ import annotations

import csv
import io
from typing import Sequence

import numpy as np

from dashboard.figures.charts import axis_labels
from dashboard.figures.images import pil_font, samples_image
from sgan_core.runs.timeline import Moment

FRAME_MS = 500  # two moments a second: a 120-moment run plays in a minute
HEADER_PX = 40  # the step line above each frame
CSV_COLUMNS = ("step", "seconds", "truth", "verdict", "count")


def with_samples(moments: Sequence[Moment]) -> list[Moment]:
    return [moment for moment in moments if moment.samples is not None]


def frame(moment: Moment, class_names: Sequence[str]) -> np.ndarray:
    """One moment's sample grid under a line saying when it was."""
    from PIL import Image, ImageDraw

    grid = Image.fromarray(samples_image(moment.samples, class_names))
    canvas = Image.new("RGB", (grid.width, grid.height + HEADER_PX), "white")
    canvas.paste(grid, (0, HEADER_PX))
    minutes, seconds = divmod(int(moment.elapsed_s), 60)
    ImageDraw.Draw(canvas).text((4, HEADER_PX // 2), f"step {moment.step:,} · "
                                f"{minutes}:{seconds:02d}", fill="black",
                                font=pil_font(26), anchor="lm")
    return np.asarray(canvas)


def samples_gif(moments: Sequence[Moment], class_names: Sequence[str],
                frame_ms: int = FRAME_MS) -> bytes:
    """An animated GIF, one frame per moment that has samples, looping."""
    from PIL import Image

    kept = with_samples(moments)
    if not kept:
        raise ValueError("no moment with a sample grid yet: the first evaluation makes one")
    frames = [Image.fromarray(frame(moment, class_names)) for moment in kept]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0, optimize=False)
    return buffer.getvalue()


def confusion_csv(moments: Sequence[Moment], class_names: Sequence[str]) -> str:
    """Every kept moment's matrix, one row per cell."""
    labels = axis_labels(class_names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for moment in moments:
        if moment.confusion is None:
            continue
        for (truth, verdict), count in np.ndenumerate(np.asarray(moment.confusion)):
            writer.writerow((moment.step, f"{moment.elapsed_s:.1f}", labels[truth],
                             labels[verdict], int(count)))
    return out.getvalue()
