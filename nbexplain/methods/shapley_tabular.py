"""Shapley values of one tabular row, with interventional (background) value functions.

The game (Lundberg & Lee 2017; Janzing et al. 2020 for the interventional reading): the players are the
features, and the value of a coalition S is the mean model output over a background sample with the
features in S set to the row's values,

    v(S) = 1/B · Σ_b f(x_S, b_(not S)).

* ``method="exact"`` (default for M ≤ 16 features): all 2**M coalitions × B background rows are predicted
  — built one model batch at a time as a lazy batch, so a model sees chunks of at most 8192 rows and the
  table never sits in memory as inputs — and :func:`~nbexplain.methods.shapley.exact_shapley` weights the
  2**M values (Shapley 1953).
* ``method="sampled"`` (default beyond 16): antithetic permutation sampling (Castro et al. 2009).
* ``method="kernel"``: KernelSHAP, the Shapley-kernel weighted regression (Lundberg & Lee 2017).

All three come from the generic core in :mod:`.shapley`; this module only builds the value function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..adapters import Model, as_model
from ..errors import InputError
from ..tabular import Output, Table, as_table, check_positive_int, tabular_model
from .coalitions import all_coalitions
from .counterfactual_space import as_point
from .shapley import exact_shapley, kernel_shap, sampled_shapley
from .tabular_explanation import TabularExplanation

#: largest number of features for which ``method="auto"`` enumerates every coalition
MAX_EXACT = 16
SHAPLEY_METHODS = ("auto", "exact", "sampled", "kernel")


class CoalitionBatch:
    """Lazy ``(N * B, F)`` batch: row ``i`` is background row ``i % B`` with the features of coalition
    ``i // B`` taken from ``x``. Slicing builds just the rows asked for (one model batch)."""

    def __init__(self, x: np.ndarray, background: np.ndarray, coalitions: np.ndarray):
        self.x = x
        self.background = background
        self.coalitions = coalitions
        self.shape = (len(coalitions) * len(background), len(x))
        self.dtype = np.dtype(np.float64)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, span: slice) -> np.ndarray:
        if not isinstance(span, slice):
            raise TypeError("CoalitionBatch supports slices only")
        start, stop, _ = span.indices(self.shape[0])
        b = len(self.background)
        c0, c1 = start // b, (stop - 1) // b + 1
        block = np.where(self.coalitions[c0:c1, None, :], self.x, self.background[None])  # (c, B, F)
        return block.reshape(-1, self.shape[1])[start - c0 * b: stop - c0 * b]


class BackgroundGame:
    """The interventional value function ``v(S) = mean_b f(x_S, b_rest)`` of one row, for every output.

    ``self(coalitions)`` maps ``(N, M)`` bool to ``(N, K)``: the mean over the background of the model's
    probabilities (classifiers) or its output (regression). Counts evaluated rows in ``n_evaluations``.
    """

    def __init__(self, model: Model, x: np.ndarray, background: np.ndarray, output: Output,
                 progress: Callable[[float], None] | None = None):
        self.model = model
        self.x = x
        self.background = background
        self.output = output
        self.progress = progress
        self.n_evaluations = 0

    def __call__(self, coalitions: np.ndarray) -> np.ndarray:
        z = np.asarray(coalitions, dtype=bool)
        batch = CoalitionBatch(self.x, self.background, z)
        scores = self.model.predict(batch, progress=self.progress)
        self.n_evaluations += len(batch)
        if self.output.kind == "probability":
            scores = self.model.to_probabilities(scores)
        else:
            scores = scores[:, :1]
        return scores.reshape(len(z), len(self.background), -1).mean(axis=1)


def _background(table: Table, n_background: int | None, seed: int | None) -> np.ndarray:
    values = table.values
    if n_background is None or len(values) <= n_background:
        return np.array(values)
    rng = np.random.default_rng(seed)
    return np.array(values[np.sort(rng.choice(len(values), n_background, replace=False))])


def resolve_output(model: Model, table: Table, x: np.ndarray, target: Any) -> tuple[Output, np.ndarray]:
    """What to explain: the probability of ``target`` (None: the class predicted for ``x``) or the output
    of a regression (one output column that is not a probability); returns it and the scores at ``x``.
    One model call of one row."""
    from ..attribution import resolve_target

    scores = model.predict(x[None])
    if scores.shape[1] == 1 and model.output != "probabilities":
        if target not in (None, 0):
            raise InputError(f"target={target!r} is not valid: the model has one output (a regression); use None")
        return Output("regression", 0, "prediction", 0), scores[0]
    probabilities = model.to_probabilities(scores)[0]
    index = int(np.argmax(probabilities)) if target is None else resolve_target(target, probabilities, model.class_names)
    return Output("probability", index, model.class_name(index), len(probabilities)), scores[0]


