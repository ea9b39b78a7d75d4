"""Decisions at any threshold, per group, from each group's ROC points (Hardt, Price & Srebro 2016).

A group's *ROC points* are its distinct scores in decreasing order with, for each, how many positives and
negatives score at least that much. A decision "select when score >= t" then needs one binary search per
group: the selection rate, TPR, FPR, accuracy and precision at any threshold follow from two counts. The
same arithmetic runs in the widget's page (``js/fairness.js``), so dragging a threshold needs no kernel.

Every fairness definition is a threshold choice (the What-If Tool's lesson): :func:`equalising_thresholds`
picks one threshold per group so that the groups' TPRs (equal opportunity) or selection rates (demographic
parity) are as equal as the data allow; :func:`tradeoff` sweeps a threshold for everyone, and a common level
of the equalised rate, recording accuracy and the disparities along the way.

Examples
--------
>>> roc = roc_points(score, y, codes, n_groups)
>>> rates_at(roc, np.full(n_groups, 0.5))["tpr"]
>>> equalising_thresholds(roc, "equal_opportunity", level=0.8, tolerance=0.02)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError

CRITERIA = {"equal_opportunity": "tpr", "demographic_parity": "selection_rate"}
RATES = ("selection_rate", "tpr", "fpr", "fnr", "accuracy", "precision")


@dataclass(frozen=True)
class RocPoints:
    """Per group ``g``: ``scores[offsets[g]:offsets[g+1]]`` decreasing, ``positives``/``negatives`` there the
    counts scoring at least that much; ``n_pos``/``n_neg`` the group's totals."""

    scores: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray
    offsets: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.n_pos)

    def group(self, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = slice(self.offsets[g], self.offsets[g + 1])
        return self.scores[s], self.positives[s], self.negatives[s]


def roc_points(score: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int) -> RocPoints:
    """Every group's ROC points (see :class:`RocPoints`)."""
    score = np.asarray(score, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    parts, pos, neg, offsets = [], [], [], [0]
    for g in range(n_groups):
        rows = codes == g
        s, yy = score[rows], y[rows]
        distinct, inverse = np.unique(-s, return_inverse=True)  # decreasing scores
        p = np.cumsum(np.bincount(inverse, weights=yy, minlength=len(distinct)))
        n = np.cumsum(np.bincount(inverse, weights=1 - yy, minlength=len(distinct)))
        parts.append(-distinct)
        pos.append(p)
        neg.append(n)
        offsets.append(offsets[-1] + len(distinct))
    return RocPoints(np.concatenate(parts), np.concatenate(pos).astype(np.int64),
                     np.concatenate(neg).astype(np.int64), np.asarray(offsets, dtype=np.int64),
                     np.asarray([p[-1] if len(p) else 0 for p in pos], dtype=np.int64),
                     np.asarray([n[-1] if len(n) else 0 for n in neg], dtype=np.int64))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def selected_counts(roc: RocPoints, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(G, T)`` positives and negatives selected (score >= t) in each group at each of ``thresholds``
    (``(G,)`` one per group, or ``(G, T)``)."""
    t = np.asarray(thresholds, dtype=np.float64)
    t = t[:, None] if t.ndim == 1 else t
    tp = np.zeros(t.shape, dtype=np.int64)
    fp = np.zeros(t.shape, dtype=np.int64)
    for g in range(roc.n_groups):
        s, p, n = roc.group(g)
        k = np.searchsorted(-s, -t[g], side="right")  # how many distinct scores are >= t
        tp[g] = np.where(k > 0, p[np.maximum(k - 1, 0)] if len(p) else 0, 0)
        fp[g] = np.where(k > 0, n[np.maximum(k - 1, 0)] if len(n) else 0, 0)
    return tp, fp


def rates_at(roc: RocPoints, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Selection rate, TPR, FPR, FNR, accuracy and precision of each group at ``thresholds`` (one per
    group, ``(G,)``: arrays ``(G,)``; or ``(G, T)``: arrays ``(G, T)``), and the counts behind them."""
    t = np.asarray(thresholds, dtype=np.float64)
    tp, fp = selected_counts(roc, t)
    P, N = roc.n_pos[:, None], roc.n_neg[:, None]
    n = P + N
    out = {"selection_rate": _ratio(tp + fp, n), "tpr": _ratio(tp, P), "fpr": _ratio(fp, N),
           "fnr": _ratio(P - tp, P), "accuracy": _ratio(tp + N - fp, n), "precision": _ratio(tp, tp + fp),
           "tp": tp, "fp": fp, "size": np.broadcast_to(n, tp.shape)}
    return {k: (v[:, 0] if t.ndim == 1 else v) for k, v in out.items()}


def disparities(rates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The disparities between groups of :func:`rates_at`'s rates (over axis 0; groups with an undefined
    rate skipped): disparate-impact ratio (lowest / highest selection rate), demographic-parity difference,
    equal-opportunity difference (TPR range) and equalised-odds difference (the larger of the TPR and FPR
    ranges), and the accuracy over all groups."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sel, tpr, fpr = rates["selection_rate"], rates["tpr"], rates["fpr"]
        hi, lo = np.nanmax(sel, axis=0), np.nanmin(sel, axis=0)
        tpr_range = np.nanmax(tpr, axis=0) - np.nanmin(tpr, axis=0)
        fpr_range = np.nanmax(fpr, axis=0) - np.nanmin(fpr, axis=0)
        n = rates["size"]
        correct = rates["accuracy"] * n
        accuracy = np.nansum(correct, axis=0) / np.sum(n, axis=0)
    return {"disparate_impact": _ratio(lo, hi), "demographic_parity_difference": hi - lo,
            "equal_opportunity_difference": tpr_range,
            "equalized_odds_difference": np.maximum(tpr_range, fpr_range), "accuracy": accuracy}


def _between(upper: float, lower: float) -> float:
    """A threshold that selects the scores >= ``upper`` and not ``lower`` (robust to rounding)."""
    return float((upper + lower) / 2) if np.isfinite(lower) else float(upper / 2 if upper > 0 else upper)


def candidates(roc: RocPoints, g: int, rate: str) -> tuple[np.ndarray, np.ndarray]:
    """Group ``g``'s achievable values of ``rate`` ("tpr" or "selection_rate") and a threshold for each
    (selecting nobody first, then the distinct scores from the top)."""
    s, p, n = roc.group(g)
    counts = p if rate == "tpr" else p + n
    total = roc.n_pos[g] if rate == "tpr" else roc.n_pos[g] + roc.n_neg[g]
    values = np.concatenate([[0.0], _ratio(counts, np.full(len(counts), total))])
    lower = np.append(s[1:], -np.inf)
    thresholds = np.concatenate([[np.nextafter(s[0], np.inf) if len(s) else 1.0],
                                 [_between(a, b) for a, b in zip(s, lower, strict=True)]])
    return values, thresholds


def equalising_thresholds(roc: RocPoints, criterion: str, level: float, tolerance: float,
                          names: list[str] | None = None, search: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """One threshold per group making ``criterion``'s rate (:data:`CRITERIA`) about ``level`` in every group,
    with the groups' rates within ``tolerance`` of each other; returns (thresholds, rates).

    Each group takes its achievable rate nearest a common level; the common level is searched within
    ``search`` of ``level`` for the smallest spread (ties: nearest ``level``). Groups whose rate moves in
    steps coarser than the tolerance (few positives) can make it impossible: an :class:`InputError` names them.
    """
    rate = CRITERIA[criterion]
    options = [candidates(roc, g, rate) for g in range(roc.n_groups)]
    usable = [g for g in range(roc.n_groups) if (roc.n_pos[g] if rate == "tpr" else roc.n_pos[g] + roc.n_neg[g]) > 0]
    levels = np.unique(np.concatenate([[level]] + [v[np.abs(v - level) <= search] for v, _ in options]))

    def pick(common: float) -> tuple[np.ndarray, np.ndarray]:
        chosen = np.full(roc.n_groups, np.nan)
        values = np.full(roc.n_groups, np.nan)
        for g in usable:
            v, t = options[g]
            k = int(np.argmin(np.abs(v - common)))
            chosen[g], values[g] = t[k], v[k]
        return chosen, values

    best = None
    for common in levels:
        chosen, values = pick(common)
        spread = np.nanmax(values) - np.nanmin(values) if usable else 0.0
        key = (spread > tolerance + 1e-12, spread if spread > tolerance + 1e-12 else 0.0, abs(common - level))
        if best is None or key < best[0]:
            best = (key, chosen, values, spread)
    _, chosen, values, spread = best
    if spread > tolerance + 1e-12:
        steps = [(names[g] if names else str(g), 1.0 / (roc.n_pos[g] if rate == "tpr" else roc.n_pos[g] + roc.n_neg[g]))
                 for g in usable]
        coarse = [f"{n} (steps of {s:.3g})" for n, s in steps if s > tolerance]
        why = f"; rates move in coarse steps in {', '.join(coarse)}" if coarse else ""
        raise InputError(f"no thresholds make the {rate.replace('_', ' ')}s equal within tolerance={tolerance:g} "
                         f"near {level:.3g} (the closest spread is {spread:.3g}){why}: raise tolerance")
    unusable = [g for g in range(roc.n_groups) if g not in usable]
    for g in unusable:  # no positives: any threshold equalises nothing; keep the common level's score
        chosen[g] = float(np.nanmedian(chosen[usable])) if usable else 0.5
    return chosen, values


def tradeoff(roc: RocPoints, grid: np.ndarray, criterion: str = "equal_opportunity") -> dict[str, dict[str, np.ndarray]]:
    """Accuracy and disparities along two families of threshold choices: ``"global"`` (one threshold for all,
    at each value of ``grid``) and ``"equalised"`` (per-group thresholds equalising ``criterion``'s rate, at
    each level in ``grid``); each entry holds the parameter (``"threshold"`` or ``"level"``) and
    :func:`disparities`' arrays."""
    G = roc.n_groups
    t = np.broadcast_to(np.asarray(grid, dtype=np.float64), (G, len(grid)))
    one = disparities(rates_at(roc, t))
    rate = CRITERIA[criterion]
    options = [candidates(roc, g, rate) for g in range(G)]
    chosen = np.empty((G, len(grid)))
    for g, (v, th) in enumerate(options):
        k = np.argmin(np.abs(v[:, None] - np.asarray(grid)[None]), axis=0)
        chosen[g] = th[k]
    fair = disparities(rates_at(roc, chosen))
    return {"global": {"threshold": np.asarray(grid, dtype=np.float64), **one},
            "equalised": {"level": np.asarray(grid, dtype=np.float64), **fair}}


__all__ = ["CRITERIA", "RATES", "RocPoints", "candidates", "disparities", "equalising_thresholds", "rates_at",
           "roc_points", "selected_counts", "tradeoff"]
