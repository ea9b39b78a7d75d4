"""Batch-norm folding: a torch model run with each eval-mode batch-norm folded into the convolution before it.

In eval mode a batch-norm is a fixed per-channel affine map, so a convolution followed by one equals a single
convolution with scaled weights and a shifted bias: the standard rewrite for inference (PyTorch's
``fuse_conv_bn_eval``, used here; ONNX Runtime and TensorRT do the same). It saves a pass over every such
convolution's output. Measured on 2 CPU cores, the adapter's passes over 224² images with and without it,
interleaved: the ResNet-18-shaped CNN of ``benchmarks/superpixels.py`` takes 0.97x / 0.92x / 0.96x as long at
widths 8 / 16 / 64; the tank CNN's own passes over 48² scenes 0.84-0.88x. The outputs are the same up to float
rounding (~1e-7 of their scale in float32).

:func:`folded` gives the module every forward pass of the adapter runs: a shallow copy of the model that
shares every layer except the folded pairs (hooks on the other layers fire, and the caller's model is never
changed), made once per weights version (:func:`~.tracing.weights_version`: training between two explanations
folds again). A pair is folded only where it is sure to compute the same function:

* the graph (``torch.fx``; without one, the children of an ``nn.Sequential``) shows the batch-norm applied to
  the convolution's output, which nothing else reads, each module called once;
* the batch-norm uses running statistics, the weights are float32 or float64;
* neither module has hooks (a hook would read the values the fold removes), and no global module hook is set.

The copy's own graph must call the same layers as the model's (a forward that reaches a batch-norm another way
than through its parent would still apply it), and the first batch a copy runs is checked against the model's
own forward pass (its first row; on a later run when the model has hooks, which would see that extra pass). A
copy that differs is refused, and that model runs unfolded until its weights change.
Gradient methods differentiate the model itself, never a copy. :func:`disabled` switches folding off.
"""

from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from .agreement import relative_gap
from .switch import Switch
from .tracing import trace, traced_graph, weights_version

#: whether the adapter folds batch-norms at all (see :func:`disabled`)
FOLDING = Switch()
#: max |folded - model| allowed on the check, relative to the outputs' scale (float32; float64 1e-9)
TOLERANCE = 1e-4

_FOLDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # {torch module: its Fold}
_LOCK = threading.Lock()


@dataclass
class Fold:
    """What to run for one model as its weights, layers and hooks are (``key``): its folded copy or the model
    itself, whether that was checked against the model's own pass, and the copied containers (a weak reference
    to each container of the model, and its copy)."""

    key: tuple
    runnable: Any
    checked: bool
    containers: list[tuple[Any, Any]] = field(default_factory=list)
    hooked: bool = False  # a layer (or every module) had a hook at the last look-up: no extra pass to check


def disabled():
    """Within this context models run as they are, batch-norms unfolded (to compare, or to rule folding out).

    >>> with disabled():
    ...     scores = model.predict(x)   # the model's own forward passes
    """
    return FOLDING.off()


def folded(module) -> Any:
    """The module to run for inference: ``module`` with its foldable batch-norms folded (a copy, kept while the
    weights and hooks stay the same), or ``module`` itself (nothing to fold, folding off, or refused). Call it
    in eval mode, as the adapter does once per run of batches."""
    if not FOLDING.on:
        return module
    modules = list(module.modules())  # one walk per run: the quick look, the key and the hooks
    if not _has_pairs(modules):
        return module
    key = _key(module, modules)
    known = _FOLDED.get(module)
    if known is None or known.key != key:
        with _LOCK:
            known = _FOLDED.get(module)
            if known is None or known.key != key:
                pairs = foldable_pairs(module)
                runnable, containers = _fold(module, pairs) if pairs else (module, [])
                if runnable is not module and not _same_calls(module, runnable, pairs):
                    runnable, containers = module, []
                _FOLDED[module] = known = Fold(key, runnable, runnable is module, containers)
    for original, copied in known.containers:  # the containers' own attributes as they are now (``net.scale = 3``)
        _refresh(original(), copied)
    known.hooked = bool(_global_hooks()) or any(m._forward_hooks or m._forward_pre_hooks for m in modules)
    return known.runnable


