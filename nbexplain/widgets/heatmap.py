"""Heatmap and Comparison widgets: attribution maps over the image, recomputed in the kernel on demand."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ..adapters.model import Model, as_model
from ..errors import InputError
from ..explain.pixel import METHODS, AttributionMap, attribute, check_method, robust_scale
from ..explain.pixel import Comparison as ComparisonResult
from ..inputs.images import as_image
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, handles
from .codec import array_serialization

COLORMAPS = ("auto", "magma", "viridis", "RdBu", "gray")
TOP_K = 5


def class_choices(probabilities: np.ndarray, model_or_names: Any, target: int, k: int = TOP_K) -> list[dict]:
    """The top-``k`` classes (plus ``target`` when outside them) as ``{index, name, probability}``."""
    order = [int(i) for i in np.argsort(-probabilities)[:k]]
    if target not in order:
        order.append(int(target))
    names = model_or_names.class_names if isinstance(model_or_names, Model) else model_or_names
    def name(i):
        return names[i] if names is not None and i < len(names) else f"class {i}"
    return [{"index": i, "name": str(name(i)), "probability": float(probabilities[i])} for i in order]


class _AttributionView(ExplainerWidget):
    """Traits shared by the single and the comparison view (one JavaScript view draws both)."""

    _esm = assets.view_esm("heatmap")
    _css = assets.view_css("heatmap")

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

    def __init__(self, model: Any, image: Any, *, class_names: Any = None, **kwargs: Any):
        self._model = as_model(model, class_names=class_names) if model is not None else None
        self._image = as_image(image) if image is not None else None
        super().__init__(**kwargs)


class Heatmap(_AttributionView):
    """An image with an attribution heatmap; switch method, target class, opacity, colormap and arrangement.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
        The classifier (gradient methods need a torch module).
    image : array or PIL image
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
        super().__init__(model, image, **kwargs)
        self.options = dict(options or {})
        self.result: AttributionMap | None = None
        if self._model is not None:
            self.methods = [{"name": m.name, "label": m.label} for m in METHODS.values()
                            if self._model.differentiable or not m.gradient]
            self._recompute(method, target, DIRECT)

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
        check_method(method, self._model, self.options.get(method, {}))
        result = attribute(self._model, self._image, method, target, progress=ctx.progress,
                           **self.options.get(method, {}))
        with self._applying(ctx):
            self._show(result)
        return result

    def _show(self, result: AttributionMap) -> None:
        self.result = result
        self.image = result.image
        self.maps = result.map[None].astype(np.float32)
        self.limits = [list(result.limits())]
        self.signed = [bool(result.signed)]
        self.titles = [result.label]
        self.scale_label = "attribution"
        self.classes = class_choices(result.probabilities, result.class_names, result.target)
        self.method = result.method
        self.target = result.target

    @handles("attribute")
    def _on_attribute(self, params: dict, ctx: RequestContext) -> dict:
        self._recompute(params.get("method", self.method), params.get("target", self.target), ctx)
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

    def _static_png(self) -> bytes | None:
        return self.result._repr_png_() if self.result is not None else None


class Comparison(_AttributionView):
    """Several attribution methods side by side on one shared colour scale (each map normalised).

    Methods disagree (the survey's point); normalising each map by its 99th percentile of |value| puts
    them on one diverging scale from -1 to 1. Changing the target class recomputes every method.
    """

    def __init__(self, model: Any, image: Any,
                 methods=("gradient", "rectified", "integrated_gradients", "gradcam", "occlusion"),
                 target: Any = None, *, options: dict[str, dict] | None = None, **kwargs: Any):
        kwargs.setdefault("display_size", 200)
        super().__init__(model, image, **kwargs)
        self.method_names = list(methods)
        self.options = dict(options or {})
        self.result: ComparisonResult | None = None
        if self._model is not None:
            if not self.method_names:
                raise InputError("methods must name at least one method")
            for m in self.method_names:
                check_method(m, self._model, self.options.get(m, {}))
            self._recompute(target, DIRECT)

    @classmethod
    def from_results(cls, results: list[AttributionMap], model: Any = None, **kwargs: Any) -> Comparison:
        if model is not None:
            return cls(model, results[0].image, [r.method for r in results], results[0].target, **kwargs)
        widget = cls(None, None, methods=[r.method for r in results], interactive=False, **kwargs)
        with widget._applying():
            widget._show(ComparisonResult(list(results)))
        return widget

    def _recompute(self, target: Any, ctx: RequestContext) -> ComparisonResult:
        from ..explain.pixel import attribute_many

        result = attribute_many(self._model, self._image, self.method_names, target,
                                progress=ctx.progress, options=self.options)
        with self._applying(ctx):
            self._show(result)
        return result

    def _show(self, result: ComparisonResult) -> None:
        self.result = result
        first = result.results[0]
        self.image = first.image
        self.maps = np.stack([r.map for r in result.results]).astype(np.float32)
        scales = [robust_scale(r.map) for r in result.results]
        self.limits = [[-s, s] for s in scales]
        self.signed = [True] * len(scales)
        self.titles = [r.label for r in result.results]
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

    def _static_png(self) -> bytes | None:
        return self.result._repr_png_() if self.result is not None else None


def compare(model: Any, image: Any, methods=("gradient", "rectified", "integrated_gradients", "gradcam", "occlusion"),
            target: Any = None, **kwargs: Any) -> Comparison:
    """Show several attribution methods side by side on one shared colour scale (a :class:`Comparison`)."""
    return Comparison(model, image, methods, target, **kwargs)
