"""A synthetic hiring data set with a known bias, injected through a proxy feature (for fairness audits).

Generated here, with a seed, so that what an audit, a proxy finder or per-group thresholds report can be
checked against the truth. The story: past hiring decisions (the label ``y``) rewarded qualifications
(experience, a skill test, education, an interview) but also penalised *career gaps*, and career gaps are far
more common among women in this population. A model trained on those decisions never sees gender, yet
selects fewer women: the career gap is a proxy for gender (fairness through unawareness fails). The
unbiased label, ``qualified``, is what the decisions would have been without the penalty.

Features: ``experience`` (years), ``skill_test`` (0–100), ``education`` (0 high school, 1 bachelor,
2 master, 3 doctorate), ``interview`` (1–5), ``career_gap`` (years; the proxy), ``commute_km`` (associated
with age, not used by the decisions: a decoy that an association alone would flag), ``referral`` (0/1).
The sensitive attributes ``Gender`` and ``Age band`` are kept apart from ``X``, in ``sensitive``.

Examples
--------
>>> data = nbx.datasets.hiring(2000, seed=0)
>>> data.X.shape, data.proxy
((2000, 7), 'career_gap')
>>> sorted(data.sensitive)
['Age band', 'Gender']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int, check_number, check_seed
from .coded import CodedTable

FEATURES = ("experience", "skill_test", "education", "interview", "career_gap", "commute_km", "referral")
CATEGORIES = {"education": ["high school", "bachelor", "master", "doctorate"], "referral": ["No", "Yes"]}
INTEGER = ("education", "referral")
CLASS_NAMES = ("rejected", "hired")
GROUPS = {"Gender": ("Female", "Male"), "Age band": ("under 40", "40 and over")}
#: the label's penalty per year of career gap (in units of the qualification score) at ``bias=1``
GAP_PENALTY = 0.6
HIRED_SHARE = 0.35


@dataclass
class HiringData(CodedTable):
    """The hiring data as arrays.

    Attributes
    ----------
    X : (N, 7) float64 — the features of :data:`FEATURES` (``education`` and ``referral`` as integer codes).
    y : (N,) int64 — 1 when the (biased) past decision was "hired".
    qualified : (N,) int64 — the decision without the career-gap penalty (same share hired): the truth.
    sensitive : dict — ``{"Gender": (N,) str, "Age band": (N,) str}``, not among the features.
    feature_names, categories, integer, class_names
        As in :class:`~nbexplain.datasets.CreditData`.
    groups : dict — the groups of each sensitive attribute in order (pass as ``categories=`` to an audit).
    proxy : str — the feature through which the bias was injected (``"career_gap"``).
    bias : float — the strength of the injected penalty (0: none).
    """

    X: np.ndarray
    y: np.ndarray
    qualified: np.ndarray
    sensitive: dict[str, np.ndarray]
    feature_names: list[str] = field(default_factory=lambda: list(FEATURES))
    categories: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in CATEGORIES.items()})
    integer: list[str] = field(default_factory=lambda: list(INTEGER))
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))
    groups: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in GROUPS.items()})
    proxy: str = "career_gap"
    bias: float = 1.0

    def frame(self) -> Any:
        """The features and the sensitive attributes as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        df = self.coded_frame()
        for name, values in self.sensitive.items():
            df[name] = pd.Categorical(values, categories=list(GROUPS[name]))
        return df


def hiring(n: int = 2000, *, seed: int | None = 0, bias: float = 1.0) -> HiringData:
    """Generate ``n`` applicants and their past hiring decisions, biased against career gaps.

    Parameters
    ----------
    n : int
        Applicants (at least 50).
    seed : int or None
        The random seed (default 0: the same data every time; None: fresh randomness).
    bias : float
        Strength of the penalty on career gaps in the decisions (0: unbiased decisions, ``y == qualified``
        in distribution; 1: the default).

    Returns
    -------
    HiringData

    Examples
    --------
    >>> data = nbx.datasets.hiring(seed=0)
    >>> women = data.sensitive["Gender"] == "Female"
    >>> data.y[women].mean() < data.y[~women].mean()
    True
    """
    n = check_int(n, "n", 50)
    seed = check_seed(seed)
    bias = check_number(bias, "bias", 0.0)
    rng = np.random.default_rng(seed)
    male = rng.random(n) < 0.5
    age = rng.uniform(22, 62, n)
    older = age >= 40
    education = rng.choice(4, size=n, p=[0.3, 0.45, 0.2, 0.05])
    experience = np.round(np.clip((age - 22 - 1.5 * education) * rng.uniform(0.5, 1.0, n), 0, 40), 1)
    skill = np.round(np.clip(rng.normal(70, 10, n), 0, 100))
    interview = np.round(np.clip(rng.normal(3, 0.8, n), 1, 5), 1)
    has_gap = rng.random(n) < np.where(male, 0.15, 0.6)
    gap = np.round(has_gap * rng.exponential(np.where(male, 1.0, 2.0)), 1)
    commute = np.round(np.clip(rng.normal(np.where(older, 25, 15), 6), 1, None), 1)
    referral = (rng.random(n) < 0.2).astype(np.float64)
    merit = (0.08 * np.minimum(experience, 8) + 0.05 * (skill - 70) + 0.5 * education + 0.8 * (interview - 3)
             + 0.5 * referral + rng.normal(0, 0.7, n))
    biased = merit - bias * GAP_PENALTY * gap
    y = (biased >= np.quantile(biased, 1 - HIRED_SHARE)).astype(np.int64)
    qualified = (merit >= np.quantile(merit, 1 - HIRED_SHARE)).astype(np.int64)
    X = np.column_stack([experience, skill, education, interview, gap, commute, referral]).astype(np.float64)
    sensitive = {"Gender": np.where(male, "Male", "Female"), "Age band": np.where(older, "40 and over", "under 40")}
    return HiringData(X=X, y=y, qualified=qualified, sensitive=sensitive, bias=float(bias))


__all__ = ["CATEGORIES", "FEATURES", "GROUPS", "HiringData", "hiring"]
