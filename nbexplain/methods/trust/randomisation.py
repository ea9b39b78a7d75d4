"""The model randomisation test's models: a torch model with its layers re-initialised, top-down.

Adebayo et al. (2018), "Sanity checks for saliency maps": an explanation that depends on what the model
learned must change when the learned weights are replaced by random ones. *Cascading* randomisation
re-initialises the layers from the output down, cumulatively (after step k the top k layers are random);
*independent* randomisation re-initialises one layer at a time, the others keeping their trained weights.

Every layer is re-initialised by its own ``reset_parameters()`` (the default initialiser of its type:
Kaiming-uniform for convolutions and linear layers, ones and zeros for batch norms, whose running
statistics are reset too), with torch's generator seeded per step inside :func:`torch.random.fork_rng`, so
the caller's random state is left as it was and the same seed gives the same random weights. The work is
done on one deep copy of the module, re-initialised in place step after step (independent steps first
restore the previous step's layers), so no step costs a copy of the whole model.

Examples
--------
>>> steps = layer_steps(module)                     # [("fc", [fc]), ("conv2", [conv2]), ...] top-down
>>> for name, randomised in randomised_modules(module, steps, "cascading", seeds=[0, 1, 2]):
...     randomised(x)                               # the copy with the top layers random
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

from ...adapters.model import Model
from ...adapters.torch_models import torch_forward
from ...errors import InputError

MODES = ("cascading", "independent")


def parameterised_layers(module) -> list[tuple[str, Any]]:
    """The modules of ``module`` that own parameters and can re-initialise them (``reset_parameters``),
    with their dotted names, in registration order (input side first)."""
    return [(name, m) for name, m in module.named_modules()
            if callable(getattr(m, "reset_parameters", None)) and next(m.parameters(recurse=False), None) is not None]


def layer_steps(module, layers: Any = None) -> list[tuple[str, list]]:
    """The randomisation steps, top-down: ``(name, [layers re-initialised together])``.

    ``layers`` None: every parameterised layer is a step (:func:`parameterised_layers`, output side first).
    A sequence of dotted module names (or modules), given top-down: each is a step that re-initialises all
    the parameterised layers inside it (a residual block, a stage), e.g. ``["fc", "layer4", "layer3"]``; an
    entry that is itself a list of names is one step over all of them (``[["fc"], ["layer4", "layer3"]]``).
    """
    if layers is None:
        found = parameterised_layers(module)
        if not found:
            raise InputError("the model has no layer with parameters to re-initialise (no module with "
                             "reset_parameters() and parameters of its own)")
        return [(name, [m]) for name, m in reversed(found)]
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or len(layers) == 0:
        raise InputError(f"layers must be None or a non-empty list of module names (top-down); got {layers!r}")
    named = dict(module.named_modules())
    steps = []
    for layer in layers:
        if isinstance(layer, (list, tuple)):  # several modules, one step
            if not layer:
                raise InputError("layers: a step given as a list must name at least one module")
            parts = layer_steps(module, list(layer))
            name = parts[0][0] if len(parts) == 1 else f"{parts[0][0]} … {parts[-1][0]}"
            steps.append((name, [m for _, ms in parts for m in ms]))
            continue
        if isinstance(layer, str):
            if layer not in named:
                options = [n for n, _ in parameterised_layers(module)][::-1][:12]
                raise InputError(f"layers: {layer!r} is not a module of the model; some names (top-down): {options}")
            name, block = layer, named[layer]
        else:
            name = next((n for n, m in named.items() if m is layer), None)
            if name is None:
                raise InputError("layers must name modules of the model (dotted names from named_modules())")
            block = layer
        inner = [m for _, m in parameterised_layers(block)]
        if not inner:
            raise InputError(f"layers: {name!r} has no parameters to re-initialise")
        steps.append((name or "model", inner))
    return steps


def _reinitialise(layers: list, seed: int) -> None:
    import torch

    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(int(seed))
        for layer in layers:
            layer.reset_parameters()


def randomised_modules(module, steps: list[tuple[str, list]], mode: str, seeds: Sequence[int]
                       ) -> Iterator[tuple[str, Any]]:
    """Yield ``(step name, randomised copy)`` for every step; the copy is the same object each time,
    re-initialised in place (use it before asking for the next step).

    ``steps`` are :func:`layer_steps` of ``module`` (their layers are matched in the copy by position);
    ``seeds[k]`` seeds step k's initialisers. ``mode`` "cascading" keeps the earlier steps random,
    "independent" restores them first, so each step randomises its layers alone.
    """
    if mode not in MODES:
        raise InputError(f"mode={mode!r} is not valid: expected one of {list(MODES)}")
    if len(seeds) != len(steps):
        raise InputError(f"seed must give one seed per step: {len(steps)} steps, {len(seeds)} seeds")
    index = {id(m): i for i, m in enumerate(module.modules())}
    clone = copy.deepcopy(module)
    clone.eval()
    twins = list(clone.modules())
    previous: list[tuple[Any, dict]] = []
    for (name, layers), seed in zip(steps, seeds, strict=True):
        if mode == "independent":
            for twin, state in previous:
                twin.load_state_dict(state)
        targets = [twins[index[id(m)]] for m in layers]
        previous = [(t, copy.deepcopy(t.state_dict())) for t in targets] if mode == "independent" else []
        _reinitialise(targets, seed)
        yield name, clone


def model_with_module(model: Model, module) -> Model:
    """A :class:`Model` like ``model`` (output kind, class names, batch sizes learned) around ``module``."""
    twin = Model(module, "torch", torch_forward(module), output=model.output, class_names=model.class_names,
                 batch_size=model.batch_size, memory_budget=model.memory_budget)
    twin.n_outputs = model.n_outputs
    twin._sizers = model._sizers  # same architecture and input: the batch size measured for one fits the other
    return twin


__all__ = ["MODES", "layer_steps", "model_with_module", "parameterised_layers", "randomised_modules"]
