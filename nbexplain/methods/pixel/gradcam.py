"""Grad-CAM (Selvaraju et al. 2017): class activation of a convolutional layer, weighted by its gradients."""

from __future__ import annotations

import numpy as np

from ...adapters.model import Model
from ...errors import InputError
from ...inputs.images import ImageInput
from .gradients import _run


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


def gradcam(model: Model, image: ImageInput, target: int, progress=None, *, layer=None) -> np.ndarray:
    """Grad-CAM upsampled (bilinear) to the image size, with the ReLU of the paper; shape (1, H, W)."""
    from captum.attr import LayerAttribution, LayerGradCam

    h, w = image.shape
    conv = resolve_layer(model.torch_module, layer)

    class Upsampled:
        def __init__(self, module):
            self.inner = LayerGradCam(module, conv)

        def attribute(self, x, **kwargs):
            cam = self.inner.attribute(x, relu_attributions=True, **kwargs)
            return LayerAttribution.interpolate(cam, (h, w), interpolate_mode="bilinear")

    return _run(model, image, Upsampled, target=target)
