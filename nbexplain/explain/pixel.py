"""Pixel attribution, the front door: :func:`attribute` (one method) and :func:`attribute_many` (several).

A method is a kernel in :mod:`nbexplain.methods.pixel` — ``(model, image, target, progress=None, *,
options...) -> (C, H, W) array``, or ``(array, details)`` when it says how it ran (occlusion:
``{"engine": ...}``, kept as :attr:`AttributionMap.engine`) — registered once in :data:`METHODS` with how
its attribution becomes an (H, W) map: plain, rectified and deconvolution saliency and SmoothGrad take the
max of |.| over channels (Simonyan et al. 2014), gradient x input and integrated gradients sum channels
(their contributions add up), Grad-CAM and occlusion are already one value per pixel.

Examples
--------
>>> result = nbx.attribute(model, "cat.jpg", "integrated_gradients", target="tabby cat", steps=32)
>>> result.plot()
>>> nbx.attribute_many(model, image, ["gradient", "gradcam", "occlusion"]).agreement()
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._deprecation import renamed, renamed_keys
from .._progress import reporter
from .._validation import check_choice, check_options, nearest
from ..adapters.model import Model, as_model
from ..adapters.outputs import resolve_target
from ..errors import InputError, NotDifferentiableError, UnknownArgumentError
from ..inputs.images import as_image, fit_channels, model_channels
from ..methods.pixel import gradcam as _gradcam
from ..methods.pixel import gradients as _grad
from ..methods.pixel import occlusion as _occ
from ..methods.pixel.maps import normalise, rank_agreement, reduce_channels, robust_scale
from ..plotting.pixel import plot_attribution, plot_comparison
from .result import Result


@dataclass(frozen=True)
class Method:
    """How one attribution method is computed and reduced to a map.

    ``renamed`` maps old option names to new ones (they keep working one release, with a FutureWarning).
    """

    name: str
    compute: Callable[..., np.ndarray]
    reduction: str  # "max_abs", "sum" or "mean" (see nbexplain.methods.pixel.maps)
    signed: bool  # whether the map has meaningful negative values
    gradient: bool  # needs a differentiable torch model
    label: str
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def takes_scores(self) -> bool:
        """True when ``compute`` takes ``scores``, the model's outputs for the image (not a user option)."""
        return "scores" in inspect.signature(self.compute).parameters

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
        Method("smoothgrad", _grad.smoothgrad, "max_abs", False, True, "SmoothGrad", {"samples": "n_samples"}),
        Method("gradcam", _gradcam.gradcam, "mean", False, True, "Grad-CAM"),
        Method("occlusion", _occ.occlusion, "mean", True, False, "Occlusion"),
    ]
}


@dataclass
class AttributionMap(Result):
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
    engine : str or None — how the forward passes of a perturbation method ran: occlusion says
        "incremental" (only the activations a window changes were recomputed), "incremental up to <layer>
        (...)", or "full (<why>)"; None for gradient methods.
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
    engine: str | None = None

    @property
    def label(self) -> str:
        """The method's name in words (e.g. "Integrated gradients")."""
        return METHODS[self.method].label if self.method in METHODS else self.method

    @property
    def probability(self) -> float:
        """The model's probability of the explained class."""
        return float(self.probabilities[self.target])

    def limits(self) -> tuple[float, float]:
        """Colour limits: symmetric around 0 for signed maps, [0, max] otherwise."""
        top = float(np.abs(self.map).max()) or 1.0
        return (-top, top) if self.signed else (0.0, top)

    def plot(self, ax=None, *, overlay: bool = True, alpha: float = 0.6, cmap: str | None = None,
             limits: tuple[float, float] | None = None, title: str | None = None, colorbar: bool = True):
        """Draw the map (over the image when ``overlay``) with matplotlib; returns the Axes.

        ``limits`` fixes the colour scale (default :meth:`limits`), e.g. to compare several maps on one
        scale; ``colorbar=False`` leaves the colour bar out.
        """
        return plot_attribution(self, ax=ax, overlay=overlay, alpha=alpha, cmap=cmap, limits=limits,
                                title=title, colorbar=colorbar)


