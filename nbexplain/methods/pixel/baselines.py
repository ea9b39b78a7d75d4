"""Baselines: what "removed" means for a pixel (occlusion fill, integrated-gradients start point).

The choice matters (Sturmfels et al. 2020, "Visualizing the impact of feature attribution baselines"): a
black baseline says nothing about black pixels, a blurred one keeps coarse shapes.

Examples
--------
>>> make_baseline(as_image(picture), "blur").shape   # (C, H, W) float32
(3, 224, 224)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_finite_array
from ...errors import InputError
from ...inputs.images import ImageInput

NAMED = ("grey", "black", "white", "mean", "blur")


def _gaussian_blur(chw: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, int(3 * sigma))
    t = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(chw, ((0, 0), (radius, radius), (radius, radius)), mode="reflect")
    rows = sum(k[i] * pad[:, i : i + chw.shape[1], :] for i in range(len(k)))
    return sum(k[i] * rows[:, :, i : i + chw.shape[2]] for i in range(len(k))).astype(np.float32)


def make_baseline(image: ImageInput, baseline: Any = "grey", name: str = "baseline", sigma: float | None = None) -> np.ndarray:
    """A (C, H, W) float32 baseline for ``image``.

    ``baseline`` is "grey" (middle of the image's value range), "black", "white", "mean" (per-channel
    mean), "blur" (Gaussian, ``sigma`` defaults to H/20), a number, or an array broadcastable to (C, H, W).
    """
    x = image.tensor
    lo, hi = image.value_range
    if isinstance(baseline, str):
        if baseline == "grey" or baseline == "gray":
            return np.full_like(x, (lo + hi) / 2)
        if baseline == "black":
            return np.full_like(x, lo)
        if baseline == "white":
            return np.full_like(x, hi)
        if baseline == "mean":
            return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape).astype(np.float32).copy()
        if baseline == "blur":
            return _gaussian_blur(x, sigma or max(1.0, x.shape[1] / 20))
        raise InputError(f"{name}={baseline!r} is not valid: expected one of {NAMED}, a number or an array")
    try:
        arr = np.broadcast_to(np.asarray(baseline, dtype=np.float32), x.shape).copy()
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{name} must be one of {NAMED}, a number or an array broadcastable to {x.shape}; "
            f"got {np.shape(baseline)}"
        ) from exc
    return check_finite_array(arr, name, dtype=np.float32)