def checked(module, runnable, x, y) -> tuple[Any, Any]:
    """``(y, runnable)``: ``y`` the outputs of ``runnable`` (from :func:`folded`) for the batch ``x``. On a
    folded copy's first batch its first row is compared with the module's own output; a copy that differs is
    refused (this module runs unfolded until its weights change): then the module's outputs for ``x`` are
    returned, and the module as what to run for the next batches."""
    if runnable is module:
        return y, runnable
    known = _FOLDED.get(module)
    if known is None or known.runnable is not runnable or known.checked or known.hooked:
        return y, runnable  # (with hooks, an extra pass would be seen by them: checked on a later run)
    import torch

    own, first = module(x[:1]), y[:1]
    if not (isinstance(own, torch.Tensor) and isinstance(first, torch.Tensor) and own.is_floating_point()):
        same = False
    else:
        tolerance = 1e-9 if own.dtype == torch.float64 else TOLERANCE
        same = relative_gap(first.double().cpu().numpy(), own.double().cpu().numpy()) <= tolerance
    with _LOCK:
        if _FOLDED.get(module) is known:
            _FOLDED[module] = (Fold(known.key, runnable, True, known.containers) if same
                               else Fold(known.key, module, True))
    return (y, runnable) if same else (module(x), module)


def foldable_pairs(module) -> list[tuple[str, str]]:
    """(convolution, batch-norm) names of the pairs :func:`folded` folds (see the module's docstring)."""
    import torch

    if _global_hooks():
        return []
    graph = trace(module)
    pairs = _pairs_in_graph(module, graph) if not isinstance(graph, str) else _pairs_in_sequentials(module)
    named = dict(module.named_modules())
    return [(c, b) for c, b in pairs if _foldable(named[c], named[b], torch)]


def _pairs_in_graph(module, graph) -> list[tuple[str, str]]:

    named = dict(module.named_modules())
    calls: dict[str, int] = {}
    for node in graph.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
        elif node.op == "get_attr":  # a forward that reads a layer's weights itself: not that layer's pair
            owner = node.target.rpartition(".")[0]
            calls[owner] = calls.get(owner, 0) + 2
    pairs = []
    for node in graph.graph.nodes:
        if node.op != "call_module" or type(named.get(node.target)) not in _batch_norms():
            continue
        source = node.args[0] if len(node.args) == 1 and not node.kwargs else None
        if (getattr(source, "op", None) == "call_module" and type(named.get(source.target)) in _convs()
                and len(source.users) == 1 and calls[source.target] == 1 and calls[node.target] == 1):
            pairs.append((source.target, node.target))
    return pairs


def _pairs_in_sequentials(module) -> list[tuple[str, str]]:
    """Without a graph: consecutive (convolution, batch-norm) children of plain ``nn.Sequential`` containers."""
    import torch

    counts: dict[int, int] = {}
    for _, m in module.named_modules(remove_duplicate=False):
        counts[id(m)] = counts.get(id(m), 0) + 1
    pairs = []
    for name, m in module.named_modules():
        if type(m).forward is not torch.nn.Sequential.forward or not isinstance(m, torch.nn.Sequential):
            continue
        children = list(m.named_children())
        for (a, first), (b, second) in zip(children, children[1:], strict=False):
            if (type(first) in _convs() and type(second) in _batch_norms()
                    and counts[id(first)] == 1 and counts[id(second)] == 1):
                prefix = f"{name}." if name else ""
                pairs.append((prefix + a, prefix + b))
    return pairs


def _foldable(conv, bn, torch) -> bool:
    hooked = any(getattr(m, d) for m in (conv, bn) for d in ("_forward_hooks", "_forward_pre_hooks"))
    floats = all(p.dtype in (torch.float32, torch.float64) for p in (*conv.parameters(), *bn.parameters()))
    return (not hooked and floats and not conv.transposed and bn.track_running_stats
            and bn.running_mean is not None and bn.running_var is not None
            and bn.num_features == conv.out_channels and not (conv.training or bn.training))


