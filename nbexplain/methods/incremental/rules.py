"""How each layer of a CNN is recomputed on a patch: the per-layer rules of incremental inference.

A layer is recomputed on the part of its output that a changed input region can reach (Nakandala, Kumar &
Papakonstantinou 2019, Krypton). What "reach" means depends on the layer, and a rule says it:

* :class:`Pointwise` — batch-norm in eval mode, ReLU and friends, arithmetic with constants: the output box
  is the input box and the layer runs on the patch alone.
* :class:`Window` — convolutions (any stride, dilation, padding, groups) and max/average pooling: an output
  position depends on a window of input positions, so the output box is every position whose window meets
  the input box, computed from the input region those windows read (the cached map around the patch, the
  layer's padding as a border of zeros, or -inf for max pooling).
* :class:`Shift` — constant padding (``ZeroPad2d``, ``F.pad``): the box moves, nothing is recomputed.
* :class:`Merge` — residual additions, products of two maps, concatenation over channels: the output box
  is the union of the inputs' boxes, each input read on it.

:func:`rule_for` picks the rule of one traced node (``torch.fx``) or says in words why there is none; the
engine (:mod:`.engine`) then runs that layer, and everything after it, on whole maps.
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn
from torch.nn import functional as F

#: modules computed position by position (batch-norm only in eval mode with running statistics)
POINTWISE_MODULES: tuple[type, ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign, nn.Tanhshrink,
    nn.LogSigmoid, nn.Hardshrink, nn.Softshrink, nn.Threshold, nn.Identity, nn.Dropout, nn.Dropout2d,
    nn.AlphaDropout, nn.FeatureAlphaDropout, nn.BatchNorm2d,
)
#: functions computed position by position (their tensor argument first, constants after)
POINTWISE_FUNCTIONS: frozenset = frozenset({
    torch.relu, F.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, F.hardtanh,
    F.hardswish, F.hardsigmoid, F.softplus, F.softsign, F.logsigmoid, F.tanhshrink, F.threshold, F.prelu,
    torch.sigmoid, torch.tanh, F.sigmoid, F.tanh, torch.clamp, torch.clip, torch.abs, torch.neg, torch.exp,
    torch.sqrt, torch.rsqrt, torch.square, operator.neg, F.dropout, F.dropout2d, F.batch_norm,
})
#: element-wise functions of several tensors (maps of one size, or a map and a constant)
ELEMENTWISE_FUNCTIONS: frozenset = frozenset({
    operator.add, operator.sub, operator.mul, operator.truediv, operator.iadd, operator.isub, operator.imul,
    operator.itruediv, torch.add, torch.sub, torch.mul, torch.div, torch.maximum, torch.minimum,
})
#: tensor methods computed position by position or element-wise
POINTWISE_METHODS: frozenset = frozenset({
    "relu", "sigmoid", "tanh", "clamp", "clip", "abs", "neg", "exp", "sqrt", "square", "contiguous",
    "add", "sub", "mul", "div", "maximum", "minimum", "__add__", "__mul__", "__sub__", "__truediv__",
})
#: tensor methods that only describe a tensor (its shape), never its values
SHAPE_METHODS: frozenset = frozenset({"size", "dim", "ndimension", "numel", "nelement"})
SHAPE_ATTRIBUTES: frozenset = frozenset({"shape", "ndim", "dtype", "device"})


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a window layer: its kernel, stride, padding before the first position, dilation."""

    kernel: int
    stride: int
    pad: int
    dilation: int = 1

    @property
    def reach(self) -> int:
        """How far past its first input position a window reads: ``dilation * (kernel - 1)``."""
        return self.dilation * (self.kernel - 1)


class Rule:
    """How one layer is recomputed on patches (see the module docstring for the kinds)."""

    kind = ""


@dataclass
class Pointwise(Rule):
    """Position by position: ``fn(patch)`` (a module), or the node itself on the patch (``fn`` None); the box
    does not change."""

    fn: Callable[[torch.Tensor], torch.Tensor] | None = None
    kind = "pointwise"


@dataclass
class Window(Rule):
    """A window layer: ``fn`` computes it without padding on an input region; ``fill`` is its padding value."""

    fn: Callable[[torch.Tensor], torch.Tensor]
    axes: tuple[Axis, Axis]
    fill: float
    kind = "window"


@dataclass
class Shift(Rule):
    """Constant padding: the box moves by ``(top, left)``; the values do not change."""

    top: int
    left: int
    kind = "shift"


