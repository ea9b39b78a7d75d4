"""A torch module's graph and the version of its weights: what caches made from a module are keyed by.

:func:`trace` gives the module's ``torch.fx`` graph, traced once per module (and again when a submodule is
replaced); incremental inference runs it layer by layer, batch-norm folding reads which layer feeds which.
:func:`weights_version` changes when a parameter or buffer is written in place (an optimiser's step,
``load_state_dict``, a batch-norm statistic) or replaced, so anything computed from the weights (cached
activations, folded convolutions) is made again after training between two explanations.
"""

from __future__ import annotations

import weakref

#: traced graphs per module: (structure fingerprint, GraphModule)
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fingerprint(module) -> tuple:
    return tuple((name, id(m)) for name, m in module.named_modules())


def trace(module):
    """The module's graph (``torch.fx.symbolic_trace``, a GraphModule sharing the module's layers), cached per
    module; a str says why it cannot be traced. Trace in eval mode: a forward may branch on ``self.training``."""
    key = _fingerprint(module)
    known = _TRACED.get(module)
    if known is not None and known[0] == key:
        return known[1]
    try:
        traced = traced_graph(module)
    except Exception as exc:  # data-dependent control flow, unsupported Python
        first = (str(exc).splitlines() or [""])[0][:160]
        return f"torch.fx cannot trace the model ({type(exc).__name__}: {first})"  # not cached: state may change
    _TRACED[module] = (key, traced)
    return traced


def traced_graph(module):
    """``torch.fx.symbolic_trace(module)``, except that the hooks of the layers traced through are not run: a
    hook reading its layer's output (as :func:`nbexplain.activations` sets) would be handed a stand-in for the
    tensor. The graph is the forward's own; the hooks still run when the model runs. Not cached: see
    :func:`trace`."""
    from torch import fx

    class WithoutHooks(fx.Tracer):
        def call_module(self, m, forward, args, kwargs):
            return super().call_module(m, lambda *a, **k: m.forward(*a, **k), args, kwargs)

    tracer = WithoutHooks()
    graph = tracer.trace(module)
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


def forget_trace(module) -> None:
    """Drop the module's cached graph (it did not run as the module does): the next :func:`trace` traces again."""
    _TRACED.pop(module, None)


def weights_version(module) -> tuple:
    """Changes when a parameter or buffer of ``module`` is written in place or replaced."""
    return tuple((id(t), t._version) for t in (*module.parameters(), *module.buffers()))


__all__ = ["forget_trace", "trace", "traced_graph", "weights_version"]
