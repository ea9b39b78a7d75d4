"""Feature effects and global views of a tabular model: PDP, ICE (plain, centred, derivative), ALE (1-D and
2-D), permutation importance and global surrogates.

Each function validates its input (:func:`nbexplain.tabular.as_table`), turns the model into one number per
row (the regression output, or the probability of ``target`` for classifiers), predicts everything it
needs as one lazy batch (the model runs once per chunk of rows, never once per grid value), and returns a
result dataclass of numpy arrays with ``.plot(ax=None)`` and ``.widget()``.

Techniques (papers): partial dependence, Friedman (2001) *Greedy function approximation*; ICE, c-ICE
and d-ICE, Goldstein, Kapelner, Bleich & Pitkin (2015) *Peeking inside the black box*; accumulated local
effects, Apley & Zhu (2020) *Visualizing the effects of predictor variables in black box supervised
learning models*; permutation importance, Breiman (2001) and Fisher, Rudin & Dominici (2019); global
surrogates, Craven & Shavlik (1996).

Examples
--------
>>> pd = nbx.partial_dependence(model, X, "temp", feature_names=names)
>>> ice = nbx.ice(model, X, "temp", kind="centred")
>>> ale = nbx.ale(model, X, "temp")
>>> imp = nbx.permutation_importance(model, X, y)
>>> sur = nbx.global_surrogate(model, X, kind="tree", max_depth=3)
>>> sur.fidelity
0.93
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._validation import check_int
from ..adapters.outputs import tabular_output
from ..errors import InputError
from ..inputs.tables import (
    Table,
    as_table,
    feature_indices,
    sample_rows,
    tabular_model,
)
from ..methods.effects import ale as _ale
from ..methods.effects import importance as _imp
from ..methods.effects import pdp as _pdp
from ..methods.effects import surrogate as _sur
from ..plotting.figure import ShownAsPNG

Progress = Callable[[float], None] | None

ICE_KINDS = ("plain", "centred", "derivative")
_KIND_ALIASES = {"plain": "plain", "centred": "centred", "centered": "centred", "c-ice": "centred",
                 "derivative": "derivative", "d-ice": "derivative"}


# =================================================================================================
# results
# =================================================================================================
@dataclass
class PartialDependence(ShownAsPNG):
    """Partial dependence of the model output on one feature or a pair.

    Attributes
    ----------
    features : list of str — the feature(s), one or two names.
    grid : list of arrays — the grid of each feature.
    average : (G,) or (G1, G2) float — the mean output over rows at each grid point.
    individual : (N, G) float or None — the ICE table (one feature only).
    values : (N, k) float — the data of the feature(s), for the rug.
    categorical : list of bool — per feature.
    output_label : str — what the output is ("prediction", "P(class)").
    """

    _png_figsize = (5, 3.6)

    features: list[str]
    grid: list[np.ndarray]
    average: np.ndarray
    individual: np.ndarray | None
    values: np.ndarray
    categorical: list[bool]
    output_label: str = "prediction"
    target: int = 0

    def plot(self, ax=None, *, ice_lines: int = 100):
        """PD curve (bars for a categorical feature; a heatmap for a pair) with a rug of the data."""
        from ..plotting.effects import plot_partial_dependence

        return plot_partial_dependence(self, ax=ax, ice_lines=ice_lines)

    def widget(self, model: Any = None, X: Any = None, **kwargs: Any):
        """A :class:`~nbexplain.FeatureEffects` showing this result (live when ``model`` and ``X`` are given)."""
        from ..widgets.effects import FeatureEffects

        return FeatureEffects.from_result(self, model=model, X=X, **kwargs)


@dataclass
class ICE(ShownAsPNG):
    """Individual conditional expectation curves of one feature: plain, centred (c-ICE) or derivative (d-ICE).

    Attributes
    ----------
    feature : str; grid : (G,) — the grid values; rows : (N,) — row indices of ``X`` used.
    predictions : (N, G) — f(x_i with feature := grid[g]): the plain ICE table.
    curves : (N, G) — what ``kind`` shows: the predictions, minus each row's value at ``anchor``
        (centred), or their derivative along the grid (``numpy.gradient``: central differences inside,
        one-sided at the ends).
    kind : "plain", "centred" or "derivative"; anchor : float — the c-ICE anchor (a grid value).
    x : (N,) — each row's own value of the feature; values : (N_all,) — the whole column, for the rug.
    """

    _png_figsize = (5, 3.6)

    feature: str
    grid: np.ndarray
    predictions: np.ndarray
    curves: np.ndarray
    kind: str
    anchor: float
    rows: np.ndarray
    x: np.ndarray
    values: np.ndarray
    categorical: bool = False
    output_label: str = "prediction"
    target: int = 0

    @property
    def pdp(self) -> np.ndarray:
        """The mean of ``curves`` over rows (for plain ICE: the partial dependence)."""
        return self.curves.mean(axis=0)

    @property
    def spread(self) -> np.ndarray:
        """Standard deviation of ``curves`` over rows at each grid point (for d-ICE: Goldstein's
        heterogeneity signal; non-zero where the feature interacts with others)."""
        return self.curves.std(axis=0)

    def with_kind(self, kind: str, anchor: float | None = None) -> ICE:
        """The same table seen as another kind (no new predictions; ``anchor`` must be a grid value)."""
        kind = _check_kind(kind)
        anchor_value = self.grid[0] if anchor is None else anchor
        if anchor is not None:
            _anchor_position(self.grid, anchor)
        curves = _ice_curves(self.predictions, self.grid, kind, anchor_value, self.categorical, self.feature)
        return replace(self, curves=curves, kind=kind, anchor=float(anchor_value))

    def plot(self, ax=None, *, max_lines: int = 200):
        """ICE lines (a sample of at most ``max_lines``), their mean, and a rug of the data."""
        from ..plotting.effects import plot_ice

        return plot_ice(self, ax=ax, max_lines=max_lines)

    def widget(self, model: Any = None, X: Any = None, **kwargs: Any):
        from ..widgets.effects import FeatureEffects

        return FeatureEffects.from_result(self, model=model, X=X, **kwargs)


@dataclass
class ALE(ShownAsPNG):
    """Accumulated local effects of one feature (first order) or a pair (second order: the interaction only).

    Attributes
    ----------
    features : list of str.
    edges : list of arrays — bin edges per feature (the levels of a categorical feature).
    effect : (K+1,) or (K1+1, K2+1) — the centred effect at the edges (a piecewise-linear curve or
        surface; for a categorical feature one value per level).
    counts : (K,) or (K1, K2) int — rows per bin / cell (per level for a categorical feature).
    values : (N, k) — the data of the feature(s), for the rug.
    """

    _png_figsize = (5, 3.6)

    features: list[str]
    edges: list[np.ndarray]
    effect: np.ndarray
    counts: np.ndarray
    values: np.ndarray
    categorical: bool = False
    output_label: str = "prediction"
    target: int = 0

    @property
    def order(self) -> int:
        return len(self.features)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The first-order effect at ``x``, interpolated linearly between edges."""
        if self.order != 1:
            raise InputError("evaluating at points is for first-order ALE; index .effect for a pair")
        return np.interp(np.asarray(x, dtype=np.float64), self.edges[0], self.effect)

    def plot(self, ax=None):
        """The ALE curve (bars for a categorical feature; a heatmap for a pair) with a rug of the data."""
        from ..plotting.effects import plot_ale

        return plot_ale(self, ax=ax)

    def widget(self, model: Any = None, X: Any = None, **kwargs: Any):
        from ..widgets.effects import FeatureEffects

        return FeatureEffects.from_result(self, model=model, X=X, **kwargs)


