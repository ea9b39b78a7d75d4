"""Proxy features: how strongly each feature encodes a sensitive attribute, and how much the model uses it.

A model that never sees the sensitive attribute can still treat groups differently through features that
stand in for it (a postcode for ethnicity, a career gap for gender). A feature is a likely *proxy* when it
is both associated with the attribute and carries a large share of the model's explanation; the proxy
score is the product of the two.

Association, in [0, 1]: for a numeric feature the correlation ratio η (Pearson 1905; the share of the
feature's spread that the groups explain, square-rooted), for a categorical feature Cramér's V (1946).
Share of the explanation: the feature's mean absolute Shapley value over the explained rows, divided by the
sum over features.

Examples
--------
>>> correlation_ratio(np.array([1., 2, 10, 11]), np.array([0, 0, 1, 1]), 2)
0.99...
>>> proxy_scores(association, share)   # their product
"""

from __future__ import annotations

import numpy as np


def correlation_ratio(values: np.ndarray, codes: np.ndarray, n_groups: int) -> float:
    """η: the square root of the between-group share of the variance of ``values`` (0: no link, 1: the
    groups determine the value)."""
    values = np.asarray(values, dtype=np.float64)
    n = np.bincount(codes, minlength=n_groups).astype(np.float64)
    means = np.bincount(codes, weights=values, minlength=n_groups) / np.maximum(n, 1)
    total = float(np.sum((values - values.mean()) ** 2))
    if total == 0:
        return 0.0
    between = float(np.sum(n * (means - values.mean()) ** 2))
    return float(np.sqrt(min(1.0, between / total)))


def cramers_v(values: np.ndarray, codes: np.ndarray, n_groups: int) -> float:
    """Cramér's V between a categorical feature and the groups: ``sqrt(chi² / (n (min(r, c) - 1)))``
    (0 when either has a single level)."""
    levels, a = np.unique(np.asarray(values), return_inverse=True)
    r, c = len(levels), n_groups
    if r < 2 or c < 2:
        return 0.0
    table = np.bincount(a.ravel() * c + codes, minlength=r * c).reshape(r, c).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(np.sum((table - expected) ** 2 / np.where(expected > 0, expected, 1)))
    k = min(table.shape) - 1
    return float(np.sqrt(chi2 / (n * k))) if k > 0 else 0.0


def associations(X: np.ndarray, categorical: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """``(F,)`` association of every column of ``X`` with the groups (V for categorical columns, else η)."""
    return np.array([cramers_v(X[:, j], codes, n_groups) if categorical[j] else correlation_ratio(X[:, j], codes, n_groups)
                     for j in range(X.shape[1])])


def explanation_share(abs_values: np.ndarray) -> np.ndarray:
    """``(F,)`` each feature's share of the mean absolute attributions ``abs_values`` ``(rows, F)``."""
    mean = np.mean(np.abs(abs_values), axis=0)
    total = mean.sum()
    return mean / total if total > 0 else np.zeros_like(mean)


def proxy_scores(association: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The proxy score of each feature: association × share of the explanation."""
    return np.asarray(association, dtype=np.float64) * np.asarray(share, dtype=np.float64)


__all__ = ["associations", "correlation_ratio", "cramers_v", "explanation_share", "proxy_scores"]
