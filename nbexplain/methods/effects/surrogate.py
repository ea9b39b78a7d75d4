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

import numpy as np

from ...errors import InputError


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the sklearn extra is installed in development
        raise ImportError("global surrogates need scikit-learn: pip install 'nbexplain[sklearn]'") from exc


def fit_tree(X: np.ndarray, y: np.ndarray, classification: bool, max_depth: int, random_state=0):
    """A CART tree of depth at most ``max_depth`` fitted to ``y`` (classes when ``classification``)."""
    _sklearn()
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if classification else DecisionTreeRegressor
    return cls(max_depth=max_depth, random_state=random_state).fit(X, y)


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


def check_kind(kind: str) -> str:
    if kind not in ("tree", "linear"):
        raise InputError(f"kind={kind!r} is not valid: expected 'tree' (a shallow decision tree) or 'linear' (sparse linear)")
    return kind
