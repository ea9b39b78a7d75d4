"""Linear probes (Alain & Bengio 2016): how linearly separable the classes are in a layer's activations.

A linear classifier (standardised features, logistic regression) is fitted on each layer's activations and
scored by cross-validation: the survey's claim that hidden layers make the data linearly separable, as one
accuracy per layer. Every layer uses the same folds, so the accuracies are comparable; the loop is
scikit-learn's ``cross_val_score`` (clone, fit on the training folds, ``score`` on the held-out fold) written
out so that progress is reported fold by fold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._types import Progress
from ...errors import InputError


def default_probe(seed: int | None = 0):
    """Standardised features followed by an L2-regularised logistic regression (lbfgs)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))


def folds(y: np.ndarray, cv: Any, seed: int | None = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs: ``cv`` folds stratified by class and shuffled with ``seed``, or the
    splits of a scikit-learn splitter (or an iterable of index pairs) given as ``cv``."""
    from sklearn.model_selection import StratifiedKFold

    n = len(y)
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        counts = np.unique(y, return_counts=True)[1]
        if cv < 2 or cv > counts.min():
            raise InputError(f"cv must be an int from 2 to the size of the smallest class ({counts.min()}); "
                             f"got {cv!r}")
        splitter = StratifiedKFold(n_splits=int(cv), shuffle=seed is not None, random_state=seed)
        return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(np.zeros((n, 1)), y)]
    if hasattr(cv, "split"):
        return [(np.asarray(a), np.asarray(b)) for a, b in cv.split(np.zeros((n, 1)), y)]
    try:
        pairs = [(np.asarray(a), np.asarray(b)) for a, b in cv]
    except (TypeError, ValueError) as exc:
        raise InputError("cv must be a number of folds, a scikit-learn splitter or (train, test) index pairs; "
                         f"got {type(cv).__name__}") from exc
    if not pairs:
        raise InputError("cv gave no (train, test) pairs")
    return pairs


def cross_validated_accuracy(X: np.ndarray, y: np.ndarray, probe: Any, splits: list[tuple[np.ndarray, np.ndarray]],
                             progress: Progress = None) -> np.ndarray:
    """Accuracy of a fresh clone of ``probe`` on each held-out fold (as ``cross_val_score`` computes it)."""
    from sklearn.base import clone

    scores = np.empty(len(splits), dtype=np.float64)
    for i, (train, test) in enumerate(splits):
        fitted = clone(probe).fit(X[train], y[train])
        scores[i] = fitted.score(X[test], y[test])
        if progress is not None:
            progress((i + 1) / len(splits))
    return scores


__all__ = ["cross_validated_accuracy", "default_probe", "folds"]
