"""Image input: accept what users have (arrays, PIL images, torch tensors, paths to image files) and validate it.

:func:`as_image` returns a :class:`ImageInput` holding the model-space tensor (C, H, W float32), a
display copy (H, W, 3 uint8) and the value range that baselines such as "grey" and "black" refer to.
:func:`fit_channels` then matches the image's channels to what a model takes (:func:`model_channels`):
a grey image is repeated to three channels for a colour model, never the other way round silently.

Examples
--------
>>> img = as_image("cat.jpg")                       # loaded with PIL
>>> img = fit_channels(as_image(grey), model_channels(model))
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import InputError

EXPECTED = ("a single image of shape (H, W, 3) or (3, H, W) (or (H, W) grey) as an array, a PIL image, "
            "or a path to an image file")
#: PIL modes kept as one grey channel; every other mode is converted to RGB
GREY_MODES = ("1", "L", "LA", "La")


@dataclass(frozen=True)
class ImageInput:
    """A validated image: ``tensor`` (C, H, W float32) as the model sees it, ``display`` (H, W, 3 uint8)."""

    tensor: np.ndarray
    display: np.ndarray
    value_range: tuple[float, float]

    @property
    def shape(self) -> tuple[int, int]:
        return self.tensor.shape[1], self.tensor.shape[2]

    @property
    def channels(self) -> int:
        return self.tensor.shape[0]


def _is_pil(image: Any) -> bool:
    return hasattr(image, "convert") and hasattr(image, "mode") and hasattr(image, "size")


def _from_pil(image: Any) -> np.ndarray:
    """A PIL image as an array: grey modes as (H, W) uint8, 16-bit grey scaled to [0, 1], the rest as RGB."""
    if image.mode in GREY_MODES:
        return np.asarray(image.convert("L"))
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float32) / 65535.0
    if image.mode in ("I", "F"):
        return np.asarray(image, dtype=np.float32)
    return np.asarray(image.convert("RGB"))


def load_image(path: str | os.PathLike, name: str = "image") -> np.ndarray:
    """The image file at ``path`` as an array (read with PIL), or :class:`InputError` naming ``name``."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.isfile(path):
        raise InputError(f"{name}={os.fspath(path)!r} is not a file; {name} must be {EXPECTED}")
    try:
        with Image.open(path) as picture:
            return _from_pil(picture)
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{name}={os.fspath(path)!r} is not an image file PIL can read ({exc})") from exc


def _as_array(image: Any, name: str) -> np.ndarray:
    """Whatever the user passed as an array, or an error saying what an image may be."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image, name)
    if _is_pil(image):
        return _from_pil(image)
    if hasattr(image, "detach"):  # a torch tensor
        return image.detach().cpu().numpy()
    if image is None:
        raise InputError(f"{name} must be {EXPECTED}; got None")
    try:
        arr = np.asarray(image)
    except Exception as exc:  # ragged lists, exotic objects
        raise InputError(f"{name} must be {EXPECTED}; got {type(image).__name__}") from exc
    if arr.dtype.kind in "OUSV":  # objects, strings, bytes, records: not pixels
        what = type(image).__name__ if not isinstance(image, np.ndarray) else f"an array of dtype {arr.dtype}"
        raise InputError(f"{name} must be {EXPECTED}; got {what}")
    return arr


def as_image(image: Any, name: str = "image") -> ImageInput:
    """Validate ``image`` and convert it to model space (uint8 is scaled to [0, 1]; floats are kept).

    ``image`` is an (H, W, 3), (3, H, W) or (H, W) array (uint8 0-255 or float), a torch tensor, a PIL
    image (grey modes stay one channel), or a path to an image file (read with PIL).

    Raises
    ------
    InputError
        Wrong type, shape, dtype, or NaN/inf values, with a message that names ``name``.
    """
    if isinstance(image, ImageInput):
        return image
    arr = _as_array(image, name)
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


def model_channels(model: Any) -> int | None:
    """The number of channels a torch model's first ``Conv2d`` takes; None when it cannot tell.

    ``model`` is a torch module or anything with one in ``.raw`` (a :class:`~nbexplain.adapters.model.Model`).
    Other models (scikit-learn, callables) and modules without a convolution say nothing: None.
    """
    torch = sys.modules.get("torch")  # only an imported torch can have made a module: never import it here
    module = getattr(model, "raw", model)
    if torch is None or not isinstance(module, torch.nn.Module):
        return None
    first = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
    return None if first is None else int(first.in_channels)


def fit_channels(image: ImageInput, channels: int | None, name: str = "image") -> ImageInput:
    """``image`` with the number of ``channels`` a model takes (None: as it is).

    Only the unambiguous case is adapted: a grey image for a 3-channel model is repeated to three
    channels. A colour image for a grey model is an error that says what to pass (which grey conversion
    is right is the user's choice).
    """
    have = image.channels
    if channels is None or channels == have:
        return image
    if have == 1 and channels == 3:
        return replace(image, tensor=np.ascontiguousarray(np.repeat(image.tensor, 3, axis=0)))
    if have == 3 and channels == 1:
        raise InputError(
            f"{name} has 3 colour channels but the model's first convolution takes 1 (a grey-scale model): "
            f"pass a grey image, e.g. an (H, W) array such as rgb.mean(axis=-1), or a PIL image in mode 'L' "
            f"(picture.convert('L'))"
        )
    raise InputError(f"{name} has {have} channel(s) but the model's first convolution takes {channels}: "
                     f"pass an image of shape ({channels}, H, W)")


def to_display(chw: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """An (H, W, 3) uint8 picture of a model-space (C, H, W) tensor, scaled by its value range."""
    lo, hi = value_range
    scaled = (chw - lo) / (hi - lo if hi > lo else 1.0)
    rgb = np.repeat(scaled, 3, axis=0) if scaled.shape[0] == 1 else scaled[:3]
    return np.ascontiguousarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0))


__all__ = ["EXPECTED", "ImageInput", "as_image", "fit_channels", "load_image", "model_channels", "to_display"]
