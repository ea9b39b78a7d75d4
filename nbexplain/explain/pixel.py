"""``nbx.attribute``: one entry point for every pixel-attribution method, returning an :class:`AttributionMap`.

A method is registered once in :data:`METHODS` with how its (C, H, W) attribution becomes an (H, W) map:
plain, rectified and deconvolution saliency and SmoothGrad take the max of |.| over channels (Simonyan et
al.), gradient x input and integrated gradients sum channels (their contributions add up), Grad-CAM and
occlusion are already one value per pixel.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..adapters.model import Model, as_model
from ..adapters.outputs import resolve_target
from ..errors import InputError
from ..inputs.images import ImageInput, as_image
from ..methods.pixel import gradcam as _gradcam
from ..methods.pixel import gradients as _grad
from ..methods.pixel import occlusion as _occ
from ..plotting.figure import ShownAsPNG


@dataclass(frozen=True)
class Method:
    """How one attribution method is computed and reduced to a map."""

    name: str
    compute: Callable[..., np.ndarray]
    reduction: str  # "max_abs", "sum" or "mean"
    signed: bool  # whether the map has meaningful negative values
    gradient: bool  # needs a differentiable torch model
    label: str

    @property
    def options(self) -> dict[str, Any]:
        """Keyword options the method accepts, with their defaults."""
        sig = inspect.signature(self.compute)
        return {k: p.default for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("gradient", _grad.gradient, "max_abs", False, True, "Gradient (saliency)"),
        Method("rectified", _grad.rectified, "max_abs", False, True, "Rectified gradient (guided backprop)"),
        Method("deconvolution", _grad.deconvolution, "max_abs", False, True, "Deconvolution"),
        Method("gradient_x_input", _grad.gradient_x_input, "sum", True, True, "Gradient x input"),
        Method("integrated_gradients", _grad.integrated_gradients, "sum", True, True, "Integrated gradients"),
        Method("smoothgrad", _grad.smoothgrad, "max_abs", False, True, "SmoothGrad"),
        Method("gradcam", _gradcam.gradcam, "mean", False, True, "Grad-CAM"),
        Method("occlusion", _occ.occlusion, "mean", True, False, "Occlusion"),
    ]
}


def reduce_channels(attribution: np.ndarray, reduction: str) -> np.ndarray:
    """(C, H, W) -> (H, W) by ``reduction``: "max_abs", "sum" or "mean"."""
    if reduction == "max_abs":
        return np.abs(attribution).max(axis=0)
    if reduction == "sum":
        return attribution.sum(axis=0)
    if reduction == "mean":
        return attribution.mean(axis=0)
    raise InputError(f"reduction={reduction!r} is not valid: expected 'max_abs', 'sum' or 'mean'")


@dataclass
class AttributionMap(ShownAsPNG):
    """The attribution of one image for one target class by one method.

    Attributes
    ----------
    attribution : (C, H, W) float32 — per channel and pixel, in the model's input space.
    map : (H, W) float32 — the reduction the method calls for (see module docstring).
    target : int — the explained class; ``target_name`` its name.
    method : str — key of :data:`METHODS`; ``options`` the options used.
    probabilities : (n_classes,) float — the model's prediction for the image.
    image : (H, W, 3) uint8 — the image as displayed.
    signed : bool — whether negative map values carry meaning (draw on a diverging scale).
    """

    attribution: np.ndarray
    map: np.ndarray
    target: int
    method: str
    probabilities: np.ndarray
    image: np.ndarray
    signed: bool
    target_name: str = ""
    class_names: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return METHODS[self.method].label if self.method in METHODS else self.method

    def limits(self) -> tuple[float, float]:
        """Colour limits: symmetric around 0 for signed maps, [0, max] otherwise."""
        top = float(np.abs(self.map).max()) or 1.0
        return (-top, top) if self.signed else (0.0, top)

    def plot(self, ax=None, *, overlay: bool = True, alpha: float = 0.6, cmap: str | None = None,
             limits: tuple[float, float] | None = None, title: str | None = None, colorbar: bool = True):
        """Draw the map (over the image when ``overlay``) with matplotlib; returns the Axes.

        ``limits`` fixes the colour scale (default :meth:`limits`: robust, symmetric for signed maps),
        e.g. to compare several maps on one scale; ``colorbar=False`` leaves the colour bar out.
        """
        from ..plotting.pixel import plot_attribution

        return plot_attribution(self, ax=ax, overlay=overlay, alpha=alpha, cmap=cmap, limits=limits,
                                title=title, colorbar=colorbar)

    def widget(self, model: Any = None, **kwargs):
        """An interactive :class:`~nbexplain.Heatmap` showing this result (recomputes only with ``model``)."""
        from ..widgets.heatmap import Heatmap

        return Heatmap.from_result(self, model=model, **kwargs)


def check_method(method: Any, model: Model, options: dict[str, Any]) -> Method:
    """Validate ``method`` and its ``options`` for ``model``; return the :class:`Method`."""
    if method not in METHODS:
        raise InputError(f"method={method!r} is not valid: expected one of {list(METHODS)}")
    spec = METHODS[method]
    unknown = set(options) - set(spec.options)
    if unknown:
        raise InputError(
            f"method={method!r} does not take option(s) {sorted(unknown)}; it takes {sorted(spec.options) or 'none'}"
        )
    if spec.gradient and not model.differentiable:
        from ..errors import NotDifferentiableError

        raise NotDifferentiableError(
            f"method={method!r} needs gradients, but the model is a {model.kind} "
            f"({type(model.raw).__name__}), not a torch.nn.Module; use method='occlusion', which only "
            "needs predictions"
        )
    return spec


def attribute(
    model: Any,
    image: Any,
    method: str = "gradient",
    target: int | str | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    **options: Any,
) -> AttributionMap:
    """Attribute a classifier's decision on ``image`` to its pixels.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
        Anything :func:`nbexplain.as_model` accepts; gradient methods need a torch module.
    image : array or PIL image
        (H, W, 3) uint8, (H, W, 3) or (3, H, W) float in the model's input space, or PIL.
    method : str
        One of :data:`METHODS`: "gradient", "rectified", "deconvolution", "gradient_x_input",
        "integrated_gradients", "smoothgrad", "gradcam", "occlusion".
    target : int, str or None
        Class to explain (index or name); None explains the predicted class.
    progress : callable, optional
        Called with the fraction done (0..1) by methods that run many forward passes.
    **options
        Method options, e.g. ``window``/``stride``/``baseline`` for occlusion, ``steps``/``baseline`` for
        integrated gradients, ``samples``/``noise`` for SmoothGrad, ``layer`` for Grad-CAM.

    Examples
    --------
    >>> result = nbx.attribute(model, image, method="gradient")
    >>> result.map.shape, result.target
    ((224, 224), 285)
    """
    model = as_model(model)
    img = as_image(image)
    spec = check_method(method, model, options)
    probabilities = model.predict_proba(img.tensor[None])[0]
    target_index = resolve_target(target, probabilities, model.class_names)
    attribution = spec.compute(model, img, target_index, progress, **options)
    if attribution.ndim != 3 or attribution.shape[1:] != img.shape:
        raise RuntimeError(f"{method} returned shape {attribution.shape}; expected (C, {img.shape[0]}, {img.shape[1]})")
    return AttributionMap(
        attribution=attribution.astype(np.float32),
        map=reduce_channels(attribution, spec.reduction).astype(np.float32),
        target=target_index,
        method=method,
        probabilities=probabilities,
        image=img.display,
        signed=spec.signed,
        target_name=model.class_name(target_index),
        class_names=model.class_names,
        options=dict(options),
    )


def robust_scale(map_: np.ndarray, percentile: float = 99.0) -> float:
    """The ``percentile`` of |values| (or the max when that is 0): what :func:`normalise` maps to 1."""
    return float(np.percentile(np.abs(map_), percentile)) or float(np.abs(map_).max()) or 1.0


def normalise(map_: np.ndarray, percentile: float = 99.0) -> np.ndarray:
    """Scale a map by its robust maximum and clip to [-1, 1], so different methods share one scale."""
    return np.clip(map_ / robust_scale(map_, percentile), -1, 1).astype(np.float32)


@dataclass
class Comparison:
    """Several methods' maps of one image and target, each normalised onto one shared [-1, 1] scale."""

    results: list[AttributionMap]

    @property
    def normalised(self) -> list[np.ndarray]:
        return [normalise(r.map) for r in self.results]

    def agreement(self) -> np.ndarray:
        """Spearman rank correlation between every pair of maps (k x k): how much the methods agree."""
        ranks = [np.argsort(np.argsort(r.map.ravel())).astype(np.float64) for r in self.results]
        return np.corrcoef(np.stack(ranks)) if len(ranks) > 1 else np.ones((1, 1))

    def plot(self, axes=None):
        """All maps side by side over the image on one diverging scale; returns the axes."""
        from ..plotting.pixel import plot_comparison

        return plot_comparison(self.results, self.normalised, axes=axes)

    def _repr_png_(self) -> bytes:
        from ..plotting.figure import png_of

        k = len(self.results)
        return png_of(lambda fig: self.plot(axes=fig.subplots(1, k, squeeze=False)[0]), figsize=(2.6 * k + 0.6, 2.9))

    def widget(self, model: Any = None):
        from ..widgets.heatmap import Comparison as ComparisonWidget

        return ComparisonWidget.from_results(self.results, model=model)


def attribute_many(
    model: Any,
    image: Any,
    methods: Sequence[str] = ("gradient", "rectified", "integrated_gradients", "gradcam", "occlusion"),
    target: int | str | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> Comparison:
    """Run several methods on one image and target (``options`` maps a method to its options)."""
    model = as_model(model)
    if not methods:
        raise InputError("methods must name at least one method")
    options = options or {}
    results = []
    for i, m in enumerate(methods):
        step = (lambda f, i=i: progress((i + f) / len(methods))) if progress else None
        results.append(attribute(model, image, m, target, progress=step, **options.get(m, {})))
        target = results[0].target
    return Comparison(results)


__all__ = ["AttributionMap", "Comparison", "attribute_many", "normalise", "METHODS", "Method", "attribute", "reduce_channels", "ImageInput"]
