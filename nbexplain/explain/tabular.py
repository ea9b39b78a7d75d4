"""Local explanations of one tabular row: Shapley values and LIME, one number per feature.

* :func:`shapley_tabular` — Shapley (1953) values of the interventional game ``v(S) = mean_b f(x_S, b_rest)``
  against the reference rows ``data`` (Lundberg & Lee 2017): exact for M ≤ 16 features, antithetic
  permutation sampling (Castro et al. 2009) beyond, or KernelSHAP.
* :func:`lime_tabular` — LIME (Ribeiro, Singh & Guestrin 2016): a weighted ridge surrogate on perturbations
  around the row, scaled by the statistics of ``data``, with its fidelity (weighted R²).

Both return a :class:`TabularExplanation`, so a view shows either beside the counterfactual sliders. The
kernels (the game, its lazy rows, LIME's samples) live in :mod:`nbexplain.methods.coalitions.tabular`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._deprecation import renamed
from .._progress import reporter
from .._validation import check_choice, check_int, check_number, check_positive
from ..adapters.model import Model
from ..adapters.outputs import Output, local_output
from ..errors import InputError
from ..inputs.tables import Table, as_row, as_table, feature_set, tabular_model
from ..methods.coalitions.confident import confident_anchor_search
from ..methods.coalitions.shapley import kernel_shap, sampled_shapley
from ..methods.coalitions.tabular import (
    InterventionalGame,
    background_sample,
    exact_interventional_shapley,
    lime_fit,
    lime_samples,
)
from ..methods.coalitions.tabular_anchors import (
    Predicate,
    TabularAnchorSampler,
    feature_predicates,
    rule_terms,
)
from .coalition_results import confirmed_precision
from .result import Result, frame

LABELS = {"exact": "exact Shapley values", "sampled": "sampled Shapley values", "kernel": "KernelSHAP",
          "lime": "LIME"}
#: largest number of features for which ``method="auto"`` enumerates every coalition
MAX_EXACT = 16
SHAPLEY_METHODS = ("auto", "exact", "sampled", "kernel")


@dataclass
class TabularExplanation(Result):
    """Per-feature contributions to one output of the model at one row.

    Attributes
    ----------
    values : (F,) float64 — the contribution of each feature to the explained output. Shapley methods:
        Shapley values (they sum to ``prediction - base_value``). LIME: the surrogate's coefficient times
        the row's distance from the data's mean in standard deviations, ``coef_j (x_j - mean_j) / sd_j``
        (they sum to the surrogate's ``prediction - base_value``).
    x : (F,) float64 — the explained row.
    feature_names : list of str
    prediction : float — the model's explained output at ``x``.
    base_value : float — Shapley: the mean output over the background; LIME: the surrogate at the mean.
    target : int — the explained class (0 for a regression); ``target_name`` its name.
    output : str — "probability" (of class ``target``), "score" (the model's own score for it) or
        "regression"; :attr:`output_label` says it in words ("P(high balance)").
    method : "exact", "sampled", "kernel" or "lime".
    all_values : (F, K) — values for every class (Shapley methods; LIME: only the target's column).
    all_base : (K,) — base values for every class.
    std : (F,) or None — standard errors (sampled Shapley values).
    n_evaluations : int — model rows evaluated.
    fidelity : float or None — LIME: the surrogate's weighted R² on its samples.
    coef : (F,) or None — LIME: the surrogate's coefficients (per standard deviation; categorical
        features: for "same category as x").
    efficiency_gap : float or None — Shapley: ``values.sum() - (prediction - base_value)``.
    class_names : list of str or None — the model's class names.
    seconds : float — wall time.

    ``.widget(**options)`` is a :class:`~nbexplain.CounterfactualSliders` at this row showing this kind of
    explanation as the row moves (``model=`` and ``data=`` default to the ones explained).
    """

    values: np.ndarray
    x: np.ndarray
    feature_names: list[str]
    prediction: float
    base_value: float
    target: int
    target_name: str
    output: str
    method: str
    all_values: np.ndarray
    all_base: np.ndarray
    std: np.ndarray | None = None
    n_evaluations: int = 0
    fidelity: float | None = None
    coef: np.ndarray | None = None
    efficiency_gap: float | None = None
    seconds: float = 0.0
    class_names: list[str] | None = None
    #: how each value of ``x`` reads (a category's label, else the number); None: the numbers
    value_labels: list[str] | None = None
    _model: Any = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """The method in words ("exact Shapley values", "LIME")."""
        return LABELS.get(self.method, self.method)

    @property
    def output_label(self) -> str:
        """What is explained, in words: "P(high balance)", "score of high balance" or "prediction"."""
        if self.output == "regression":
            return "prediction"
        return f"P({self.target_name})" if self.output == "probability" else f"score of {self.target_name}"

    def _png_size(self) -> tuple[float, float]:
        return (5, 0.28 * min(len(self.values), 20) + 1.2)

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` features with the largest |value|, as (name, value)."""
        order = np.argsort(-np.abs(self.values), kind="stable")[:k]
        return [(self.feature_names[i], float(self.values[i])) for i in order]

    def quality(self) -> list[str]:
        """How far to trust the numbers, one short line each (shown by views): LIME's fidelity, sampled
        values' largest standard error, the model rows evaluated."""
        lines = []
        if self.fidelity is not None:
            lines.append(f"fidelity R² {self.fidelity:.2f}")
        if self.std is not None:
            lines.append(f"largest standard error {float(np.max(self.std)):.2g}")
        lines.append(f"{self.n_evaluations:,} model rows")
        return lines

    def summary(self) -> str:
        """One line: what is explained, its value against the base, and the three largest contributions."""
        shown = self._shown_values()
        moves = ", ".join(f"{name} = {shown[self.feature_names.index(name)]} ({value:+.3g})"
                          for name, value in self.top(3))
        extra = f"; fidelity R² {self.fidelity:.2f}" if self.fidelity is not None else ""
        return (f"{self.label} of {self.output_label} = {self.prediction:.3g} (base {self.base_value:.3g}): "
                f"{moves}{extra}")

    def __str__(self) -> str:
        return self.summary()

    def _shown_values(self) -> list[str]:
        return self.value_labels if self.value_labels is not None else [f"{v:.4g}" for v in self.x]

    def to_frame(self):
        """A pandas DataFrame with one row per feature, in the data's order: ``feature``, ``value`` (of
        ``x``), ``contribution``, and ``std`` (sampled Shapley values) or ``coef`` (LIME) where known.
        Sort it with ``.sort_values("contribution", key=abs, ascending=False)``."""
        columns: dict[str, Any] = {"feature": list(self.feature_names), "value": self.x.copy(),
                                   "contribution": self.values.copy()}
        if self.std is not None:
            columns["std"] = self.std.copy()
        if self.coef is not None:
            columns["coef"] = self.coef.copy()
        if self.value_labels is not None:
            columns["label"] = list(self.value_labels)
        return frame(columns)

    def plot(self, ax=None, *, max_features: int = 20):
        """Horizontal bars of the contributions (largest |value| on top, labelled "feature = value");
        returns the Axes."""
        from ..plotting.tabular import contribution_bars

        extra = f", fidelity R² = {self.fidelity:.2f}" if self.fidelity is not None else ""
        return contribution_bars(
            self.values, [f"{n} = {v}" for n, v in zip(self.feature_names, self._shown_values(), strict=True)],
            std=self.std,
            title=f"{self.label}: {self.output_label} = {self.prediction:.3g} vs base {self.base_value:.3g}{extra}",
            xlabel=f"contribution to {self.output_label}", max_features=check_int(max_features, "max_features", 1),
            ax=ax)


# ---------------------------------------------------------------------------------------------------
# front doors
# ---------------------------------------------------------------------------------------------------
@dataclass
class _Setup:
    table: Table
    model: Model
    x: np.ndarray
    output: Output


def _setup(model: Any, x: Any, data: Any, target: Any, output: str, feature_names: Any, class_names: Any) -> _Setup:
    """Validate what every local tabular explanation takes; one model call (the row itself)."""
    table = as_table(data, feature_names, "data")
    m = tabular_model(model, table, class_names)
    xv = as_row(x, table)
    out, _ = local_output(m, xv, target, output)
    return _Setup(table, m, xv, out)


def _explanation(s: _Setup, t0: float, data: Any, **fields: Any) -> TabularExplanation:
    return TabularExplanation(x=s.x, feature_names=list(s.table.feature_names), target=s.output.target,
                              target_name=s.output.target_name, output=s.output.kind,
                              class_names=s.model.class_names, seconds=time.perf_counter() - t0,
                              value_labels=[s.table.label(j, v) for j, v in enumerate(s.x)]
                              if s.table.category_values else None,
                              _model=s.model, _data=data, **fields)


@renamed(background="data")
def shapley_tabular(
    model: Any,
    x: Any,
    data: Any,
    *,
    target: Any = None,
    output: str = "probability",
    method: str = "auto",
    n_background: int | None = 100,
    n_samples: int | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
) -> TabularExplanation:
    """Shapley values of the features of one row, against background rows (interventional).

    Implements Shapley (1953) for the game ``v(S) = mean_b f(x_S, b_rest)`` (Lundberg & Lee 2017): exactly
    from all 2**M coalitions for M ≤ 16 features, by antithetic permutation sampling (Castro et al. 2009)
    beyond, or by KernelSHAP. The values of every class are computed; ``values`` holds the target's.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    x : (F,) array-like, Series or one-row DataFrame
        The row to explain.
    data : (N, F) array-like or DataFrame
        The reference rows that stand in for absent features (e.g. the training data); was ``background``.
    target : int, str or None
        The class whose output is explained (None: the class the model predicts for ``x``); regression
        models (one output) explain their output and take None.
    output : {"probability", "score"}
        Explain the probability of ``target``, or the model's own score for it (e.g. a torch module's
        logit: Shapley values in log-odds). A model that returns probabilities (a scikit-learn classifier
        is called through ``predict_proba``) scores with them; pass ``clf.decision_function`` as the model
        to explain its decision scores.
    method : {"auto", "exact", "sampled", "kernel"}
        "auto": exact for at most 16 features, else sampled.
    n_background : int or None
        Rows of ``data`` used (a seeded random subset when there are more; None: all).
    n_samples : int, optional
        "sampled": permutations (default 100); "kernel": coalitions (default ``2 M + 2048``).
    feature_names, class_names : optional names (class names also come from the model: a Model's
        ``class_names``, an estimator's string ``classes_``).
    seed : int or None
        Background subset and sampling (default 0: reproducible; None: fresh randomness).
    progress : None, bool or callable
        None: a progress bar when the work is long; True/False: always/never; a callable is given the
        fraction of model rows done.

    Returns
    -------
    TabularExplanation

    Examples
    --------
    >>> data = nbx.datasets.credit()
    >>> clf = GradientBoostingClassifier(random_state=0).fit(data.X, data.y)
    >>> e = nbx.shapley_tabular(clf, data.X[1], data.X, feature_names=data.feature_names,
    ...                         class_names=data.class_names)
    >>> e.values.sum() - (e.prediction - e.base_value)   # efficiency: 0 up to rounding
    >>> e.plot(); e.to_frame()
    """
    t0 = time.perf_counter()
    method = check_choice(method, "method", SHAPLEY_METHODS)
    if n_background is not None:
        n_background = check_int(n_background, "n_background", 1)
    s = _setup(model, x, data, target, output, feature_names, class_names)
    f = s.table.n_features
    if method == "auto":
        method = "exact" if f <= MAX_EXACT else "sampled"
    if method == "exact" and f > 20:
        raise InputError(f"method='exact' enumerates 2**{f} coalitions; with {f} features use 'sampled' or 'kernel'")
    if method == "kernel" and f < 2:
        raise InputError("method='kernel' needs at least 2 features; use 'exact'")
    n = None
    if method == "sampled":
        n = 100 if n_samples is None else check_int(n_samples, "n_samples", 1)
    elif method == "kernel":
        n = 2 * f + 2048 if n_samples is None else check_int(n_samples, "n_samples", minimum=4)
    report = reporter(progress, f"{LABELS[method]} ({f} features)")
    background = background_sample(s.table.values, n_background, seed)

    def outputs(scores: np.ndarray) -> np.ndarray:
        return s.output.every_class(s.model, scores)

    if method == "exact":
        sv = exact_interventional_shapley(s.model, s.x, background, outputs, report)
        n_rows = sv.n_evaluations
    else:  # the samplers report progress per coalition, so the game's model calls report none
        game = InterventionalGame(s.model, s.x, background, outputs)
        if method == "sampled":
            sv = sampled_shapley(game, f, n, antithetic=True, seed=seed, progress=report)
        else:
            sv = kernel_shap(game, f, n, seed=seed, progress=report)
        n_rows = game.n_evaluations
    k = 0 if s.output.kind == "regression" else s.output.target
    return _explanation(
        s, t0, data, values=sv.values[:, k].copy(), prediction=float(sv.full_value[k]),
        base_value=float(sv.base_value[k]), method=method, all_values=sv.values, all_base=sv.base_value,
        std=None if sv.std is None else sv.std[:, k].copy(), n_evaluations=n_rows,
        efficiency_gap=float(sv.efficiency_gap[k]))


@renamed(X_train="data")
def lime_tabular(
    model: Any,
    x: Any,
    data: Any,
    *,
    target: Any = None,
    output: str = "probability",
    n_samples: int = 5000,
    kernel_width: float | None = None,
    alpha: float = 1.0,
    categorical: Sequence | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
) -> TabularExplanation:
    """A local linear surrogate of the model around one row, with its fidelity (LIME, Ribeiro et al. 2016).

    As the ``lime`` package's ``LimeTabularExplainer(sample_around_instance=True, discretize_continuous=False)``:
    numeric features are perturbed by ``z · sd`` (``z ~ N(0, 1)``), categorical ones take categories drawn
    with their frequency in ``data``; samples are weighted by the exponential kernel of their distance to
    the row, and a weighted ridge regression is fitted. The contribution of a feature is its coefficient
    times the row's offset from the mean in standard deviations, so the contributions add up like Shapley
    values (equal to them for a linear model with independent features).

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    x : (F,) array-like, Series or one-row DataFrame
        The row to explain.
    data : (N, F) array-like or DataFrame
        The reference rows (e.g. the training data): means, standard deviations and category
        frequencies; was ``X_train``.
    target : int, str or None
        The class whose output is explained (None: the class the model predicts for ``x``); regression: None.
    output : {"probability", "score"}
        Explain the probability of ``target``, or the model's own score for it (as for :func:`shapley_tabular`).
    n_samples : int
        Perturbed samples (the first is ``x`` itself).
    kernel_width : float, optional
        Width of the exponential kernel; default ``0.75 * sqrt(n_features)``.
    alpha : float
        Ridge penalty of the surrogate.
    categorical : list of features (or a dict keyed by them), optional
        Features whose values are categories (perturbed by sampling categories).
    feature_names, class_names : optional names (class names also come from the model).
    seed : int or None
        Sampling, with numpy's ``RandomState`` in the ``lime`` package's order (same seed, same samples).
    progress : None, bool or callable
        As for :func:`shapley_tabular`.

    Returns
    -------
    TabularExplanation
        ``method="lime"``, with ``fidelity`` (weighted R²) and ``coef`` (per standard deviation).

    Examples
    --------
    >>> e = nbx.lime_tabular(clf, data.X[1], data.X, categorical=data.categorical,
    ...                      feature_names=data.feature_names, class_names=data.class_names)
    >>> e.fidelity, e.top(3)
    """
    t0 = time.perf_counter()
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    alpha = check_number(alpha, "alpha", minimum=0)
    s = _setup(model, x, data, target, output, feature_names, class_names)
    f = s.table.n_features
    width = 0.75 * np.sqrt(f) if kernel_width is None else check_positive(kernel_width, "kernel_width")
    is_cat = np.zeros(f, dtype=bool)
    if categorical is not None:
        keys = list(categorical) if isinstance(categorical, Mapping) else categorical
        is_cat[feature_set(s.table, keys, "categorical")] = True
    samples = lime_samples(s.x, s.table.values, is_cat, n_samples, seed)
    y = s.output(s.model, s.model.predict(samples.rows, progress=reporter(progress, f"LIME ({n_samples:,} samples)")))
    fit = lime_fit(samples, y, width, alpha)
    return _explanation(
        s, t0, data, values=fit.contributions, prediction=float(y[0]), base_value=fit.base, method="lime",
        all_values=fit.contributions[:, None], all_base=np.array([fit.base]), n_evaluations=n_samples,
        fidelity=fit.fidelity, coef=fit.coef)


# ---------------------------------------------------------------------------------------------------
# anchors (issue 15)
# ---------------------------------------------------------------------------------------------------
@dataclass
class TabularAnchor(Result):
    """An anchor of one row: a rule on a few of its features under which the model keeps its prediction
    (Ribeiro, Singh & Guestrin 2018).

    Attributes
    ----------
    predicates : list of Predicate - the anchor's predicates, in the order the search added them.
    terms : list of str - the rule, one term per feature ("Income > 57.3", "Student = No").
    precision : float - P(the model predicts ``target_name`` | the rule holds), on perturbations of the row;
        ``precision_lower`` its KL lower confidence bound.
    coverage : float - the share of ``data`` rows that satisfy the rule.
    threshold : float - the precision asked for; ``meets_threshold`` whether it was reached.
    x, feature_names, target, target_name, class_names - the explained row and class.
    prediction : float - the model's probability of ``target`` at ``x``.
    n_samples : int - perturbed rows evaluated.
    """

    predicates: list[Predicate]
    terms: list[str]
    precision: float
    precision_lower: float
    coverage: float
    threshold: float
    meets_threshold: bool
    x: np.ndarray
    feature_names: list[str]
    target: int
    target_name: str
    prediction: float
    n_samples: int
    class_names: list[str] | None = None
    method: str = "anchor"
    label: str = "anchor"
    _model: Any = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)

    @property
    def rule(self) -> str:
        """The terms joined: ``Income > 57.3 AND Student = No`` (empty: the prediction holds anyway)."""
        return " AND ".join(self.terms)

    @property
    def features(self) -> list[int]:
        """The anchored features (indices), in the order of the terms."""
        return list(dict.fromkeys(p.feature for p in self.predicates))

    def quality(self) -> list[str]:
        """Precision against the threshold, coverage, and the samples drawn (short lines, for views)."""
        return [confirmed_precision(self.precision, self.precision_lower, self.threshold, self.meets_threshold),
                f"coverage {self.coverage:.3g}", f"{self.n_samples:,} perturbed rows"]

    def summary(self) -> str:
        """``IF rule THEN class (precision, coverage)`` in one line."""
        return (f"IF {self.rule or '(anything)'} THEN {self.target_name} "
                f"(precision {self.precision:.3f}, coverage {self.coverage:.3g})")

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self):
        """One row per term: ``feature``, ``term`` and ``value`` (x's value of that feature)."""
        return frame({"feature": [self.feature_names[j] for j in self.features], "term": list(self.terms),
                      "value": [float(self.x[j]) for j in self.features]})

    def _png_size(self) -> tuple[float, float]:
        return (5.5, 0.35 * max(1, len(self.terms)) + 1.9)

    def plot(self, ax=None, **_: Any):
        """The rule (``IF ... AND ... THEN ...``) with bars of its precision and coverage; returns the Axes."""
        from ..plotting.anchors import draw_rule

        return draw_rule(self.terms, self.target_name, self.precision, self.coverage, ax=ax, threshold=self.threshold,
                         title=f"anchor of the row: {self.quality()[0]}")


