"""Per-group metrics of a classifier's decisions or a regression's errors, counted in one pass per resample.

Every metric is a ratio of counts (or of sums) per group, so a whole batch of bootstrap resamples is a few
``numpy.bincount`` calls over the resampled rows' keys: no loop over groups, metrics or resamples in
Python. With the identity resample (every row once) the numbers are the plain metrics on each group's rows,
equal to scikit-learn's (``accuracy_score``, ``recall_score``, ``precision_score(zero_division=nan)``,
``roc_auc_score``, ``mean_absolute_error``, ``root_mean_squared_error``, ``r2_score``) and fairlearn's
(``selection_rate``, ``false_positive_rate``, ``false_negative_rate``) on those rows.

Classification metrics (decisions ``yhat`` from scores thresholded upstream, labels ``y`` in {0, 1}):
base rate P(y=1), selection rate P(yhat=1), accuracy, TPR, FPR, FNR, precision, the expected calibration
error (Naeini et al. 2015: ``sum_b n_b/n |mean(y)_b - mean(score)_b|`` over ``n_bins`` equal-width bins,
the bins of scikit-learn's ``calibration_curve``) and ROC AUC (Mann-Whitney: the chance that a positive
outscores a negative, ties counted half). An undefined metric (no positives for TPR, nothing selected for
precision, one class only for AUC, an empty group in a resample) is NaN.

Examples
--------
>>> layout = classification_layout(y, yhat, score, [g.codes], [g.n_groups], n_bins=10)
>>> values = classification_samples(layout, np.arange(len(y))[None])[0][0]   # (G, M) for grouping 0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

CLASSIFICATION = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision", "ece", "roc_auc")
REGRESSION = ("mean_truth", "mean_prediction", "mae", "rmse", "mean_error", "r2")
#: True: higher is better for the group; False: lower is better; None: neither (a description of the data)
HIGHER_IS_BETTER = {
    "base_rate": None, "selection_rate": True, "accuracy": True, "tpr": True, "fpr": False, "fnr": False,
    "precision": True, "ece": False, "roc_auc": True,
    "mean_truth": None, "mean_prediction": None, "mae": False, "rmse": False, "mean_error": "zero", "r2": True,
}
LABELS = {
    "size": "size", "base_rate": "base rate", "selection_rate": "selection rate", "accuracy": "accuracy",
    "tpr": "true positive rate", "fpr": "false positive rate", "fnr": "false negative rate", "precision": "precision",
    "ece": "calibration error (ECE)", "roc_auc": "ROC AUC", "mean_truth": "mean truth",
    "mean_prediction": "mean prediction", "mae": "mean absolute error", "rmse": "root mean squared error",
    "mean_error": "mean error (bias)", "r2": "R²",
}
SHORT = {"size": "n", "base_rate": "base rate", "selection_rate": "selection", "accuracy": "accuracy",
         "tpr": "TPR", "fpr": "FPR", "fnr": "FNR", "precision": "precision", "ece": "ECE", "roc_auc": "AUC",
         "mean_truth": "mean y", "mean_prediction": "mean ŷ", "mae": "MAE", "rmse": "RMSE",
         "mean_error": "bias", "r2": "R²"}


def bin_index(score: np.ndarray, n_bins: int) -> np.ndarray:
    """The calibration bin of each score in ``[0, 1]``, as scikit-learn's ``calibration_curve`` bins them."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], score).astype(np.int64)


