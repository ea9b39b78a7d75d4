"""Gradient attributions, computed by Captum on the model's torch module.

Vanilla gradient (Simonyan et al. 2014), rectified gradient / guided backpropagation (Springenberg et al.
2015), deconvolution (Zeiler & Fergus 2014), gradient x input (Shrikumar et al. 2016), integrated
gradients (Sundararajan et al. 2017) and SmoothGrad (Smilkov et al. 2017). Each returns the (C, H, W)
attribution for one image and one target; reducing it to a map is the caller's job (see ``attribution``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..adapters import Model
from ..errors import ModelError
from ..images import ImageInput
from .baselines import make_baseline


def _input_tensor(model: Model, image: ImageInput):
    import torch

    params = list(model.torch_module.parameters())
    device = params[0].device if params else torch.device("cpu")
    return torch.from_numpy(image.tensor[None].copy()).to(device).requires_grad_(True)


def _run(model: Model, image: ImageInput, make_explainer: Callable, **kwargs) -> np.ndarray:
    with model.gradient_mode() as module:
        x = _input_tensor(model, image)
        try:
            attr = make_explainer(module).attribute(x, **kwargs)
        except RuntimeError as exc:
            if "does not require grad" in str(exc) or "grad_fn" in str(exc):
                raise ModelError(
                    "the model's output is not connected to its input by gradients (it detaches or "
                    f"converts to numpy inside forward); gradient methods cannot run: {exc}"
                ) from exc
            raise ModelError(f"the model raised while computing gradients: {exc}") from exc
    return attr.detach().cpu().numpy()[0].astype(np.float32)


def gradient(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Vanilla gradient of the target output with respect to the input pixels (signed)."""
    from captum.attr import Saliency

    return _run(model, image, Saliency, target=target, abs=False)


def rectified(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Guided backpropagation: only positive gradients flow back through ReLUs."""
    from captum.attr import GuidedBackprop

    return _run(model, image, GuidedBackprop, target=target)


def deconvolution(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Deconvnet: ReLUs pass the positive part of the backward signal, ignoring the forward sign."""
    from captum.attr import Deconvolution

    return _run(model, image, Deconvolution, target=target)


def gradient_x_input(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Gradient times input, a first-order estimate of each pixel's contribution."""
    from captum.attr import InputXGradient

    return _run(model, image, InputXGradient, target=target)


def integrated_gradients(
    model: Model, image: ImageInput, target: int, progress=None, *, steps: int = 50, baseline="black",
    internal_batch_size: int | None = 16,
) -> np.ndarray:
    """Integrated gradients along the straight path from ``baseline`` to the image (Riemann trapezoid)."""
    import torch
    from captum.attr import IntegratedGradients

    base = torch.from_numpy(make_baseline(image, baseline)[None])
    return _run(
        model, image, IntegratedGradients, target=target, baselines=base, n_steps=int(steps),
        internal_batch_size=internal_batch_size,
    )


def smoothgrad(
    model: Model, image: ImageInput, target: int, progress=None, *, samples: int = 25, noise: float = 0.15,
    seed: int | None = 0,
) -> np.ndarray:
    """SmoothGrad: the gradient averaged over copies with Gaussian noise (std = noise x value range)."""
    import torch
    from captum.attr import NoiseTunnel, Saliency

    lo, hi = image.value_range
    if seed is not None:
        torch.manual_seed(seed)
    return _run(
        model, image, lambda m: NoiseTunnel(Saliency(m)), target=target, nt_type="smoothgrad",
        nt_samples=int(samples), nt_samples_batch_size=8, stdevs=float(noise) * (hi - lo), abs=False,
    )