@dataclass
class Merge(Rule):
    """An element-wise function of maps (or a concatenation over channels): the node on the union of its
    ``inputs``' boxes, each map read there."""

    inputs: list[fx.Node]
    kind = "merge"


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


def _padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int] | str:
    """The padding before the first position of each axis (``"same"`` split as torch splits it)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))  # type: ignore[return-value]
        return f"padding={padding!r}"
    return _pair(padding)


def _window(fn, kernel, stride, padding, dilation, fill: float) -> Window | str:
    kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
    pad = _padding(padding, kernel, dilation)
    if isinstance(pad, str):
        return pad
    axes = tuple(Axis(k, s, p, d) for k, s, p, d in zip(kernel, stride, pad, dilation, strict=True))
    return Window(fn, axes, fill)  # type: ignore[arg-type]


def conv_rule(weight, bias, stride, padding, dilation, groups, padding_mode: str = "zeros") -> Window | str:
    """A 2-D convolution as a :class:`Window` (zero padding only: other modes fold the map's border)."""
    if padding_mode != "zeros":
        return f"padding_mode={padding_mode!r} (only zero padding is local)"
    if weight.dim() != 4:
        return "not a 2-D convolution"

    def fn(region):
        return F.conv2d(region, weight, bias, stride, 0, dilation, groups)

    return _window(fn, weight.shape[-2:], stride, padding, dilation, 0.0)


def max_pool_rule(kernel, stride, padding, dilation, ceil_mode, return_indices) -> Window | str:
    """Max pooling as a :class:`Window` padded with -inf (``ceil_mode`` too: the extra windows read -inf)."""
    if return_indices:
        return "max pooling that returns indices"
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride

    def fn(region):
        return F.max_pool2d(region, kernel, stride, 0, dilation)

    return _window(fn, kernel, stride, padding, dilation, -math.inf)


def avg_pool_rule(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override) -> Window | str:
    """Average pooling as a :class:`Window` padded with zeros (its padding counted, as torch counts it)."""
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    if ceil_mode:
        return "average pooling with ceil_mode=True (its last windows divide by fewer positions)"
    if any(_pair(padding)) and not count_include_pad:
        return "average pooling with count_include_pad=False and padding (the border divides by fewer positions)"

    def fn(region):
        return F.avg_pool2d(region, kernel, stride, 0, False, True, divisor_override)

    return _window(fn, kernel, stride, padding, 1, 0.0)


def adaptive_pool_rule(kind: str, size_in: tuple[int, int], size_out: tuple[int, int]) -> Window | str:
    """Adaptive pooling whose output size divides its input size: pooling by windows of ``in / out``."""
    if any(o == 0 or i % o for i, o in zip(size_in, size_out, strict=True)):
        return f"adaptive pooling from {tuple(size_in)} to {tuple(size_out)} (windows of different sizes)"
    kernel = tuple(i // o for i, o in zip(size_in, size_out, strict=True))
    if kind == "max":
        return max_pool_rule(kernel, kernel, 0, 1, False, False)
    return avg_pool_rule(kernel, kernel, 0, False, True, None)


def pad_rule(pad: Any, mode: str, value: Any) -> Shift | str:
    """Constant padding of the last two axes as a :class:`Shift` (other modes mirror or wrap the border)."""
    if mode != "constant":
        return f"{mode!r} padding (it copies the map's border, not a constant)"
    pad = [int(p) for p in pad]
    if len(pad) not in (2, 4) or min(pad) < 0:
        return f"padding {pad} (only non-negative padding of the last two axes)"
    left, _right = pad[0], pad[1]
    top = pad[2] if len(pad) == 4 else 0
    return Shift(top, left)


def module_rule(module: nn.Module) -> Rule | str:
    """The rule of a module called on one map, or why it has none."""
    if isinstance(module, nn.Conv2d):
        return conv_rule(module.weight, module.bias, module.stride, module.padding, module.dilation, module.groups,
                         module.padding_mode)
    if isinstance(module, nn.MaxPool2d):
        return max_pool_rule(module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode,
                             module.return_indices)
    if isinstance(module, nn.AvgPool2d):
        return avg_pool_rule(module.kernel_size, module.stride, module.padding, module.ceil_mode,
                             module.count_include_pad, module.divisor_override)
    if isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d)):
        return pad_rule(module.padding, "constant", getattr(module, "value", 0.0))
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        if not isinstance(module, nn.BatchNorm2d):
            return f"{type(module).__name__} (not 2-D)"
        if module.training or module.running_mean is None:
            return "batch-norm that normalises by the batch's statistics (training mode, or no running statistics)"
        return Pointwise(module)
    if isinstance(module, POINTWISE_MODULES):
        if getattr(module, "inplace", False):
            module = copy.copy(module)  # the same parameters, computed out of place
            module.inplace = False
        return Pointwise(module)
    return f"{type(module).__name__} is not a layer incremental inference knows"


