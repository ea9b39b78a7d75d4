"""Gradient attributions, computed by Captum on the model's torch module.

Vanilla gradient (Simonyan et al. 2014), rectified gradient / guided backpropagation (Springenberg et al.
2015), deconvolution (Zeiler & Fergus 2014), gradient x input (Shrikumar et al. 2016), integrated
gradients (Sundararajan et al. 2017) and SmoothGrad (Smilkov et al. 2017). Each returns the (C, H, W)
attribution for one image and one target; reducing it to a map is the caller's job (see ``maps``).

Every method has the signature ``(model, image, target, progress=None, *, options...)``; the keyword-only
options are what :func:`nbexplain.attribute` accepts for it. :func:`run_captum` runs any Captum
attribution class the same way, so a new gradient method is a few lines.

Examples
--------
>>> from captum.attr import Saliency
>>> run_captum(model, image, Saliency, target=3, abs=False).shape
(3, 224, 224)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..._validation import check_number, check_positive_int, check_seed
from ...adapters.model import Model
from ...errors import ModelError
from ...inputs.images import ImageInput
from .baselines import make_baseline


def _placement(model: Model):
    """The device and floating dtype of the module's parameters (as the adapter's ``predict`` uses)."""
    import torch

    params = list(model.torch_module.parameters())
    device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32
    return device, dtype


def as_tensor(model: Model, array: np.ndarray):
    """A (1, C, H, W) tensor of ``array`` on the module's device, in its dtype (a float64 model gets float64)."""
    import torch

    device, dtype = _placement(model)
    return torch.from_numpy(np.array(array)[None]).to(device=device, dtype=dtype)  # a copy: never the caller's


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


def run_captum(model: Model, image: ImageInput, make_explainer: Callable[[Any], Any], **kwargs: Any) -> np.ndarray:
    """Run a Captum attribution on ``image`` and return its (C, H, W) float32 numpy result.

    ``make_explainer(module)`` builds the explainer (e.g. ``Saliency``, or ``lambda m: NoiseTunnel(Saliency(m))``);
    its ``attribute`` gets the image as a (1, C, H, W) tensor that requires grad, plus ``kwargs``. The
    module runs in eval mode with gradients on (:meth:`Model.gradient_mode`), a single-logit model is seen
    as two class scores ``[-z, z]``, and a model whose output is not connected to its input by gradients
    raises a :class:`~nbexplain.errors.ModelError` that says so.
    """
    with model.gradient_mode() as module:
        if model.n_outputs == 1:
            module = _binary_scores(module)
        x = as_tensor(model, image.tensor).requires_grad_(True)
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

    return run_captum(model, image, Saliency, target=target, abs=False)


def rectified(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Guided backpropagation: only positive gradients flow back through ReLUs."""
    from captum.attr import GuidedBackprop

    return run_captum(model, image, GuidedBackprop, target=target)


def deconvolution(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Deconvnet: ReLUs pass the positive part of the backward signal, ignoring the forward sign."""
    from captum.attr import Deconvolution

    return run_captum(model, image, Deconvolution, target=target)


def gradient_x_input(model: Model, image: ImageInput, target: int, progress=None) -> np.ndarray:
    """Gradient times input, a first-order estimate of each pixel's contribution."""
    from captum.attr import InputXGradient

    return run_captum(model, image, InputXGradient, target=target)


def integrated_gradients(
    model: Model, image: ImageInput, target: int, progress=None, *, steps: int = 50, baseline="black",
    internal_batch_size: int | None = 16,
) -> np.ndarray:
    """Integrated gradients along the straight path from ``baseline`` to the image.

    The path integral uses Captum's default rule (Gauss-Legendre) with ``steps`` points, evaluated
    ``internal_batch_size`` points at a time. Deterministic: nothing is sampled, so there is no ``seed``.
    """
    from captum.attr import IntegratedGradients

    steps = check_positive_int(steps, "steps")
    if internal_batch_size is not None:
        internal_batch_size = check_positive_int(internal_batch_size, "internal_batch_size")
    base = as_tensor(model, make_baseline(image, baseline))
    return run_captum(
        model, image, IntegratedGradients, target=target, baselines=base, n_steps=steps,
        internal_batch_size=internal_batch_size,
    )


def smoothgrad(
    model: Model, image: ImageInput, target: int, progress=None, *, n_samples: int = 25, noise: float = 0.15,
    seed: int | None = 0,
) -> np.ndarray:
    """SmoothGrad: the gradient averaged over ``n_samples`` noisy copies (std = noise x value range).

    ``seed`` (default 0: reproducible; None: fresh noise) seeds torch's generator for the noise inside
    :func:`torch.random.fork_rng`, so the caller's random state is left as it was.
    """
    import torch
    from captum.attr import NoiseTunnel, Saliency

    n_samples = check_positive_int(n_samples, "n_samples")
    noise = check_number(noise, "noise", minimum=0,
                         expected="a finite number >= 0 (a fraction of the value range)")
    seed = check_seed(seed)
    lo, hi = image.value_range
    if seed is None:  # fresh noise: the forked generator would otherwise repeat the caller's state every call
        seed = int(np.random.default_rng().integers(2**63))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return run_captum(
            model, image, lambda m: NoiseTunnel(Saliency(m)), target=target, nt_type="smoothgrad",
            nt_samples=n_samples, nt_samples_batch_size=8, stdevs=noise * (hi - lo), abs=False,
        )


__all__ = ["as_tensor", "deconvolution", "gradient", "gradient_x_input", "integrated_gradients", "rectified",
           "run_captum", "smoothgrad"]
