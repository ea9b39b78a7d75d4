"""scikit-learn estimators as models: ``predict_proba``, else ``decision_function``, else ``predict``.

Forests get a faster path (:func:`forest_forward`) that always agrees with the estimator as it is *now*: a refit
or a ``warm_start`` growth is seen at the next call, and the fast path is used only for a fitted state whose first
batch was checked equal to the estimator's own method.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np


def is_sklearn_estimator(obj: Any) -> bool:
    """True for an object with ``fit`` and ``predict`` or ``predict_proba`` (scikit-learn's protocol)."""
    return hasattr(obj, "fit") and (hasattr(obj, "predict") or hasattr(obj, "predict_proba"))


def sklearn_forward(est) -> tuple[Callable[[np.ndarray], Any], str]:
    """``(forward, output)``: the estimator's scoring method and whether it returns probabilities or scores."""
    forest = forest_forward(est)
    if forest is not None:
        return forest
    if hasattr(est, "predict_proba"):
        return est.predict_proba, "probability"
    if hasattr(est, "decision_function"):
        def forward(batch):
            d = np.asarray(est.decision_function(batch), dtype=np.float64)
            return np.stack([-d, d], axis=1) / 2 if d.ndim == 1 else d
        return forward, "logits"
    return est.predict, "logits"


#: estimator -> (its fitted state, whether summing its trees gave exactly its own prediction in that state)
_CHECKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fitted_state(est) -> tuple[int, int]:
    """What identifies a forest's fitted trees: the tree list (a refit makes a new one) and its length
    (``warm_start`` grows the same list)."""
    trees = getattr(est, "estimators_", None) or []
    return id(trees), len(trees)


def forest_forward(est):
    """A fitted single-output random forest or extra-trees model, predicted tree by tree in this thread.

    scikit-learn's forests send every call through joblib and each tree's own checks, ~30 µs per tree
    whatever the batch: 3 ms for one row of a 100-tree forest whose trees take 0.2 ms. Explanations make
    many small calls (counterfactual search rounds, slider drags), so for forests left at ``n_jobs=None``
    or ``1`` this sums the trees' ``tree_.predict`` on the float32 input in order and divides by their
    number, as ``predict_proba``/``predict`` do. The trees are read from the estimator at every call, so a
    refit or a ``warm_start`` growth is used at once. The first batch of each fitted state is also sent to the
    estimator's own method, and its numbers are returned; the fast path is used for that state only if both
    agree exactly. Anything unusual (other n_jobs, several outputs, an overridden method, a wrong width,
    NaN) goes to the estimator's own method.
    """
    try:
        from sklearn.ensemble import (
            ExtraTreesClassifier,
            ExtraTreesRegressor,
            RandomForestClassifier,
            RandomForestRegressor,
        )
    except ImportError:  # pragma: no cover - an estimator implies scikit-learn
        return None
    # both kinds of forest share one prediction method; a subclass that overrides it keeps its own
    classifier = (isinstance(est, (RandomForestClassifier, ExtraTreesClassifier))
                  and type(est).predict_proba is RandomForestClassifier.predict_proba)
    regressor = (isinstance(est, (RandomForestRegressor, ExtraTreesRegressor))
                 and type(est).predict is RandomForestRegressor.predict)
    if not (classifier or regressor) or getattr(est, "n_jobs", None) not in (None, 1) \
            or not getattr(est, "estimators_", None) or getattr(est, "n_outputs_", 1) != 1:
        return None

    def method(batch):
        return est.predict_proba(batch) if classifier else est.predict(batch)

    def summed(X: np.ndarray) -> np.ndarray:
        trees = [tree.tree_ for tree in est.estimators_]
        width = 1 if regressor else len(est.classes_)
        out = trees[0].predict(X)[:, :width].astype(np.float64)
        for tree in trees[1:]:
            out += tree.predict(X)[:, :width]
        return out / len(trees)

    def forward(batch):
        X = np.asarray(batch)
        if getattr(est, "n_jobs", None) not in (None, 1) or not getattr(est, "estimators_", None) \
                or getattr(est, "n_outputs_", 1) != 1 or X.ndim != 2 \
                or X.shape[1] != getattr(est, "n_features_in_", X.shape[1]) \
                or not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
            return method(batch)  # scikit-learn's own checks and errors
        state = fitted_state(est)
        checked = _CHECKED.get(est)
        if checked is not None and checked[0] == state:
            return summed(np.ascontiguousarray(X, dtype=np.float32)) if checked[1] else method(batch)
        own = np.asarray(method(batch), dtype=np.float64)  # a new fitted state: check it once, answer truly
        fast = summed(np.ascontiguousarray(X, dtype=np.float32))
        agrees = own.size == fast.size and np.array_equal(fast, own.reshape(fast.shape))
        _CHECKED[est] = (state, bool(agrees))
        return own

    return forward, "probability" if classifier else "logits"


__all__ = ["fitted_state", "forest_forward", "is_sklearn_estimator", "sklearn_forward"]
