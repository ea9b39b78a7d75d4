"""Gradient-free proposals for any black box: one-feature line searches and growing-spheres samples.

* :func:`axis_segments` lists, for every mutable feature, values moving outwards from ``x`` on each side up
  to its range (and every other category of a categorical feature); predicted in one batch, the first valid
  value of each segment is the closest one-feature counterfactual on that side.
* :func:`sample_sphere` draws points on MAD-scaled L1 spheres around ``x``, as growing spheres does
  (Laugel et al. 2018, "Comparison-based inverse classification for interpretability in machine learning")
  but in the L1 geometry of the distance: the face of the sphere is chosen with a log-uniform dimension
  (L1-closest counterfactuals lie on low-dimensional faces, which uniform sampling in 30 dimensions would
  almost never visit), and categorical features switch category at a cost of 1.

The search in :mod:`.counterfactual_search` samples all layers of a geometric radius schedule in one model
call, then resamples the layer below the closest valid point.
"""

from __future__ import annotations

import numpy as np

from .space import FeatureSpace

AXIS_GRID = 24  # outward grid points per side; refined later by a finer grid of the same size


def axis_segments(sp: FeatureSpace, n_grid: int = AXIS_GRID, origin: np.ndarray | None = None,
                  skip: np.ndarray | None = None) -> list[tuple[int, np.ndarray]]:
    """``[(feature, values ordered outwards from origin[feature])]`` for every mutable feature not in ``skip``."""
    x = sp.original if origin is None else origin
    segments: list[tuple[int, np.ndarray]] = []
    for j in np.flatnonzero(sp.numeric):
        if skip is not None and skip[j]:
            continue
        for bound in (sp.lower[j], sp.upper[j]):
            if bound == x[j]:
                continue
            t = (np.arange(1, n_grid + 1) / n_grid) ** 2  # finer near x
            values = x[j] + t * (bound - x[j])
            if sp.integer[j]:
                values = np.unique(np.round(values))
                values = values[values != x[j]]
                values = values[np.argsort(np.abs(values - x[j]))]
            if len(values):
                segments.append((int(j), values))
    for j in np.flatnonzero(sp.mutable_categorical):
        if skip is not None and skip[j]:
            continue
        others = sp.categories[j][sp.categories[j] != x[j]]
        segments.extend((int(j), np.array([c])) for c in others)
    return segments


def refine_segment(sp: FeatureSpace, j: int, inner: float, outer: float, n_grid: int = AXIS_GRID) -> np.ndarray:
    """Values strictly between ``inner`` (not valid) and ``outer`` (valid), ordered outwards."""
    if sp.integer[j]:
        step = np.sign(outer - inner)
        return np.arange(inner + step, outer, step) if step else np.empty(0)
    return inner + (outer - inner) * np.arange(1, n_grid + 1) / (n_grid + 1)


def segment_rows(x: np.ndarray, segments: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``x`` with one feature replaced by each segment value, and the segment index of each row."""
    if not segments:
        return np.empty((0, len(x))), np.empty(0, dtype=int)
    sizes = [len(v) for _, v in segments]
    rows = np.repeat(x[None], sum(sizes), axis=0)
    owner = np.repeat(np.arange(len(segments)), sizes)
    cols = np.repeat([j for j, _ in segments], sizes)
    rows[np.arange(len(rows)), cols] = np.concatenate([v for _, v in segments])
    return rows, owner


def sphere_reach(sp: FeatureSpace) -> float:
    """The largest MAD-L1 distance the constraints allow from ``x``."""
    num = sp.numeric
    span = np.maximum(sp.upper - sp.original, sp.original - sp.lower)[num] / sp.scale[num]
    return float(span.sum() + sp.mutable_categorical.sum())


def sample_sphere(sp: FeatureSpace, rng: np.random.Generator, radius: np.ndarray) -> np.ndarray:
    """One projected point per radius (MAD-L1) around x, on random, mostly low-dimensional, faces."""
    x = sp.original
    n = len(radius)
    radius = np.array(radius, dtype=np.float64)
    idx = np.flatnonzero(sp.numeric)
    cats = np.flatnonzero(sp.mutable_categorical)
    X = np.repeat(x[None], n, axis=0)
    if len(cats):
        switch = rng.random(n) < (1.0 if len(idx) == 0 else 0.25)
        if len(idx):
            switch &= radius >= 1
        for i in np.flatnonzero(switch):
            j = cats[rng.integers(len(cats))]
            others = sp.categories[j][sp.categories[j] != x[j]]
            if len(others):
                X[i, j] = others[rng.integers(len(others))]
                radius[i] = max(radius[i] - 1.0, 0.0)
    if len(idx):
        d = len(idx)
        k = d ** rng.random(n)  # log-uniform expected face dimension, 1 .. d
        active = rng.random((n, d)) < (k / d)[:, None]
        empty = ~active.any(axis=1)
        active[np.flatnonzero(empty), rng.integers(d, size=int(empty.sum()))] = True
        w = rng.exponential(size=(n, d)) * active
        w /= w.sum(axis=1, keepdims=True)
        sign = np.where(rng.random((n, d)) < 0.5, -1.0, 1.0)
        X[:, idx] += (radius[:, None] * w * sign) * sp.scale[idx]
    return sp.project(X)
