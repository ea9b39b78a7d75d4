"""Where a counterfactual may go: per-feature constraints, the MAD-scaled L1 distance and the objective.

Shared by the counterfactual search (:mod:`.search`) and the :class:`~nbexplain.CounterfactualSliders`
widget (whose sliders are bounded by the same ranges and snapped by the same projection).

* **Distance** (Wachter et al. 2017): ``d(x, x') = sum_j |x'_j - x_j| / MAD_j`` over numeric features, with
  ``MAD_j`` the median absolute deviation of feature ``j`` over the training data (where it is 0: the mean
  absolute deviation around the median; where that is 0 too, 1). A categorical feature adds 1 when it changes.
* **Constraints are hard**: :meth:`FeatureSpace.project` puts immutable features back, clips to the ranges,
  rounds integer features and snaps categorical ones to their nearest category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..._validation import check_number, check_positive
from ...adapters.model import Model
from ...adapters.outputs import is_regression, resolve_target
from ...errors import InputError
from ...inputs.tables import Table, feature_index, feature_set


def mad_scale(values: np.ndarray) -> np.ndarray:
    """Median absolute deviation of each column (fallbacks: mean absolute deviation, then 1).

    Examples
    --------
    >>> mad_scale(np.array([[1.0], [2.0], [4.0], [10.0]]))
    array([1.5])
    """
    values = np.asarray(values, dtype=np.float64)
    med = np.median(values, axis=0)
    dev = np.abs(values - med)
    mad = np.median(dev, axis=0)
    mean_dev = dev.mean(axis=0)
    return np.where(mad > 0, mad, np.where(mean_dev > 0, mean_dev, 1.0))


@dataclass(frozen=True)
class FeatureSpace:
    """The constraints of a counterfactual search around ``original``.

    Attributes
    ----------
    feature_names : list of str
    original : (F,) float64 — the point being explained.
    lower, upper : (F,) float64 — allowed ranges (they always contain ``original``).
    scale : (F,) float64 — MAD of each feature over the training data (the distance's unit).
    mutable : (F,) bool — False for immutable features.
    integer : (F,) bool — values stay whole numbers.
    categorical : (F,) bool — values stay among ``categories[j]`` and a change costs 1.
    categories : list — sorted allowed values of each categorical feature, None for others.
    category_labels : list — a label per category (for display), None for others.
    """

    feature_names: list[str]
    original: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    scale: np.ndarray
    mutable: np.ndarray
    integer: np.ndarray
    categorical: np.ndarray
    categories: list[np.ndarray | None]
    category_labels: list[list[str] | None]

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def numeric(self) -> np.ndarray:
        """Mutable features that move continuously (integer ones included), as a mask."""
        return self.mutable & ~self.categorical

    @property
    def mutable_categorical(self) -> np.ndarray:
        return self.mutable & self.categorical

    def labels_by_code(self) -> dict[int, list[str] | None]:
        """{categorical feature: its category labels where its values are the codes 0..k-1 (code k reads
        ``labels[k]``), else None}: how :func:`nbexplain.anchor_tabular` (``categorical``) names categories."""
        out = {}
        for j in np.flatnonzero(self.categorical):
            labels, codes = self.category_labels[j], self.categories[j]
            coded = labels is not None and np.array_equal(codes, np.arange(len(codes)))
            out[int(j)] = list(labels) if coded else None
        return out

    def frozen(self, features: Sequence[int]) -> FeatureSpace:
        """A copy in which ``features`` (indices) are immutable too."""
        mutable = self.mutable.copy()
        mutable[list(features)] = False
        return replace(self, mutable=mutable)

    def project(self, X: np.ndarray) -> np.ndarray:
        """Make rows satisfy every constraint (in place on a float copy; returns it)."""
        X = np.array(X, dtype=np.float64, copy=True, ndmin=2)
        X[:, ~self.mutable] = self.original[~self.mutable]
        np.clip(X, self.lower, self.upper, out=X)
        if self.integer.any():
            cols = np.flatnonzero(self.integer)
            X[:, cols] = np.clip(np.round(X[:, cols]), np.ceil(self.lower[cols]), np.floor(self.upper[cols]))
        for j in np.flatnonzero(self.mutable_categorical):
            cats = self.categories[j]
            pos = np.clip(np.searchsorted(cats, X[:, j]), 1, len(cats) - 1) if len(cats) > 1 else np.zeros(len(X), int)
            if len(cats) > 1:
                left, right = cats[pos - 1], cats[pos]
                X[:, j] = np.where(np.abs(X[:, j] - left) <= np.abs(right - X[:, j]), left, right)
            else:
                X[:, j] = cats[0]
        return X

    def changed(self, X: np.ndarray) -> np.ndarray:
        """(N, F) bool: which features of each row differ from ``original``."""
        X = np.atleast_2d(X)
        return np.abs(X - self.original) > 1e-9 * np.maximum(self.scale, 1e-300)

    def distance(self, X: np.ndarray) -> np.ndarray:
        """MAD-scaled L1 distance of each row to ``original`` (a changed categorical feature counts 1)."""
        X = np.atleast_2d(X)
        delta = np.abs(X - self.original) / self.scale
        if self.categorical.any():
            delta[:, self.categorical] = self.changed(X)[:, self.categorical]
        return delta.sum(axis=1)

    def check_point(self, X: np.ndarray) -> np.ndarray:
        """(N,) bool: whether each row satisfies every constraint exactly."""
        X = np.atleast_2d(X)
        ok = np.all(X[:, ~self.mutable] == self.original[~self.mutable], axis=1)
        ok &= np.all((X >= self.lower) & (X <= self.upper), axis=1)
        if self.integer.any():
            ok &= np.all(X[:, self.integer] == np.round(X[:, self.integer]), axis=1)
        for j in np.flatnonzero(self.categorical):
            ok &= np.isin(X[:, j], self.categories[j])
        return ok


def feature_space(
    table: Table,
    x: np.ndarray,
    *,
    immutable: Any = None,
    ranges: Mapping | None = None,
    integer: Any = None,
    categorical: Any = None,
) -> FeatureSpace:
    """Validate the constraints of a counterfactual search and build a :class:`FeatureSpace`.

    Parameters
    ----------
    table : Table
        The training data (its feature names are how features are named below).
    x : (F,) float64
        The original point.
    immutable : list of features (names or indices), optional
        Features that never change.
    ranges : dict, optional
        ``{feature: (low, high)}``; either bound may be None (the training minimum / maximum). The range
        must contain the original value. Default for every feature: the training minimum and maximum
        (widened to contain the original value).
    integer : list of features, optional
        Features whose values stay whole numbers (the original value must be one).
    categorical : list of features, or dict, optional
        Features whose values are category codes. A list takes the categories from the training data; a
        dict maps a feature to its allowed values (numbers) or to labels of the codes ``0 .. k-1`` (str).
        None: no categorical features.
    """
    f = table.n_features
    names = table.feature_names
    values = table.values
    mutable = np.ones(f, dtype=bool)
    mutable[feature_set(table, immutable, "immutable")] = False
    is_int = np.zeros(f, dtype=bool)
    is_int[feature_set(table, integer, "integer")] = True
    is_cat = np.zeros(f, dtype=bool)
    categories: list[np.ndarray | None] = [None] * f
    labels: list[list[str] | None] = [None] * f
    if isinstance(categorical, Mapping):
        for key, allowed in categorical.items():
            j = feature_index(table, key, "categorical")
            is_cat[j] = True
            if allowed is None:
                continue
            allowed = list(allowed)
            if not allowed:
                raise InputError(f"categorical[{names[j]!r}] must list at least one category")
            if all(isinstance(a, str) for a in allowed):
                labels[j] = [str(a) for a in allowed]
                categories[j] = np.arange(len(allowed), dtype=np.float64)
            else:
                try:
                    cats = np.unique(np.asarray(allowed, dtype=np.float64))
                except (TypeError, ValueError) as exc:
                    raise InputError(f"categorical[{names[j]!r}] must be numbers (allowed codes) or str labels "
                                     f"of the codes 0..k-1; got {allowed[:5]}") from exc
                if not np.all(np.isfinite(cats)):
                    raise InputError(f"categorical[{names[j]!r}] has NaN or infinite categories")
                categories[j] = cats
    elif categorical is not None:
        is_cat[feature_set(table, categorical, "categorical")] = True
    for j, known in table.category_values.items():  # a DataFrame's category columns: codes with labels
        is_cat[j] = True
        if categories[j] is None:
            categories[j] = np.arange(len(known), dtype=np.float64)
            labels[j] = [str(v) for v in known]
    for j in np.flatnonzero(is_cat):
        if categories[j] is None:
            categories[j] = np.unique(values[:, j])
        if not np.any(categories[j] == x[j]):
            if labels[j] is not None or (isinstance(categorical, Mapping) and categorical.get(names[j]) is not None):
                raise InputError(f"x[{names[j]!r}]={x[j]:g} is not one of the categories of {names[j]!r}: "
                                 f"{categories[j].tolist()[:20]}")
            categories[j] = np.unique(np.append(categories[j], x[j]))
        if labels[j] is None:
            labels[j] = [f"{c:g}" for c in categories[j]]
    both = is_cat & is_int
    if both.any():
        raise InputError(f"features {[names[j] for j in np.flatnonzero(both)]} are given as both integer and "
                         "categorical; choose one")
    for j in np.flatnonzero(is_int):
        if x[j] != np.round(x[j]):
            raise InputError(f"integer feature {names[j]!r} has the non-integer original value x[{names[j]!r}]={x[j]:g}")

    lower = np.minimum(values.min(axis=0), x)
    upper = np.maximum(values.max(axis=0), x)
    if ranges is not None:
        if not isinstance(ranges, Mapping):
            raise InputError(f"ranges must be a dict {{feature: (low, high)}}; got {type(ranges).__name__}")
        for key, bounds in ranges.items():
            j = feature_index(table, key, "ranges")
            label = f"ranges[{names[j]!r}]"
            if is_cat[j]:
                raise InputError(f"{label}: {names[j]!r} is categorical; list its allowed categories in "
                                 "categorical={...} instead of a range")
            if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence | np.ndarray) or len(bounds) != 2:
                raise InputError(f"{label} must be a pair (low, high); got {bounds!r}")
            lo, hi = bounds
            lo = lower[j] if lo is None else lo
            hi = upper[j] if hi is None else hi
            try:
                lo, hi = float(lo), float(hi)
            except (TypeError, ValueError) as exc:
                raise InputError(f"{label} must hold numbers or None; got {bounds!r}") from exc
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise InputError(f"{label}={bounds!r} must be finite (use None for the training min/max)")
            if lo > hi:
                raise InputError(f"{label}=({lo:g}, {hi:g}) is empty: low must be <= high")
            if not lo <= x[j] <= hi:
                raise InputError(f"{label}=({lo:g}, {hi:g}) excludes the original value x[{names[j]!r}]={x[j]:g}")
            lower[j], upper[j] = lo, hi
    scale = mad_scale(values)
    return FeatureSpace(
        feature_names=list(names), original=np.array(x, dtype=np.float64), lower=lower, upper=upper,
        scale=scale, mutable=mutable, integer=is_int, categorical=is_cat, categories=categories,
        category_labels=labels,
    )


@dataclass(frozen=True)
class Objective:
    """What the counterfactual must reach: ``|f(x') - desired| <= epsilon``.

    ``kind`` is "probability" (f = probability of class ``target``) or "regression" (f = the model's
    single output).
    """

    kind: str
    target: int
    target_name: str
    desired: float
    epsilon: float

    def value(self, model: Model, scores: np.ndarray) -> np.ndarray:
        if self.kind == "regression":
            return scores[:, 0]
        return model.to_probabilities(scores)[:, self.target]

    def valid(self, f: np.ndarray) -> np.ndarray:
        return np.abs(np.asarray(f) - self.desired) <= self.epsilon + 1e-12

    def penalty(self, f: np.ndarray) -> np.ndarray:
        return (np.asarray(f) - self.desired) ** 2


def make_objective(
    model: Model, x: np.ndarray, target: Any, target_probability: Any, epsilon: Any
) -> tuple[Objective, np.ndarray]:
    """Validate ``target``/``target_probability``/``epsilon`` against the model; return it and ``predict(x)``.

    Classifiers: ``target`` is a class (index or name); None or "other" means the most probable class other
    than the predicted one. ``target_probability`` (y', default 1) is the desired probability of that
    class and ``epsilon`` (default 0.45) the tolerance: the defaults ask for p >= 0.55, which flips the
    decision for any number of classes. Regression models (one output): ``target`` is the desired value
    and ``epsilon`` is required.
    """

    scores = model.predict(x[None])
    if is_regression(model, scores):
        if target is None:
            raise InputError("target is required for a regression model (one output): the desired output value")
        desired = check_number(target, "target")
        if target_probability is not None:
            raise InputError("target_probability is for classifiers; for a regression model give target=value")
        if epsilon is None:
            raise InputError("epsilon is required for a regression model: the tolerance around target")
        eps = check_positive(epsilon, "epsilon")
        return Objective("regression", 0, "prediction", desired, eps), scores[0]
    probabilities = model.to_probabilities(scores)[0]
    if target is None or (isinstance(target, str) and target == "other" and "other" not in (model.class_names or [])):
        order = np.argsort(-probabilities, kind="stable")
        index = int(order[1]) if len(order) > 1 else int(order[0])
    else:
        index = resolve_target(target, probabilities, model.class_names)
    desired = 1.0 if target_probability is None else check_number(target_probability, "target_probability")
    if not 0 <= desired <= 1:
        raise InputError(f"target_probability={desired!r} is out of range: expected a probability in [0, 1]")
    eps = 0.45 if epsilon is None else check_number(epsilon, "epsilon")
    if not 0 < eps <= 1:
        raise InputError(f"epsilon={eps!r} is out of range: expected a tolerance in (0, 1]")
    return Objective("probability", index, model.class_name(index), desired, eps), scores[0]


class Problem:
    """A model, a feature space and an objective: evaluates candidate rows and counts the evaluations."""

    def __init__(self, model: Model, space: FeatureSpace, objective: Objective, check=None):
        self.model = model
        self.space = space
        self.objective = objective
        self.n_evaluations = 0
        self._check = check  # called between model calls (cancellation)
        self.f0: float | None = None  # f(x), when known

    def scores(self, X: np.ndarray) -> np.ndarray:
        if self._check is not None:
            self._check()
        self.n_evaluations += len(X)
        return self.model.predict(X)

    def value(self, X: np.ndarray) -> np.ndarray:
        """f(x') of each row."""
        return self.objective.value(self.model, self.scores(X))

    def with_space(self, space: FeatureSpace) -> Problem:
        other = Problem(self.model, space, self.objective, self._check)
        other.n_evaluations = self.n_evaluations
        other.f0 = self.f0
        return other
