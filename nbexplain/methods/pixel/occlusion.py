"""Occlusion (Zeiler & Fergus 2014): slide a square of baseline colour over the image, record the drop.

Equal to Captum's ``Occlusion`` with a window covering all channels, computed on batches built lazily
(copies of the image with one window filled each) at the model's best batch size; the per-pixel
average over covering windows is two small matrix products instead of a loop.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...adapters.model import Model
from ...errors import InputError
from ...inputs.images import ImageInput
from .baselines import make_baseline


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
        raise InputError(f"{name} must be a positive int or a pair of them; got {value!r}")
    return int(pair[0]), int(pair[1])


def _class_scores(outputs: np.ndarray) -> np.ndarray:
    """One column per class: a single logit z (a binary model) becomes [-z, z], as in gradient methods."""
    return np.concatenate([-outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs


def window_starts(size: int, window: int, stride: int) -> np.ndarray:
    """Start offsets of the windows along one axis, as Captum: ``ceil((size - window) / stride) + 1``
    windows, so when the stride does not divide ``size - window`` the last one is cut off at the border
    (every pixel is covered when ``stride <= window``). Windows that would start past the edge are dropped."""
    starts = np.arange(int(np.ceil((size - window) / stride)) + 1) * stride
    return starts[starts < size]


def occlusion(
    model: Model,
    image: ImageInput,
    target: int,
    progress: Callable[[float], None] | None = None,
    *,
    window=None,
    stride=None,
    baseline="grey",
) -> np.ndarray:
    """Occlusion attribution, (C, H, W): mean drop of the target output over the windows covering a pixel.

    ``window`` defaults to max(4, H // 14) pixels, ``stride`` to half the window. Windows are placed as
    in Captum (see :func:`window_starts`); pixels no window covers (only when ``stride > window``, which
    Captum refuses) get 0.
    """
    c, h, w = image.tensor.shape
    window = _pair(window if window is not None else max(4, min(h, w) // 14), "window")
    stride = _pair(stride if stride is not None else max(1, window[0] // 2), "stride")
    if window[0] > h or window[1] > w:
        raise InputError(f"window={window} is larger than the image ({h}, {w})")
    fill = make_baseline(image, baseline)
    x = image.tensor
    rows, cols = window_starts(h, window[0], stride[0]), window_starts(w, window[1], stride[1])
    # coverage[i, y] is True when the i-th row window covers pixel row y (same for columns)
    row_cover = (np.arange(h)[None] >= rows[:, None]) & (np.arange(h)[None] < rows[:, None] + window[0])
    col_cover = (np.arange(w)[None] >= cols[:, None]) & (np.arange(w)[None] < cols[:, None] + window[1])
    n_windows = len(rows) * len(cols)

    class Occluded:
        """Lazy (n_windows, C, H, W) batch: rows are built only when the model asks for them."""

        shape = (n_windows, c, h, w)
        dtype = x.dtype
        ndim = 4

        def __len__(self):
            return n_windows

        def __getitem__(self, span: slice) -> np.ndarray:
            idx = np.arange(n_windows)[span]
            batch = np.repeat(x[None], len(idx), axis=0)  # copies of the image, then each window filled
            for k, i in enumerate(idx):
                r, q = rows[i // len(cols)], cols[i % len(cols)]
                batch[k, :, r : r + window[0], q : q + window[1]] = fill[:, r : r + window[0], q : q + window[1]]
            return batch

    scores = _class_scores(model.predict(Occluded(), progress=progress))[:, target]
    reference = _class_scores(model.predict(x[None]))[0, target]
    drop = (reference - scores).reshape(len(rows), len(cols))
    total = row_cover.T.astype(np.float64) @ drop @ col_cover.astype(np.float64)
    count = np.outer(row_cover.sum(0), col_cover.sum(0))
    per_pixel = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return np.broadcast_to(per_pixel.astype(np.float32), (c, h, w)).copy()