def _counts(key: np.ndarray, idx: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``(b, size)``: per resample (a row of ``idx``), the count (or the sum of ``weights``) of each key."""
    b = idx.shape[0]
    flat = (key[idx] + (np.arange(b, dtype=np.int64) * size)[:, None]).ravel()
    w = None if weights is None else weights[idx].ravel()
    return np.bincount(flat, weights=w, minlength=b * size).reshape(b, size).astype(np.float64, copy=False)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


# -------------------------------------------------------------------------------------------------
# classification
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Grouping:
    """One grouping as an aggregation of the finest partition: its group of each fine group, and how the
    fine (group, distinct score) pairs gather into its own pairs."""

    n_groups: int
    of_fine: np.ndarray  # (Gf, G) 0/1: fine group -> this grouping's group
    pair_order: np.ndarray  # (Kf,) the fine pairs, sorted by this grouping's (group, score)
    pair_bounds: np.ndarray  # (K,) where each of this grouping's pairs starts in pair_order
    starts: np.ndarray  # (G,) the first pair of each group
    same_pairs: bool = False  # the fine pairs are this grouping's, in order (the finest grouping itself)


@dataclass(frozen=True)
class ClassificationLayout:
    """What the counting needs, computed once: the keys of the finest partition (every combination of the
    groupings' groups that occurs) and how each grouping aggregates it.

    Counting at the finest partition and summing up is exact (counts are additive) and needs three passes
    over the resampled rows whatever the number of groupings.
    """

    y: np.ndarray
    score: np.ndarray
    n_bins: int
    n_fine: int
    cells: np.ndarray  # (N,) fine * 4 * n_bins + (2 y + yhat) * n_bins + bin
    bins: np.ndarray  # (N,) fine * n_bins + bin
    pairs: np.ndarray  # (N,) (the row's fine (group, distinct score) pair) * 2 + y
    n_pairs: int
    groupings: list[_Grouping]


def _pair_starts(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of the items by (group, score) and where each distinct (group, score) pair starts in it."""
    order = np.lexsort((score, group))
    gs, ss = group[order], score[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (gs[1:] != gs[:-1]) | (ss[1:] != ss[:-1])
    return order, np.flatnonzero(new)


def classification_layout(y: np.ndarray, yhat: np.ndarray, score: np.ndarray, codes: Sequence[np.ndarray],
                          n_groups: Sequence[int], n_bins: int = 10) -> ClassificationLayout:
    """Precompute the keys of the finest partition of the groupings (``codes[i]`` with ``n_groups[i]``
    groups, every group occurring) and each grouping's aggregation of it."""
    y = np.asarray(y, dtype=np.int64)
    yhat = np.asarray(yhat, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    bins = bin_index(score, n_bins)
    combined = np.zeros(len(y), dtype=np.int64)
    for c, g in zip(codes, n_groups, strict=True):
        combined = combined * int(g) + np.asarray(c, dtype=np.int64)
    _, first_row, fine = np.unique(combined, return_index=True, return_inverse=True)
    fine = fine.ravel().astype(np.int64)
    n_fine = len(first_row)
    order, bounds = _pair_starts(fine, score)
    pair_sorted = np.zeros(len(y), dtype=np.int64)
    pair_sorted[bounds] = 1
    pair = np.empty(len(y), dtype=np.int64)
    pair[order] = np.cumsum(pair_sorted) - 1
    pair_fine, pair_score = fine[order[bounds]], score[order[bounds]]
    groupings = []
    for c, g in zip(codes, n_groups, strict=True):
        group_of_fine = np.asarray(c, dtype=np.int64)[first_row]
        of_fine = np.zeros((n_fine, int(g)))
        of_fine[np.arange(n_fine), group_of_fine] = 1.0
        pair_group = group_of_fine[pair_fine]
        p_order, p_bounds = _pair_starts(pair_group, pair_score)
        starts = np.searchsorted(pair_group[p_order][p_bounds], np.arange(int(g)))
        same = len(p_bounds) == len(bounds) and bool(np.all(p_order == np.arange(len(p_order))))
        groupings.append(_Grouping(int(g), of_fine, p_order, p_bounds, starts, same))
    return ClassificationLayout(y, score, int(n_bins), n_fine, fine * 4 * n_bins + (2 * y + yhat) * n_bins + bins,
                                fine * n_bins + bins, pair * 2 + y, len(bounds), groupings)


def _auc(pair_counts: np.ndarray, starts: np.ndarray, n_groups: int) -> np.ndarray:
    """``(b, G)`` ROC AUC of each group from ``(b, K, 2)`` negative/positive counts per distinct score."""
    neg, pos = pair_counts[..., 0], pair_counts[..., 1]
    below = np.cumsum(neg, axis=1) - neg  # negatives with a lower score, from the first pair of all
    start_below = below[:, starts]  # ... minus those of earlier groups
    group_of_pair = np.repeat(np.arange(n_groups), np.diff(np.append(starts, neg.shape[1])))
    below = below - start_below[:, group_of_pair]
    wins = np.add.reduceat(pos * (below + 0.5 * neg), starts, axis=1)
    n_pos = np.add.reduceat(pos, starts, axis=1)
    n_neg = np.add.reduceat(neg, starts, axis=1)
    return _ratio(wins, n_pos * n_neg)


def _fine_counts(layout: ClassificationLayout, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three passes over the resampled rows: cell counts (b, Gf, 4, bins), score sums (b, Gf, bins) and
    pair counts (b, Kf, 2)."""
    nb, gf = layout.n_bins, layout.n_fine
    cells = _counts(layout.cells, idx, gf * 4 * nb).reshape(-1, gf, 4, nb)
    scores = _counts(layout.bins, idx, gf * nb, layout.score).reshape(-1, gf, nb)
    pairs = _counts(layout.pairs, idx, layout.n_pairs * 2).reshape(-1, layout.n_pairs, 2)
    return cells, scores, pairs


def _gather(g: _Grouping, cells: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One grouping's cell counts (b, G, 4, bins) and score sums (b, G, bins) from the fine ones."""
    cells_g = np.moveaxis(np.moveaxis(cells, 1, -1) @ g.of_fine, -1, 1)
    scores_g = np.moveaxis(np.moveaxis(scores, 1, -1) @ g.of_fine, -1, 1)
    return cells_g, scores_g


def classification_samples(layout: ClassificationLayout, idx: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For a block of resamples ``idx`` (b, N) of row indices: per grouping, ``values`` (b, G, M) in the
    order of :data:`CLASSIFICATION` and ``counts`` (b, G, M + 1): each metric's denominator, then the size."""
    fine_cells, fine_scores, fine_pairs = _fine_counts(layout, idx)
    out = []
    for g in layout.groupings:
        cells, sum_score = _gather(g, fine_cells, fine_scores)
        conf = cells.sum(axis=3)
        tn, fp, fn, tp = conf[..., 0], conf[..., 1], conf[..., 2], conf[..., 3]
        n = tn + fp + fn + tp
        pos, neg, sel = fn + tp, tn + fp, fp + tp
        sum_y = cells[:, :, 2] + cells[:, :, 3]
        ece = _ratio(np.abs(sum_y - sum_score).sum(axis=2), n)
        pairs = fine_pairs if g.same_pairs else fine_pairs[:, g.pair_order]
        if len(g.pair_bounds) != layout.n_pairs:  # several fine pairs share a score of this grouping's group
            pairs = np.add.reduceat(pairs, g.pair_bounds, axis=1)
        auc = _auc(pairs, g.starts, g.n_groups)
        values = np.stack([_ratio(pos, n), _ratio(sel, n), _ratio(tn + tp, n), _ratio(tp, pos), _ratio(fp, neg),
                           _ratio(fn, pos), _ratio(tp, sel), ece, auc], axis=2)
        counts = np.stack([n, n, n, pos, neg, pos, sel, n, np.minimum(pos, neg), n], axis=2)
        out.append((values, counts))
    return out


def reliability(layout: ClassificationLayout, grouping: int = 0) -> np.ndarray:
    """``(G, n_bins, 3)``: per group and bin, the mean score, the observed frequency of y=1 (both NaN in an
    empty bin) and the count: scikit-learn's ``calibration_curve`` (uniform bins) of each group."""
    fine_cells, fine_scores, _ = _fine_counts(layout, np.arange(len(layout.y))[None])
    cells, sum_score = _gather(layout.groupings[grouping], fine_cells, fine_scores)
    count = cells[0].sum(axis=1)
    sum_y = cells[0, :, 2] + cells[0, :, 3]
    return np.stack([_ratio(sum_score[0], count), _ratio(sum_y, count), count], axis=2)


# -------------------------------------------------------------------------------------------------
# regression
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegressionLayout:
    """Each grouping's codes, the errors and the labels centred on their group's mean (for a stable R²)."""

    error: np.ndarray
    abs_error: np.ndarray
    sq_error: np.ndarray
    codes: list[np.ndarray]
    n_groups: list[int]
    centred: list[np.ndarray]
    group_mean: list[np.ndarray]


def regression_layout(y: np.ndarray, prediction: np.ndarray, codes: Sequence[np.ndarray],
                      n_groups: Sequence[int]) -> RegressionLayout:
    """Precompute errors and centred labels for the counting."""
    y = np.asarray(y, dtype=np.float64)
    e = np.asarray(prediction, dtype=np.float64) - y
    centred, means = [], []
    for c, g in zip(codes, n_groups, strict=True):
        mean = np.bincount(c, weights=y, minlength=g) / np.maximum(np.bincount(c, minlength=g), 1)
        means.append(mean)
        centred.append(y - mean[c])
    return RegressionLayout(e, np.abs(e), e * e, [np.asarray(c, dtype=np.int64) for c in codes],
                            [int(g) for g in n_groups], centred, means)


def regression_samples(layout: RegressionLayout, idx: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """As :func:`classification_samples`, for the metrics of :data:`REGRESSION`."""
    out = []
    for c, G, yc, mean in zip(layout.codes, layout.n_groups, layout.centred, layout.group_mean, strict=True):
        n = _counts(c, idx, G)
        s_e, s_abs, s_sq = (_counts(c, idx, G, w) for w in (layout.error, layout.abs_error, layout.sq_error))
        s_yc, s_yc2 = _counts(c, idx, G, yc), _counts(c, idx, G, yc * yc)
        mean_truth = mean[None] + _ratio(s_yc, n)
        mean_error = _ratio(s_e, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = s_yc2 - _ratio(s_yc * s_yc, n)
            r2 = np.where(total > 0, 1 - s_sq / np.where(total > 0, total, 1), np.nan)
        values = np.stack([mean_truth, mean_truth + mean_error, _ratio(s_abs, n), np.sqrt(_ratio(s_sq, n)),
                           mean_error, np.where(n > 0, r2, np.nan)], axis=2)
        counts = np.repeat(n[..., None], len(REGRESSION) + 1, axis=2)
        out.append((values, counts))
    return out


# -------------------------------------------------------------------------------------------------
# all resamples
# -------------------------------------------------------------------------------------------------
def collect(samples: Callable[[np.ndarray], list[tuple[np.ndarray, np.ndarray]]], blocks: Iterable[np.ndarray],
            n_groupings: int) -> list[np.ndarray]:
    """Per grouping, the ``(B, G, M)`` metric values over every block of resamples (sizes are not kept)."""
    parts: list[list[np.ndarray]] = [[] for _ in range(n_groupings)]
    for idx in blocks:
        for i, (values, _) in enumerate(samples(idx)):
            parts[i].append(values)
    return [np.concatenate(p, axis=0) for p in parts]


__all__ = ["CLASSIFICATION", "HIGHER_IS_BETTER", "LABELS", "REGRESSION", "SHORT", "ClassificationLayout",
           "RegressionLayout", "bin_index", "classification_layout", "classification_samples", "collect",
           "regression_layout", "regression_samples", "reliability"]
