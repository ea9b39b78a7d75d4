"""Lazy batches: model inputs built one model batch at a time (the :class:`~nbexplain._types.LazyBatch` protocol).

A perturbation method describes its N inputs (occluded images, masked superpixels, rows with a feature set to
a grid value, permuted columns...) by subclassing :class:`LazyRows` and writing :meth:`LazyRows.build`; the
model adapter slices it at its best batch size, so memory stays at one batch whatever N is.

Examples
--------
>>> class Doubled(LazyRows):
...     def __init__(self, x):
...         super().__init__(len(x), x.shape[1:], x.dtype)
...         self.x = x
...     def build(self, start, stop):
...         return 2 * self.x[start:stop]
>>> Doubled(np.ones((5, 3)))[1:3].shape
(2, 3)
"""

from __future__ import annotations

import numpy as np


class LazyRows:
    """Base of every lazy batch: ``n`` inputs of ``sample_shape`` and ``dtype``; subclasses write :meth:`build`."""

    def __init__(self, n: int, sample_shape: tuple[int, ...], dtype) -> None:
        self.shape = (int(n), *tuple(int(s) for s in sample_shape))
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, span: slice) -> np.ndarray:
        if not isinstance(span, slice) or span.step not in (None, 1):
            raise TypeError(f"{type(self).__name__} supports contiguous slices only; got {span!r}")
        start, stop, _ = span.indices(self.shape[0])
        return self.build(start, max(start, stop))

    def build(self, start: int, stop: int) -> np.ndarray:
        """Inputs ``start:stop`` as one ``(stop - start, *sample_shape)`` array."""
        raise NotImplementedError


class ReusedBuffer:
    """The one buffer a lazy batch writes its rows into, batch after batch (no fresh memory per batch; a batch
    is valid until the next one is built, which is how the model adapter uses it). It is made again only when
    a batch needs more rows than it holds, or another ``key`` (a memory layout, a sample shape)."""

    def __init__(self) -> None:
        self._array: np.ndarray | None = None
        self._key: object = None

    def take(self, n: int, key: object, make) -> tuple[np.ndarray, bool]:
        """The first ``n`` rows, and True when they are new memory (``make(n)`` was called: nothing of an
        earlier batch is in them)."""
        fresh = self._array is None or len(self._array) < n or self._key != key
        if fresh:
            self._array, self._key = make(n), key
        return self._array[:n], fresh

    def release(self) -> None:
        """Hand the memory back (the next batch makes a new buffer)."""
        self._array, self._key = None, None


def is_lazy(x) -> bool:
    """True for an object the adapter can slice as a batch without converting it (an array or a lazy batch)."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__getitem__")


__all__ = ["LazyRows", "ReusedBuffer", "is_lazy"]
