"""Heatmap and Comparison widgets: attribution maps over the image, recomputed in the kernel on demand.

They show the results of :func:`nbexplain.attribute` and :func:`nbexplain.attribute_many` (and are what
``AttributionMap.widget()`` / ``Comparison.widget()`` return); every number comes from the front door.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from .._validation import check_choice, check_options
from ..adapters.model import as_model
from ..errors import InputError
from ..explain.pixel import (
    METHODS,
    AttributionMap,
    attribute,
    attribute_many,
    check_method,
    check_methods,
    method_options,
)
from ..explain.pixel import Comparison as ComparisonResult
from ..inputs.images import as_image, fit_channels, model_channels
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, handles
from .codec import array_serialization
from .display import page_image, page_maps
from .quality import PixelQualityPanel, RankedComparison
from .tables import answer_tables_trait, colour_index, half, wants_tables

COLORMAPS = ("auto", "magma", "viridis", "RdBu", "gray")
TOP_K = 5
DEFAULT_METHODS = ("gradient", "rectified", "integrated_gradients", "gradcam", "occlusion")


def class_choices(probabilities: np.ndarray, class_names: list[str] | None, target: int, k: int = TOP_K) -> list[dict]:
    """The top-``k`` classes (plus ``target`` when outside them) as ``{index, name, probability}``."""
    order = [int(i) for i in np.argsort(-probabilities)[:k]]
    if target not in order:
        order.append(int(target))

    def name(i: int) -> str:
        return str(class_names[i]) if class_names is not None and i < len(class_names) else f"class {i}"

    return [{"index": i, "name": name(i), "probability": float(probabilities[i])} for i in order]


class _AttributionView(ExplainerWidget):
    """Traits shared by the single and the comparison view (one JavaScript view draws both)."""

    _esm = assets.view_esm("heatmap")
    _css = assets.view_css("heatmap")
    #: how the maps are drawn is the view's to change; what is computed goes through requests
    _view_writes: ClassVar[frozenset[str]] = frozenset({"opacity", "colormap", "arrangement"})

    image = traitlets.Any(None).tag(sync=True, **array_serialization)
    maps = traitlets.Any(None).tag(sync=True, **array_serialization)  # (K, H, W) float32
    limits = traitlets.List([]).tag(sync=True)  # per map [low, high] of the colour scale
    signed = traitlets.List([]).tag(sync=True)
    titles = traitlets.List([]).tag(sync=True)
    scale_label = traitlets.Unicode("").tag(sync=True)
    classes = traitlets.List([]).tag(sync=True)
    target = traitlets.Int(0).tag(sync=True)
    opacity = traitlets.Float(0.6, min=0.0, max=1.0).tag(sync=True)
    colormap = traitlets.Enum(COLORMAPS, default_value="auto").tag(sync=True)
    # not "layout": that name is ipywidgets' Layout model on every DOMWidget (the front end would try to
    # render the string as a child view)
    arrangement = traitlets.Enum(("overlay", "side-by-side"), default_value="overlay").tag(sync=True)
    display_size = traitlets.Int(320, min=32).tag(sync=True)
    interactive = traitlets.Bool(True).tag(sync=True)  # False when there is no model to recompute with
    #: every method x the offered classes (see :meth:`precompute`): {kind, methods, classes, titles, index
    #: (methods, classes, H, W) uint8 colour indices, values (same) float16 bits, limits (methods, classes, 2),
    #: known (methods, classes) uint8}; None until built
    answer_tables = answer_tables_trait()
    table_answers: ClassVar[dict[str, str]] = {
        "attribute": "every method offered x the offered (top-k) classes: maps as colour indices for display "
                     "and float16 values for the hover read-out",
    }

    def __init__(self, model: Any, image: Any, *, class_names: Any = None, options: Any = None,
                 precompute: Any = None, **kwargs: Any):
        self._tables_on = wants_tables(precompute)
        if model is None and kwargs.get("interactive") is False:  # a static view of results (from_result)
            self._model, self._image, self.options = None, None, {}
        else:
            self._model = as_model(model, class_names=class_names)
            self._image = fit_channels(as_image(image), model_channels(self._model))
            options = check_options(options, "options", METHODS)
            self.options = {m: method_options(m, o) for m, o in options.items()}
        super().__init__(**kwargs)

    def _static_png(self) -> bytes | None:
        return self.result._repr_png_() if self.result is not None else None

    # -- answer tables (the view switches method and class without the kernel) ----------------------
    def precompute(self) -> None:
        """Compute the map of every method for every offered class (the top-k and the target), so the view
        switches method and class from tables: at once in a live session, and without a kernel in an
        exported page. Maps are kept at display size, as colour indices (what is drawn, exactly) and as
        float16 values (the hover read-out). Rebuilt when the offered classes change."""
        if self._model is None:
            raise InputError("precompute needs a model: this view was made from results alone")
        with self._compute_lock:
            self._tables_on = True
            self._build_tables()

    def _refresh_tables(self) -> None:
        offered = [c["index"] for c in self.classes]
        if self._tables_on and (self.answer_tables is None or self.answer_tables["classes"] != offered):
            self._build_tables()

    def _build_tables(self) -> None:
        classes = [c["index"] for c in self.classes]
        methods, titles = self._table_methods()
        columns = [self._maps_for_class(c) for c in classes]  # per class: per method (page map, limits) or None
        shape = next(m.shape for column in columns for entry in column if entry is not None for m in entry[:1])
        index = np.zeros((len(methods), len(classes), *shape), np.uint8)
        values = np.zeros((len(methods), len(classes), *shape), np.uint16)
        limits = np.zeros((len(methods), len(classes), 2))
        known = np.zeros((len(methods), len(classes)), np.uint8)
        signed = [True] * len(methods)
        for j, column in enumerate(columns):
            for i, entry in enumerate(column):
                if entry is None:  # this method failed for this class: the view asks the kernel
                    continue
                page, (lo, hi), signed[i] = entry
                index[i, j], values[i, j], limits[i, j], known[i, j] = colour_index(page, lo, hi), half(page), (lo, hi), 1
        with self._applying():
            self.answer_tables = {"kind": self._table_kind, "methods": methods, "classes": classes, "titles": titles,
                                  "signed": signed, "index": index, "values": values, "limits": limits, "known": known}


class Heatmap(_AttributionView, PixelQualityPanel):
    """An image with an attribution heatmap; switch method, target class, opacity, colormap and arrangement.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
        The classifier (gradient methods need a torch module).
    image : array, PIL image or path
        As for :func:`nbexplain.attribute`.
    method : str
        The first method shown; the view offers every method the model supports.
    target : int, str or None
        Class to explain; None is the predicted class. The view offers the top-5 classes.
    options : dict, optional
        Per-method options, e.g. ``{"occlusion": {"window": 16}}``.

    Examples
    --------
    >>> hm = nbx.Heatmap(model, image, method="gradient")
    >>> hm.method = "occlusion"   # recomputes; the view follows
    >>> hm.result.map.shape
    """

    method = traitlets.Unicode("gradient").tag(sync=True)
    methods = traitlets.List([]).tag(sync=True)  # [{name, label}] offered in the view

    def __init__(self, model: Any, image: Any, method: str = "gradient", target: Any = None, *,
                 options: dict[str, dict] | None = None, **kwargs: Any):
        super().__init__(model, image, options=options, **kwargs)
        self.result: AttributionMap | None = None
        if self._model is not None:
            self.methods = [{"name": m.name, "label": m.label} for m in METHODS.values()
                            if self._model.differentiable or not m.gradient]
            self._recompute(method, target, DIRECT)  # builds the answer tables too, when asked for

    _table_kind = "single"

    def _table_methods(self) -> tuple[list[str], list[str]]:
        return [m["name"] for m in self.methods], [m["label"] for m in self.methods]

    def _maps_for_class(self, target: int) -> list:
        out = []
        for m in self._table_methods()[0]:
            try:
                r = self.result if (m, target) == (self.result.method, self.result.target) else attribute(
                    self._model, self._image, m, target, **self.options.get(m, {}))
            except Exception:  # e.g. a method this model cannot run: left to the kernel (which says why)
                out.append(None)
                continue
            out.append((page_maps(r.map[None].astype(np.float32))[0], r.limits(), bool(r.signed)))
        return out

    @classmethod
    def from_result(cls, result: AttributionMap, model: Any = None, **kwargs: Any) -> Heatmap:
        """A heatmap showing ``result``; it recomputes on interaction only when ``model`` is given."""
        if model is not None:
            return cls(model, result.image, method=result.method, target=result.target,
                       options={result.method: result.options}, **kwargs)
        widget = cls(None, None, interactive=False, **kwargs)
        widget.methods = [{"name": result.method, "label": result.label}]
        with widget._applying():
            widget._show(result)
        return widget

    def _recompute(self, method: str, target: Any, ctx: RequestContext) -> AttributionMap:
        if self._model is None:
            raise InputError("this heatmap was made from a result without a model; pass model= to recompute")
        result = attribute(self._model, self._image, method, target, progress=ctx.progress,
                           **self.options.get(method, {}))
        with self._applying(ctx):
            self._show(result)
        self._refresh_tables()
        return result

    def _show(self, result: AttributionMap) -> None:
        self.result = result
        self.image = page_image(result.image)  # a display-sized copy: full resolution stays in the kernel
        self.maps = page_maps(result.map[None].astype(np.float32))
        self.limits = [list(result.limits())]
        self.signed = [bool(result.signed)]
        self.titles = [result.label]
        self.scale_label = "attribution"
        self.classes = class_choices(result.probabilities, result.class_names, result.target)
        self.method = result.method
        self.target = result.target

    @handles("attribute")
    def _on_attribute(self, params: dict, ctx: RequestContext) -> dict:
        method = check_choice(params.get("method", self.method), "method", [m["name"] for m in self.methods])
        self._recompute(method, params.get("target", self.target), ctx)
        return {}

    @traitlets.observe("method", "target")
    def _python_changed(self, change: dict) -> None:
        if self._is_applying or self._model is None or self.result is None:
            return
        with self._compute_lock:
            method = self.method if change["name"] == "method" else self.result.method
            target = self.target if change["name"] == "target" else self.result.target
            try:
                self._recompute(method, target, DIRECT)
            except Exception:
                with self._applying():  # keep the traits true to what is shown
                    self.method, self.target = self.result.method, self.result.target
                raise


class Comparison(_AttributionView, RankedComparison):
    """Several attribution methods side by side on one shared colour scale (each map normalised).

    Methods disagree (the survey's point); normalising each map by its 99th percentile of |value| puts
    them on one diverging scale from -1 to 1. Changing the target class recomputes every method.
    """

    def __init__(self, model: Any, image: Any, methods=DEFAULT_METHODS, target: Any = None, *,
                 options: dict[str, dict] | None = None, rank_by: str | None = None,
                 rank_options: dict | None = None, **kwargs: Any):
        kwargs.setdefault("display_size", 200)
        self.rank_by, self.rank_options = self._check_rank_by(rank_by, rank_options)  # issue 17: best first
        super().__init__(model, image, options=options, **kwargs)
        self.method_names = check_methods(methods)
        self.result: ComparisonResult | None = None
        if self._model is not None:
            for m in self.method_names:
                check_method(m, self._model, self.options.get(m, {}))
            self._recompute(target, DIRECT)  # builds the answer tables too, when asked for

    _table_kind = "comparison"

    def _table_methods(self) -> tuple[list[str], list[str]]:
        return list(self.method_names), [METHODS[m].label for m in self.method_names]

    def _maps_for_class(self, target: int) -> list:
        if target == self.result.results[0].target:
            result = self.result
        else:
            options = {m: o for m, o in self.options.items() if m in self.method_names}
            result = attribute_many(self._model, self._image, self.method_names, target, options=options)
        return [(page_maps(r.map[None].astype(np.float32))[0], lim, True)  # compared maps share one signed scale
                for r, lim in zip(result.results, result.limits(), strict=True)]

    @classmethod
    def from_results(cls, results: list[AttributionMap], model: Any = None, **kwargs: Any) -> Comparison:
        """A comparison showing ``results`` (recomputed on interaction only when ``model`` is given)."""
        if model is not None:
            return cls(model, results[0].image, [r.method for r in results], results[0].target,
                       options={r.method: r.options for r in results}, **kwargs)
        widget = cls(None, None, methods=[r.method for r in results], interactive=False, **kwargs)
        with widget._applying():
            widget._show(ComparisonResult(list(results)))
        return widget

    def _recompute(self, target: Any, ctx: RequestContext) -> ComparisonResult:
        options = {m: o for m, o in self.options.items() if m in self.method_names}
        result = attribute_many(self._model, self._image, self.method_names, target,
                                progress=ctx.progress, options=options)
        result = self._ranked(result, ctx.progress)  # best first when rank_by is given (issue 17)
        with self._applying(ctx):
            self._show(result)
        self._refresh_tables()
        return result

    def _show(self, result: ComparisonResult) -> None:
        self.result = result
        first = result.results[0]
        self.image = page_image(first.image)
        self.maps = page_maps(np.stack([r.map for r in result.results]).astype(np.float32))
        self.limits = [list(lim) for lim in result.limits()]
        self.signed = [True] * len(result.results)
        self.titles = self._ranked_titles(result)
        self.scale_label = "normalised attribution (each map / its 99th percentile of |value|)"
        self.classes = class_choices(first.probabilities, first.class_names, first.target)
        self.target = first.target

    @handles("attribute")
    def _on_attribute(self, params: dict, ctx: RequestContext) -> dict:
        self._recompute(params.get("target", self.target), ctx)
        return {}

    @traitlets.observe("target")
    def _python_changed(self, change: dict) -> None:
        if self._is_applying or self._model is None or self.result is None:
            return
        with self._compute_lock:
            self._recompute(self.target, DIRECT)


def compare(model: Any, image: Any, methods=DEFAULT_METHODS, target: Any = None, **kwargs: Any) -> Comparison:
    """Show several attribution methods side by side on one shared colour scale (a :class:`Comparison`).

    ``rank_by="deletion"`` (or "insertion", "infidelity", "correlation", "sensitivity") orders them best first,
    each title with its number, the table in ``widget.ranking``; ``rank_options`` go to
    :func:`nbexplain.rank_methods` (e.g. ``{"baseline": "grey", "steps": 50}``).
    """
    return Comparison(model, image, methods, target, **kwargs)


@shows(AttributionMap)
def heatmap_of(result: AttributionMap, **options: Any) -> Heatmap:
    """The widget of ``result.widget(**options)``: static, or live with ``model=``."""
    return Heatmap.from_result(result, **options)


@shows(ComparisonResult)
def comparison_of(result: ComparisonResult, **options: Any) -> Comparison:
    """The widget of ``comparison.widget(**options)``: static, or live with ``model=``."""
    return Comparison.from_results(result.results, **options)


__all__ = ["Comparison", "Heatmap", "class_choices", "compare"]
