"""Permutation feature importance (Breiman 2001; model reliance, Fisher, Rudin & Dominici 2019).

Shuffle one column, measure how much a score drops. Permutations are drawn exactly as scikit-learn's
``permutation_importance`` draws them (one seed from ``random_state``; the same cumulative shuffles of a
row index for every column), so both give identical numbers for the same integer seed; here every
permuted copy of every column and repeat is predicted as one lazy batch of ``F * R * N`` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...adapters.model import Model
from ...adapters.outputs import Output
from ...errors import InputError
from .batches import StackedRows
from .scores import REGRESSION_SCORES, accuracy, neg_log_loss


def sklearn_permutations(n: int, n_repeats: int, seed: Any) -> np.ndarray:
    """``(n_repeats, n)`` row orders: ``X[:, j]`` in repeat r is ``X[perm[r], j]`` (scikit-learn's scheme).

    ``seed`` is an int, a ``numpy.random.RandomState``, or None (numpy's global random state).
    """
    if isinstance(seed, np.random.RandomState):
        rs = seed
    elif seed is None:
        rs = np.random.mtrand._rand
    else:
        rs = np.random.RandomState(seed)
    inner = np.random.RandomState(rs.randint(np.iinfo(np.int32).max + 1))
    shuffle = np.arange(n)
    perm = np.arange(n)
    out = np.empty((n_repeats, n), dtype=np.int64)
    for r in range(n_repeats):
        inner.shuffle(shuffle)
        perm = perm[shuffle]
        out[r] = perm
    return out


class PermutedBatch(StackedRows):
    """Lazy ``(F * R * N, F)`` batch: block ``(j, r)`` is ``X`` with column ``columns[j]`` reordered by ``perms[r]``."""

    def __init__(self, X: np.ndarray, columns: Sequence[int], perms: np.ndarray):
        self.columns, self.perms = list(columns), perms
        super().__init__(X, len(self.columns) * len(perms))

    def fill(self, piece: np.ndarray, block: int, lo: int, hi: int) -> None:
        j, r = divmod(block, len(self.perms))
        column = self.columns[j]
        piece[:, column] = self.X[self.perms[r, lo:hi], column]


def check_labels(y: Any, n: int, regression: bool, classes: Any, n_classes: int) -> np.ndarray:
    """``y`` as a 1-D array of ``n`` references: numbers (regression) or labels among the model's classes."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"y must be 1-D with one value per row of X ({n}); got shape {arr.shape}")
    if regression or classes is None:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"y must be numbers; got dtype {arr.dtype}") from exc
        if not np.all(np.isfinite(arr)):
            raise InputError("y has NaN or infinite values")
    if not regression:
        if classes is not None:
            unknown = sorted(set(arr.tolist()) - set(np.asarray(classes).tolist()))
            if unknown:
                raise InputError(f"y has labels {unknown[:10]} that are not among the model's classes "
                                 f"{np.asarray(classes).tolist()[:20]}")
        elif np.any(arr != np.round(arr)) or arr.min() < 0 or arr.max() >= n_classes:
            raise InputError(f"y must hold class indices 0..{n_classes - 1} for this classifier")
    return arr


def model_classes(model: Model) -> np.ndarray | None:
    """A scikit-learn classifier's ``classes_`` (the labels its ``y`` uses), or None."""
    classes = getattr(model.raw, "classes_", None)
    return None if classes is None else np.asarray(classes)


class Scorer:
    """The score of a block of ``model.predict`` outputs against the reference ``y`` (higher is better)."""

    def __init__(self, model: Model, output: Output, scoring: str | Callable, y: np.ndarray | None,
                 base_scores: np.ndarray):
        self.model, self.output, self.scoring = model, output, scoring
        self.regression = output.kind == "regression"
        self.classes = model_classes(model)
        if y is None:  # the model's own predictions: how much the model relies on each feature
            y = output(model, base_scores) if self.regression else self.labels(base_scores)
        self.y = y
        if not self.regression and scoring == "neg_log_loss":
            self.index = class_index(y, self.classes)

    def labels(self, scores: np.ndarray) -> np.ndarray:
        """Predicted labels: the model's classes (scikit-learn) or class indices."""
        index = np.argmax(self.model.to_probabilities(scores), axis=1)
        return self.classes[index] if self.classes is not None else index

    def __call__(self, scores: np.ndarray) -> float:
        if callable(self.scoring):
            out = self.output(self.model, scores) if self.regression else self.model.to_probabilities(scores)
            return float(self.scoring(self.y, out))
        if self.regression:
            return float(REGRESSION_SCORES[self.scoring](self.y, self.output(self.model, scores)))
        if self.scoring == "accuracy":
            return accuracy(self.y, self.labels(scores))
        return neg_log_loss(self.index, self.model.to_probabilities(scores))


def class_index(y: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """Class indices of the labels ``y`` (labels are indices already when ``classes`` is None)."""
    if classes is None:
        return y.astype(np.int64)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    return np.array([lookup[v] for v in y.tolist()], dtype=np.int64)


def permutation_importances(
    model: Model, output: Output, X: np.ndarray, y: np.ndarray | None, scoring: str | Callable, perms: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> tuple[float, np.ndarray]:
    """The baseline score and the ``(F, R)`` drops of the score with each column reordered by each of ``perms``.

    ``y`` is the checked reference (:func:`check_labels`), or None for the model's own predictions.
    """
    base = model.predict(X)
    score = Scorer(model, output, scoring, y, base)
    n, n_features = X.shape
    permuted = model.predict(PermutedBatch(X, range(n_features), perms), progress=progress)
    baseline = score(base)
    drops = np.array([score(permuted[b * n:(b + 1) * n]) for b in range(n_features * len(perms))])
    return baseline, baseline - drops.reshape(n_features, len(perms))


__all__ = ["PermutedBatch", "Scorer", "check_labels", "class_index", "model_classes", "permutation_importances",
           "sklearn_permutations"]
