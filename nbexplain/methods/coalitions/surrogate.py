"""Local surrogate models (LIME, Ribeiro, Singh & Guestrin 2016): a proximity kernel and a weighted ridge fit.

:func:`exponential_kernel` is the ``lime`` package's kernel, ``sqrt(exp(-d**2 / width**2))``: the square
root makes it the kernel on the *residuals* (LIME passes it as ``sample_weight`` to a squared loss, so the
effective weight per squared residual is the square root of the paper's ``exp(-d**2/width**2)``; the
``lime`` package does this in ``lime_tabular.py``/``lime_image.py``). :func:`fit_weighted_ridge` equals
``sklearn.linear_model.Ridge(alpha, fit_intercept=True).fit(Z, y, sample_weight)`` (LIME's default
regressor), and ``score`` is its weighted R², the "fidelity" (``prediction_score``) that LIME reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validation import check_number, check_positive
from ...adapters.blas import one_blas_thread
from ...errors import InputError


def exponential_kernel(distances, width: float) -> np.ndarray:
    """LIME's proximity weights ``sqrt(exp(-d**2 / width**2))``, as the ``lime`` package computes them.

    Parameters
    ----------
    distances : array of non-negative floats
        Distances to the explained instance (``lime_image``: cosine distance of the coalition to all-ones).
    width : float
        Kernel width (``lime_image`` uses 0.25; ``lime_tabular`` ``0.75 * sqrt(n_features)``).

    Examples
    --------
    >>> exponential_kernel(np.array([0.0, 0.25]), 0.25)
    array([1.        , 0.60653066])
    """
    d = np.asarray(distances, dtype=np.float64)
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise InputError("distances must be finite and non-negative")
    width = check_positive(width, "width")
    return np.sqrt(np.exp(-(d**2) / width**2))


@dataclass
class Surrogate:
    """A weighted ridge regression ``y ~ Z @ coef + intercept`` fitted around one instance.

    Attributes
    ----------
    coef : (M,) or (M, K) - one weight per interpretable feature (per output).
    intercept : float or (K,)
    score : float or (K,) - weighted R² on the training samples (LIME's "fidelity").
    alpha : float - the ridge penalty.
    """

    coef: np.ndarray
    intercept: np.ndarray | float
    score: np.ndarray | float
    alpha: float

    def predict(self, Z) -> np.ndarray:
        """The surrogate's predictions for rows ``Z`` (N, M)."""
        z = np.asarray(Z, dtype=np.float64)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.coef.shape[0]:
            raise InputError(f"Z must have shape (N, {self.coef.shape[0]}); got {np.shape(Z)}")
        return z @ self.coef + self.intercept

    def plot(self, ax=None, *, names=None, output: int = 0, max_features: int = 20):
        """Horizontal bars of the surrogate's coefficients (largest |coef| first); returns the Axes."""
        from ...plotting.coalitions import draw_player_bars

        coef = self.coef if self.coef.ndim == 1 else self.coef[:, output]
        score = self.score if np.ndim(self.score) == 0 else self.score[output]
        return draw_player_bars(coef, ax=ax, names=names, max_players=max_features, unnamed="feature",
                                title=f"surrogate coefficients (weighted R² = {float(score):.3f})")


def weighted_r2(y: np.ndarray, prediction: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
    """sklearn's ``r2_score(y, prediction, sample_weight=w, multioutput='raw_values')`` (1 for constant y fitted exactly)."""
    w = sample_weight[:, None] if y.ndim == 2 else sample_weight
    mean = (w * y).sum(0) / sample_weight.sum()
    residual = (w * (y - prediction) ** 2).sum(0)
    total = (w * (y - mean) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1 - residual / total
    return np.where(total > 0, r2, np.where(residual > 0, 0.0, 1.0))


def fit_weighted_ridge(Z, y, sample_weight=None, alpha: float = 1.0) -> Surrogate:
    """Fit ``y ~ Z @ coef + intercept`` by ridge regression with sample weights (LIME's surrogate).

    The intercept is not penalised: ``Z`` and ``y`` are centred by their weighted means, then
    ``coef = (Zc' W Zc + alpha I)^-1 Zc' W yc`` - what ``sklearn.linear_model.Ridge(alpha).fit(Z, y,
    sample_weight)`` computes.

    Parameters
    ----------
    Z : (N, M) array - interpretable features (LIME: 0/1 coalitions).
    y : (N,) or (N, K) array - the model's outputs for each row.
    sample_weight : (N,) array, optional - non-negative weights (LIME: :func:`exponential_kernel`).
    alpha : float - ridge penalty (LIME's default is 1).

    Examples
    --------
    >>> Z = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    >>> s = fit_weighted_ridge(Z, Z @ [2.0, -1.0] + 3, alpha=1e-12)
    >>> np.round(s.coef, 6), round(float(s.intercept), 6), round(float(s.score), 6)
    (array([ 2., -1.]), 3.0, 1.0)
    """
    z = np.asarray(Z, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    if z.ndim != 2 or len(z) == 0:
        raise InputError(f"Z must be a non-empty (N, M) array; got shape {z.shape}")
    if target.ndim not in (1, 2) or target.shape[0] != z.shape[0]:
        raise InputError(f"y must have shape ({z.shape[0]},) or ({z.shape[0]}, K) to match Z; got {target.shape}")
    w = np.ones(len(z)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (len(z),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError(f"sample_weight must be ({len(z)},) non-negative finite weights with a positive sum")
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(target))):
        raise InputError("Z and y must be finite")
    alpha = check_number(alpha, "alpha", minimum=0)
    total = w.sum()
    z_mean = w @ z / total
    y_mean = w @ target / total
    zc, yc = z - z_mean, target - y_mean
    sw = np.sqrt(w)
    with one_blas_thread():  # small products: threads only cost here (seconds on a busy machine)
        a = (zc * sw[:, None]).T @ (zc * sw[:, None]) + alpha * np.eye(z.shape[1])
        b = (zc * w[:, None]).T @ yc
        coef = np.linalg.lstsq(a, b, rcond=None)[0] if alpha == 0 else np.linalg.solve(a, b)
    intercept = y_mean - z_mean @ coef
    score = weighted_r2(target, z @ coef + intercept, w)
    if target.ndim == 1:
        return Surrogate(coef, float(intercept), float(score), alpha)
    return Surrogate(coef, intercept, score, alpha)


__all__ = ["Surrogate", "exponential_kernel", "fit_weighted_ridge", "weighted_r2"]
