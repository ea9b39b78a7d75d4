"""Feature effects and global views of a tabular model: PDP, ICE (plain, centred, derivative), ALE (1-D,
2-D and categorical), permutation importance and global surrogates.

Each function validates its input, turns the model into one number per row (the regression output, or the
probability of ``target`` for classifiers), predicts everything it needs as one lazy batch (the model runs
once per chunk of rows, never once per grid value; kernels in :mod:`nbexplain.methods.effects`), and
returns a result of numpy arrays with ``.plot(ax=None)``, ``.to_frame()`` and ``.widget(**options)``.

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
>>> print(imp.summary())
>>> sur = nbx.global_surrogate(model, X, kind="tree", max_depth=3)
>>> sur.fidelity
0.93
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._deprecation import renamed
from .._progress import reporter
from .._types import Progress
from .._validation import check_int
from ..errors import InputError
from ..inputs.tables import as_table, feature_indices
from ..methods.effects import surrogate as distil
from ..methods.effects.ale import accumulated_local_effects
from ..methods.effects.importance import (
    check_labels,
    model_classes,
    permutation_importances,
    sklearn_permutations,
)
from ..methods.effects.pdp import (
    ICE_KINDS,
    anchor_position,
    anchored_grid,
    check_kind,
    feature_grids,
    grid_points,
    ice_curves,
    ice_table,
)
from ..methods.effects.problem import problem
from ..methods.effects.scores import check_scoring
from ..plotting import effects as draw
from .result import Result, frame


# =================================================================================================
# results
# =================================================================================================
@dataclass
class PartialDependence(Result):
    """Partial dependence of the model output on one feature or a pair.

    Attributes
    ----------
    features : list of str — the feature(s), one or two names.
    grid : list of arrays — the grid of each feature.
    average : (G,) or (G1, G2) float — the mean output over rows at each grid point.
    individual : (N, G) float or None — the ICE table (one feature only).
    values : (N_all, k) float — the data of the feature(s) in every row of ``X``, for the rug.
    categorical : list of bool — per feature.
    output_label : str — what the output is ("prediction", "P(class)").
    target : int or None — the class whose probability is shown (None for a regression).
    rows : (N,) int or None — the rows of ``X`` averaged over (None: all of them).
    """

    _png_figsize = (5, 3.6)

    features: list[str]
    grid: list[np.ndarray]
    average: np.ndarray
    individual: np.ndarray | None
    values: np.ndarray
    categorical: list[bool]
    output_label: str = "prediction"
    target: int | None = None
    rows: np.ndarray | None = None
    #: per feature, the labels of a coded category column's levels (None: numbers)
    level_labels: list[list[str] | None] | None = None

    def ice(self) -> ICE:
        """The plain ICE curves this average is the mean of (one feature; no new predictions)."""
        if self.individual is None:
            raise InputError("ICE curves exist for one feature; this is the partial dependence of a pair")
        rows = np.arange(len(self.individual)) if self.rows is None else self.rows
        grid = self.grid[0]
        return ICE(feature=self.features[0], grid=grid, predictions=self.individual, curves=self.individual.copy(),
                   kind="plain", anchor=float(grid[0]), rows=rows, x=self.values[rows, 0], values=self.values[:, 0],
                   categorical=self.categorical[0], output_label=self.output_label, target=self.target,
                   level_labels=None if self.level_labels is None else self.level_labels[0])

    def plot(self, ax=None, *, ice_lines: int = 100):
        """PD curve (bars for a categorical feature; a heatmap for a pair) with a rug of the data; the Axes."""
        return draw.plot_partial_dependence(self, ax=ax, ice_lines=ice_lines)

    def to_frame(self):
        """One row per grid point: the feature value(s) and the average (a pair: every combination)."""
        points = grid_points(self.grid)
        columns = {name: points[:, i] for i, name in enumerate(self.features)}
        columns["average" if "average" not in columns else "partial dependence"] = self.average.ravel()
        return frame(columns)


@dataclass
class ICE(Result):
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
    target : int or None — the class whose probability is shown (None for a regression).
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
    target: int | None = None
    #: the labels of a coded category column's levels (None: numbers)
    level_labels: list[str] | None = None

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
        kind = check_kind(kind)
        anchor_value = self.grid[0] if anchor is None else self.grid[anchor_position(self.grid, anchor)]
        curves = ice_curves(self.predictions, self.grid, kind, anchor_value, self.categorical, self.feature)
        return replace(self, curves=curves, kind=kind, anchor=float(anchor_value))

    def partial_dependence(self) -> PartialDependence:
        """The partial dependence: the mean of the plain curves (no new predictions)."""
        return PartialDependence(features=[self.feature], grid=[self.grid], average=self.predictions.mean(axis=0),
                                 individual=self.predictions, values=self.values[:, None],
                                 categorical=[self.categorical], output_label=self.output_label, target=self.target,
                                 rows=self.rows, level_labels=[self.level_labels])

    def plot(self, ax=None, *, max_lines: int = 200):
        """ICE lines (a sample of at most ``max_lines``), their mean, and a rug of the data; the Axes."""
        return draw.plot_ice(self, ax=ax, max_lines=max_lines)

    def to_frame(self, wide: bool = False):
        """The curves (what ``kind`` shows): long, one row per (row, grid value), with columns "row", the
        feature and "ice" / "c-ice" / "d-ice"; or ``wide``, one row per row of ``X`` and one column per grid value."""
        if wide:
            table = frame({float(g): self.curves[:, i] for i, g in enumerate(self.grid)}, index=self.rows)
            table.index.name, table.columns.name = "row", self.feature
            return table
        value = {"plain": "ice", "centred": "c-ice", "derivative": "d-ice"}[self.kind]
        feature = self.feature if self.feature not in ("row", value) else f"{self.feature} (feature)"
        n, g = self.curves.shape
        return frame({"row": np.repeat(self.rows, g), feature: np.tile(self.grid, n), value: self.curves.ravel()})


@dataclass
class ALE(Result):
    """Accumulated local effects of one feature (first order) or a pair (second order: the interaction only).

    Attributes
    ----------
    features : list of str.
    edges : list of arrays — bin edges per feature (the levels of a categorical feature).
    effect : (K+1,) or (K1+1, K2+1) — the centred effect at the edges (a piecewise-linear curve or
        surface; for a categorical feature one value per level).
    counts : (K,) or (K1, K2) int — rows per bin / cell (per level for a categorical feature).
    values : (N, k) — the data of the feature(s), for the rug.
    target : int or None — the class whose probability is shown (None for a regression).
    """

    _png_figsize = (5, 3.6)

    features: list[str]
    edges: list[np.ndarray]
    effect: np.ndarray
    counts: np.ndarray
    values: np.ndarray
    categorical: bool = False
    output_label: str = "prediction"
    target: int | None = None
    #: the labels of a coded category column's levels (None: numbers)
    level_labels: list[str] | None = None

    @property
    def order(self) -> int:
        """1 for one feature, 2 for a pair."""
        return len(self.features)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The first-order effect at ``x``, interpolated linearly between edges."""
        if self.order != 1:
            raise InputError("evaluating at points is for first-order ALE; index .effect for a pair")
        return np.interp(np.asarray(x, dtype=np.float64), self.edges[0], self.effect)

    def plot(self, ax=None):
        """The ALE curve (bars for a categorical feature; a heatmap for a pair) with a rug of the data; the Axes."""
        return draw.plot_ale(self, ax=ax)

    def to_frame(self):
        """One row per edge (per level of a categorical feature, with its row count; every pair of edges for a
        pair): the feature value(s) and the effect."""
        points = grid_points(self.edges)
        columns = {name: points[:, i] for i, name in enumerate(self.features)}
        columns["effect" if "effect" not in columns else "accumulated local effect"] = self.effect.ravel()
        if self.categorical:
            columns["count" if "count" not in columns else "rows"] = self.counts
        return frame(columns)


