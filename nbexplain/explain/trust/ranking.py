"""Ranking pixel attribution methods: which of them explains this image most faithfully (or robustly)?

Methods disagree, and a comparison side by side does not say which map to believe. :func:`rank_methods`
ranks the methods by one :mod:`.faithfulness` measure (deletion, insertion, infidelity, correlation) or by
max-sensitivity and returns a :class:`MethodRanking`, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._progress import reporter
from ..._types import Progress
from ..._validation import check_choice
from ...adapters.model import as_model
from ...errors import InputError
from ...plotting import trust as _draw
from ..pixel import AttributionMap, attribute
from ..result import Result, frame
from ._attributions import DEFAULT_SANITY_METHODS, _image_for, _methods_and_options
from .faithfulness import faithfulness, sensitivity_max

#: what a pixel map's faithfulness can be ranked by, and whether higher is better
RANKINGS = {"deletion": False, "insertion": True, "infidelity": False, "correlation": True, "sensitivity": False}


@dataclass
class MethodRanking(Result):
    """Pixel attribution methods ranked by a faithfulness or robustness measure, best first.

    Attributes
    ----------
    methods : list of str — best first by ``by``; ``labels`` in words.
    by : the measure ranked by (a key of :data:`RANKINGS`).
    values : dict — measure -> (n_methods,) values in the order of ``methods`` (every measure computed).
    target_name : the explained class.
    """

    methods: list[str]
    labels: list[str]
    by: str
    values: dict[str, np.ndarray]
    target_name: str
    _png_figsize = (4.6, 3.0)

    @property
    def higher_is_better(self) -> bool:
        return RANKINGS[self.by]

    def value(self, method: str) -> float:
        return float(self.values[self.by][self.methods.index(method)])

    def quality(self) -> list[str]:
        better = "higher" if self.higher_is_better else "lower"
        return [f"{i + 1}. {label}: {self.by} {v:.3g}" for i, (label, v)
                in enumerate(zip(self.labels, self.values[self.by], strict=True))] + [f"({better} is better)"]

    def summary(self) -> str:
        return (f"Ranked by {self.by} ({'higher' if self.higher_is_better else 'lower'} is better) for "
                f"{self.target_name!r}: " + ", ".join(self.labels))

    def to_frame(self):
        """One row per method, best first: ``method`` and every measure computed."""
        return frame({"method": self.methods, **{k: v for k, v in self.values.items()}},
                     index=list(range(1, len(self.methods) + 1)))

    def plot(self, ax=None):
        """Bars of the ranked measure, best on top; returns the Axes."""
        return _draw.draw_ranking(self, ax=ax)


def rank_methods(model: Any, image: Any, methods: Sequence[str] | None = None, by: str = "insertion",
                 target: Any = None, *, results: Sequence[AttributionMap] | None = None,
                 options: dict[str, dict] | None = None, steps: int = 50, baseline: Any = "blur",
                 n_perturbations: int = 20, n_samples: int = 5, seed: int | None = 0,
                 progress: Progress | bool = None) -> MethodRanking:
    """Rank pixel attribution methods by how faithful (or robust) their maps are, best first.

    ``by`` is "deletion" (area, lower is better), "insertion" (higher), "infidelity" (lower),
    "correlation" (faithfulness correlation, higher) or "sensitivity" (max-sensitivity, lower: each method
    is recomputed on ``n_samples`` noisy copies). Pass ``results`` (e.g. ``comparison.results``) to rank
    maps already computed. The deletion and insertion curves take ``steps`` steps.

    Examples
    --------
    >>> nbx.rank_methods(model, image, ["gradient", "integrated_gradients", "gradcam"], by="deletion")
    """
    by = check_choice(by, "by", list(RANKINGS))
    m = as_model(model)
    img = _image_for(m, image)
    if results is None:
        methods, opts = _methods_and_options(m, methods if methods is not None else DEFAULT_SANITY_METHODS, options)
        results = []
        for name in methods:
            results.append(attribute(m, img, name, target if not results else results[0].target, progress=False,
                                     **opts[name]))
    else:
        results = list(results)
        if not results or not all(isinstance(r, AttributionMap) for r in results):
            raise InputError("results must be a non-empty list of AttributionMap (e.g. comparison.results)")
        opts = {r.method: r.options for r in results}
    report = reporter(progress, "ranking methods")
    values: dict[str, list] = {k: [] for k in ("deletion", "insertion", "infidelity", "correlation")}
    if by == "sensitivity":
        values["sensitivity"] = []
    for i, r in enumerate(results):
        f = faithfulness(m, img, r, baseline=baseline, steps=steps, n_perturbations=n_perturbations, seed=seed,
                         progress=False)
        values["deletion"].append(f.auc_deletion)
        values["insertion"].append(f.auc_insertion)
        values["infidelity"].append(f.infidelity)
        values["correlation"].append(f.correlation)
        if by == "sensitivity":
            values["sensitivity"].append(sensitivity_max(m, img, r.method, r.target, n_perturbations=n_samples,
                                                         seed=seed, options=opts.get(r.method), progress=False))
        if report is not None:
            report((i + 1) / len(results))
    arrays = {k: np.array(v, dtype=np.float64) for k, v in values.items()}
    key = arrays[by] if RANKINGS[by] else -arrays[by]
    order = np.argsort(-np.nan_to_num(key, nan=-np.inf), kind="stable")
    return MethodRanking(methods=[results[i].method for i in order], labels=[results[i].label for i in order], by=by,
                         values={k: v[order] for k, v in arrays.items()}, target_name=results[0].target_name)


__all__ = ["RANKINGS", "MethodRanking", "rank_methods"]
