"""Global surrogate models (model distillation; Craven & Shavlik 1996): an interpretable model fitted
to the black box's predictions, with its fidelity to them.

* ``tree``: a shallow CART tree (scikit-learn), a regressor on the black box's output or a classifier
  on its predicted classes;
* ``linear``: a sparse linear model: the lasso path (LARS) on standardised features, stopped at the
  last point with at most ``n_terms`` non-zero coefficients, then refitted by least squares on those
  features (the "relaxed lasso"), so the coefficients are not shrunk and read in the features' units.

scikit-learn is imported here only (it is an optional dependency of nbexplain).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...adapters.model import Model
from ...adapters.outputs import Output
from ...errors import InputError
from .scores import accuracy, r2


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the sklearn extra is installed in development
        raise ImportError("global surrogates need scikit-learn: pip install 'nbexplain[sklearn]'") from exc


def fit_tree(X: np.ndarray, y: np.ndarray, classification: bool, max_depth: int, seed: int | None = 0):
    """A CART tree of depth at most ``max_depth`` fitted to ``y`` (classes when ``classification``)."""
    _sklearn()
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if classification else DecisionTreeRegressor
    return cls(max_depth=max_depth, random_state=seed).fit(X, y)


class SparseLinear:
    """A least-squares fit on the features the lasso path selects first (at most ``n_terms``)."""

    def __init__(self, n_terms: int):
        self.n_terms = n_terms

    def fit(self, X: np.ndarray, y: np.ndarray) -> SparseLinear:
        _sklearn()
        from sklearn.linear_model import lars_path

        scale = X.std(axis=0)
        usable = scale > 0
        Z = np.zeros_like(X)
        Z[:, usable] = (X[:, usable] - X[:, usable].mean(axis=0)) / scale[usable]
        _, _, coefs = lars_path(Z, y - y.mean(), method="lasso", max_iter=8 * X.shape[1] + 20)
        active = np.zeros(X.shape[1], dtype=bool)
        for step in range(coefs.shape[1]):
            nonzero = coefs[:, step] != 0
            if nonzero.sum() > self.n_terms:
                break
            active = nonzero
        self.support_ = np.flatnonzero(active)
        self.coef_ = np.zeros(X.shape[1])
        if len(self.support_):
            A = np.column_stack([X[:, self.support_], np.ones(len(X))])
            solution, *_ = np.linalg.lstsq(A, y, rcond=None)
            self.coef_[self.support_] = solution[:-1]
            self.intercept_ = float(solution[-1])
        else:
            self.intercept_ = float(np.mean(y))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef_ + self.intercept_


def check_kind(kind: Any) -> str:
    """``kind`` of surrogate: "tree" or "linear"."""
    if kind not in ("tree", "linear"):
        raise InputError(f"kind={kind!r} is not valid: expected 'tree' (a shallow decision tree) or 'linear' (sparse linear)")
    return kind


def black_box(model: Model, output: Output, X: np.ndarray, classify: bool,
              progress: Callable[[float], None] | None = None) -> np.ndarray:
    """What the surrogate learns: the model's predicted class (``classify``), else its output per row."""
    scores = model.predict(X, progress=progress)
    if classify:
        return np.argmax(model.to_probabilities(scores), axis=1)
    return output(model, scores)


def fit(kind: str, X: np.ndarray, y: np.ndarray, classify: bool, max_depth: int, n_terms: int,
        seed: int | None = 0):
    """The surrogate of ``kind`` fitted to the black box's ``y`` (classes when ``classify``)."""
    if kind == "tree":
        return fit_tree(X, y, classify, max_depth, seed)
    return SparseLinear(n_terms).fit(X, y)


def fidelity(surrogate: Any, X: np.ndarray, reference: np.ndarray, classify: bool) -> float:
    """Agreement (``classify``: the fraction of equal classes) or R² of the surrogate with the black box."""
    predicted = surrogate.predict(X)
    return accuracy(reference, predicted) if classify else r2(reference, predicted)


def tree_text(tree: Any, feature_names: Sequence[str]) -> str:
    """A fitted scikit-learn tree as indented text (scikit-learn's ``export_text``, 3 decimals)."""
    _sklearn()
    from sklearn.tree import export_text

    return export_text(tree, feature_names=list(feature_names), decimals=3)


def tree_rules(tree: Any, feature_names: Sequence[str]) -> list[tuple[str, int, int]]:
    """One ``(rule, leaf, rows)`` per leaf of a fitted scikit-learn tree, left to right.

    ``rule`` joins the conditions on the path with "and" ("hr <= 6.5 and temp > 12.3"); ``leaf`` is the
    node index (its value is ``tree.tree_.value[leaf]``); ``rows`` the training rows that reach it.
    """
    t = tree.tree_
    leaves: list[tuple[str, int, int]] = []
    stack: list[tuple[int, list[str]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            leaves.append((" and ".join(path) or "(every row)", int(node), int(t.n_node_samples[node])))
            continue
        name, threshold = feature_names[t.feature[node]], float(t.threshold[node])
        stack.append((right, [*path, f"{name} > {threshold:.4g}"]))
        stack.append((left, [*path, f"{name} <= {threshold:.4g}"]))
    return leaves


__all__ = ["SparseLinear", "black_box", "check_kind", "fidelity", "fit", "fit_tree", "tree_rules", "tree_text"]