@dataclass
class PermutationImportance(Result):
    """Drop of a score when each feature is shuffled, per repeat.

    Attributes
    ----------
    feature_names : list of str; importances : (F, R) — baseline score minus the score with the
    feature permuted, per repeat; mean, std : (F,) — their mean and standard deviation over the repeats;
    baseline : float; scoring : str; against : "labels" (the given ``y``) or "model" (the model's own
    predictions: how much the model relies on each feature); n_rows : int or None — the rows scored.
    """

    feature_names: list[str]
    importances: np.ndarray
    baseline: float
    scoring: str
    against: str = "labels"
    n_rows: int | None = None
    mean: np.ndarray = field(init=False, repr=False)
    std: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.mean, self.std = self.importances.mean(axis=1), self.importances.std(axis=1)

    @property
    def ranking(self) -> list[str]:
        """Feature names, most important first."""
        return [self.feature_names[i] for i in np.argsort(-self.mean, kind="stable")]

    def quality(self) -> list[str]:
        """What the numbers measure, in words (for views)."""
        reference = "its own predictions" if self.against == "model" else "the labels"
        size = f", {self.n_rows} rows" if self.n_rows is not None else ""
        return [f"drop in {self.scoring} vs {reference} when shuffled ({self.importances.shape[1]} repeats{size})"]

    def summary(self, top: int = 5) -> str:
        """The ranking in one line: the ``top`` features with their mean drop ± sd."""
        order = np.argsort(-self.mean, kind="stable")
        shown = ", ".join(f"{self.feature_names[i]} {self.mean[i]:.3g} ± {self.std[i]:.2g}" for i in order[:top])
        more = f", and {len(order) - top} more" if len(order) > top else ""
        return f"Permutation importance ({self.quality()[0]}): {shown}{more}"

    def plot(self, ax=None):
        """Horizontal bars of the mean importance with the spread (±1 sd) over repeats; the Axes."""
        return draw.plot_importance(self, ax=ax)

    def to_frame(self):
        """One row per feature, most important first: "feature", "mean" and "std" of the drop."""
        order = np.argsort(-self.mean, kind="stable")
        return frame({"feature": [self.feature_names[i] for i in order], "mean": self.mean[order],
                      "std": self.std[order]})

    def _png_size(self) -> tuple[float, float]:
        return (5, 0.9 + 0.28 * len(self.feature_names))


