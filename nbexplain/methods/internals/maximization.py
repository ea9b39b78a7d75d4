"""Activation maximisation: gradient ascent on the input until it excites a class, a channel or one unit.

Class maximisation (Simonyan, Vedaldi & Zisserman 2013, "Deep Inside Convolutional Networks") and the
feature visualisation of Olah, Mordvintsev & Schubert 2017: a batch of images, one objective each,
optimised together (the model is in eval mode, so the images do not interact). Each step:

    image = parameters.image()                 # pixels, or decorrelated Fourier/colour space (parameterization)
    seen = warp(image)                         # random jitter, scale, rotation (robustness)
    objective = target(model(seen)) - l2 * |image - middle|^2 - tv * TV(image)
    ascend the gradient of objective; every blur_every steps blur the image (Yosinski et al. 2015)

The forward pass stops at the deepest layer an objective needs (layers above it are never computed).
Everything random comes from one seeded ``torch.Generator``: the same seed gives the same images.

Examples
--------
>>> run = maximize_batch(module, [Objective("class", 967)], Settings(steps=64, size=(96, 96)))
>>> run.images.shape, run.curve.shape
((1, 3, 96, 96), (1, 64))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.images import to_display
from .activations import forward_to, layer_name
from .parameterization import ImageParameters
from .robustness import RandomWarp

KINDS = ("class", "channel", "unit")
OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class Objective:
    """What one image maximises: a class's score (or log-probability), a channel's mean activation at a
    layer, or one unit (channel at ``y, x`` of the layer's feature map)."""

    kind: str
    index: int
    layer: Any = None
    y: int | None = None
    x: int | None = None
    log_probability: bool = False


@dataclass(frozen=True)
class Settings:
    """How to optimise (see :func:`maximize_batch`); all lengths in pixels."""

    size: tuple[int, int] = (128, 128)
    channels: int = 3
    steps: int = 128
    lr: float = 0.05
    optimizer: str = "adam"
    fourier: bool = True
    decorrelate: bool = True
    jitter: float = 0.0
    scale: float = 0.0
    rotate: float = 0.0
    l2: float = 0.0
    tv: float = 0.0
    blur_every: int = 0
    blur_sigma: float = 0.5
    value_range: tuple[float, float] = (0.0, 1.0)
    seed: int = 0
    preview_every: int = 0


@dataclass
class Run:
    """What a maximisation found: ``images`` (N, C, H, W) float32 in the valid range, the ``curve`` of the
    objective maximised (N, steps), the target's final ``values`` (N,) on the untransformed images, and
    the model's final ``outputs`` (N, n_outputs) when a class was maximised (else None)."""

    images: np.ndarray
    curve: np.ndarray
    values: np.ndarray
    outputs: np.ndarray | None


class _Targets:
    """The objectives of a batch as index tensors, grouped by kind and layer, evaluated in one go."""

    def __init__(self, objectives: Sequence[Objective], device: Any, probabilities: bool):
        import torch

        self.n = len(objectives)
        self.probabilities = probabilities  # the model's outputs are probabilities already
        groups: dict[tuple, list[int]] = {}
        for i, o in enumerate(objectives):
            groups.setdefault((o.kind, id(o.layer), o.log_probability), []).append(i)
        self.groups = []
        order = []
        for (kind, _, logp), rows in groups.items():
            obj = [objectives[i] for i in rows]
            as_long = {"device": device, "dtype": torch.long}
            self.groups.append({
                "kind": kind, "layer": obj[0].layer, "log_probability": logp,
                "rows": torch.tensor(rows, **as_long),
                "index": torch.tensor([o.index for o in obj], **as_long),
                "y": torch.tensor([o.y or 0 for o in obj], **as_long),
                "x": torch.tensor([o.x or 0 for o in obj], **as_long),
            })
            order.extend(rows)
        self.inverse = torch.argsort(torch.tensor(order, device=device))
        self.layers = list({id(g["layer"]): g["layer"] for g in self.groups if g["layer"] is not None}.values())
        self.needs_output = any(g["kind"] == "class" for g in self.groups)

    def check(self, module, output, store) -> None:
        """Errors naming the target for a channel, unit or class outside what the model computes."""
        for g in self.groups:
            if g["kind"] == "class":
                n = 2 if output.shape[1] == 1 else output.shape[1]
                bad = g["index"][(g["index"] < 0) | (g["index"] >= n)]
                if len(bad):
                    raise InputError(f"target class {int(bad[0])} is out of range: the model has {n} classes")
                continue
            act = store[id(g["layer"])]
            name = layer_name(module, g["layer"])
            if act.dim() < 2:
                raise InputError(f"layer {name!r} returns shape {tuple(act.shape)}: expected (N, channels, ...)")
            c = act.shape[1]
            bad = g["index"][(g["index"] < 0) | (g["index"] >= c)]
            if len(bad):
                raise InputError(f"channel {int(bad[0])} is out of range: layer {name!r} has {c} channels (0..{c - 1})")
            if g["kind"] == "unit":
                if act.dim() != 4:
                    raise InputError(f"a (layer, channel, y, x) target needs a layer with a feature map "
                                     f"(N, C, H, W); layer {name!r} returns shape {tuple(act.shape)}")
                h, w = act.shape[2:]
                ys, xs = g["y"], g["x"]
                if bool(((ys < 0) | (ys >= h) | (xs < 0) | (xs >= w)).any()):
                    raise InputError(f"a unit's (y, x) must lie in layer {name!r}'s {h} x {w} feature map; "
                                     f"got {list(zip(ys.tolist(), xs.tolist(), strict=True))}")

    def values(self, output, store):
        """(N,) the target term of each image."""
        import torch

        parts = []
        for g in self.groups:
            rows, index = g["rows"], g["index"]
            if g["kind"] == "class":
                scores = torch.cat([-output, output], dim=1) if output.shape[1] == 1 else output
                if g["log_probability"]:
                    scores = torch.log(scores.clamp_min(1e-30)) if self.probabilities else scores.log_softmax(1)
                parts.append(scores[rows, index])
            elif g["kind"] == "channel":
                act = store[id(g["layer"])]
                parts.append(act[rows, index].reshape(len(rows), -1).mean(1))
            else:
                act = store[id(g["layer"])]
                parts.append(act[rows, index, g["y"], g["x"]])
        return torch.cat(parts)[self.inverse]


def total_variation(images):
    """(N,) anisotropic total variation: the summed absolute differences of neighbouring pixels."""
    dy = (images[:, :, 1:, :] - images[:, :, :-1, :]).abs().flatten(1).sum(1)
    dx = (images[:, :, :, 1:] - images[:, :, :, :-1]).abs().flatten(1).sum(1)
    return dy + dx


def display(images, value_range: tuple[float, float]) -> np.ndarray:
    """(N, H, W, 3) uint8 pictures of a (N, C, H, W) tensor in ``value_range``."""
    arr = images.detach().float().cpu().numpy()
    return np.stack([to_display(a, value_range) for a in arr])


def maximize_batch(module, objectives: Sequence[Objective], settings: Settings, *,
                   probabilities: bool = False, progress: Callable[[float], None] | None = None,
                   preview: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> Run:
    """Optimise one image per objective, together; see the module docstring.

    ``module`` is a torch module in eval mode with gradients enabled. ``probabilities`` says that its
    outputs are probabilities (not logits). ``progress`` is given the fraction done after each step (it
    may raise :class:`~nbexplain.errors.Cancelled`); ``preview(step, pictures, curve)`` is called every
    ``settings.preview_every`` steps (and after the last) with the pictures (N, H, W, 3) uint8 and the
    curve so far (N, step).
    """
    import torch

    s = settings
    if s.optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer={s.optimizer!r} is not valid: expected one of {list(OPTIMIZERS)}")
    first = next((p for p in module.parameters() if p.is_floating_point()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None else torch.float32
    generator = torch.Generator().manual_seed(int(s.seed))
    n, (h, w) = len(objectives), s.size
    params = ImageParameters(n, s.channels, h, w, fourier=s.fourier, decorrelate=s.decorrelate,
                             value_range=s.value_range, generator=generator, device=device, dtype=dtype)
    low, high = s.value_range
    middle = (low + high) / 2
    warp = RandomWarp(s.jitter, s.scale, s.rotate, fill=middle)
    targets = _Targets(objectives, device, probabilities)
    stop = not targets.needs_output
    kind = torch.optim.Adam if s.optimizer == "adam" else torch.optim.SGD
    optimiser = kind(params.leaves, lr=s.lr, maximize=True)
    curve = np.zeros((n, s.steps))
    for step in range(s.steps):
        image = params.image()
        seen = warp(image, generator)
        output, store = forward_to(module, seen, targets.layers, stop=stop)
        if step == 0:
            targets.check(module, output, store)
        objective = targets.values(output, store)
        if s.l2:
            objective = objective - s.l2 * (image - middle).pow(2).flatten(1).sum(1)
        if s.tv:
            objective = objective - s.tv * total_variation(image)
        grads = torch.autograd.grad(objective.sum(), params.leaves)
        for leaf, grad in zip(params.leaves, grads, strict=True):
            leaf.grad = grad
        optimiser.step()
        params.project()
        if s.blur_every and (step + 1) % s.blur_every == 0:
            params.blur(s.blur_sigma)
        curve[:, step] = objective.detach().double().cpu().numpy()
        if progress is not None:
            progress((step + 1) / s.steps)
        if preview is not None and ((s.preview_every and (step + 1) % s.preview_every == 0) or step + 1 == s.steps):
            with torch.no_grad():
                preview(step + 1, display(params.image(), s.value_range), curve[:, : step + 1])
    with torch.no_grad():
        final = params.image()
        output, store = forward_to(module, final, targets.layers, stop=stop)
        values = targets.values(output, store).double().cpu().numpy()
        outputs = output.double().cpu().numpy() if output is not None else None
    return Run(final.detach().float().cpu().numpy(), curve, values, outputs)


__all__ = ["KINDS", "OPTIMIZERS", "Objective", "Run", "Settings", "display", "maximize_batch", "total_variation"]
