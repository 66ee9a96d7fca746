"""A realistic synthetic volume: smooth background, bright 3-D blobs, and their label image."""

from __future__ import annotations

import numpy as np


def blobs(
    shape: tuple[int, int, int], n_blobs: int = 40, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(image uint16, labels uint32) of ``shape`` (z, y, x), built plane by plane."""
    rng = np.random.default_rng(seed)
    z, y, x = shape
    centres = rng.uniform(0, 1, (n_blobs, 3)) * np.array(shape)
    radii = rng.uniform(0.04, 0.12, n_blobs) * min(y, x)
    image = np.empty(shape, np.uint16)
    labels = np.zeros(shape, np.uint32)
    yy, xx = np.mgrid[0:y, 0:x].astype(np.float32)
    background = 200 + 100 * np.sin(yy / max(y, 1) * 3) * np.cos(xx / max(x, 1) * 2)
    for k in range(z):
        plane = background + rng.normal(0, 20, (y, x))
        for i, ((cz, cy, cx), r) in enumerate(zip(centres, radii, strict=True)):
            d2 = ((k - cz) * 2) ** 2 + (yy - cy) ** 2 + (xx - cx) ** 2
            inside = d2 < r * r
            plane[inside] += 2000 * (1 - d2[inside] / (r * r))
            labels[k][inside] = i + 1
        image[k] = np.clip(plane, 0, 65535)
    return image, labels