@dataclass
class PermutationImportance(ShownAsPNG):
    """Drop of a score when each feature is shuffled, per repeat.

    Attributes
    ----------
    feature_names : list of str; importances : (F, R) — baseline score minus the score with the
    feature permuted, per repeat; baseline : float; scoring : str; against : "labels" (the given
    ``y``) or "model" (the model's own predictions: how much the model relies on each feature).
    """

    feature_names: list[str]
    importances: np.ndarray
    baseline: float
    scoring: str
    against: str = "labels"

    @property
    def mean(self) -> np.ndarray:
        return self.importances.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        return self.importances.std(axis=1)

    @property
    def ranking(self) -> list[str]:
        """Feature names, most important first."""
        return [self.feature_names[i] for i in np.argsort(-self.mean, kind="stable")]

    def plot(self, ax=None):
        """Horizontal bars of the mean importance with the spread (±1 sd) over repeats."""
        from ..plotting.effects import plot_importance

        return plot_importance(self, ax=ax)

    def widget(self, model: Any = None, X: Any = None, **kwargs: Any):
        from ..widgets.effects import FeatureEffects

        return FeatureEffects.from_result(self, model=model, X=X, **kwargs)

    def _png_size(self) -> tuple[float, float]:
        return (5, 0.9 + 0.28 * len(self.feature_names))


