"""Partial dependence (Friedman 2001) and the ICE table it averages (Goldstein et al. 2015).

For features S and a grid of values g, the ICE table holds f(x_i with x_S := g) for every row i and
grid point g; partial dependence is its mean over rows. The table is predicted as one lazy batch of
``n_grid * n_rows`` rows, built one model batch at a time, so the model runs once per chunk of
grid points x rows (not once per grid value as scikit-learn's brute method does).

The default grid follows scikit-learn's ``partial_dependence``: the distinct values when there are fewer
than ``grid_resolution`` of them (or the feature is categorical), else ``grid_resolution`` evenly spaced
points between the ``percentiles`` of the column (scipy's ``mquantiles``, alphap = betap = 0.4).

The kinds of ICE curves come from the same table: plain, centred at an anchor (c-ICE: each curve minus its
value at the anchor) and derivative (d-ICE: ``numpy.gradient`` along the grid).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..._validation import check_int
from ...adapters.model import Model
from ...errors import InputError
from ...inputs.tables import Table
from .batches import StackedRows

#: the kinds of ICE curves (Goldstein et al. 2015)
ICE_KINDS = ("plain", "centred", "derivative")
_KIND_SPELLINGS = {"plain": "plain", "centred": "centred", "centered": "centred", "c-ice": "centred",
                   "derivative": "derivative", "d-ice": "derivative"}


# ---- grids ----------------------------------------------------------------------------------------
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


def check_percentiles(percentiles: Any) -> tuple[float, float]:
    """``percentiles`` as a pair ``0 <= low < high <= 1``."""
    try:
        lo, hi = (float(p) for p in percentiles)
    except (TypeError, ValueError) as exc:
        raise InputError(f"percentiles must be a pair of numbers in [0, 1]; got {percentiles!r}") from exc
    if not (0 <= lo < hi <= 1):
        raise InputError(f"percentiles must satisfy 0 <= low < high <= 1; got {percentiles!r}")
    return lo, hi


def check_grid(grid: Any, feature: str) -> np.ndarray:
    """An explicit grid of ``feature``: a non-empty 1-D array of finite numbers."""
    try:
        arr = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"grid for {feature!r} must be a 1-D array of numbers; got {type(grid).__name__}") from exc
    if arr.ndim != 1 or len(arr) < 1:
        raise InputError(f"grid for {feature!r} must be a non-empty 1-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"grid for {feature!r} has NaN or infinite values")
    return arr


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


def feature_grids(table: Table, columns: Sequence[int], grid: Any = None, grid_resolution: int = 50,
                  percentiles: Any = (0.05, 0.95)) -> list[np.ndarray]:
    """The grid of each of ``columns``: ``grid`` checked (one 1-D array, or one per column), or the default."""
    if grid is None:
        check_int(grid_resolution, "grid_resolution", 2)
        percentiles = check_percentiles(percentiles)
        return [default_grid(table.values[:, c], categorical=bool(table.categorical[c]), grid_resolution=grid_resolution,
                             percentiles=percentiles, name=table.feature_names[c]) for c in columns]
    one_per_column = isinstance(grid, Sequence) or (isinstance(grid, np.ndarray) and grid.dtype == object)
    grids = [grid] if len(columns) == 1 else list(grid) if one_per_column else None
    if grids is None or len(grids) != len(columns) or (len(columns) > 1 and any(np.ndim(g) != 1 for g in grids)):
        raise InputError(f"grid must be one 1-D array per feature ({len(columns)}); got {type(grid).__name__}")
    return [check_grid(g, table.feature_names[c]) for g, c in zip(grids, columns, strict=True)]


def grid_points(grids: Sequence[np.ndarray]) -> np.ndarray:
    """The cartesian product of 1-D grids, first grid varying slowest: ``(prod(len), len(grids))``."""
    mesh = np.meshgrid(*grids, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# ---- the ICE table ----------------------------------------------------------------------------------
class GridBatch(StackedRows):
    """Lazy ``(n_points * n_rows, F)`` batch: row k is ``X[k % n_rows]`` with ``columns := points[k // n_rows]``."""

    def __init__(self, X: np.ndarray, columns: Sequence[int], points: np.ndarray):
        self.columns = list(columns)
        self.points = np.asarray(points, dtype=X.dtype).reshape(len(points), len(self.columns))
        super().__init__(X, len(self.points))

    def fill(self, piece: np.ndarray, block: int, lo: int, hi: int) -> None:
        piece[:, self.columns] = self.points[block]


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


# ---- kinds of ICE curves ----------------------------------------------------------------------------
def check_kind(kind: Any) -> str:
    """``kind`` of ICE as one of :data:`ICE_KINDS` ("centered", "c-ice" and "d-ice" are accepted too)."""
    if not isinstance(kind, str) or kind.lower() not in _KIND_SPELLINGS:
        raise InputError(f"kind={kind!r} is not valid: expected one of {list(ICE_KINDS)}")
    return _KIND_SPELLINGS[kind.lower()]


def anchor_position(grid: np.ndarray, anchor: float) -> int:
    """Index of the c-ICE ``anchor`` in ``grid`` (it must be a grid value)."""
    hits = np.flatnonzero(np.isclose(grid, anchor, rtol=1e-12, atol=1e-12))
    if not len(hits):
        raise InputError(f"anchor={anchor!r} is not a grid value; grid runs {grid[0]:g} … {grid[-1]:g}")
    return int(hits[0])


def anchored_grid(grid: np.ndarray, anchor: Any, feature: str, categorical: bool) -> tuple[np.ndarray, float]:
    """``grid`` with the c-ICE ``anchor`` on it (added, in order, when missing) and the anchor's grid value.

    None anchors at the grid's minimum. A categorical feature's anchor must be one of its levels.
    """
    if anchor is None:
        return grid, float(grid[0])
    try:
        value = float(anchor)
    except (TypeError, ValueError) as exc:
        raise InputError(f"anchor must be a number (a value of {feature!r}); got {anchor!r}") from exc
    if not np.isfinite(value):
        raise InputError(f"anchor must be finite; got {anchor!r}")
    if categorical and value not in set(grid.tolist()):
        raise InputError(f"anchor={anchor!r} is not a level of the categorical feature {feature!r}: {grid.tolist()[:20]}")
    if not np.isclose(grid, value, rtol=1e-12, atol=1e-12).any():
        grid = np.sort(np.append(grid, value))
    return grid, float(grid[anchor_position(grid, value)])


def ice_curves(predictions: np.ndarray, grid: np.ndarray, kind: str, anchor: float, categorical: bool,
               feature: str) -> np.ndarray:
    """The curves ``kind`` shows from the plain ICE table ``predictions`` (rows x grid)."""
    if kind == "plain":
        return predictions.copy()
    if kind == "centred":
        return predictions - predictions[:, [anchor_position(grid, anchor)]]
    if categorical:
        raise InputError(f"kind='derivative' needs a numeric feature; {feature!r} is categorical")
    if len(grid) < 2:
        raise InputError(f"kind='derivative' needs a grid of at least 2 values for {feature!r}")
    return np.gradient(predictions, grid, axis=1)


__all__ = [
    "ICE_KINDS", "GridBatch", "anchor_position", "anchored_grid", "check_grid", "check_kind", "check_percentiles",
    "default_grid", "feature_grids", "grid_points", "ice_curves", "ice_table", "mquantiles",
]
