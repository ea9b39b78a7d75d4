"""Incremental inference: a CNN's outputs for many copies of one input that each differ from it in a box.

Nakandala, Kumar & Papakonstantinou (SIGMOD 2019, "Incremental and Approximate Inference for Faster
Occlusion-based Deep CNN Explanations", the Krypton system): an occluded image differs from the image in
one patch, and each layer's output differs from the image's own activations only in the patch's growing
receptive field. :class:`IncrementalModel` traces the module (``torch.fx``), runs the reference input once
and keeps every activation, then, for a batch of patches, recomputes each layer only on the box of
positions that can differ (the input box pushed through the layer's window, :mod:`.rules`), reading the
cached activations around it; results equal full forward passes up to float rounding.

A layer without a rule (or whose output is not a spatial map) and everything after it run on whole maps:
the patch is pasted into a copy of the cached map there. That is how the global pooling and the head run,
and how an unknown layer falls back, automatically; :attr:`IncrementalModel.engine` says which happened.
:class:`Plan` holds the boxes of N patches and the estimated cost against full forward passes
(:attr:`Plan.fraction`), so a caller can decide from the changed area whether it pays off.

Examples
--------
>>> engine = IncrementalModel(cnn, image)                  # (C, H, W) reference input
>>> engine.engine
'incremental'
>>> plan = engine.plan(rows, cols, 16, 16)                 # N boxes of 16 x 16 at (rows[i], cols[i])
>>> plan.fraction                                           # estimated cost / full forward passes
0.31
>>> outputs = engine.run(plan, 0, 8, patches[:8])          # (8, n_outputs), patches (8, C, 16, 16)
"""

from __future__ import annotations

import contextlib
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import fx
from torch.nn import functional as F

from ...adapters.folding import folded
from ...adapters.tracing import trace
from .rules import (
    ADAPTIVE_POOLS,
    SHAPE_ATTRIBUTES,
    SHAPE_METHODS,
    Merge,
    Pointwise,
    Rule,
    Shift,
    Window,
    adaptive_pool_rule,
    bind,
    function_rule,
    method_rule,
    module_rule,
)

#: cost of one element written by an element-wise layer, in multiply-adds of a convolution (calibrated:
#: batch-norm and ReLU of a small ResNet at 224² take ~30 multiply-add times per element)
ELEMENT_COST = 30.0
#: cost of one value of a region gathered from a cached map (and its patch pasted), in multiply-adds
COPY_COST = 10.0

_IN_PLACE_FUNCTIONS = {operator.iadd: operator.add, operator.isub: operator.sub, operator.imul: operator.mul,
                       operator.itruediv: operator.truediv}

@dataclass
class Box:
    """N boxes of one size ``(h, w)`` at rows ``y`` and columns ``x`` of a map (inside it)."""

    y: np.ndarray
    x: np.ndarray
    h: int
    w: int

    def same(self, other: Box) -> bool:
        return (self.h, self.w) == (other.h, other.w) and np.array_equal(self.y, other.y) and np.array_equal(
            self.x, other.x)


@dataclass
class Region:
    """What a window layer reads for each patch: rows ``y``, columns ``x`` of its input padded by ``pads``
    (top, bottom, left, right), ``h`` x ``w`` positions."""

    y: np.ndarray
    x: np.ndarray
    h: int
    w: int
    pads: tuple[int, int, int, int]


@dataclass
class Plan:
    """Where every layer is recomputed for N patches; ``fraction`` is the estimated cost of running them
    incrementally relative to N full forward passes (below about 0.8 incremental inference pays off)."""

    boxes: dict[fx.Node, Box]
    regions: dict[fx.Node, Region]
    n: int
    h: int
    w: int
    fraction: float
    composed: dict[fx.Node, list[bool]] = field(default_factory=dict)


