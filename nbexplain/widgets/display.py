"""What the page gets of a big image: a copy at display size (the full resolution stays in the kernel).

A 2000×3000 photo is 18 MB as RGB and 24 MB as a float32 map; the page draws it at a few hundred pixels.
Widgets send images, maps and superpixel labels through these functions: at most ``MAX_SIDE`` pixels on the
longest side (enough for the largest display size on a high-density screen), box-averaged for pictures and
maps, nearest for labels (a label is a name, not a number to average).
"""

from __future__ import annotations

import numpy as np

#: longest side, in pixels, of what a widget sends to the page
MAX_SIDE = 1024


def page_shape(shape: tuple[int, ...], max_side: int = MAX_SIDE) -> tuple[int, int]:
    """(height, width) of the page copy of an image of ``shape`` (unchanged when it is small enough)."""
    h, w = int(shape[0]), int(shape[1])
    scale = min(1.0, max_side / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def page_image(rgb: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """An (h, w, 3) uint8 picture at display size (box filter), or ``rgb`` itself when already small."""
    h, w = page_shape(rgb.shape, max_side)
    if (h, w) == rgb.shape[:2]:
        return rgb
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).resize((w, h), Image.Resampling.BOX))


def page_maps(maps: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """(K, h, w) float32 maps at display size (each pixel the mean of the pixels it covers)."""
    h, w = page_shape(maps.shape[1:], max_side)
    if (h, w) == maps.shape[1:]:
        return maps.astype(np.float32, copy=False)
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(m, dtype=np.float32), mode="F")
                                .resize((w, h), Image.Resampling.BOX)) for m in maps]).astype(np.float32)


def page_labels(labels: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """(h, w) int32 superpixel labels at display size (nearest: each page pixel takes one pixel's label)."""
    h, w = page_shape(labels.shape, max_side)
    if (h, w) == labels.shape:
        return labels.astype(np.int32, copy=False)
    rows = ((np.arange(h) + 0.5) * labels.shape[0] / h).astype(np.int64)
    cols = ((np.arange(w) + 0.5) * labels.shape[1] / w).astype(np.int64)
    return np.ascontiguousarray(labels[rows[:, None], cols[None, :]], dtype=np.int32)


__all__ = ["MAX_SIDE", "page_image", "page_labels", "page_maps", "page_shape"]