@dataclass
class GlobalSurrogate(Result):
    """An interpretable model fitted to the black box's predictions, with its fidelity.

    Attributes
    ----------
    kind : "tree" or "linear"; model : the fitted surrogate (scikit-learn tree or
    :class:`~nbexplain.methods.effects.surrogate.SparseLinear`); fidelity : R² of the surrogate to
    the black-box output (regression, or a linear surrogate of a class probability) or the agreement
    (fraction of rows with the same predicted class, tree surrogate of a classifier);
    fidelity_name : "R2" or "agreement"; test_fidelity : the same on ``X_test``, or None;
    max_depth / n_terms : the size asked for (tree / linear).
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
    max_depth: int | None = None
    n_terms: int | None = None

    @property
    def rules(self) -> str:
        """The surrogate as text: the tree's rules, or the linear formula."""
        if self.kind == "tree":
            return distil.tree_text(self.model, self.feature_names)
        terms = [f"{c:+.4g} * {n}" for c, n in zip(self.coefficients, self.feature_names, strict=True) if c != 0]
        return f"{self.output_label} ≈ {self.intercept:.4g} " + " ".join(terms)

    def terms(self) -> list[tuple[str, float]]:
        """Non-zero (feature, coefficient) pairs of a linear surrogate, largest magnitude first."""
        if self.coefficients is None:
            return []
        order = np.argsort(-np.abs(self.coefficients), kind="stable")
        return [(self.feature_names[i], float(self.coefficients[i])) for i in order if self.coefficients[i] != 0]

    def quality(self) -> list[str]:
        """The fidelity in words (for views): on the data, and held out when ``X_test`` was given."""
        name = "R²" if self.fidelity_name == "R2" else self.fidelity_name
        lines = [f"Fidelity to the model's {self.output_label}: {name} = {self.fidelity:.4f}"]
        if self.test_fidelity is not None:
            lines.append(f"held out: {name} = {self.test_fidelity:.4f}")
        return lines

    def summary(self) -> str:
        """What was fitted and how faithful it is, in one line."""
        what = (f"decision tree of depth ≤ {self.max_depth}" if self.kind == "tree"
                else f"sparse linear model with {len(self.terms())} terms")
        name = "R²" if self.fidelity_name == "R2" else self.fidelity_name
        held_out = f" (held out {self.test_fidelity:.3f})" if self.test_fidelity is not None else ""
        return f"Global surrogate ({what}) of the model's {self.output_label}: {name} = {self.fidelity:.3f}{held_out}"

    def plot(self, ax=None):
        """The tree (scikit-learn's ``plot_tree``) or the linear coefficients, titled with the fidelity; the Axes."""
        return draw.plot_surrogate(self, ax=ax)

    def to_frame(self):
        """A tree: one row per leaf ("rule", "prediction", "rows"); a linear model: its "term"s and
        "coefficient"s, largest first, then the intercept."""
        if self.kind == "linear":
            terms = self.terms()
            return frame({"term": [t[0] for t in terms] + ["(intercept)"],
                          "coefficient": [t[1] for t in terms] + [self.intercept]})
        leaves = distil.tree_rules(self.model, self.feature_names)
        value = self.model.tree_.value
        if self.class_names is not None and self.fidelity_name == "agreement":
            classes = self.model.classes_
            predictions = [self.class_names[int(classes[np.argmax(value[leaf][0])])] for _, leaf, _ in leaves]
        else:
            predictions = [float(value[leaf][0, 0]) for _, leaf, _ in leaves]
        return frame({"rule": [r for r, _, _ in leaves], "prediction": predictions, "rows": [n for _, _, n in leaves]})


