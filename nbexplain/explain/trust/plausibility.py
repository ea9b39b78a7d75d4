"""Plausibility of counterfactuals: do the points look like the data?

A counterfactual that reaches its target far from any real row explains nothing a person could do.
:func:`plausibility` measures each point's distance to its nearest data rows and its local outlier factor
(Breunig et al. 2000) and returns a :class:`Plausibility`, with the counterfactuals' validity, sparsity
and proximity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import check_finite_array, check_int
from ...errors import InputError
from ...methods.trust import plausibility as _plaus
from ...plotting import trust as _draw
from ..result import Result, frame

#: a local outlier factor above this calls a point an outlier (scikit-learn's threshold for contamination="auto")
LOF_OUTLIER = 1.5
#: a point farther from its nearest rows than this quantile of the data's own rows is far from the data
DISTANCE_QUANTILE = 0.95


@dataclass
class Plausibility(Result):
    """How much points (counterfactuals) look like the data.

    Attributes
    ----------
    points : (P, F) the points checked; ``feature_names`` their features.
    nearest : (P, k) distances to the k nearest data rows (MAD-scaled L1; a changed category counts 1).
    typical : (N',) each data row's mean distance to its k nearest other rows: what "near the data" means.
    outlier_factors : (P,) local outlier factor of each point (about 1 inside the data).
    data_factors : (N,) the data rows' own outlier factors.
    valid, n_changed, distance : per point, when the points are counterfactuals (else None).
    """

    points: np.ndarray
    feature_names: list[str]
    nearest: np.ndarray
    typical: np.ndarray
    outlier_factors: np.ndarray
    data_factors: np.ndarray
    valid: list[bool] | None = None
    n_changed: list[int] | None = None
    distance: list[float] | None = None
    _png_figsize = (4.6, 3.0)

    @property
    def nearest_mean(self) -> np.ndarray:
        """(P,) mean distance to the k nearest rows."""
        return self.nearest.mean(axis=1)

    @property
    def distance_percentile(self) -> np.ndarray:
        """(P,) the share of data rows that are closer to their own neighbours than each point is to the data."""
        return np.array([(self.typical < d).mean() for d in self.nearest_mean])

    @property
    def implausible(self) -> np.ndarray:
        """(P,) bool: an outlier (factor above ``LOF_OUTLIER``) or farther from the data than
        ``DISTANCE_QUANTILE`` of the data's rows are from theirs."""
        return (self.outlier_factors > LOF_OUTLIER) | (self.distance_percentile > DISTANCE_QUANTILE)

    def lines(self, i: int = 0) -> list[str]:
        """Point ``i``'s quality: validity, sparsity and proximity (counterfactuals), then plausibility."""
        out = []
        if self.valid is not None:
            out.append("valid: reaches the target" if self.valid[i] else "NOT valid: misses the target")
            f = len(self.feature_names)
            out.append(f"sparsity: {self.n_changed[i]} of {f} features changed")
            out.append(f"proximity: distance {self.distance[i]:.3g} MAD")
        pct = self.distance_percentile[i]
        lof = float(self.outlier_factors[i])
        verdict = "IMPLAUSIBLE" if self.implausible[i] else "plausible"
        out.append(f"plausibility: {verdict} — nearest rows {self.nearest_mean[i]:.3g} MAD away "
                   f"(farther than {pct:.0%} of the data), outlier factor {lof:.2f}")
        return out

    def quality(self) -> list[str]:
        return self.lines(0)

    def summary(self) -> str:
        n_bad = int(self.implausible.sum())
        head = f"{len(self.points)} point(s), {n_bad} implausible"
        return "\n".join([head] + [f"  #{i + 1}: " + "; ".join(self.lines(i)) for i in range(len(self.points))])

    def to_frame(self):
        """One row per point: ``nearest`` (mean distance), ``percentile``, ``outlier_factor``, ``implausible``."""
        return frame({"nearest": self.nearest_mean, "percentile": self.distance_percentile,
                      "outlier_factor": self.outlier_factors, "implausible": self.implausible},
                     index=list(range(1, len(self.points) + 1)))

    def plot(self, ax=None):
        """The data rows' outlier factors with each point's marked; returns the Axes."""
        return _draw.draw_plausibility(self, ax=ax, threshold=LOF_OUTLIER)


def plausibility(points: Any, data: Any = None, *, categorical: Sequence | None = None, n_neighbors: int = 20,
                 k: int = 5, feature_names: Sequence[str] | None = None, scale: Any = None,
                 valid: Sequence[bool] | None = None, n_changed: Sequence[int] | None = None,
                 distance: Sequence[float] | None = None) -> Plausibility:
    """How far points (counterfactuals) lie from the data: nearest-row distances and a local outlier factor.

    Distances are the counterfactual search's (L1 with each numeric feature divided by its median absolute
    deviation over ``data``; a changed category counts 1). A point is called implausible when its local
    outlier factor (Breunig et al. 2000; scikit-learn's ``LocalOutlierFactor(novelty=True)`` with
    ``n_neighbors``) is above 1.5, or when it is farther from its ``k`` nearest rows than 95 % of the data's
    rows are from theirs.

    Parameters
    ----------
    points : CounterfactualResult or (P, F) array
        A result of :func:`nbexplain.counterfactual` (its data, scale and categories are used, and its
        validity, sparsity and proximity reported), or rows.
    data : (N, F) array or DataFrame
        The reference rows (default: the counterfactual result's).
    categorical : list of features, optional
        Categorical columns (default: the counterfactual result's).
    n_neighbors, k : the outlier factor's neighbours, and the nearest rows whose distance is reported.
    scale : (F,) array, optional
        The distance's unit per numeric feature (default: the result's, else the MAD over ``data``).
    valid, n_changed, distance : optional, one per point
        For plain points that are counterfactuals: reported as validity, sparsity and proximity.

    Examples
    --------
    >>> cf = nbx.counterfactual(clf, x, data.X)
    >>> nbx.plausibility(cf).implausible
    array([False])
    """
    from ...inputs.tables import as_table, feature_set

    if hasattr(points, "counterfactuals") and hasattr(points, "space"):
        result = points
        data = result._data if data is None else data
        if data is None:
            raise InputError("plausibility: this counterfactual result holds no data; pass data=")
        table = as_table(data, result.feature_names, "data")
        cat = result.space.categorical if categorical is None else None
        scale = result.scale if scale is None else scale
        X = np.array([c.x for c in result.counterfactuals])
        valid = [c.valid for c in result.counterfactuals]
        n_changed = [c.n_changed for c in result.counterfactuals]
        distance = [c.distance for c in result.counterfactuals]
        names = list(result.feature_names)
    else:
        if data is None:
            raise InputError("plausibility needs data= (the reference rows) for plain points")
        table = as_table(data, feature_names, "data")
        X = np.atleast_2d(np.asarray(points, dtype=np.float64))
        if X.ndim != 2 or X.shape[1] != table.n_features:
            raise InputError(f"points must have {table.n_features} features (one row each); got shape {np.shape(points)}")
        cat = None
        names = list(table.feature_names)
    if cat is None:
        cat = np.zeros(table.n_features, bool)
        if categorical is not None:
            cat[feature_set(table, categorical, "categorical")] = True
    if not np.all(np.isfinite(X)):
        raise InputError("points contain NaN or infinite values")
    for name, given in (("valid", valid), ("n_changed", n_changed), ("distance", distance)):
        if given is not None and len(given) != len(X):
            raise InputError(f"{name} must give one value per point ({len(X)}); got {len(given)}")
    if (valid is None) != (n_changed is None) or (valid is None) != (distance is None):
        raise InputError("give all of valid, n_changed and distance (for counterfactuals), or none")
    if scale is not None:
        scale = check_finite_array(scale, "scale", ndim=1)
        if scale.shape != (table.n_features,):
            raise InputError(f"scale must give one number per feature ({table.n_features}); got {scale.shape}")
    n_neighbors = check_int(n_neighbors, "n_neighbors", 1)
    k = check_int(k, "k", 1)
    geometry = _plaus.Geometry.fit(table.values, cat, scale)
    nearest = _plaus.nearest_distances(geometry, X, k)
    typical = _plaus.typical_distances(geometry, k)
    factors, data_factors = _plaus.outlier_factors(geometry, X, n_neighbors)
    return Plausibility(points=X, feature_names=names, nearest=nearest, typical=typical, outlier_factors=factors,
                        data_factors=data_factors, valid=None if valid is None else [bool(v) for v in valid],
                        n_changed=None if n_changed is None else [int(v) for v in n_changed],
                        distance=None if distance is None else [float(v) for v in distance])


__all__ = ["DISTANCE_QUANTILE", "LOF_OUTLIER", "Plausibility", "plausibility"]