@dataclass
class GlobalSurrogate(ShownAsPNG):
    """An interpretable model fitted to the black box's predictions, with its fidelity.

    Attributes
    ----------
    kind : "tree" or "linear"; model : the fitted surrogate (scikit-learn tree or
    :class:`~nbexplain.methods.surrogate_global.SparseLinear`); fidelity : R² of the surrogate to
    the black-box output (regression, or a linear surrogate of a class probability) or the agreement
    (fraction of rows with the same predicted class, tree surrogate of a classifier);
    fidelity_name : "R2" or "agreement"; test_fidelity : the same on ``X_test``, or None.
    """

    _png_figsize = (7, 4.5)

    kind: str
    model: Any
    feature_names: list[str]
    fidelity: float
    fidelity_name: str
    test_fidelity: float | None = None
    output_label: str = "prediction"
    class_names: list[str] | None = None
    coefficients: np.ndarray | None = None
    intercept: float | None = None

    @property
    def rules(self) -> str:
        """The surrogate as text: the tree's rules, or the linear formula."""
        if self.kind == "tree":
            from sklearn.tree import export_text

            return export_text(self.model, feature_names=list(self.feature_names), decimals=3)
        terms = [f"{c:+.4g} * {n}" for c, n in zip(self.coefficients, self.feature_names, strict=True) if c != 0]
        return f"{self.output_label} ≈ {self.intercept:.4g} " + " ".join(terms)

    def terms(self) -> list[tuple[str, float]]:
        """Non-zero (feature, coefficient) pairs of a linear surrogate, largest magnitude first."""
        if self.coefficients is None:
            return []
        order = np.argsort(-np.abs(self.coefficients), kind="stable")
        return [(self.feature_names[i], float(self.coefficients[i])) for i in order if self.coefficients[i] != 0]

    def plot(self, ax=None):
        """The tree (scikit-learn's ``plot_tree``) or the linear coefficients, titled with the fidelity."""
        from ..plotting.effects import plot_surrogate

        return plot_surrogate(self, ax=ax)

    def widget(self, model: Any = None, X: Any = None, **kwargs: Any):
        from ..widgets.effects import FeatureEffects

        return FeatureEffects.from_result(self, model=model, X=X, **kwargs)


# =================================================================================================
# validation helpers
# =================================================================================================
def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind.lower() not in _KIND_ALIASES:
        raise InputError(f"kind={kind!r} is not valid: expected one of {list(ICE_KINDS)}")
    return _KIND_ALIASES[kind.lower()]


