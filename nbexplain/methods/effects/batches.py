"""Lazy stacks of copies of a table with some columns changed: the model inputs of every feature effect.

PDP and ICE set columns to grid points (:class:`~.pdp.GridBatch`), ALE moves each row to its bin's edges
(:class:`~.ale.RowwiseBatch`), permutation importance reorders one column (:class:`~.importance.PermutedBatch`).
Each is ``B`` blocks of the ``n`` rows of ``X``, built one model batch at a time: :class:`StackedRows` cuts a
slice into its pieces of whole blocks (contiguous copies of ``X``), and a subclass writes only :meth:`StackedRows.fill`.

Examples
--------
>>> class Shifted(StackedRows):            # block b: X with column 0 increased by b
...     def fill(self, piece, block, lo, hi):
...         piece[:, 0] += block
>>> Shifted(np.zeros((3, 2)), n_blocks=2)[2:5][:, 0].tolist()
[0.0, 1.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from ...adapters.lazy import LazyRows


class StackedRows(LazyRows):
    """Lazy ``(n_blocks * n, F)`` batch: row ``b * n + i`` is row ``i`` of ``X`` as block ``b`` changes it."""

    def __init__(self, X: np.ndarray, n_blocks: int) -> None:
        super().__init__(n_blocks * X.shape[0], X.shape[1:], X.dtype)
        self.X = X
        self.n_rows = X.shape[0]

    def build(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *self.shape[1:]), dtype=self.dtype)
        position = start
        while position < stop:
            block, lo = divmod(position, self.n_rows)
            hi = min(self.n_rows, lo + stop - position)
            piece = out[position - start:position - start + hi - lo]
            piece[:] = self.X[lo:hi]
            self.fill(piece, block, lo, hi)
            position += hi - lo
        return out

    def fill(self, piece: np.ndarray, block: int, lo: int, hi: int) -> None:
        """Turn ``piece`` (a copy of rows ``lo:hi`` of ``X``) into those rows of block ``block``, in place."""
        raise NotImplementedError


__all__ = ["StackedRows"]