def shapley_tabular(
    model: Any,
    x: Any,
    background: Any,
    *,
    target: Any = None,
    method: str = "auto",
    n_background: int | None = 100,
    n_samples: int | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    seed: int | None = 0,
    progress: Callable[[float], None] | None = None,
) -> TabularExplanation:
    """Shapley values of the features of one row, against a background sample (interventional).

    Implements Shapley (1953) for the game ``v(S) = mean_b f(x_S, b_rest)`` (Lundberg & Lee 2017): exactly
    from all 2**M coalitions for M ≤ 16 features, by antithetic permutation sampling (Castro et al. 2009)
    beyond, or by KernelSHAP. The values of every class are computed; ``values`` holds the target's.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    x : (F,) array-like, Series or one-row DataFrame
        The row to explain.
    background : (N, F) array-like or DataFrame
        Rows that stand in for absent features (e.g. the training data).
    target : int, str or None
        The class whose probability is explained (None: the class predicted for ``x``); regression
        models (one output) explain their output and take None.
    method : {"auto", "exact", "sampled", "kernel"}
        "auto": exact for at most 16 features, else sampled.
    n_background : int or None
        Background rows used (a seeded random subset when there are more; None: all).
    n_samples : int, optional
        "sampled": permutations (default 100); "kernel": coalitions (default ``2 M + 2048``).
    feature_names, class_names : optional names.
    seed : int or None
        Background subset and sampling.
    progress : callable, optional
        Called with the fraction of model rows done.

    Returns
    -------
    TabularExplanation

    Examples
    --------
    >>> e = nbx.shapley_tabular(clf, X[0], X_train)
    >>> e.values.sum(), e.prediction - e.base_value   # efficiency
    >>> e.plot()
    """
    t0 = time.perf_counter()
    if method not in SHAPLEY_METHODS:
        raise InputError(f"method={method!r} is not valid: expected one of {list(SHAPLEY_METHODS)}")
    table = as_table(background, feature_names, "background")
    m = tabular_model(model, table)
    if class_names is not None:
        m = as_model(m, class_names=class_names)
    if n_background is not None:
        n_background = check_positive_int(n_background, "n_background")
    xv = as_point(x, table)
    out, _ = resolve_output(m, table, xv, target)
    f = table.n_features
    if method == "auto":
        method = "exact" if f <= MAX_EXACT else "sampled"
    if method == "exact" and f > 20:
        raise InputError(f"method='exact' enumerates 2**{f} coalitions; with {f} features use 'sampled' or 'kernel'")
    if method == "kernel" and f < 2:
        raise InputError("method='kernel' needs at least 2 features; use 'exact'")
    bg = _background(table, n_background, seed)
    game = BackgroundGame(m, xv, bg, out, progress)
    if method == "exact":
        sv = exact_shapley(game(all_coalitions(f)))
    elif method == "sampled":
        n = 100 if n_samples is None else check_positive_int(n_samples, "n_samples")
        game.progress = None
        sv = sampled_shapley(game, f, n, antithetic=True, seed=seed, progress=progress)
    else:
        n = 2 * f + 2048 if n_samples is None else check_positive_int(n_samples, "n_samples", minimum=4)
        game.progress = None
        sv = kernel_shap(game, f, n, seed=seed, progress=progress)
    k = out.target if out.kind == "probability" else 0
    return TabularExplanation(
        values=sv.values[:, k].copy(), x=xv, feature_names=list(table.feature_names),
        prediction=float(sv.full_value[k]), base_value=float(sv.base_value[k]), target=out.target,
        target_name=out.target_name, output=out.kind, method=method, all_values=sv.values,
        all_base=sv.base_value, std=None if sv.std is None else sv.std[:, k].copy(),
        n_evaluations=game.n_evaluations, efficiency_gap=float(sv.efficiency_gap[k]),
        seconds=time.perf_counter() - t0, _model=model, _data=background,
    )


__all__ = ["BackgroundGame", "CoalitionBatch", "shapley_tabular"]