# =================================================================================================
# the functions
# =================================================================================================
@renamed(random_state="seed")
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
    seed: int | None = 0,
    progress: bool | Progress = None,
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
        The class for classifiers: None is the positive class of a binary model, else the class with the
        highest mean probability. Must be None for regressions.
    feature_names, categorical
        As for :func:`nbexplain.as_table`. Categorical features use their levels as the grid.
    grid_resolution, percentiles
        The default grid: ``grid_resolution`` evenly spaced values between the ``percentiles`` of the
        feature, or its distinct values when fewer (as scikit-learn).
    grid : 1-D array, or one per feature
        An explicit grid instead.
    max_rows : int, optional
        Average over a random sample of this many rows (drawn with ``seed``) instead of all; the grid
        and the rug (``values``) still come from every row.
    seed : int or None
        The sample's seed (None: fresh randomness). ``random_state`` is its old name.
    progress : None, bool or callable
        None: a bar when the work is long; True / False: always / never; a callable gets the fraction done.

    Examples
    --------
    >>> pd = nbx.partial_dependence(gbr, X, "temp", feature_names=names)
    >>> pd.grid[0].shape, pd.average.shape
    ((50,), (50,))
    >>> nbx.partial_dependence(gbr, X, ["temp", "hum"], grid_resolution=20).average.shape
    (20, 20)
    """
    p = problem(model, X, feature_names=feature_names, categorical=categorical, target=target, max_rows=max_rows,
                seed=seed)
    cols = feature_indices(p.table, features, "features", max_count=2)
    grids = feature_grids(p.table, cols, grid, grid_resolution, percentiles)
    table = ice_table(p.model, p.output, p.sample.values, cols, grid_points(grids),
                      reporter(progress, "partial dependence"))
    return PartialDependence(
        features=[p.table.feature_names[c] for c in cols], grid=grids,
        average=table.mean(axis=0).reshape([len(g) for g in grids]), individual=table if len(cols) == 1 else None,
        values=p.table.values[:, cols].copy(), categorical=[bool(p.table.categorical[c]) for c in cols],
        output_label=p.output.label, target=p.target, rows=p.rows, level_labels=[p.table.labels(c) for c in cols],
    )


@renamed(random_state="seed")
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
    seed: int | None = 0,
    progress: bool | Progress = None,
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
        The c-ICE anchor (added to the grid when it is not on it; a level of a categorical feature).
    Other parameters as for :func:`partial_dependence` (one feature).

    Examples
    --------
    >>> c = nbx.ice(gbr, X, "temp", kind="centred", feature_names=names)
    >>> c.curves[:, 0]            # every curve starts at 0
    >>> d = c.with_kind("derivative")   # same predictions, no new model calls
    >>> c.partial_dependence()          # their mean, no new model calls either
    """
    kind = check_kind(kind)
    p = problem(model, X, feature_names=feature_names, categorical=categorical, target=target, max_rows=max_rows,
                seed=seed)
    (col,) = feature_indices(p.table, feature, "feature", max_count=1)
    name, categorical_feature = p.table.feature_names[col], bool(p.table.categorical[col])
    sample = p.sample
    (grid_values,) = feature_grids(p.table, [col], grid, grid_resolution, percentiles)
    grid_values, anchor_value = anchored_grid(grid_values, anchor, name, categorical_feature)
    predictions = ice_table(p.model, p.output, sample.values, [col], grid_values[:, None], reporter(progress, "ICE"))
    return ICE(feature=name, grid=grid_values, predictions=predictions,
               curves=ice_curves(predictions, grid_values, kind, anchor_value, categorical_feature, name), kind=kind,
               anchor=anchor_value, rows=p.rows, x=sample.values[:, col].copy(), values=p.table.values[:, col].copy(),
               categorical=categorical_feature, output_label=p.output.label, target=p.target,
               level_labels=p.table.labels(col))