def _check_percentiles(percentiles: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(p) for p in percentiles)
    except (TypeError, ValueError) as exc:
        raise InputError(f"percentiles must be a pair of numbers in [0, 1]; got {percentiles!r}") from exc
    if not (0 <= lo < hi <= 1):
        raise InputError(f"percentiles must satisfy 0 <= low < high <= 1; got {percentiles!r}")
    return lo, hi


def _check_grid(grid: Any, name: str, feature: str) -> np.ndarray:
    try:
        arr = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} for {feature!r} must be a 1-D array of numbers; got {type(grid).__name__}") from exc
    if arr.ndim != 1 or len(arr) < 1:
        raise InputError(f"{name} for {feature!r} must be a non-empty 1-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} for {feature!r} has NaN or infinite values")
    return arr


def _anchor_position(grid: np.ndarray, anchor: float) -> int:
    hits = np.flatnonzero(np.isclose(grid, anchor, rtol=1e-12, atol=1e-12))
    if not len(hits):
        raise InputError(f"anchor={anchor!r} is not a grid value; grid runs {grid[0]:g} … {grid[-1]:g}")
    return int(hits[0])


def _ice_curves(predictions: np.ndarray, grid: np.ndarray, kind: str, anchor: float, categorical: bool,
                feature: str) -> np.ndarray:
    if kind == "plain":
        return predictions.copy()
    if kind == "centred":
        return predictions - predictions[:, [_anchor_position(grid, anchor)]]
    if categorical:
        raise InputError(f"kind='derivative' needs a numeric feature; {feature!r} is categorical")
    if len(grid) < 2:
        raise InputError(f"kind='derivative' needs a grid of at least 2 values for {feature!r}")
    return np.gradient(predictions, grid, axis=1)


@dataclass
class _Setup:
    table: Table
    model: Any
    output: Any
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def _setup(model: Any, X: Any, feature_names, categorical, target, max_rows=None, random_state=0) -> _Setup:
    table = X if isinstance(X, Table) and feature_names is None and categorical is None else \
        as_table(X, feature_names, categorical=categorical)
    m = tabular_model(model, table)
    output = tabular_output(m, table, target)
    if max_rows is not None:
        check_int(max_rows, "max_rows", 1)
    return _Setup(table, m, output, sample_rows(table.n_rows, max_rows, random_state))


def _grids(setup: _Setup, cols: list[int], grid, grid_resolution, percentiles) -> list[np.ndarray]:
    t = setup.table
    if grid is None:
        check_int(grid_resolution, "grid_resolution", 2)
        percentiles = _check_percentiles(percentiles)
        return [_pdp.default_grid(t.values[:, c], categorical=bool(t.categorical[c]), grid_resolution=grid_resolution,
                                  percentiles=percentiles, name=t.feature_names[c]) for c in cols]
    grids = [grid] if len(cols) == 1 else list(grid) if isinstance(grid, Sequence) or (
        isinstance(grid, np.ndarray) and grid.dtype == object) else None
    if grids is None or len(grids) != len(cols) or (len(cols) > 1 and any(np.ndim(g) != 1 for g in grids)):
        raise InputError(f"grid must be one 1-D array per feature ({len(cols)}); got {type(grid).__name__}")
    return [_check_grid(g, "grid", t.feature_names[c]) for g, c in zip(grids, cols, strict=True)]


