"""Counterfactual explanations: the smallest change of a row that makes the model decide otherwise.

Implements Wachter, Mittelstadt and Russell (2017), "Counterfactual explanations without opening the black
box", as the survey states it: minimise ``λ·(f(x') - y')² + d(x, x')`` where ``f`` is the probability of the
target class (or a regression output), ``y'`` the desired value and ``d`` the L1 distance scaled per feature
by the median absolute deviation (MAD) over the reference data; ``λ`` grows until ``|f(x') - y'| <= ε``, and
among the candidates found the one with the smallest loss comes first.

How candidates are found (the kernels live in :mod:`nbexplain.methods.counterfactual`):

* ``method="gradient"`` (torch modules): the Wachter objective minimised with autograd and Adam for a
  schedule of λ values side by side (:mod:`~nbexplain.methods.counterfactual.gradient`).
* ``method="growing_spheres"`` (any black box, e.g. scikit-learn trees): growing spheres in the MAD-L1
  geometry (Laugel et al. 2018; :mod:`~nbexplain.methods.counterfactual.spheres`).
* Both add one-feature line searches (every feature, both directions, every other category). When the
  gradient finds no valid point (a saturated output has a vanishing gradient: p(target) = 1e-12 moves
  nothing), growing spheres runs for the torch model too.

Every candidate is then made as small as it can be while it stays valid: it is shrunk along the segment
back to ``x``, the changes that are not needed are undone (Laugel's coordinate-wise sparsification), and
each remaining change is moved back towards ``x`` coordinate by coordinate until the next step would make it
invalid, which is where the smallest valid λ's optimum lies. The rounds are batched so that each costs one
model call (:mod:`~nbexplain.methods.counterfactual.search`); :mod:`~nbexplain.methods.counterfactual.ranking`
orders them. Constraints are hard throughout: immutable features never move, ranges are projected,
integers stay integers, categoricals take only their categories
(:class:`~nbexplain.methods.counterfactual.space.FeatureSpace`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._deprecation import renamed
from .._progress import reporter
from .._validation import check_bool, check_choice, check_int
from ..inputs.tables import as_row, as_table, tabular_model
from ..methods.counterfactual.gradient import single_thread
from ..methods.counterfactual.search import find
from ..methods.counterfactual.space import FeatureSpace, Problem, feature_space, make_objective
from .result import Result, frame

METHODS = ("auto", "gradient", "growing_spheres")


@dataclass
class Counterfactual:
    """One counterfactual ``x'``.

    Attributes
    ----------
    x : (F,) float64 — the counterfactual point.
    prediction : (K,) float64 — the model's class probabilities at ``x`` (regression: its output).
    value : float — ``f(x')``, the target-class probability (regression: the output).
    distance : float — MAD-scaled L1 distance to the original (a changed category counts 1).
    changed : (F,) bool — which features differ from the original.
    valid : bool — whether ``|f(x') - y'| <= ε``.
    loss : float — ``λ·(f(x') - y')² + distance`` at the λ the search ended with.
    delta : (F,) float64 — ``x' - x``.
    """

    x: np.ndarray
    prediction: np.ndarray
    value: float
    distance: float
    changed: np.ndarray
    valid: bool
    loss: float
    delta: np.ndarray

    @property
    def n_changed(self) -> int:
        """Number of features changed."""
        return int(self.changed.sum())


@dataclass
class CounterfactualResult(Result):
    """Counterfactuals of one row, the closest (smallest loss) first.

    Attributes
    ----------
    counterfactuals : list of Counterfactual — ranked by validity, then loss; with ``n > 1`` each changes a
        different set of features.
    original : (F,) float64 — the explained row; ``original_prediction`` its prediction (K,).
    feature_names, class_names : names for display.
    target, target_name : the class the counterfactuals aim for (regression: 0, "prediction").
    desired, epsilon : ``y'`` and ``ε``; valid means ``|f(x') - desired| <= epsilon``.
    kind : "probability" (classifier) or "regression".
    scale : (F,) float64 — the MAD of each feature (the distance's unit).
    method : "gradient" or "growing_spheres"; ``lam`` the final λ; ``n_evaluations`` model rows evaluated
        (gradient steps count one per row and step); ``seconds`` the wall time.
    space : the constraints searched under.

    ``.widget(**options)`` is a :class:`~nbexplain.CounterfactualSliders` at the original row with these
    counterfactuals listed (``model=`` and ``data=`` default to the ones searched with).
    """

    _png_figsize = (6, 3)

    counterfactuals: list[Counterfactual]
    original: np.ndarray
    original_prediction: np.ndarray
    feature_names: list[str]
    class_names: list[str] | None
    target: int
    target_name: str
    desired: float
    epsilon: float
    kind: str
    scale: np.ndarray
    method: str
    lam: float
    n_evaluations: int
    seconds: float
    space: FeatureSpace = field(repr=False)
    _model: Any = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.counterfactuals)

    def __getitem__(self, i: int) -> Counterfactual:
        return self.counterfactuals[i]

    def __iter__(self):
        return iter(self.counterfactuals)

    @property
    def best(self) -> Counterfactual:
        """The first (smallest-loss) counterfactual."""
        return self.counterfactuals[0]

    @property
    def x(self) -> np.ndarray:
        """The best counterfactual point."""
        return self.best.x

    @property
    def valid(self) -> bool:
        """Whether the best counterfactual reaches the target within ε."""
        return self.best.valid

    @property
    def output_label(self) -> str:
        """What the counterfactuals move, in words: "P(high balance)" or "prediction"."""
        return f"P({self.target_name})" if self.kind == "probability" else "prediction"

    def changes(self, index: int = 0) -> list[dict[str, Any]]:
        """The changed features of counterfactual ``index``: name, original, new value, delta, delta in MADs."""
        cf = self.counterfactuals[index]
        out = []
        for j in np.flatnonzero(cf.changed):
            out.append({"feature": self.feature_names[j], "original": float(self.original[j]),
                        "counterfactual": float(cf.x[j]), "delta": float(cf.delta[j]),
                        "mads": float(cf.delta[j] / self.scale[j]) if not self.space.categorical[j] else None,
                        "label": self._label(j, cf.x[j]), "original_label": self._label(j, self.original[j])})
        return out

    def _label(self, j: int, v: float) -> str:
        sp = self.space
        if sp.categorical[j] and sp.category_labels[j] is not None:
            k = np.flatnonzero(sp.categories[j] == v)
            if len(k):
                return sp.category_labels[j][int(k[0])]
        return f"{v:.6g}"

    def quality(self) -> list[str]:
        """The best counterfactual's quality, one short line each (shown by views)."""
        best = self.best
        return [("valid" if best.valid else "NOT valid") + f": {self.output_label} = {best.value:.3g}",
                f"distance {best.distance:.3g} MAD, {best.n_changed} changed",
                f"{self.n_evaluations:,} model rows, {self.seconds * 1000:.0f} ms"]

    def summary(self) -> str:
        """A few lines of text: each counterfactual's validity, distance and changes."""
        aim = (f"P({self.target_name}) within {self.epsilon:g} of {self.desired:g}" if self.kind == "probability"
               else f"prediction within {self.epsilon:g} of {self.desired:g}")
        lines = [f"{len(self)} counterfactual(s) aiming at {aim} ({self.method}, {self.seconds * 1000:.0f} ms)"]
        for i, cf in enumerate(self.counterfactuals):
            state = "valid" if cf.valid else "NOT valid"
            moves = ", ".join(f"{c['feature']}: {c['original_label']} → {c['label']}" for c in self.changes(i))
            lines.append(f"  #{i + 1} {state}, f={cf.value:.3f}, distance {cf.distance:.3g} MAD, "
                         f"{cf.n_changed} changed: {moves or 'nothing'}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self):
        """A pandas DataFrame with one row per counterfactual (index 1, 2, ... by rank, named
        "counterfactual"), as DiCE shows them: every feature's value (category codes, as the model takes
        them: ``model.predict(frame[feature_names])`` works), then the explained output (a column named
        like :attr:`output_label`, e.g. "P(low balance)"), ``valid``, ``distance`` (MADs), ``n_changed``
        and ``loss``. The original row is :attr:`original`; :meth:`changes` lists one counterfactual's
        changes with category labels."""
        columns: dict[str, Any] = {name: [float(cf.x[j]) for cf in self] for j, name in enumerate(self.feature_names)}
        extra = {self.output_label: [cf.value for cf in self], "valid": [cf.valid for cf in self],
                 "distance": [cf.distance for cf in self], "n_changed": [cf.n_changed for cf in self],
                 "loss": [cf.loss for cf in self]}
        for name, values in extra.items():  # a feature with one of these names keeps its column
            columns.setdefault(name, values)
        table = frame(columns, index=list(range(1, len(self) + 1)))
        table.index.name = "counterfactual"
        return table

    def plot(self, ax=None, index: int = 0):
        """Bar chart of the changes of counterfactual ``index`` in MADs (categories: ±1), each annotated
        "from → to"; returns the Axes."""
        from ..plotting.tabular import change_bars

        n = len(self)
        index = check_int(index, "index", -n, n - 1) % n
        cf = self.counterfactuals[index]
        changes = self.changes(index)
        state = "valid" if cf.valid else "not valid"
        return change_bars([c["feature"] for c in changes],
                           [c["mads"] if c["mads"] is not None else 1.0 for c in changes],
                           [f"{c['original_label']} → {c['label']}" for c in changes],
                           title=f"counterfactual #{index + 1}: f={cf.value:.2f} ({state}), distance {cf.distance:.3g}",
                           ax=ax)


@renamed(X_train="data")
def counterfactual(
    model: Any,
    x: Any,
    data: Any,
    target: Any = None,
    *,
    epsilon: float | None = None,
    target_probability: float | None = None,
    immutable: Sequence | None = None,
    ranges: Mapping | None = None,
    integer: Sequence | None = None,
    categorical: Sequence | Mapping | None = None,
    n: int = 1,
    sparse: bool = False,
    method: str = "auto",
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    max_seeds: int = 2000,
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
) -> CounterfactualResult:
    """Find the smallest change of ``x`` that brings the model's output to the target (Wachter et al. 2017).

    Minimises ``λ·(f(x') - y')² + d(x, x')`` with ``d`` the L1 distance scaled per feature by the median
    absolute deviation over ``data``; λ grows until ``|f(x') - y'| <= ε``; the candidates found are ranked
    by that loss. Gradient-based for torch modules, growing spheres for any other model (see the module
    docstring); constraints hold exactly for every returned point.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    x : (F,) array-like, one-row DataFrame or Series
        The row to explain.
    data : (N, F) array-like or DataFrame
        The reference rows (e.g. the training data): the MAD scale, the default ranges (their min and
        max) and the categories; was ``X_train``.
    target : int, str or None
        Classifiers: the class to reach (index or name); None means the most probable class other than
        the predicted one. Regression models: the desired output value (required).
    epsilon : float, optional
        Tolerance ε. Classifiers: default 0.45, which with ``target_probability=1`` means p ≥ 0.55 (the
        decision flips whatever the number of classes). Regression: required.
    target_probability : float, optional
        Classifiers: the desired probability y' of the target class (default 1).
    immutable : list of features (names or indices)
        Features that never change.
    ranges : dict ``{feature: (low, high)}``
        Allowed values (each range must contain the original value; None for a minimum/maximum of
        ``data``). Default: the minimum and maximum of every feature in ``data``.
    integer : list of features
        Features that stay whole numbers.
    categorical : list of features, or dict ``{feature: categories}``
        Features that take only their categories (from ``data``, or the dict's allowed values, or str
        labels of codes ``0..k-1``); a change costs 1 in the distance.
    n : int
        How many counterfactuals; with ``n > 1`` each changes a different set of features (diverse).
    sparse : bool
        Prefer fewer changed features over a smaller distance (a sparse instead of the closest one).
    method : {"auto", "gradient", "growing_spheres"}
        "auto": gradient for torch modules, growing spheres otherwise.
    feature_names, class_names : optional names (class names also come from the model: a Model's
        ``class_names``, an estimator's string ``classes_``).
    max_seeds : int
        Rows of ``data`` (projected onto the constraints) that seed growing spheres.
    seed : int or None
        Random seed (restarts, sphere samples); default 0: reproducible; None: fresh randomness.
    progress : None, bool or callable
        None: a progress bar when the search is long; True/False: always/never; a callable is given the
        fraction done.

    Returns
    -------
    CounterfactualResult

    Raises
    ------
    InputError
        Wrong shapes, NaN, unknown feature names, ranges that exclude the original value, a non-integer
        original value of an integer feature, a target that is not a class, an epsilon out of range.

    Examples
    --------
    >>> data = nbx.datasets.credit()
    >>> clf = GradientBoostingClassifier(random_state=0).fit(data.X, data.y)
    >>> r = nbx.counterfactual(clf, data.X[1], data.X, feature_names=data.feature_names,
    ...                        class_names=data.class_names, immutable=["Age", "Gender", "Ethnicity"],
    ...                        integer=data.integer, categorical=data.categories, n=3)
    >>> r.best.valid
    True
    >>> print(r.summary()); r.to_frame(); r.plot()  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    table = as_table(data, feature_names, "data")
    m = tabular_model(model, table, class_names)
    method = check_choice(method, "method", METHODS)
    n = check_int(n, "n", 1)
    sparse = check_bool(sparse, "sparse")
    max_seeds = check_int(max_seeds, "max_seeds", minimum=0)
    xv = as_row(x, table)
    space = feature_space(table, xv, immutable=immutable, ranges=ranges, integer=integer, categorical=categorical)
    objective, scores0 = make_objective(m, xv, target, target_probability, epsilon)
    if method == "auto":
        method = "gradient" if m.differentiable else "growing_spheres"
    elif method == "gradient":
        m.torch_module  # noqa: B018 - raises NotDifferentiableError with a clear message
    cancellable = callable(progress)  # a caller's callable may stop the search (widgets do): ask it between calls
    progress = reporter(progress, "counterfactual search")
    fraction = [0.0]

    def report(f: float) -> None:
        fraction[0] = min(1.0, f)
        if progress is not None:
            progress(fraction[0])

    problem = Problem(m, space, objective, (lambda: progress(fraction[0])) if cancellable else None)
    problem.f0 = float(objective.value(m, scores0[None])[0])
    rng = np.random.default_rng(seed)
    seeds = table.values
    if len(seeds) > max_seeds:
        seeds = seeds[rng.choice(len(seeds), max_seeds, replace=False)] if max_seeds else seeds[:0]
    with single_thread(m.kind == "torch" and space.n_features <= 256):
        found = find(problem, method, rng, seeds, n, sparse, scores0, report)
    predictions = found.scores if objective.kind == "regression" else m.to_probabilities(found.scores)
    changed = space.changed(found.X)
    cfs = [Counterfactual(x=found.X[i].copy(), prediction=predictions[i].copy(), value=float(found.f[i]),
                          distance=float(space.distance(found.X[i][None])[0]), changed=changed[i],
                          valid=bool(objective.valid(found.f[i])), loss=float(found.loss[i]),
                          delta=found.X[i] - xv)
           for i in range(len(found.X))]
    report(1.0)
    p0 = scores0 if objective.kind == "regression" else m.to_probabilities(scores0[None])[0]
    return CounterfactualResult(
        counterfactuals=cfs, original=xv, original_prediction=p0, feature_names=list(table.feature_names),
        class_names=m.class_names, target=objective.target, target_name=objective.target_name,
        desired=objective.desired, epsilon=objective.epsilon, kind=objective.kind, scale=space.scale,
        method=method, lam=found.lam, n_evaluations=int(problem.n_evaluations),
        seconds=time.perf_counter() - t0, space=space, _model=m, _data=data,
    )


__all__ = ["Counterfactual", "CounterfactualResult", "counterfactual"]
