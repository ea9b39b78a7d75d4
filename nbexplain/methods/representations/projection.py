"""Maps of high-dimensional rows in 2-D or 3-D: PCA, t-SNE and UMAP, each through a well-kept library.

* PCA (Pearson 1901; Hotelling 1933): scikit-learn's ``PCA``, exact (a full SVD, or the eigendecomposition
  of the covariance when there are many more rows than columns). Its quality: the share of the variance
  each component explains.
* t-SNE (van der Maaten & Hinton 2008): openTSNE (Poličar, Stražar & Zupan 2019) — Barnes-Hut below 10,000
  rows, FFT-accelerated interpolation (Linderman et al. 2019) above; measured against scikit-learn's
  ``TSNE`` on 10,000 x 64 activations in ``benchmarks/representations.py`` (as trustworthy, several times
  faster), and it can place new rows into an existing map. Its quality: the final KL divergence.
* UMAP (McInnes, Healy & Melville 2018): umap-learn, optional (``pip install "nbexplain[umap]"``); it
  reports no objective.

Each function returns ``(coordinates, quality, fitted)``: an (N, k) float array, a dict of the method's own
numbers, and the fitted object that can place new rows (:func:`place`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..._types import Progress
from ...errors import InputError

METHODS = ("pca", "tsne", "umap")
#: rows x columns above which PCA uses the covariance's eigendecomposition (exact, far faster for N >> D)
COVARIANCE_ABOVE = 2_000_000
#: rows from which openTSNE's FFT interpolation replaces Barnes-Hut (openTSNE's own "auto" rule)
FFT_FROM = 10_000


def available_methods() -> list[str]:
    """The methods that can run here: PCA and t-SNE always, UMAP when umap-learn is installed."""
    import importlib.util

    return [m for m in METHODS if m != "umap" or importlib.util.find_spec("umap") is not None]


def pca(X: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, dict, Any]:
    """Principal components of ``X`` (centred, not scaled): coordinates and explained variance ratios.

    Rows with fewer columns (or rows) than ``n_components`` get the components there are, and zeros after
    them (a layer of one unit is a line).
    """
    from sklearn.decomposition import PCA

    n, d = X.shape
    k = min(n_components, n, d)
    solver = "covariance_eigh" if n * d > COVARIANCE_ABOVE and n > 10 * d else "full"
    fitted = PCA(n_components=k, svd_solver=solver).fit(X)
    coordinates = np.zeros((n, n_components), dtype=np.float64)
    coordinates[:, :k] = fitted.transform(X)
    ratio = np.zeros(n_components, dtype=np.float64)
    ratio[:k] = fitted.explained_variance_ratio_
    return coordinates, {"explained_variance_ratio": ratio}, fitted


def check_perplexity(perplexity: float, n: int) -> float:
    """``perplexity`` if a t-SNE of ``n`` rows can use it: it must be below (n - 1) / 3."""
    limit = (n - 1) / 3
    if not (isinstance(perplexity, (int, float, np.integer, np.floating)) and not isinstance(perplexity, bool)
            and 0 < perplexity < limit):
        raise InputError(f"perplexity must be a number > 0 and below (N - 1) / 3 = {limit:.4g} for {n} rows "
                         f"(it is about the number of neighbours each point keeps); got {perplexity!r}")
    return float(perplexity)


def tsne(X: np.ndarray, n_components: int = 2, *, perplexity: float = 30.0, seed: int | None = 0,
         n_iter: int = 500, n_jobs: int = 1, progress: Progress = None) -> tuple[np.ndarray, dict, Any]:
    """openTSNE's t-SNE of ``X``: coordinates and the final KL divergence.

    PCA initialisation (scaled as openTSNE does), 250 early-exaggeration iterations then ``n_iter``; the same
    ``seed`` and ``n_jobs`` give the same map. ``progress`` hears the fraction of iterations done.
    """
    try:
        from openTSNE import TSNE
    except ImportError as exc:
        raise InputError('method="tsne" needs openTSNE: pip install "nbexplain[representations]" (or use "pca")') \
            from exc

    n = X.shape[0]
    perplexity = check_perplexity(perplexity, n)
    exaggeration_iter = 250
    every = 25
    total_calls = max(1, (exaggeration_iter + n_iter) // every)
    calls = [0]

    def callback(_iteration, _error, _embedding):
        calls[0] += 1
        if progress is not None:
            progress(min(0.99, calls[0] / total_calls))
        return False

    method = "fft" if n >= FFT_FROM and n_components <= 2 else "bh"
    estimator = TSNE(n_components=n_components, perplexity=perplexity, n_iter=n_iter,
                     early_exaggeration_iter=exaggeration_iter, negative_gradient_method=method,
                     random_state=seed, n_jobs=n_jobs, verbose=False,
                     callbacks=callback if progress is not None else None, callbacks_every_iters=every)
    embedding = estimator.fit(np.ascontiguousarray(X, dtype=np.float64))
    coordinates = np.asarray(embedding, dtype=np.float64).copy()
    return coordinates, {"kl_divergence": float(embedding.kl_divergence)}, embedding


def umap(X: np.ndarray, n_components: int = 2, *, n_neighbors: int = 15, min_dist: float = 0.1,
         seed: int | None = 0) -> tuple[np.ndarray, dict, Any]:
    """umap-learn's UMAP of ``X`` (a seed makes it single-threaded and reproducible)."""
    try:
        import umap as umap_learn
    except ImportError as exc:
        raise InputError('method="umap" needs umap-learn: pip install "nbexplain[umap]" (or use "pca" or "tsne")') \
            from exc
    if not 2 <= n_neighbors < X.shape[0]:
        raise InputError(f"n_neighbors must be an int from 2 to N - 1 = {X.shape[0] - 1}; got {n_neighbors!r}")
    import warnings

    with warnings.catch_warnings():  # "n_jobs value 1 overridden to 1 by setting random_state": said above
        warnings.simplefilter("ignore", UserWarning)
        fitted = umap_learn.UMAP(n_components=n_components, n_neighbors=int(n_neighbors), min_dist=float(min_dist),
                                 random_state=seed, n_jobs=1 if seed is not None else -1)
        coordinates = fitted.fit_transform(np.ascontiguousarray(X, dtype=np.float32))
    return np.asarray(coordinates, dtype=np.float64), {}, fitted


