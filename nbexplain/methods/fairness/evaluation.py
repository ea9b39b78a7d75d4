"""A disaggregated evaluation: every grouping's metrics with bootstrap intervals, worst-off groups and disparities.

One pass of :mod:`.metrics` counts the metrics of all rows as one group and of every grouping (each sensitive
attribute and their intersection) at once; the bootstrap of :mod:`.bootstrap` draws the resamples as
fairlearn's ``MetricFrame`` does, so that the intervals agree with it for the same seed; :mod:`.disparities`
compares the groups. A number computed from fewer rows than ``min_group_size`` is flagged too small.

Examples
--------
>>> metrics, decision, tables = evaluate("classification", score, y, np.full(len(y), 0.5), [g],
...                                      n_bootstrap=1000, ci=0.95, seed=0, min_group_size=30, n_bins=10)
>>> overall, by_group = tables[0], tables[1:]
>>> by_group[0].disparities["disparate_impact"].value
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError
from . import bootstrap as boot
from . import metrics as mx
from .disparities import Disparity, between_ends
from .groups import Grouping

#: the name of the one group of all rows (its attribute and its group)
OVERALL = "all"


@dataclass(repr=False)
class GroupMetrics:
    """The metrics of each group of one attribute (or of an intersection, or of all rows).

    Attributes
    ----------
    attribute : str — e.g. ``"Gender"``, ``"Gender × Ethnicity"`` or ``"all"``.
    names : list of str — the groups.
    sizes : (G,) int — rows per group.
    values, low, high : (G, M) — each metric (``Audit.metrics`` order) and its bootstrap interval.
    counts : (G, M) — the rows each metric averages over (TPR: the group's positives, precision: its
        selected rows...).
    too_small : (G, M) bool — ``counts < min_group_size``: the number means little.
    reliability : (G, n_bins, 3) or None — per calibration bin: mean score, observed rate, count.
    thresholds : (G,) — the decision threshold of each group's rows (NaN where they differ within a group).
    disparities : dict measure -> :class:`~nbexplain.methods.fairness.disparities.Disparity`.
    worst : dict metric -> the worst-off group's name (among groups large enough, when any is).
    """

    attribute: str
    names: list[str]
    sizes: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    counts: np.ndarray
    too_small: np.ndarray
    reliability: np.ndarray | None
    thresholds: np.ndarray
    disparities: dict[str, Disparity] = field(default_factory=dict)
    worst: dict[str, str | None] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<GroupMetrics of {self.attribute}: {', '.join(self.names[:8])}{'…' if len(self.names) > 8 else ''}>"


def worst_groups(values: np.ndarray, too_small: np.ndarray, names: list[str],
                 metrics: tuple[str, ...]) -> dict[str, str | None]:
    """The worst-off group per metric (``values`` (G, M)), among the groups large enough for it when there are
    any; None for a metric that is neither better high nor low (a description of the data)."""
    out: dict[str, str | None] = {}
    for k, m in enumerate(metrics):
        direction = mx.HIGHER_IS_BETTER[m]
        v = values[:, k]
        ok = np.isfinite(v)
        if direction is None or not ok.any():
            out[m] = None
            continue
        trusted = ok & ~too_small[:, k]
        pool = np.flatnonzero(trusted if trusted.any() else ok)
        badness = -v[pool] if direction is True else (np.abs(v[pool]) if direction == "zero" else v[pool])
        out[m] = names[int(pool[np.argmax(badness)])]
    return out


def evaluate(kind: str, score: np.ndarray, y: np.ndarray, row_thresholds: np.ndarray, groupings: list[Grouping], *,
             n_bootstrap: int, ci: float, seed: int | None, min_group_size: int, n_bins: int,
             progress: Callable[[float], None] | None = None) -> tuple[tuple[str, ...], np.ndarray, list[GroupMetrics]]:
    """Count the metrics of all rows and of every grouping, their bootstrap intervals and disparities.

    A classifier's rows are selected where ``score >= row_thresholds`` (``y`` in {0, 1}: the favourable class);
    a regression's ``score`` is its prediction of ``y``. Returns the metric keys, the decisions (N,) (a
    regression: the predictions) and one :class:`GroupMetrics` for all rows, then one per grouping.
    """
    n = len(y)
    overall = Grouping(OVERALL, np.zeros(n, dtype=np.int64), [OVERALL], [(OVERALL,)])
    every = [overall, *groupings]
    if kind == "classification":
        decision = (score >= row_thresholds).astype(np.int64)
        layout = mx.classification_layout(y, decision, score, [g.codes for g in every], [g.n_groups for g in every],
                                          n_bins)

        def samples(idx: np.ndarray) -> list:
            return mx.classification_samples(layout, idx)

        metrics = mx.CLASSIFICATION
    else:
        decision = score.copy()
        layout = mx.regression_layout(y, score, [g.codes for g in every], [g.n_groups for g in every])

        def samples(idx: np.ndarray) -> list:
            return mx.regression_samples(layout, idx)

        metrics = mx.REGRESSION
    point = samples(np.arange(n)[None])
    if n_bootstrap:
        seeds = boot.resample_seeds(n_bootstrap, seed)
        draws = mx.collect(samples, boot.resample_blocks(n, seeds, progress=progress), len(every))
    else:
        draws = [np.full((1,) + values.shape[1:], np.nan) for values, _ in point]
    tables = []
    for i, g in enumerate(every):
        values, counts = point[i][0][0], point[i][1][0]
        low, high = boot.percentile_interval(draws[i], ci)
        group_t = np.full(g.n_groups, np.nan)
        for k in range(g.n_groups):
            t = row_thresholds[g.codes == k]
            if len(t) and np.all(t == t[0]):
                group_t[k] = t[0]
        gm = GroupMetrics(attribute=g.attribute, names=list(g.names), sizes=counts[:, -1].astype(np.int64),
                          values=values, low=low, high=high, counts=counts[:, :-1].astype(np.int64),
                          too_small=counts[:, :-1] < min_group_size,
                          reliability=mx.reliability(layout, i) if kind == "classification" else None,
                          thresholds=group_t)
        if i > 0:
            gm.worst = worst_groups(gm.values, gm.too_small, gm.names, metrics)
            gm.disparities = between_ends(gm.values, draws[i], gm.too_small, gm.names, metrics, kind, ci, g.attribute)
        tables.append(gm)
    if progress is not None:
        progress(1.0)
    return metrics, decision, tables


def binary_labels(y: Any, n: int, classes: Any, class_names: list[str] | None, target: int,
                  target_name: str) -> np.ndarray:
    """``y`` (N,) as 1 where the label is the ``target`` class, else 0: labels are the model's ``classes``
    (an estimator's ``classes_``), class names, or integer class indices."""
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"y must have one label per row of X ({n}); got shape {arr.shape}")
    if classes is not None and np.ndim(classes) == 1 and target < len(classes):
        known = set(np.asarray(classes).tolist())
        unknown = sorted({v for v in arr.tolist() if v not in known}, key=str)
        if unknown:
            raise InputError(f"y has labels {unknown[:5]} that are not the model's classes {list(classes)}")
        return (arr == classes[target]).astype(np.int64)
    if arr.dtype.kind in "OUS":
        names = class_names or []
        unknown = sorted({str(v) for v in arr.tolist()} - set(names))
        if unknown:
            raise InputError(f"y has labels {unknown[:5]} that are not class names {names}; pass class_names=")
        return (arr.astype(str) == target_name).astype(np.int64)
    if not np.all(np.isfinite(arr.astype(np.float64))) or not np.all(arr == np.round(arr)):
        raise InputError("y must hold class labels (integers or class names) for a classifier")
    return (arr.astype(np.int64) == target).astype(np.int64)


def regression_truth(y: Any, n: int) -> np.ndarray:
    """``y`` as (N,) finite float64 true values of a regression."""
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=np.float64)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise InputError(f"y must be {n} finite numbers for a regression; got shape {arr.shape}")
    return arr


__all__ = ["OVERALL", "GroupMetrics", "binary_labels", "evaluate", "regression_truth", "worst_groups"]