def _fold(module, pairs: list[tuple[str, str]]) -> tuple[Any, list[tuple[Any, Any]]]:
    """A shallow copy of ``module`` with each pair's convolution replaced by the folded one and its batch-norm
    by an identity, and the (weak reference to a container, its copy) pairs; only the containers on the way to a pair are copied (their
    parameters, buffers and hooks shared, see :func:`_refresh`), every other layer is the model's own."""
    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    copies: dict[str, Any] = {}
    containers: list[tuple[Any, Any]] = []

    def copy_of(path: str):
        """The copy of the container at ``path`` (made on first need, and its parents' copies point to it)."""
        if path not in copies:
            if path == "":
                original, parent, name = module, None, ""
            else:
                parent_path, _, name = path.rpartition(".")
                parent = copy_of(parent_path)
                original = parent._modules[name]
            c = copy.copy(original)
            object.__setattr__(c, "_modules", dict(original._modules))
            if parent is not None:
                parent._modules[name] = c
            copies[path] = c
            containers.append((weakref.ref(original), c))  # (not a strong reference: the model is the key)
        return copies[path]

    for conv_name, bn_name in pairs:
        conv, bn = module.get_submodule(conv_name), module.get_submodule(bn_name)
        with torch.inference_mode(False), torch.no_grad():  # plain tensors, even when folded inside a run
            fused = fuse_conv_bn_eval(conv, bn)
        fused.requires_grad_(False)
        conv_parent, _, conv_leaf = conv_name.rpartition(".")
        bn_parent, _, bn_leaf = bn_name.rpartition(".")
        copy_of(conv_parent)._modules[conv_leaf] = fused
        copy_of(bn_parent)._modules[bn_leaf] = torch.nn.Identity()
    return copies[""], containers


def _refresh(original, copied) -> None:
    """Give a copied container the original's attributes as they are now, its own table of children kept: a
    forward that reads ``self.scale`` or ``self.training`` sees what the model's would (one dict swapped in, so
    a batch running meanwhile on another thread sees the old or the new, never a mix)."""
    if original is None:  # (the model is gone, and so will be this copy)
        return
    attributes = dict(original.__dict__)
    attributes["_modules"] = copied.__dict__["_modules"]
    object.__setattr__(copied, "__dict__", attributes)


def _has_pairs(modules: list) -> bool:
    """A cheap first look at the model's ``modules``: a convolution and a batch-norm of the folded types (no
    model without both is traced: tracing runs the Python of its forward once, with stand-ins for the tensors)."""
    kinds = {type(m) for m in modules}
    return bool(kinds & set(_convs())) and bool(kinds & set(_batch_norms()))


def _same_calls(module, runnable, pairs: list[tuple[str, str]]) -> bool:
    """Whether the folded copy's graph calls the same layers in the same order, the folded ones by their
    replacements: a forward that reaches a batch-norm some other way than through its parent (a list held
    aside) would still apply it after the folded convolution. Without a graph (an ``nn.Sequential``) it does."""
    graph = trace(module)
    if isinstance(graph, str):
        return True
    try:
        copied = traced_graph(runnable)
    except Exception:  # noqa: BLE001 - any failure: not sure, so not folded
        return False
    targets = [n.target for n in graph.graph.nodes if n.op == "call_module"]
    if targets != [n.target for n in copied.graph.nodes if n.op == "call_module"]:
        return False
    return all(runnable.get_submodule(b) is not module.get_submodule(b) for _, b in pairs)


def _key(module, modules: list) -> tuple:
    """What a folded copy depends on: the weights, the module structure and every hook on a conv or batch-norm."""
    folded_types = (*_convs(), *_batch_norms())
    hooks = tuple(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in modules if type(m) in folded_types)
    return weights_version(module), tuple(id(m) for m in modules), hooks, _global_hooks()


def _global_hooks() -> int:
    from torch.nn.modules import module as torch_module

    return len(torch_module._global_forward_hooks) + len(torch_module._global_forward_pre_hooks)


def _convs() -> tuple:
    """The convolution types a batch-norm folds into: exactly these (a subclass may change what forward does,
    as a weight-standardised convolution does). torch is imported only when needed."""
    import torch

    return (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)


def _batch_norms() -> tuple:
    """The batch-norm types folded: exactly these (a subclass may add an activation to forward)."""
    import torch

    return (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)


__all__ = ["FOLDING", "TOLERANCE", "Fold", "checked", "disabled", "foldable_pairs", "folded"]
