"""FairnessAudit: the group table and bars with their intervals, per-group threshold sliders that update
selection rates, error rates and disparities live in the page, and the accuracy-vs-disparity trade-off.

What travels (all groups of every attribute at once, so switching attribute or metric needs no kernel):
the audited metrics of every group with their bootstrap intervals, and every group's ROC points (its
distinct scores, decreasing, with the positives and negatives at or above each). Dragging a threshold is
answered in the page from those points — the arithmetic of :mod:`nbexplain.methods.fairness.thresholds` —
with no kernel round trip; letting go sends one ``thresholds`` request, and the kernel recounts the audit
(new intervals) at those thresholds. ``fair`` asks the kernel for thresholds that equalise TPR (equal
opportunity) or selection rates (demographic parity). Every number comes from the front door
:mod:`nbexplain.explain.fairness`; ``audit.widget()`` opens this view on an :class:`~nbexplain.Audit`.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from .._validation import check_choice, check_keywords, check_number
from ..errors import InputError
from ..explain.fairness import DISPARITIES, DISPARITY_LABELS, FOUR_FIFTHS_RULE, Audit, audit
from ..methods.fairness import metrics as mx
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, field, handles
from .codec import array_serialization, decode_array

#: keywords the widget passes to its traits
TRAIT_OPTIONS = ("layout", "interactive")
AUDIT_OPTIONS = [p for p in inspect.signature(audit).parameters if p not in ("model", "X", "y")]
CRITERIA = ("equal_opportunity", "demographic_parity")


def _array(**kw):
    return traitlets.Any(None, **kw).tag(sync=True, **array_serialization)


class FairnessAudit(ExplainerWidget):
    """A fairness audit, interactive: groups with intervals, live per-group thresholds, the trade-off.

    Parameters
    ----------
    model, X, y : the model and labelled evaluation data, as for :func:`nbexplain.audit` (or give ``audit=``).
    audit : :class:`~nbexplain.Audit`, optional — show this audit (its model is not called again).
    attribute : str, optional — the attribute shown first (default: the first).
    metric : str — the metric of the bars (default: selection rate; a regression: MAE).
    tolerance : float — how equal the "equal opportunity" / "demographic parity" buttons make the rates.
    **options : the keywords of :func:`nbexplain.audit` (``sensitive=``, ``target=``, ``n_bootstrap=``...).

    Examples
    --------
    >>> w = nbx.FairnessAudit(clf, X, y, sensitive=["Gender", "Ethnicity"], categories=data.categories)
    >>> w.set_thresholds({"Female": 0.45})     # as dragging the slider does
    >>> w.audit.summary()                      # the audit at the thresholds shown
    >>> nbx.audit(clf, X, y, sensitive=...).widget()
    """

    _esm = assets.view_esm("fairness")
    _css = assets.view_css("fairness")
    _view_writes: ClassVar[frozenset[str]] = frozenset({"metric"})

    kind = traitlets.Unicode("classification").tag(sync=True)
    attributes = traitlets.List([]).tag(sync=True)
    attribute = traitlets.Int(0).tag(sync=True)  # index into attributes (set by the "attribute" request)
    metric_keys = traitlets.List([]).tag(sync=True)
    metric_labels = traitlets.List([]).tag(sync=True)  # [short, long] per metric
    threshold_metrics = traitlets.List([]).tag(sync=True)  # the metrics a threshold moves
    metric = traitlets.Unicode("selection_rate").tag(sync=True)

    group_names = traitlets.List([]).tag(sync=True)  # every group of every attribute
    group_attribute = _array()  # (G,) int32: the attribute of each group
    sizes = _array()  # (G,) int32
    values = _array()  # (G, M) float64 at the audited thresholds
    low = _array()
    high = _array()
    too_small = _array()  # (G, M) uint8
    audited_thresholds = _array()  # (G,) float64 (NaN for a regression)

    roc_offsets = _array()  # (G + 1,) int32
    roc_scores = _array()  # (K,) float64, decreasing within each group
    roc_positives = _array()  # (K,) int32: positives scoring at least roc_scores
    roc_negatives = _array()
    n_pos = _array()  # (G,) int32
    n_neg = _array()

    thresholds = _array()  # (G_attribute,) float64: the thresholds of the shown attribute's groups
    disparities = traitlets.Dict({}).tag(sync=True)  # attribute -> [{measure, label, value, low, high, ...}]
    info = traitlets.Dict({}).tag(sync=True)  # output_label, target_name, ci, n_bootstrap, rule, summary...
    tolerance = traitlets.Float(0.02).tag(sync=True)
    interactive = traitlets.Bool(True).tag(sync=True)

    def __init__(self, model: Any = None, X: Any = None, y: Any = None, *, audit: Audit | None = None,
                 attribute: str | None = None, metric: str | None = None, tolerance: float = 0.02,
                 **kwargs: Any):
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in AUDIT_OPTIONS}
        check_keywords(kwargs, ["model", "X", "y", "audit", "attribute", "metric", "tolerance", *AUDIT_OPTIONS,
                                *TRAIT_OPTIONS], "FairnessAudit()")
        if audit is None:
            if model is None or X is None or y is None:
                raise InputError("FairnessAudit needs model, X and y (and sensitive=), or audit=nbx.audit(...)")
            audit = _audit(model, X, y, **options)
        elif not isinstance(audit, Audit):
            raise InputError(f"audit must be the Audit of nbx.audit(...); got {type(audit).__name__}")
        elif options or model is not None or X is not None or y is not None:
            raise InputError("give either audit= or model, X, y with the audit's options, not both")
        self._audit = audit
        super().__init__(**kwargs)
        self.tolerance = check_number(tolerance, "tolerance", 0.0, 1.0)
        with self._applying():
            self._put_static(audit)
            self.attribute = audit._attribute_index(attribute)
            self.metric = audit._metric(metric)
            self._put_audit(audit)
            self.thresholds = self._attribute_thresholds(audit)

    # -- what the view may write -----------------------------------------------------------------
    @traitlets.validate("metric")
    def _valid_metric(self, proposal: dict) -> str:
        if self._is_applying:
            return proposal["value"]
        return check_choice(proposal["value"], "metric", ["size", *self.metric_keys])

    @traitlets.validate("tolerance")
    def _valid_tolerance(self, proposal: dict) -> float:
        return check_number(proposal["value"], "tolerance", 0.0, 1.0)

    # -- results into traits (inside ``_applying``) --------------------------------------------------
    def _put_static(self, a: Audit) -> None:
        """What never changes with the thresholds: the groups, their sizes and ROC points."""
        self.kind = a.kind
        self.attributes = list(a.attributes)
        self.metric_keys = list(a.metrics)
        self.metric_labels = [[mx.SHORT[m], mx.LABELS[m]] for m in a.metrics]
        self.threshold_metrics = ([m for m in ("selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision")]
                                  if a.kind == "classification" else [])
        self.group_names = [n for gm in a.groups_by for n in gm.names]
        self.group_attribute = np.concatenate([np.full(len(gm.names), i, np.int32)
                                               for i, gm in enumerate(a.groups_by)])
        self.sizes = np.concatenate([gm.sizes for gm in a.groups_by]).astype(np.int32)
        if a.kind == "classification":
            rocs = [a.roc(i) for i in range(len(a.groups_by))]
            offsets = [0]
            for r in rocs:
                offsets += (offsets[-1] + r.offsets[1:]).tolist()
            self.roc_offsets = np.asarray(offsets, dtype=np.int32)
            self.roc_scores = np.concatenate([r.scores for r in rocs]).astype(np.float64)
            self.roc_positives = np.concatenate([r.positives for r in rocs]).astype(np.int32)
            self.roc_negatives = np.concatenate([r.negatives for r in rocs]).astype(np.int32)
            self.n_pos = np.concatenate([r.n_pos for r in rocs]).astype(np.int32)
            self.n_neg = np.concatenate([r.n_neg for r in rocs]).astype(np.int32)

    def _put_audit(self, a: Audit) -> None:
        """The audited numbers, intervals and disparities (they change when the thresholds do)."""
        self._audit = a
        tables = a.groups_by
        self.values = np.concatenate([gm.values for gm in tables]).astype(np.float64)
        self.low = np.concatenate([gm.low for gm in tables]).astype(np.float64)
        self.high = np.concatenate([gm.high for gm in tables]).astype(np.float64)
        self.too_small = np.concatenate([gm.too_small for gm in tables]).astype(np.uint8)
        self.audited_thresholds = np.concatenate([gm.thresholds for gm in tables]).astype(np.float64)
        self.disparities = {gm.attribute: [{
            "measure": d.measure, "label": d.label, "value": _finite(d.value), "low": _finite(d.low),
            "high": _finite(d.high), "best": d.best, "worst": d.worst, "passes": d.passes, "too_small": d.too_small,
        } for d in gm.disparities.values()] for gm in tables}
        self.info = {"output_label": a.output_label, "target_name": a.target_name, "ci": a.ci,
                     "n_bootstrap": a.n_bootstrap, "min_group_size": a.min_group_size, "threshold": a.threshold,
                     "rule": FOUR_FIFTHS_RULE, "summary": a.summary(), "quality": a.quality(),
                     "worst": {gm.attribute: gm.worst for gm in tables},
                     "disparity_labels": {k: DISPARITY_LABELS[k] for k in DISPARITIES[a.kind]}}

    def _attribute_thresholds(self, a: Audit) -> np.ndarray:
        gm = a.groups_by[self.attribute]
        return np.where(np.isfinite(gm.thresholds), gm.thresholds, a.threshold).astype(np.float64)

    # -- requests from the view ------------------------------------------------------------------
    @handles("thresholds")
    def _on_thresholds(self, params: dict, ctx: RequestContext) -> dict:
        value = field(params, "thresholds")
        n = len(self._audit.groups_by[self.attribute].names)
        try:
            if isinstance(value, dict):  # an array from the view: {dtype, shape, buffer}
                value = decode_array(value)
            t = np.asarray(value, dtype=np.float64).ravel()
        except (TypeError, ValueError, KeyError) as exc:
            raise InputError(f"thresholds must be {n} numbers in [0, 1]; got {type(value).__name__}") from exc
        if t.shape != (n,) or not np.all(np.isfinite(t)) or np.any((t < 0) | (t > 1)):
            raise InputError(f"thresholds must be {n} numbers in [0, 1] (one per group of "
                             f"{self.attributes[self.attribute]}); got {t.tolist()[:12]}")
        self._apply_thresholds(t, ctx)
        return {"thresholds": self.thresholds}

    @handles("fair")
    def _on_fair(self, params: dict, ctx: RequestContext) -> dict:
        criterion = check_choice(field(params, "criterion"), "criterion", CRITERIA)
        chosen = self._audit.fair_thresholds(criterion, self.attributes[self.attribute], tolerance=self.tolerance)
        self._apply_thresholds(np.array(list(chosen.values())), ctx)
        return {"thresholds": self.thresholds}

    @handles("attribute")
    def _on_attribute(self, params: dict, ctx: RequestContext) -> dict:
        index = field(params, "attribute")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.attributes):
            raise InputError(f"attribute must be an index into {self.attributes}; got {index!r}")
        self._show_attribute(index, ctx)
        return {"attribute": self.attribute}

    def _show_attribute(self, index: int, ctx: RequestContext) -> None:
        a = self._audit
        if a.thresholds and a.threshold_attribute != a.attributes[index]:
            a = a.with_thresholds(a.threshold, progress=ctx.progress)  # per-group thresholds of another attribute
        with self._applying(ctx):
            if a is not self._audit:
                self._put_audit(a)
            self.attribute = index
            self.thresholds = self._attribute_thresholds(a)

    def _apply_thresholds(self, t: np.ndarray, ctx: RequestContext) -> None:
        if self.kind != "classification":
            raise InputError("thresholds apply to classifiers; this audit is of a regression")
        gm = self._audit.groups_by[self.attribute]
        base = self._audit
        if np.all(t == t[0]):
            a = base.with_thresholds(float(t[0]), progress=ctx.progress)
        else:
            a = base.with_thresholds(dict(zip(gm.names, t.tolist(), strict=True)), gm.attribute, progress=ctx.progress)
        with self._applying(ctx):
            self._put_audit(a)
            self.thresholds = t.astype(np.float64)

    # -- from Python -----------------------------------------------------------------------------------
    @property
    def audit(self) -> Audit:
        """The audit shown (at the thresholds the sliders were last released at)."""
        return self._audit

    def set_thresholds(self, thresholds: Any) -> Audit:
        """Set the shown attribute's thresholds (a number, a dict ``{group: t}`` or one per group), as the
        sliders do; returns the recounted audit."""
        vector, _ = self._audit._threshold_vector(thresholds, self.attributes[self.attribute])
        with self._compute_lock:
            self._apply_thresholds(vector, DIRECT)
        return self._audit

    def show_attribute(self, attribute: str) -> None:
        """Show ``attribute``'s groups (and its thresholds)."""
        with self._compute_lock:
            self._show_attribute(self._audit._attribute_index(attribute), DIRECT)

    def fair(self, criterion: str = "equal_opportunity") -> Audit:
        """Thresholds equalising TPR (``"equal_opportunity"``) or selection rates (``"demographic_parity"``)
        for the shown attribute's groups, within ``tolerance``, as the buttons do; returns the audit."""
        criterion = check_choice(criterion, "criterion", CRITERIA)
        chosen = self._audit.fair_thresholds(criterion, self.attributes[self.attribute], tolerance=self.tolerance)
        with self._compute_lock:
            self._apply_thresholds(np.array(list(chosen.values())), DIRECT)
        return self._audit

    # -- static fallback ---------------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        from ..plotting.figure import png_of

        a = self._audit
        attribute = self.attributes[self.attribute]
        panels = 2 if a.kind == "classification" else 1
        n = len(a.groups_by[self.attribute].names)

        def draw(fig):
            axes = fig.subplots(1, panels, squeeze=False)[0]
            a.plot(ax=axes[0], metric=self.metric, attribute=attribute)
            if panels == 2:
                a.tradeoff(attribute).plot(ax=axes[1])
            fig.tight_layout()

        return png_of(draw, figsize=(5.6 * panels, max(3.6, 0.35 * n + 1.6)))


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _audit(model: Any, X: Any, y: Any, **options: Any) -> Audit:
    return audit(model, X, y, **options)


@shows(Audit)
def audit_view(result: Audit, **options: Any) -> FairnessAudit:
    """``audit.widget(**options)``: the interactive audit (its model is not called again)."""
    return FairnessAudit(audit=result, **options)


__all__ = ["CRITERIA", "FairnessAudit"]