def run(method: str, X: np.ndarray, n_components: int, *, seed: int | None, perplexity: float, n_neighbors: int,
        min_dist: float, n_jobs: int, progress: Progress = None) -> tuple[np.ndarray, dict, Any]:
    """The map of ``X`` by ``method`` (one of :data:`METHODS`)."""
    if method == "pca":
        result = pca(X, n_components)
    elif method == "tsne":
        result = tsne(X, n_components, perplexity=perplexity, seed=seed, n_jobs=n_jobs, progress=progress)
    else:
        result = umap(X, n_components, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed)
    if progress is not None:
        progress(1.0)
    return result


def place(method: str, fitted: Any, X: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Coordinates of new rows ``X`` in an existing map (PCA's projection, openTSNE's and UMAP's transform).

    t-SNE places each new row near its nearest neighbours among the mapped rows and optimises only the new
    points (openTSNE's ``transform``): the existing map does not move.
    """
    transform: Callable = fitted.transform
    if method == "tsne":
        return np.asarray(transform(np.ascontiguousarray(X, dtype=np.float64)), dtype=np.float64).copy()
    placed = np.asarray(transform(X), dtype=np.float64)
    if method == "pca" and placed.shape[1] < n_components:  # a map padded with zeros (fewer columns than k)
        placed = np.hstack([placed, np.zeros((len(placed), n_components - placed.shape[1]))])
    return placed


__all__ = ["METHODS", "available_methods", "check_perplexity", "pca", "place", "run", "tsne", "umap"]
