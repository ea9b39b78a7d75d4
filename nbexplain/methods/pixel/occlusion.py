"""Occlusion (Zeiler & Fergus 2014): slide a square of baseline colour over the image, record the drop.

Equal to Captum's ``Occlusion`` with a window covering all channels. A torch CNN runs it by incremental
inference (Nakandala, Kumar & Papakonstantinou 2019, :mod:`nbexplain.methods.incremental`): each window's
forward pass recomputes only the activations the window can change, from the image's own activations
cached once, when the estimated cost is low enough to pay off; the numbers equal full forward passes up to
float rounding. Other models (and layers the engine does not know) run full forward passes on batches
built lazily (:class:`Occluded`: copies of the image with one window filled each, written into one
reused buffer) at the model's best batch size. The per-pixel average over covering windows is two small
matrix products instead of a loop.

Examples
--------
>>> attribution, details = occlusion(model, image, target=3, window=32, stride=16)
>>> attribution.shape, details["engine"]   # (C, H, W), equal over channels; how the passes ran
((3, 224, 224), 'incremental')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..._validation import check_int_pair
from ...adapters.blas import one_blas_thread
from ...adapters.lazy import LazyRows, ReusedBuffer
from ...adapters.model import Model, image_batch
from ...adapters.outputs import class_scores
from ...errors import InputError
from ...inputs.images import ImageInput
from ..incremental.patches import engine_for, not_worth_it, predict_patches, why_not, worth_it
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
    rows are built only when the model asks for them, into one buffer reused from batch to batch: the
    windows of the previous batch are restored to the image and the new ones filled (a window's worth of
    copying per row instead of a whole image, and no fresh memory per batch). A batch is therefore valid
    until the next one is built, which is how the model adapter uses it.
    """

    def __init__(self, image: np.ndarray, fill: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 window: tuple[int, int], channels_last: bool = False):
        super().__init__(len(rows) * len(cols), image.shape, image.dtype)
        self.image, self.fill, self.rows, self.cols, self.window = image, fill, rows, cols, window
        self.channels_last = channels_last  # the buffer's memory layout (see Model.channels_last)
        # what is written into the buffer: the image and the fill in the buffer's memory order, (H, W, C) when
        # channels last (contiguous rows of every window)
        self._sources = tuple(np.ascontiguousarray(a.transpose(1, 2, 0)) for a in (image, fill)) if channels_last \
            else (image, fill)
        self._buffer = ReusedBuffer()
        self._filled: list[int] = []  # the window held by each row of the buffer (-1: none)

    def _spans(self, i: int) -> tuple[slice, slice]:
        r, q = self.rows[i // len(self.cols)], self.cols[i % len(self.cols)]
        return slice(r, r + self.window[0]), slice(q, q + self.window[1])

    def build(self, start: int, stop: int) -> np.ndarray:
        n = stop - start
        image, fill = self._sources
        batch, fresh = self._buffer.take(
            n, None, lambda size: image_batch(size, self.image.shape, self.image.dtype, self.channels_last))
        rows = batch.transpose(0, 2, 3, 1) if self.channels_last else batch
        if fresh:
            self._filled = [-1] * n
            rows[...] = image[None]
        for k, i in enumerate(range(start, stop)):
            if self._filled[k] >= 0:  # put back what the last window of this row covered
                ys, xs = self._spans(self._filled[k])
                self._write(rows, k, ys, xs, image)
            ys, xs = self._spans(i)
            self._write(rows, k, ys, xs, fill)
            self._filled[k] = i
        return batch

    def _write(self, rows: np.ndarray, k: int, ys: slice, xs: slice, source: np.ndarray) -> None:
        if self.channels_last:
            rows[k, ys, xs] = source[ys, xs]
        else:
            rows[k, :, ys, xs] = source[:, ys, xs]


class OccludedPatches:
    """The windows of :class:`Occluded` as patches for incremental inference: boxes of the window's size
    (moved inside the image where a last window is cut off at the border) and their contents."""

    def __init__(self, image: np.ndarray, fill: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 window: tuple[int, int]):
        _, h, w = image.shape
        self.image, self.fill, self.window = image, fill, window
        self.rows = np.repeat(rows, len(cols))  # window i's first row and column, row-major as Captum
        self.cols = np.tile(cols, len(rows))
        self.y = np.minimum(self.rows, h - window[0])  # the box: the window, inside the image
        self.x = np.minimum(self.cols, w - window[1])
        self._views = sliding_window_view(image, window, axis=(1, 2)).transpose(1, 2, 0, 3, 4)

    def build(self, start: int, stop: int) -> np.ndarray:
        patches = self._views[self.y[start:stop], self.x[start:stop]]  # (B, C, wh, ww): the image in each box
        wh, ww = self.window
        for k, i in enumerate(range(start, stop)):
            r, q, dy, dx = self.rows[i], self.cols[i], self.rows[i] - self.y[i], self.cols[i] - self.x[i]
            patches[k, :, dy:dy + wh, dx:dx + ww] = self.fill[:, r:r + wh - dy, q:q + ww - dx]
        return patches


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
    scores: np.ndarray | None = None,
    *,
    window: Any = None,
    stride: Any = None,
    baseline: Any = "grey",
) -> tuple[np.ndarray, dict[str, str]]:
    """Occlusion attribution, (C, H, W): mean drop of the target output over the windows covering a pixel.

    ``window`` (pixels, an int or a (rows, columns) pair) defaults to max(4, H // 14), ``stride`` to half
    the window; ``baseline`` is what fills a window (see :func:`~.baselines.make_baseline`). Windows are
    placed as in Captum (see :func:`window_starts`). With ``stride > window`` (Captum refuses it) pixels no
    window covers get 0, with a warning. ``progress`` is called with the fraction of windows done. ``scores``
    are the model's outputs for the image itself, (1, n_outputs), when the caller has them (one forward pass
    fewer); otherwise they are predicted.

    Returns the attribution and ``{"engine": ...}``: how the forward passes ran, "incremental" (see
    :mod:`nbexplain.methods.incremental`; also "incremental up to <layer> (...)" when a layer it does not
    know and those after it ran on whole maps) or "full (<why>)".
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

    if scores is None:
        scores = model.predict(x[None])
    reference = class_scores(np.asarray(scores, dtype=np.float64).reshape(1, -1))[0, target]
    outputs, engine = _occluded_outputs(model, x, fill, rows, cols, window, progress)
    occluded = class_scores(outputs)[:, target]
    drop = (reference - occluded).reshape(len(rows), len(cols))
    with one_blas_thread():  # small products: more threads gain nothing and would spin beside the next passes
        total = row_cover.T.astype(np.float64) @ drop @ col_cover.astype(np.float64)
    count = np.outer(row_cover.sum(0), col_cover.sum(0))
    per_pixel = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return np.broadcast_to(per_pixel.astype(np.float32), (c, h, w)).copy(), {"engine": engine}


def _occluded_outputs(model: Model, x: np.ndarray, fill: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                      window: tuple[int, int], progress) -> tuple[np.ndarray, str]:
    """The model's outputs for every occluded copy, and how they were computed (see :func:`occlusion`)."""
    def full() -> np.ndarray:
        return model.predict(Occluded(x, fill, rows, cols, window, model.channels_last), progress=progress)

    engine = engine_for(model, x)
    if engine is None:
        return full(), f"full ({why_not(model)})"
    if not engine.supported:
        return full(), engine.engine
    patches = OccludedPatches(x, fill, rows, cols, window)
    plan = engine.plan(patches.y, patches.x, *window)
    if not worth_it(plan):
        return full(), f"full ({not_worth_it(plan)})"
    whole = Occluded(x, fill, rows, cols, window, model.channels_last)
    outputs = predict_patches(model, engine, plan, patches.build, lambda a, b: whole[a:b], progress)
    if outputs is None:  # the engine's output disagreed with the model's own: full forward passes (said)
        return full(), engine.engine
    return outputs, engine.engine


__all__ = ["Occluded", "OccludedPatches", "coverage", "occlusion", "window_starts"]