def anchor_tabular(
    model: Any,
    x: Any,
    data: Any,
    *,
    target: Any = None,
    threshold: float = 0.95,
    n_bins: int = 4,
    categorical: Sequence | Mapping | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    delta: float = 0.1, tau: float = 0.15, tolerance: float = 0.02, batch_size: int = 100, beam_size: int = 4,
    max_anchor_size: int | None = None, min_samples_start: int = 100, max_samples: int = 50000,
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
) -> TabularAnchor:
    """An anchor of one row: the rule with the largest coverage under which the model keeps its prediction
    with precision >= ``threshold`` (Ribeiro, Singh & Guestrin 2018).

    Numeric features are discretised by the quantiles of ``data`` (``n_bins`` bins: quartiles by default, as
    the authors' ``anchor`` package); the candidate predicates are the cut points the row lies above or below
    (two on one feature make an interval), and ``feature = value`` for categorical features. Perturbations
    are rows of ``data`` whose anchored features are replaced by values (of other data rows) that satisfy
    the rule; the KL-LUCB beam search (:func:`~nbexplain.methods.coalitions.anchors.anchor_search`) finds the
    rule. Coverage is the share of ``data`` rows that satisfy it.

    Parameters
    ----------
    model : scikit-learn classifier, torch.nn.Module, callable or Model
    x : (F,) array-like, Series or one-row DataFrame
        The row to explain.
    data : (N, F) array-like or DataFrame
        The reference rows: quantiles, perturbations and coverage.
    target : int, str or None
        The class the rule keeps; None is the class the model predicts for ``x``.
    threshold : float
        The precision an anchor must have: the lower bound of its KL confidence interval must exceed it (the
        paper's definition; see :func:`~nbexplain.methods.coalitions.confident.confident_anchor_search`), so a
        returned anchor keeps it on fresh samples. ``tolerance`` is how close above it the bandit decides.
    n_bins : int
        Quantile bins per numeric feature.
    categorical : list of features, or a dict {feature: category labels}
        Features whose values are categories (a predicate ``= x's value``); a dict's labels name the codes
        (``{"Student": ["No", "Yes"]}``: code 1 reads "Yes"). A DataFrame's category columns are categorical
        with their labels.
    feature_names, class_names : optional names.
    delta, tau, tolerance, batch_size, beam_size, max_anchor_size, min_samples_start, max_samples
        The bandit's settings (:func:`~nbexplain.methods.coalitions.anchors.anchor_search`); the beam keeps 4
        candidates per size, as the ``anchor`` package's tabular explainer.
    seed : int or None
        Perturbations (default 0: reproducible; None: fresh randomness).
    progress : None, bool or callable
        As for :func:`shapley_tabular` (the fraction of the sample budget used).

    Returns
    -------
    TabularAnchor
        ``.rule`` (``"Income > 57.3 AND Student = No"``), ``.precision``, ``.coverage``; ``.plot()``.

    Examples
    --------
    >>> data = nbx.datasets.credit()
    >>> a = nbx.anchor_tabular(clf, data.X[1], data.X, categorical=data.categories,
    ...                        feature_names=data.feature_names, class_names=data.class_names)
    >>> a.summary()
    'IF Limit > 5873 AND Income <= 57.47 THEN high balance (precision 0.981, coverage 0.16)'
    """
    s = _setup(model, x, data, target, "probability", feature_names, class_names)
    if s.output.kind == "regression":
        raise InputError("anchors explain a classification: the model has one output (a regression); an anchor "
                         "needs a predicted class to keep")
    f = s.table.n_features
    is_cat = np.array(s.table.categorical, dtype=bool) if getattr(s.table, "category_values", None) else np.zeros(f, bool)
    labels: dict[int, list[str]] = {}
    for j in range(f):
        named = s.table.labels(j) if hasattr(s.table, "labels") else None
        if named is not None:
            is_cat[j], labels[j] = True, named
    if categorical is not None:
        keys = list(categorical) if isinstance(categorical, Mapping) else categorical
        for j in feature_set(s.table, keys, "categorical"):
            is_cat[j] = True
        if isinstance(categorical, Mapping):
            for key, names in categorical.items():
                if names is not None and not isinstance(names, str):
                    labels[feature_set(s.table, [key], "categorical")[0]] = [str(n) for n in names]
    predicates = feature_predicates(s.x, s.table.values, is_cat, check_int(n_bins, "n_bins", minimum=2))

    def predicted(rows: np.ndarray) -> np.ndarray:
        return s.model.to_probabilities(s.model.predict(rows)).argmax(1)

    scores = s.model.predict(s.x[None])
    sampler = TabularAnchorSampler(predicted, s.x, s.table.values, predicates, s.output.target, seed)
    found = confident_anchor_search(sampler, threshold=threshold, delta=delta, tau=tau, tolerance=tolerance,
                          batch_size=batch_size, beam_size=beam_size, max_anchor_size=max_anchor_size,
                          min_samples_start=min_samples_start, max_samples=max_samples,
                          progress=reporter(progress, f"anchor search ({len(predicates)} predicates)"))
    chosen = [predicates[i] for i in found.anchor]
    integer = np.all(s.table.values == np.round(s.table.values), axis=0)
    return TabularAnchor(
        predicates=chosen, terms=rule_terms(chosen, s.table.feature_names, labels, integer),
        precision=float(found.precision), precision_lower=float(found.precision_lower), coverage=float(found.coverage),
        threshold=float(found.threshold), meets_threshold=bool(found.meets_threshold), x=s.x,
        feature_names=list(s.table.feature_names), target=s.output.target, target_name=s.output.target_name,
        prediction=float(s.model.to_probabilities(scores)[0, s.output.target]), n_samples=int(found.n_samples),
        class_names=s.model.class_names, _model=s.model, _data=data)


__all__ = ["TabularAnchor", "TabularExplanation", "anchor_tabular", "lime_tabular", "shapley_tabular"]