# =================================================================================================
# public functions
# =================================================================================================
def partial_dependence(
    model: Any,
    X: Any,
    features: int | str | Sequence[int | str],
    *,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    categorical: Any = None,
    grid_resolution: int = 50,
    percentiles: tuple[float, float] = (0.05, 0.95),
    grid: Any = None,
    max_rows: int | None = None,
    random_state: int = 0,
    progress: Progress = None,
) -> PartialDependence:
    """Partial dependence of the model output on one feature or a pair (Friedman 2001).

    The average over the rows of ``X`` of f(x with the feature(s) set to each grid value), computed
    from the ICE table predicted as one lazy batch (``n_grid * n_rows`` rows, in the model's batches).
    With the same grid, equals scikit-learn's ``partial_dependence(..., method="brute")``.

    Parameters
    ----------
    model : estimator, torch module, callable or Model
        Regression (one output: column 0 of ``predict``) or a classifier (probability of ``target``).
    X : (N, F) array or DataFrame
        The rows to average over.
    features : int, str, or a pair of them
        One feature (a curve) or two (a surface).
    target : int, str or None
        The class for classifiers (None: the positive class of a binary model; see
        :func:`nbexplain.tabular.tabular_output`). Must be None for regressions.
    feature_names, categorical
        As for :func:`nbexplain.as_table`. Categorical features use their levels as the grid.
    grid_resolution, percentiles
        The default grid: ``grid_resolution`` evenly spaced values between the ``percentiles`` of the
        feature, or its distinct values when fewer (as scikit-learn).
    grid : 1-D array, or one per feature
        An explicit grid instead.
    max_rows : int, optional
        Average over a random sample of this many rows (``random_state``) instead of all.
    progress : callable, optional
        Called with the fraction done.

    Examples
    --------
    >>> pd = nbx.partial_dependence(gbr, X, "temp", feature_names=names)
    >>> pd.grid[0].shape, pd.average.shape
    ((50,), (50,))
    >>> nbx.partial_dependence(gbr, X, ["temp", "hum"], grid_resolution=20).average.shape
    (20, 20)
    """
    s = _setup(model, X, feature_names, categorical, target, max_rows, random_state)
    cols = feature_indices(s.table, features, "features", max_count=2)
    grids = _grids(s, cols, grid, grid_resolution, percentiles)
    Xs = s.table.values[s.rows]
    table = _pdp.ice_table(s.model, s.output, Xs, cols, _pdp.grid_points(grids), progress)
    average = table.mean(axis=0).reshape([len(g) for g in grids])
    return PartialDependence(
        features=[s.table.feature_names[c] for c in cols], grid=grids, average=average,
        individual=table if len(cols) == 1 else None, values=s.table.values[:, cols].copy(),
        categorical=[bool(s.table.categorical[c]) for c in cols], output_label=s.output.label,
        target=s.output.target,
    )


def ice(
    model: Any,
    X: Any,
    feature: int | str,
    *,
    kind: str = "plain",
    anchor: float | None = None,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    categorical: Any = None,
    grid_resolution: int = 50,
    percentiles: tuple[float, float] = (0.05, 0.95),
    grid: Any = None,
    max_rows: int | None = None,
    random_state: int = 0,
    progress: Progress = None,
) -> ICE:
    """Individual conditional expectation curves: plain, centred (c-ICE) or derivative (d-ICE).

    Goldstein et al. (2015): one curve per row, f(x_i with the feature set to each grid value). c-ICE
    subtracts each curve's value at ``anchor`` (default the grid's minimum; another value is added to
    the grid) so that differences in shape stand out; d-ICE is the derivative along the grid
    (``numpy.gradient``), whose spread over rows reveals interactions. Plain ICE equals scikit-learn's
    ``partial_dependence(..., kind="individual")`` on the same grid.

    Parameters
    ----------
    kind : {"plain", "centred", "derivative"}
        ("centered", "c-ice" and "d-ice" are accepted too.)
    anchor : float, optional
        The c-ICE anchor.
    Other parameters as for :func:`partial_dependence` (one feature).

    Examples
    --------
    >>> c = nbx.ice(gbr, X, "temp", kind="centred", feature_names=names)
    >>> c.curves[:, 0]            # every curve starts at 0
    >>> d = c.with_kind("derivative")   # same predictions, no new model calls
    """
    kind = _check_kind(kind)
    s = _setup(model, X, feature_names, categorical, target, max_rows, random_state)
    (col,) = feature_indices(s.table, feature, "feature", max_count=1)
    (g,) = _grids(s, [col], grid, grid_resolution, percentiles)
    name = s.table.feature_names[col]
    if anchor is not None:
        try:
            anchor = float(anchor)
        except (TypeError, ValueError) as exc:
            raise InputError(f"anchor must be a number (a value of {name!r}); got {anchor!r}") from exc
        if not np.isfinite(anchor):
            raise InputError(f"anchor must be finite; got {anchor!r}")
        if s.table.categorical[col] and anchor not in set(g.tolist()):
            raise InputError(f"anchor={anchor!r} is not a level of the categorical feature {name!r}: {g.tolist()[:20]}")
        if not np.isclose(g, anchor, rtol=1e-12, atol=1e-12).any():
            g = np.sort(np.append(g, anchor))
    anchor_value = g[0] if anchor is None else g[_anchor_position(g, anchor)]
    Xs = s.table.values[s.rows]
    predictions = _pdp.ice_table(s.model, s.output, Xs, [col], g[:, None], progress)
    categorical_feature = bool(s.table.categorical[col])
    curves = _ice_curves(predictions, g, kind, anchor_value, categorical_feature, name)
    return ICE(feature=name, grid=g, predictions=predictions, curves=curves, kind=kind, anchor=float(anchor_value),
               rows=s.rows, x=Xs[:, col].copy(), values=s.table.values[:, col].copy(),
               categorical=categorical_feature, output_label=s.output.label, target=s.output.target)


