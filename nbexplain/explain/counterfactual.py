"""Counterfactual explanations: the smallest change of a row that makes the model decide otherwise.

Implements Wachter, Mittelstadt and Russell (2017), "Counterfactual explanations without opening the black
box", as the survey states it: minimise ``λ·(f(x') - y')² + d(x, x')`` where ``f`` is the probability of the
target class (or a regression output), ``y'`` the desired value and ``d`` the L1 distance scaled per feature
by the median absolute deviation (MAD) over the training data; ``λ`` grows until ``|f(x') - y'| <= ε``, and
among the candidates found the one with the smallest loss comes first.

How candidates are found:

* ``method="gradient"`` (torch modules): the Wachter objective minimised with autograd and Adam for a
  schedule of λ values side by side (:mod:`.counterfactual_gradient`).
* ``method="growing_spheres"`` (any black box, e.g. scikit-learn trees): growing spheres in the MAD-L1
  geometry (Laugel et al. 2018; :mod:`.counterfactual_spheres`).
* Both add one-feature line searches (every feature, both directions, every other category). When the
  gradient finds no valid point (a saturated output has a vanishing gradient: p(target) = 1e-12 moves
  nothing), growing spheres runs for the torch model too.

Every candidate is then made as small as it can be while it stays valid: it is shrunk along the segment
back to ``x``, the changes that are not needed are undone (Laugel's coordinate-wise sparsification), and
each remaining change is moved back towards ``x`` coordinate by coordinate until the next step would make it
invalid, which is where the smallest valid λ's optimum lies. The rounds are batched so that each costs one
model call (:mod:`.counterfactual_search`). Constraints are hard throughout: immutable
features never move, ranges are projected, integers stay integers, categoricals take only their categories
(:class:`~.counterfactual_space.FeatureSpace`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int
from ..adapters.model import as_model
from ..errors import InputError
from ..inputs.tables import as_table, tabular_model
from ..methods.counterfactual.space import (
    FeatureSpace,
    Objective,
    Problem,
    as_point,
    feature_space,
    make_objective,
)
from ..plotting.figure import ShownAsPNG

METHODS = ("auto", "gradient", "growing_spheres")
LAMBDA_START = 0.1


# ---------------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------------
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
class CounterfactualResult(ShownAsPNG):
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
    _train: Any = field(default=None, repr=False)

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

    def plot(self, ax=None, index: int = 0):
        """Bar chart of the changes of counterfactual ``index`` in MADs (categories: ±1); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 0.4 * max(3, self.best.n_changed + 2)))
        cf = self.counterfactuals[index]
        changes = self.changes(index)
        names = [c["feature"] for c in changes]
        sizes = [c["mads"] if c["mads"] is not None else 1.0 for c in changes]
        y = np.arange(len(changes))[::-1]
        colors = ["#2166ac" if s >= 0 else "#b2182b" for s in sizes]
        ax.barh(y, sizes, color=colors)
        ax.axvline(0, color="0.3", lw=0.8)
        for yi, s, c in zip(y, sizes, changes, strict=True):
            ax.annotate(f" {c['original_label']} → {c['label']} ", (s, yi), va="center",
                        ha="left" if s >= 0 else "right", fontsize=8)
        ax.set_yticks(y, names)
        ax.set_xlabel("change (MADs; categories: 1)")
        state = "valid" if cf.valid else "not valid"
        ax.set_title(f"counterfactual #{index + 1}: f={cf.value:.2f} ({state}), distance {cf.distance:.3g}", fontsize=9)
        if len(changes) == 0:
            ax.text(0.5, 0.5, "no change needed", transform=ax.transAxes, ha="center")
        lim = max([abs(s) for s in sizes] + [1.0])
        ax.set_xlim(-1.6 * lim if min(sizes + [0]) < 0 else -0.1 * lim, 1.6 * lim if max(sizes + [0]) > 0 else 0.1 * lim)
        return ax

    def widget(self, model: Any = None, X_train: Any = None, **kwargs: Any):
        """A :class:`~nbexplain.CounterfactualSliders` at the original row with these counterfactuals listed."""
        from ..widgets.counterfactual import CounterfactualSliders

        model = model if model is not None else self._model
        X_train = X_train if X_train is not None else self._train
        if model is None or X_train is None:
            raise InputError("this result holds no model or training data; pass model= and X_train=")
        return CounterfactualSliders.from_result(self, model, X_train, **kwargs)


