"""Is a point like the data? Distances to its nearest rows and a local outlier factor.

A counterfactual can be valid and close to the original and still describe nobody: a combination of values
no row of the data has (a high credit limit with a poor rating). Two measures, in the geometry the
counterfactual search uses (L1 distance with each numeric feature divided by its median absolute deviation,
a changed category counting 1):

* :func:`nearest_distances` — the distance to the k nearest rows of the data, to be compared with how far
  the data's own rows lie from their nearest neighbours (:func:`typical_distances`, leave-one-out);
* :func:`outlier_factors` — the local outlier factor (Breunig et al. 2000) with scikit-learn's
  ``LocalOutlierFactor(novelty=True)`` fitted on the data: about 1 inside the data, well above 1 outside.

Examples
--------
>>> geometry = Geometry.fit(data, categorical)
>>> nearest_distances(geometry, points, k=5).mean(axis=1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError

BLOCK = 4_000_000  # values per block of the distance computation (points x rows x features)


@dataclass(frozen=True)
class Geometry:
    """The counterfactual distance as an embedding: numeric features divided by their ``scale``, categorical
    ones one-hot times 1/2 (two different categories are then 1 apart in L1)."""

    data: np.ndarray  # (N, F) the reference rows
    scale: np.ndarray  # (F,) numeric scale (MAD, or 1 where it is 0)
    categorical: np.ndarray  # (F,) bool
    categories: tuple  # per feature: the category values (None for numeric)

    @staticmethod
    def fit(data: np.ndarray, categorical: np.ndarray | None = None, scale: np.ndarray | None = None) -> Geometry:
        """The geometry of ``data``: MAD per numeric feature unless ``scale`` is given."""
        data = np.asarray(data, dtype=np.float64)
        f = data.shape[1]
        cat = np.zeros(f, bool) if categorical is None else np.asarray(categorical, dtype=bool)
        if scale is None:
            med = np.median(data, axis=0)
            scale = np.median(np.abs(data - med), axis=0)
        scale = np.where(np.asarray(scale, dtype=np.float64) > 0, scale, 1.0)
        categories = tuple(np.unique(data[:, j]) if cat[j] else None for j in range(f))
        return Geometry(data, scale, cat, categories)

    def embed(self, X: np.ndarray) -> np.ndarray:
        """Rows in the embedding where L1 distance is the counterfactual distance."""
        X = np.asarray(X, dtype=np.float64)
        parts = []
        for j in range(X.shape[1]):
            if self.categorical[j]:
                cats = self.categories[j]
                parts.append(0.5 * (X[:, j:j + 1] == cats[None, :]))
            else:
                parts.append(X[:, j:j + 1] / self.scale[j])
        return np.concatenate(parts, axis=1)


def _l1(points: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(P, N) L1 distances, computed in blocks of data rows."""
    out = np.empty((len(points), len(rows)))
    chunk = max(1, BLOCK // max(1, points.size))
    for start in range(0, len(rows), chunk):
        block = rows[start:start + chunk]
        out[:, start:start + len(block)] = np.abs(points[:, None, :] - block[None, :, :]).sum(axis=2)
    return out


def nearest_distances(geometry: Geometry, points: np.ndarray, k: int = 5) -> np.ndarray:
    """(P, k): each point's distances to its ``k`` nearest data rows, nearest first."""
    rows = geometry.embed(geometry.data)
    if not 1 <= k <= len(rows):
        raise InputError(f"n_neighbors must be in 1..{len(rows)} (the rows of data); got {k}")
    d = _l1(geometry.embed(points), rows)
    return np.sort(np.partition(d, k - 1, axis=1)[:, :k], axis=1)


def typical_distances(geometry: Geometry, k: int = 5, max_rows: int = 2000, seed: int = 0) -> np.ndarray:
    """Each data row's mean distance to its ``k`` nearest *other* rows (up to ``max_rows`` rows, sampled)."""
    rows = geometry.embed(geometry.data)
    if not 1 <= k < len(rows):
        raise InputError(f"n_neighbors must be in 1..{len(rows) - 1} (the other rows of data); got {k}")
    pick = np.arange(len(rows))
    if len(rows) > max_rows:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), max_rows, replace=False))
    d = _l1(rows[pick], rows)
    d[np.arange(len(pick)), pick] = np.inf  # not its own neighbour
    return np.sort(np.partition(d, k - 1, axis=1)[:, :k], axis=1).mean(axis=1)


def outlier_factors(geometry: Geometry, points: np.ndarray, n_neighbors: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """(factors of ``points``, factors of the data rows): local outlier factors in the geometry (L1).

    ``LocalOutlierFactor(novelty=True, metric="manhattan")`` is fitted on the data; a point's factor is
    ``-score_samples``, about 1 for points inside a cluster and larger the more isolated it is.
    """
    try:
        from sklearn.neighbors import LocalOutlierFactor
    except ImportError as exc:  # pragma: no cover - scikit-learn is in the sklearn and tabular extras
        raise InputError("plausibility's outlier factor needs scikit-learn: pip install scikit-learn "
                         "(or nbexplain[sklearn])") from exc

    rows = geometry.embed(geometry.data)
    n_neighbors = min(n_neighbors, len(rows) - 1)
    if n_neighbors < 1:
        raise InputError("plausibility needs at least 2 rows of data")
    lof = LocalOutlierFactor(n_neighbors=n_neighbors, novelty=True, metric="manhattan").fit(rows)
    return -lof.score_samples(geometry.embed(points)), -lof.negative_outlier_factor_


__all__ = ["Geometry", "nearest_distances", "outlier_factors", "typical_distances"]
