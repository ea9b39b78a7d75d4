"""Fairness audits: a model's results disaggregated by group and intersection, with their uncertainty.

:func:`audit` counts, per group and per intersection of the sensitive attributes: size, base rate, selection
rate, accuracy, TPR, FPR, FNR, precision, calibration (ECE and a reliability curve) and ROC AUC (a regression:
its error metrics), each with a bootstrap confidence interval and a flag where the group is too small for the
number to mean anything; the disparities between groups (disparate-impact ratio with the four-fifths rule,
demographic-parity, equal-opportunity and equalised-odds differences) and the worst-off group on each metric.
From the :class:`Audit`, one call per question asks the other explainers *why*: :meth:`Audit.shapley_by_group`,
:meth:`Audit.effect_by_group`, :meth:`Audit.counterfactuals`, :meth:`Audit.proxies`; and every fairness
definition is a threshold choice: :meth:`Audit.fair_thresholds`, :meth:`Audit.with_thresholds`,
:meth:`Audit.tradeoff`. Model cards and datasheets that report an audit: :mod:`nbexplain.explain.documents`.

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
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from ..adapters.outputs import tabular_output
from ..errors import InputError
from ..inputs.tables import Table, as_table, feature_index, sample_rows, tabular_model
from ..methods.fairness import metrics as mx
from ..methods.fairness import proxies as px
from ..methods.fairness import thresholds as th
from ..methods.fairness.disparities import (
    DISPARITIES,
    DISPARITY_LABELS,
    FOUR_FIFTHS,
    FOUR_FIFTHS_RULE,
    Disparity,
)
from ..methods.fairness.evaluation import (
    OVERALL,
    GroupMetrics,
    binary_labels,
    evaluate,
    regression_truth,
)
from ..methods.fairness.groups import Grouping, make_groupings, sensitive_columns
from ..plotting import fairness as draw
from .counterfactual import CounterfactualResult, counterfactual
from .effects import ICE, ice
from .result import Result, frame
from .tabular import shapley_tabular


# =================================================================================================
# results
# =================================================================================================
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
        """This audit of the decisions at other thresholds (the model is not called again)."""
        t0 = time.perf_counter()
        metrics, decision, tables = evaluate(
            self.kind, self.score, self.y, row_thresholds, self._groupings, n_bootstrap=self.n_bootstrap,
            ci=self.ci, seed=self.seed, min_group_size=self.min_group_size, n_bins=self.n_bins,
            progress=reporter(progress, "fairness audit"))
        return replace(self, metrics=metrics, overall=tables[0], groups_by=tables[1:], threshold=threshold,
                       thresholds=per_group, threshold_attribute=attribute, decision=decision,
                       seconds=time.perf_counter() - t0, _cache={})

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
        chosen = np.where(np.isfinite(gm.thresholds), gm.thresholds, self.threshold)  # a group's own, else the audit's
        current = {k: float(v[0]) for k, v in th.disparities(
            {k: v[:, None] for k, v in th.rates_at(self.roc(gm.attribute), chosen).items()}).items()}
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
    kind = "regression" if output.kind == "regression" else "classification"
    if kind == "regression":
        score, labels = scores[:, 0].astype(np.float64), regression_truth(y, table.n_rows)
        row_thresholds = np.full(table.n_rows, np.nan)
    else:
        score = m.to_probabilities(scores)[:, output.target].astype(np.float64)
        labels = binary_labels(y, table.n_rows, getattr(m.raw, "classes_", None), m.class_names, output.target,
                               output.target_name)
        row_thresholds = np.full(table.n_rows, threshold)
    metrics, decision, tables = evaluate(
        kind, score, labels, row_thresholds, groupings, n_bootstrap=n_bootstrap, ci=ci, seed=seed,
        min_group_size=min_group_size, n_bins=n_bins,
        progress=(lambda f: report(0.3 + 0.7 * f)) if report is not None else None)
    return Audit(kind=kind, metrics=metrics, overall=tables[0], groups_by=tables[1:], target=output.target,
                 target_name=output.target_name, output_label=output.label, threshold=threshold, thresholds=None,
                 threshold_attribute=None, score=score, y=labels, decision=decision, n_bootstrap=n_bootstrap, ci=ci,
                 seed=seed, min_group_size=min_group_size, n_bins=n_bins, feature_names=list(table.feature_names),
                 sensitive_features=sensitive_features, class_names=m.class_names, seconds=time.perf_counter() - t0,
                 _model=m, _table=table, _groupings=groupings)


__all__ = ["DISPARITIES", "DISPARITY_LABELS", "FOUR_FIFTHS_RULE", "Audit", "Disparity", "EffectByGroup",
           "GroupCounterfactuals", "GroupMetrics", "Proxies", "ShapleyByGroup", "TradeOff", "audit"]