# ---------------------------------------------------------------------------------------------------
# ranking
# ---------------------------------------------------------------------------------------------------
def _rank(problem: Problem, X: np.ndarray, f: np.ndarray, f0: float, sparse: bool) -> tuple[np.ndarray, float, np.ndarray]:
    """Order rows: valid first, then by Wachter's loss ``λ (f - y')² + d`` at the λ where growing stops.

    λ grows (continuously) until a valid row's loss is no larger than that of x itself (the unchanged row):
    ``λ* = min_i d_i / (pen(x) - pen_i)`` over valid rows, and at λ* the row attaining that minimum has the
    smallest loss of all valid rows. ``sparse`` orders by the number of changed features first."""
    sp = problem.space
    obj = problem.objective
    d = sp.distance(X)
    pen = obj.penalty(f)
    valid = obj.valid(f)
    pen0 = float(obj.penalty(f0))
    lam = LAMBDA_START
    better = valid & (pen < pen0)
    if better.any() and not obj.valid(f0):
        lam = max(LAMBDA_START, float(np.min(d[better] / (pen0 - pen[better]))))
    loss = lam * pen + d
    n_changed = sp.changed(X).sum(axis=1)
    keys = (loss, n_changed, ~valid) if sparse else (n_changed, loss, ~valid)
    return np.lexsort(keys), lam, loss


