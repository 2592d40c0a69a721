"""Pure functions from snapshot parts to captioned image grids (numpy, PIL).

The sample film strip with the discriminator's verdict on each tile, and the
inspector's hard cases. No streamlit here, so the pictures are tested without a page.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from dashboard.figures.charts import ACCEPT_COLOR, CALLED_FAKE_AT, REJECT_COLOR
from sgan_core.snapshot import Inspection, Samples

Cases = tuple[np.ndarray, np.ndarray, np.ndarray]  # images, their P(fake), a class each



def verdict_tiles(samples: Samples, class_names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Per sample: (class name, green) when accepted as that class, ("fake", orange) when
    rejected. Only the verdict: with its confidence too, the caption shrank to a few
    unreadable pixels on a 1024-pixel screen."""
    n_classes = len(class_names)
    labels, colors = [], []
    for verdict in np.asarray(samples.verdicts):
        if int(verdict) >= n_classes:
            labels.append("fake")
            colors.append(REJECT_COLOR)
        else:
            labels.append(str(class_names[int(verdict)]))
            colors.append(ACCEPT_COLOR)
    return labels, colors


def samples_image(samples: Samples, class_names: Sequence[str]) -> np.ndarray:
    """The fixed-noise film strip: one bordered, captioned tile per sample."""
    labels, colors = verdict_tiles(samples, class_names)
    return tile_grid(samples.images, labels, colors)


def tile_grid(images: np.ndarray, labels: Sequence[str], colors: Sequence[str],
              columns: int = 8, scale: int = 3) -> np.ndarray:
    """(S, H, W, C) uint8 images -> one (rows*h, columns*w, 3) uint8 picture.

    Each tile is upscaled (nearest neighbour: pixels stay crisp on a projector), framed
    in its colour, and captioned in white on a bar of the same colour.
    """
    from PIL import Image, ImageDraw  # only the grids need PIL

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    count, height, width = images.shape[:3]
    border, caption, gap = 4, 34, 6
    tile_w, tile_h = width * scale + 2 * border, height * scale + 2 * border + caption
    # Rows keep their width when there are fewer tiles: the page stretches the picture
    # to its column, and one inspector case grew to a 500-px tile at 1024x768.
    columns = max(1, columns)
    rows = max(1, -(-count // columns))
    canvas = Image.new("RGB", (columns * (tile_w + gap), rows * (tile_h + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    for i in range(count):
        x0, y0 = (i % columns) * (tile_w + gap), (i // columns) * (tile_h + gap)
        draw.rectangle([x0, y0, x0 + tile_w - 1, y0 + tile_h - 1], fill=colors[i])
        tile = images[i] if images.shape[3] == 3 else np.repeat(images[i], 3, axis=2)
        picture = Image.fromarray(np.ascontiguousarray(tile, dtype=np.uint8))
        picture = picture.resize((width * scale, height * scale), Image.NEAREST)
        canvas.paste(picture, (x0 + border, y0 + border))
        draw.text((x0 + tile_w / 2, y0 + tile_h - caption / 2), labels[i],
                  fill="white", font=_fitting_font(draw, labels[i], tile_w - 4), anchor="mm")
    return np.asarray(canvas)


def _fitting_font(draw: Any, text: str, max_width: int) -> Any:
    """The largest font (30 px down to 10 px) in which `text` fits the tile."""
    for size in range(30, 9, -2):
        font = pil_font(size)
        if draw.textlength(text, font=font) <= max_width:
            break
    return font


@functools.lru_cache(maxsize=8)
def pil_font(size: int) -> Any:
    """PIL's bundled font at `size` px (cached: loading it costs a few ms)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def hard_cases(images: np.ndarray, p_fake: np.ndarray, other: np.ndarray,
               called_fake: bool) -> Cases:
    """Keep only the cases D really got wrong: P(fake) at least CALLED_FAKE_AT for real
    images "called fake", below it for fakes that "fooled" it (the extremes alone listed
    real images with P(fake) = 0.09 as "called fake")."""
    p_fake = np.asarray(p_fake, dtype=float)
    keep = p_fake >= CALLED_FAKE_AT if called_fake else p_fake < CALLED_FAKE_AT
    return np.asarray(images)[keep], p_fake[keep], np.asarray(other)[keep]


def fooling_fakes(inspection: Inspection) -> Cases:
    """Fakes D accepted as a real class, with the class it gave."""
    return hard_cases(inspection.fooling_fakes, inspection.fooling_fakes_p_fake,
                      inspection.fooling_fakes_class, called_fake=False)


def rejected_reals(inspection: Inspection) -> Cases:
    """Real test images D called fake, with their true class."""
    return hard_cases(inspection.rejected_reals, inspection.rejected_reals_p_fake,
                      inspection.rejected_reals_label, called_fake=True)


def cases_image(cases: Cases, class_names: Sequence[str], color: str) -> np.ndarray:
    """Four a row, captioned with the class and P(fake)."""
    images, p_fake, classes = cases
    labels = [f"{class_names[int(k)]} p={p:.2f}" for k, p in zip(classes, p_fake)]
    return tile_grid(images, labels, [color] * len(labels), columns=4)
