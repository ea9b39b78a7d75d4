"""Robustness of a pixel map: does it stay the same under small noise that keeps the prediction?

If noise the model ignores changes the map, the map cannot be telling why the model decided (Ghorbani et al.
2019). :func:`robustness` recomputes a method's map on noisy copies of the image and returns a
:class:`Robustness`: top-k intersection, rank correlation and max-sensitivity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._progress import reporter
from ..._types import Progress
from ..._validation import check_int, check_number, check_positive_int, check_seed
from ...adapters.model import as_model
from ...methods.trust import robustness as _robust
from ...methods.trust import similarity as _sim
from ...plotting import trust as _draw
from ..pixel import attribute, method_options
from ..result import Result, frame
from ._attributions import _explain_copy, _explained_map, _image_for


@dataclass
class Robustness(Result):
    """How much one method's map changes under noise that keeps the prediction (Ghorbani et al. 2019).

    Attributes
    ----------
    method, label, target, target_name : what was explained.
    radius : the noise: uniform in [-radius, radius] per value (in the image's units).
    top_k : the k of the top-k intersection.
    intersections : (n,) share of the original top-k pixels among each noisy copy's top-k.
    correlations : (n,) Spearman rank correlation of each copy's map with the original.
    sensitivities : (n,) relative change of the attribution, ``||a' - a|| / ||a||``.
    max_sensitivity : the largest of them (Yeh et al.'s max-sensitivity estimate).
    n_tried : noisy copies drawn; ``n`` of them kept the prediction.
    image, map, noisy_maps : the original map and the first few noisy maps (for the picture).
    """

    method: str
    label: str
    target: int
    target_name: str
    radius: float
    top_k: int
    intersections: np.ndarray
    correlations: np.ndarray
    sensitivities: np.ndarray
    n_tried: int
    image: np.ndarray
    map: np.ndarray
    noisy_maps: np.ndarray

    @property
    def n(self) -> int:
        return len(self.intersections)

    @property
    def max_sensitivity(self) -> float:
        return float(self.sensitivities.max()) if self.n else float("nan")

    @property
    def intersection(self) -> float:
        """Mean top-k intersection over the noisy copies (1: the same top pixels every time)."""
        return float(self.intersections.mean()) if self.n else float("nan")

    @property
    def correlation(self) -> float:
        """Mean rank correlation with the original map over the noisy copies."""
        return float(self.correlations.mean()) if self.n else float("nan")

    def quality(self) -> list[str]:
        if not self.n:
            return [f"robustness: none of {self.n_tried} noisy copies kept the prediction"]
        return [f"top-{self.top_k} intersection under noise {self.intersection:.2f} "
                f"(rank correlation {self.correlation:.2f}, {self.n} copies)",
                f"max-sensitivity {self.max_sensitivity:.3g} (lower is more robust)"]

    def summary(self) -> str:
        return f"{self.label} for {self.target_name!r}: " + "; ".join(self.quality())

    def to_frame(self):
        """One row per noisy copy: ``intersection``, ``correlation``, ``sensitivity``."""
        return frame({"intersection": self.intersections, "correlation": self.correlations,
                      "sensitivity": self.sensitivities})

    def _png_size(self) -> tuple[float, float]:
        return (2.0 * (1 + len(self.noisy_maps)) + 0.5, 2.6)

    def plot(self, ax=None):
        """The map and the first noisy copies' maps, with their top-k intersection; returns the Axes."""
        return _draw.draw_robustness(self, ax=ax)


def robustness(
    model: Any,
    image: Any,
    method: str = "gradient",
    target: Any = None,
    *,
    n_samples: int = 10,
    noise: float = 0.02,
    top_k: int | None = None,
    seed: int | None = 0,
    options: dict | None = None,
    progress: Progress | bool = None,
) -> Robustness:
    """How much a method's map changes under small noise that keeps the prediction (Ghorbani et al. 2019).

    ``n_samples`` copies of the image with noise uniform in ``[-noise, noise]`` x the value range per value
    (clipped to the range) are drawn; copies the model classifies differently are dropped and more drawn
    (up to 4 x ``n_samples``). For each kept copy the map is recomputed and compared with the original: the
    share of the top-k pixels they share (k: 10 % of the pixels by default), their Spearman rank
    correlation, and the relative change of the attribution, whose maximum is the max-sensitivity.

    Examples
    --------
    >>> r = nbx.robustness(model, image, "gradient", n_samples=10)
    >>> r.intersection, r.max_sensitivity
    """
    m = as_model(model)
    img = _image_for(m, image)
    n = check_positive_int(n_samples, "n_samples")
    noise = check_number(noise, "noise", above=0)
    seed = check_seed(seed)
    opts = method_options(method, options)
    report = reporter(progress, "robustness")
    original = attribute(m, img, method, target, progress=False, **opts)
    h, w = img.shape
    k = _sim.default_top_k(h * w) if top_k is None else check_int(top_k, "top_k", 1, h * w)
    lo, hi = img.value_range
    radius = noise * (hi - lo)
    label = int(np.argmax(original.probabilities))
    kept, tried = _robust.noisy_copies(m, img.tensor, label, n, radius, seed, clip=(lo, hi),
                                       progress=None if report is None else (lambda f: report(0.1 * f)))
    explain = _explain_copy(m, img, method, original.target, opts)
    ranks = _sim.ranks(original.map)
    top = _sim.top_k(original.map, k)
    inter, corr, sens, shown = [], [], [], []
    for i, copy in enumerate(kept):
        attribution = explain(copy)
        map_ = _explained_map(method, attribution)
        inter.append(len(np.intersect1d(top, _sim.top_k(map_, k), assume_unique=True)) / k)
        corr.append(_sim.correlation(ranks, _sim.ranks(map_)))
        sens.append(_robust.relative_change(original.attribution, attribution))
        if len(shown) < 3:
            shown.append(map_)
        if report is not None:
            report(0.1 + 0.9 * (i + 1) / len(kept))
    if report is not None:
        report(1.0)
    return Robustness(method=method, label=original.label, target=original.target, target_name=original.target_name,
                      radius=radius, top_k=k, intersections=np.array(inter), correlations=np.array(corr),
                      sensitivities=np.array(sens), n_tried=tried, image=original.image, map=original.map,
                      noisy_maps=np.array(shown, dtype=np.float32).reshape(len(shown), h, w))


__all__ = ["Robustness", "robustness"]