def method_options(method: Any, options: Any, stacklevel: int = 4) -> dict[str, Any]:
    """``options`` of ``method`` checked: old names (``Method.renamed``) moved to their new names with a
    FutureWarning; an unknown option is an :class:`~nbexplain.errors.UnknownArgumentError` naming the
    nearest valid one."""
    spec = METHODS[check_choice(method, "method", list(METHODS))]
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InputError(f"the options of method={method!r} must be a dict; got {type(options).__name__}")
    options = renamed_keys(options, spec.renamed, f"method={method!r}", stacklevel=stacklevel)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        near = nearest(unknown[0], spec.options)
        hint = f"; did you mean {near!r}?" if near else ""
        raise UnknownArgumentError(
            f"method={method!r} does not take option(s) {unknown}; it takes {sorted(spec.options) or 'none'}{hint}"
        )
    return options


def check_method(method: Any, model: Model, options: Any) -> tuple[Method, dict[str, Any]]:
    """Validate ``method`` and its ``options`` for ``model``: the :class:`Method` and the options to use
    (see :func:`method_options`); a gradient method for a model without gradients is an error."""
    options = method_options(method, options, stacklevel=5)
    spec = METHODS[method]
    if spec.gradient and not model.differentiable:
        raise NotDifferentiableError(
            f"method={method!r} needs gradients, but the model is a {model.kind} "
            f"({type(model.raw).__name__}), not a torch.nn.Module; use method='occlusion', which only "
            "needs predictions"
        )
    return spec, options


def attribute(
    model: Any,
    image: Any,
    method: str = "gradient",
    target: int | str | None = None,
    *,
    progress: bool | Callable[[float], None] | None = None,
    **options: Any,
) -> AttributionMap:
    """Attribute a classifier's decision on ``image`` to its pixels.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
        Anything :func:`nbexplain.as_model` accepts; gradient methods need a torch module.
    image : array, PIL image or path
        (H, W, 3) uint8, (H, W, 3) or (3, H, W) float in the model's input space, (H, W) grey, a PIL
        image, or a path to an image file. A grey image is repeated to three channels when the model's
        first convolution takes three.
    method : str
        One of :data:`METHODS`: "gradient", "rectified", "deconvolution", "gradient_x_input",
        "integrated_gradients", "smoothgrad", "gradcam", "occlusion".
    target : int, str or None
        The class explained (index or name); None explains the predicted class.
    progress : None, bool or callable
        None: a bar with a time estimate once the work takes long (occlusion); True: a bar from the
        start; False: none; a callable is given the fraction done (0..1).
    **options
        The method's options (``METHODS[method].options``), e.g. ``window``/``stride``/``baseline`` for
        occlusion, ``steps``/``baseline`` for integrated gradients, ``n_samples``/``noise``/``seed`` for
        SmoothGrad, ``layer`` for Grad-CAM.

    Examples
    --------
    >>> result = nbx.attribute(model, image, method="gradient")
    >>> result.map.shape, result.target
    ((224, 224), 285)
    """
    model = as_model(model)
    img = fit_channels(as_image(image), model_channels(model))
    spec, options = check_method(method, model, options)
    report = reporter(progress, spec.label)
    if report is not None:
        report(0.0)  # a bar asked for (progress=True) shows from the start, also for one-pass methods
    scores = model.predict(img.tensor[None])
    probabilities = model.to_probabilities(scores)[0]
    target_index = resolve_target(target, probabilities, model.class_names)
    given = {"scores": scores} if spec.takes_scores else {}  # so that the method does not predict them again
    attribution = spec.compute(model, img, target_index, report, **given, **options)
    details: dict[str, Any] = {}
    if isinstance(attribution, tuple):  # (attribution, details): what the method says about how it ran
        attribution, details = attribution
    if report is not None:
        report(1.0)
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
        engine=details.get("engine"),
    )


