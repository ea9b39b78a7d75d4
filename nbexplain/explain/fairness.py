"""Fairness audits, model cards and datasheets: results disaggregated by group with their uncertainty.

* :func:`audit` — per group and per intersection of the sensitive attributes: size, base rate, selection
  rate, accuracy, TPR, FPR, FNR, precision, calibration (ECE and a reliability curve) and ROC AUC (a
  regression: its error metrics), each with a bootstrap confidence interval and a flag where the group is
  too small for the number to mean anything; the disparities between groups (disparate-impact ratio with
  the four-fifths rule, demographic-parity, equal-opportunity and equalised-odds differences) and the
  worst-off group on each metric. From the audit, one call per question asks the other explainers *why*:
  :meth:`Audit.shapley_by_group`, :meth:`Audit.effect_by_group`, :meth:`Audit.counterfactuals`,
  :meth:`Audit.proxies`; and every fairness definition is a threshold choice: :meth:`Audit.fair_thresholds`,
  :meth:`Audit.with_thresholds`, :meth:`Audit.tradeoff`.
* :func:`model_card` — Mitchell et al. (2019) *Model Cards for Model Reporting*: the sections filled from
  what nbexplain knows, clearly marked blanks for what only a person can write, and harm-assessment
  questions as a checklist; Markdown and one self-contained HTML file.
* :func:`datasheet` — Gebru et al. (2021) *Datasheets for Datasets*: a skeleton with the data's computed facts.

The numbers are fairlearn's: every per-group metric equals ``fairlearn.metrics.MetricFrame`` (and
scikit-learn's metric on the group's rows), and with the same ``seed`` the bootstrap draws the same resamples
as ``MetricFrame(n_boot=..., random_state=seed)``, so the intervals agree too; the counting is nbexplain's own
(:mod:`nbexplain.methods.fairness`), many times faster. Papers: Feldman et al. (2015) *Certifying and removing
disparate impact*; Hardt, Price & Srebro (2016) *Equality of opportunity in supervised learning*; Buolamwini &
Gebru (2018) *Gender Shades*; Efron & Tibshirani (1993) for the percentile bootstrap.

Examples
--------
>>> data = nbx.datasets.hiring(2000, seed=0)
>>> clf = GradientBoostingClassifier(random_state=0).fit(data.X[:1000], data.y[:1000])
>>> a = nbx.audit(clf, data.X[1000:], data.y[1000:], sensitive={k: v[1000:] for k, v in data.sensitive.items()},
...               feature_names=data.feature_names)
>>> print(a.summary())
>>> a.proxies().top(1)
[('career_gap', ...)]
>>> card = nbx.model_card(clf, audit=a, intended_use="Rank applications for a human recruiter.")
>>> card.save("card.html")
"""

from __future__ import annotations

import datetime
import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import reporter
from .._validation import (
    check_bool,
    check_choice,
    check_int,
    check_keywords,
    check_number,
    check_probability,
    check_seed,
)
from ..adapters.model import Model
from ..adapters.outputs import tabular_output
from ..errors import InputError
from ..inputs.tables import Table, as_table, feature_index, sample_rows, tabular_model
from ..methods.fairness import bootstrap as boot
from ..methods.fairness import document as doc
from ..methods.fairness import metrics as mx
from ..methods.fairness import proxies as px
from ..methods.fairness import thresholds as th
from ..methods.fairness.groups import Grouping, grouping, intersection
from ..plotting import fairness as draw
from .counterfactual import CounterfactualResult, counterfactual
from .effects import ICE, ice
from .result import Result, frame
from .tabular import shapley_tabular

#: the measures of disparity between groups, per kind of model
DISPARITIES = {
    "classification": ("disparate_impact", "demographic_parity_difference", "equal_opportunity_difference",
                       "equalized_odds_difference"),
    "regression": ("mae_difference", "rmse_difference", "mean_error_difference"),
}
DISPARITY_LABELS = {
    "disparate_impact": "disparate-impact ratio", "demographic_parity_difference": "demographic-parity difference",
    "equal_opportunity_difference": "equal-opportunity difference",
    "equalized_odds_difference": "equalised-odds difference", "mae_difference": "MAE difference",
    "rmse_difference": "RMSE difference", "mean_error_difference": "bias difference",
}
#: what each disparity compares, and the metric whose worst group it names
DISPARITY_METRIC = {"disparate_impact": "selection_rate", "demographic_parity_difference": "selection_rate",
                    "equal_opportunity_difference": "tpr", "equalized_odds_difference": "tpr",
                    "mae_difference": "mae", "rmse_difference": "rmse", "mean_error_difference": "mean_error"}
FOUR_FIFTHS = 0.8
FOUR_FIFTHS_RULE = ("The four-fifths rule (US Uniform Guidelines on Employee Selection Procedures, 1978): a "
                    "selection rate for any group below four-fifths (80 %) of the rate of the group with the "
                    "highest rate is generally regarded as evidence of adverse impact.")
OVERALL = "all"


# =================================================================================================
# results
# =================================================================================================
@dataclass
class Disparity:
    """One measure of disparity between the groups of one attribute, with its bootstrap interval.

    ``value`` is over all groups (the lowest selection rate over the highest, the largest minus the smallest
    TPR...), as fairlearn's ``demographic_parity_ratio``, ``equal_opportunity_difference`` etc. compute it;
    ``best``/``worst`` name the groups at the two ends. ``low``/``high`` bound the gap *between those two
    groups* over the resamples, signed: it reaches 0 (a ratio of 1) when the gap may be noise. ``passes`` is
    the four-fifths rule's verdict for the ratio (None for the others); ``too_small`` is True when either end
    is a group too small to trust.
    """

    measure: str
    attribute: str
    value: float
    low: float
    high: float
    best: str | None
    worst: str | None
    passes: bool | None = None
    too_small: bool = False

    @property
    def label(self) -> str:
        return DISPARITY_LABELS[self.measure]

    def describe(self) -> str:
        """One line: the value, its interval, the groups at the ends and the rule's verdict."""
        text = (f"{self.label} for {self.attribute}: {self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"
                f" ({self.worst} vs {self.best})")
        if self.passes is not None:
            if not self.passes:
                text += " — below 0.8: adverse impact under the four-fifths rule"
                if self.high >= FOUR_FIFTHS:
                    text += " (but the interval reaches 0.8)"
            else:
                text += " — passes the four-fifths rule"
                if self.low < FOUR_FIFTHS:
                    text += " (but the interval reaches below 0.8)"
        no_gap = (self.high >= 1) if self.measure == "disparate_impact" else (self.low <= 0)
        if no_gap and np.isfinite(self.low):
            text += "; the interval reaches no gap: it may be noise"
        if self.too_small:
            text += "; a group at an end is too small to trust"
        return text


@dataclass(repr=False)
class GroupMetrics:
    """The metrics of each group of one attribute (or of an intersection, or of all rows).

    Attributes
    ----------
    attribute : str — e.g. ``"Gender"``, ``"Gender × Ethnicity"`` or ``"all"``.
    names : list of str — the groups.
    sizes : (G,) int — rows per group.
    values, low, high : (G, M) — each metric (``Audit.metrics`` order) and its bootstrap interval.
    counts : (G, M) — the rows each metric averages over (TPR: the group's positives, precision: its
        selected rows...).
    too_small : (G, M) bool — ``counts < min_group_size``: the number means little.
    reliability : (G, n_bins, 3) or None — per calibration bin: mean score, observed rate, count.
    thresholds : (G,) — the decision threshold of each group's rows (NaN where they differ within a group).
    disparities : dict measure -> :class:`Disparity`.
    worst : dict metric -> the worst-off group's name (among groups large enough, when any is).
    """

    attribute: str
    names: list[str]
    sizes: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    counts: np.ndarray
    too_small: np.ndarray
    reliability: np.ndarray | None
    thresholds: np.ndarray
    disparities: dict[str, Disparity] = field(default_factory=dict)
    worst: dict[str, str | None] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<GroupMetrics of {self.attribute}: {', '.join(self.names[:8])}{'…' if len(self.names) > 8 else ''}>"


