"""The pixel attributions the checks judge, computed the same way by every one of them.

The image fitted to the model, the methods and their options checked, a method's (C, H, W) attribution and
its (H, W) map, an explanation given as a result or a method name, and the attribution of a noisy copy of the
image: the sanity check, faithfulness, robustness, the ranking and the quality panels all start here, so
that they judge the very map :func:`nbexplain.attribute` shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..._validation import check_options
from ...adapters.model import Model
from ...adapters.outputs import resolve_target
from ...errors import InputError, NotDifferentiableError
from ...inputs.images import ImageInput, as_image, fit_channels, model_channels
from ...methods.pixel.maps import reduce_channels
from ..pixel import METHODS, AttributionMap, attribute, check_methods, method_options

#: the pixel methods checked (and ranked) when none are named
DEFAULT_SANITY_METHODS = ("gradient", "rectified", "integrated_gradients", "gradcam")


def _image_for(model: Model, image: Any) -> ImageInput:
    return fit_channels(as_image(image), model_channels(model))


def _methods_and_options(model: Model, methods: Any, options: Any) -> tuple[list[str], dict[str, dict]]:
    methods = check_methods(methods)
    options = check_options(options, "options", methods)
    checked = {m: method_options(m, options.get(m)) for m in methods}
    for m in methods:
        if METHODS[m].gradient and not model.differentiable:
            raise NotDifferentiableError(f"method={m!r} needs gradients, but the model is a {model.kind}; "
                                         "use method='occlusion', which only needs predictions")
    return methods, checked


def _attribution(method: str, model: Model, img: ImageInput, target: int, options: dict) -> np.ndarray:
    """The (C, H, W) attribution of the method's kernel (without the details a kernel may add)."""
    out = METHODS[method].compute(model, img, target, None, **options)
    return out[0] if isinstance(out, tuple) else out


def _explained_map(method: str, attribution: np.ndarray) -> np.ndarray:
    return reduce_channels(attribution, METHODS[method].reduction).astype(np.float32)


def _explanation(m: Model, img: ImageInput, explanation: Any, target: Any, options: dict | None
                 ) -> AttributionMap:
    """``explanation`` as an AttributionMap of ``img``: a result (checked against the image) or a method name."""
    if isinstance(explanation, AttributionMap):
        if explanation.map.shape != img.shape:
            raise InputError(f"explanation's map has shape {explanation.map.shape}; the image is {img.shape}")
        if options:
            raise InputError("options are for a method name; this explanation is already computed")
        if target is not None and resolve_target(target, explanation.probabilities, m.class_names) != explanation.target:
            raise InputError(f"target={target!r} differs from the class the explanation explains "
                             f"({explanation.target_name!r})")
        return explanation
    if isinstance(explanation, str):
        return attribute(m, img, explanation, target, progress=False, **(options or {}))
    raise InputError("explanation must be an AttributionMap (from nbx.attribute) or a method name such as "
                     f"'gradient'; got {type(explanation).__name__}")


def _explain_copy(m: Model, img: ImageInput, method: str, target: int, options: dict
                  ) -> Callable[[np.ndarray], np.ndarray]:
    """The method's (C, H, W) attribution of a copy ``x`` of ``img`` (same value range and display)."""
    return lambda x: _attribution(method, m, ImageInput(np.ascontiguousarray(x, dtype=np.float32), img.display,
                                                        img.value_range), target, options)


__all__ = ["DEFAULT_SANITY_METHODS"]