@dataclass
class Comparison(Result):
    """Several methods' maps of one image and target, each normalised onto one shared [-1, 1] scale.

    Methods disagree (the survey's caution): :meth:`agreement` measures by how much.
    """

    results: list[AttributionMap]

    @property
    def normalised(self) -> list[np.ndarray]:
        """Each map divided by its 99th percentile of |value| and clipped to [-1, 1]."""
        return [normalise(r.map) for r in self.results]

    def limits(self) -> list[tuple[float, float]]:
        """Each map's colour limits on the shared scale: ±its 99th percentile of |value|."""
        return [(-s, s) for s in (robust_scale(r.map) for r in self.results)]

    def agreement(self) -> np.ndarray:
        """Spearman rank correlation between every pair of maps (k x k): how much the methods agree."""
        return rank_agreement([r.map for r in self.results])

    def summary(self) -> str:
        """One line: the methods, the class, and how much they agree."""
        first, k = self.results[0], len(self.results)
        line = f"{k} method(s) explain {first.target_name!r} (p={first.probability:.2f})"
        if k < 2:
            return line
        a = self.agreement()
        i, j = np.unravel_index(np.argmin(a + 2 * np.eye(k)), a.shape)
        mean = a[np.triu_indices(k, 1)].mean()
        return (f"{line}: mean rank agreement {mean:.2f}; least alike: {self.results[i].method} and "
                f"{self.results[j].method} ({a[i, j]:.2f})")

    def _png_size(self) -> tuple[float, float]:
        return (2.6 * len(self.results) + 0.6, 2.9)

    @renamed(axes="ax")
    def plot(self, ax=None, *, alpha: float = 0.6):
        """All maps side by side over the image on one diverging scale; returns the k Axes.

        ``ax`` is None (a new figure), a sequence of k Axes, or one Axes whose place the k maps share.
        """
        return plot_comparison(self.results, self.normalised, ax=ax, alpha=alpha)


def check_methods(methods: Any) -> list[str]:
    """``methods`` as a non-empty list of names of :data:`METHODS`."""
    if isinstance(methods, str) or not isinstance(methods, Sequence):
        raise InputError(f"methods must be a list of method names, e.g. ['gradient', 'occlusion']; got {methods!r}")
    if not methods:
        raise InputError("methods must name at least one method")
    return [check_choice(m, "method", list(METHODS)) for m in methods]


def attribute_many(
    model: Any,
    image: Any,
    methods: Sequence[str] = ("gradient", "rectified", "integrated_gradients", "gradcam", "occlusion"),
    target: int | str | None = None,
    *,
    progress: bool | Callable[[float], None] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> Comparison:
    """Run several methods on one image and target; see :func:`attribute` for the arguments.

    ``options`` maps a method to its options, e.g. ``{"occlusion": {"window": 32}}``. With ``target``
    None every method explains the class the model predicts.

    Examples
    --------
    >>> cmp = nbx.attribute_many(model, image, ["gradient", "gradcam"], options={"gradcam": {"layer": "conv2"}})
    >>> cmp.agreement()   # 2 x 2 Spearman rank correlations
    """
    model = as_model(model)
    methods = check_methods(methods)
    options = check_options(options, "options", methods)
    image = fit_channels(as_image(image), model_channels(model))
    report = reporter(progress, "attribution")
    if report is not None:
        report(0.0)
    results = []
    for i, m in enumerate(methods):
        step = (lambda f, i=i: report((i + f) / len(methods))) if report is not None else False
        results.append(attribute(model, image, m, target, progress=step, **options.get(m, {})))
        target = results[0].target
    return Comparison(results)


__all__ = ["METHODS", "AttributionMap", "Comparison", "Method", "attribute", "attribute_many", "check_method",
           "check_methods", "method_options"]
