"""Permutation feature importance (Breiman 2001; model reliance, Fisher, Rudin & Dominici 2019).

Shuffle one column, measure how much a score drops. Permutations are drawn exactly as scikit-learn's
``permutation_importance`` draws them (one seed from ``random_state``; the same cumulative shuffles of a
row index for every column), so both give identical numbers for the same ``random_state``; here every
permuted copy of every column and repeat is predicted as one lazy batch of ``F * R * N`` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...errors import InputError
from .pdp import blocks


def sklearn_permutations(n: int, n_repeats: int, random_state) -> np.ndarray:
    """``(n_repeats, n)`` row orders: ``X[:, j]`` in repeat r is ``X[perm[r], j]`` (scikit-learn's scheme)."""
    if isinstance(random_state, np.random.RandomState):
        rs = random_state
    elif random_state is None:
        rs = np.random.mtrand._rand
    else:
        rs = np.random.RandomState(random_state)
    seed = rs.randint(np.iinfo(np.int32).max + 1)
    inner = np.random.RandomState(seed)
    shuffle = np.arange(n)
    perm = np.arange(n)
    out = np.empty((n_repeats, n), dtype=np.int64)
    for r in range(n_repeats):
        inner.shuffle(shuffle)
        perm = perm[shuffle]
        out[r] = perm
    return out


class PermutedBatch:
    """Lazy ``(F * R * N, F)`` batch: block ``(j, r)`` is ``X`` with column ``columns[j]`` reordered by ``perms[r]``."""

    def __init__(self, X: np.ndarray, columns: Sequence[int], perms: np.ndarray):
        self.X, self.columns, self.perms = X, list(columns), perms
        self.n = X.shape[0]
        self.shape = (len(self.columns) * len(perms) * self.n, X.shape[1])
        self.dtype = X.dtype
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, span: slice) -> np.ndarray:
        start, stop, _ = span.indices(self.shape[0])
        out = np.empty((stop - start, self.shape[1]), dtype=self.dtype)
        for b, lo, hi, at in blocks(start, stop, self.n):
            j, r = divmod(b, len(self.perms))
            col = self.columns[j]
            piece = out[at:at + hi - lo]
            piece[:] = self.X[lo:hi]
            piece[:, col] = self.X[self.perms[r, lo:hi], col]
        return out


# ---- scores: higher is better; (y_true, predictions) -> float ------------------------------------
def _r2(y, p):
    ss_res = np.sum((y - p) ** 2)
    ss_tot = np.sum((y - np.mean(y)) ** 2)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def _accuracy(y, labels):
    return float(np.mean(y == labels))


def _neg_log_loss(y_index, proba):
    eps = np.finfo(np.float64).eps
    p = np.clip(proba[np.arange(len(y_index)), y_index], eps, 1 - eps)
    return float(np.mean(np.log(p)))


REGRESSION_SCORES: dict[str, Callable] = {
    "r2": _r2,
    "neg_mean_squared_error": lambda y, p: -float(np.mean((y - p) ** 2)),
    "neg_mean_absolute_error": lambda y, p: -float(np.mean(np.abs(y - p))),
}
CLASSIFICATION_SCORES = ("accuracy", "neg_log_loss")


def check_scoring(scoring, regression: bool) -> str | Callable:
    """Validate ``scoring`` for the kind of model."""
    if scoring is None:
        return "r2" if regression else "accuracy"
    if callable(scoring):
        return scoring
    valid = list(REGRESSION_SCORES) if regression else list(CLASSIFICATION_SCORES)
    if scoring not in valid:
        kind = "a regression" if regression else "a classifier"
        raise InputError(f"scoring={scoring!r} is not valid for {kind}: expected one of {valid} or a callable")
    return scoring
