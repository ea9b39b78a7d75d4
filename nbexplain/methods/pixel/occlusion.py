"""Occlusion (Zeiler & Fergus 2014): slide a square of baseline colour over the image, record the drop.

Equal to Captum's ``Occlusion`` with a window covering all channels, computed on batches built lazily
(:class:`Occluded`: copies of the image with one window filled each) at the model's best batch size; the
per-pixel average over covering windows is two small matrix products instead of a loop.

Examples
--------
>>> occlusion(model, image, target=3, window=32, stride=16).shape   # (C, H, W), equal over channels
(3, 224, 224)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._validation import check_int_pair
from ...adapters.lazy import LazyRows
from ...adapters.model import Model
from ...adapters.outputs import class_scores
from ...errors import InputError
from ...inputs.images import ImageInput
from .baselines import make_baseline


def window_starts(size: int, window: int, stride: int) -> np.ndarray:
    """Start offsets of the windows along one axis, as Captum: ``ceil((size - window) / stride) + 1``
    windows, so when the stride does not divide ``size - window`` the last one is cut off at the border
    (every pixel is covered when ``stride <= window``). Windows that would start past the edge are dropped."""
    starts = np.arange(int(np.ceil((size - window) / stride)) + 1) * stride
    return starts[starts < size]


def coverage(size: int, starts: np.ndarray, window: int) -> np.ndarray:
    """(n_windows, size) bool: row i is True where the window starting at ``starts[i]`` covers the pixel."""
    pixels = np.arange(size)[None]
    return (pixels >= starts[:, None]) & (pixels < starts[:, None] + window)


class Occluded(LazyRows):
    """The (n_windows, C, H, W) batch of copies of ``image`` with one window filled by ``fill`` each.

    Window ``i`` is at row ``rows[i // len(cols)]``, column ``cols[i % len(cols)]`` (row-major, as Captum);
    rows are built only when the model asks for them.
    """

    def __init__(self, image: np.ndarray, fill: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 window: tuple[int, int]):
        super().__init__(len(rows) * len(cols), image.shape, image.dtype)
        self.image, self.fill, self.rows, self.cols, self.window = image, fill, rows, cols, window

    def build(self, start: int, stop: int) -> np.ndarray:
        (wh, ww), n_cols = self.window, len(self.cols)
        batch = np.repeat(self.image[None], stop - start, axis=0)  # copies of the image, then each window filled
        for k, i in enumerate(range(start, stop)):
            r, q = self.rows[i // n_cols], self.cols[i % n_cols]
            batch[k, :, r : r + wh, q : q + ww] = self.fill[:, r : r + wh, q : q + ww]
        return batch


def _warn_gaps(row_cover: np.ndarray, col_cover: np.ndarray, window: tuple[int, int], stride: tuple[int, int]):
    """A warning when ``stride > window`` leaves pixels under no window (their attribution is 0, not measured)."""
    rows, cols = row_cover.any(0), col_cover.any(0)
    uncovered = 1 - rows.mean() * cols.mean()
    if uncovered > 0:
        warnings.warn(
            f"stride={stride} is larger than window={window}: {uncovered:.0%} of the pixels lie under no window "
            f"and get attribution 0, which was not measured (Captum refuses this); use stride <= window, "
            f"e.g. stride={tuple(min(s, w) for s, w in zip(stride, window, strict=True))}",
            UserWarning, stacklevel=4,
        )


def occlusion(
    model: Model,
    image: ImageInput,
    target: int,
    progress: Callable[[float], None] | None = None,
    *,
    window: Any = None,
    stride: Any = None,
    baseline: Any = "grey",
) -> np.ndarray:
    """Occlusion attribution, (C, H, W): mean drop of the target output over the windows covering a pixel.

    ``window`` (pixels, an int or a (rows, columns) pair) defaults to max(4, H // 14), ``stride`` to half
    the window; ``baseline`` is what fills a window (see :func:`~.baselines.make_baseline`). Windows are
    placed as in Captum (see :func:`window_starts`). With ``stride > window`` (Captum refuses it) pixels no
    window covers get 0, with a warning. ``progress`` is called with the fraction of windows done.
    """
    c, h, w = image.tensor.shape
    window = check_int_pair(window if window is not None else max(4, min(h, w) // 14), "window")
    stride = check_int_pair(stride if stride is not None else max(1, window[0] // 2), "stride")
    if window[0] > h or window[1] > w:
        raise InputError(f"window={window} is larger than the image ({h}, {w})")
    fill = make_baseline(image, baseline)
    x = image.tensor
    rows, cols = window_starts(h, window[0], stride[0]), window_starts(w, window[1], stride[1])
    row_cover, col_cover = coverage(h, rows, window[0]), coverage(w, cols, window[1])
    _warn_gaps(row_cover, col_cover, window, stride)

    scores = class_scores(model.predict(Occluded(x, fill, rows, cols, window), progress=progress))[:, target]
    reference = class_scores(model.predict(x[None]))[0, target]
    drop = (reference - scores).reshape(len(rows), len(cols))
    total = row_cover.T.astype(np.float64) @ drop @ col_cover.astype(np.float64)
    count = np.outer(row_cover.sum(0), col_cover.sum(0))
    per_pixel = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return np.broadcast_to(per_pixel.astype(np.float32), (c, h, w)).copy()


__all__ = ["Occluded", "coverage", "occlusion", "window_starts"]