def _ceil_div(a: np.ndarray, b: int) -> np.ndarray:
    return -((-a) // b)


def _window_axis(start: np.ndarray, size: int, axis, n_in: int, n_out: int) -> tuple[np.ndarray, int]:
    """Output starts and common size of the boxes a window layer's output can differ in, along one axis."""
    lo = np.clip(_ceil_div(start + axis.pad - axis.reach, axis.stride), 0, n_out - 1)
    hi = np.clip((start + size - 1 + axis.pad) // axis.stride, 0, n_out - 1)
    out = max(1, int((hi - lo).max()) + 1) if len(start) else 1
    if out >= n_out:
        return np.zeros_like(start), n_out
    return np.minimum(lo, n_out - out), out


def _union(boxes: list[Box], height: int, width: int) -> Box:
    """The per-sample union of boxes, one common size, moved inside the map."""
    y0 = np.min([b.y for b in boxes], axis=0)
    y1 = np.max([b.y + b.h for b in boxes], axis=0)
    x0 = np.min([b.x for b in boxes], axis=0)
    x1 = np.max([b.x + b.w for b in boxes], axis=0)
    h = min(height, int((y1 - y0).max()))
    w = min(width, int((x1 - x0).max()))
    return Box(np.minimum(y0, height - h), np.minimum(x0, width - w), h, w)


def _is_map(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() == 4 and value.shape[0] == 1


def _uniform(value: Any) -> bool:
    """A constant that is the same at every position (a scalar, or a tensor of size 1 along both spatial axes)."""
    if not isinstance(value, torch.Tensor) or value.dim() == 0:
        return True
    return value.shape[-1] == 1 and (value.dim() == 1 or value.shape[-2] == 1)


def _tensors(value: Any) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []
    fx.node.map_aggregate(value, lambda v: found.append(v) if isinstance(v, torch.Tensor) else v)
    return found


class IncrementalModel:
    """A torch module and one reference input, ready to compute outputs for patched copies of the input.

    Parameters
    ----------
    module : torch.nn.Module
        The model (run in eval mode, without gradients, as the model adapter runs it).
    reference : (C, H, W) array
        The input every patch is relative to (the image; for a superpixel game also the fill image).

    Attributes
    ----------
    supported : bool — whether any layer runs incrementally.
    engine : str — "incremental", "incremental up to <layer> (...), full maps after it" or "full (<reason>)".
    reference_output : (n_outputs,) float64 or None — the traced model's output for the reference input
        (None when the engine is not supported).
    """

    def __init__(self, module: torch.nn.Module, reference: np.ndarray):
        self.module = module
        self.reason: str | None = None
        self.frontier: list[tuple[fx.Node, str]] = []
        self.modes: dict[fx.Node, str] = {}
        self.rules: dict[fx.Node, Rule] = {}
        self.refs: dict[fx.Node, Any] = {}
        self.costs: dict[fx.Node, float] = {}
        self._padded: dict[tuple, np.ndarray] = {}
        self._windows: dict[tuple, np.ndarray] = {}
        self._map_inputs: dict[fx.Node, list[fx.Node]] = {}
        params = [p for p in module.parameters()] + [b for b in module.buffers() if b.is_floating_point()]
        self.dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32
        self.device = params[0].device if params else torch.device("cpu")
        reference = np.asarray(reference)
        if reference.ndim != 3:
            raise ValueError(f"reference must be a (C, H, W) input; got shape {reference.shape}")
        self.input_shape = tuple(reference.shape)
        if self.device.type != "cpu" or self.dtype not in (torch.float32, torch.float64):
            self.reason = "incremental inference runs on CPU models with float32 or float64 weights"
        x = torch.from_numpy(np.ascontiguousarray(reference)).to(self.dtype)[None]
        self.graph: fx.GraphModule | None = None
        self.reference_output: np.ndarray | None = None
        with self._running():  # traced in eval mode: a forward may branch on self.training
            # the graph of what the adapter runs: batch-norms folded into their convolutions (adapters.folding)
            self.traced_module = folded(module)
            traced = trace(self.traced_module) if self.reason is None else self.reason
            if isinstance(traced, str):
                self.reason = traced
            else:
                self.graph = traced
                self.nodes = list(traced.graph.nodes)
                self.named = dict(traced.named_modules())
                self.dead_after = _dead_after(self.nodes)
            try:
                if self.graph is not None:
                    try:  # channels last, as the patches run: the same kernels, so an unchanged patch gives
                        # the same bits (an occlusion that changes nothing drops by exactly 0)
                        self._reference_run(x.contiguous(memory_format=torch.channels_last))
                    except RuntimeError:  # a layer that cannot take that layout (a .view() of a map)
                        self._reference_run(x)
                if self.reason is None:
                    self._classify()
                    self.reference_output = _as_outputs(self.refs[self._output])[0]
            except Exception as exc:  # the traced graph does not run as the model does: full forward passes
                self.reason = f"the traced model failed on the input ({type(exc).__name__}: {exc})"
        if self.reason is not None:
            self.reference_output = None

    # -- description -----------------------------------------------------------------------------------------
    @property
    def supported(self) -> bool:
        return self.reason is None

    @property
    def engine(self) -> str:
        """How a batch of patches is computed, in words (for results)."""
        if self.reason is not None:
            return f"full ({self.reason})"
        spatial = [(n, why) for n, why in self.frontier if why]
        if not spatial:
            return "incremental"
        node, why = spatial[0]
        return f"incremental up to {self.describe(node)} ({why}), full maps after it"

    def describe(self, node: fx.Node) -> str:
        """A layer in words: "layer 'name' (Type)" for a module, "'name'" for a function; a module is named as
        the model has it (a batch-norm folded into its convolution is still the model's batch-norm)."""
        if node.op == "call_module":
            own = dict(self.module.named_modules()).get(node.target, self.named[node.target])
            return f"layer '{node.target}' ({type(own).__name__})"
        return f"'{node.name}'"

    # -- set-up: one reference run, then a mode per node -----------------------------------------------------
    @contextlib.contextmanager
    def _running(self):
        """Eval mode and no gradients, as the model adapter runs a model; only modules that are training are
        switched (and back): ``Module.eval()`` walks every module through ``__setattr__``."""
        modules = getattr(self, "_modules", None)
        if modules is None:
            modules = self._modules = list(self.module.modules())
        training = [m for m in modules if m.training]
        for m in training:
            m.training = False
        try:
            with torch.inference_mode():
                yield
        finally:
            for m in training:
                m.training = True

    def _reference_run(self, x: torch.Tensor) -> None:
        env: dict[fx.Node, Any] = {}
        placeholders = [n for n in self.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            self.reason = f"the model takes {len(placeholders)} inputs (incremental inference needs one)"
            return
        for node in self.nodes:
            if node.op == "placeholder":
                env[node] = x
            elif node.op == "output":
                self._output = node
                env[node] = fx.node.map_arg(node.args[0], env.__getitem__)
            else:
                if self._in_place(node):
                    first = node.args[0]
                    if isinstance(first, fx.Node) and len(first.users) > 1:
                        self.reason = f"{self.describe(node)} changes a tensor in place that other layers read"
                        return
                    if isinstance(first, fx.Node) and isinstance(env[first], torch.Tensor):
                        env[first] = env[first].clone()  # keep the cached map as it was before the change
                env[node] = self._execute(node, env)
        self.refs = env

    def _in_place(self, node: fx.Node) -> bool:
        if node.op == "call_module":
            return bool(getattr(self.named[node.target], "inplace", False))
        if node.op == "call_method":
            return node.target.endswith("_") and not node.target.endswith("__")
        if node.op == "call_function":
            return node.target in _IN_PLACE_FUNCTIONS or bool(node.kwargs.get("inplace", False))
        return False

    def _classify(self) -> None:
        modes = self.modes
        for node in self.nodes:
            if node.op == "placeholder":
                modes[node] = "map" if _is_map(self.refs[node]) else "full"
                if modes[node] == "full":
                    self.reason = "the model's input is not a (1, C, H, W) image batch"
                    return
                continue
            if node.op == "output":
                modes[node] = "output"
                continue
            if node.op == "get_attr":
                modes[node] = "const"
                continue
            kinds = {modes[i] for i in node.all_input_nodes}
            if kinds <= {"const"}:
                modes[node] = "const"
            elif self._shape_query(node):
                modes[node] = "shape"
            elif "full" in kinds:
                modes[node] = "full"
            elif "map" not in kinds:
                modes[node] = "meta"
            else:
                rule = self._rule(node)
                if isinstance(rule, str):
                    modes[node] = "full"
                    out = self.refs[node]
                    spatial = _is_map(out) and out.shape[-2:] != (1, 1)
                    self.frontier.append((node, rule if spatial else ""))
                else:
                    modes[node] = "map"
                    self.rules[node] = rule
        if not self.rules:
            first = next((n for n, _ in self.frontier), None)
            self.reason = (f"{self.describe(first)} is not supported: {self.frontier[0][1] or 'not a spatial layer'}"
                           if first is not None else "no layer works on the image")
            return
        if not any(isinstance(r, Window) for r in self.rules.values()):
            self.reason = "no convolution or pooling runs incrementally"
            return
        for node in self.nodes:
            self.costs[node] = self._cost(node)
        # only what later batches read stays cached: constants, maps read around their patches, and outputs
        keep = {n for n, m in modes.items() if m in ("const", "map")}
        self.refs = {n: v for n, v in self.refs.items() if n in keep or n is self._output}

    def _shape_query(self, node: fx.Node) -> bool:
        if node.op == "call_method" and node.target in SHAPE_METHODS:
            return self.modes.get(node.args[0]) == "map"
        if node.op == "call_function" and node.target is getattr and len(node.args) == 2:
            return node.args[1] in SHAPE_ATTRIBUTES and self.modes.get(node.args[0]) == "map"
        return False

    def _rule(self, node: fx.Node) -> Rule | str:
        out = self.refs[node]
        maps = [i for i in node.all_input_nodes if self.modes[i] == "map"]
        if not _is_map(out):
            return "its output is not a spatial map"
        kind = ADAPTIVE_POOLS.get(type(self.named[node.target]) if node.op == "call_module" else node.target)
        if kind is not None and node.op in ("call_module", "call_function"):
            if len(maps) != 1 or node.args[:1] != (maps[0],):
                return "adaptive pooling of something other than a map"
            if node.op == "call_function" and bind(node.target, node.args, node.kwargs).get("return_indices"):
                return "adaptive max pooling that returns indices"
            rule = adaptive_pool_rule(kind, tuple(self.refs[maps[0]].shape[-2:]), tuple(out.shape[-2:]))
        elif node.op == "call_module":
            if len(maps) != 1 or node.args[:1] != (maps[0],) or len(node.args) > 1 or node.kwargs:
                return f"{type(self.named[node.target]).__name__} called with more than a map"
            rule = module_rule(self.named[node.target])
        elif node.op == "call_function":
            rule = function_rule(node.target, node.args, node.kwargs, maps, self._value_of)
        elif node.op == "call_method":
            name = node.target[:-1] if node.target.endswith("_") and not node.target.endswith("__") else node.target
            rule = method_rule(name, maps)
        else:
            return f"{node.op} is not a layer"
        if isinstance(rule, str):
            return rule
        size = out.shape[-2:]
        if isinstance(rule, (Pointwise, Merge)):
            if any(self.refs[m].shape[-2:] != size for m in maps):
                return "it combines maps of different sizes"
            others = [t for t in _tensors(fx.node.map_arg((node.args, node.kwargs), self._value_of_any))
                      if not _is_map(t) or t.shape[-2:] != size]
            if any(not _uniform(t) for t in others):
                return "it uses a constant that differs between positions"
        if isinstance(rule, Window | Shift) and not _is_map(self.refs[maps[0]]):
            return "its input is not a spatial map"
        return rule

    def _value_of(self, value: Any) -> Any:
        if isinstance(value, fx.Node):
            return self.refs[value] if self.modes.get(value) == "const" else value
        return value

    def _value_of_any(self, node: fx.Node) -> Any:
        return self.refs.get(node)

    # -- cost ------------------------------------------------------------------------------------------------
    def _macs(self, node: fx.Node, out: torch.Tensor) -> float:
        """Multiply-adds of a convolution, linear layer or pooling (per output value times the window)."""
        weight = None
        if node.op == "call_module":
            m = self.named[node.target]
            if isinstance(m, torch.nn.Linear):
                return float(out.numel() * m.in_features)
            weight = getattr(m, "weight", None) if isinstance(m, torch.nn.Conv2d) else None
        elif node.op == "call_function" and node.target in (F.conv2d, torch.conv2d, F.linear):
            weight = self._value_of(bind(node.target, node.args, node.kwargs).get("weight"))
            if node.target is F.linear and isinstance(weight, torch.Tensor):
                return float(out.numel() * weight.shape[-1])
        if isinstance(weight, torch.Tensor):
            return float(out.numel() * weight[0].numel())
        rule = self.rules.get(node)
        if isinstance(rule, Window):
            return float(out.numel() * rule.axes[0].kernel * rule.axes[1].kernel)
        return 0.0

    def _cost(self, node: fx.Node) -> float:
        if self.modes.get(node) not in ("map", "full") or node.op == "placeholder":
            return 0.0
        out = self.refs.get(node)
        if not isinstance(out, torch.Tensor):
            return 0.0
        return self._macs(node, out) + ELEMENT_COST * out.numel()

    # -- plans -----------------------------------------------------------------------------------------------
    def plan(self, y: Any, x: Any, h: int, w: int, until: fx.Node | None = None) -> Plan:
        """The boxes of every layer for N patches of ``h`` x ``w`` at rows ``y`` and columns ``x`` of the input
        (inside it), and the estimated cost against full forward passes (``until``: only up to that layer,
        for :meth:`run_until`)."""
        if self.reason is not None:
            raise RuntimeError(f"incremental inference is not available: {self.reason}")
        _, height, width = self.input_shape
        y = np.asarray(y, dtype=np.int64)
        x = np.asarray(x, dtype=np.int64)
        h, w = int(h), int(w)
        if not (0 < h <= height and 0 < w <= width) or y.shape != x.shape or y.ndim != 1:
            raise ValueError(f"boxes of {h} x {w} at {y.shape} rows do not fit a {height} x {width} input")
        if len(y) and (y.min() < 0 or x.min() < 0 or y.max() + h > height or x.max() + w > width):
            raise ValueError("every box must lie inside the input")
        boxes: dict[fx.Node, Box] = {}
        regions: dict[fx.Node, Region] = {}
        composed: dict[fx.Node, list[bool]] = {}
        cost = 0.0
        for node in self.nodes:
            mode = self.modes.get(node)
            if mode == "full":
                maps = [i for i in node.all_input_nodes if i in boxes]
                cost += self.costs[node] + COPY_COST * sum(self.refs[m][0].numel() for m in maps)
                continue
            if node.op == "output":
                arg = node.args[0]
                if isinstance(arg, fx.Node) and arg in boxes:
                    cost += COPY_COST * self.refs[arg][0].numel()
                continue
            if mode != "map":
                continue
            if node.op == "placeholder":
                boxes[node] = Box(y, x, h, w)
                continue
            rule = self.rules[node]
            out = self.refs[node]
            oh, ow = out.shape[-2:]
            if isinstance(rule, Pointwise):
                boxes[node] = boxes[self._maps(node)[0]]
            elif isinstance(rule, Shift):
                b = boxes[self._maps(node)[0]]
                boxes[node] = Box(b.y + rule.top, b.x + rule.left, b.h, b.w)
            elif isinstance(rule, Window):
                source = self._maps(node)[0]
                b = boxes[source]
                ih, iw = self.refs[source].shape[-2:]
                ay, ax = rule.axes
                oy, bh = _window_axis(b.y, b.h, ay, ih, oh)
                ox, bw = _window_axis(b.x, b.w, ax, iw, ow)
                rh, rw = (bh - 1) * ay.stride + ay.reach + 1, (bw - 1) * ax.stride + ax.reach + 1
                pads = (ay.pad, max(0, (oh - 1) * ay.stride + ay.reach + 1 - ay.pad - ih),
                        ax.pad, max(0, (ow - 1) * ax.stride + ax.reach + 1 - ax.pad - iw))
                regions[node] = Region(oy * ay.stride, ox * ax.stride, rh, rw, pads)
                boxes[node] = Box(oy, ox, bh, bw)
                cost += COPY_COST * self.refs[source].shape[1] * rh * rw
            else:  # Merge
                maps = self._maps(node)
                union = _union([boxes[m] for m in maps], oh, ow)
                boxes[node] = union
                composed[node] = [not boxes[m].same(union) for m in maps]
                cost += COPY_COST * sum(self.refs[m].shape[1] * union.h * union.w
                                        for m, c in zip(maps, composed[node], strict=True) if c)
            box = boxes[node]
            cost += self.costs[node] * (box.h * box.w) / (oh * ow)
            if node is until:
                break
        total = sum(self.costs.values())
        return Plan(boxes, regions, len(y), h, w, cost / total if total else 1.0, composed)

    def stem(self) -> fx.Node | None:
        """The last layer of the model's linear stem, or None: the layers from the input on that are affine
        in it (convolutions, batch-norm in eval mode, constant padding, average pooling, arithmetic with
        constants), one after the other, with at least one convolution (see :mod:`.stem`)."""
        if self.reason is not None:
            return None
        current = next(n for n in self.nodes if n.op == "placeholder")
        cut, cost = None, 0.0
        while True:
            users = [u for u in current.users if self.modes.get(u) != "shape"]
            if len(users) != 1 or self.modes.get(users[0]) != "map" or self._maps(users[0]) != [current]:
                break
            kind = self._affine(users[0])
            if kind is None:
                break
            current = users[0]
            cost += self.costs[current]
            if kind == "conv" or cut is not None:
                cut = current
        self.stem_cost = cost
        return cut

    def _affine(self, node: fx.Node) -> str | None:
        """"conv" for a convolution, "affine" for another layer affine in its input, None otherwise."""
        rule = self.rules.get(node)
        target = self.named[node.target] if node.op == "call_module" else node.target
        if isinstance(rule, Shift):
            return "affine"
        if isinstance(rule, Window):
            if isinstance(target, torch.nn.Conv2d) or target in (F.conv2d, torch.conv2d):
                return "conv"
            linear = (torch.nn.AvgPool2d, torch.nn.AdaptiveAvgPool2d)
            return "affine" if isinstance(target, linear) or target in (F.avg_pool2d, F.adaptive_avg_pool2d) else None
        if isinstance(rule, Pointwise):
            identities = (torch.nn.BatchNorm2d, torch.nn.Identity, torch.nn.Dropout, torch.nn.Dropout2d)
            if isinstance(target, identities) or target in (F.batch_norm, F.dropout, F.dropout2d, operator.neg,
                                                            torch.neg) or target in ("contiguous", "neg"):
                return "affine"
            return None
        if isinstance(rule, Merge) and len(rule.inputs) == 1:
            scaling = (operator.mul, operator.truediv, torch.mul, torch.div, "mul", "div", "__mul__", "__truediv__")
            shifting = (operator.add, operator.sub, torch.add, torch.sub, "add", "sub", "__add__", "__sub__")
            if target in shifting or (target in scaling and node.args[0] is rule.inputs[0]
                                      or target in (operator.mul, torch.mul, "mul", "__mul__")):
                return "affine"
        return None

    def _maps(self, node: fx.Node) -> list[fx.Node]:
        """The node's inputs that are maps run incrementally (cached per node)."""
        maps = self._map_inputs.get(node)
        if maps is None:
            maps = self._map_inputs[node] = [i for i in node.all_input_nodes if self.modes.get(i) == "map"]
        return maps

    # -- running ---------------------------------------------------------------------------------------------
    def run(self, plan: Plan, start: int, stop: int, patches: Any) -> np.ndarray:
        """The model's outputs ``(stop - start, n_outputs)`` for patches ``start:stop`` of ``plan``: the
        reference input with ``patches`` (B, C, h, w) written into the plan's boxes."""
        with self._running():
            return _as_outputs(self._run(plan, start, stop, patches))

    def run_until(self, plan: Plan, start: int, stop: int, patches: Any, node: fx.Node) -> tuple[torch.Tensor, Box]:
        """The patches of layer ``node`` (a map run incrementally) and their boxes, for patches ``start:stop``."""
        with self._running():
            return self._run(plan, start, stop, patches, until=node)

    def run_from(self, node: fx.Node, maps: torch.Tensor) -> np.ndarray:
        """The model's outputs when layer ``node`` gives the whole maps ``maps`` (B, C, h, w): the layers
        after it on whole maps (see :mod:`.stem`)."""
        with self._running():
            env: dict[fx.Node, Any] = {}
            n = len(maps)
            after = False
            for current in self.nodes:
                mode = self.modes[current]
                if current is node:
                    # channels last in memory, as the adapter's full passes run: the layers after run faster
                    env[current], after = maps.contiguous(memory_format=torch.channels_last), True
                elif mode == "const":
                    env[current] = self.refs[current]
                elif mode == "shape":
                    ref = self.refs[current.args[0]]
                    meta = torch.empty((n, *ref.shape[1:]), dtype=ref.dtype, device="meta")
                    env[current] = self._execute(current, {**env, current.args[0]: meta})
                elif current.op == "output":
                    return _as_outputs(fx.node.map_arg(current.args[0], env.__getitem__))
                elif after:
                    env[current] = self._execute(current, env)
                _forget(env, self.dead_after[current])
        raise RuntimeError("the traced graph has no output")

    def _run(self, plan: Plan, start: int, stop: int, patches: Any, until: fx.Node | None = None) -> Any:
        n = stop - start
        data = torch.as_tensor(np.ascontiguousarray(patches)).to(self.dtype)
        if tuple(data.shape) != (n, self.input_shape[0], plan.h, plan.w):
            raise ValueError(f"patches must have shape {(n, self.input_shape[0], plan.h, plan.w)}; got {tuple(data.shape)}")
        env: dict[fx.Node, Any] = {}
        boxes = _Boxes(plan.boxes, start, stop)
        for node in self.nodes:
            mode = self.modes[node]
            if mode == "const":
                env[node] = self.refs[node]
            elif node.op == "placeholder":
                env[node] = data
            elif mode == "map":
                env[node] = self._apply(node, env, boxes, plan, start, stop)
                if node is until:
                    return env[node], boxes[node]
            elif mode == "shape":
                ref = self.refs.get(node.args[0])
                meta = torch.empty((n, *ref.shape[1:]), dtype=ref.dtype, device="meta")
                env[node] = self._execute(node, {**env, node.args[0]: meta})
            elif mode == "output":
                arg = node.args[0]
                return self._whole(arg, env[arg], boxes[arg]) if arg in boxes else fx.node.map_arg(
                    arg, env.__getitem__)
            else:  # "meta" and "full": the layer itself, on whole maps
                maps = self._maps(node)
                if maps:
                    env[node] = self._execute(node, {**env, **{m: self._whole(m, env[m], boxes[m]) for m in maps}})
                else:
                    env[node] = self._execute(node, env)
            _forget(env, self.dead_after[node])
        raise RuntimeError("the traced graph has no output")

    def _apply(self, node: fx.Node, env: dict, boxes: dict[fx.Node, Box], plan: Plan, start: int, stop: int):
        rule = self.rules[node]
        if isinstance(rule, Shift):
            return env[self._maps(node)[0]]
        if isinstance(rule, Pointwise):
            if rule.fn is not None:
                return rule.fn(env[self._maps(node)[0]])
            return self._execute(node, env, out_of_place=True)
        if isinstance(rule, Window):
            source = self._maps(node)[0]
            r = plan.regions[node]
            region = Region(r.y[start:stop], r.x[start:stop], r.h, r.w, r.pads)
            return rule.fn(self._compose(source, env[source], boxes[source], region, rule.fill))
        # Merge: every map read on the union box
        union = boxes[node]
        region = Region(union.y, union.x, union.h, union.w, (0, 0, 0, 0))
        values = dict(env)
        for m, compose in zip(self._maps(node), plan.composed[node], strict=True):
            if compose:
                values[m] = self._compose(m, env[m], boxes[m], region, 0.0)
        return self._execute(node, values, out_of_place=True)

    def _whole(self, node: fx.Node, patch: torch.Tensor, box: Box) -> torch.Tensor:
        """The whole maps of a batch: copies of the cached map with each patch written in (contiguous: the
        layers that take them may ``.view()`` them, as a head flattening a map does)."""
        _, _, height, width = self.refs[node].shape
        b = len(box.y)
        return self._compose(node, patch, box, Region(np.zeros(b, np.int64), np.zeros(b, np.int64), height,
                                                      width, (0, 0, 0, 0)), 0.0, channels_last=False)

    def _compose(self, node: fx.Node, patch: torch.Tensor, box: Box, region: Region, fill: float,
                 channels_last: bool = True) -> torch.Tensor:
        """Regions of a map read around patches: the cached map (padded with ``fill``) at ``region``, each
        patch written where it lies. With ``channels_last`` the regions' memory holds (B, h, w, C), as the
        adapter runs a CNN's full passes on the CPU: the convolutions read it faster (measured on 2 cores,
        1.1-2.9x for the small maps of patches), and each region row is one contiguous copy."""
        top, left = region.pads[0], region.pads[2]
        _, _, height, width = self.refs[node].shape
        if (box.h, box.w) == (height, width) and not region.y.any() and not region.x.any():
            # the patches are whole maps: the region is each one padded (one copy, no cached values read)
            padded = F.pad(patch, (left, region.w - left - width, top, region.h - top - height), value=fill)
            return padded.contiguous(memory_format=torch.channels_last) if channels_last else padded.contiguous()
        key = (node, region.pads, fill, region.h, region.w, channels_last)
        windows = self._windows.get(key)
        if windows is None:  # every h x w window of the padded map, (rows, columns, C, h, w) or (.., h, w, C)
            ref = self._padded_ref(node, region.pads, fill)
            if channels_last:
                ref = np.ascontiguousarray(ref.transpose(1, 2, 0))  # (H, W, C)
                windows = sliding_window_view(ref, (region.h, region.w), axis=(0, 1)).transpose(0, 1, 3, 4, 2)
            else:
                windows = sliding_window_view(ref, (region.h, region.w), axis=(1, 2)).transpose(1, 2, 0, 3, 4)
            self._windows[key] = windows
        out = windows[region.y, region.x]  # (B, C, h, w) or (B, h, w, C): a new array
        view = (patch.detach() if patch.dtype == self.dtype else patch.to(self.dtype)).numpy()  # (B, C, h, w)
        rows = out.transpose(0, 3, 1, 2) if channels_last else out  # (B, C, h, w) seen over out's memory
        py = box.y + top - region.y  # each patch's first row inside its region (may lie outside it)
        px = box.x + left - region.x
        if (py.min() == py.max() >= 0 and px.min() == px.max() >= 0 and py[0] + box.h <= region.h
                and px[0] + box.w <= region.w):  # every patch at the same place inside its region: one copy
            a, c = int(py[0]), int(px[0])
            rows[:, :, a:a + box.h, c:c + box.w] = view
            return torch.from_numpy(rows)
        y0, y1 = np.maximum(py, 0), np.minimum(py + box.h, region.h)
        x0, x1 = np.maximum(px, 0), np.minimum(px + box.w, region.w)
        for i, (a, b, c, d, p, q) in enumerate(zip(y0.tolist(), y1.tolist(), x0.tolist(), x1.tolist(),
                                                   py.tolist(), px.tolist(), strict=True)):
            if b > a and d > c:
                rows[i, :, a:b, c:d] = view[i, :, a - p:b - p, c - q:d - q]
        return torch.from_numpy(rows)

    def _padded_ref(self, node: fx.Node, pads: tuple[int, int, int, int], fill: float) -> np.ndarray:
        key = (node, pads, fill)
        ref = self._padded.get(key)
        if ref is None:
            a = self.refs[node][0].numpy()
            top, bottom, left, right = pads
            ref = np.pad(a, ((0, 0), (top, bottom), (left, right)), constant_values=fill) if any(pads) else a
            self._padded[key] = ref
        return ref

    def _execute(self, node: fx.Node, env: dict, out_of_place: bool = False) -> Any:
        """The node's own computation on the values in ``env`` (out of place: in-place variants are not)."""
        args = fx.node.map_arg(node.args, env.__getitem__)
        kwargs = fx.node.map_arg(node.kwargs, env.__getitem__)
        if node.op == "call_module":
            return self.named[node.target](*args, **kwargs)
        if node.op == "call_function":
            target = node.target
            if out_of_place:
                target = _IN_PLACE_FUNCTIONS.get(target, target)
                if kwargs.get("inplace"):
                    kwargs = {**kwargs, "inplace": False}
            return target(*args, **kwargs)
        if node.op == "call_method":
            name = node.target
            if out_of_place and name.endswith("_") and not name.endswith("__"):
                name = name[:-1]
            return getattr(args[0], name)(*args[1:], **kwargs)
        if node.op == "get_attr":
            value: Any = self.graph
            for part in node.target.split("."):
                value = getattr(value, part)
            return value
        raise RuntimeError(f"cannot run node {node.op}")


def _dead_after(nodes: list[fx.Node]) -> dict[fx.Node, list[fx.Node]]:
    """For each node, the nodes whose values no later node reads: a run drops them from its values, so a
    batch's maps are freed as the model's own forward pass frees them (and their memory is reused while it is
    still in the cache, instead of every map of the batch held to the end)."""
    dead: dict[fx.Node, list[fx.Node]] = {node: [] for node in nodes}
    seen: set[fx.Node] = set()
    for node in reversed(nodes):
        for used in node.all_input_nodes:
            if used not in seen:
                seen.add(used)
                dead[node].append(used)
    return dead


def _forget(env: dict, nodes: list[fx.Node]) -> None:
    for node in nodes:
        env.pop(node, None)


class _Boxes(dict):
    """The boxes of rows ``start:stop`` of a plan, sliced when first asked for."""

    def __init__(self, boxes: dict[fx.Node, Box], start: int, stop: int):
        super().__init__()
        self.all, self.start, self.stop = boxes, start, stop

    def __contains__(self, node) -> bool:
        return node in self.all

    def __missing__(self, node: fx.Node) -> Box:
        b = self.all[node]
        box = self[node] = Box(b.y[self.start:self.stop], b.x[self.start:self.stop], b.h, b.w)
        return box


def _as_outputs(out: Any) -> np.ndarray:
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the model returned {type(out).__name__}, not a tensor")
    if out.dtype not in (torch.float32, torch.float64):
        out = out.float()
    y = out.detach().cpu().numpy().astype(np.float64)
    return y[:, None] if y.ndim == 1 else y


__all__ = ["COPY_COST", "ELEMENT_COST", "Box", "IncrementalModel", "Plan", "Region", "trace"]
