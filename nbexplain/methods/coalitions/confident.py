"""Anchors whose precision holds on fresh samples: the paper's definition, on the engine's bandit.

Ribeiro, Singh & Guestrin (2018) call A an anchor when ``P(prec(A) >= threshold) >= 1 - delta``: the lower
confidence bound of its precision must reach the threshold. Two things in :func:`~.anchors.anchor_search` (as
in the authors' ``anchor`` package) let a returned anchor be less precise than that on fresh samples:

* it accepts a candidate whose lower bound exceeds ``threshold - tolerance``;
* a sample drawn for one candidate counts for every candidate it happens to satisfy, although it follows
  another candidate's distribution (its players always present, a table row's features drawn to satisfy
  other predicates — correlated features make this optimistic: 0.98 estimated, 0.91 on fresh rows).

:func:`confident_anchor_search` runs the same search on :class:`OwnSamples` of the sampler (each candidate's
precision is estimated from the samples drawn for it, or for sets of players it is part of) and at
``threshold + tolerance``, so a candidate is accepted only when its lower bound exceeds ``threshold``, while the
bandit still decides each candidate within ``tolerance`` (one whose precision sits at the threshold cannot
keep it sampling forever).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_int, check_number, check_probability
from .anchors import AnchorSampler, AnchorSearch, anchor_search, kl_lower


class OwnSamples:
    """``sampler`` whose samples say only that the players they were drawn for hold (so they count for the
    candidates that required them, never for others they satisfy by chance)."""

    def __init__(self, sampler: AnchorSampler) -> None:
        self.sampler = sampler
        self.n_players = sampler.n_players

    def sample(self, required: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, agrees = self.sampler.sample(required)
        return np.array(required, dtype=bool), agrees

    def coverage(self, anchor: tuple[int, ...]) -> float:
        return self.sampler.coverage(anchor)


def confident_anchor_search(sampler: AnchorSampler, *, threshold: float = 0.95, tolerance: float = 0.02,
                            n_check: int = 1000, **options: Any) -> AnchorSearch:
    """:func:`~.anchors.anchor_search` whose accepted anchor has a precision lower bound above ``threshold``,
    estimated from its own samples (see the module docstring).

    ``tolerance`` is capped at half the room above the threshold, ``(1 - threshold) / 2``. The result reports
    ``threshold`` as asked; ``meets_threshold`` says whether an anchor was accepted. When none was, the most
    precise candidate is returned with its precision measured again on ``n_check`` fresh samples (the search
    may have judged it on a handful).

    Examples
    --------
    >>> found = confident_anchor_search(sampler, threshold=0.95)
    >>> found.precision_lower > 0.95 or not found.meets_threshold
    True
    """
    threshold = check_probability(threshold, "threshold", strict=True)
    tolerance = min(check_number(tolerance, "tolerance", above=0, below=1), (1 - threshold) / 2)
    found = anchor_search(OwnSamples(sampler), threshold=threshold + tolerance, tolerance=tolerance, **options)
    found.threshold = threshold
    if not found.meets_threshold and found.anchor:  # the best candidate may rest on a handful of samples
        required = np.zeros((check_int(n_check, "n_check", minimum=1), sampler.n_players), dtype=bool)
        required[:, list(found.anchor)] = True
        _, agrees = sampler.sample(required)
        found.precision = float(np.mean(agrees))
        found.precision_lower = float(kl_lower(found.precision, np.log(1.0 / options.get("delta", 0.1)) / len(agrees)))
        found.n_samples += len(agrees)
    return found


__all__ = ["OwnSamples", "confident_anchor_search"]