def ale(
    model: Any,
    X: Any,
    features: int | str | Sequence[int | str],
    *,
    bins: int | None = None,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    categorical: Any = None,
    progress: bool | Progress = None,
) -> ALE:
    """Accumulated local effects of one feature, or the second-order (interaction) ALE of a pair.

    Apley & Zhu (2020): the average *change* of the output across small bins of the feature, over the
    rows that actually fall in each bin, accumulated. Unlike partial dependence it never evaluates the
    model far from the data, so it stays faithful when features are correlated. Estimator as the
    authors' ``ALEPlot`` (see :mod:`nbexplain.methods.effects.ale`): quantile bins, the curve centred to
    mean 0 over the data; a pair gives the interaction only (both first-order effects removed).
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
    p = problem(model, X, feature_names=feature_names, categorical=categorical, target=target)
    cols = feature_indices(p.table, features, "features", max_count=2)
    bins = check_int(20 if bins is None and len(cols) == 1 else 10 if bins is None else bins, "bins", 1)
    edges, effect, counts, categorical_feature = accumulated_local_effects(p.model, p.output, p.table, cols, bins,
                                                                           reporter(progress, "ALE"))
    return ALE(features=[p.table.feature_names[c] for c in cols], edges=edges, effect=effect, counts=counts,
               values=p.table.values[:, cols].copy(), categorical=categorical_feature, output_label=p.output.label,
               target=p.target, level_labels=p.table.labels(cols[0]) if len(cols) == 1 else None)


@renamed(random_state="seed")
def permutation_importance(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    scoring: str | Callable | None = None,
    n_repeats: int = 5,
    seed: int | None = 0,
    target: int | str | None = None,
    feature_names: Sequence[str] | None = None,
    max_rows: int | None = None,
    progress: bool | Progress = None,
) -> PermutationImportance:
    """Permutation feature importance: how much a score drops when one feature's values are shuffled.

    Breiman (2001); as model reliance, Fisher, Rudin & Dominici (2019). Each feature is shuffled
    ``n_repeats`` times; every shuffled copy is predicted in one lazy batch. The permutations are drawn
    as scikit-learn draws them, so the numbers equal ``sklearn.inspection.permutation_importance`` for
    the same integer seed (its ``random_state``) and scoring.

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
    seed : int or None
        Seed of the shuffles (and of the ``max_rows`` sample); None: fresh randomness. ``random_state``
        is its old name.
    max_rows : int, optional
        Score a random sample of this many rows (and their ``y``) instead of all.
    Other parameters as for :func:`partial_dependence`.

    Examples
    --------
    >>> imp = nbx.permutation_importance(gbr, X, y, n_repeats=5, feature_names=names)
    >>> imp.ranking[:3]
    ['hr', 'temp', 'workingday']
    >>> imp.to_frame().head(3)
    """
    n_repeats = check_int(n_repeats, "n_repeats", 1)
    p = problem(model, X, feature_names=feature_names, target=target, max_rows=max_rows, seed=seed)
    regression = p.output.kind == "regression"
    scoring = check_scoring(scoring, regression)
    reference = None
    if y is not None:
        reference = check_labels(y, p.table.n_rows, regression, model_classes(p.model), p.output.n_classes)[p.rows]
    perms = sklearn_permutations(len(p.rows), n_repeats, seed)
    baseline, importances = permutation_importances(p.model, p.output, p.sample.values, reference, scoring, perms,
                                                    reporter(progress, "permutation importance"))
    return PermutationImportance(feature_names=list(p.table.feature_names), importances=importances, baseline=baseline,
                                 scoring=scoring if isinstance(scoring, str) else getattr(scoring, "__name__", "custom"),
                                 against="model" if y is None else "labels", n_rows=len(p.rows))


@renamed(random_state="seed")
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
    seed: int | None = 0,
    progress: bool | Progress = None,
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
    seed : int or None
        The tree's seed (ties between equally good splits); ``random_state`` is its old name.
    progress : None, bool or callable
        Progress of predicting ``X``, as for :func:`partial_dependence`.

    Examples
    --------
    >>> sur = nbx.global_surrogate(gbr, X, kind="tree", max_depth=3, feature_names=names)
    >>> print(sur.rules)
    >>> print(sur.summary())
    Global surrogate (decision tree of depth ≤ 3) of the model's prediction: R² = 0.812
    """
    kind = distil.check_kind(kind)
    max_depth = check_int(max_depth, "max_depth", 1)
    n_terms = check_int(n_terms, "n_terms", 1)
    p = problem(model, X, feature_names=feature_names, target=target, seed=seed)
    values = p.table.values
    test = None if X_test is None else as_table(X_test, p.table.feature_names, name="X_test")
    classifier = p.output.kind == "probability"
    classify = classifier and kind == "tree"  # a tree of a classifier learns its classes; else one number per row
    y = distil.black_box(p.model, p.output, values, classify, reporter(progress, "global surrogate"))
    surrogate = distil.fit(kind, values, y, classify, max_depth, n_terms, seed)
    test_fidelity = None
    if test is not None:
        reference = distil.black_box(p.model, p.output, test.values, classify)
        test_fidelity = distil.fidelity(surrogate, test.values, reference, classify)
    linear = kind == "linear"
    return GlobalSurrogate(
        kind=kind, model=surrogate, feature_names=list(p.table.feature_names),
        fidelity=distil.fidelity(surrogate, values, y, classify), fidelity_name="agreement" if classify else "R2",
        test_fidelity=test_fidelity, output_label="predicted class" if classify else p.output.label,
        class_names=[p.model.class_name(i) for i in range(p.output.n_classes)] if classifier else None,
        coefficients=surrogate.coef_.copy() if linear else None, intercept=surrogate.intercept_ if linear else None,
        max_depth=None if linear else max_depth, n_terms=n_terms if linear else None,
    )


__all__ = [
    "ALE", "ICE", "ICE_KINDS", "GlobalSurrogate", "PartialDependence", "PermutationImportance", "ale",
    "global_surrogate", "ice", "partial_dependence", "permutation_importance",
]
