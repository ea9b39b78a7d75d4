"""Grad-CAM (Selvaraju et al. 2017): class activation of a convolutional layer, weighted by its gradients.

The layer's channels are weighted by the spatial mean of the target's gradient, summed, passed through a
ReLU and upsampled (bilinear) to the image: where in the layer's feature map the evidence for the class is.

Examples
--------
>>> gradcam(model, image, target=3, layer="features.6").shape   # (1, H, W)
(1, 224, 224)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...adapters.model import Model
from ...errors import InputError
from ...inputs.images import ImageInput
from .gradients import run_captum

LAYER_EXPECTED = ("a layer whose output has height and width, (N, C, H, W), such as a torch.nn.Conv2d: "
                  "a module of the model, its dotted name from named_modules(), or None (the last Conv2d)")


def last_conv_layer(module):
    """The last ``nn.Conv2d`` in registration order (usually the one nearest the classifier head)."""
    import torch

    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise InputError(
            "gradcam needs a convolutional layer, but the model has no torch.nn.Conv2d; "
            "pass layer=<a module of the model> or use another method"
        )
    return convs[-1]


def resolve_layer(module, layer):
    """``layer`` as a module: None (last conv), a dotted name from ``named_modules()``, or a module."""
    if layer is None:
        return last_conv_layer(module)
    if isinstance(layer, str):
        named = dict(module.named_modules())
        if layer not in named:
            options = [n for n in named if n][:12]
            raise InputError(f"layer={layer!r} is not a module of the model; some names: {options}")
        return named[layer]
    if not any(layer is m for m in module.modules()):
        raise InputError("layer must be a module inside the model (or its dotted name, or None)")
    return layer


def _describe(module, layer) -> str:
    """``layer`` as users name it: ``'head' (Linear)``."""
    name = next((n for n, m in module.named_modules() if m is layer), None)
    kind = type(layer).__name__
    return f"{name!r} ({kind})" if name else kind


def gradcam(model: Model, image: ImageInput, target: int, progress=None, *, layer: Any = None) -> np.ndarray:
    """Grad-CAM upsampled (bilinear) to the image size, with the ReLU of the paper; shape (1, H, W).

    ``layer`` is the layer explained: None (the last ``Conv2d``), its dotted name, or the module; its
    output must have height and width.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    h, w = image.shape
    module = model.torch_module
    conv = resolve_layer(module, layer)
    shapes: list[tuple[int, ...]] = []

    class Upsampled:
        def __init__(self, wrapped):
            self.inner = LayerGradCam(wrapped, conv)

        def attribute(self, x, **kwargs):
            hook = conv.register_forward_hook(lambda m, i, out: shapes.append(tuple(getattr(out, "shape", ()))))
            try:
                cam = self.inner.attribute(x, relu_attributions=True, **kwargs)
            finally:
                hook.remove()
            if cam.ndim != 4:
                out = shapes[0] if shapes else tuple(cam.shape)
                raise InputError(
                    f"layer={_describe(module, conv)} gives an output of shape {out} without height and width; "
                    f"gradcam needs {LAYER_EXPECTED}"
                )
            return LayerAttribution.interpolate(cam, (h, w), interpolate_mode="bilinear")

    return run_captum(model, image, Upsampled, target=target)


__all__ = ["LAYER_EXPECTED", "gradcam", "last_conv_layer", "resolve_layer"]
