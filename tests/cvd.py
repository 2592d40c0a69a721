"""Colour-vision-deficiency check for palettes: simulate (Machado, Oliveira and Fernandes
2009, severity 1) and measure CIELAB distances (CIE76). Test helper only."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

SIMULATIONS = {  # linear-RGB matrices
    "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
               [-0.003882, -0.048116, 1.051998]],
    "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
               [-0.011820, 0.042940, 0.968881]],
    "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
               [0.004733, 0.691367, 0.303900]],
}
RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                       [0.0193, 0.1192, 0.9505]])
WHITE = np.array([0.95047, 1.0, 1.08883])


def to_lab(hex_colours: Sequence[str], vision: Optional[str] = None) -> np.ndarray:
    srgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in hex_colours]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if vision is not None:
        linear = np.clip(linear @ np.array(SIMULATIONS[vision]).T, 0.0, 1.0)
    xyz = linear @ RGB_TO_XYZ.T / WHITE
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                     200 * (f[:, 1] - f[:, 2])], axis=1)


def closest_pair(hex_colours: Sequence[str], vision: Optional[str] = None
                 ) -> tuple[float, tuple[str, str]]:
    """The smallest CIELAB distance between two of the colours, and which two."""
    lab = to_lab(hex_colours, vision)
    distances = np.sqrt(((lab[:, None] - lab[None]) ** 2).sum(axis=-1))
    np.fill_diagonal(distances, np.inf)
    i, j = np.unravel_index(np.argmin(distances), distances.shape)
    return float(distances[i, j]), (hex_colours[i], hex_colours[j])