@dataclass(repr=False)
class Audit(Result):
    """A fairness audit of a model on labelled data (see :func:`audit`).

    Attributes
    ----------
    kind : "classification" or "regression".
    metrics : tuple of str — the metric keys (``values`` columns).
    overall : :class:`GroupMetrics` — all rows as one group.
    groups_by : list of :class:`GroupMetrics` — one per sensitive attribute, then their intersection.
    target, target_name : the class whose selection is audited (the favourable decision) and its name.
    output_label : str — what the score is ("P(hired)").
    threshold : float — the decision threshold for groups without their own.
    thresholds : dict or None — per-group thresholds ``{group: t}`` of ``threshold_attribute``.
    score, y, decision : (N,) — the model's score of each row, its label (1: the target class) and the
        decision (1: selected); a regression: the prediction, the truth and the prediction again.
    n_bootstrap, ci, seed, min_group_size, n_bins : how the intervals and flags were made.
    feature_names, sensitive_features : the model's features, and those of them that are sensitive.
    seconds : float — wall time.
    """

    kind: str
    metrics: tuple[str, ...]
    overall: GroupMetrics
    groups_by: list[GroupMetrics]
    target: int
    target_name: str
    output_label: str
    threshold: float
    thresholds: dict[str, float] | None
    threshold_attribute: str | None
    score: np.ndarray
    y: np.ndarray
    decision: np.ndarray
    n_bootstrap: int
    ci: float
    seed: int | None
    min_group_size: int
    n_bins: int
    feature_names: list[str]
    sensitive_features: list[str]
    class_names: list[str] | None = None
    seconds: float = 0.0
    _model: Any = field(default=None, repr=False)
    _table: Table | None = field(default=None, repr=False)
    _groupings: list[Grouping] = field(default_factory=list, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    _png_figsize = (6.0, 3.6)

    # -- looking things up ---------------------------------------------------------------------
    @property
    def attributes(self) -> list[str]:
        """The audited attributes: each sensitive attribute, then their intersection."""
        return [g.attribute for g in self.groups_by]

    @property
    def n_rows(self) -> int:
        return len(self.y)

    def groups(self, attribute: str | None = None) -> GroupMetrics:
        """The :class:`GroupMetrics` of ``attribute`` (default: the first; ``"all"``: every row as one group)."""
        return self.groups_by[self._attribute_index(attribute)] if attribute != OVERALL else self.overall

    def _attribute_index(self, attribute: str | int | None) -> int:
        if attribute is None:
            return 0
        if isinstance(attribute, (int, np.integer)) and not isinstance(attribute, bool):
            if not 0 <= attribute < len(self.groups_by):
                raise InputError(f"attribute={attribute} is out of range: the audit has {self.attributes}")
            return int(attribute)
        return self.attributes.index(check_choice(attribute, "attribute", self.attributes))

    def _grouping(self, attribute: str | None) -> Grouping:
        return self._groupings[self._attribute_index(attribute)]

    def _metric(self, metric: str | None) -> str:
        if metric is None:
            return "selection_rate" if self.kind == "classification" else "mae"
        return check_choice(metric, "metric", ("size",) + self.metrics)

    def value(self, metric: str, group: str, attribute: str | None = None) -> tuple[float, float, float]:
        """``(value, low, high)`` of ``metric`` for ``group`` of ``attribute``."""
        gm = self.groups(attribute)
        m = self.metrics.index(self._metric(metric))
        g = gm.names.index(check_choice(group, "group", gm.names))
        return float(gm.values[g, m]), float(gm.low[g, m]), float(gm.high[g, m])

    def disparity(self, measure: str | None = None, attribute: str | None = None) -> Disparity:
        """One :class:`Disparity` (default: the disparate-impact ratio, a regression's MAE difference)."""
        measure = DISPARITIES[self.kind][0] if measure is None else check_choice(measure, "measure",
                                                                                  DISPARITIES[self.kind])
        return self.groups(attribute).disparities[measure]

    # -- tables and text ------------------------------------------------------------------------
    def to_frame(self, what: str = "groups"):
        """A pandas DataFrame. ``"groups"``: one row per (attribute, group, metric) with ``value``, ``low``,
        ``high``, ``count`` (the rows behind the number) and ``too_small``; the overall rows have attribute
        and group "all". ``"disparities"``: one row per (attribute, measure) with value, interval, the groups
        at both ends and the four-fifths verdict. ``"wide"``: one row per (attribute, group), one column per
        metric (values only, as ``MetricFrame.by_group``)."""
        what = check_choice(what, "what", ("groups", "disparities", "wide"))
        if what == "disparities":
            rows = [d for gm in self.groups_by for d in gm.disparities.values()]
            return frame({"attribute": [d.attribute for d in rows], "measure": [d.measure for d in rows],
                          "value": [d.value for d in rows], "low": [d.low for d in rows],
                          "high": [d.high for d in rows], "best": [d.best for d in rows],
                          "worst": [d.worst for d in rows], "passes": [d.passes for d in rows],
                          "too_small": [d.too_small for d in rows]})
        tables = [self.overall, *self.groups_by]
        if what == "wide":
            columns: dict[str, Any] = {"attribute": [gm.attribute for gm in tables for _ in gm.names],
                                       "group": [n for gm in tables for n in gm.names],
                                       "size": np.concatenate([gm.sizes for gm in tables])}
            for k, m in enumerate(self.metrics):
                columns[m] = np.concatenate([gm.values[:, k] for gm in tables])
            return frame(columns)
        cols: dict[str, list] = {k: [] for k in ("attribute", "group", "metric", "value", "low", "high", "count",
                                                 "too_small")}
        for gm in tables:
            for g, name in enumerate(gm.names):
                for k, m in enumerate(self.metrics):
                    for key, v in (("attribute", gm.attribute), ("group", name), ("metric", m),
                                   ("value", float(gm.values[g, k])), ("low", float(gm.low[g, k])),
                                   ("high", float(gm.high[g, k])), ("count", int(gm.counts[g, k])),
                                   ("too_small", bool(gm.too_small[g, k]))):
                        cols[key].append(v)
        return frame(cols)

    def quality(self) -> list[str]:
        """How far to trust the numbers, one short line each: the intervals, and the groups too small."""
        lines = [f"{self.ci:.0%} bootstrap intervals over {self.n_bootstrap:,} resamples of {self.n_rows:,} rows"
                 if self.n_bootstrap else f"no intervals (n_bootstrap=0); {self.n_rows:,} rows"]
        small = self.small_groups()
        if small:
            lines.append(f"{len(small)} group(s) under {self.min_group_size} rows: {', '.join(small[:6])}"
                         + ("…" if len(small) > 6 else ""))
        return lines

    def small_groups(self) -> list[str]:
        """Groups (of every attribute and the intersection) with fewer than ``min_group_size`` rows."""
        return [n for gm in self.groups_by for n, s in zip(gm.names, gm.sizes, strict=True)
                if s < self.min_group_size]

    def findings(self) -> list[str]:
        """What the audit found, one sentence each: each attribute's main disparity and worst-off groups."""
        lines = []
        for gm in self.groups_by:
            for d in gm.disparities.values():
                if d.measure in ("disparate_impact", "equal_opportunity_difference", "mae_difference"):
                    lines.append(d.describe())
        return lines

    def summary(self) -> str:
        """One line: the main metric per group of the first attribute with intervals, and its disparity."""
        gm = self.groups_by[0]
        metric = self._metric(None)
        m = self.metrics.index(metric)
        parts = ", ".join(f"{n} {gm.values[g, m]:.3f} [{gm.low[g, m]:.3f}, {gm.high[g, m]:.3f}]"
                          + (" (too small)" if gm.too_small[g, m] else "") for g, n in enumerate(gm.names))
        d = gm.disparities[DISPARITIES[self.kind][0]]
        verdict = ""
        if d.passes is not None:
            verdict = " passes" if d.passes else " fails"
            verdict += " the four-fifths rule"
        small = len(self.small_groups())
        tail = f"; {small} group(s) too small" if small else ""
        return (f"{mx.LABELS[metric]} by {gm.attribute}: {parts}; {d.label} {d.value:.3f} "
                f"[{d.low:.3f}, {d.high:.3f}]{verdict}{tail}")

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        groups = ", ".join(f"{gm.attribute} ({len(gm.names)})" for gm in self.groups_by)
        return f"<Audit of a {self.kind} on {self.n_rows:,} rows by {groups}: {self.summary()}>"

    # -- pictures -----------------------------------------------------------------------------
    def plot(self, ax=None, *, metric: str | None = None, attribute: str | None = None):
        """Bars of ``metric`` per group of ``attribute`` with their intervals (hatched: too small); the
        selection rate also shows four-fifths of the highest rate; ``metric="calibration"`` draws each group's
        reliability curve. Returns the Axes."""
        gm = self.groups(attribute)
        if metric == "calibration":
            if gm.reliability is None:
                raise InputError("calibration curves need a classifier's scores; this audit is of a regression")
            return draw.reliability_curves(gm.reliability, gm.names, title=f"calibration by {gm.attribute}",
                                           xlabel=f"mean {self.output_label}", ax=ax)
        metric = self._metric(metric)
        if metric == "size":
            return draw.group_bars(gm.sizes.astype(float), None, None, gm.names, np.zeros(len(gm.names), bool),
                                   title=f"size by {gm.attribute}", xlabel="rows", ax=ax)
        m = self.metrics.index(metric)
        reference = None
        if metric == "selection_rate" and np.isfinite(gm.values[:, m]).any():
            reference = (FOUR_FIFTHS * float(np.nanmax(gm.values[:, m])), "four-fifths of the highest rate")
        interval = f" ({self.ci:.0%} intervals)" if self.n_bootstrap else ""
        return draw.group_bars(gm.values[:, m], gm.low[:, m], gm.high[:, m], gm.names, gm.too_small[:, m],
                               title=f"{mx.LABELS[metric]} by {gm.attribute}{interval}", xlabel=mx.LABELS[metric],
                               reference=reference, ax=ax)

    def _png_size(self) -> tuple[float, float]:
        return (6.0, 0.35 * len(self.groups_by[0].names) + 1.6)

    # -- thresholds: every fairness definition is a threshold choice ----------------------------
    def _require_classifier(self, what: str) -> None:
        if self.kind != "classification":
            raise InputError(f"{what} needs a classifier's scores; this audit is of a regression")

    def roc(self, attribute: str | None = None) -> th.RocPoints:
        """Each group's ROC points (distinct scores with the positives and negatives at or above them)."""
        self._require_classifier("roc()")
        i = self._attribute_index(attribute)
        key = ("roc", i)
        if key not in self._cache:
            g = self._groupings[i]
            self._cache[key] = th.roc_points(self.score, self.y, g.codes, g.n_groups)
        return self._cache[key]

    def _threshold_vector(self, thresholds: Any, attribute: str | None) -> tuple[np.ndarray, str]:
        if attribute is None and isinstance(thresholds, Mapping):  # the attribute whose groups these are
            attribute = next((gm.attribute for gm in self.groups_by if set(thresholds) <= set(gm.names)), None)
        gm = self.groups(attribute)
        if isinstance(thresholds, Mapping):
            vector = np.full(len(gm.names), self.threshold)
            for name, t in thresholds.items():
                if name not in gm.names:
                    near = difflib.get_close_matches(str(name), gm.names, n=1)
                    hint = f"; did you mean {near[0]!r}?" if near else ""
                    raise InputError(f"thresholds has a group {name!r} that {gm.attribute} does not have; its groups "
                                     f"are {gm.names}{hint}")
                vector[gm.names.index(name)] = check_probability(t, f"thresholds[{name!r}]")
        else:
            arr = np.asarray(thresholds, dtype=np.float64) if not np.isscalar(thresholds) else None
            if arr is None:
                vector = np.full(len(gm.names), check_probability(thresholds, "thresholds"))
            else:
                if arr.shape != (len(gm.names),) or not np.all((arr >= 0) & (arr <= 1)):
                    raise InputError(f"thresholds must be a number in [0, 1], a dict {{group: threshold}}, or one "
                                     f"threshold in [0, 1] per group of {gm.attribute} ({len(gm.names)}); got "
                                     f"{thresholds!r}")
                vector = arr.copy()
        return vector, gm.attribute

    def rates_at(self, thresholds: Any, attribute: str | None = None) -> dict[str, np.ndarray]:
        """Selection rate, TPR, FPR, FNR, accuracy and precision of each group of ``attribute`` (arrays, one
        value per group) when its rows are selected at ``score >= thresholds`` (a number, a dict ``{group: t}``,
        or one per group), the disparities between the groups and ``overall_accuracy`` (numbers): what the
        widget's sliders show, without a bootstrap."""
        self._require_classifier("rates_at()")
        vector, attr = self._threshold_vector(thresholds, attribute)
        rates = th.rates_at(self.roc(attr), vector)
        between = th.disparities({k: v[:, None] for k, v in rates.items()})
        between["overall_accuracy"] = between.pop("accuracy")
        return {**rates, **{k: v[0] for k, v in between.items()}, "thresholds": vector}

    def with_thresholds(self, thresholds: Any, attribute: str | None = None, *,
                        progress: bool | Callable[[float], None] | None = None) -> Audit:
        """The audit of the decisions ``score >= t`` with ``t`` per group of ``attribute`` (a dict
        ``{group: t}``, whose groups name the attribute when it is not given; groups left out keep
        :attr:`threshold`) or one ``t`` for all (a number), with new intervals. The model is not called again."""
        self._require_classifier("with_thresholds()")
        if isinstance(thresholds, Mapping) or not np.isscalar(thresholds):
            vector, attr = self._threshold_vector(thresholds, attribute)
            names = self.groups(attr).names
            per_group = {n: float(t) for n, t in zip(names, vector, strict=True)}
            row_t = vector[self._grouping(attr).codes]
            return self._recount(row_t, self.threshold, per_group, attr, progress)
        t = check_probability(thresholds, "thresholds")
        return self._recount(np.full(self.n_rows, t), t, None, None, progress)

    def _recount(self, row_thresholds: np.ndarray, threshold: float, per_group: dict | None, attribute: str | None,
                 progress: Any) -> Audit:
        return _evaluate(kind=self.kind, score=self.score, y=self.y, row_thresholds=row_thresholds,
                         threshold=threshold, per_group=per_group, threshold_attribute=attribute,
                         groupings=self._groupings, n_bootstrap=self.n_bootstrap, ci=self.ci, seed=self.seed,
                         min_group_size=self.min_group_size, n_bins=self.n_bins, target=self.target,
                         target_name=self.target_name, output_label=self.output_label,
                         feature_names=self.feature_names, sensitive_features=self.sensitive_features,
                         class_names=self.class_names, model=self._model, table=self._table,
                         progress=reporter(progress, "fairness audit"), t0=time.perf_counter())

    def fair_thresholds(self, criterion: str = "equal_opportunity", attribute: str | None = None, *,
                        level: float | None = None, tolerance: float = 0.02) -> dict[str, float]:
        """One threshold per group of ``attribute`` that equalises the groups' TPR (``"equal_opportunity"``,
        Hardt et al. 2016) or selection rate (``"demographic_parity"``) within ``tolerance``, near ``level``
        (default: that rate over all rows at the audit's decisions). Use them with :meth:`with_thresholds`.

        Raises :class:`InputError` when the data cannot meet the tolerance (a group with few positives moves
        its TPR in coarse steps): the message names the groups."""
        self._require_classifier("fair_thresholds()")
        criterion = check_choice(criterion, "criterion", tuple(th.CRITERIA))
        tolerance = check_number(tolerance, "tolerance", 0.0, 1.0)
        rate = th.CRITERIA[criterion]
        if level is None:
            level = float(self.overall.values[0, self.metrics.index(rate)])
        level = check_probability(level, "level")
        gm = self.groups(attribute)
        chosen, _ = th.equalising_thresholds(self.roc(gm.attribute), criterion, level, tolerance, gm.names)
        return {n: float(t) for n, t in zip(gm.names, chosen, strict=True)}

    def tradeoff(self, attribute: str | None = None, *, criterion: str = "equal_opportunity",
                 grid_resolution: int = 101) -> TradeOff:
        """Accuracy against the disparities as the thresholds move: one threshold for everyone, and per-group
        thresholds equalising ``criterion``'s rate at each level (a :class:`TradeOff`)."""
        self._require_classifier("tradeoff()")
        criterion = check_choice(criterion, "criterion", tuple(th.CRITERIA))
        grid = np.linspace(0, 1, check_int(grid_resolution, "grid_resolution", 2))
        gm = self.groups(attribute)
        curves = th.tradeoff(self.roc(gm.attribute), grid, criterion)
        current = {k: float(v[0]) for k, v in th.disparities(
            {k: v[:, None] for k, v in th.rates_at(self.roc(gm.attribute), _group_thresholds(self, gm)).items()}).items()}
        return TradeOff(attribute=gm.attribute, criterion=criterion, curves=curves, current=current,
                        group_names=list(gm.names))

    # -- why the gap? one call per question, to the other explainers -----------------------------
    def _require_model(self, what: str) -> None:
        if self._model is None or self._table is None:
            raise InputError(f"{what} needs the model and the data the audit was made with")

    def _sample_by_group(self, g: Grouping, n_rows: int, seed: int | None, rows: np.ndarray | None = None) -> list[np.ndarray]:
        out = []
        for k in range(g.n_groups):
            members = g.rows(k) if rows is None else np.intersect1d(g.rows(k), rows)
            out.append(members[sample_rows(len(members), n_rows, seed)] if len(members) else members)
        return out

    def shapley_by_group(self, attribute: str | None = None, *, n_rows: int = 20, n_background: int = 50,
                         method: str = "auto", seed: int | None = 0,
                         progress: bool | Callable[[float], None] | None = None) -> ShapleyByGroup:
        """Mean absolute Shapley values of every feature, by group: :func:`nbexplain.shapley_tabular` on up to
        ``n_rows`` rows of each group (a seeded sample) against ``n_background`` rows of the audit's data.
        Which features drive the score, and whether they differ between groups."""
        self._require_model("shapley_by_group()")
        n_rows = check_int(n_rows, "n_rows", 1)
        n_background = check_int(n_background, "n_background", 1)
        g = self._grouping(attribute)
        key = ("shapley", g.attribute, n_rows, n_background, method, seed)
        if key not in self._cache:
            picks = self._sample_by_group(g, n_rows, seed)
            total = max(1, sum(len(p) for p in picks))
            report = reporter(progress, f"Shapley values by {g.attribute}")
            values, row_groups, done = [], [], 0
            target = None if self.kind == "regression" else self.target
            for k, rows in enumerate(picks):
                for r in rows:
                    e = shapley_tabular(self._model, self._table.values[r], self._table.values, target=target,
                                        method=method, n_background=n_background,
                                        feature_names=self.feature_names, seed=seed, progress=False)
                    values.append(e.values)
                    row_groups.append(k)
                    done += 1
                    if report is not None:
                        report(done / total)
            vals = np.asarray(values, dtype=np.float64).reshape(-1, len(self.feature_names))
            groups = np.asarray(row_groups, dtype=np.int64)
            mean_abs = np.stack([np.abs(vals[groups == k]).mean(axis=0) if np.any(groups == k)
                                 else np.full(vals.shape[1], np.nan) for k in range(g.n_groups)])
            self._cache[key] = ShapleyByGroup(
                attribute=g.attribute, group_names=list(g.names), feature_names=list(self.feature_names),
                mean_abs=mean_abs, values=vals, rows=np.concatenate(picks) if picks else np.zeros(0, np.int64),
                row_groups=groups, output_label=self.output_label)
        return self._cache[key]

    def effect_by_group(self, feature: int | str, attribute: str | None = None, *, grid_resolution: int = 20,
                        max_rows: int | None = 200, seed: int | None = 0,
                        progress: bool | Callable[[float], None] | None = None) -> EffectByGroup:
        """ICE curves of ``feature`` on each group's rows (:func:`nbexplain.ice`, one shared grid) and their
        means, the partial dependence of each group: does the feature move the score alike in every group?"""
        self._require_model("effect_by_group()")
        j = feature_index(self._table, feature)
        g = self._grouping(attribute)
        grid_resolution = check_int(grid_resolution, "grid_resolution", 2)
        column = self._table.values[:, j]
        if self._table.categorical[j]:
            grid = np.unique(column)
        else:
            grid = np.unique(np.quantile(column, np.linspace(0.05, 0.95, grid_resolution)))
        target = None if self.kind == "regression" else self.target
        report = reporter(progress, f"ICE by {g.attribute}")
        curves = []
        for k in range(g.n_groups):
            rows = g.rows(k)
            curves.append(ice(self._model, self._table.values[rows], j, grid=grid, target=target,
                              feature_names=self.feature_names, categorical=self._table.categorical,
                              max_rows=max_rows, seed=seed, progress=False))
            if report is not None:
                report((k + 1) / g.n_groups)
        return EffectByGroup(attribute=g.attribute, group_names=list(g.names), feature=self.feature_names[j],
                             grid=grid, curves=curves, output_label=self.output_label,
                             categorical=bool(self._table.categorical[j]))

    def counterfactuals(self, group: str | None = None, attribute: str | None = None, *, n_rows: int = 5,
                        seed: int | None = 0, progress: bool | Callable[[float], None] | None = None,
                        **options: Any) -> GroupCounterfactuals:
        """What would have to change for members of ``group`` (default: the worst-off group of ``attribute``
        on the selection rate) who were not selected: :func:`nbexplain.counterfactual` for up to ``n_rows`` of
        them (a seeded sample), toward the selected class at this group's threshold, the sensitive features
        held fixed. ``options`` go to :func:`nbexplain.counterfactual` (``integer=``, ``categorical=``,
        ``immutable=`` (added to the sensitive ones), ``method=``...)."""
        self._require_classifier("counterfactuals()")
        self._require_model("counterfactuals()")
        check_keywords(options, ["immutable", "ranges", "integer", "categorical", "n", "sparse", "method",
                                 "max_seeds", "epsilon"], "Audit.counterfactuals()")
        n_rows = check_int(n_rows, "n_rows", 1)
        gm = self.groups(attribute)
        group = gm.worst["selection_rate"] if group is None else check_choice(group, "group", gm.names)
        k = gm.names.index(group)
        g = self._grouping(gm.attribute)
        rejected = np.flatnonzero((g.codes == k) & (self.decision == 0))
        if len(rejected) == 0:
            raise InputError(f"every member of {group!r} was selected: there is nobody to explain")
        rows = rejected[sample_rows(len(rejected), n_rows, seed)]
        t = float(gm.thresholds[k]) if np.isfinite(gm.thresholds[k]) else self.threshold
        immutable = list(self.sensitive_features) + list(options.pop("immutable", None) or [])
        epsilon = options.pop("epsilon", float(np.clip(1.0 - t - 0.05, 0.01, 0.95)))
        report = reporter(progress, f"counterfactuals for {group}")
        results = []
        for i, r in enumerate(rows):
            results.append(counterfactual(self._model, self._table.values[r], self._table.values, self.target,
                                          epsilon=epsilon, immutable=immutable or None,
                                          feature_names=self.feature_names, seed=seed, progress=False, **options))
            if report is not None:
                report((i + 1) / len(rows))
        return GroupCounterfactuals(attribute=gm.attribute, group=group, rows=rows, results=results,
                                    feature_names=list(self.feature_names), threshold=t,
                                    target_name=self.target_name)

    def proxies(self, attribute: str | None = None, *, n_rows: int = 20, n_background: int = 50,
                seed: int | None = 0, progress: bool | Callable[[float], None] | None = None) -> Proxies:
        """Features that may stand in for ``attribute``: each feature's association with it (Cramér's V or the
        correlation ratio η, on all the audit's rows) times its share of the model's explanation (mean |Shapley
        value| over :meth:`shapley_by_group`'s rows), ranked. The sensitive features themselves are reported
        apart (their share is direct use, not a proxy)."""
        self._require_model("proxies()")
        g = self._grouping(attribute)
        if g.attribute == OVERALL:
            raise InputError("proxies() needs a sensitive attribute")
        shap = self.shapley_by_group(g.attribute, n_rows=n_rows, n_background=n_background, seed=seed,
                                     progress=progress)
        association = px.associations(self._table.values, self._table.categorical, g.codes, g.n_groups)
        share = px.explanation_share(shap.values)
        sensitive = np.array([n in self.sensitive_features for n in self.feature_names])
        score = px.proxy_scores(association, share)
        return Proxies(attribute=g.attribute, feature_names=list(self.feature_names), association=association,
                       share=share, score=score, sensitive=sensitive,
                       kinds=["Cramér's V" if c else "correlation ratio η" for c in self._table.categorical])


def _group_thresholds(a: Audit, gm: GroupMetrics) -> np.ndarray:
    """Each group's threshold, the audit's own where a group's rows have several."""
    return np.where(np.isfinite(gm.thresholds), gm.thresholds, a.threshold)


@dataclass
class TradeOff(Result):
    """Accuracy against disparity along two families of threshold choices (see :meth:`Audit.tradeoff`).

    ``curves["global"]``: one threshold for everyone (``"threshold"``); ``curves["equalised"]``: per-group
    thresholds equalising the criterion's rate at each ``"level"``; each with ``"accuracy"`` and the
    disparities of :func:`nbexplain.methods.fairness.thresholds.disparities`. ``current``: the audit's point.
    """

    attribute: str
    criterion: str
    curves: dict[str, dict[str, np.ndarray]]
    current: dict[str, float]
    group_names: list[str]

    _png_figsize = (5.0, 3.8)

    def to_frame(self):
        """One row per point of both curves: family, parameter, accuracy and every disparity."""
        rows: dict[str, list] = {"family": [], "parameter": []}
        keys = [k for k in self.curves["global"] if k not in ("threshold", "level")]
        for k in keys:
            rows[k] = []
        for family, param in (("global", "threshold"), ("equalised", "level")):
            c = self.curves[family]
            rows["family"] += [family] * len(c[param])
            rows["parameter"] += c[param].tolist()
            for k in keys:
                rows[k] += c[k].tolist()
        return frame(rows)

    def plot(self, ax=None, *, disparity: str = "demographic_parity_difference"):
        """Accuracy (y) against ``disparity`` (x) along both curves, the audit's point marked; returns the Axes."""
        disparity = check_choice(disparity, "disparity", DISPARITIES["classification"])
        return draw.tradeoff_curves(self.curves, self.current, disparity, DISPARITY_LABELS[disparity],
                                    criterion=self.criterion.replace("_", " "), attribute=self.attribute, ax=ax)


@dataclass
class ShapleyByGroup(Result):
    """Mean absolute Shapley value of each feature in each group (see :meth:`Audit.shapley_by_group`).

    ``mean_abs`` (G, F); ``values`` (R, F) the explained rows' Shapley values, ``rows`` (R,) their indices in
    the audit's data and ``row_groups`` (R,) their groups.
    """

    attribute: str
    group_names: list[str]
    feature_names: list[str]
    mean_abs: np.ndarray
    values: np.ndarray
    rows: np.ndarray
    row_groups: np.ndarray
    output_label: str

    def _png_size(self) -> tuple[float, float]:
        return (6.0, 0.3 * len(self.feature_names) * max(1, len(self.group_names)) ** 0.5 + 1.5)

    def ranking(self) -> list[str]:
        """Features by their mean |Shapley value| over all explained rows, largest first."""
        return [self.feature_names[j] for j in np.argsort(-np.abs(self.values).mean(axis=0), kind="stable")]

    def gaps(self) -> list[tuple[str, float]]:
        """Features by the spread of their mean |Shapley value| between groups (max − min), largest first."""
        spread = np.nanmax(self.mean_abs, axis=0) - np.nanmin(self.mean_abs, axis=0)
        order = np.argsort(-spread, kind="stable")
        return [(self.feature_names[j], float(spread[j])) for j in order]

    def summary(self) -> str:
        top = ", ".join(self.ranking()[:3])
        name, gap = self.gaps()[0]
        return (f"mean |Shapley| of {self.output_label} by {self.attribute}: most used {top}; the largest "
                f"difference between groups is {name} ({gap:.3g})")

    def to_frame(self):
        """One row per feature, one column per group (mean |Shapley value|)."""
        return frame({"feature": list(self.feature_names),
                      **{name: self.mean_abs[k].copy() for k, name in enumerate(self.group_names)}})

    def plot(self, ax=None, *, max_features: int = 12):
        """Grouped horizontal bars, one colour per group; returns the Axes."""
        return draw.grouped_feature_bars(self.mean_abs, self.feature_names, self.group_names,
                                         title=f"mean |Shapley value| of {self.output_label} by {self.attribute}",
                                         xlabel="mean |Shapley value|",
                                         max_features=check_int(max_features, "max_features", 1), ax=ax)


@dataclass
class EffectByGroup(Result):
    """ICE curves of one feature on each group's rows, on one grid (see :meth:`Audit.effect_by_group`)."""

    attribute: str
    group_names: list[str]
    feature: str
    grid: np.ndarray
    curves: list[ICE]
    output_label: str
    categorical: bool = False

    _png_figsize = (5.2, 3.6)

    @property
    def average(self) -> np.ndarray:
        """(G, grid) the partial dependence of each group (the mean of its ICE curves)."""
        return np.stack([c.predictions.mean(axis=0) for c in self.curves])

    def summary(self) -> str:
        span = self.average[:, -1] - self.average[:, 0]
        parts = ", ".join(f"{n} {s:+.3g}" for n, s in zip(self.group_names, span, strict=True))
        return f"moving {self.feature} across its range changes the mean {self.output_label} by: {parts}"

    def to_frame(self):
        """One row per (group, grid value): the group's partial dependence."""
        avg = self.average
        return frame({"group": [n for n in self.group_names for _ in self.grid],
                      self.feature: np.tile(self.grid, len(self.group_names)), "average": avg.ravel()})

    def plot(self, ax=None, *, ice_lines: int = 30):
        """Each group's partial dependence (thick) over some of its ICE curves (thin); returns the Axes."""
        return draw.effect_by_group(self.grid, [c.predictions for c in self.curves], self.group_names, self.feature,
                                    self.output_label, ice_lines=check_int(ice_lines, "ice_lines", 0),
                                    categorical=self.categorical, title=f"{self.feature} by {self.attribute}", ax=ax)


@dataclass
class GroupCounterfactuals(Result):
    """Counterfactuals for members of one group who were not selected (see :meth:`Audit.counterfactuals`)."""

    attribute: str
    group: str
    rows: np.ndarray
    results: list[CounterfactualResult]
    feature_names: list[str]
    threshold: float
    target_name: str

    _png_figsize = (5.0, 3.4)

    @property
    def change_rate(self) -> np.ndarray:
        """(F,) how often each feature changes in the rows' best counterfactuals (valid ones)."""
        changed = [r.best.changed for r in self.results if r.valid]
        return np.mean(changed, axis=0) if changed else np.zeros(len(self.feature_names))

    @property
    def median_change(self) -> np.ndarray:
        """(F,) the median change of each feature where it changes (NaN where it never does)."""
        deltas = np.array([r.best.delta for r in self.results if r.valid]).reshape(-1, len(self.feature_names))
        out = np.full(len(self.feature_names), np.nan)
        for j in range(len(self.feature_names)):
            moved = deltas[:, j][deltas[:, j] != 0]
            if len(moved):
                out[j] = float(np.median(moved))
        return out

    def summary(self) -> str:
        valid = sum(r.valid for r in self.results)
        rate = self.change_rate
        order = [j for j in np.argsort(-rate, kind="stable") if rate[j] > 0][:3]
        moves = ", ".join(f"{self.feature_names[j]} ({rate[j]:.0%}, median {self.median_change[j]:+.3g})"
                          for j in order) or "nothing"
        return (f"{valid} of {len(self.results)} rejected members of {self.group} reach '{self.target_name}' "
                f"by changing: {moves}")

    def to_frame(self):
        """One row per explained member: the row, whether a counterfactual was found, and each change."""
        cols: dict[str, Any] = {"row": self.rows.tolist(), "valid": [r.valid for r in self.results]}
        for j, name in enumerate(self.feature_names):
            cols[name] = [float(r.best.delta[j]) for r in self.results]
        return frame(cols)

    def plot(self, ax=None):
        """How often each feature had to change; returns the Axes."""
        return draw.change_rates(self.change_rate, self.feature_names,
                                 title=f"what would have to change for {self.group} ({len(self.results)} rejected)",
                                 ax=ax)


@dataclass
class Proxies(Result):
    """Features that may stand in for a sensitive attribute (see :meth:`Audit.proxies`).

    ``association`` (F,) in [0, 1], ``share`` (F,) of the explanation, ``score`` their product, ``sensitive``
    (F,) marks the sensitive features themselves (not ranked as proxies), ``kinds`` the association used.
    """

    attribute: str
    feature_names: list[str]
    association: np.ndarray
    share: np.ndarray
    score: np.ndarray
    sensitive: np.ndarray
    kinds: list[str]

    _png_figsize = (5.2, 3.8)

    def ranking(self) -> list[str]:
        """The non-sensitive features by proxy score, highest first."""
        order = np.argsort(-self.score, kind="stable")
        return [self.feature_names[j] for j in order if not self.sensitive[j]]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` likeliest proxies as (feature, score)."""
        return [(n, float(self.score[self.feature_names.index(n)])) for n in self.ranking()[:check_int(k, "k", 1)]]

    def direct(self) -> list[tuple[str, float]]:
        """The sensitive features the model uses directly, with their share of the explanation."""
        return [(n, float(s)) for n, s, d in zip(self.feature_names, self.share, self.sensitive, strict=True) if d]

    def summary(self) -> str:
        name = self.ranking()[0] if self.ranking() else None
        if name is None:
            return f"no features besides the sensitive ones to rank for {self.attribute}"
        j = self.feature_names.index(name)
        text = (f"likeliest proxy for {self.attribute}: {name} (association {self.association[j]:.2f}, "
                f"{self.share[j]:.0%} of the explanation)")
        used = [f"{n} ({s:.0%})" for n, s in self.direct() if s > 0]
        return text + (f"; used directly: {', '.join(used)}" if used else "")

    def to_frame(self):
        """One row per feature, likeliest proxy first: association (and its kind), share, score, sensitive."""
        order = np.argsort(-np.where(self.sensitive, -1, self.score), kind="stable")
        return frame({"feature": [self.feature_names[j] for j in order],
                      "association": self.association[order], "measure": [self.kinds[j] for j in order],
                      "share": self.share[order], "score": self.score[order], "sensitive": self.sensitive[order]})

    def plot(self, ax=None):
        """Association (x) against share of the explanation (y), one labelled point per feature; returns the Axes."""
        return draw.proxy_map(self.association, self.share, self.feature_names, self.sensitive,
                              title=f"proxies for {self.attribute}", ax=ax)


# =================================================================================================
# the audit
# =================================================================================================
def _labels(values: Any, n: int, name: str) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"sensitive attribute {name!r} must have one value per row ({n}); got shape {arr.shape}")
    if arr.dtype == object:
        arr = np.asarray([str(v) for v in arr])
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise InputError(f"sensitive attribute {name!r} has missing values: give them a group of their own")
    return arr


def sensitive_columns(sensitive: Any, n: int, table: Table | None = None,
                      columns: Mapping[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """The sensitive attributes as ``{name: (n,) labels}`` and which of them are features of ``table``.

    ``sensitive`` is a feature name or index (or a list of them), a mapping ``{name: values}``, or a pandas
    DataFrame or Series; features are looked up in ``table`` (or ``columns``)."""
    if sensitive is None:
        raise InputError("sensitive must name the sensitive attributes: feature names, or {name: values}")
    if hasattr(sensitive, "columns") and hasattr(sensitive, "to_numpy"):  # a DataFrame
        sensitive = {str(c): sensitive[c] for c in sensitive.columns}
    elif hasattr(sensitive, "to_numpy") and hasattr(sensitive, "name"):  # a Series
        sensitive = {str(sensitive.name): sensitive}
    if isinstance(sensitive, (str, int, np.integer)):
        sensitive = [sensitive]
    out: dict[str, np.ndarray] = {}
    features: list[str] = []
    if isinstance(sensitive, Mapping):
        for name, values in sensitive.items():
            out[str(name)] = _labels(values, n, str(name))
    elif isinstance(sensitive, Sequence) and not isinstance(sensitive, (str, bytes)):
        if len(sensitive) == 0:
            raise InputError("sensitive must name at least one attribute")
        for item in sensitive:
            if table is not None:
                j = feature_index(table, item, "sensitive")
                name = table.feature_names[j]
                out[name] = table.values[:, j]
                features.append(name)
            elif columns is not None and str(item) in columns:
                out[str(item)] = _labels(columns[str(item)], n, str(item))
                features.append(str(item))
            else:
                raise InputError(f"sensitive={item!r} is not a column of the data; columns: {list(columns or [])[:30]}")
    else:
        raise InputError(f"sensitive must be feature names, a dict {{name: values}} or a DataFrame; got "
                         f"{type(sensitive).__name__}")
    if not out:
        raise InputError("sensitive must name at least one attribute")
    return out, features


def make_groupings(columns: Mapping[str, np.ndarray], categories: Mapping | None, intersections: bool) -> list[Grouping]:
    """One grouping per attribute (names from ``categories[attribute]`` when given), then their intersection."""
    categories = categories or {}
    if not isinstance(categories, Mapping):
        raise InputError(f"categories must be a dict {{attribute: labels}}; got {type(categories).__name__}")
    groupings = [grouping(name, values, categories.get(name)) for name, values in columns.items()]
    if intersections and len(groupings) > 1:
        groupings.append(intersection(groupings))
    return groupings


def _binary_labels(y: Any, n: int, m: Model, target: int, target_name: str) -> np.ndarray:
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"y must have one label per row of X ({n}); got shape {arr.shape}")
    classes = getattr(m.raw, "classes_", None)
    if classes is not None and np.ndim(classes) == 1 and target < len(classes):
        known = set(np.asarray(classes).tolist())
        unknown = sorted({v for v in arr.tolist() if v not in known}, key=str)
        if unknown:
            raise InputError(f"y has labels {unknown[:5]} that are not the model's classes {list(classes)}")
        return (arr == classes[target]).astype(np.int64)
    if arr.dtype.kind in "OUS":
        names = m.class_names or []
        unknown = sorted({str(v) for v in arr.tolist()} - set(names))
        if unknown:
            raise InputError(f"y has labels {unknown[:5]} that are not class names {names}; pass class_names=")
        return (arr.astype(str) == target_name).astype(np.int64)
    if not np.all(np.isfinite(arr.astype(np.float64))) or not np.all(arr == np.round(arr)):
        raise InputError("y must hold class labels (integers or class names) for a classifier")
    return (arr.astype(np.int64) == target).astype(np.int64)


def audit(
    model: Any,
    X: Any,
    y: Any,
    *,
    sensitive: Any,
    target: int | str | None = None,
    threshold: float = 0.5,
    categories: Mapping | None = None,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    intersections: bool = True,
    n_bootstrap: int = 1000,
    ci: float = 0.95,
    min_group_size: int = 30,
    n_bins: int = 10,
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
) -> Audit:
    """Audit a model's decisions on labelled data, disaggregated by sensitive groups and their intersections.

    A classifier's decision is "select" when the score, the probability of ``target`` (the favourable class),
    reaches ``threshold``. Every per-group metric comes with a percentile bootstrap interval (rows resampled
    together, ``n_bootstrap`` times; the resamples of fairlearn's ``MetricFrame`` with the same seed), and a
    flag where the rows behind it number fewer than ``min_group_size``.

    Parameters
    ----------
    model : estimator, torch module, callable or Model
        A classifier (its probability of ``target`` is the score) or a regression (its error is audited).
    X : (N, F) array or DataFrame
        The evaluation data (ideally not the training data).
    y : (N,) labels
        Class labels (integers, or class names) or, for a regression, the true values.
    sensitive : feature name(s) or index(es), a dict ``{name: (N,) labels}``, or a DataFrame
        The sensitive attributes: columns of ``X``, or values kept apart from the model's inputs.
    target : int, str or None
        The favourable class, whose selection is audited (None: the positive class of a binary model).
    threshold : float
        Select when the score is at least this (per group: :meth:`Audit.with_thresholds`).
    categories : dict, optional
        ``{attribute: labels}``: a list names integer codes (``labels[code]``, e.g. the credit data's
        ``categories``) or orders string values (``["under 40", "40 and over"]``, e.g. the hiring data's
        ``groups``); a dict maps values to names. Groups are otherwise numbered in sorted order.
    feature_names, class_names : optional names.
    intersections : bool
        Also audit the intersection of the attributes (when there are several).
    n_bootstrap : int
        Bootstrap resamples (0: no intervals). ci : float — the interval's level.
    min_group_size : int
        Numbers computed from fewer rows than this are flagged as too small to mean much.
    n_bins : int
        Equal-width score bins of the calibration error and the reliability curves.
    seed : int or None
        The resamples' seed (default 0: reproducible; None: fresh randomness).
    progress : None, bool or callable
        None: a bar when the work is long; True/False: always/never; a callable gets the fraction done.

    Returns
    -------
    Audit

    Examples
    --------
    >>> data = nbx.datasets.credit()
    >>> clf = LogisticRegression(max_iter=5000).fit(data.X[:200], data.y[:200])
    >>> a = nbx.audit(clf, data.X[200:], data.y[200:], sensitive=["Gender", "Ethnicity"],
    ...               categories=data.categories, feature_names=data.feature_names,
    ...               class_names=data.class_names, target="low balance")
    >>> a.disparity("disparate_impact", "Ethnicity").passes
    True
    >>> a.to_frame(); a.plot(metric="tpr", attribute="Gender × Ethnicity"); a.widget()
    """
    t0 = time.perf_counter()
    threshold = check_probability(threshold, "threshold")
    intersections = check_bool(intersections, "intersections")
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", 0)
    ci = check_probability(ci, "ci", strict=True)
    min_group_size = check_int(min_group_size, "min_group_size", 1)
    n_bins = check_int(n_bins, "n_bins", 1)
    seed = check_seed(seed)
    table = as_table(X, feature_names, "X")
    m = tabular_model(model, table, class_names)
    columns, sensitive_features = sensitive_columns(sensitive, table.n_rows, table=table)
    groupings = make_groupings(columns, categories, intersections)
    output = tabular_output(m, table, target)
    report = reporter(progress, "fairness audit")
    scores = m.predict(table.values, progress=(lambda f: report(0.3 * f)) if report is not None else None)
    if output.kind == "regression":
        y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=np.float64)
        if y_arr.shape != (table.n_rows,) or not np.all(np.isfinite(y_arr)):
            raise InputError(f"y must be {table.n_rows} finite numbers for a regression; got shape {y_arr.shape}")
        score, labels = scores[:, 0].astype(np.float64), y_arr
        row_thresholds = np.full(table.n_rows, np.nan)
    else:
        score = m.to_probabilities(scores)[:, output.target].astype(np.float64)
        labels = _binary_labels(y, table.n_rows, m, output.target, output.target_name)
        row_thresholds = np.full(table.n_rows, threshold)
    return _evaluate(kind="regression" if output.kind == "regression" else "classification", score=score, y=labels,
                     row_thresholds=row_thresholds, threshold=threshold, per_group=None, threshold_attribute=None,
                     groupings=groupings, n_bootstrap=n_bootstrap, ci=ci, seed=seed, min_group_size=min_group_size,
                     n_bins=n_bins, target=output.target, target_name=output.target_name,
                     output_label=output.label, feature_names=list(table.feature_names),
                     sensitive_features=sensitive_features, class_names=m.class_names, model=m, table=table,
                     progress=(lambda f: report(0.3 + 0.7 * f)) if report is not None else None, t0=t0)


def _evaluate(*, kind: str, score: np.ndarray, y: np.ndarray, row_thresholds: np.ndarray, threshold: float,
              per_group: dict | None, threshold_attribute: str | None, groupings: list[Grouping], n_bootstrap: int,
              ci: float, seed: int | None, min_group_size: int, n_bins: int, target: int, target_name: str,
              output_label: str, feature_names: list[str], sensitive_features: list[str],
              class_names: list[str] | None, model: Any, table: Table | None, progress: Any, t0: float) -> Audit:
    """Count every grouping's metrics, their bootstrap intervals and disparities."""
    n = len(y)
    overall = Grouping(OVERALL, np.zeros(n, dtype=np.int64), [OVERALL], [(OVERALL,)])
    every = [overall, *groupings]
    if kind == "classification":
        decision = (score >= row_thresholds).astype(np.int64)
        layout = mx.classification_layout(y, decision, score, [g.codes for g in every], [g.n_groups for g in every],
                                          n_bins)

        def samples(idx: np.ndarray) -> list:
            return mx.classification_samples(layout, idx)

        metrics = mx.CLASSIFICATION
    else:
        decision = score.copy()
        layout = mx.regression_layout(y, score, [g.codes for g in every], [g.n_groups for g in every])

        def samples(idx: np.ndarray) -> list:
            return mx.regression_samples(layout, idx)

        metrics = mx.REGRESSION
    point = samples(np.arange(n)[None])
    if n_bootstrap:
        seeds = boot.resample_seeds(n_bootstrap, seed)
        draws = mx.collect(samples, boot.resample_blocks(n, seeds, progress=progress), len(every))
    else:
        draws = [np.full((1,) + values.shape[1:], np.nan) for values, _ in point]
    tables = []
    for i, g in enumerate(every):
        values, counts = point[i][0][0], point[i][1][0]
        low, high = boot.percentile_interval(draws[i], ci)
        group_t = np.full(g.n_groups, np.nan)
        for k in range(g.n_groups):
            t = row_thresholds[g.codes == k]
            if len(t) and np.all(t == t[0]):
                group_t[k] = t[0]
        gm = GroupMetrics(attribute=g.attribute, names=list(g.names), sizes=counts[:, -1].astype(np.int64),
                          values=values, low=low, high=high, counts=counts[:, :-1].astype(np.int64),
                          too_small=counts[:, :-1] < min_group_size,
                          reliability=mx.reliability(layout, i) if kind == "classification" else None,
                          thresholds=group_t)
        if i > 0:
            gm.worst = _worst(gm, metrics)
            gm.disparities = _disparities(gm, draws[i], metrics, kind, ci, g.attribute)
        tables.append(gm)
    if progress is not None:
        progress(1.0)
    return Audit(kind=kind, metrics=metrics, overall=tables[0], groups_by=tables[1:], target=target,
                 target_name=target_name, output_label=output_label, threshold=threshold, thresholds=per_group,
                 threshold_attribute=threshold_attribute, score=score, y=y, decision=decision,
                 n_bootstrap=n_bootstrap, ci=ci, seed=seed, min_group_size=min_group_size, n_bins=n_bins,
                 feature_names=feature_names, sensitive_features=sensitive_features, class_names=class_names,
                 seconds=time.perf_counter() - t0, _model=model, _table=table, _groupings=groupings)


def _worst(gm: GroupMetrics, metrics: tuple[str, ...]) -> dict[str, str | None]:
    """The worst-off group per metric, among the groups large enough for it when there are any."""
    out: dict[str, str | None] = {}
    for k, m in enumerate(metrics):
        direction = mx.HIGHER_IS_BETTER[m]
        v = gm.values[:, k]
        ok = np.isfinite(v)
        if direction is None or not ok.any():
            out[m] = None
            continue
        trusted = ok & ~gm.too_small[:, k]
        pool = np.flatnonzero(trusted if trusted.any() else ok)
        badness = -v[pool] if direction is True else (np.abs(v[pool]) if direction == "zero" else v[pool])
        out[m] = gm.names[int(pool[np.argmax(badness)])]
    return out


def _spread(values: np.ndarray, axis: int = -1) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values, axis=axis) - np.nanmin(values, axis=axis)


def disparity_values(values: np.ndarray, metrics: tuple[str, ...], kind: str) -> dict[str, np.ndarray]:
    """Every disparity of ``values`` (..., G, M) between the groups (axis -2), NaN groups skipped."""
    import warnings

    col = {m: values[..., metrics.index(m)] for m in metrics}
    if kind == "regression":
        return {"mae_difference": _spread(col["mae"]), "rmse_difference": _spread(col["rmse"]),
                "mean_error_difference": _spread(col["mean_error"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hi, lo = np.nanmax(col["selection_rate"], axis=-1), np.nanmin(col["selection_rate"], axis=-1)
        ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1), np.nan)
    tpr = _spread(col["tpr"])
    return {"disparate_impact": ratio, "demographic_parity_difference": hi - lo,
            "equal_opportunity_difference": tpr, "equalized_odds_difference": np.fmax(tpr, _spread(col["fpr"]))}


def _disparities(gm: GroupMetrics, draws: np.ndarray, metrics: tuple[str, ...], kind: str, ci: float,
                 attribute: str) -> dict[str, Disparity]:
    """Each disparity between the groups at its two ends (worst and best off), with the interval of the gap
    *between those two groups* over the resamples: signed, so it reaches 0 (a ratio of 1) when the gap may be
    noise. (The resampled spread over all groups, max - min, is biased away from 0 and can leave the point
    value outside its own interval when the groups are nearly equal.)"""
    point = disparity_values(gm.values, metrics, kind)
    out = {}
    for measure in DISPARITIES[kind]:
        metric = DISPARITY_METRIC[measure]
        k = metrics.index(metric)
        v = gm.values[:, k]
        value = float(point[measure])
        low = high = np.nan
        best = worst = None
        if np.isfinite(v).any():
            if measure == "equalized_odds_difference" and _spread(gm.values[:, metrics.index("fpr")]) > _spread(v):
                k = metrics.index("fpr")
                v = gm.values[:, k]
            magnitude = np.abs(v) if measure == "mean_error_difference" else v
            higher_better = mx.HIGHER_IS_BETTER[metrics[k]] is True
            w = int(np.nanargmin(magnitude)) if higher_better else int(np.nanargmax(magnitude))
            b = int(np.nanargmax(magnitude)) if higher_better else int(np.nanargmin(magnitude))
            worst, best = gm.names[w], gm.names[b]
            dw, db = draws[:, w, k], draws[:, b, k]
            if measure == "mean_error_difference":
                dw, db = np.abs(dw), np.abs(db)
            with np.errstate(invalid="ignore", divide="ignore"):
                gap = (np.where(db > 0, dw / np.where(db > 0, db, 1), np.nan) if measure == "disparate_impact"
                       else (db - dw if higher_better else dw - db))
            low, high = boot.percentile_interval(gap, ci)
        passes = bool(value >= FOUR_FIFTHS) if measure == "disparate_impact" and np.isfinite(value) else None
        small = any(gm.too_small[gm.names.index(n), k] for n in (best, worst) if n is not None)
        out[measure] = Disparity(measure, attribute, value, float(low), float(high), best, worst, passes, small)
    return out


# =================================================================================================
# the model card and the datasheet
# =================================================================================================
#: Mitchell et al. (2019), section 4: the sections of a model card, in order
CARD_SECTIONS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                 "Quantitative analyses", "Ethical considerations", "Caveats and recommendations")
#: harm-assessment questions asked before a model is used on people (after the essay's audit questions,
#: Mitchell et al. 2019 and Madaio et al. 2020's co-designed fairness checklist)
HARM_QUESTIONS = (
    "Who is affected by the model's decisions, and who was not consulted about them?",
    "Which harms can a wrong decision cause: a lost opportunity or resource (allocation), worse service "
    "(quality of service), a stereotype reinforced, or people made invisible?",
    "Does any group receive the favourable decision less often (disparate impact), and is the gap larger "
    "than its uncertainty?",
    "Do error rates (false negatives, false positives) differ between groups or their intersections, and "
    "which error costs the people affected most?",
    "Were the groups large enough to say anything? Which groups were too small or not recorded at all?",
    "Could the labels themselves encode past discrimination (historical decisions as ground truth)?",
    "Does a feature act as a proxy for a sensitive attribute, and is its use justified by the task?",
    "Which fairness definition fits this decision (equal selection, equal opportunity, equal error rates), "
    "and who chose it?",
    "Can a person affected see why they were decided about, contest the decision, and reach a human?",
    "How will the model be monitored after deployment, by whom, and what would make you stop using it?",
)
CARD_BLANKS = {
    "Model details": "Who developed the model, when, which version; licence; where to send questions; how to cite.",
    "Intended use": "The primary intended uses and users: which decisions the model supports, and for whom.",
    "Out-of-scope uses": "Uses the model must not be put to, and people or settings it was not built for.",
    "Factors": "Why these groups? Which other factors (groups, instruments, environments) matter for this "
               "task but were not evaluated?",
    "Evaluation data": "Where the evaluation data come from, why they were chosen, and how they were prepared.",
    "Training data": "The training data: source, time span, how labels were made, what they may encode.",
    "Ethical considerations": "Sensitive data used, risks and harms to people, mitigations taken, and uses "
                              "that would be fraught.",
    "Caveats and recommendations": "What a user of the model must know: further testing needed, groups not "
                                   "represented, recommended thresholds or human oversight.",
}


def _written(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be text (a str) written by a person; got {type(value).__name__}")
    return value.strip() or None


def _person(value: str | None, prompt: str) -> list[doc.Block]:
    return [doc.Text(value, written=True)] if value else [doc.Blank(prompt)]


def _figure(result: Any, alt: str, figures: bool) -> list[doc.Block]:
    if not figures:
        return []
    try:
        png = result._repr_png_()
    except Exception as exc:  # a figure that cannot be drawn must not lose the card
        return [doc.Text(f"(figure not drawn: {type(exc).__name__}: {exc})")]
    return [doc.Figure(png, alt)]


def _model_facts(model: Any) -> list[tuple[str, str]]:
    if model is None:
        return []
    raw = model.raw if isinstance(model, Model) else model
    facts = [("Type", f"{type(raw).__module__}.{type(raw).__qualname__}")]
    if hasattr(raw, "get_params"):
        try:
            params = raw.get_params(deep=False)
            shown = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()) if not callable(v))
            facts.append(("Parameters", shown[:600] + ("…" if len(shown) > 600 else "")))
        except Exception:  # an estimator whose get_params fails still gets a card
            pass
    if hasattr(raw, "parameters") and callable(raw.parameters):
        try:
            facts.append(("Trainable parameters", f"{sum(p.numel() for p in raw.parameters()):,}"))
        except Exception:
            pass
    n_features = getattr(raw, "n_features_in_", None)
    if n_features is not None:
        facts.append(("Input features", str(n_features)))
    return facts


def _interval(v: float, lo: float, hi: float, small: bool, with_ci: bool) -> str:
    if not np.isfinite(v):
        return "—"
    text = f"{v:.3f}"
    if with_ci and np.isfinite(lo) and np.isfinite(hi):
        text += f" [{lo:.3f}, {hi:.3f}]"
    return text + (" ⚠" if small else "")


def _group_table(a: Audit, gm: GroupMetrics, metrics: Sequence[str]) -> doc.Table:
    columns = ["group", "n", *[mx.SHORT[m] for m in metrics]]
    rows = []
    for g, name in enumerate(gm.names):
        cells = [name, f"{int(gm.sizes[g]):,}"]
        for m in metrics:
            k = a.metrics.index(m)
            cells.append(_interval(gm.values[g, k], gm.low[g, k], gm.high[g, k], bool(gm.too_small[g, k]),
                                   bool(a.n_bootstrap)))
        rows.append(cells)
    return doc.Table(columns, rows)


def _audit_sections(a: Audit, figures: bool) -> dict[str, list[doc.Block]]:
    with_ci = bool(a.n_bootstrap)
    overall = a.overall
    thresholds = (f"Decisions select a row when its score {a.output_label} is at least {a.threshold:g}"
                  if a.kind == "classification" else "The model's predictions are compared with the truth")
    if a.thresholds:
        thresholds += (f"; per-group thresholds for {a.threshold_attribute}: "
                       + ", ".join(f"{n} {t:.3f}" for n, t in a.thresholds.items()))
    metrics_text = [
        doc.Text(f"{thresholds}. Reported per group: " + ", ".join(mx.LABELS[m] for m in a.metrics) + "."),
        doc.Text((f"Intervals: {a.ci:.0%} percentile bootstrap intervals over {a.n_bootstrap:,} resamples of the "
                  f"evaluation rows (seed {a.seed})." if with_ci else "No intervals were computed.")
                 + f" A number computed from fewer than {a.min_group_size} rows is marked ⚠ (too small to mean much)."),
    ]
    if a.kind == "classification":
        metrics_text.append(doc.Text("Disparities between groups: the disparate-impact ratio (lowest selection rate "
                                     "over the highest), the demographic-parity difference, the equal-opportunity "
                                     "difference (TPR) and the equalised-odds difference (the larger of the TPR "
                                     "and FPR differences). " + FOUR_FIFTHS_RULE))
    factors = [doc.Facts([(gm.attribute, ", ".join(f"{n} ({s:,})" for n, s in zip(gm.names, gm.sizes, strict=True)))
                          for gm in a.groups_by])]
    small = a.small_groups()
    evaluation = [doc.Facts([("Rows", f"{a.n_rows:,}")]
                            + ([("Base rate", f"{overall.values[0, 0]:.3f} ({a.target_name})")]
                               if a.kind == "classification" else []))]
    shown = (("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "precision", "ece", "roc_auc")
             if a.kind == "classification" else ("mean_truth", "mae", "rmse", "mean_error", "r2"))
    quantitative: list[doc.Block] = [doc.Heading(3, "All rows"), _group_table(a, overall, shown)]
    for gm in a.groups_by:
        quantitative += [doc.Heading(3, f"By {gm.attribute}"), _group_table(a, gm, shown)]
    disp_rows = [[d.attribute, d.label, _interval(d.value, d.low, d.high, d.too_small, with_ci),
                  str(d.worst), str(d.best), "" if d.passes is None else ("passes" if d.passes else "fails")]
                 for gm in a.groups_by for d in gm.disparities.values()]
    quantitative += [doc.Heading(3, "Disparities"),
                     doc.Table(["attribute", "measure", "value", "worst-off", "best-off", "four-fifths rule"],
                               disp_rows)]
    worst_rows = [[gm.attribute, mx.LABELS[m], str(w)] for gm in a.groups_by for m, w in gm.worst.items() if w]
    quantitative += [doc.Heading(3, "Worst-off group per metric"), doc.Table(["attribute", "metric", "group"],
                                                                              worst_rows)]
    if figures:
        main = "selection_rate" if a.kind == "classification" else "mae"
        for gm in a.groups_by:
            quantitative += [doc.Figure(_png(lambda ax, gm=gm: a.plot(ax=ax, metric=main, attribute=gm.attribute),
                                             (6.0, 0.35 * len(gm.names) + 1.6)),
                                        f"{mx.LABELS[main]} by {gm.attribute} with intervals")]
        if a.kind == "classification":
            gm = a.groups_by[0]
            quantitative += [doc.Figure(_png(lambda ax: a.plot(ax=ax, metric="tpr", attribute=gm.attribute),
                                             (6.0, 0.35 * len(gm.names) + 1.6)),
                                        f"true positive rate by {gm.attribute} with intervals")]
    caveats = []
    if small:
        caveats.append(f"Groups with fewer than {a.min_group_size} rows, whose numbers mean little: "
                       + ", ".join(small) + ".")
    wide = [f"{gm.attribute}: {n}" for gm in a.groups_by for g, n in enumerate(gm.names)
            if with_ci and a.kind == "classification"
            and gm.high[g, 1] - gm.low[g, 1] > 0.2]
    if wide:
        caveats.append("Selection-rate intervals wider than 0.2 (more data needed): " + ", ".join(wide) + ".")
    return {"Factors": factors, "Metrics": metrics_text, "Evaluation data": evaluation,
            "Quantitative analyses": quantitative, "findings": [doc.Bullets(a.findings())] if a.findings() else [],
            "caveats": [doc.Bullets(caveats)] if caveats else []}


def _png(draw_on: Callable[[Any], Any], size: tuple[float, float]) -> bytes:
    from ..plotting.figure import png_of

    return png_of(lambda fig: draw_on(fig.add_subplot()), figsize=size)


def _explanation_blocks(explanations: Sequence[Any], figures: bool) -> list[doc.Block]:
    blocks: list[doc.Block] = []
    for e in explanations:
        if not isinstance(e, Result):
            raise InputError(f"explanations must be nbexplain results (importance, Shapley values, proxies...); got "
                             f"{type(e).__name__}")
        title = {"Proxies": "Proxy features", "ShapleyByGroup": "Feature importance by group",
                 "PermutationImportance": "Feature importance", "EffectByGroup": "Feature effect by group",
                 "GroupCounterfactuals": "What would have to change",
                 "TradeOff": "Accuracy and disparity as thresholds move"}.get(type(e).__name__, type(e).__name__)
        blocks.append(doc.Heading(3, title))
        if hasattr(e, "summary"):
            try:
                blocks.append(doc.Text(e.summary()))
            except Exception as exc:  # a result without a one-line story still shows its figure
                blocks.append(doc.Text(f"(no summary: {type(exc).__name__})"))
        if isinstance(e, Proxies):
            rows = [[n, f"{e.association[j]:.2f}", e.kinds[j], f"{e.share[j]:.1%}", f"{e.score[j]:.3f}"]
                    for j, n in ((e.feature_names.index(n), n) for n in e.ranking()[:8])]
            blocks.append(doc.Table(["feature", "association", "measure", "share of explanation", "proxy score"], rows))
        blocks += _figure(e, title, figures)
    return blocks


@dataclass(repr=False)
class Document(Result):
    """A document of sections (a model card, a datasheet): ``.markdown``, ``.html`` (one self-contained
    file), ``.save(path)``, ``.blanks`` (the sections a person still has to write)."""

    title: str
    sections: list[tuple[str, list[doc.Block]]]
    _figure_result: Any = field(default=None, repr=False)

    _png_figsize = (6.0, 3.6)

    @property
    def markdown(self) -> str:
        """The document as CommonMark (GitHub-style tables; figures as embedded PNG data)."""
        return doc.markdown(self.title, self.sections)

    @property
    def html(self) -> str:
        """The document as one self-contained HTML file: styles inline, figures embedded, no external request."""
        return doc.html(self.title, self.sections)

    @property
    def blanks(self) -> list[str]:
        """Titles of the sections that still have a blank for a person to write."""
        return [title for title, blocks in self.sections if any(isinstance(b, doc.Blank) for b in blocks)]

    def section(self, title: str) -> list[doc.Block]:
        """The blocks of one section."""
        titles = [t for t, _ in self.sections]
        return self.sections[titles.index(check_choice(title, "title", titles))][1]

    def save(self, path: Any) -> Any:
        """Write ``path``: ``.html``/``.htm`` the self-contained HTML, ``.md`` the Markdown with its figures as
        PNG files in ``<name>_figures/`` beside it (linked relatively, as GitHub shows them). Returns the path."""
        from pathlib import Path

        p = Path(path)
        suffix = check_choice(p.suffix.lower(), "the file's suffix", (".html", ".htm", ".md"))
        if suffix in (".html", ".htm"):
            p.write_text(self.html, encoding="utf-8")
            return p
        folder = p.with_name(p.stem + "_figures")
        files: dict[int, str] = {}
        figures = [b for _, blocks in self.sections for b in blocks if isinstance(b, doc.Figure)]
        if figures:
            folder.mkdir(parents=True, exist_ok=True)
        for i, fig in enumerate(figures):
            name = f"figure_{i + 1}.png"
            (folder / name).write_bytes(fig.png)
            files[id(fig)] = f"{folder.name}/{name}"
        p.write_text(doc.markdown(self.title, self.sections, figure_paths=files), encoding="utf-8")
        return p

    def _repr_html_(self) -> str:
        return doc.html_fragment(self.title, self.sections)

    def __str__(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary()}>"

    def summary(self) -> str:
        blanks = self.blanks
        return (f"{self.title}: {len(self.sections)} sections"
                + (f"; to be written by a person: {', '.join(blanks)}" if blanks else "; no blanks left"))

    def plot(self, ax=None):
        """The document's main figure (the audit's bars, a datasheet's group composition); returns the Axes."""
        if self._figure_result is None:
            raise InputError("this document has no figure to plot")
        return self._figure_result(ax)


@dataclass(repr=False)
class ModelCard(Document):
    """A model card (Mitchell et al. 2019); see :func:`model_card`."""


@dataclass(repr=False)
class Datasheet(Document):
    """A datasheet for a dataset (Gebru et al. 2021); see :func:`datasheet`.

    ``facts``: one dict per column (name, kind, missing, distinct, summary), also as :meth:`to_frame`.
    """

    facts: list[dict] = field(default_factory=list)

    def to_frame(self):
        """One row per column of the data: kind, missing values, distinct values and a summary."""
        keys = ("column", "kind", "missing", "distinct", "summary")
        return frame({k: [f[k] for f in self.facts] for k in keys})


def model_card(
    model: Any = None,
    *,
    audit: Audit | None = None,
    explanations: Sequence[Any] | Any = (),
    datasheet: Datasheet | None = None,
    title: str = "Model card",
    model_details: str | None = None,
    intended_use: str | None = None,
    out_of_scope: str | None = None,
    factors: str | None = None,
    evaluation_data: str | None = None,
    training_data: str | None = None,
    ethical_considerations: str | None = None,
    caveats: str | None = None,
    figures: bool = True,
) -> ModelCard:
    """A model card (Mitchell et al. 2019): Markdown and one self-contained HTML file.

    The sections (model details, intended use, factors, metrics, evaluation data, training data, quantitative
    analyses, ethical considerations, caveats and recommendations) are filled from what nbexplain knows: the
    model's type and parameters, the audit's groups, metrics with intervals, disparities and worst-off groups,
    the explanations given (feature importance, proxies, effects by group) with their figures, a datasheet's
    facts. What only a person can write (intended and out-of-scope uses, the reasons for the chosen factors,
    where the data come from, ethical considerations) is a clearly marked blank unless given here. A
    harm-assessment checklist closes the card.

    Parameters
    ----------
    model : the model (its type and parameters are recorded), optional.
    audit : :class:`Audit`, optional — the disaggregated evaluation.
    explanations : result or list of results — e.g. ``audit.proxies()``, ``audit.shapley_by_group()``,
        ``nbx.permutation_importance(...)``.
    datasheet : :class:`Datasheet`, optional — the training data's datasheet (its facts go to "Training data").
    title : str
    model_details, intended_use, out_of_scope, factors, evaluation_data, training_data,
    ethical_considerations, caveats : str, optional — a person's words for those sections (plain text; blank
        lines separate paragraphs).
    figures : bool — embed the figures (PNG).

    Returns
    -------
    ModelCard

    Examples
    --------
    >>> card = nbx.model_card(clf, audit=a, explanations=[a.proxies()], intended_use="Shortlisting support.")
    >>> card.blanks
    ['Model details', 'Intended use', ...]
    >>> card.save("model_card.html"); card.save("model_card.md")
    """
    figures = check_bool(figures, "figures")
    if audit is not None and not isinstance(audit, Audit):
        raise InputError(f"audit must be the Audit of nbx.audit(...); got {type(audit).__name__}")
    if datasheet is not None and not isinstance(datasheet, Datasheet):
        raise InputError(f"datasheet must be the Datasheet of nbx.datasheet(...); got {type(datasheet).__name__}")
    if isinstance(explanations, Result):
        explanations = [explanations]
    explanations = list(explanations or [])
    words = {k: _written(v, k) for k, v in dict(
        model_details=model_details, intended_use=intended_use, out_of_scope=out_of_scope, factors=factors,
        evaluation_data=evaluation_data, training_data=training_data,
        ethical_considerations=ethical_considerations, caveats=caveats).items()}
    if model is None and audit is not None:
        model = audit._model
    found = _audit_sections(audit, figures) if audit is not None else {}
    today = datetime.date.today().isoformat()
    details: list[doc.Block] = [doc.Facts(_model_facts(model) + [("Card generated", f"{today} by nbexplain")])]
    details += _person(words["model_details"], CARD_BLANKS["Model details"])
    intended = [doc.Heading(3, "Primary intended uses")] + _person(words["intended_use"], CARD_BLANKS["Intended use"])
    intended += [doc.Heading(3, "Out-of-scope uses")] + _person(words["out_of_scope"], CARD_BLANKS["Out-of-scope uses"])
    factors_blocks = (found.get("Factors", [doc.Text("No groups were audited.")])
                      + _person(words["factors"], CARD_BLANKS["Factors"]))
    metrics_blocks = found.get("Metrics", [doc.Text("No audit was given: no metrics are reported.")])
    evaluation = found.get("Evaluation data", []) + _person(words["evaluation_data"], CARD_BLANKS["Evaluation data"])
    training: list[doc.Block] = []
    if datasheet is not None:
        training.append(doc.Text(f"From the datasheet {datasheet.title!s}:"))
        training += [b for b in datasheet.section("Composition") if not isinstance(b, doc.Blank)]
    training += _person(words["training_data"], CARD_BLANKS["Training data"])
    quantitative = found.get("Quantitative analyses", [doc.Text("No audit was given.")])
    quantitative += _explanation_blocks(explanations, figures)
    ethics: list[doc.Block] = []
    if found.get("findings"):
        ethics += [doc.Text("What the audit found, to weigh here:")] + found["findings"]
    proxies = [e for e in explanations if isinstance(e, Proxies)]
    for p in proxies:
        ethics.append(doc.Text(p.summary()))
    ethics += _person(words["ethical_considerations"], CARD_BLANKS["Ethical considerations"])
    caveats_blocks = found.get("caveats", []) + _person(words["caveats"], CARD_BLANKS["Caveats and recommendations"])
    sections = [("Model details", details), ("Intended use", intended), ("Factors", factors_blocks),
                ("Metrics", metrics_blocks), ("Evaluation data", evaluation), ("Training data", training),
                ("Quantitative analyses", quantitative), ("Ethical considerations", ethics),
                ("Caveats and recommendations", caveats_blocks),
                ("Harm assessment", [doc.Text("Questions to answer, with the people affected, before this model is "
                                              "used on them:"), doc.Checklist(list(HARM_QUESTIONS))])]
    plot = (lambda ax: audit.plot(ax=ax)) if audit is not None else None
    return ModelCard(title=str(title), sections=sections, _figure_result=plot)


# -- datasheet --------------------------------------------------------------------------------------
DATASHEET_BLANKS = {
    "Motivation": "For what purpose was the dataset created? Who created it, on whose behalf, and who funded it?",
    "Composition": "What do the instances represent? Is anything missing, confidential, or identifying? "
                   "Which subpopulations does it contain, and how were they identified?",
    "Collection process": "How, when and by whom were the data collected or generated? Did the people "
                          "concerned consent, and could they withdraw?",
    "Preprocessing, cleaning and labelling": "What was done to the raw data, and how were the labels made?",
    "Uses": "What has the dataset been used for? What should it not be used for?",
    "Distribution": "How is the dataset shared, under which licence, and with whom?",
    "Maintenance": "Who maintains the dataset, how are errors reported and corrected, and will it be updated?",
}


def _data_columns(data: Any, feature_names: Sequence[str] | None) -> tuple[list[str], list[np.ndarray]]:
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        names = [str(c) for c in data.columns]
        return names, [np.asarray(data[c].to_numpy()) for c in data.columns]
    arr = np.asarray(data)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InputError(f"data must be a 2-D array or a DataFrame with at least one row; got shape {arr.shape}")
    names = [str(n) for n in feature_names] if feature_names is not None else [f"x{j}" for j in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise InputError(f"feature_names has {len(names)} names but data has {arr.shape[1]} columns")
    return names, [arr[:, j] for j in range(arr.shape[1])]


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype == object:
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


def _column_fact(name: str, values: np.ndarray, labels: Any) -> dict:
    missing = _missing(values)
    present = values[~missing]
    numeric = values.dtype.kind in "biuf"
    distinct = len(np.unique(present.astype(str) if not numeric else present))
    if labels is not None or not numeric or (distinct <= 10 and np.all(present == np.round(present))):
        kind = "categorical"
        levels, counts = np.unique(present.astype(str) if not numeric else present, return_counts=True)
        order = np.argsort(-counts, kind="stable")[:4]
        from ..methods.fairness.groups import label_name

        summary = ", ".join(f"{label_name(levels[i].item() if hasattr(levels[i], 'item') else levels[i], labels)} "
                            f"{counts[i] / max(1, len(present)):.0%}" for i in order)
    else:
        kind = "numeric"
        p = present.astype(np.float64)
        summary = (f"min {np.min(p):.4g}, median {np.median(p):.4g}, max {np.max(p):.4g}" if len(p) else "no values")
    return {"column": name, "kind": kind, "missing": int(missing.sum()), "distinct": int(distinct), "summary": summary}


def datasheet(
    data: Any,
    *,
    y: Any = None,
    sensitive: Any = None,
    feature_names: Sequence[str] | None = None,
    categories: Mapping | None = None,
    title: str = "Datasheet",
    motivation: str | None = None,
    composition: str | None = None,
    collection: str | None = None,
    preprocessing: str | None = None,
    uses: str | None = None,
    distribution: str | None = None,
    maintenance: str | None = None,
    figures: bool = True,
) -> Datasheet:
    """A datasheet skeleton for a dataset (Gebru et al. 2021) with the data's computed facts.

    Computed: the size, every column's kind, missing values, distinct values and a summary, exact duplicate
    rows, the label balance, the composition of each sensitive group and intersection and the label balance
    per group. Gebru et al.'s questions (motivation, composition, collection, preprocessing, uses,
    distribution, maintenance) are marked blanks unless written here.

    Parameters
    ----------
    data : (N, F) array, DataFrame, or a data set of :mod:`nbexplain.datasets` (its ``X``, ``y``,
        ``feature_names``, ``categories`` and ``sensitive`` are used). Missing values (NaN, None) are counted.
    y : (N,) labels, optional.
    sensitive : as for :func:`audit` (column names, or ``{name: values}``), optional.
    feature_names, categories : as for :func:`audit`.
    title, motivation, composition, collection, preprocessing, uses, distribution, maintenance : str, optional
        A person's words for those sections.
    figures : bool — embed the group-composition figure.

    Returns
    -------
    Datasheet

    Examples
    --------
    >>> sheet = nbx.datasheet(nbx.datasets.credit(), sensitive=["Gender", "Ethnicity"])
    >>> sheet.to_frame(); sheet.save("credit_datasheet.html")
    """
    figures = check_bool(figures, "figures")
    if hasattr(data, "X") and hasattr(data, "feature_names"):  # one of nbexplain's data sets
        y = getattr(data, "y", None) if y is None else y
        if categories is None:
            categories = {**(getattr(data, "categories", None) or {}), **(getattr(data, "groups", None) or {})}
        sensitive = getattr(data, "sensitive", None) if sensitive is None else sensitive
        feature_names = data.feature_names if feature_names is None else feature_names
        data = data.X
    names, values = _data_columns(data, feature_names)
    n = len(values[0])
    categories = dict(categories or {})
    facts = [_column_fact(nm, v, categories.get(nm)) for nm, v in zip(names, values, strict=True)]
    rows = np.column_stack([v.astype(str) for v in values])
    duplicates = int(n - len(np.unique(rows, axis=0)))
    words = {k: _written(v, k) for k, v in dict(motivation=motivation, composition=composition, collection=collection,
                                                 preprocessing=preprocessing, uses=uses, distribution=distribution,
                                                 maintenance=maintenance).items()}
    composition_blocks: list[doc.Block] = [
        doc.Facts([("Rows", f"{n:,}"), ("Columns", str(len(names))), ("Exact duplicate rows", f"{duplicates:,}"),
                   ("Missing values", f"{sum(f['missing'] for f in facts):,} in "
                                      f"{sum(1 for f in facts if f['missing'])} column(s)")]),
        doc.Heading(3, "Columns"),
        doc.Table(["column", "kind", "missing", "distinct", "summary"],
                  [[f["column"], f["kind"], str(f["missing"]), str(f["distinct"]), f["summary"]] for f in facts]),
    ]
    y_arr = None
    if y is not None:
        y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if y_arr.shape != (n,):
            raise InputError(f"y must have one label per row ({n}); got shape {y_arr.shape}")
        levels, counts = np.unique(y_arr.astype(str), return_counts=True)
        composition_blocks += [doc.Heading(3, "Labels"),
                               doc.Table(["label", "rows", "share"],
                                         [[lv, f"{c:,}", f"{c / n:.1%}"] for lv, c in zip(levels, counts, strict=True)])]
    plot = None
    if sensitive is not None:
        columns, _ = sensitive_columns(sensitive, n, columns=dict(zip(names, values, strict=True)))
        groupings = make_groupings(columns, categories, True)
        label_levels = np.unique(y_arr.astype(str)) if y_arr is not None else []
        for g in groupings:
            sizes = g.sizes
            header = ["group", "rows", "share"] + [f"share labelled {lv}" for lv in label_levels]
            table_rows = []
            for k, name in enumerate(g.names):
                cells = [name, f"{int(sizes[k]):,}", f"{sizes[k] / n:.1%}"]
                for lv in label_levels:
                    cells.append(f"{np.mean(y_arr[g.codes == k].astype(str) == lv):.1%}")
                table_rows.append(cells)
            composition_blocks += [doc.Heading(3, f"Composition by {g.attribute}"), doc.Table(header, table_rows)]
        first = groupings[0]

        def plot(ax, first=first):
            return draw.group_bars(first.sizes.astype(float), None, None, first.names,
                                   first.sizes < 30, title=f"rows by {first.attribute}", xlabel="rows", ax=ax)

        if figures:
            composition_blocks.append(doc.Figure(_png(plot, (5.0, 0.35 * first.n_groups + 1.4)),
                                                 f"rows by {first.attribute}"))
    composition_blocks += _person(words["composition"], DATASHEET_BLANKS["Composition"])
    sections = [("Motivation", _person(words["motivation"], DATASHEET_BLANKS["Motivation"])),
                ("Composition", composition_blocks),
                ("Collection process", _person(words["collection"], DATASHEET_BLANKS["Collection process"])),
                ("Preprocessing, cleaning and labelling",
                 _person(words["preprocessing"], DATASHEET_BLANKS["Preprocessing, cleaning and labelling"])),
                ("Uses", _person(words["uses"], DATASHEET_BLANKS["Uses"])),
                ("Distribution", _person(words["distribution"], DATASHEET_BLANKS["Distribution"])),
                ("Maintenance", _person(words["maintenance"], DATASHEET_BLANKS["Maintenance"]))]
    return Datasheet(title=str(title), sections=sections, _figure_result=plot, facts=facts)


__all__ = ["CARD_SECTIONS", "DISPARITIES", "FOUR_FIFTHS_RULE", "HARM_QUESTIONS", "Audit", "Datasheet", "Disparity",
           "Document", "EffectByGroup", "GroupCounterfactuals", "GroupMetrics", "ModelCard", "Proxies",
           "ShapleyByGroup", "TradeOff", "audit", "datasheet", "model_card", "sensitive_columns"]