def function_rule(target: Callable, args: tuple, kwargs: dict, maps: list[fx.Node],
                  value_of: Callable[[Any], Any]) -> Rule | str:
    """The rule of a function (``F.conv2d``, ``torch.relu``, ``operator.add``...) whose map arguments are
    ``maps``; ``value_of`` gives the value of a constant argument (a weight, a kernel size)."""
    b = {k: value_of(v) if k != "input" else v for k, v in bind(target, args, kwargs).items()}
    if target in (F.conv2d, torch.conv2d):
        if len(maps) != 1 or b.get("input") is not maps[0] or not isinstance(b.get("weight"), torch.Tensor):
            return "a convolution whose weights depend on the input"
        return conv_rule(b["weight"], b.get("bias"), b.get("stride", 1), b.get("padding", 0), b.get("dilation", 1),
                         b.get("groups", 1))
    if target in (F.max_pool2d, torch.max_pool2d):
        return max_pool_rule(b["kernel_size"], b.get("stride"), b.get("padding", 0), b.get("dilation", 1),
                             b.get("ceil_mode", False), b.get("return_indices", False))
    if target is F.avg_pool2d:
        return avg_pool_rule(b["kernel_size"], b.get("stride"), b.get("padding", 0), b.get("ceil_mode", False),
                             b.get("count_include_pad", True), b.get("divisor_override"))
    if target is F.pad:
        if len(maps) != 1 or b.get("input") is not maps[0]:
            return "padding of something other than a map"
        return pad_rule(b.get("pad"), b.get("mode", "constant"), b.get("value", 0.0))
    if target in (torch.cat, torch.concat):
        dim = b.get("dim", 0)
        if dim not in (1, -3):
            return f"concatenation along dim={dim} (only channels, dim=1, keep positions apart)"
        return Merge(maps)
    if target in POINTWISE_FUNCTIONS or target in ELEMENTWISE_FUNCTIONS:
        if target is F.batch_norm and b.get("training", False):
            return "batch-norm in training mode"
        return Pointwise() if len(maps) == 1 and target in POINTWISE_FUNCTIONS else Merge(maps)
    return f"{getattr(target, '__name__', target)} is not a function incremental inference knows"


def method_rule(name: str, maps: list[fx.Node]) -> Rule | str:
    """The rule of a tensor method (``x.relu()``, ``x.add(y)``...)."""
    if name in POINTWISE_METHODS:
        return Pointwise() if len(maps) == 1 else Merge(maps)
    return f"the method .{name}() is not one incremental inference knows"


_SIGNATURES: dict[Any, tuple[str, ...]] = {
    F.conv2d: ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    torch.conv2d: ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    F.max_pool2d: ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    torch.max_pool2d: ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    F.avg_pool2d: ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                   "divisor_override"),
    F.pad: ("input", "pad", "mode", "value"),
    F.adaptive_avg_pool2d: ("input", "output_size"),
    F.adaptive_max_pool2d: ("input", "output_size", "return_indices"),
    torch.cat: ("tensors", "dim"),
    torch.concat: ("tensors", "dim"),
    F.batch_norm: ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"),
}


def bind(target, args: tuple, kwargs: dict) -> dict:
    """The arguments of a function with a rule by name (``input`` first; empty for other functions)."""
    names = _SIGNATURES.get(target, ("input",))
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    return bound


#: adaptive pooling, module or function, and what it takes
ADAPTIVE_POOLS: dict[Any, str] = {nn.AdaptiveAvgPool2d: "avg", nn.AdaptiveMaxPool2d: "max",
                                  F.adaptive_avg_pool2d: "avg", F.adaptive_max_pool2d: "max"}

__all__ = ["ADAPTIVE_POOLS", "Axis", "Merge", "Pointwise", "Rule", "Shift", "Window", "adaptive_pool_rule",
           "avg_pool_rule", "bind", "conv_rule",
           "function_rule", "max_pool_rule", "method_rule", "module_rule", "pad_rule"]
