"""A network's parameters by name, from a live module or from saved checkpoints.

A checkpoint is a state dict (``{name: tensor or array}``), a dict holding one under ``"state_dict"`` or
``"model_state_dict"`` (the layout of most training scripts), a torch module, or the path of a file saved
with ``torch.save`` (loaded with ``weights_only=True``: a checkpoint file cannot run code). Read without the
model, its parameters are its floating-point entries except BatchNorm's running statistics.

Examples
--------
>>> states = [state_dict(c, i) for i, c in enumerate(["epoch1.pt", "epoch2.pt"])]
>>> stored_parameters(states[0])                       # ['0.weight', '0.bias', ...]
>>> module_kinds(model)["0.weight"]
'Conv2d'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import InputError

#: BatchNorm buffers (not weights) left out of checkpoints read without a model
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def module_kinds(module) -> dict[str, str]:
    """Parameter name -> the type of the module holding it (``"Conv2d"``)."""
    kinds = {}
    for mod_name, mod in module.named_modules():
        for p_name, _ in mod.named_parameters(recurse=False):
            kinds[f"{mod_name}.{p_name}" if mod_name else p_name] = type(mod).__name__
    return kinds


def state_dict(checkpoint: Any, index: int) -> Mapping[str, Any]:
    """Checkpoint number ``index`` (see above) as a name -> tensor mapping."""
    import torch

    where = f"checkpoints[{index}]"
    if isinstance(checkpoint, (str, os.PathLike)):
        if not os.path.isfile(checkpoint):
            raise InputError(f"{where}={os.fspath(checkpoint)!r} is not a file")
        checkpoint = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if isinstance(checkpoint, torch.nn.Module):
        return dict(checkpoint.named_parameters())
    if not isinstance(checkpoint, Mapping):
        raise InputError(f"{where} must be a state dict, a module or a checkpoint file; got "
                         f"{type(checkpoint).__name__}")
    for key in ("state_dict", "model_state_dict"):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    out = {}
    for name, value in checkpoint.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        out[name] = value
    return out


def stored_parameters(state: Mapping[str, Any]) -> list[str]:
    """The weights of a state dict read without its model: floating-point tensors, BatchNorm buffers left out."""
    import torch

    return [n for n, v in state.items() if torch.is_tensor(v) and v.is_floating_point()
            and not n.endswith(BUFFER_SUFFIXES)]


__all__ = ["BUFFER_SUFFIXES", "module_kinds", "state_dict", "stored_parameters"]
