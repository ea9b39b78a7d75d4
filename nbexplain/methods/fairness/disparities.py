"""Disparities between groups: how far apart the groups' metrics are, and which groups sit at the two ends.

A disparity compares one metric over the groups of an attribute: the disparate-impact ratio (the lowest
selection rate over the highest, with the four-fifths rule; Feldman et al. 2015), the demographic-parity
difference, the equal-opportunity difference (TPR range) and the equalised-odds difference (the larger of
the TPR and FPR ranges; Hardt, Price & Srebro 2016), as fairlearn's ``demographic_parity_ratio``,
``equal_opportunity_difference`` etc. compute them; for a regression, the ranges of the MAE, the RMSE and the
bias. Its interval is the bootstrap interval of the gap *between the two groups at the ends*, signed, so it
reaches no gap when the gap may be noise.

Examples
--------
>>> disparity_values(values, CLASSIFICATION, "classification")["disparate_impact"]   # values (..., G, M)
>>> between_ends(values, draws, too_small, names, CLASSIFICATION, "classification", 0.95, "Gender")
{'disparate_impact': Disparity(...), ...}
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import bootstrap as boot
from .metrics import HIGHER_IS_BETTER

#: the measures of disparity between groups, per kind of model
DISPARITIES = {
    "classification": ("disparate_impact", "demographic_parity_difference", "equal_opportunity_difference",
                       "equalized_odds_difference"),
    "regression": ("mae_difference", "rmse_difference", "mean_error_difference"),
}
DISPARITY_LABELS = {
    "disparate_impact": "disparate-impact ratio", "demographic_parity_difference": "demographic-parity difference",
    "equal_opportunity_difference": "equal-opportunity difference",
    "equalized_odds_difference": "equalised-odds difference", "mae_difference": "MAE difference",
    "rmse_difference": "RMSE difference", "mean_error_difference": "bias difference",
}
#: what each disparity compares, and the metric whose worst group it names
DISPARITY_METRIC = {"disparate_impact": "selection_rate", "demographic_parity_difference": "selection_rate",
                    "equal_opportunity_difference": "tpr", "equalized_odds_difference": "tpr",
                    "mae_difference": "mae", "rmse_difference": "rmse", "mean_error_difference": "mean_error"}
FOUR_FIFTHS = 0.8
FOUR_FIFTHS_RULE = ("The four-fifths rule (US Uniform Guidelines on Employee Selection Procedures, 1978): a "
                    "selection rate for any group below four-fifths (80 %) of the rate of the group with the "
                    "highest rate is generally regarded as evidence of adverse impact.")


@dataclass
class Disparity:
    """One measure of disparity between the groups of one attribute, with its bootstrap interval.

    ``value`` is over all groups (the lowest selection rate over the highest, the largest minus the smallest
    TPR...), as fairlearn's ``demographic_parity_ratio``, ``equal_opportunity_difference`` etc. compute it;
    ``best``/``worst`` name the groups at the two ends. ``low``/``high`` bound the gap *between those two
    groups* over the resamples, signed: it reaches 0 (a ratio of 1) when the gap may be noise. ``passes`` is
    the four-fifths rule's verdict for the ratio (None for the others); ``too_small`` is True when either end
    is a group too small to trust.
    """

    measure: str
    attribute: str
    value: float
    low: float
    high: float
    best: str | None
    worst: str | None
    passes: bool | None = None
    too_small: bool = False

    @property
    def label(self) -> str:
        return DISPARITY_LABELS[self.measure]

    def describe(self) -> str:
        """One line: the value, its interval, the groups at the ends and the rule's verdict."""
        text = (f"{self.label} for {self.attribute}: {self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"
                f" ({self.worst} vs {self.best})")
        if self.passes is not None:
            if not self.passes:
                text += " — below 0.8: adverse impact under the four-fifths rule"
                if self.high >= FOUR_FIFTHS:
                    text += " (but the interval reaches 0.8)"
            else:
                text += " — passes the four-fifths rule"
                if self.low < FOUR_FIFTHS:
                    text += " (but the interval reaches below 0.8)"
        no_gap = (self.high >= 1) if self.measure == "disparate_impact" else (self.low <= 0)
        if no_gap and np.isfinite(self.low):
            text += "; the interval reaches no gap: it may be noise"
        if self.too_small:
            text += "; a group at an end is too small to trust"
        return text


