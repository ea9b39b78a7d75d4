"""torch modules as models: a numpy batch in, the module's outputs out (eval mode, no gradients)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np


def is_torch_module(obj: Any) -> bool:
    """True for a ``torch.nn.Module`` (without importing torch: only an imported torch can have made one)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def with_preprocess(module, preprocess: Callable):
    """``module`` preceded by a differentiable ``preprocess`` (normalisation, resizing) as one module."""
    import torch

    class Preprocessed(torch.nn.Module):
        def __init__(self, fn, inner):
            super().__init__()
            self.fn, self.inner = fn, inner

        def forward(self, x):
            return self.inner(self.fn(x))

    return Preprocessed(preprocess, module)


def torch_forward(module) -> Callable[[np.ndarray], np.ndarray]:
    """The module as a numpy function, on its parameters' device and dtype, in eval and inference mode."""
    import torch

    params = list(module.parameters())
    device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32

    def forward(batch: np.ndarray):
        # eval mode for the call, switched only where a module is training (train()/eval() walk every module
        # through __setattr__, which costs a few percent of a small model's forward pass)
        training = [m for m in module.modules() if m.training]
        for m in training:
            m.training = False
        try:
            with torch.inference_mode():
                t = torch.from_numpy(np.ascontiguousarray(batch)).to(device=device, dtype=dtype)
                y = module(t)
                if y.dtype not in (torch.float32, torch.float64):  # half, bfloat16, ints: not all numpy-able
                    y = y.float()
                return y.cpu().numpy()
        finally:
            for m in training:
                m.training = True

    return forward


__all__ = ["is_torch_module", "torch_forward", "with_preprocess"]
