"""CounterfactualSliders: one slider per feature, a live prediction, a counterfactual search and a local explanation.

Drag a feature until the decision flips, or press "Find counterfactual" and the sliders move to the smallest
change nbexplain finds (:func:`~nbexplain.counterfactual`). Constraints are the search's: immutable features
are locked, sliders are bounded by the allowed ranges, integers and categories snap. Beside the sliders,
Shapley values (or LIME with its fidelity) of the current point update as it moves.

Requests (view -> kernel): ``predict`` {value, selected?}, ``explain`` {value}, ``find`` {n, sparse}. The
kernel projects every point onto the constraints before predicting, so a point outside them is never shown.

``result.widget()`` of a :class:`~nbexplain.CounterfactualResult` or a :class:`~nbexplain.TabularExplanation`
is this widget (registered with ``@shows``), at the explained row, with the model and data explained.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._deprecation import renamed
from .._registry import shows
from .._validation import check_choice, check_finite_array, check_int, check_keywords, check_options
from ..adapters.model import Model
from ..errors import Cancelled, InputError
from ..explain.counterfactual import CounterfactualResult, counterfactual
from ..explain.tabular import (
    TabularAnchor,
    TabularExplanation,
    anchor_tabular,
    lime_tabular,
    shapley_tabular,
)
from ..inputs.tables import as_row, as_table, tabular_model
from ..methods.counterfactual.space import FeatureSpace, feature_space, make_objective
from . import assets
from .base import DIRECT, ExplainerWidget, Request, RequestContext, field, handles
from .codec import array_serialization, decode_array
from .quality import CounterfactualQualityPanel  # issue 17: the quality panel
from .tables import answer_tables_trait, wants_tables

EXPLAINERS = ("shapley", "lime", "anchor", "none")
BINS = 24
#: positions of a slider over a continuous feature (its step is the range / SLIDER_STEPS); answer tables hold
#: at most SLIDER_STEPS + 1 positions per feature (an integer feature with a wider range moves on a coarser
#: grid in an exported page)
SLIDER_STEPS = 1000
#: explanation defaults sized for interactive updates
EXPLAINER_DEFAULTS = {"shapley": {"n_background": 50}, "lime": {"n_samples": 2000}, "anchor": {"max_samples": 20000, "beam_size": 2}}
#: what the widget itself decides for the explanation and the search (not options)
FIXED = ("model", "x", "data", "target", "feature_names", "class_names", "progress", "immutable", "ranges",
         "integer", "categorical")


def _keywords(fn) -> list[str]:
    """The keyword arguments ``fn`` takes that the widget leaves to its options."""
    return [k for k in inspect.signature(fn).parameters if k not in FIXED]


def _array(**kwargs):
    return traitlets.Any(None).tag(sync=True, **array_serialization, **kwargs)


class CounterfactualSliders(CounterfactualQualityPanel, ExplainerWidget):
    """Sliders over the features of one row, with the live prediction, counterfactuals and a local explanation.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    data : (N, F) array-like or DataFrame
        The reference rows (e.g. the training data): slider ranges and histograms, the distance's MAD
        scale, the explanation's background; was ``X_train``.
    x : (F,) array-like
        The original row.
    feature_names, class_names : optional names (shown as text, never as HTML).
    immutable, ranges, integer, categorical
        Constraints, as for :func:`~nbexplain.counterfactual`; sliders follow them (immutable ones are locked).
    target : int, str or None
        The class counterfactuals aim for and whose probability is explained; None: the most probable
        other class at ``x``.
    explainer : {"shapley", "lime", "none"}
        The local explanation shown beside the sliders.
    explainer_options : dict, optional
        Keyword arguments for :func:`~nbexplain.shapley_tabular` / :func:`~nbexplain.lime_tabular` /
        :func:`~nbexplain.anchor_tabular` (an anchor: the rule that keeps the prediction at the point).
    counterfactual_options : dict, optional
        Defaults for :meth:`find` (e.g. ``{"epsilon": 0.3}``).
    precompute : bool or None
        Build the answer tables (:meth:`precompute`) so the view answers slider moves without the kernel;
        None: only when the notebook is exported (:func:`nbexplain.export_html`).

    Examples
    --------
    >>> cf = nbx.CounterfactualSliders(clf, data.X, data.X[1], feature_names=data.feature_names,
    ...                                class_names=data.class_names, immutable=["Age"], integer=["Cards"])
    >>> cf                       # drag, or press "Find counterfactual"
    >>> result = cf.find(n=3)    # the same from Python: the sliders move to result.best.x
    >>> cf.value, cf.prediction
    """

    _esm = assets.view_esm("counterfactual")
    _css = assets.view_css("counterfactual")

    feature_names = traitlets.List([]).tag(sync=True)
    class_names = traitlets.List([]).tag(sync=True)
    #: per feature: {name, lower, upper, step, integer, categorical, immutable, categories, labels, scale}
    features = traitlets.List([]).tag(sync=True)
    histograms = _array()  # (F, bins) float32, each row scaled to max 1
    original = _array()  # (F,) float64
    value = _array()  # (F,) float64, the current point
    prediction = _array()  # (K,) float64 probabilities (regression: (1,) output)
    original_prediction = _array()
    kind = traitlets.Unicode("probability").tag(sync=True)
    target = traitlets.Int(0).tag(sync=True)
    desired = traitlets.Float(1.0).tag(sync=True)
    epsilon = traitlets.Float(0.45).tag(sync=True)
    counterfactuals = _array()  # (n, F) float64
    counterfactual_info = traitlets.List([]).tag(sync=True)  # [{valid, distance, n_changed, value}]
    selected = traitlets.Int(-1).tag(sync=True)  # index into counterfactuals, -1: none
    explainer = traitlets.Enum(EXPLAINERS, default_value="shapley").tag(sync=True)
    explanation_values = _array()  # (F,) float64
    explanation = traitlets.Dict({}).tag(sync=True)  # {label, base, prediction, fidelity, target_name}
    #: 1-D slices (see :meth:`precompute`): {bases (B,F), base_predictions (B,K), grid, offsets (F+1), steps (F,),
    #: predictions (B,P,K) float32}; None until built
    answer_tables = answer_tables_trait()
    table_answers: ClassVar[dict[str, str]] = {
        "predict": "the prediction along each feature's slider through the original row, the shown point and "
                   "each counterfactual found (1-D slices); a move of a second feature is extrapolated from "
                   "them and labelled approximate",
    }

    @renamed(X_train="data")
    def __init__(self, model: Any, data: Any, x: Any, *, feature_names: Any = None, class_names: Any = None,
                 immutable: Any = None, ranges: Any = None, integer: Any = None, categorical: Any = None,
                 target: Any = None, explainer: str = "shapley", explainer_options: dict | None = None,
                 counterfactual_options: dict | None = None, bins: int = BINS, precompute: bool | None = None,
                 **kwargs: Any):
        check_choice(explainer, "explainer", EXPLAINERS)
        self._tables_on = wants_tables(precompute)
        bins = check_int(bins, "bins", 2, 200)
        if np.ndim(data) == 1 and np.ndim(x) == 2:
            raise InputError("CounterfactualSliders takes (model, data, x): the reference rows first, then the "
                             f"row; got a 1-D data and a {np.shape(x)} x")
        self._table = as_table(data, feature_names, "data")
        self._data = data
        self._model: Model = tabular_model(model, self._table, class_names)
        xv = as_row(x, self._table)
        self._constraints = dict(immutable=immutable, ranges=ranges, integer=integer, categorical=categorical)
        self._space: FeatureSpace = feature_space(self._table, xv, **self._constraints)
        self._counterfactual_options = check_options(counterfactual_options, "counterfactual_options",
                                                     _keywords(counterfactual))
        for key in ("epsilon", "target_probability"):  # the objective's settings may also be given directly
            if key in kwargs:
                if key in self._counterfactual_options:
                    raise InputError(f"{key} is given twice: as a keyword and in counterfactual_options; pass one")
                self._counterfactual_options[key] = kwargs.pop(key)
        self._explainer_options = {k: dict(v) for k, v in EXPLAINER_DEFAULTS.items()}
        explain_with = {"shapley": shapley_tabular, "lime": lime_tabular, "anchor": anchor_tabular}
        for name, opts in (explainer_options or {}).items():
            if name not in explain_with:
                raise InputError(f"explainer_options keys must be 'shapley', 'lime' or 'anchor'; got {name!r}")
            opts = check_options(opts, f"explainer_options[{name!r}]", _keywords(explain_with[name]))
            self._explainer_options[name].update(opts)
        objective, scores = make_objective(self._model, xv, target,
                                           self._counterfactual_options.get("target_probability"),
                                           self._counterfactual_options.get("epsilon"))
        self._objective = objective
        self.result: CounterfactualResult | None = None
        self.explanation_result: TabularExplanation | None = None
        super().__init__(**kwargs)
        sp = self._space
        with self.hold_sync():
            self.feature_names = list(sp.feature_names)
            names = self._model.class_names
            n_out = len(self._probabilities(scores[None])[0])
            self.class_names = list(names) if names else ([f"class {k}" for k in range(n_out)]
                                                          if objective.kind == "probability" else ["prediction"])
            self.kind = objective.kind
            self.target = objective.target
            self.desired = objective.desired
            self.epsilon = objective.epsilon
            self.features = self._describe_features()
            self.histograms = self._histograms(int(bins))
            self.original = xv.copy()
            self.original_prediction = self._probabilities(scores[None])[0]
            self.explainer = explainer
            self._commit_point(xv, self.original_prediction)
        if explainer != "none":
            self._explain(xv, DIRECT)
        if self._tables_on:
            self.precompute()

    # -- construction helpers ------------------------------------------------------------------
    @classmethod
    @renamed(X_train="data")
    def from_result(cls, result: CounterfactualResult, model: Any = None, data: Any = None,
                    **kwargs: Any) -> CounterfactualSliders:
        """A widget at the result's original row with its counterfactuals listed (the first selected);
        ``model`` and ``data`` default to the ones the result was searched with."""
        model, data = _model_and_data(result, model, data)
        sp = result.space
        kwargs.setdefault("feature_names", result.feature_names)
        kwargs.setdefault("immutable", [int(j) for j in np.flatnonzero(~sp.mutable)])
        kwargs.setdefault("integer", [int(j) for j in np.flatnonzero(sp.integer)])
        def categories(j):  # labels when the codes are 0..k-1, else the allowed values
            cats = sp.categories[j]
            labelled = sp.category_labels[j] is not None and np.array_equal(cats, np.arange(len(cats)))
            return list(sp.category_labels[j]) if labelled else [float(c) for c in cats]

        kwargs.setdefault("categorical", {int(j): categories(j) for j in np.flatnonzero(sp.categorical)})
        kwargs.setdefault("ranges", {int(j): (float(sp.lower[j]), float(sp.upper[j])) for j in np.flatnonzero(~sp.categorical)})
        kwargs.setdefault("target", result.target if result.kind == "probability" else result.desired)
        kwargs.setdefault("class_names", result.class_names)
        widget = cls(model, data, result.original, **kwargs)
        widget._show_result(result, DIRECT)
        return widget

    def _describe_features(self) -> list[dict]:
        sp = self._space
        out = []
        for j, name in enumerate(sp.feature_names):
            cat = bool(sp.categorical[j])
            lo, hi = float(sp.lower[j]), float(sp.upper[j])
            if cat:
                cats = [float(c) for c in sp.categories[j]]
                lo, hi, step = cats[0], cats[-1], 1.0
            elif sp.integer[j]:
                step = 1.0
            else:
                step = float((hi - lo) / 1000) if hi > lo else 1.0
            out.append({
                "name": name, "lower": lo, "upper": hi, "step": step, "integer": bool(sp.integer[j]),
                "categorical": cat, "immutable": not bool(sp.mutable[j]),
                "categories": [float(c) for c in sp.categories[j]] if cat else None,
                "labels": list(sp.category_labels[j]) if cat else None, "scale": float(sp.scale[j]),
            })
        return out

    def _histograms(self, bins: int) -> np.ndarray:
        sp = self._space
        values = self._table.values
        n_cat = max([len(c) for c in sp.categories if c is not None] + [0])
        width = max(bins, n_cat)
        hist = np.zeros((sp.n_features, width), dtype=np.float32)
        for j in range(sp.n_features):
            if sp.categorical[j]:
                counts = np.array([(values[:, j] == c).sum() for c in sp.categories[j]], dtype=np.float64)
            else:
                lo, hi = sp.lower[j], sp.upper[j]
                counts, _ = np.histogram(values[:, j], bins=bins, range=(lo, hi if hi > lo else lo + 1))
            hist[j, :len(counts)] = counts / max(1.0, float(np.max(counts)))
        return hist

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        return scores[:, :1] if self._objective.kind == "regression" else self._model.to_probabilities(scores)

    # -- the current point ---------------------------------------------------------------------
    def _project(self, value: Any) -> np.ndarray:
        if isinstance(value, dict):  # an array from the view: {dtype, shape, buffer}
            value = decode_array(value)
        v = check_finite_array(value, "value").reshape(-1)
        if v.shape != (self._space.n_features,):
            raise InputError(f"value must have {self._space.n_features} features; got shape {np.shape(value)}")
        return self._space.project(v[None])[0]

    def _commit_point(self, v: np.ndarray, prediction: np.ndarray, selected: int | None = None) -> None:
        self.value = v.copy()
        self.prediction = np.asarray(prediction, dtype=np.float64).copy()
        if selected is not None:
            self.selected = int(selected)

    def _predict(self, value: Any, ctx: RequestContext, selected: int | None = None) -> np.ndarray:
        v = self._project(value)
        p = self._probabilities(self._model.predict(v[None]))[0]
        with self._applying(ctx):
            self._commit_point(v, p, selected)
        return v

    @handles("predict")
    def _on_predict(self, params: dict, ctx: RequestContext) -> dict:
        selected = params.get("selected")
        selected = None if selected is None else check_int(selected, "selected", -1)
        v = self._predict(field(params, "value"), ctx, selected)
        return {"value": v, "prediction": self.prediction, "selected": self.selected}

    @traitlets.validate("value")
    def _validate_value(self, proposal: dict) -> Any:
        if self._is_applying or proposal["value"] is None:
            return proposal["value"]
        return self._project(proposal["value"])

    @traitlets.observe("value")
    def _value_changed(self, change: dict) -> None:
        if self._is_applying or change["old"] is None:
            return
        with self._compute_lock:  # a point set from Python: predict (and explain) it
            p = self._probabilities(self._model.predict(self.value[None]))[0]
            with self._applying():
                self.prediction = p
                self.selected = -1
            if self.explainer != "none":
                self._explain(self.value, DIRECT)
            self._refresh_tables()

    # -- explanation ---------------------------------------------------------------------------
    def explain(self, value: Any = None) -> TabularExplanation | None:
        """The local explanation of ``value`` (default: the current point); also shown beside the sliders."""
        v = self.value if value is None else self._project(value)
        with self._compute_lock:
            return self._explain(v, DIRECT)

    def _explain(self, v: np.ndarray, ctx: RequestContext) -> TabularExplanation | None:
        if self.explainer == "none":
            with self._applying(ctx):
                self.explanation, self.explanation_values = {}, None
            return None
        dispatcher = self._dispatcher

        def progress(fraction: float) -> None:
            ctx.progress(fraction)
            if ctx is not DIRECT and dispatcher.superseded(Request(-1, "predict", {})):
                raise Cancelled("a newer point is waiting to be predicted")

        target = self._objective.target if self._objective.kind == "probability" else None
        options = dict(self._explainer_options[self.explainer])
        if self.explainer == "lime":
            options.setdefault("categorical", [int(j) for j in np.flatnonzero(self._space.categorical)])
        if self.explainer == "anchor":
            return self._explain_anchor(v, ctx, options, progress)
        explain = shapley_tabular if self.explainer == "shapley" else lime_tabular
        result = explain(self._model, v, self._table, target=target, progress=progress, **options)
        with self._applying(ctx):
            self.explanation_result = result
            self.explanation_values = result.values.astype(np.float64)
            self.explanation = {
                "method": result.method, "label": result.label, "base": result.base_value,
                "prediction": result.prediction, "target_name": result.target_name, "output": result.output,
                "output_label": result.output_label, "fidelity": result.fidelity,
                "n_evaluations": result.n_evaluations, "quality": result.quality(), "summary": result.summary(),
            }
        return result

    def _explain_anchor(self, v: np.ndarray, ctx: RequestContext, options: dict, progress) -> TabularAnchor:
        """The anchor of the point (the rule that keeps the class predicted there): its rule's term per feature."""
        options.setdefault("categorical", self._space.labels_by_code())
        result = anchor_tabular(self._model, v, self._table, progress=progress, **options)
        values = np.zeros(self._space.n_features)
        values[result.features] = 1.0
        with self._applying(ctx):
            self.explanation_result = result
            self.explanation_values = values
            self.explanation = {
                "method": "anchor", "label": "anchor", "rule": result.rule, "prediction": result.prediction,
                "terms": {str(j): term for j, term in zip(result.features, result.terms, strict=True)},
                "precision": result.precision, "coverage": result.coverage, "target_name": result.target_name,
                "output": "probability", "quality": result.quality(), "summary": result.summary(),
                "n_evaluations": result.n_samples,
            }
        return result

    @handles("explain")
    def _on_explain(self, params: dict, ctx: RequestContext) -> dict:
        if "explainer" in params:
            check_choice(params["explainer"], "explainer", EXPLAINERS)
            with self._applying(ctx):
                self.explainer = params["explainer"]
        v = self._project(params.get("value", self.value))
        self._explain(v, ctx)
        return {"values": self.explanation_values, "explanation": self.explanation}

    @traitlets.observe("explainer")
    def _explainer_changed(self, change: dict) -> None:
        if self._is_applying or self.value is None:
            return
        with self._compute_lock:
            self._explain(self.value, DIRECT)

    # -- counterfactuals -----------------------------------------------------------------------
    def find(self, n: int | None = None, *, sparse: bool | None = None, **options: Any) -> CounterfactualResult:
        """Search counterfactuals of the original row; the sliders move to the first. Returns the result.

        Keyword options go to :func:`~nbexplain.counterfactual` (``epsilon``, ``target_probability``,
        ``method``, ``seed``); the constraints are the widget's.
        """
        with self._compute_lock:
            return self._find(n, sparse, options, DIRECT)

    def _find(self, n: Any, sparse: Any, options: dict, ctx: RequestContext) -> CounterfactualResult:
        opts = {**self._counterfactual_options, **options}
        if n is not None:
            opts["n"] = n
        if sparse is not None:
            opts["sparse"] = sparse
        for bad in ("immutable", "ranges", "integer", "categorical", "target"):
            if bad in opts:
                raise InputError(f"{bad} is fixed when the widget is made; make a new CounterfactualSliders to change it")
        check_keywords(opts, _keywords(counterfactual), "CounterfactualSliders.find()")
        target = self._objective.target if self._objective.kind == "probability" else self._objective.desired
        result = counterfactual(self._model, self.original, self._table, target, progress=ctx.progress,
                                **self._constraints, **opts)
        self._show_result(result, ctx)
        return result

    def _show_result(self, result: CounterfactualResult, ctx: RequestContext) -> None:
        rows = np.array([c.x for c in result.counterfactuals])
        best = result.counterfactuals[0]
        with self._applying(ctx):
            self.result = result
            self.counterfactuals = rows
            self.counterfactual_info = [
                {"valid": c.valid, "distance": c.distance, "n_changed": c.n_changed, "value": c.value,
                 "loss": c.loss, "changed": [int(j) for j in np.flatnonzero(c.changed)]}
                for c in result.counterfactuals]
            pred = best.prediction if result.kind == "probability" else best.prediction[:1]
            self._commit_point(best.x, pred, 0)
        self._refresh_tables()
        if self.explainer != "none":
            try:
                self._explain(best.x, ctx)
            except Cancelled:
                pass

    @handles("find")
    def _on_find(self, params: dict, ctx: RequestContext) -> dict:
        n = params.get("n")
        self._find(None if n is None else check_int(n, "n", 1), params.get("sparse"), {}, ctx)
        return {"value": self.value, "prediction": self.prediction}

    def select(self, index: int) -> np.ndarray:
        """Move the sliders to counterfactual ``index`` of the last search; returns the point."""
        if self.counterfactuals is None:
            raise InputError("no counterfactuals yet: call find() first")
        n = len(self.counterfactuals)
        index = check_int(index, "index", -n, n - 1)
        with self._compute_lock:
            v = self._predict(self.counterfactuals[int(index) % n], DIRECT, int(index) % n)
            if self.explainer != "none":
                self._explain(v, DIRECT)
            self._refresh_tables()
        return v

    def reset(self) -> None:
        """Back to the original row."""
        with self._compute_lock:
            self._predict(self.original, DIRECT, -1)
            if self.explainer != "none":
                self._explain(self.original, DIRECT)
            self._refresh_tables()

    # -- answer tables (the view answers slider moves without the kernel) ------------------------
    def precompute(self) -> None:
        """Compute the model's prediction along every slider through the original row, the shown point and
        each counterfactual found (1-D slices), so that the view answers a slider move from a table: at once
        in a live session, and without a kernel in an exported page (where moving a second feature shows an
        extrapolation labelled approximate). Kept up to date when Python moves the point or finds
        counterfactuals."""
        with self._compute_lock:
            self._tables_on = True
            tables = self._slices()
            with self._applying():
                self.answer_tables = tables

    def _refresh_tables(self) -> None:
        if self._tables_on:
            self.precompute()

    def slider_grid(self, j: int) -> tuple[np.ndarray, float]:
        """The values feature ``j``'s slider can take in a table (and its step): categories, or a grid of at
        most ``SLIDER_STEPS + 1`` values from its lower to its upper bound; empty for a locked feature."""
        f = self.features[j]
        if f["immutable"] or f["upper"] == f["lower"]:
            return np.zeros(0), 0.0
        if f["categorical"]:
            return np.asarray(f["categories"], dtype=np.float64), 1.0
        lo, hi, step = f["lower"], f["upper"], f["step"]
        if f["integer"] and hi - lo > SLIDER_STEPS:
            step = float(np.ceil((hi - lo) / SLIDER_STEPS))
        n = int(np.floor((hi - lo) / step + 1e-9))
        return lo + np.arange(n + 1) * step, float(step)

    def _slices(self) -> dict:
        sp = self._space
        candidates = [self.original, self.value]
        if self.counterfactuals is not None:
            candidates += list(self.counterfactuals)
        bases: list[np.ndarray] = []
        for c in candidates:
            c = sp.project(np.asarray(c, dtype=np.float64)[None])[0]
            if not any(np.array_equal(c, b) for b in bases):
                bases.append(c)
        grids = [self.slider_grid(j) for j in range(sp.n_features)]
        offsets = np.cumsum([0] + [len(g) for g, _ in grids])
        rows = []
        for base in bases:
            for j, (grid, _) in enumerate(grids):
                block = np.repeat(base[None], len(grid), axis=0)
                block[:, j] = grid
                rows.append(block)
        points = sp.project(np.concatenate(rows)) if offsets[-1] else np.zeros((0, sp.n_features))
        base_rows = np.array(bases)
        predictions = self._probabilities(self._model.predict(points)) if len(points) else np.zeros((0, 1))
        base_predictions = self._probabilities(self._model.predict(base_rows))
        k = base_predictions.shape[1]
        return {
            "bases": base_rows,
            "base_predictions": base_predictions.astype(np.float64),
            "grid": np.concatenate([g for g, _ in grids]).astype(np.float64) if offsets[-1] else np.zeros(0),
            "offsets": offsets.astype(np.int32),
            "steps": np.array([s for _, s in grids], dtype=np.float64),
            "predictions": predictions.reshape(len(bases), int(offsets[-1]), k).astype(np.float32),
        }

    # -- static fallback -----------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        from ..plotting.figure import png_of
        from ..plotting.tabular import draw_slider_state

        change = (self.value - self.original) / np.array([f["scale"] for f in self.features])
        return png_of(lambda fig: draw_slider_state(
            fig, class_names=self.class_names, prediction=self.prediction, probability=self.kind == "probability",
            feature_names=self.feature_names, value=self.value, change=change),
            figsize=(8, 0.25 * len(self.feature_names) + 1.5))


def _model_and_data(result: Any, model: Any, data: Any) -> tuple[Any, Any]:
    model = model if model is not None else result._model
    data = data if data is not None else result._data
    if model is None or data is None:
        raise InputError(f"this {type(result).__name__} holds no model or data; pass model= and data=")
    return model, data


@shows(CounterfactualResult, TabularExplanation, TabularAnchor)
@renamed(X_train="data")
def show(result: CounterfactualResult | TabularExplanation | TabularAnchor, *, model: Any = None, data: Any = None,
         **options: Any) -> CounterfactualSliders:
    """``result.widget(**options)``: sliders at the explained row, with the counterfactuals listed (a
    CounterfactualResult) or this kind of explanation updating as the row moves (a TabularExplanation)."""
    if isinstance(result, CounterfactualResult):
        return CounterfactualSliders.from_result(result, model, data, **options)
    model, data = _model_and_data(result, model, data)
    options.setdefault("explainer", result.method if result.method in ("lime", "anchor") else "shapley")
    options.setdefault("feature_names", result.feature_names)
    options.setdefault("class_names", result.class_names)
    return CounterfactualSliders(model, data, result.x, **options)
