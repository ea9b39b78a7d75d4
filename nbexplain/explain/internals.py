"""Inside the network, the front door: weight histograms across training, filters, feature maps, class and
activation maximisation, dataset examples.

* :class:`WeightRecorder` — hooked into a training loop (or given saved checkpoints), it records per-parameter
  histograms and statistics without keeping copies of the weights, and answers the survey's first question
  ("are all our layers learning?") with :meth:`~WeightRecorder.flags` in plain words.
* :func:`filters` and :func:`feature_maps` — what a convolution looks for, and where it fires on one image.
* :func:`maximize` — class maximisation (Simonyan et al. 2013) and feature visualisation (Olah et al. 2017):
  gradient ascent on the input, with L2 / total-variation penalties, jitter, scale and rotation robustness,
  Gaussian blur every few steps and the decorrelated Fourier/colour parameterisation, each switchable.
* :func:`maximize_channels` — many channels of a layer as one batch (a gallery), with
  :func:`dataset_examples` — the pool patches that excite each channel most — beside each.

Examples
--------
>>> rec = nbx.WeightRecorder(model, optimizer=opt, every=20)      # records after every 20th step
>>> ...train...
>>> rec.plot(); print(rec.summary())
>>> nbx.maximize(imagenet, "espresso", steps=64, size=128).plot()
>>> nbx.maximize_channels(imagenet, "net._blocks.6", channels=8, examples=pool).plot()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._deprecation import renamed_value
from .._progress import reporter
from .._validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_positive_int,
    check_seed,
    is_int,
)
from ..adapters.model import Model, as_model
from ..adapters.outputs import OUTPUTS, resolve_target
from ..errors import InputError
from ..inputs.images import as_image, fit_channels, model_channels, to_display
from ..methods.internals import examples as _examples
from ..methods.internals.activations import ReluWatch, activations_at, layer_name, layer_named
from ..methods.internals.diagnosis import Flag, diagnose
from ..methods.internals.histograms import STATS, ParameterTracks
from ..methods.internals.maximization import OPTIMIZERS, Objective, Settings, maximize_batch
from ..plotting import internals as draw
from .result import Result, frame

#: share of a unit's gradient mass inside the crops of dataset examples (the effective receptive field)
EFFECTIVE_MASS = 0.9
#: BatchNorm buffers (not weights) left out of checkpoints read without a model
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def _torch_module(model: Any, name: str = "model"):
    """The torch module of ``model`` (a module or a :class:`Model` of one); other models are an error."""
    import sys

    torch = sys.modules.get("torch")
    raw = model.raw if isinstance(model, Model) else model
    if torch is None or not isinstance(raw, torch.nn.Module):
        raise InputError(f"{name} must be a torch.nn.Module (or nbx.as_model of one); got {type(raw).__name__}")
    return raw


def _module_kinds(module) -> dict[str, str]:
    """Parameter name -> the type of the module holding it (``"Conv2d"``)."""
    kinds = {}
    for mod_name, mod in module.named_modules():
        for p_name, _ in mod.named_parameters(recurse=False):
            kinds[f"{mod_name}.{p_name}" if mod_name else p_name] = type(mod).__name__
    return kinds


# =================================================================================================
# weight histograms
# =================================================================================================
class WeightRecorder(Result):
    """Per-parameter weight histograms and statistics across training, and what they say about learning.

    Hook it into a training loop: give it the ``optimizer`` (it records after every ``every``-th
    ``optimizer.step()``), or call :meth:`record` after each step yourself. Each snapshot adds, for every
    parameter tensor, one histogram (computed in torch on the fly; bins fixed per tensor from its first
    snapshot and extended when values leave them, see :mod:`nbexplain.methods.internals.histograms`) and
    its statistics (mean, std, min, max, norm, gradient norm, relative change since the previous and since
    the first snapshot). No copy of the weights is kept. The initial weights are snapshot 0.

    With ``activations=True`` it also watches the model's ``nn.ReLU``/``nn.ReLU6`` modules on the forward
    pass before each snapshot and notes the share of dead units (zero for the whole batch).

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained (or ``nbx.as_model`` of it).
    every : int
        Snapshot every ``every`` steps (steps count calls of :meth:`record` or of the optimiser's ``step``).
    bins : int
        Bins of each parameter's first histogram (more are added as values spread).
    parameters : list of str, optional
        Names (from ``named_parameters()``) to record; default all, frozen ones included.
    optimizer : torch.optim.Optimizer, optional
        Record after each of its steps (a post-step hook; :meth:`close` removes it).
    activations : bool
        Watch ReLU modules for dead units.

    Examples
    --------
    >>> rec = nbx.WeightRecorder(model, optimizer=opt, every=10)
    >>> for x, y in batches:
    ...     opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    >>> rec.close()                      # last snapshot, hooks removed
    >>> print(rec.summary()); rec.plot(); rec.to_frame()
    """

    _png_figsize = (9.0, 6.0)

    def __init__(self, model: Any, *, every: int = 10, bins: int = 64, parameters: Sequence[str] | None = None,
                 optimizer: Any = None, activations: bool = True):
        module = _torch_module(model)
        self.every = check_positive_int(every, "every")
        if optimizer is not None and not hasattr(optimizer, "register_step_post_hook"):
            raise InputError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        named = dict(module.named_parameters())
        names = self._check_names(parameters, list(named))
        self._setup(check_int(bins, "bins", 2, 4096), names, _module_kinds(module))
        self._module = module
        self._named = {n: named[n] for n in names}
        self._watch = ReluWatch(module) if check_bool(activations, "activations") else None
        self._gates = dict(self._watch.gates) if self._watch is not None else {}
        if optimizer is not None:
            self._hook = optimizer.register_step_post_hook(lambda *_args, **_kw: self.record())
        self.snapshot(0)
        self._arm()

    # -- set-up ------------------------------------------------------------------------------------
    def _setup(self, bins: int, names: list[str], kinds: dict[str, str]) -> None:
        self._tracks = ParameterTracks(bins)
        self._names = names
        self._kinds = kinds
        self._steps: list[int] = []
        self._dead: list[dict[str, float]] = []
        self.step = 0
        self._module = None
        self._named: dict[str, Any] = {}
        self._watch = None
        self._hook = None
        self._gates: dict[str, str | None] = {}
        self._closed = False
        self._listeners: list[Callable[[WeightRecorder], None]] = []
        self.every = getattr(self, "every", 1)

    @staticmethod
    def _check_names(parameters: Any, available: list[str]) -> list[str]:
        if parameters is None:
            return available
        if isinstance(parameters, str) or not isinstance(parameters, Iterable):
            raise InputError(f"parameters must be a list of parameter names; got {parameters!r}")
        chosen = list(parameters)
        for p in chosen:
            check_choice(p, "parameters", available)
        if not chosen:
            raise InputError("parameters must name at least one parameter")
        return chosen

    @classmethod
    def from_checkpoints(cls, checkpoints: Sequence[Any], *, steps: Sequence[int] | None = None,
                         model: Any = None, bins: int = 64) -> WeightRecorder:
        """Histograms of saved weights: one snapshot per checkpoint, in order.

        A checkpoint is a state dict (``{name: tensor or array}``), a dict holding one under
        ``"state_dict"`` or ``"model_state_dict"``, a torch module, or the path of a file saved with
        ``torch.save`` (loaded with ``weights_only=True``). With ``model`` the names recorded are its
        parameters; without, every floating-point entry except BatchNorm's running statistics.
        ``steps`` labels the checkpoints (default 0, 1, 2...).

        Examples
        --------
        >>> rec = nbx.WeightRecorder.from_checkpoints(["epoch1.pt", "epoch2.pt", "epoch3.pt"], steps=[1, 2, 3])
        """
        import torch

        if isinstance(checkpoints, (str, os.PathLike, Mapping)) or not isinstance(checkpoints, Sequence):
            raise InputError("checkpoints must be a list of state dicts, modules or checkpoint files; got "
                             f"{type(checkpoints).__name__}")
        if len(checkpoints) == 0:
            raise InputError("checkpoints must hold at least one checkpoint")
        steps = list(range(len(checkpoints))) if steps is None else [check_int(s, "steps", 0) for s in steps]
        if len(steps) != len(checkpoints):
            raise InputError(f"steps has {len(steps)} values for {len(checkpoints)} checkpoints")
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise InputError(f"steps must increase; got {steps}")
        dicts = [_state_dict(c, i) for i, c in enumerate(checkpoints)]
        if model is not None:
            module = _torch_module(model)
            names, kinds = [n for n, _ in module.named_parameters()], _module_kinds(module)
        else:
            names = [n for n, v in dicts[0].items() if torch.is_tensor(v) and v.is_floating_point()
                     and not n.endswith(BUFFER_SUFFIXES)]
            kinds = {}
        self = cls.__new__(cls)
        self.every = 1
        self._setup(check_int(bins, "bins", 2, 4096), names, kinds)
        for i, (d, step) in enumerate(zip(dicts, steps, strict=True)):
            missing = [n for n in names if n not in d]
            if missing:
                raise InputError(f"checkpoint {i} has no {missing[0]!r} (it has {sorted(d)[:8]})")
            self._take(step, [(n, d[n]) for n in names], {})
        return self

    # -- recording ---------------------------------------------------------------------------------
    def record(self, step: int | None = None) -> None:
        """Count a training step (or set the step number) and snapshot when it is a multiple of ``every``."""
        if self._closed:
            raise InputError("this recorder was closed: make a new one to record again")
        self.step = self.step + 1 if step is None else check_int(step, "step", 0)
        if self.step % self.every == 0 and (not self._steps or self._steps[-1] != self.step):
            self.snapshot()
        self._arm()

    def snapshot(self, step: int | None = None) -> None:
        """Snapshot every recorded parameter now (``step`` defaults to the current step)."""
        if self._module is None:
            raise InputError("this recorder was made from checkpoints: there is no model to snapshot")
        if self._closed:
            raise InputError("this recorder was closed: make a new one to record again")
        step = self.step if step is None else check_int(step, "step", 0)
        if self._steps and step <= self._steps[-1]:
            raise InputError(f"step={step} is not after the last snapshot's step {self._steps[-1]}")
        self.step = step
        dead = self._watch.take() if self._watch is not None else {}
        self._take(step, list(self._named.items()), dead)

    def _take(self, step: int, named: list, dead: dict[str, float]) -> None:
        self._tracks.snapshot(named)
        self._steps.append(int(step))
        self._dead.append(dead)
        for listener in list(self._listeners):
            listener(self)

    def _arm(self) -> None:
        if self._watch is not None:
            self._watch.armed = (self.step + 1) % self.every == 0

    def close(self) -> None:
        """Stop recording: snapshot the last step if it was not, remove the hooks."""
        if self._module is not None and self._steps and self.step > self._steps[-1]:
            self.snapshot()
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._closed = True

    @property
    def recording(self) -> bool:
        """Whether snapshots may still come (a model is attached and :meth:`close` was not called)."""
        return self._module is not None and not self._closed

    def __enter__(self) -> WeightRecorder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def subscribe(self, listener: Callable[[WeightRecorder], None]) -> Callable[[], None]:
        """Call ``listener(recorder)`` after each snapshot (widgets follow a recording live); returns a
        function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- what was recorded ---------------------------------------------------------------------------
    @property
    def parameters(self) -> list[str]:
        """The recorded parameter names."""
        return list(self._names)

    @property
    def steps(self) -> np.ndarray:
        """(snapshots,) the step of each snapshot."""
        return np.asarray(self._steps, dtype=np.int64)

    def _track(self, parameter: str):
        check_choice(parameter, "parameter", self._names)
        return self._tracks[parameter]

    def counts(self, parameter: str) -> np.ndarray:
        """(snapshots, bins) int64 histogram counts of ``parameter`` on its current bins (:meth:`edges`)."""
        return self._track(parameter).counts.copy()

    def edges(self, parameter: str) -> np.ndarray:
        """(bins + 1,) the bin edges of ``parameter`` (in its dtype): ``numpy.histogram(w, bins=edges)``
        of the weights of snapshot s gives ``counts(parameter)[s]``."""
        return self._track(parameter).edges()

    def histogram(self, parameter: str, snapshot: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of one snapshot (the last by default), as ``numpy.histogram`` returns them."""
        counts = self.counts(parameter)
        n = len(counts)
        if not is_int(snapshot) or not -n <= snapshot < n:
            raise InputError(f"snapshot must be an int in {-n}..{n - 1}; got {snapshot!r}")
        return counts[snapshot], self.edges(parameter)

    def stats(self, parameter: str) -> dict[str, np.ndarray]:
        """The statistics of ``parameter`` over the snapshots: mean, std, min, max, norm, grad_norm (NaN
        without a gradient), change (relative to the previous snapshot, NaN at the first), change_total
        (relative to the first), nonfinite (count of NaN/inf values)."""
        track = self._track(parameter)
        return {name: track.stat(name).copy() for name in STATS}

    def shape(self, parameter: str) -> tuple[int, ...]:
        return self._track(parameter).shape

    def kind(self, parameter: str) -> str:
        """The type of the module holding ``parameter`` (``"Conv2d"``), or ``""`` when unknown."""
        return self._kinds.get(parameter, "")

    @property
    def dead(self) -> list[dict[str, float]]:
        """Per snapshot, the share of dead units after each watched ReLU (empty when not measured)."""
        return [dict(d) for d in self._dead]

    def flags(self) -> list[Flag]:
        """What did not learn, in plain words: frozen parameters, ones that barely change (vanishing
        gradients), dead ReLUs, NaN weights (see :mod:`nbexplain.methods.internals.diagnosis`)."""
        requires = {n: bool(p.requires_grad) for n, p in self._named.items()}
        last_dead = next((d for d in reversed(self._dead) if d), {})
        return diagnose(self.steps, {n: self.stats(n) for n in self._names}, requires_grad=requires,
                        dead=last_dead, gates=self._gates)

    def summary(self) -> str:
        """One paragraph: what was recorded and every flag (or that every parameter learned)."""
        steps = self.steps
        span = f"steps {steps[0]}-{steps[-1]}" if len(steps) > 1 else f"step {steps[0]}"
        head = f"{len(self._names)} parameter tensors, {len(steps)} snapshot(s) ({span})"
        flags = self.flags()
        if len(steps) < 2:
            return f"{head}: record more snapshots to see how the weights change"
        if not flags:
            return f"{head}: every parameter changed; no frozen, stalled or dead layer"
        return f"{head}; {len(flags)} finding(s):\n" + "\n".join(f"- {f.message}" for f in flags)

    def to_frame(self):
        """One row per (snapshot, parameter): step, parameter, module type, size, the statistics, flags."""
        flagged: dict[str, list[str]] = {}
        for f in self.flags():
            flagged.setdefault(f.parameter, []).append(f.kind)
        rows: dict[str, list] = {k: [] for k in ("step", "parameter", "layer", "size", *STATS, "flags")}
        for name in self._names:
            track = self._tracks[name]
            for s, step in enumerate(self._steps):
                rows["step"].append(int(step))
                rows["parameter"].append(name)
                rows["layer"].append(self.kind(name))
                rows["size"].append(int(np.prod(track.shape)))
                for k, stat in enumerate(STATS):
                    rows[stat].append(float(track.stats[s, k]))
                rows["flags"].append(", ".join(flagged.get(name, [])))
        return frame(rows)

    def plot(self, ax=None, *, parameters: Sequence[str] | None = None, log: bool = False, ncols: int = 4):
        """Ridgelines (TensorBoard's histogram view): per parameter, one histogram per snapshot stacked from
        the first (back) to the last (front); flagged parameters are titled in red. ``parameters`` None draws
        them all up to :attr:`PLOT_LIMIT` (flagged ones first, then in order). Returns the Axes."""
        names = self._shown() if parameters is None else self._check_names(parameters, self._names)
        flags = {f.parameter: f.kind for f in self.flags()}
        return draw.plot_weight_histograms(
            [(n, self._tracks[n].counts, self._tracks[n].edges(), flags.get(n)) for n in names], self.steps,
            ax=ax, log=check_bool(log, "log"), ncols=check_positive_int(ncols, "ncols"))

    #: parameters drawn by ``plot()`` without ``parameters=`` (a large model has hundreds)
    PLOT_LIMIT = 16

    def _shown(self) -> list[str]:
        if len(self._names) <= self.PLOT_LIMIT:
            return list(self._names)
        flagged = list(dict.fromkeys(f.parameter for f in self.flags() if f.parameter in self._names))
        rest = [n for n in self._names if n not in flagged]
        chosen = set(flagged[: self.PLOT_LIMIT] + rest[: max(0, self.PLOT_LIMIT - len(flagged))])
        return [n for n in self._names if n in chosen]

    def _png_size(self) -> tuple[float, float]:
        shown = len(self._shown())
        cols = min(4, shown)
        rows = -(-shown // max(cols, 1))
        return (2.6 * cols + 0.4, 2.1 * rows + 0.4)

    def __repr__(self) -> str:
        return (f"WeightRecorder({len(self._names)} parameters, {len(self._steps)} snapshots, step {self.step}, "
                f"every={self.every})")


def _state_dict(checkpoint: Any, index: int) -> Mapping[str, Any]:
    """A checkpoint (see :meth:`WeightRecorder.from_checkpoints`) as a name -> tensor mapping."""
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


# =================================================================================================
# filters and feature maps
# =================================================================================================
def _first_conv(module):
    import torch

    first = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first is None:
        raise InputError("the model has no torch.nn.Conv2d; pass layer=<a convolution of the model>")
    return first


@dataclass
class Filters(Result):
    """The kernels of a convolution as small pictures.

    Attributes
    ----------
    layer : str — the convolution's name.
    weights : (out, in, kh, kw) float32 — the kernels.
    images : (out, kh, kw, 3) uint8 — each kernel as a picture: RGB for 3 input channels (grey for 1; for
        other counts the kernel summed over its inputs), mid-grey = 0, stretched by ``scale``.
    norms : (out,) float — each kernel's L2 norm.
    scale : "filter" (each stretched to its own largest |weight|) or "layer" (one scale for all).
    """

    layer: str
    weights: np.ndarray
    images: np.ndarray
    norms: np.ndarray
    scale: str
    _png_figsize = (6.0, 6.0)

    @property
    def labels(self) -> list[str]:
        return [f"filter {i}" for i in range(len(self.weights))]

    def plot(self, ax=None, *, ncols: int | None = None):
        """The kernels in a grid, each titled with its number and norm; returns the Axes."""
        how = "colour" if self.weights.shape[1] == 3 else "grey"
        return draw.plot_channel_grid(self.images, self.labels, self.norms, "norm", ax=ax, ncols=ncols,
                                      title=f"filters of {self.layer!r} ({how}; grey = 0)")

    def to_frame(self):
        """One row per filter: its number, norm, mean, min and max weight."""
        flat = self.weights.reshape(len(self.weights), -1)
        return frame({"filter": np.arange(len(flat)), "norm": self.norms, "mean": flat.mean(1),
                      "min": flat.min(1), "max": flat.max(1)})


def filters(model: Any, layer: Any = None, *, scale: str = "filter") -> Filters:
    """The kernels of a convolution (the first ``Conv2d`` by default) as small pictures.

    The first layer of an image network looks for edges, colour contrasts and textures: its kernels,
    drawn as RGB pictures, show which (Krizhevsky et al. 2012, Fig. 3).

    Parameters
    ----------
    model : torch.nn.Module
    layer : module, dotted name or None
        A ``Conv2d`` of the model; None is the first.
    scale : {"filter", "layer"}
        Stretch each kernel to its own largest |weight|, or all by the layer's largest.

    Examples
    --------
    >>> nbx.filters(model).plot()
    """
    import torch

    module = _torch_module(model)
    conv = _first_conv(module) if layer is None else layer_named(module, layer)
    if not isinstance(conv, torch.nn.Conv2d):
        raise InputError(f"layer must be a torch.nn.Conv2d; {layer_name(module, conv)!r} is a {type(conv).__name__}")
    check_choice(scale, "scale", ("filter", "layer"))
    w = conv.weight.detach().float().cpu().numpy()
    shown = w if w.shape[1] in (1, 3) else w.sum(axis=1, keepdims=True)
    if scale == "filter":
        top = np.abs(shown).reshape(len(shown), -1).max(1)[:, None, None, None]
    else:
        top = np.full((len(shown), 1, 1, 1), np.abs(shown).max())
    scaled = 0.5 + 0.5 * shown / np.where(top > 0, top, 1.0)
    images = np.stack([to_display(k, (0.0, 1.0)) for k in scaled])
    return Filters(layer_name(module, conv), w, images, np.linalg.norm(w.reshape(len(w), -1), axis=1), scale)


@dataclass
class FeatureMaps(Result):
    """Every channel's activation map at one layer for one image.

    Attributes
    ----------
    layer : str — the layer's name.
    maps : (C, h, w) float32 — the layer's output for the image.
    means : (C,) float — each channel's mean activation (what the grid's hover shows).
    image : (H, W, 3) uint8 — the image.
    """

    layer: str
    maps: np.ndarray
    means: np.ndarray
    image: np.ndarray
    _png_figsize = (7.0, 7.0)

    @property
    def labels(self) -> list[str]:
        return [f"channel {i}" for i in range(len(self.maps))]

    def limits(self) -> tuple[float, float]:
        """One colour scale for all maps: [min, max] of the layer's output."""
        lo, hi = float(self.maps.min()), float(self.maps.max())
        return (lo, hi if hi > lo else lo + 1.0)

    def strongest(self, k: int = 8) -> list[int]:
        """The ``k`` channels with the highest mean activation, strongest first."""
        return [int(i) for i in np.argsort(-self.means, kind="stable")[: check_positive_int(k, "k")]]

    def plot(self, ax=None, *, channels: Sequence[int] | None = None, ncols: int | None = None,
             cmap: str = "magma"):
        """The maps in a grid on one colour scale (``channels``: which, default all up to 64); the Axes."""
        chosen = list(range(min(64, len(self.maps)))) if channels is None else [
            check_int(c, "channels", 0, len(self.maps) - 1) for c in channels]
        return draw.plot_channel_grid(self.maps[chosen], [self.labels[c] for c in chosen], self.means[chosen],
                                      "mean", ax=ax, ncols=ncols, cmap=cmap, limits=self.limits(),
                                      title=f"feature maps of {self.layer!r}")

    def to_frame(self):
        """One row per channel: mean, max and the share of positions above zero."""
        flat = self.maps.reshape(len(self.maps), -1)
        return frame({"channel": np.arange(len(flat)), "mean": self.means, "max": flat.max(1),
                      "active": (flat > 0).mean(1)})


def feature_maps(model: Any, image: Any, layer: Any) -> FeatureMaps:
    """The activation maps of every channel of ``layer`` for ``image``.

    Parameters
    ----------
    model : torch.nn.Module
    image : array, PIL image or path
        As for :func:`nbexplain.attribute` (uint8 images are scaled to [0, 1]).
    layer : module or dotted name
        A layer whose output is (1, C, h, w), e.g. a convolution or the ReLU after it.

    Examples
    --------
    >>> fm = nbx.feature_maps(model, image, "6")       # the ReLU after the second convolution
    >>> fm.strongest(4), fm.plot()
    """
    import torch

    module = _torch_module(model)
    target_layer = layer_named(module, layer)
    img = fit_channels(as_image(image), model_channels(module))
    first = next((p for p in module.parameters() if p.is_floating_point()), None)
    x = torch.from_numpy(img.tensor[None]).to(device=first.device if first is not None else "cpu",
                                              dtype=first.dtype if first is not None else torch.float32)
    was_training = module.training
    module.eval()
    try:
        act = activations_at(module, x, [target_layer])[target_layer]
    finally:
        module.train(was_training)
    if act.dim() != 4:
        raise InputError(f"layer {layer_name(module, target_layer)!r} returns shape {tuple(act.shape)}: feature maps "
                         "need an output of shape (N, C, h, w)")
    maps = act[0].detach().float().cpu().numpy()
    return FeatureMaps(layer_name(module, target_layer), maps, maps.reshape(len(maps), -1).mean(1).astype(np.float64),
                       img.display)


# =================================================================================================
# maximisation
# =================================================================================================
def _check_size(size: Any) -> tuple[int, int]:
    pair = (size, size) if is_int(size) else size
    try:
        ok = len(pair) == 2 and all(is_int(v) and v >= 8 for v in pair)
    except TypeError:
        ok = False
    if not ok or isinstance(pair, str):
        raise InputError(f"size must be an int >= 8 or an (height, width) pair of them; got {size!r}")
    return int(pair[0]), int(pair[1])


def _check_range(value_range: Any) -> tuple[float, float]:
    try:
        low, high = (check_number(v, "value_range") for v in value_range)
    except TypeError as exc:
        raise InputError(f"value_range must be a (low, high) pair of numbers; got {value_range!r}") from exc
    if not low < high:
        raise InputError(f"value_range must have low < high; got {value_range!r}")
    return low, high


def _settings(module, *, size, steps, lr, optimizer, fourier, decorrelate, jitter, scale, rotate, l2, tv,
              blur_every, blur_sigma, value_range, seed, preview_every) -> Settings:
    """Every maximisation option checked, with the defaults that depend on the model and the size."""
    h, w = _check_size(size)
    channels = model_channels(module) or 3
    fourier = check_bool(fourier, "fourier")
    decorrelate = (channels == 3) if decorrelate is None else check_bool(decorrelate, "decorrelate")
    if decorrelate and channels != 3:
        raise InputError(f"decorrelate=True mixes 3 colour channels, but the model takes {channels}; "
                         "pass decorrelate=False")
    jitter = max(1, round(min(h, w) / 16)) if jitter is None else check_number(jitter, "jitter", 0)
    seed = check_seed(seed)
    if seed is None:  # fresh randomness, but remembered so that the result can be reproduced
        seed = int(np.random.default_rng().integers(2**31))
    return Settings(
        size=(h, w), channels=channels, steps=check_positive_int(steps, "steps"), lr=check_number(lr, "lr", above=0),
        optimizer=check_choice(optimizer, "optimizer", OPTIMIZERS), fourier=fourier, decorrelate=decorrelate,
        jitter=jitter, scale=check_number(scale, "scale", 0, below=1), rotate=check_number(rotate, "rotate", 0, 180),
        l2=check_number(l2, "l2", 0), tv=check_number(tv, "tv", 0), blur_every=check_int(blur_every, "blur_every", 0),
        blur_sigma=check_number(blur_sigma, "blur_sigma", above=0), value_range=_check_range(value_range),
        seed=seed, preview_every=check_int(preview_every, "preview_every", 0))


def _options(settings: Settings) -> dict[str, Any]:
    """The settings as the keyword arguments that reproduce them."""
    return {"size": settings.size, "steps": settings.steps, "lr": settings.lr, "optimizer": settings.optimizer,
            "fourier": settings.fourier, "decorrelate": settings.decorrelate, "jitter": settings.jitter,
            "scale": settings.scale, "rotate": settings.rotate, "l2": settings.l2, "tv": settings.tv,
            "blur_every": settings.blur_every, "blur_sigma": settings.blur_sigma,
            "value_range": settings.value_range, "seed": settings.seed}


def _check_output(output: Any) -> str:
    output = renamed_value(output, "output", {"probabilities": "probability"}, stacklevel=4)
    return check_choice(output, "output", OUTPUTS)


TARGET_EXPECTED = "a class (index or name), a (layer, channel) pair or a (layer, channel, y, x) tuple"


def _objective(model: Model, module, target: Any, output: str, settings: Settings) -> tuple[Objective, str]:
    """``target`` as an :class:`Objective` and its description in words."""
    if isinstance(target, (tuple, list)):
        if len(target) not in (2, 4):
            raise InputError(f"target must be {TARGET_EXPECTED}; got a sequence of {len(target)}")
        layer = layer_named(module, target[0], "target's layer")
        channel = check_int(target[1], "target's channel", 0)
        name = layer_name(module, layer)
        if output != "score":
            raise InputError(f"output={output!r} is for class targets; a {('(layer, channel)', '(layer, channel, y, x)')[len(target) == 4]} "
                             "target maximises the activation itself (leave output='score')")
        if len(target) == 2:
            return Objective("channel", channel, layer), f"channel {channel} of {name!r}"
        y, x = check_int(target[2], "target's y", 0), check_int(target[3], "target's x", 0)
        return Objective("unit", channel, layer, y, x), f"unit ({y}, {x}) of channel {channel} of {name!r}"
    if target is None:
        raise InputError(f"target must be {TARGET_EXPECTED}; got None")
    low, high = settings.value_range
    grey = np.full((1, settings.channels, *settings.size), (low + high) / 2, dtype=np.float32)
    n = model.n_classes(grey)
    index = resolve_target(target, np.zeros(n), model.class_names)
    label = f"class {model.class_names[index]!r}" if model.class_names else f"class {index}"
    return Objective("class", index, log_probability=output == "probability"), label


@dataclass
class MaximizedImage(Result):
    """An input optimised to excite one target: a class, a channel, or one unit.

    Attributes
    ----------
    image : (H, W, 3) uint8 — the picture found.
    tensor : (C, H, W) float32 — the same in the model's input space (within ``options["value_range"]``).
    curve : (steps,) float — the objective maximised at each step (target minus penalties, on the randomly
        transformed image the step saw).
    value : float — the target's final value on the image itself: a class's score (log-probability with
        ``output="probability"``), a channel's mean activation, a unit's activation.
    probability : float or None — for a class, the model's probability of it on the final image.
    label : str — the target in words; ``kind``: "class", "channel" or "unit".
    options : dict — every setting, the seed included: ``nbx.maximize(model, target, **options)`` redoes it.
    """

    image: np.ndarray
    tensor: np.ndarray
    curve: np.ndarray
    value: float
    probability: float | None
    label: str
    kind: str
    target: Any
    options: dict[str, Any] = field(default_factory=dict)
    _png_figsize = (4.2, 4.6)

    def summary(self) -> str:
        """One line: the target, its final value and probability, and how many steps."""
        what = {"class": "score", "channel": "mean activation", "unit": "activation"}[self.kind]
        p = f", probability {self.probability:.3f}" if self.probability is not None else ""
        return f"{self.label}: {what} {self.value:.4g}{p} after {len(self.curve)} steps (seed {self.options.get('seed')})"

    def plot(self, ax=None, *, curve: bool = True):
        """The picture titled with its target and value, with the objective curve inset; returns the Axes."""
        return draw.plot_maximized(self.image, self.curve, self.label, self.value, self.probability, ax=ax,
                                   curve=check_bool(curve, "curve"))


@dataclass
class DatasetExamples(Result):
    """For each channel of a layer, the k pool patches that excite it most (strongest first).

    Attributes
    ----------
    layer : str; channels : list of int.
    values : (m, k) float — the activations (-inf where the pool had fewer than k candidates).
    image : (m, k) int — index of each patch's image in the pool; ``y``, ``x`` (m, k) its feature-map position.
    boxes : (m, k, 4) int — (top, left, height, width) of each receptive-field crop in the pool image.
    patches : (m, k, ph, pw, 3) uint8 — the crops (grey where the field reaches past the image).
    field : the layer's :class:`~nbexplain.methods.internals.examples.ReceptiveField`.
    """

    layer: str
    channels: list[int]
    values: np.ndarray
    image: np.ndarray
    y: np.ndarray
    x: np.ndarray
    boxes: np.ndarray
    patches: np.ndarray
    field: Any
    _png_figsize = (7.0, 6.0)

    def of(self, channel: int) -> dict[str, np.ndarray]:
        """The examples of one channel (a channel number of the layer): values, image, y, x, boxes, patches."""
        check_choice(channel, "channel", self.channels)
        i = self.channels.index(channel)
        return {"values": self.values[i], "image": self.image[i], "y": self.y[i], "x": self.x[i],
                "boxes": self.boxes[i], "patches": self.patches[i]}

    def plot(self, ax=None, *, channels: Sequence[int] | None = None):
        """One row per channel: its patches, strongest first, titled with their activations; the Axes."""
        chosen = self.channels if channels is None else [check_choice(c, "channels", self.channels) for c in channels]
        rows = [self.channels.index(c) for c in chosen]
        return draw.plot_examples(self.patches[rows], self.values[rows], [f"channel {c}" for c in chosen],
                                  ax=ax, title=f"dataset examples of {self.layer!r}")

    def _png_size(self) -> tuple[float, float]:
        return (1.3 * self.values.shape[1] + 1.2, 1.4 * len(self.channels) + 0.5)

    def to_frame(self):
        """One row per patch: channel, rank, activation, image index, feature-map y/x, box."""
        m, k = self.values.shape
        return frame({"channel": np.repeat(self.channels, k), "rank": np.tile(np.arange(k), m),
                      "activation": self.values.ravel(), "image": self.image.ravel(), "y": self.y.ravel(),
                      "x": self.x.ravel(), "top": self.boxes[..., 0].ravel(), "left": self.boxes[..., 1].ravel(),
                      "height": self.boxes[..., 2].ravel(), "width": self.boxes[..., 3].ravel()})


@dataclass
class ChannelGallery(Result):
    """Many channels of one layer maximised as one batch, with their dataset examples when a pool was given.

    Attributes
    ----------
    layer : str; channels : list of int.
    images : (N, H, W, 3) uint8; tensors : (N, C, H, W) float32 — the pictures found.
    curves : (N, steps) float — each objective over the steps; values : (N,) each final mean activation.
    examples : DatasetExamples or None.
    options : dict — the settings (seed included).
    """

    layer: str
    channels: list[int]
    images: np.ndarray
    tensors: np.ndarray
    curves: np.ndarray
    values: np.ndarray
    examples: DatasetExamples | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _png_figsize = (7.0, 4.0)

    @property
    def labels(self) -> list[str]:
        return [f"channel {c}" for c in self.channels]

    def image_of(self, channel: int) -> np.ndarray:
        """The picture found for ``channel`` (a channel number of the layer)."""
        return self.images[self.channels.index(check_choice(channel, "channel", self.channels))]

    def summary(self) -> str:
        """One line: the layer, the channels and their final activations."""
        parts = ", ".join(f"{c}: {v:.3g}" for c, v in zip(self.channels, self.values, strict=True))
        return f"{len(self.channels)} channels of {self.layer!r} maximised ({self.curves.shape[1]} steps); mean activations {parts}"

    def plot(self, ax=None, *, ncols: int | None = None):
        """The pictures in a grid titled with channel and final activation; returns the Axes."""
        return draw.plot_channel_grid(self.images, self.labels, self.values, "act", ax=ax, ncols=ncols,
                                      title=f"channels of {self.layer!r} maximised")

    def _png_size(self) -> tuple[float, float]:
        cols = min(6, len(self.channels))
        return (1.6 * cols + 0.4, 1.8 * -(-len(self.channels) // cols) + 0.4)

    def to_frame(self):
        """One row per channel: its final mean activation and the objective at the first and last step."""
        return frame({"channel": self.channels, "activation": self.values, "objective_first": self.curves[:, 0],
                      "objective_last": self.curves[:, -1]})


def maximize(
    model: Any,
    target: Any,
    *,
    size: int | tuple[int, int] = 128,
    steps: int = 128,
    lr: float = 0.05,
    optimizer: str = "adam",
    fourier: bool = True,
    decorrelate: bool | None = None,
    jitter: float | None = None,
    scale: float = 0.1,
    rotate: float = 10.0,
    l2: float = 0.0,
    tv: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    value_range: tuple[float, float] = (0.0, 1.0),
    output: str = "score",
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
    preview: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    preview_every: int = 0,
) -> MaximizedImage:
    """Find an input that excites ``target`` most: class or activation maximisation.

    Gradient ascent on the image (Simonyan, Vedaldi & Zisserman 2013) with the regularisers of feature
    visualisation (Olah, Mordvintsev & Schubert 2017), each switchable: the decorrelated Fourier (``fourier``)
    and colour (``decorrelate``) parameterisation; robustness to random ``jitter`` (pixels), ``scale``
    (relative) and ``rotate`` (degrees); L2 (``l2 * |x - middle|^2``, summed over pixels) and total
    variation (``tv``) penalties; a Gaussian blur of ``blur_sigma`` pixels every ``blur_every`` steps
    (Yosinski et al. 2015). The image always stays in ``value_range`` (a sigmoid with either
    parameterisation on, else each step is clamped). All off (``fourier=False, decorrelate=False,
    jitter=0, scale=0, rotate=0``) is plain projected gradient ascent on the pixels.

    Parameters
    ----------
    model : torch.nn.Module
        Anything :func:`nbexplain.as_model` accepts that is a torch module (class names make names work).
    target : int, str, (layer, channel) or (layer, channel, y, x)
        A class (index or name); a channel of a layer (its mean activation); or one unit of it at feature-map
        position (y, x). ``layer`` is a module of the model or its dotted name.
    size : int or (height, width)
        Of the image optimised (the model must accept it).
    steps, lr, optimizer
        Gradient steps, step size, "adam" (as Lucid) or "sgd" (plain gradient ascent).
    jitter : float or None
        Largest random shift in pixels (None: ``size / 16``, 8 pixels at 128, as Lucid); 0 switches it off.
    output : {"score", "probability"}
        For a class: maximise its score (logit; Simonyan et al.) or its log-probability (which also pushes
        the other classes down).
    seed : int or None
        Seeds every random draw (the same seed gives the same image); None draws a fresh seed, kept in
        ``result.options["seed"]``.
    progress : None, bool or callable
        As everywhere: a bar for long work, or a callable given the fraction done.
    preview : callable, optional
        ``preview(step, pictures, curve)`` every ``preview_every`` steps (and after the last), with the
        pictures (1, H, W, 3) uint8 so far: to watch the image form.

    Returns
    -------
    MaximizedImage

    Examples
    --------
    >>> model = nbx.as_model(nbx.datasets.imagenet_classifier(), class_names=nbx.datasets.imagenet_class_names())
    >>> espresso = nbx.maximize(model, "espresso", size=128, steps=64)
    >>> espresso.probability, espresso.plot()
    >>> nbx.maximize(model, ("net._blocks.6", 12), l2=1e-3, fourier=False).image.shape
    (128, 128, 3)
    """
    model = as_model(model)
    module = model.torch_module
    output = _check_output(output)
    settings = _settings(module, size=size, steps=steps, lr=lr, optimizer=optimizer, fourier=fourier,
                         decorrelate=decorrelate, jitter=jitter, scale=scale, rotate=rotate, l2=l2, tv=tv,
                         blur_every=blur_every, blur_sigma=blur_sigma, value_range=value_range, seed=seed,
                         preview_every=preview_every)
    objective, label = _objective(model, module, target, output, settings)
    report = reporter(progress, "maximisation")
    with model.gradient_mode() as net:
        run = maximize_batch(net, [objective], settings, probabilities=model.output == "probability",
                             progress=report, preview=preview)
    probability = None
    if objective.kind == "class":
        probability = float(model.to_probabilities(run.outputs)[0, objective.index])
    target_out = objective.index if objective.kind == "class" else (
        (layer_name(module, objective.layer), objective.index) if objective.kind == "channel"
        else (layer_name(module, objective.layer), objective.index, objective.y, objective.x))
    return MaximizedImage(
        image=to_display(run.images[0], settings.value_range), tensor=run.images[0], curve=run.curve[0],
        value=float(run.values[0]), probability=probability, label=label, kind=objective.kind, target=target_out,
        options={**_options(settings), "output": output})


def _channel_list(channels: Any, name: str = "channels") -> list[int] | int:
    if is_int(channels):
        return check_positive_int(channels, name)
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Iterable):
        raise InputError(f"{name} must be a number of channels or a list of channel numbers; got {channels!r}")
    out = [check_int(c, name, 0) for c in channels]
    if not out:
        raise InputError(f"{name} must name at least one channel")
    if len(set(out)) != len(out):
        raise InputError(f"{name} lists a channel twice: {out}")
    return out


def maximize_channels(
    model: Any,
    layer: Any,
    channels: int | Sequence[int] = 8,
    *,
    examples: Any = None,
    k: int = 6,
    per_image: bool = True,
    field: str = "effective",
    size: int | tuple[int, int] = 64,
    steps: int = 128,
    lr: float = 0.05,
    optimizer: str = "adam",
    fourier: bool = True,
    decorrelate: bool | None = None,
    jitter: float | None = None,
    scale: float = 0.1,
    rotate: float = 10.0,
    l2: float = 0.0,
    tv: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
    preview: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    preview_every: int = 0,
) -> ChannelGallery:
    """Maximise many channels of ``layer`` at once (one image per channel, one batch): a gallery.

    The options are those of :func:`maximize`. ``channels`` is a list of channel numbers, or a count ``n``
    for the first ``n``. With ``examples`` (a pool of images) each channel gets its :func:`dataset_examples`
    (the ``k`` patches of the pool that excite it most; ``per_image`` and ``field`` as there).

    Examples
    --------
    >>> gallery = nbx.maximize_channels(model, "net._blocks.6", channels=[3, 7, 12, 40], size=64, steps=96,
    ...                                 examples=pool)
    >>> gallery.plot(); gallery.examples.plot()
    """
    model = as_model(model)
    module = model.torch_module
    target_layer = layer_named(module, layer)
    chosen = _channel_list(channels)
    if isinstance(chosen, int):
        chosen = list(range(chosen))
    settings = _settings(module, size=size, steps=steps, lr=lr, optimizer=optimizer, fourier=fourier,
                         decorrelate=decorrelate, jitter=jitter, scale=scale, rotate=rotate, l2=l2, tv=tv,
                         blur_every=blur_every, blur_sigma=blur_sigma, value_range=value_range, seed=seed,
                         preview_every=preview_every)
    k = check_positive_int(k, "k")
    per_image = check_bool(per_image, "per_image")
    report = reporter(progress, "channel gallery")
    share = 0.8 if examples is not None else 1.0
    step_report = (lambda f: report(share * f)) if report is not None else None
    objectives = [Objective("channel", c, target_layer) for c in chosen]
    with model.gradient_mode() as net:
        run = maximize_batch(net, objectives, settings, progress=step_report, preview=preview)
    found = None
    if examples is not None:
        rest = (lambda f: report(share + (1 - share) * f)) if report is not None else False
        found = dataset_examples(model, target_layer, examples, channels=chosen, k=k, per_image=per_image,
                                 field=field, progress=rest)
    if report is not None:
        report(1.0)
    return ChannelGallery(layer_name(module, target_layer), chosen,
                          np.stack([to_display(t, settings.value_range) for t in run.images]), run.images,
                          run.curve, run.values, found, _options(settings))


# =================================================================================================
# dataset examples
# =================================================================================================
def image_pool(images: Any, name: str = "images") -> tuple[np.ndarray, np.ndarray]:
    """A pool of same-sized images as (N, C, H, W) float32 model input and (N, H, W, 3) uint8 pictures.

    ``images`` is an (N, H, W, 3) uint8 or (N, C, H, W) float array, a list of images (anything
    :func:`nbexplain.as_image` accepts), or an object with an ``images`` array (``nbx.datasets.tanks``).
    """
    images = getattr(images, "images", images)
    if isinstance(images, np.ndarray) and images.ndim == 4:
        items = list(images)
    elif isinstance(images, (list, tuple)):
        items = list(images)
    elif hasattr(images, "detach") and images.dim() == 4:
        items = list(images.detach().cpu().numpy())
    else:
        raise InputError(f"{name} must be a batch of images (N, H, W, 3) or (N, C, H, W), or a list of images; "
                         f"got {type(images).__name__}{getattr(images, 'shape', '')}")
    if not items:
        raise InputError(f"{name} is empty")
    parsed = [as_image(im, f"{name}[{i}]") for i, im in enumerate(items)]
    shapes = {p.tensor.shape for p in parsed}
    if len(shapes) > 1:
        raise InputError(f"{name} must all have one size; got {sorted(shapes)[:4]}")
    return np.stack([p.tensor for p in parsed]), np.stack([p.display for p in parsed])


def dataset_examples(
    model: Any,
    layer: Any,
    images: Any,
    *,
    channels: int | Sequence[int] | None = None,
    k: int = 6,
    per_image: bool = True,
    field: str = "effective",
    batch_size: int = 32,
    progress: bool | Callable[[float], None] | None = None,
) -> DatasetExamples:
    """The ``k`` patches of a pool of ``images`` that excite each channel of ``layer`` most.

    The survey's "exemplar" of a filter drawn from real data: the layer runs on every image of the pool (the
    forward pass stops at the layer), the strongest activations of each channel over every image and
    position are kept (with ``per_image``, at most one per image), and each is shown as the crop of its
    image that the unit sees (its receptive field, measured by gradients; see
    :mod:`nbexplain.methods.internals.examples`).

    Parameters
    ----------
    model : torch.nn.Module
    layer : module or dotted name
        A layer with feature maps (N, C, h, w).
    images : pool
        See :func:`image_pool`; e.g. ``nbx.datasets.tanks(200)`` or crops of photographs.
    channels : int, list of int or None
        Which channels (a count n: the first n; None: all).
    k : int
        Patches per channel.
    per_image : bool
        At most one patch per image (else every position of every image competes).
    field : {"effective", "theoretical"}
        The crop: the centred box holding 90 % of the unit's gradient (what it mostly sees; Luo et al.
        2016), or every pixel that can move it (for deep layers often wider than the image).

    Examples
    --------
    >>> ex = nbx.dataset_examples(model, "8", nbx.datasets.tanks(100, seed=3), channels=[0, 5], k=6)
    >>> ex.plot(); ex.of(5)["values"]
    """
    import torch

    model = as_model(model)
    module = model.torch_module
    target_layer = layer_named(module, layer)
    k = check_positive_int(k, "k")
    per_image = check_bool(per_image, "per_image")
    mass = {"effective": EFFECTIVE_MASS, "theoretical": None}[check_choice(field, "field", ("effective", "theoretical"))]
    batch_size = check_positive_int(batch_size, "batch_size")
    tensors, pictures = image_pool(images)
    channels_in = model_channels(module)
    if channels_in is not None and tensors.shape[1] != channels_in:
        if tensors.shape[1] == 1 and channels_in == 3:
            tensors = np.repeat(tensors, 3, axis=1)
        else:
            raise InputError(f"images have {tensors.shape[1]} channel(s) but the model takes {channels_in}")
    first = next((p for p in module.parameters() if p.is_floating_point()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None else torch.float32
    report = reporter(progress, "dataset examples")
    was_training = module.training
    module.eval()
    try:
        if channels is None or is_int(channels):
            probe = activations_at(module, torch.from_numpy(tensors[:1]).to(device, dtype), [target_layer])[target_layer]
            count = probe.shape[1] if probe.dim() >= 2 else 1
            chosen = list(range(count if channels is None else min(check_positive_int(channels, "channels"), count)))
        else:
            chosen = _channel_list(channels)
        batches = (torch.from_numpy(tensors[s:s + batch_size]).to(device, dtype)
                   for s in range(0, len(tensors), batch_size))
        top = _examples.top_activations(module, target_layer, batches, chosen, k, per_image=per_image,
                                        total=len(tensors), progress=report)
        rf = _examples.receptive_field(module, target_layer, tuple(tensors.shape[1:]), mass=mass)
    finally:
        module.train(was_training)
    m = len(chosen)
    boxes = np.zeros((m, k, 4), dtype=np.int64)
    patches = np.full((m, k, rf.height, rf.width, 3), 128, dtype=np.uint8)
    for i in range(m):
        for j in range(k):
            if top.image[i, j] < 0:
                continue
            boxes[i, j] = rf.box(int(top.y[i, j]), int(top.x[i, j]))
            patches[i, j] = _examples.crop(pictures[top.image[i, j]], tuple(boxes[i, j]))
    if report is not None:
        report(1.0)
    return DatasetExamples(layer_name(module, target_layer), chosen, top.values, top.image, top.y, top.x, boxes,
                           patches, rf)


__all__ = ["ChannelGallery", "DatasetExamples", "FeatureMaps", "Filters", "Flag", "MaximizedImage", "WeightRecorder",
           "dataset_examples", "feature_maps", "filters", "image_pool", "maximize", "maximize_channels"]
