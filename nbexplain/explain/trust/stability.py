"""Stability of a sampled explanation: does it tell the same story with different seeds?

LIME, sampled Shapley values and SmoothGrad draw random samples, so one run may be luck. :func:`stability`
runs an explanation with several seeds and returns a :class:`Stability`: how much their top-k entries and
rankings agree (:func:`scores_of` finds the numbers an explanation ranks by).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._progress import reporter
from ..._types import Progress
from ..._validation import check_callable, check_int, check_seed
from ...errors import InputError
from ...methods.trust import similarity as _sim
from ...plotting import trust as _draw
from ..result import Result, frame


def scores_of(result: Any) -> np.ndarray:
    """The numbers an explanation ranks things by: superpixel scores (an anchor's mask), feature values, a
    pixel map, or an array as it is."""
    for name in ("scores", "values", "map"):  # superpixel scores before the pixels they paint
        if hasattr(result, name) and not isinstance(result, np.ndarray):
            value = getattr(result, name)
            if value is not None and not callable(value):
                return np.asarray(value, dtype=np.float64)
    try:
        return np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"stability: explain returned a {type(result).__name__}, which has no map, scores or "
                         "values to compare") from exc


@dataclass
class Stability(Result):
    """Whether a sampled method tells the same story with different seeds.

    Attributes
    ----------
    seeds : the seeds run. ``top_k`` : the k compared.
    intersections : (n_pairs,) top-k intersection of every pair of runs (by |value|).
    correlations : (n_pairs,) Spearman rank correlation of every pair of runs.
    scores : (n_seeds, n) each run's numbers. ``label`` : what was run, in words.
    """

    seeds: list[int]
    top_k: int
    intersections: np.ndarray
    correlations: np.ndarray
    scores: np.ndarray
    label: str = ""
    _png_figsize = (4.4, 3.0)

    @property
    def agreement(self) -> float:
        """Mean top-k intersection over every pair of seeds: 1 when every run names the same top k."""
        return float(self.intersections.mean())

    @property
    def rank_agreement(self) -> float:
        """Mean Spearman rank correlation over every pair of seeds."""
        return float(self.correlations.mean())

    def quality(self) -> list[str]:
        return [f"stability across {len(self.seeds)} seeds: top-{self.top_k} agreement {self.agreement:.2f} "
                f"(rank correlation {self.rank_agreement:.2f})"]

    def summary(self) -> str:
        what = f"{self.label}: " if self.label else ""
        return what + self.quality()[0]

    def to_frame(self):
        """One row per pair of seeds: ``seed_a``, ``seed_b``, ``intersection``, ``correlation``."""
        from itertools import combinations

        pairs = list(combinations(self.seeds, 2))
        return frame({"seed_a": [a for a, _ in pairs], "seed_b": [b for _, b in pairs],
                      "intersection": self.intersections, "correlation": self.correlations})

    def plot(self, ax=None):
        """How often each entry is in the top k across the seeds; returns the Axes."""
        return _draw.draw_stability(self, ax=ax)


def stability(explain: Callable[[int], Any], *, n_seeds: int = 10, seeds: Sequence[int] | None = None,
              top_k: int | None = None, label: str = "", progress: Progress | bool = None) -> Stability:
    """Run a sampled explanation with ``n_seeds`` seeds and measure how much the runs agree.

    ``explain(seed)`` returns an explanation (an AttributionMap, a superpixel or tabular result, or an
    array); its numbers are compared by |value|: the share of the top-k entries two runs share, averaged
    over every pair of seeds (k: 5 for up to 50 entries, else 10 %), and their Spearman rank correlation.
    A deterministic method scores exactly 1; LIME's score rises with its ``n_samples``.

    Examples
    --------
    >>> nbx.stability(lambda seed: nbx.lime_image(game, n_samples=500, seed=seed)).agreement
    >>> nbx.stability(lambda seed: nbx.attribute(model, image, "smoothgrad", seed=seed))
    """
    explain = check_callable(explain, "explain", "a function of the seed returning an explanation")
    if seeds is None:
        seeds = list(range(check_int(n_seeds, "n_seeds", 2)))
    else:
        seeds = [check_seed(s, "seeds") for s in seeds]
        if len(seeds) < 2 or any(s is None for s in seeds):
            raise InputError("seeds must hold at least two ints")
    report = reporter(progress, "stability")
    runs = []
    for i, s in enumerate(seeds):
        runs.append(np.abs(scores_of(explain(s))).ravel())
        if report is not None:
            report((i + 1) / len(seeds))
    sizes = {r.size for r in runs}
    if len(sizes) != 1:
        raise InputError(f"stability: the runs returned different numbers of entries {sorted(sizes)}")
    n = sizes.pop()
    k = _sim.default_top_k(n) if top_k is None else check_int(top_k, "top_k", 1, n)
    inter, corr = _sim.pairwise(runs, k)
    return Stability(seeds=list(seeds), top_k=k, intersections=inter, correlations=corr, scores=np.stack(runs),
                     label=str(label))


__all__ = ["Stability", "scores_of", "stability"]