def counterfactual(
    model: Any,
    x: Any,
    X_train: Any,
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
    progress: Callable[[float], None] | None = None,
) -> CounterfactualResult:
    """Find the smallest change of ``x`` that brings the model's output to the target (Wachter et al. 2017).

    Minimises ``λ·(f(x') - y')² + d(x, x')`` with ``d`` the L1 distance scaled per feature by the median
    absolute deviation over ``X_train``; λ grows until ``|f(x') - y'| <= ε``; the candidates found are ranked
    by that loss. Gradient-based for torch modules, growing spheres for any other model (see the module
    docstring); constraints hold exactly for every returned point.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    x : (F,) array-like, one-row DataFrame or Series
        The row to explain.
    X_train : (N, F) array-like or DataFrame
        Training data: the MAD scale, the default ranges (its min and max) and the categories.
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
        Allowed values (each range must contain the original value; None for a training min/max).
        Default: the training minimum and maximum of every feature.
    integer : list of features
        Features that stay whole numbers.
    categorical : list of features, or dict ``{feature: categories}``
        Features that take only their categories (from the training data, or the dict's allowed values, or
        str labels of codes ``0..k-1``); a change costs 1 in the distance.
    n : int
        How many counterfactuals; with ``n > 1`` each changes a different set of features (diverse).
    sparse : bool
        Prefer fewer changed features over a smaller distance (a sparse instead of the closest one).
    method : {"auto", "gradient", "growing_spheres"}
        "auto": gradient for torch modules, growing spheres otherwise.
    feature_names, class_names : optional names.
    max_seeds : int
        Training rows (projected onto the constraints) that seed growing spheres.
    seed : int or None
        Random seed (restarts, sphere samples).
    progress : callable, optional
        Called with the fraction done.

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
    ...                        immutable=["Age", "Gender", "Ethnicity"], integer=data.integer,
    ...                        categorical=data.categories, n=3)
    >>> r.best.valid
    True
    >>> print(r.summary())  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    table = as_table(X_train, feature_names, "X_train")
    m = tabular_model(model, table)
    if class_names is not None:
        m = as_model(m, class_names=class_names)
    if method not in METHODS:
        raise InputError(f"method={method!r} is not valid: expected one of {list(METHODS)}")
    n = check_int(n, "n", 1)
    if not isinstance(sparse, (bool, np.bool_)):
        raise InputError(f"sparse must be True or False; got {sparse!r}")
    sparse = bool(sparse)
    max_seeds = check_int(max_seeds, "max_seeds", minimum=0)
    xv = as_point(x, table)
    space = feature_space(table, xv, immutable=immutable, ranges=ranges, integer=integer, categorical=categorical)
    objective, scores0 = make_objective(m, xv, target, target_probability, epsilon)
    if method == "auto":
        method = "gradient" if m.differentiable else "growing_spheres"
    elif method == "gradient":
        m.torch_module  # noqa: B018 - raises NotDifferentiableError with a clear message

    fraction = [0.0]

    def report(f: float) -> None:
        fraction[0] = f
        if progress is not None:
            progress(min(1.0, f))

    def check() -> None:
        if progress is not None:
            progress(fraction[0])

    problem = Problem(m, space, objective, check if progress is not None else None)
    problem.f0 = float(objective.value(m, scores0[None])[0])
    rng = np.random.default_rng(seed)
    seeds = table.values
    if len(seeds) > max_seeds:
        seeds = seeds[rng.choice(len(seeds), max_seeds, replace=False)] if max_seeds else seeds[:0]
    rounds = 1 + max(0, n - 1)
    from ..methods.counterfactual.gradient import single_thread

    with single_thread(m.kind == "torch" and space.n_features <= 256):
        return _run(m, xv, table, space, objective, scores0, problem, method, rng, seeds, n, sparse,
                    rounds, report, t0, model, X_train)


def _run(m, xv, table, space, objective, scores0, problem, method, rng, seeds, n, sparse, rounds, report, t0,
         model, X_train) -> CounterfactualResult:
    from ..methods.counterfactual.search import search

    pool = search(problem, method, rng, sparse, seeds, 1 if n == 1 else 3, lambda f: report(f / rounds))
    f0 = float(objective.value(m, scores0[None])[0])
    picked, lam = _choose(problem, pool, f0, n, sparse)
    frozen: list[int] = []
    attempt = 0
    while len(picked) < n and attempt < n and len(picked) > 0:
        # ask for alternatives that leave the main change of each counterfactual so far alone
        attempt += 1
        for row in pool.X[picked]:
            main = _order_changes(space, row)
            if len(main) and int(main[-1]) not in frozen:
                frozen.append(int(main[-1]))
                break
        else:
            break
        sub = problem.with_space(space.frozen(frozen))
        more = search(sub, method, rng, sparse, seeds, 1, lambda f, a=attempt: report((a + f) / rounds))
        problem.n_evaluations = sub.n_evaluations
        pool.extend(more)
        picked, lam = _choose(problem, pool, f0, n, sparse)
    if len(picked) == 0:  # nothing valid: report x itself, not valid
        rows, scores = xv[None], scores0[None]
    else:
        rows, scores = pool.X[picked], pool.scores[picked]
    f = objective.value(m, scores)
    order, lam, loss = _rank(problem, rows, f, f0, sparse)
    preds = scores if objective.kind == "regression" else m.to_probabilities(scores)
    changed = space.changed(rows)
    cfs = [Counterfactual(x=rows[i].copy(), prediction=preds[i].copy(), value=float(f[i]),
                          distance=float(space.distance(rows[i][None])[0]), changed=changed[i],
                          valid=bool(objective.valid(f[i])), loss=float(loss[i]), delta=rows[i] - xv)
           for i in order]
    report(1.0)
    p0 = scores0 if objective.kind == "regression" else m.to_probabilities(scores0[None])[0]
    return CounterfactualResult(
        counterfactuals=cfs, original=xv, original_prediction=p0, feature_names=list(table.feature_names),
        class_names=m.class_names, target=objective.target, target_name=objective.target_name,
        desired=objective.desired, epsilon=objective.epsilon, kind=objective.kind, scale=space.scale,
        method=method, lam=float(lam), n_evaluations=int(problem.n_evaluations),
        seconds=time.perf_counter() - t0, space=space, _model=model, _train=X_train,
    )


def _choose(problem: Problem, pool, f0: float, n: int, sparse: bool) -> tuple[np.ndarray, float]:
    """Indices of the ``n`` best-ranked valid rows of ``pool`` with pairwise different sets of changed
    features, among the rows made minimal (refined) when there are any."""
    if len(pool) == 0:
        return np.empty(0, dtype=int), LAMBDA_START
    sp = problem.space
    key = np.round((pool.X - sp.original) / sp.scale, 9)
    _, first = np.unique(key, axis=0, return_index=True)
    idx = np.sort(first)
    idx = idx[problem.objective.valid(pool.f[idx])]
    if len(idx) == 0:
        return idx, LAMBDA_START
    if pool.refined[idx].any():  # rank the points made minimal; the raw samples were only their starts
        idx = idx[pool.refined[idx]]
    order, lam, _ = _rank(problem, pool.X[idx], pool.f[idx], f0, sparse)
    order = idx[order]
    best = order[0]
    changed = sp.changed(pool.X)
    picked: list[int] = [int(best)]
    seen: set[bytes] = {changed[best].tobytes()}
    for i in order:
        if len(picked) == n:
            break
        k = changed[i].tobytes()
        if k in seen:
            continue
        seen.add(k)
        picked.append(int(i))
    return np.array(picked, dtype=int), lam


def _order_changes(sp: FeatureSpace, c: np.ndarray) -> np.ndarray:
    from ..methods.counterfactual.search import _order_changes as order

    return order(sp, c)


__all__ = ["Counterfactual", "CounterfactualResult", "counterfactual", "Objective", "FeatureSpace"]
