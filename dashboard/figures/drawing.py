"""A drawing on the page's canvas -> an image in the dataset's format (pure, no streamlit).

MNIST's digits were made this way (LeCun et al.): each digit scaled to fit a 20x20 box
keeping its aspect ratio, anti-aliased to grey, then placed in the 28x28 field so that
its centre of mass sits at the centre. A drawing gets the same treatment, so what D is
asked about looks like what it trained on: light strokes on black, uint8 0-255, turned
into [-1, 1] by the very function that scales every training image
(`sgan_core.data.batches.to_unit_range`, inside `TrainingRun.classify`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

INK_LEVEL = 32  # a canvas pixel at least this light counts as a stroke (0-255)
DIGIT_BOX = 20 / 28  # the digit's longer side, as a share of the image side (MNIST: 20 of 28)
PREPROCESSING = ("D sees your drawing as MNIST made its digits: strokes cropped, scaled "
                 "into a {box}x{box} box (grey, anti-aliased), centred by their centre of "
                 "mass in {height}x{width}, light on black, 0-255 scaled to [-1, 1] like "
                 "every training image.")


def describe(height: int, width: int) -> str:
    """The preprocessing in words, with this dataset's sizes."""
    return PREPROCESSING.format(box=digit_box(height, width), height=height, width=width)


def digit_box(height: int, width: int) -> int:
    return max(1, round(DIGIT_BOX * min(height, width)))


def ink(canvas: np.ndarray) -> np.ndarray:
    """(H, W) grey levels of a canvas picture: RGB(A), light strokes on a dark ground.
    Transparent pixels are ground, whatever their colour."""
    pixels = np.asarray(canvas)
    if pixels.ndim == 2:
        return pixels.astype(np.uint8)
    grey = pixels[..., :3].max(axis=-1).astype(np.float32)
    if pixels.shape[-1] == 4:
        grey = grey * (pixels[..., 3].astype(np.float32) / 255.0)
    return np.clip(grey, 0, 255).astype(np.uint8)


def to_dataset_image(canvas: np.ndarray, height: int, width: int,
                     channels: int) -> Optional[np.ndarray]:
    """Canvas picture -> (height, width, channels) uint8 like the dataset; None when
    nothing is drawn (an empty canvas is a message, not a verdict on black)."""
    from PIL import Image

    grey = ink(canvas)
    rows, columns = np.nonzero(grey >= INK_LEVEL)
    if len(rows) == 0:
        return None
    crop = grey[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    box = digit_box(height, width)
    scale = box / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    patch = np.asarray(Image.fromarray(crop).resize(size, Image.LANCZOS), dtype=np.float32)
    image = _place_by_centre_of_mass(patch, height, width)
    return np.repeat(image[..., None], channels, axis=2)  # grey in every channel


def _place_by_centre_of_mass(patch: np.ndarray, height: int, width: int) -> np.ndarray:
    """The patch in a (height, width) black image, its centre of mass at the centre
    (kept whole: a lopsided stroke moves only as far as the border allows)."""
    weights = np.clip(patch, 0, None)
    total = float(weights.sum()) or 1.0
    centre_row = float((weights.sum(axis=1) * np.arange(patch.shape[0])).sum()) / total
    centre_column = float((weights.sum(axis=0) * np.arange(patch.shape[1])).sum()) / total
    top = _clamp(round((height - 1) / 2 - centre_row), height - patch.shape[0])
    left = _clamp(round((width - 1) / 2 - centre_column), width - patch.shape[1])
    image = np.zeros((height, width), dtype=np.float32)
    image[top:top + patch.shape[0], left:left + patch.shape[1]] = patch
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _clamp(value: int, largest: int) -> int:
    return min(max(value, 0), max(largest, 0))
