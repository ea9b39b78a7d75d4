"""Anchors of tabular rows (Ribeiro, Singh & Guestrin 2018): predicates on a row's features as players.

Each numeric feature is discretised by the quantiles of the reference ``data`` (quartiles by default, as the
authors' ``anchor`` package): every cut point ``q`` gives the predicate the row satisfies, ``feature <= q``
or ``feature > q``; two of them on one feature make an interval. A categorical feature gives one predicate,
``feature = x's value``. These predicates are the players of :func:`~.anchors.anchor_search`, through
:class:`TabularAnchorSampler`, whose perturbation distribution is the authors': a random row of ``data``, with
each feature an anchor constrains replaced by the value of a random data row that satisfies the anchor's
predicates on it. Coverage is the share of ``data`` rows that satisfy the anchor.

Examples
--------
>>> predicates = feature_predicates(x, data, categorical=np.zeros(4, bool))
>>> sampler = TabularAnchorSampler(lambda rows: model.predict(rows), x, data, predicates, target=1)
>>> found = anchor_search(sampler, beam_size=4)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..._validation import check_int, check_seed
from ...errors import InputError

OPS = ("<=", ">", "=")


@dataclass(frozen=True)
class Predicate:
    """``feature op value``: ``<=`` and ``>`` for numeric features, ``=`` for categorical ones."""

    feature: int
    op: str
    value: float

    def holds(self, column: np.ndarray) -> np.ndarray:
        """Whether each value of the feature's column satisfies the predicate."""
        if self.op == "<=":
            return column <= self.value
        if self.op == ">":
            return column > self.value
        return column == self.value


def quantile_cuts(column: np.ndarray, n_bins: int) -> np.ndarray:
    """The distinct inner cut points of ``n_bins`` quantile bins of ``column`` (fewer when values repeat)."""
    cuts = np.unique(np.quantile(column, np.arange(1, n_bins) / n_bins))
    return cuts[cuts < column.max()]  # a cut at the maximum splits nothing off


def feature_predicates(x: np.ndarray, data: np.ndarray, categorical: np.ndarray, n_bins: int = 4) -> list[Predicate]:
    """Every predicate the row ``x`` satisfies: one per quantile cut of each numeric feature (``<=`` the cut
    or ``>`` it), and ``= x's value`` for each categorical feature."""
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    out = []
    for j in range(len(x)):
        if categorical[j]:
            out.append(Predicate(j, "=", float(x[j])))
            continue
        for cut in quantile_cuts(data[:, j], n_bins):
            out.append(Predicate(j, "<=" if x[j] <= cut else ">", float(cut)))
    return out


class TabularAnchorSampler:
    """Perturbations of a row for :func:`~.anchors.anchor_search`: data rows whose anchored features take
    values that satisfy the anchor (drawn from the data rows that do), labelled by the model.

    Parameters
    ----------
    labels : callable
        ``rows (N, F) -> (N,)`` the model's predicted class of each row.
    x : (F,) - the explained row; data : (B, F) - the reference rows.
    predicates : list of Predicate - the players (:func:`feature_predicates`).
    target : int - the class the anchor keeps (the model's prediction for ``x``).
    seed : int or None
    """

    def __init__(self, labels: Callable[[np.ndarray], np.ndarray], x: np.ndarray, data: np.ndarray,
                 predicates: Sequence[Predicate], target: int, seed: int | None = 0) -> None:
        if len(predicates) == 0:
            raise InputError("there are no predicates to anchor on (every feature is constant in data)")
        self.labels, self.x, self.data = labels, np.asarray(x, float), np.asarray(data, float)
        self.predicates = list(predicates)
        self.n_players = len(self.predicates)
        self.target = int(target)
        self.rng = np.random.default_rng(check_seed(seed))
        self.satisfied = self.holds(self.data)  # (B, P)
        self._features = np.array([p.feature for p in self.predicates])
        self._coverage: dict[tuple, float] = {}

    def holds(self, rows: np.ndarray) -> np.ndarray:
        """(N, P) whether each row satisfies each predicate."""
        return np.stack([p.holds(rows[:, p.feature]) for p in self.predicates], axis=1)

    def perturb(self, required: np.ndarray) -> np.ndarray:
        """(N, F) rows: random data rows in which each feature that the row's ``required`` predicates constrain
        and that breaks them is redrawn from the data values that satisfy them (the ``anchor`` package's
        ``sample_from_train``: a row that already satisfies them is kept whole)."""
        required = np.asarray(required, dtype=bool)
        rows = self.data[self.rng.integers(len(self.data), size=len(required))].copy()
        patterns, inverse = np.unique(required, axis=0, return_inverse=True)
        for k, pattern in enumerate(patterns):
            members = np.flatnonzero(inverse.ravel() == k)
            chosen = np.flatnonzero(pattern)
            for j in np.unique(self._features[chosen]):
                on_j = chosen[self._features[chosen] == j]
                fits = np.all([self.predicates[k].holds(rows[members, j]) for k in on_j], axis=0)
                redraw = members[~fits]  # a row that satisfies them keeps its value (and its other features')
                if len(redraw):
                    values = self.data[self.satisfied[:, on_j].all(axis=1), j]
                    rows[redraw, j] = self.rng.choice(values, len(redraw)) if len(values) else self.x[j]
        return rows

    def sample(self, required: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = self.perturb(required)
        return self.holds(rows) | np.asarray(required, bool), np.asarray(self.labels(rows)) == self.target

    def coverage(self, anchor: tuple[int, ...]) -> float:
        key = tuple(sorted(anchor))
        if key not in self._coverage:
            self._coverage[key] = float(self.satisfied[:, list(key)].all(axis=1).mean()) if key else 1.0
        return self._coverage[key]


def rule_terms(predicates: Sequence[Predicate], feature_names: Sequence[str],
               labels: dict[int, Sequence[str]] | None = None, integer: np.ndarray | None = None) -> list[str]:
    """The predicates as readable terms, one per feature in order of first appearance: ``Income > 57.3``,
    ``33 < Age <= 47``, ``Student = No`` (``labels[j][code]`` names category codes)."""
    labels = labels or {}
    order: list[int] = []
    for p in predicates:
        if p.feature not in order:
            order.append(p.feature)

    def number(j: int, v: float) -> str:
        return f"{v:.0f}" if integer is not None and integer[j] and float(v).is_integer() else f"{v:.4g}"

    terms = []
    for j in order:
        on_j = [p for p in predicates if p.feature == j]
        name = feature_names[j]
        equal = [p for p in on_j if p.op == "="]
        if equal:
            v = equal[0].value
            names = labels.get(j)
            shown = names[int(v)] if names is not None and float(v).is_integer() and 0 <= int(v) < len(names) \
                else number(j, v)
            terms.append(f"{name} = {shown}")
            continue
        lower = max((p.value for p in on_j if p.op == ">"), default=None)
        upper = min((p.value for p in on_j if p.op == "<="), default=None)
        if lower is not None and upper is not None:
            terms.append(f"{number(j, lower)} < {name} <= {number(j, upper)}")
        elif lower is not None:
            terms.append(f"{name} > {number(j, lower)}")
        else:
            terms.append(f"{name} <= {number(j, upper)}")
    return terms


__all__ = ["OPS", "Predicate", "TabularAnchorSampler", "feature_predicates", "quantile_cuts", "rule_terms"]
