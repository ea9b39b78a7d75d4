"""Partial dependence (Friedman 2001) and the ICE table it averages (Goldstein et al. 2015).

For features S and a grid of values g, the ICE table holds f(x_i with x_S := g) for every row i and
grid point g; partial dependence is its mean over rows. The table is predicted as one lazy batch of
``n_grid * n_rows`` rows, built one model batch at a time, so the model runs once per chunk of
grid points x rows (not once per grid value as scikit-learn's brute method does).

The default grid follows scikit-learn's ``partial_dependence``: the distinct values when there are fewer
than ``grid_resolution`` of them (or the feature is categorical), else ``grid_resolution`` evenly spaced
points between the ``percentiles`` of the column (scipy's ``mquantiles``, alphap = betap = 0.4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...adapters.model import Model
from ...errors import InputError


def mquantiles(x: np.ndarray, prob: Sequence[float], alphap: float = 0.4, betap: float = 0.4) -> np.ndarray:
    """Plotting-position quantiles, as ``scipy.stats.mstats.mquantiles`` (default alphap = betap = 0.4)."""
    data = np.sort(np.asarray(x, dtype=np.float64))
    n = len(data)
    p = np.asarray(prob, dtype=np.float64)
    m = alphap + p * (1.0 - alphap - betap)
    aleph = n * p + m
    k = np.floor(np.clip(aleph, 1, n - 1)).astype(int)
    gamma = np.clip(aleph - k, 0, 1)
    return (1.0 - gamma) * data[k - 1] + gamma * data[k]


def default_grid(
    column: np.ndarray,
    *,
    categorical: bool = False,
    grid_resolution: int = 50,
    percentiles: tuple[float, float] = (0.05, 0.95),
    name: str = "feature",
) -> np.ndarray:
    """The grid of one feature (see the module docstring)."""
    uniques = np.unique(column)
    if categorical or len(uniques) < grid_resolution:
        return uniques
    lo, hi = mquantiles(column, percentiles)
    if np.isclose(lo, hi):
        raise InputError(
            f"percentiles={tuple(percentiles)} of {name} are both {lo:g}: choose percentiles further apart"
        )
    return np.linspace(lo, hi, grid_resolution)


def blocks(start: int, stop: int, n: int):
    """The pieces of rows ``start:stop`` of a stack of blocks of ``n`` rows: (block, first, last, offset)."""
    pos = start
    while pos < stop:
        b, lo = divmod(pos, n)
        hi = min(n, lo + stop - pos)
        yield b, lo, hi, pos - start
        pos += hi - lo


class GridBatch:
    """Lazy ``(n_points * n_rows, F)`` batch: row k is ``X[k % n_rows]`` with ``columns := points[k // n_rows]``."""

    def __init__(self, X: np.ndarray, columns: Sequence[int], points: np.ndarray):
        self.X = X
        self.columns = list(columns)
        self.points = np.asarray(points, dtype=X.dtype).reshape(len(points), len(self.columns))
        self.n_rows = X.shape[0]
        self.shape = (len(self.points) * self.n_rows, X.shape[1])
        self.dtype = X.dtype
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, span: slice) -> np.ndarray:
        start, stop, step = span.indices(self.shape[0])
        if step != 1:
            raise IndexError("GridBatch supports contiguous slices only")
        out = np.empty((stop - start, self.shape[1]), dtype=self.dtype)
        for b, lo, hi, at in blocks(start, stop, self.n_rows):  # contiguous copies, then the grid value
            piece = out[at:at + hi - lo]
            piece[:] = self.X[lo:hi]
            piece[:, self.columns] = self.points[b]
        return out


def ice_table(
    model: Model,
    output: Callable[[Model, np.ndarray], np.ndarray],
    X: np.ndarray,
    columns: Sequence[int],
    points: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """``(n_rows, n_points)`` model responses with ``X[:, columns]`` set to each row of ``points``."""
    scores = model.predict(GridBatch(X, columns, points), progress=progress)
    return output(model, scores).reshape(len(points), X.shape[0]).T.copy()


def grid_points(grids: Sequence[np.ndarray]) -> np.ndarray:
    """The cartesian product of 1-D grids, first grid varying slowest: ``(prod(len), len(grids))``."""
    mesh = np.meshgrid(*grids, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)
