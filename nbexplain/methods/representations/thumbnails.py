"""Small pictures of image inputs, for a view that shows the input beside each point of a map.

The model-space batches (N, C, H, W) are turned into (N, h, w, 3) uint8 pictures on one value range for all
images (so a brighter sky stays brighter: a per-image range would hide what the tank model learned), shrunk by
averaging s x s blocks until the longer side is at most ``size`` and the whole stack fits ``budget`` bytes.
"""

from __future__ import annotations

import numpy as np

from ...adapters.lazy import LazyRows
from ...inputs.images import to_display

BATCH = 512


def is_image_batch(inputs: LazyRows) -> bool:
    """True for inputs shaped like images, (N, C, H, W) with 1 or 3 channels."""
    return len(inputs.shape) == 4 and inputs.shape[1] in (1, 3)


def block_factor(height: int, width: int, n: int, size: int, budget: int) -> int:
    """The smallest block side s that brings the longer side to <= ``size`` and N pictures to <= ``budget``."""
    s = max(1, -(-max(height, width) // max(1, size)))
    while s < max(height, width) and n * (height // s) * (width // s) * 3 > budget:
        s += 1
    return s


def thumbnails(inputs: LazyRows, *, size: int = 32, budget: int = 32 << 20) -> np.ndarray:
    """(N, h, w, 3) uint8 pictures of the image ``inputs`` (model space), on their common value range."""
    n, _, height, width = inputs.shape
    lo, hi = np.inf, -np.inf
    for start in range(0, n, BATCH):
        batch = inputs[start:start + BATCH]
        lo, hi = min(lo, float(batch.min())), max(hi, float(batch.max()))
    value_range = (0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, hi)
    s = block_factor(height, width, n, size, budget)
    h, w = height // s, width // s
    out = np.empty((n, h, w, 3), dtype=np.uint8)
    for start in range(0, n, BATCH):
        batch = np.asarray(inputs[start:start + BATCH], dtype=np.float32)[:, :, :h * s, :w * s]
        small = batch.reshape(batch.shape[0], batch.shape[1], h, s, w, s).mean(axis=(3, 5))
        for i, chw in enumerate(small):
            out[start + i] = to_display(chw, value_range)
    return out


__all__ = ["block_factor", "is_image_batch", "thumbnails"]
