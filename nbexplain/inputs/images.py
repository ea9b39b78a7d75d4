"""Image input: accept what users have (uint8 HxWx3, float HxWx3 or 3xHxW, PIL, torch) and validate it.

:func:`as_image` returns a :class:`ImageInput` holding the model-space tensor (C, H, W float32), a
display copy (H, W, 3 uint8) and the value range that baselines such as "grey" and "black" refer to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

EXPECTED = "a single image of shape (H, W, 3) or (3, H, W) (or (H, W) grey), or a PIL image"


@dataclass(frozen=True)
class ImageInput:
    """A validated image: ``tensor`` (C, H, W float32) as the model sees it, ``display`` (H, W, 3 uint8)."""

    tensor: np.ndarray
    display: np.ndarray
    value_range: tuple[float, float]

    @property
    def shape(self) -> tuple[int, int]:
        return self.tensor.shape[1], self.tensor.shape[2]


def as_image(image: Any, name: str = "image") -> ImageInput:
    """Validate ``image`` and convert it to model space (uint8 is scaled to [0, 1]; floats are kept).

    Raises
    ------
    InputError
        Wrong type, shape, dtype, or NaN/inf values, with a message that names ``name``.
    """
    if isinstance(image, ImageInput):
        return image
    if hasattr(image, "convert") and hasattr(image, "size") and not isinstance(image, np.ndarray):
        image = np.asarray(image.convert("RGB"))  # PIL
    elif hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    if not isinstance(image, np.ndarray):
        try:
            image = np.asarray(image)
        except Exception as exc:  # pragma: no cover - exotic objects
            raise InputError(f"{name} must be {EXPECTED}; got {type(image).__name__}") from exc
    arr = image
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or arr.dtype == np.uint8):
        raise InputError(f"{name} must have dtype uint8 (0-255) or float; got dtype {arr.dtype}")
    if arr.ndim == 2:
        chw = arr[None]
    elif arr.ndim == 3:
        if arr.shape[-1] in (1, 3, 4) and not (arr.shape[0] in (1, 3) and arr.dtype != np.uint8):
            hwc = arr[..., :3] if arr.shape[-1] == 4 else arr
            chw = np.moveaxis(hwc, -1, 0)
        elif arr.shape[0] in (1, 3):
            chw = arr
        else:
            raise InputError(f"{name} must be {EXPECTED}; got shape {arr.shape} (no axis of size 1 or 3)")
    else:
        raise InputError(f"{name} must be {EXPECTED}; got shape {arr.shape}")
    if min(chw.shape[1:]) < 2:
        raise InputError(f"{name} must be at least 2x2 pixels; got shape {arr.shape}")
    if arr.dtype == np.uint8:
        tensor = chw.astype(np.float32) / 255.0
        value_range = (0.0, 1.0)
    else:
        tensor = chw.astype(np.float32)
        finite = np.isfinite(tensor)
        if not finite.all():
            raise InputError(f"{name} contains {int((~finite).sum())} NaN or infinite values")
        lo, hi = float(tensor.min()), float(tensor.max())
        value_range = (0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, hi)
    return ImageInput(np.ascontiguousarray(tensor), to_display(tensor, value_range), value_range)


def to_display(chw: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """An (H, W, 3) uint8 picture of a model-space (C, H, W) tensor, scaled by its value range."""
    lo, hi = value_range
    scaled = (chw - lo) / (hi - lo if hi > lo else 1.0)
    rgb = np.repeat(scaled, 3, axis=0) if scaled.shape[0] == 1 else scaled[:3]
    return np.ascontiguousarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0))