def ale(
    model: Any,
    X: Any,
    features: int | str | Sequence[int | str],
    *,
    bins: int | None = None,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    categorical: Any = None,
    progress: Progress = None,
) -> ALE:
    """Accumulated local effects of one feature, or the second-order (interaction) ALE of a pair.

    Apley & Zhu (2020): the average *change* of the output across small bins of the feature, over the
    rows that actually fall in each bin, accumulated. Unlike partial dependence it never evaluates the
    model far from the data, so it stays faithful when features are correlated. Estimator as the
    authors' ``ALEPlot`` (see :mod:`nbexplain.methods.ale`): quantile bins, the curve centred to mean
    0 over the data; a pair gives the interaction only (both first-order effects removed).
    Categorical features take one step per pair of neighbouring levels (in the order of their codes).

    Parameters
    ----------
    features : int, str, or a pair of them
    bins : int, optional
        Number of quantile bins (fewer when the feature has repeated values); default 20 for one
        feature, 10 per axis for a pair.
    Other parameters as for :func:`partial_dependence`.

    Examples
    --------
    >>> a = nbx.ale(gbr, X, "temp", feature_names=names)
    >>> a.edges[0].shape, a.effect.shape
    ((21,), (21,))
    >>> nbx.ale(gbr, X, ["temp", "hum"]).effect.shape
    (11, 11)
    """
    s = _setup(model, X, feature_names, categorical, target)
    cols = feature_indices(s.table, features, "features", max_count=2)
    bins = check_int(20 if bins is None and len(cols) == 1 else 10 if bins is None else bins, "bins", 1)
    t = s.table
    names = [t.feature_names[c] for c in cols]
    common = dict(features=names, values=t.values[:, cols].copy(), output_label=s.output.label, target=s.output.target)
    if len(cols) == 1:
        col = cols[0]
        if t.categorical[col]:
            levels = np.unique(t.values[:, col])
            if len(levels) < 2:
                raise InputError(f"{names[0]!r} has a single level ({levels[0]:g}): it has no accumulated local effect")
            effect, counts = _ale.ale_categorical(s.model, s.output, t.values, col, levels, progress)
            return ALE(edges=[levels], effect=effect, counts=counts, categorical=True, **common)
        edges = _ale.quantile_edges(t.values[:, col], bins, names[0])
        effect, counts = _ale.ale_1d(s.model, s.output, t.values, col, edges, progress)
        return ALE(edges=[edges], effect=effect, counts=counts, **common)
    cat = [n for n, c in zip(names, cols, strict=True) if t.categorical[c]]
    if cat:
        raise InputError(f"second-order ALE needs numeric features; {cat} categorical (pass categorical=[] to treat them as numbers)")
    edges = [_ale.quantile_edges(t.values[:, c], bins, n) for c, n in zip(cols, names, strict=True)]
    effect, counts = _ale.ale_2d(s.model, s.output, t.values, cols, edges, progress)
    return ALE(edges=edges, effect=effect, counts=counts, **common)


