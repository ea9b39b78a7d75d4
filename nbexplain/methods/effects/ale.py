"""Accumulated local effects (Apley & Zhu 2020), first and second order.

The estimator of the authors' R package ``ALEPlot``:

* bins: edges at the quantiles 0, 1/K, …, 1 of the feature (type-1, the inverse empirical CDF, so
  every edge is a data value), duplicates removed; a row belongs to the bin ``(z[k-1], z[k]]`` (the
  first bin also holds the minimum);
* first order: for the rows of bin k, the mean of f(z[k], x_rest) - f(z[k-1], x_rest); accumulated
  over bins; centred so that its count-weighted mean over the bins (each bin at the mean of its two
  edges) is 0. Values are at the edges; the curve is piecewise linear between them;
* second order: for the rows of cell (k, l), the mean second difference of f over the cell's four
  corners; empty cells take the value of the nearest non-empty cell; accumulated over both axes; the
  first-order effects of each feature are subtracted and the result centred, so only the interaction
  remains;
* categorical (ordered by their codes): the difference between neighbouring levels, averaged over
  the rows at both levels, accumulated and centred by the level counts.

Every row is predicted at its bin's corners in one lazy batch (2N rows first order, 4N second order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...adapters.model import Model
from ...errors import InputError
from ...inputs.tables import Table
from .batches import StackedRows

Output = Callable[[Model, np.ndarray], np.ndarray]


def quantile_edges(column: np.ndarray, bins: int, name: str = "feature") -> np.ndarray:
    """Bin edges at the type-1 quantiles 0, 1/bins, …, 1 of ``column``, without duplicates."""
    edges = np.unique(np.quantile(column, np.linspace(0, 1, bins + 1), method="inverted_cdf"))
    if len(edges) < 2:
        raise InputError(f"{name} has a single value ({edges[0]:g}): it has no accumulated local effect")
    return edges


def bin_index(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0-based bin of each value: bin k holds (edges[k], edges[k+1]]; the minimum goes to bin 0."""
    return np.clip(np.searchsorted(edges, column, side="left") - 1, 0, len(edges) - 2)


class RowwiseBatch(StackedRows):
    """Lazy ``(B * N, F)`` batch: row ``b * N + i`` is ``X[i]`` with ``columns := values[b, i]``."""

    def __init__(self, X: np.ndarray, columns: Sequence[int], values: np.ndarray):
        self.columns = list(columns)
        self.values = np.asarray(values, dtype=X.dtype).reshape(-1, X.shape[0], len(self.columns))
        super().__init__(X, self.values.shape[0])

    def fill(self, piece: np.ndarray, block: int, lo: int, hi: int) -> None:
        piece[:, self.columns] = self.values[block, lo:hi]


def _predict(model: Model, output: Output, batch: RowwiseBatch, progress) -> np.ndarray:
    n = batch.n_rows
    return output(model, model.predict(batch, progress=progress)).reshape(-1, n)


