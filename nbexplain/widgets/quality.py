"""The quality panel every explanation view carries: "can we trust this explanation?", computed on request.

A widget mixes in :class:`QualityPanel`, says which checks its view offers (``quality_checks``: buttons), and
writes :meth:`QualityPanel._quality_report` (which front door computes which check, for the explanation on
screen). The view's panel (``nbxQualityPanel`` in ``js/_shared.js``) sends ``quality {check}``; the report's
lines and plots come back in ``quality_panel`` and ``quality_curves`` (arrays as binary buffers). The text is
the results' own (``quality()`` lines of :mod:`nbexplain.explain.trust`); nothing is formatted here.

What the panel describes follows the widget's state: when one of ``_quality_follows`` changes (another
method, class, explanation or point), the panel is cleared (a view with the panel open asks again), and a
report computed for a state that changed meanwhile is never committed. A quality computation gives way to
any other request of the widget (a new method, a slider move): it is cancelled and answered "superseded".
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets

from .._validation import check_choice, check_options
from ..errors import Cancelled, InputError
from ..explain.superpixels import (
    Anchor,
    LimeImage,
    ShapleyImage,
    anchor_image,
    lime_image,
    shapley_image,
)
from ..explain.tabular import anchor_tabular, lime_tabular, shapley_tabular
from ..explain.trust import (
    RANKINGS,
    MethodRanking,
    QualityReport,
    counterfactual_quality,
    explanation_quality,
    pixel_quality,
    rank_methods,
)
from .base import DIRECT, ExplainerWidget, Request, RequestContext, handles
from .codec import array_serialization

#: seeds a widget's stability check runs (the front door's default)
QUALITY_SEEDS = 10
#: what ``compare(..., rank_options=...)`` may set (keywords of :func:`~nbexplain.explain.trust.rank_methods`)
RANK_OPTIONS = ("steps", "baseline", "n_perturbations", "n_samples", "seed")


def panel_arrays(report: QualityReport) -> tuple[dict, np.ndarray | None]:
    """The ``quality_panel`` dict and the ``quality_curves`` array (R, N) float32 of ``report``: for each plot
    a row of x then one row per curve, NaN-padded to the longest; plots refer to their rows."""
    rows: list[np.ndarray] = []
    plots = []
    for p in report.plots:
        plots.append({"title": p.title, "x_row": len(rows), "rows": [len(rows) + 1 + i for i in range(len(p.ys))],
                      "labels": list(p.labels), "x_label": p.x_label, "y_label": p.y_label})
        rows.append(np.asarray(p.x, dtype=np.float64))
        rows.extend(np.asarray(y, dtype=np.float64) for y in p.ys)
    curves = None
    if rows:
        width = max(len(r) for r in rows)
        curves = np.full((len(rows), width), np.nan, dtype=np.float32)
        for i, r in enumerate(rows):
            curves[i, :len(r)] = r
    return {"title": report.title, "lines": list(report.lines), "plots": plots}, curves


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is b or (a is not None and b is not None and np.array_equal(a, b))
    return a == b


class QualityPanel(ExplainerWidget):
    """Mixin of explanation widgets: a quality panel, computed on request with progress (see module docstring).

    Subclasses set ``_quality_follows`` (the traits whose change makes the panel stale) and
    ``quality_checks`` (``[{name, label}]``, the view's buttons), and write ``_quality_report(check, progress)``.
    """

    quality_panel = traitlets.Dict({}).tag(sync=True)  # {check, title, lines, plots: [{title, x_row, rows, ...}]}
    quality_curves = traitlets.Any(None).tag(sync=True, **array_serialization)  # (R, N) float32
    quality_checks = traitlets.List([]).tag(sync=True)  # [{name, label}]
    _quality_follows: ClassVar[tuple[str, ...]] = ()

    #: the report on screen (None until a check ran)
    quality_report: QualityReport | None = None

    def _quality_report(self, check: str, progress) -> QualityReport:  # pragma: no cover - each widget writes it
        raise NotImplementedError

    def _quality_state(self) -> list:
        return [getattr(self, name) for name in self._quality_follows]

    def check_quality(self, check: str | None = None) -> QualityReport:
        """Run the quality ``check`` (default: the first the view offers) for the explanation on screen; the
        panel shows it. Returns the :class:`~nbexplain.explain.trust.QualityReport`."""
        with self._compute_lock:
            return self._run_quality(check, DIRECT)

    def _run_quality(self, check: Any, ctx: RequestContext) -> QualityReport:
        names = [c["name"] for c in self.quality_checks]
        check = names[0] if check is None and names else check_choice(check, "check", names)
        state = self._quality_state()
        dispatcher, others = self._dispatcher, [a for a in self._handlers if a != "quality"]

        def progress(fraction: float) -> None:
            ctx.progress(fraction)
            if ctx is not DIRECT and any(dispatcher.superseded(Request(-1, a, {})) for a in others):
                raise Cancelled("another request of this widget is waiting: the quality check gives way")

        report = self._quality_report(check, progress)
        if not all(_same(a, b) for a, b in zip(state, self._quality_state(), strict=True)):
            raise Cancelled("the explanation changed while its quality was computed")
        panel, curves = panel_arrays(report)
        with self._applying(ctx):
            self.quality_report = report
            self.quality_panel = {"check": check, **panel}
            self.quality_curves = curves
        return report

    @handles("quality")
    def _on_quality(self, params: dict, ctx: RequestContext) -> dict:
        self._run_quality(params.get("check"), ctx)
        return {"check": self.quality_panel.get("check")}

    def _clear_quality(self, change: dict | None = None) -> None:
        if self.quality_panel or self.quality_curves is not None:
            self.quality_report = None
            self.quality_panel = {}
            self.quality_curves = None

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if self._quality_follows:
            self.observe(self._clear_quality, names=list(self._quality_follows))


# -- the panels of the explanation views ---------------------------------------------------------------------------
class PixelQualityPanel(QualityPanel):
    """The Heatmap's panel: faithfulness (deletion/insertion areas, infidelity), robustness under noise,
    stability across seeds (SmoothGrad), and the sanity check of the method on screen; a sanity check once
    computed for a method and class adds its verdict to the later reports. Needs ``result``, ``_model`` and
    ``_image`` (an attribution view)."""

    _quality_follows = ("method", "target")
    RUNS: ClassVar[dict[str, tuple[str, ...]]] = {"faithfulness": ("faithfulness", "robustness", "stability"),
                                                   "sanity": ("sanity",)}

    @traitlets.default("quality_checks")
    def _offered_checks(self) -> list[dict]:
        if getattr(self, "_model", None) is None:
            return []
        return [{"name": "faithfulness", "label": "faithfulness & robustness"},
                {"name": "sanity", "label": "sanity check"}]

    @property
    def sanity_checks(self) -> dict:
        """The sanity checks computed in this widget, by (method, target)."""
        return self.__dict__.setdefault("_sanity_checks", {})

    def _quality_report(self, check: str, progress) -> QualityReport:
        result = self.result
        if result is None or self._model is None:
            raise InputError("the quality panel needs a model and a map: this view was made from a result alone")
        key = (result.method, result.target)
        report = pixel_quality(self._model, self._image, result, checks=self.RUNS[check],
                               sanity=self.sanity_checks.get(key), n_seeds=QUALITY_SEEDS, progress=progress)
        if "sanity" in report.parts:
            self.sanity_checks[key] = report.parts["sanity"]
        return report


class SuperpixelQualityPanel(QualityPanel):
    """The SuperpixelExplorer's panel: the explanation's own quality (fidelity, efficiency gap, precision),
    its deletion/insertion areas, and its stability across seeds (LIME, sampled Shapley values, anchors; exact
    Shapley values are deterministic). Needs ``result``, ``curves``, ``_game`` and ``explain_options``."""

    _quality_follows = ("overlay_info",)

    @traitlets.default("quality_checks")
    def _offered_checks(self) -> list[dict]:
        return [{"name": "stability", "label": f"stability across {QUALITY_SEEDS} seeds"}]

    def _quality_report(self, check: str, progress) -> QualityReport:
        result, game = self.result, getattr(self, "_game", None)
        if result is None or game is None:
            raise InputError("explain first (LIME, Shapley or Anchor): the panel checks the explanation on screen")
        deterministic, rerun, top_k = False, None, None
        if isinstance(result, LimeImage):
            opts = {**self.explain_options.get("lime", {}), "n_samples": len(result.coalitions),
                    "kernel_width": result.kernel_width}
            opts.pop("seed", None)
            rerun = lambda seed: lime_image(game, seed=seed, progress=False, **opts)  # noqa: E731
        elif isinstance(result, ShapleyImage):
            deterministic = result.method == "exact"
            opts = {k: v for k, v in self.explain_options.get("shapley", {}).items() if k != "seed"}
            opts["method"] = result.method
            rerun = lambda seed: shapley_image(game, seed=seed, progress=False, **opts)  # noqa: E731
        elif isinstance(result, Anchor):
            opts = {k: v for k, v in self.explain_options.get("anchor", {}).items() if k != "seed"}
            rerun = lambda seed: anchor_image(game, seed=seed, progress=False, **opts)  # noqa: E731
            top_k = max(1, len(result.anchor))
        report = explanation_quality(result, rerun, n_seeds=QUALITY_SEEDS, top_k=top_k, deterministic=deterministic,
                                     progress=progress)
        curves = getattr(self, "curves", None)
        if curves is not None and curves is not result:
            report.lines += curves.quality()
        return report


class CounterfactualQualityPanel(QualityPanel):
    """CounterfactualSliders' panel: the shown point's (a selected counterfactual's) validity, sparsity,
    proximity and plausibility, and the local explanation's quality and stability across seeds."""

    _quality_follows = ("value", "selected")

    @traitlets.default("quality_checks")
    def _offered_checks(self) -> list[dict]:
        return [{"name": "plausibility", "label": "validity & plausibility"},
                {"name": "stability", "label": "explanation stability"}]

    def _quality_report(self, check: str, progress) -> QualityReport:
        sp, objective = self._space, self._objective
        selected, result = int(self.selected), self.result
        if result is not None and 0 <= selected < len(result.counterfactuals) and np.array_equal(
                result.counterfactuals[selected].x, self.value):
            points, index, extra = result, selected, {}
        else:  # the point the sliders show
            v = np.asarray(self.value, dtype=np.float64)[None]
            f = self.prediction[objective.target if objective.kind == "probability" else 0]
            points, index = v, 0
            extra = {"categorical": [int(j) for j in np.flatnonzero(sp.categorical)], "scale": sp.scale,
                     "valid": [bool(objective.valid(np.array([f]))[0])], "n_changed": [int(sp.changed(v)[0].sum())],
                     "distance": [float(sp.distance(v)[0])], "feature_names": list(sp.feature_names)}
        explanation = rerun = top_k = None
        deterministic = False
        if check == "stability":
            explanation = self.explanation_result
            if explanation is None:
                raise InputError("no explanation is shown: choose Shapley values or LIME first")
            # exact Shapley values vary with the seed only through the background rows sampled from the data
            n_background = self._explainer_options.get("shapley", {}).get("n_background", 100)
            deterministic = getattr(explanation, "method", None) == "exact" and (
                n_background is None or self._table.n_rows <= n_background)
            rerun, top_k = self._rerun_explanation(explanation)
        return counterfactual_quality(points, self._table.values if points is not result else self._data,
                                      index=index, explanation=explanation, rerun=rerun, deterministic=deterministic,
                                      top_k=top_k, n_seeds=QUALITY_SEEDS, progress=progress, **extra)

    def _rerun_explanation(self, explanation) -> tuple:
        """``(rerun(seed), top_k)``: the explanation shown, computed again with another seed (an anchor as the
        mask of its features, compared over as many features as it holds)."""
        sp, x = self._space, explanation.x
        options = {k: v for k, v in self._explainer_options[self.explainer].items() if k != "seed"}
        target = self._objective.target if self._objective.kind == "probability" else None
        if self.explainer == "anchor":  # the categories as the view's anchor names them
            options.setdefault("categorical", sp.labels_by_code())

            def mask(seed: int) -> np.ndarray:
                found = anchor_tabular(self._model, x, self._table, seed=seed, progress=False, **options)
                out = np.zeros(sp.n_features)
                out[list(found.features)] = 1.0
                return out

            return mask, max(1, len(explanation.features))
        if self.explainer == "lime":
            options.setdefault("categorical", [int(j) for j in np.flatnonzero(sp.categorical)])
            return (lambda seed: lime_tabular(self._model, x, self._table, target=target, seed=seed, progress=False,
                                              **options)), None
        options["method"] = explanation.method
        return (lambda seed: shapley_tabular(self._model, x, self._table, target=target, seed=seed, progress=False,
                                             **options)), None


class RankedComparison(ExplainerWidget):
    """``nbx.compare(..., rank_by=..., rank_options=...)``: the Comparison's methods ordered best first by a
    faithfulness or robustness measure (:func:`~nbexplain.explain.trust.rank_methods`, with ``rank_options``),
    each title with its value; the ranking is ``widget.ranking``. Needs ``rank_by`` (None: as given),
    ``_model`` and ``_image``."""

    rank_by: str | None = None
    rank_options: dict | None = None
    #: the last ranking (None without ``rank_by``)
    ranking: MethodRanking | None = None

    def _check_rank_by(self, rank_by: Any, rank_options: Any = None) -> tuple[str | None, dict]:
        """``rank_by`` (a key of RANKINGS or None) and ``rank_options`` (keywords of ``rank_methods``: ``steps``,
        ``baseline``, ``n_perturbations``, ``n_samples``, ``seed``)."""
        by = None if rank_by is None else check_choice(rank_by, "rank_by", list(RANKINGS))
        options = check_options(rank_options, "rank_options", RANK_OPTIONS)
        if options and by is None:
            raise InputError("rank_options are for rank_by=...: say what to rank the methods by")
        return by, options

    def _ranked(self, result: Any, progress=None) -> Any:
        """``result`` (a pixel Comparison) with its maps in ranking order (as it is without ``rank_by``)."""
        if self.rank_by is None:
            self.ranking = None
            return result
        ranking = rank_methods(self._model, self._image, results=result.results, by=self.rank_by,
                               progress=progress if progress is not None else False, **(self.rank_options or {}))
        order = [next(r for r in result.results if r.method == m) for m in ranking.methods]
        self.ranking = ranking
        self.method_names = list(ranking.methods)  # later recomputations (another class) keep this order
        return type(result)(order)

    def _ranked_titles(self, result: Any) -> list[str]:
        if self.ranking is None:
            return [r.label for r in result.results]
        return [f"#{i + 1} {r.label} ({self.ranking.by} {self.ranking.value(r.method):.3g})"
                for i, r in enumerate(result.results)]


__all__ = ["CounterfactualQualityPanel", "PixelQualityPanel", "QualityPanel", "RankedComparison",
           "SuperpixelQualityPanel", "panel_arrays"]
