"""Scores of predictions against references, higher is better: ``(y_true, predictions) -> float``.

Permutation importance measures the drop of one of these; a global surrogate's fidelity is the R² (or the
agreement) of the surrogate with the black box. The names are scikit-learn's scoring names, so the numbers
match ``sklearn.inspection.permutation_importance`` for the same ``scoring``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import InputError


def r2(y: np.ndarray, p: np.ndarray) -> float:
    """Coefficient of determination of ``p`` for ``y`` (1 for a perfect fit; a constant ``y`` scores 1 or 0)."""
    ss_res = np.sum((y - p) ** 2)
    ss_tot = np.sum((y - np.mean(y)) ** 2)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)


def accuracy(y: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of equal labels (a tree surrogate's *agreement* with a classifier)."""
    return float(np.mean(y == labels))


def neg_log_loss(y_index: np.ndarray, proba: np.ndarray) -> float:
    """Mean log-probability of the true classes (``y_index``), probabilities clipped as scikit-learn does."""
    eps = np.finfo(np.float64).eps
    p = np.clip(proba[np.arange(len(y_index)), y_index], eps, 1 - eps)
    return float(np.mean(np.log(p)))


REGRESSION_SCORES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "r2": r2,
    "neg_mean_squared_error": lambda y, p: -float(np.mean((y - p) ** 2)),
    "neg_mean_absolute_error": lambda y, p: -float(np.mean(np.abs(y - p))),
}
CLASSIFICATION_SCORES = ("accuracy", "neg_log_loss")


def check_scoring(scoring: Any, regression: bool) -> str | Callable:
    """``scoring`` for the kind of model: a name (None: "r2" or "accuracy") or a callable."""
    if scoring is None:
        return "r2" if regression else "accuracy"
    if callable(scoring):
        return scoring
    valid = list(REGRESSION_SCORES) if regression else list(CLASSIFICATION_SCORES)
    if scoring not in valid:
        kind = "a regression" if regression else "a classifier"
        raise InputError(f"scoring={scoring!r} is not valid for {kind}: expected one of {valid} or a callable")
    return scoring


__all__ = ["CLASSIFICATION_SCORES", "REGRESSION_SCORES", "accuracy", "check_scoring", "neg_log_loss", "r2"]