def ale_1d(
    model: Model, output: Output, X: np.ndarray, column: int, edges: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """First-order ALE at ``edges`` (K+1 values, centred) and the row count of each of the K bins."""
    x = X[:, column]
    k = bin_index(x, edges)
    n_bins = len(edges) - 1
    corners = np.stack([edges[k], edges[k + 1]])[..., None]  # (2, N, 1)
    low, high = _predict(model, output, RowwiseBatch(X, [column], corners), progress)
    counts = np.bincount(k, minlength=n_bins)
    sums = np.bincount(k, weights=high - low, minlength=n_bins)
    local = np.divide(sums, counts, out=np.zeros(n_bins), where=counts > 0)
    effect = np.concatenate([[0.0], np.cumsum(local)])
    effect -= np.sum((effect[:-1] + effect[1:]) / 2 * counts) / counts.sum()
    return effect, counts


def ale_categorical(
    model: Model, output: Output, X: np.ndarray, column: int, levels: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """ALE of an ordered categorical feature at each of its ``levels`` (centred) and the level counts."""
    x = X[:, column]
    n_levels = len(levels)
    if n_levels < 2:
        raise InputError(f"the feature has a single level ({levels[0]:g}): it has no accumulated local effect")
    k = np.searchsorted(levels, x)
    if not np.array_equal(levels[np.clip(k, 0, n_levels - 1)], x):
        raise InputError("levels must contain every value of the categorical feature")
    up = levels[np.minimum(k + 1, n_levels - 1)]
    down = levels[np.maximum(k - 1, 0)]
    own, f_up, f_down = _predict(model, output, RowwiseBatch(X, [column], np.stack([x, up, down])[..., None]), progress)
    # step m (between levels m and m+1): rows at m moving up, rows at m+1 moving down
    has_up, has_down = k < n_levels - 1, k > 0
    sums = np.bincount(k[has_up], weights=(f_up - own)[has_up], minlength=n_levels - 1)[: n_levels - 1]
    sums += np.bincount(k[has_down] - 1, weights=(own - f_down)[has_down], minlength=n_levels - 1)[: n_levels - 1]
    counts = np.bincount(k, minlength=n_levels)
    pair_counts = counts[:-1] + counts[1:]
    steps = np.divide(sums, pair_counts, out=np.zeros(n_levels - 1), where=pair_counts > 0)
    effect = np.concatenate([[0.0], np.cumsum(steps)])
    effect -= np.sum(effect * counts) / counts.sum()
    return effect, counts


def fill_empty_cells(delta: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Empty cells take the value of the nearest non-empty cell (cell centres scaled to [0, 1]^2)."""
    empty = counts == 0
    if not empty.any():
        return delta
    k1, k2 = counts.shape
    ii, jj = np.meshgrid(np.arange(k1) / max(k1 - 1, 1), np.arange(k2) / max(k2 - 1, 1), indexing="ij")
    full = np.stack([ii[~empty], jj[~empty]], axis=1)
    holes = np.stack([ii[empty], jj[empty]], axis=1)
    nearest = np.argmin(((holes[:, None, :] - full[None, :, :]) ** 2).sum(-1), axis=1)
    out = delta.copy()
    out[empty] = delta[~empty][nearest]
    return out


def ale_2d(
    model: Model, output: Output, X: np.ndarray, columns: Sequence[int], edges: Sequence[np.ndarray],
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Second-order ALE (the pure interaction) at the edge grid, (K1+1, K2+1), and the cell counts (K1, K2)."""
    c1, c2 = columns
    z, w = edges
    k1, k2 = len(z) - 1, len(w) - 1
    a = bin_index(X[:, c1], z)
    b = bin_index(X[:, c2], w)
    corners = np.stack([
        np.stack([z[a], w[b]], axis=1), np.stack([z[a + 1], w[b]], axis=1),
        np.stack([z[a], w[b + 1]], axis=1), np.stack([z[a + 1], w[b + 1]], axis=1),
    ])  # (4, N, 2)
    f00, f10, f01, f11 = _predict(model, output, RowwiseBatch(X, [c1, c2], corners), progress)
    cell = a * k2 + b
    counts = np.bincount(cell, minlength=k1 * k2).reshape(k1, k2).astype(np.float64)
    sums = np.bincount(cell, weights=(f11 - f01) - (f10 - f00), minlength=k1 * k2).reshape(k1, k2)
    delta = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    delta = fill_empty_cells(delta, counts)
    fj = np.zeros((k1 + 1, k2 + 1))
    fj[1:, 1:] = np.cumsum(np.cumsum(delta, axis=0), axis=1)
    # remove the first-order effects that the accumulated interaction still carries
    d1 = fj[1:, :] - fj[:-1, :]  # (k1, k2+1)
    row_counts = counts.sum(axis=1)
    ave1 = np.divide((counts * (d1[:, :-1] + d1[:, 1:]) / 2).sum(axis=1), row_counts,
                     out=np.zeros(k1), where=row_counts > 0)
    d2 = fj[:, 1:] - fj[:, :-1]  # (k1+1, k2)
    col_counts = counts.sum(axis=0)
    ave2 = np.divide((counts * (d2[:-1, :] + d2[1:, :]) / 2).sum(axis=0), col_counts,
                     out=np.zeros(k2), where=col_counts > 0)
    fj = fj - np.concatenate([[0.0], np.cumsum(ave1)])[:, None] - np.concatenate([[0.0], np.cumsum(ave2)])[None, :]
    corner_mean = (fj[:-1, :-1] + fj[:-1, 1:] + fj[1:, :-1] + fj[1:, 1:]) / 4
    fj -= (counts * corner_mean).sum() / counts.sum()
    return fj, counts.astype(np.int64)


def accumulated_local_effects(
    model: Model, output: Output, table: Table, columns: Sequence[int], bins: int,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, bool]:
    """ALE of one feature (numeric: ``bins`` quantile bins; categorical: its levels) or of a numeric pair.

    Returns the edges (levels) of each feature, the centred effect, the counts per bin, cell or level, and
    whether the feature is categorical.
    """
    names = [table.feature_names[c] for c in columns]
    if len(columns) == 1:
        (column,), (name,) = columns, names
        values = table.values[:, column]
        if table.categorical[column]:
            levels = np.unique(values)
            if len(levels) < 2:
                raise InputError(f"{name!r} has a single level ({levels[0]:g}): it has no accumulated local effect")
            effect, counts = ale_categorical(model, output, table.values, column, levels, progress)
            return [levels], effect, counts, True
        edges = quantile_edges(values, bins, name)
        effect, counts = ale_1d(model, output, table.values, column, edges, progress)
        return [edges], effect, counts, False
    categorical = [n for n, c in zip(names, columns, strict=True) if table.categorical[c]]
    if categorical:
        raise InputError(f"second-order ALE needs numeric features; {categorical} categorical "
                         "(pass categorical=[] to treat them as numbers)")
    edges = [quantile_edges(table.values[:, c], bins, n) for c, n in zip(columns, names, strict=True)]
    effect, counts = ale_2d(model, output, table.values, columns, edges, progress)
    return edges, effect, counts, False


__all__ = [
    "RowwiseBatch", "accumulated_local_effects", "ale_1d", "ale_2d", "ale_categorical", "bin_index",
    "fill_empty_cells", "quantile_edges",
]