def permutation_importance(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    scoring: str | Callable | None = None,
    n_repeats: int = 5,
    random_state: Any = 0,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    progress: Progress = None,
) -> PermutationImportance:
    """Permutation feature importance: how much a score drops when one feature's values are shuffled.

    Breiman (2001); as model reliance, Fisher, Rudin & Dominici (2019). Each feature is shuffled
    ``n_repeats`` times; every shuffled copy is predicted in one lazy batch. The permutations are drawn
    as scikit-learn draws them, so the numbers equal ``sklearn.inspection.permutation_importance`` for
    the same integer ``random_state`` and scoring.

    Parameters
    ----------
    y : (N,) array, optional
        The true outputs (regression) or class labels (classifiers: the model's class indices, or
        labels of a scikit-learn classifier's ``classes_``). Without ``y`` the model's own predictions
        are the reference: the importance measures how much the *model* relies on each feature.
    scoring : str or callable, optional
        Regression: "r2" (default), "neg_mean_squared_error", "neg_mean_absolute_error". Classifiers:
        "accuracy" (default), "neg_log_loss". A callable ``(y, output) -> float`` (higher is better)
        gets the regression output, or the (N, n_classes) probabilities of a classifier.
    n_repeats : int
        Shuffles per feature; ``importances`` has one column per repeat (their spread is the ``std``).

    Examples
    --------
    >>> imp = nbx.permutation_importance(gbr, X, y, n_repeats=5, feature_names=names)
    >>> imp.ranking[:3]
    ['hr', 'temp', 'workingday']
    """
    n_repeats = check_int(n_repeats, "n_repeats", 1)
    s = _setup(model, X, feature_names, None, target)
    regression = s.output.kind == "regression"
    scoring = _imp.check_scoring(scoring, regression)
    t = s.table
    base_scores = s.model.predict(t.values)
    classes = getattr(s.model.raw, "classes_", None)
    against = "labels"
    if y is None:
        against = "model"
        y_ref = s.output(s.model, base_scores) if regression else _labels(s, base_scores, classes)
    else:
        y_ref = _check_y(y, t.n_rows, regression, scoring, classes, s.output.n_classes)
    perms = _imp.sklearn_permutations(t.n_rows, n_repeats, random_state)
    batch = _imp.PermutedBatch(t.values, range(t.n_features), perms)
    scores = s.model.predict(batch, progress=progress)

    def score(block: np.ndarray) -> float:
        if callable(scoring):
            out = s.output(s.model, block) if regression else s.model.to_probabilities(block)
            return float(scoring(y_ref, out))
        if regression:
            return float(_imp.REGRESSION_SCORES[scoring](y_ref, s.output(s.model, block)))
        if scoring == "accuracy":
            return _imp._accuracy(y_ref, _labels(s, block, classes))
        index = _class_index(y_ref, classes)
        return _imp._neg_log_loss(index, s.model.to_probabilities(block))

    n = t.n_rows
    baseline = score(base_scores)
    permuted = np.array([score(scores[b * n:(b + 1) * n]) for b in range(t.n_features * n_repeats)])
    importances = baseline - permuted.reshape(t.n_features, n_repeats)
    return PermutationImportance(feature_names=list(t.feature_names), importances=importances, baseline=baseline,
                                 scoring=scoring if isinstance(scoring, str) else getattr(scoring, "__name__", "custom"),
                                 against=against)


