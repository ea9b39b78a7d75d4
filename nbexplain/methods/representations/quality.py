"""Trustworthiness of a map: are the neighbours a point has on the map its neighbours in the data?

Venna & Kaski (2001): for every point, the points among its ``k`` nearest on the map that are not among its
``k`` nearest in the data are penalised by how far down the data's ranking they are,

    T(k) = 1 - 2 / (N k (2N - 3k - 1)) * sum_i sum_{j in U_i} (r(i, j) - k),

1 for a map that invents no neighbours. With every point as a query this is scikit-learn's
``sklearn.manifold.trustworthiness`` (which holds two N x N matrices: fine for a few thousand rows). For
more rows the sum is estimated over a random sample of query points, each ranked against *all* N points
(the same per-point terms, averaged over the sample: an unbiased estimate), chunk by chunk, so memory stays
at a few chunks of N distances.
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError

#: rows up to which scikit-learn's exact function is used
EXACT_UP_TO = 2000
CHUNK_BYTES = 32 << 20


def _squared_distances(A: np.ndarray, B: np.ndarray, b_norms: np.ndarray) -> np.ndarray:
    d = (A * A).sum(axis=1)[:, None] + b_norms[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d, 0.0, out=d)


def trustworthiness(X: np.ndarray, Y: np.ndarray, n_neighbors: int = 10, *, queries: np.ndarray | None = None,
                    max_queries: int = EXACT_UP_TO, seed: int | None = 0) -> float:
    """Trustworthiness of the map ``Y`` of ``X`` at ``n_neighbors``.

    Exact (scikit-learn's) for at most ``max_queries`` rows; else estimated over ``max_queries`` query points
    drawn with ``seed``. ``queries`` picks the query points (all of them gives the exact value through this
    module's own chunked computation).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n = X.shape[0]
    k = int(n_neighbors)
    if Y.shape[0] != n:
        raise InputError(f"the map has {Y.shape[0]} rows but the data {n}")
    if not 1 <= k < n / 2:
        raise InputError(f"n_neighbors must be an int >= 1 and below N / 2 = {n / 2:g}; got {n_neighbors!r}")
    if queries is None and n <= max_queries:
        from sklearn.manifold import trustworthiness as exact

        return float(exact(X, Y, n_neighbors=k))
    if queries is None:
        queries = np.sort(np.random.default_rng(seed).choice(n, size=max_queries, replace=False))
    queries = np.asarray(queries, dtype=np.int64)
    x_norms, y_norms = (X * X).sum(axis=1), (Y * Y).sum(axis=1)
    chunk = max(1, CHUNK_BYTES // (8 * n * 3))
    penalty = 0.0
    index = np.arange(n)
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        dx = _squared_distances(X[q], X, x_norms)
        dy = _squared_distances(Y[q], Y, y_norms)
        rows = np.arange(len(q))
        dx[rows, q] = np.inf
        dy[rows, q] = np.inf
        near_map = np.argpartition(dy, k - 1, axis=1)[:, :k]  # the k nearest on the map (any order)
        d_j = dx[rows[:, None], near_map]  # their distances in the data
        # rank in the data (1 = nearest): points closer than j, ties broken by index as a stable sort would
        closer = (dx[:, None, :] < d_j[:, :, None]).sum(axis=2)
        tied = ((dx[:, None, :] == d_j[:, :, None]) & (index[None, None, :] < near_map[:, :, None])).sum(axis=2)
        ranks = closer + tied + 1
        penalty += float(np.maximum(ranks - k, 0).sum())
    m = len(queries)
    return float(1.0 - penalty * 2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)))


__all__ = ["EXACT_UP_TO", "trustworthiness"]
