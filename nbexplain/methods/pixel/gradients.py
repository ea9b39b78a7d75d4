"""Gradient attributions, computed by Captum on the model's torch module.

Vanilla gradient (Simonyan et al. 2014), rectified gradient / guided backpropagation (Springenberg et al.
2015), deconvolution (Zeiler & Fergus 2014), gradient x input (Shrikumar et al. 2016), integrated
gradients (Sundararajan et al. 2017) and SmoothGrad (Smilkov et al. 2017). Each returns the (C, H, W)
attribution for one image and one target; reducing it to a map is the caller's job (see ``attribution``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...adapters.model import Model
from ...errors import InputError, ModelError
from ...inputs.images import ImageInput
from .baselines import make_baseline


def _placement(model: Model):
    """The device and floating dtype of the module's parameters (as the adapter's ``predict`` uses)."""
    import torch

    params = list(model.torch_module.parameters())
    device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32
    return device, dtype


def _as_tensor(model: Model, array: np.ndarray):
    """A (1, C, H, W) tensor of ``array`` on the module's device, in its dtype (a float64 model gets float64)."""
    import torch

    device, dtype = _placement(model)
    return torch.from_numpy(np.array(array)[None]).to(device=device, dtype=dtype)  # a copy: never the caller's


def _input_tensor(model: Model, image: ImageInput):
    return _as_tensor(model, image.tensor).requires_grad_(True)


def _binary_scores(module):
    """``module`` with a single-logit output z (shape (N,) or (N, 1)) seen as two class scores [-z, z].

    The adapter treats one output as a binary problem with two classes; this lets ``target`` 0 and 1
    index those classes (class 1 is explained by z itself, class 0 by -z).
    """
    import torch

    class BinaryScores(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            z = self.inner(x).reshape(len(x), 1)
            return torch.cat([-z, z], dim=1)

    return BinaryScores(module)


def _run(model: Model, image: ImageInput, make_explainer: Callable, **kwargs) -> np.ndarray:
    with model.gradient_mode() as module:
        if model.n_outputs == 1:
            module = _binary_scores(module)
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


def _positive_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def integrated_gradients(
    model: Model, image: ImageInput, target: int, progress=None, *, steps: int = 50, baseline="black",
    internal_batch_size: int | None = 16,
) -> np.ndarray:
    """Integrated gradients along the straight path from ``baseline`` to the image.

    The path integral uses Captum's default rule (Gauss-Legendre) with ``steps`` points, evaluated
    ``internal_batch_size`` points at a time.
    """
    from captum.attr import IntegratedGradients

    steps = _positive_int(steps, "steps")
    if internal_batch_size is not None:
        internal_batch_size = _positive_int(internal_batch_size, "internal_batch_size")
    base = _as_tensor(model, make_baseline(image, baseline))
    return _run(
        model, image, IntegratedGradients, target=target, baselines=base, n_steps=steps,
        internal_batch_size=internal_batch_size,
    )


def smoothgrad(
    model: Model, image: ImageInput, target: int, progress=None, *, samples: int = 25, noise: float = 0.15,
    seed: int | None = 0,
) -> np.ndarray:
    """SmoothGrad: the gradient averaged over copies with Gaussian noise (std = noise x value range).

    ``seed`` seeds torch's generator for the noise inside :func:`torch.random.fork_rng`, so the
    caller's random state is left as it was.
    """
    import torch
    from captum.attr import NoiseTunnel, Saliency

    samples = _positive_int(samples, "samples")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) or not (
        np.isfinite(noise) and noise >= 0
    ):
        raise InputError(f"noise must be a finite number >= 0 (a fraction of the value range); got {noise!r}")
    lo, hi = image.value_range
    with torch.random.fork_rng():
        if seed is not None:
            torch.manual_seed(seed)
        return _run(
            model, image, lambda m: NoiseTunnel(Saliency(m)), target=target, nt_type="smoothgrad",
            nt_samples=samples, nt_samples_batch_size=8, stdevs=float(noise) * (hi - lo), abs=False,
        )