def spread(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The range (max - min) along ``axis``, NaN entries skipped (NaN where all are)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values, axis=axis) - np.nanmin(values, axis=axis)


def disparity_values(values: np.ndarray, metrics: tuple[str, ...], kind: str) -> dict[str, np.ndarray]:
    """Every disparity of ``values`` (..., G, M) between the groups (axis -2), NaN groups skipped."""
    col = {m: values[..., metrics.index(m)] for m in metrics}
    if kind == "regression":
        return {"mae_difference": spread(col["mae"]), "rmse_difference": spread(col["rmse"]),
                "mean_error_difference": spread(col["mean_error"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hi, lo = np.nanmax(col["selection_rate"], axis=-1), np.nanmin(col["selection_rate"], axis=-1)
        ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1), np.nan)
    tpr = spread(col["tpr"])
    return {"disparate_impact": ratio, "demographic_parity_difference": hi - lo,
            "equal_opportunity_difference": tpr, "equalized_odds_difference": np.fmax(tpr, spread(col["fpr"]))}


def between_ends(values: np.ndarray, draws: np.ndarray, too_small: np.ndarray, names: list[str],
                 metrics: tuple[str, ...], kind: str, ci: float, attribute: str) -> dict[str, Disparity]:
    """Each disparity of one attribute's groups (``values`` (G, M), ``draws`` (B, G, M) resampled, ``too_small``
    (G, M)) between the groups at its two ends (worst and best off), with the interval of the gap *between
    those two groups* over the resamples: signed, so it reaches 0 (a ratio of 1) when the gap may be noise.
    (The resampled spread over all groups, max - min, is biased away from 0 and can leave the point value
    outside its own interval when the groups are nearly equal.)"""
    point = disparity_values(values, metrics, kind)
    out = {}
    for measure in DISPARITIES[kind]:
        k = metrics.index(DISPARITY_METRIC[measure])
        v = values[:, k]
        value = float(point[measure])
        low = high = np.nan
        best = worst = None
        if np.isfinite(v).any():
            if measure == "equalized_odds_difference" and spread(values[:, metrics.index("fpr")]) > spread(v):
                k = metrics.index("fpr")
                v = values[:, k]
            magnitude = np.abs(v) if measure == "mean_error_difference" else v
            higher_better = HIGHER_IS_BETTER[metrics[k]] is True
            w = int(np.nanargmin(magnitude)) if higher_better else int(np.nanargmax(magnitude))
            b = int(np.nanargmax(magnitude)) if higher_better else int(np.nanargmin(magnitude))
            worst, best = names[w], names[b]
            dw, db = draws[:, w, k], draws[:, b, k]
            if measure == "mean_error_difference":
                dw, db = np.abs(dw), np.abs(db)
            with np.errstate(invalid="ignore", divide="ignore"):
                gap = (np.where(db > 0, dw / np.where(db > 0, db, 1), np.nan) if measure == "disparate_impact"
                       else (db - dw if higher_better else dw - db))
            low, high = boot.percentile_interval(gap, ci)
        passes = bool(value >= FOUR_FIFTHS) if measure == "disparate_impact" and np.isfinite(value) else None
        small = any(too_small[names.index(n), k] for n in (best, worst) if n is not None)
        out[measure] = Disparity(measure, attribute, value, float(low), float(high), best, worst, passes, small)
    return out


__all__ = ["DISPARITIES", "DISPARITY_LABELS", "DISPARITY_METRIC", "FOUR_FIFTHS", "FOUR_FIFTHS_RULE", "Disparity",
           "between_ends", "disparity_values", "spread"]