def _labels(s: _Setup, scores: np.ndarray, classes) -> np.ndarray:
    index = np.argmax(s.model.to_probabilities(scores), axis=1)
    return np.asarray(classes)[index] if classes is not None else index


def _class_index(y: np.ndarray, classes) -> np.ndarray:
    if classes is None:
        return y.astype(np.int64)
    lookup = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
    return np.array([lookup[v] for v in y.tolist()], dtype=np.int64)


def _check_y(y: Any, n: int, regression: bool, scoring, classes, n_classes: int) -> np.ndarray:
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


def global_surrogate(
    model: Any,
    X: Any,
    *,
    kind: str = "tree",
    max_depth: int = 3,
    n_terms: int = 5,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    X_test: Any = None,
    random_state: int = 0,
    progress: Progress = None,
) -> GlobalSurrogate:
    """Fit an interpretable model to the black box's predictions and report its fidelity.

    Global surrogate / model distillation (Craven & Shavlik 1996; the survey's "global surrogate"):
    the surrogate explains the *model*, not the data, so its quality is its fidelity to the model's
    predictions: R² (regression output, or the probability of ``target`` for a linear surrogate of a
    classifier) or agreement (the fraction of rows where a tree surrogate of a classifier predicts the
    same class).

    Parameters
    ----------
    kind : {"tree", "linear"}
        A decision tree of depth ``max_depth``, or a sparse linear model with at most ``n_terms``
        features (lasso path, then least squares on the chosen features).
    X_test : array, optional
        Held-out rows on which to report fidelity too (``test_fidelity``).
    progress : callable, optional
        Called with the fraction done while the model predicts ``X``.

    Examples
    --------
    >>> sur = nbx.global_surrogate(gbr, X, kind="tree", max_depth=3, feature_names=names)
    >>> print(sur.rules)
    >>> sur.fidelity_name, round(sur.fidelity, 2)
    ('R2', 0.81)
    """
    kind = _sur.check_kind(kind)
    max_depth = check_int(max_depth, "max_depth", 1)
    n_terms = check_int(n_terms, "n_terms", 1)
    s = _setup(model, X, feature_names, None, target)
    t = s.table
    test = None
    if X_test is not None:
        test = as_table(X_test, t.feature_names, name="X_test")
    classification = s.output.kind == "probability"

    def black_box(values: np.ndarray, progress: Progress = None) -> np.ndarray:
        scores = s.model.predict(values, progress=progress)
        if classification and kind == "tree":
            return np.argmax(s.model.to_probabilities(scores), axis=1)
        return s.output(s.model, scores)

    y = black_box(t.values, progress)
    coefficients = intercept = None
    if kind == "tree":
        surrogate = _sur.fit_tree(t.values, y, classification, max_depth, random_state)
    else:
        surrogate = _sur.SparseLinear(n_terms).fit(t.values, y)
        coefficients, intercept = surrogate.coef_.copy(), surrogate.intercept_

    def fidelity(values: np.ndarray, reference: np.ndarray) -> float:
        pred = surrogate.predict(values)
        if classification and kind == "tree":
            return float(np.mean(pred == reference))
        return float(_imp._r2(reference, pred))

    class_names = None
    if classification:
        class_names = [s.model.class_name(i) for i in range(s.output.n_classes)]
    return GlobalSurrogate(
        kind=kind, model=surrogate, feature_names=list(t.feature_names), fidelity=fidelity(t.values, y),
        fidelity_name="agreement" if classification and kind == "tree" else "R2",
        test_fidelity=None if test is None else fidelity(test.values, black_box(test.values)),
        output_label="predicted class" if classification and kind == "tree" else s.output.label,
        class_names=class_names, coefficients=coefficients, intercept=intercept,
    )


__all__ = [
    "ALE", "ICE", "ICE_KINDS", "GlobalSurrogate", "PartialDependence", "PermutationImportance", "ale",
    "global_surrogate", "ice", "partial_dependence", "permutation_importance",
]
