"""A network's layers and their activations: the torch module of a model and its layers by name, forward hooks
that keep a layer's output, and stop the forward pass once every layer asked for has run (the layers above
are never computed).

Also watches ReLUs for dead units (Glorot, Bordes & Bengio 2011; the "dying ReLU" of Lu et al. 2019): a unit
is dead on a batch when its output is zero for every example (and, in a convolution, at every position).

Examples
--------
>>> acts = activations_at(module, x, [layer])[layer]      # (N, C, h, w) tensor, forward stopped there
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ...adapters.model import Model
from ...errors import InputError
from ..pixel.gradcam import resolve_layer

LAYER_EXPECTED = "a module of the model or its dotted name from named_modules()"


class _Reached(Exception):
    """Raised by a hook to end the forward pass once every wanted layer has run."""


def torch_module(model: Any, name: str = "model"):
    """The torch module of ``model`` (a module or a :class:`~nbexplain.Model` of one); other models are an error."""
    import sys

    torch = sys.modules.get("torch")
    raw = model.raw if isinstance(model, Model) else model
    if torch is None or not isinstance(raw, torch.nn.Module):
        raise InputError(f"{name} must be a torch.nn.Module (or nbx.as_model of one); got {type(raw).__name__}")
    return raw


def first_conv(module):
    """The first ``torch.nn.Conv2d`` of ``module`` (in ``modules()`` order)."""
    import torch

    first = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first is None:
        raise InputError("the model has no torch.nn.Conv2d; pass layer=<a convolution of the model>")
    return first


def layer_named(module, layer: Any, name: str = "layer"):
    """``layer`` (a module of ``module`` or its dotted name) as a module; None is an error here."""
    if layer is None:
        raise InputError(f"{name} must be {LAYER_EXPECTED}; got None")
    return resolve_layer(module, layer)


def layer_name(module, layer) -> str:
    """The dotted name of ``layer`` in ``module`` (``""`` for the module itself)."""
    return next((n for n, m in module.named_modules() if m is layer), type(layer).__name__)


@contextlib.contextmanager
def captured(layers: Sequence[Any], *, stop: bool) -> Iterator[dict[int, Any]]:
    """Keep the output of each of ``layers`` (by ``id``) while the block runs; with ``stop``, the forward
    pass ends (quietly, see :func:`forward_to`) as soon as all of them have run."""
    store: dict[int, Any] = {}
    wanted = {id(layer) for layer in layers}

    def hook(mod, _inputs, output):
        if id(mod) not in store:
            store[id(mod)] = output[0] if isinstance(output, (tuple, list)) else output
        if stop and wanted.issubset(store):
            raise _Reached

    handles = [layer.register_forward_hook(hook) for layer in {id(m): m for m in layers}.values()]
    try:
        yield store
    finally:
        for h in handles:
            h.remove()


def forward_to(module, x, layers: Sequence[Any], *, stop: bool = True):
    """Run ``module(x)``; return ``(output or None, {id(layer): activation})``.

    With ``stop`` the pass ends after the last of ``layers`` has run and the output is None; a layer that
    never runs is an error naming it.
    """
    with captured(layers, stop=stop) as store:
        output = None
        try:
            output = module(x)
        except _Reached:
            pass
    missing = [layer_name(module, layer) for layer in layers if id(layer) not in store]
    if missing:
        raise InputError(f"layer(s) {missing} did not run in the model's forward pass")
    return output, store


def activations_at(module, x, layers: Sequence[Any]) -> dict[Any, Any]:
    """The output tensors of ``layers`` for the batch ``x`` (no gradients), keyed by layer."""
    import torch

    with torch.no_grad():
        _, store = forward_to(module, x, layers)
    return {layer: store[id(layer)] for layer in layers}


def _gated_layer(names: list[str], modules: dict[str, Any], relu: str) -> str | None:
    """The module whose units a ReLU gates: the last convolution or linear layer registered before it."""
    import torch

    kinds = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Linear)
    before = names[: names.index(relu)]
    return next((n for n in reversed(before) if isinstance(modules[n], kinds)), None)


def _dead_share(output) -> float:
    """The share of units (channels, or features of a vector) of ``output`` (N, C, ...) not above zero anywhere
    in the batch. Through each channel's peak: a reduction, not a boolean copy of the whole feature map."""
    peak = output.flatten(2).amax(2) if output.dim() > 2 else output  # (N, C)
    if peak.isnan().any():  # a NaN hides whether its channel fired: compare every value
        peak = (output > 0).flatten(2).any(2) if output.dim() > 2 else output > 0
    fired = peak > 0
    return float(1.0 - fired.any(0).float().mean())


class ReluWatch:
    """Forward hooks on a model's ReLU modules: when ``armed``, the share of units dead on that batch.

    ``dead`` maps a ReLU's name to the share of its units (channels of a feature map, features of a
    vector) that were zero for the whole batch of the last armed forward pass; ``gates`` maps it to the
    layer whose units it gates. The hooks do nothing while not armed (a Python call per ReLU).
    """

    def __init__(self, module):
        import torch

        modules = dict(module.named_modules())
        names = list(modules)
        self.relus = [n for n, m in modules.items() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
        self.gates = {n: _gated_layer(names, modules, n) for n in self.relus}
        self.armed = False
        self.dead: dict[str, float] = {}
        self._handles = [modules[n].register_forward_hook(self._hook(n)) for n in self.relus]

    def _hook(self, name: str):
        def hook(_mod, _inputs, output):
            if not self.armed or not hasattr(output, "dim") or output.dim() < 2:
                return
            self.dead[name] = _dead_share(output.detach())

        return hook

    def take(self) -> dict[str, float]:
        """The dead shares measured since the last call (and forget them)."""
        dead, self.dead = self.dead, {}
        return dead

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []


__all__ = ["LAYER_EXPECTED", "ReluWatch", "activations_at", "captured", "first_conv", "forward_to", "layer_name",
           "layer_named", "torch_module"]
