"""Which counterfactuals to report, in which order: Wachter's loss at the λ where growing stops, and diversity.

Wachter, Mittelstadt and Russell (2017) minimise ``λ·(f(x') - y')² + d(x, x')`` and let λ grow until the
optimum is valid. Over a pool of evaluated candidates this is exact without any optimisation: λ grows
continuously until some valid row's loss is no larger than that of ``x`` itself, and at that λ* the row
attaining it has the smallest loss of all valid rows (:func:`rank`). :func:`choose` keeps the ``n``
best-ranked valid rows that change pairwise different sets of features (diverse counterfactuals).
"""

from __future__ import annotations

import numpy as np

from .space import Problem

#: the λ the growth starts from (and the ranking's λ when no valid row improves on x)
LAMBDA_START = 0.1


def rank(problem: Problem, X: np.ndarray, f: np.ndarray, f0: float, sparse: bool) -> tuple[np.ndarray, float, np.ndarray]:
    """Order rows ``X`` (outputs ``f``; ``f0`` is x's): valid first, then by Wachter's loss at λ*.

    ``λ* = min_i d_i / (pen(x) - pen_i)`` over valid rows (at least :data:`LAMBDA_START`). ``sparse``
    orders by the number of changed features first. Returns ``(order, λ*, loss of each row)``.

    Examples
    --------
    >>> order, lam, loss = rank(problem, pool.X, pool.f, f0, sparse=False)
    """
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


def choose(problem: Problem, X: np.ndarray, f: np.ndarray, refined: np.ndarray, f0: float, n: int,
           sparse: bool) -> tuple[np.ndarray, float]:
    """Indices of the ``n`` best-ranked valid rows of ``X`` with pairwise different sets of changed
    features, among the rows made minimal (``refined``) when there are any; and the ranking's λ*."""
    if len(X) == 0:
        return np.empty(0, dtype=int), LAMBDA_START
    sp = problem.space
    key = np.round((X - sp.original) / sp.scale, 9)
    _, first = np.unique(key, axis=0, return_index=True)
    idx = np.sort(first)
    idx = idx[problem.objective.valid(f[idx])]
    if len(idx) == 0:
        return idx, LAMBDA_START
    if refined[idx].any():  # rank the points made minimal; the raw samples were only their starts
        idx = idx[refined[idx]]
    order, lam, _ = rank(problem, X[idx], f[idx], f0, sparse)
    order = idx[order]
    changed = sp.changed(X)
    picked: list[int] = [int(order[0])]
    seen: set[bytes] = {changed[order[0]].tobytes()}
    for i in order:
        if len(picked) == n:
            break
        k = changed[i].tobytes()
        if k in seen:
            continue
        seen.add(k)
        picked.append(int(i))
    return np.array(picked, dtype=int), lam


__all__ = ["LAMBDA_START", "choose", "rank"]
