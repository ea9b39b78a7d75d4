"""torch modules as models: a numpy batch in, the module's outputs out (eval mode, no gradients)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .blas import one_blas_thread
from .folding import checked, folded


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


def channels_last_wanted(module, device) -> bool:
    """True when ``module`` runs on the CPU and convolves images (a ``Conv2d``): there, image batches with their
    channels last in memory run the same layers faster (measured on 2 cores: the tank CNN about 4x, ResNet-18's
    architecture at widths 8-64 about 1.4x), with the same values up to float rounding."""
    import torch

    return device.type == "cpu" and any(isinstance(m, torch.nn.Conv2d) for m in module.modules())


_EVAL_LOCK = threading.Lock()


def _eval_lock() -> threading.Lock:
    """The lock around eval-mode switching (a widget's worker thread and the notebook may predict at once),
    reached through a module-level function so that a model pickled for a Dask worker carries no lock."""
    return _EVAL_LOCK


def torch_forward(module) -> Callable[[np.ndarray], np.ndarray]:
    """The module as a numpy function, on its parameters' device and dtype, in eval and inference mode.

    Image batches (N, C, H, W) reach a convolutional module on the CPU with their channels last in memory
    (:func:`channels_last_wanted`; a batch built that way is passed without a copy). A module that cannot take
    that layout (say, a ``.view()`` of a convolution's output) is given contiguous batches from its first
    failure on, and the batch is run again.

    The caller's batch is never written: perturbation methods reuse one buffer from batch to batch and
    rewrite only what changes, so a model that edits its input in place (``x.sub_(mean)``, a first
    ``ReLU(inplace=True)``) would silently corrupt every later batch. Until the module is seen leaving its
    input alone it gets its own copy, and every call watches the version counter of the tensor the module
    was given (a copy made for the layout counts: the module's behaviour is learned all the same); a model
    seen writing its input gets a copy of every batch from then on (``layout["writes_input"]``)."""
    import torch

    params = list(module.parameters())
    device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32
    layout = {"channels_last": channels_last_wanted(module, device), "writes_input": None}

    def laid_out(t):
        """``t`` in the layout the module runs fastest (a copy when it is not already laid out so)."""
        if layout["channels_last"] and t.ndim == 4:
            return t.contiguous(memory_format=torch.channels_last)
        return t.contiguous()

    def own(x, caller: int):
        """``x``, or its copy when it is the caller's memory and the module may write into it."""
        if layout["writes_input"] is not False and x.untyped_storage().data_ptr() == caller:
            return x.clone(memory_format=torch.preserve_format)
        return x

    def run(t, caller: int):
        """The module's outputs for ``t`` (``caller``: the address of the caller's memory), and the tensor the
        module was given, made outside inference mode, so that its version counter sees the module write
        into it (also into a copy made for the layout: then the caller's memory was never at risk)."""
        runnable = held["runnable"]
        x = own(laid_out(t), caller)
        try:
            with torch.inference_mode():
                y, held["runnable"] = checked(module, runnable, x, runnable(x))
                return y, x
        except RuntimeError:
            if not (layout["channels_last"] and t.ndim == 4):
                raise
        x = own(t.contiguous(), caller)  # a module that cannot take channels last (a .view() of a conv's output)
        with torch.inference_mode():  # the model's own error, if it fails this way too
            y, held["runnable"] = checked(module, runnable, x, runnable(x))
        layout["channels_last"] = False
        return y, x

    # inside evaluating(): the modules switched to eval mode, and the module to run (batch-norms folded)
    held = {"depth": 0, "switched": [], "runnable": module}

    @contextlib.contextmanager
    def evaluating():
        """Eval mode for a whole run of batches (``Model.predict``), switched only where a module is training:
        ``train()``/``eval()`` walk every module through ``__setattr__``, and even the walk that finds the
        training ones costs ~1% of a small CNN's batch, so it is done once per run, not once per batch.
        Nested (or overlapping) runs share it; the last to end restores the modules. numpy's BLAS runs on one
        thread meanwhile (:mod:`.blas`). The run's batches go through :func:`~.folding.folded`: the module with
        its batch-norms folded into the convolutions before them, looked up once per run."""
        with _eval_lock():
            if held["depth"] == 0:
                held["switched"] = [m for m in module.modules() if m.training]
                for m in held["switched"]:
                    m.training = False
                held["runnable"] = folded(module)
            held["depth"] += 1
        try:
            with one_blas_thread():  # numpy work between the batches leaves no BLAS worker spinning
                yield
        finally:
            with _eval_lock():
                held["depth"] -= 1
                if held["depth"] == 0:
                    for m in held["switched"]:
                        m.training = True
                    held["switched"], held["runnable"] = [], module

    def forward(batch: np.ndarray):
        if not held["depth"]:
            with evaluating():
                return forward(batch)
        array = np.asarray(batch)
        if array.ndim and min(array.strides) < 0:
            array = np.ascontiguousarray(array)
        t = torch.from_numpy(array)
        caller = t.untyped_storage().data_ptr()
        if t.dtype != dtype or device.type != "cpu":
            t = t.to(device=device, dtype=dtype)
        y, given = run(t, caller)
        if given._version:
            layout["writes_input"] = True
        elif layout["writes_input"] is None:
            layout["writes_input"] = False
        if y.dtype not in (torch.float32, torch.float64):  # half, bfloat16, ints: not all numpy-able
            y = y.float()
        return y.cpu().numpy()

    forward.layout = layout  # for tests and benchmarks: {"channels_last": bool, "writes_input": bool or None}
    forward.evaluating = evaluating
    return forward


__all__ = ["channels_last_wanted", "is_torch_module", "torch_forward", "with_preprocess"]
