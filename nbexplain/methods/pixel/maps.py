"""From a (C, H, W) attribution to an (H, W) map, and several maps onto one colour scale.

How channels are reduced depends on the method (see :data:`nbexplain.explain.pixel.METHODS`): saliency
takes the max of |gradient| over channels (Simonyan et al. 2014), contributions that add up (gradient x
input, integrated gradients) are summed, one-value-per-pixel methods (Grad-CAM, occlusion) averaged.
Maps of different methods have different units; :func:`normalise` divides each by its robust maximum.

Examples
--------
>>> reduce_channels(np.ones((3, 4, 4)), "sum")[0, 0]
3.0
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_choice

REDUCTIONS = ("max_abs", "sum", "mean")


def reduce_channels(attribution: np.ndarray, reduction: str) -> np.ndarray:
    """(C, H, W) -> (H, W) by ``reduction``: "max_abs", "sum" or "mean"."""
    check_choice(reduction, "reduction", REDUCTIONS)
    if reduction == "max_abs":
        return np.abs(attribution).max(axis=0)
    if reduction == "sum":
        return attribution.sum(axis=0)
    return attribution.mean(axis=0)


def robust_scale(map_: np.ndarray, percentile: float = 99.0) -> float:
    """The ``percentile`` of |values| (or the max when that is 0): what :func:`normalise` maps to 1."""
    return float(np.percentile(np.abs(map_), percentile)) or float(np.abs(map_).max()) or 1.0


def normalise(map_: np.ndarray, percentile: float = 99.0) -> np.ndarray:
    """Scale a map by its robust maximum and clip to [-1, 1], so different methods share one scale."""
    return np.clip(map_ / robust_scale(map_, percentile), -1, 1).astype(np.float32)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of ``values`` (flattened), ties sharing their average rank (as Spearman's rho needs)."""
    v = np.ravel(values)
    order = np.argsort(v, kind="stable")
    starts_group = np.r_[True, v[order][1:] != v[order][:-1]]
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(v)]
    ranks = np.empty(len(v), dtype=np.float64)
    ranks[order] = ((starts + ends - 1) / 2)[np.cumsum(starts_group) - 1]
    return ranks


def rank_agreement(maps: list[np.ndarray]) -> np.ndarray:
    """Spearman rank correlation between every pair of maps (k x k): how much they order pixels alike.

    Tied values (occlusion's blocks, Grad-CAM's zeros) share their average rank; a constant map agrees
    with nothing (NaN).
    """
    if len(maps) < 2:
        return np.ones((1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(np.stack([average_ranks(m) for m in maps]))


__all__ = ["REDUCTIONS", "average_ranks", "normalise", "rank_agreement", "reduce_channels", "robust_scale"]
