"""LIME for one tabular row (Ribeiro, Singh & Guestrin 2016), as the ``lime`` package's tabular explainer does
it with ``sample_around_instance=True`` and ``discretize_continuous=False``.

Perturbations are drawn around the row, scaled by the training statistics: a numeric feature becomes
``x_j + z · sd_j`` with ``z ~ N(0, 1)``; a categorical feature takes a category drawn with its training
frequency and is represented by 1 when it equals the row's category, else 0. Each sample is weighted by
the exponential kernel ``sqrt(exp(-d² / w²))`` of its Euclidean distance ``d`` to the row in that scaled
representation (width ``w = 0.75 · sqrt(M)`` by default), and a weighted ridge regression (α = 1) of the
model's output on the scaled representation is the local surrogate. Its weighted R² is the *fidelity*.

The reported contribution of feature j is the surrogate's coefficient times the row's offset from the
training mean in standard deviations, ``coef_j (x_j - mean_j) / sd_j`` (categorical: ``coef_j (1 - share
of x's category)``), so that the contributions add up to the surrogate's change from the mean row to ``x``
— the same additive reading as Shapley values, which they equal for a linear model with independent
features.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_int
from ..adapters.model import as_model
from ..errors import InputError
from ..inputs.tables import as_table, tabular_model
from ..methods.coalitions.surrogate import exponential_kernel, fit_weighted_ridge
from ..methods.counterfactual.space import as_point
from .tabular import TabularExplanation
from .tabular_shapley import resolve_output


def lime_tabular(
    model: Any,
    x: Any,
    X_train: Any,
    *,
    target: Any = None,
    n_samples: int = 5000,
    kernel_width: float | None = None,
    alpha: float = 1.0,
    categorical: Sequence | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    seed: int | None = 0,
    progress: Callable[[float], None] | None = None,
) -> TabularExplanation:
    """A local linear surrogate of the model around one row, with its fidelity (LIME, Ribeiro et al. 2016).

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    x : (F,) array-like, Series or one-row DataFrame
        The row to explain.
    X_train : (N, F) array-like or DataFrame
        Training data: means, standard deviations and category frequencies.
    target : int, str or None
        The class whose probability is explained (None: the predicted class); regression: None.
    n_samples : int
        Perturbed samples (the first is ``x`` itself).
    kernel_width : float, optional
        Width of the exponential kernel; default ``0.75 * sqrt(n_features)``.
    alpha : float
        Ridge penalty of the surrogate.
    categorical : list of features (or a dict keyed by them), optional
        Features whose values are categories (perturbed by sampling categories).
    feature_names, class_names : optional names.
    seed : int or None
        Sampling, with numpy's ``RandomState`` in the ``lime`` package's order (same seed, same samples).
    progress : callable, optional
        Called with the fraction of model rows done.

    Returns
    -------
    TabularExplanation
        ``method="lime"``, with ``fidelity`` (weighted R²) and ``coef`` (per standard deviation).

    Examples
    --------
    >>> e = nbx.lime_tabular(clf, X[0], X_train)
    >>> e.fidelity, e.top(3)
    """
    t0 = time.perf_counter()
    table = as_table(X_train, feature_names, "X_train")
    m = tabular_model(model, table)
    if class_names is not None:
        m = as_model(m, class_names=class_names)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    f = table.n_features
    width = 0.75 * np.sqrt(f) if kernel_width is None else kernel_width
    if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, float, np.integer, np.floating)) \
            or not np.isfinite(width) or width <= 0:
        raise InputError(f"kernel_width must be a positive number; got {kernel_width!r}")
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)) or alpha < 0:
        raise InputError(f"alpha must be a non-negative number; got {alpha!r}")
    is_cat = np.zeros(f, dtype=bool)
    if categorical is not None:
        from collections.abc import Mapping

        from ..methods.counterfactual.space import _features

        keys = list(categorical) if isinstance(categorical, Mapping) else categorical
        is_cat[_features(table, keys, "categorical")] = True
    xv = as_point(x, table)
    out, _ = resolve_output(m, table, xv, target)
    values = table.values
    mean = values.mean(axis=0)
    sd = values.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    # the lime package's draws, in its order: one normal matrix, then each categorical column's categories
    rng = np.random.RandomState(seed)
    z = rng.normal(0, 1, n_samples * f).reshape(n_samples, f)
    z[0] = 0.0
    rows = xv + z * sd
    share = np.zeros(f)
    for j in np.flatnonzero(is_cat):
        cats, counts = np.unique(values[:, j], return_counts=True)
        rows[:, j] = rng.choice(cats, size=n_samples, p=counts / counts.sum())
        rows[0, j] = xv[j]
        z[:, j] = (rows[:, j] == xv[j]).astype(np.float64)  # interpretable: same category as x
        share[j] = float(np.mean(values[:, j] == xv[j]))
    scores = m.predict(rows, progress=progress)
    y = m.to_probabilities(scores)[:, out.target] if out.kind == "probability" else scores[:, 0]
    offset = z.copy()
    offset[:, is_cat] = 1.0 - z[:, is_cat]  # distance counts a changed category as 1
    weights = exponential_kernel(np.sqrt((offset**2).sum(axis=1)), float(width))
    surrogate = fit_weighted_ridge(z, y, weights, alpha=float(alpha))
    coef = np.asarray(surrogate.coef, dtype=np.float64)
    position = np.where(is_cat, 1.0 - share, (xv - mean) / sd)  # x relative to the mean row, in z units
    contributions = coef * position
    local = float(surrogate.intercept + coef @ np.where(is_cat, 1.0, 0.0))  # the surrogate at x
    return TabularExplanation(
        values=contributions, x=xv, feature_names=list(table.feature_names), prediction=float(y[0]),
        base_value=local - float(contributions.sum()), target=out.target, target_name=out.target_name,
        output=out.kind, method="lime", all_values=contributions[:, None], all_base=np.array([local - contributions.sum()]),
        n_evaluations=n_samples, fidelity=float(surrogate.score), coef=coef,
        seconds=time.perf_counter() - t0, _model=model, _data=X_train,
    )


__all__ = ["lime_tabular"]
