"""Inside the network, the front door: filters, feature maps, class and activation maximisation, dataset examples.

* :func:`filters` and :func:`feature_maps` — what a convolution looks for, and where it fires on one image.
* :func:`maximize` — class maximisation (Simonyan et al. 2013) and feature visualisation (Olah et al. 2017):
  gradient ascent on the input, with L2 / total-variation penalties, jitter, scale and rotation robustness,
  Gaussian blur every few steps and the decorrelated Fourier/colour parameterisation, each switchable.
* :func:`maximize_channels` — many channels of a layer as one batch (a gallery), with
  :func:`dataset_examples` — the pool patches that excite each channel most — beside each.

Weight histograms across training (:class:`~nbexplain.WeightRecorder`) are :mod:`nbexplain.explain.weights`.

Examples
--------
>>> nbx.filters(model).plot()
>>> nbx.maximize(imagenet, "espresso", steps=64, size=128).plot()
>>> nbx.maximize_channels(imagenet, "net._blocks.6", channels=8, examples=pool).plot()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import reporter
from .._validation import check_bool, check_choice, check_int, check_positive_int, is_int
from ..adapters.model import as_model
from ..adapters.outputs import check_output
from ..errors import InputError
from ..inputs.images import as_image, fit_channels, model_channels, to_display
from ..methods.internals import examples as _examples
from ..methods.internals.activations import (
    activations_at,
    first_conv,
    layer_name,
    layer_named,
    torch_module,
)
from ..methods.internals.maximization import Objective, maximize_batch
from ..methods.internals.options import channel_list, objective_for, options_of, settings_for
from ..plotting import internals as draw
from .result import Result, frame
from .weights import WeightRecorder  # noqa: F401 - widgets/weights.py imports it from here

#: share of a unit's gradient mass inside the crops of dataset examples (the effective receptive field)
EFFECTIVE_MASS = 0.9


# =================================================================================================
# filters and feature maps
# =================================================================================================
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

    module = torch_module(model)
    conv = first_conv(module) if layer is None else layer_named(module, layer)
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

    module = torch_module(model)
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
    output = check_output(output)
    settings = settings_for(module, size=size, steps=steps, lr=lr, optimizer=optimizer, fourier=fourier,
                         decorrelate=decorrelate, jitter=jitter, scale=scale, rotate=rotate, l2=l2, tv=tv,
                         blur_every=blur_every, blur_sigma=blur_sigma, value_range=value_range, seed=seed,
                         preview_every=preview_every)
    objective, label = objective_for(model, module, target, output, settings)
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
        options={**options_of(settings), "output": output})


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
    chosen = channel_list(channels)
    if isinstance(chosen, int):
        chosen = list(range(chosen))
    settings = settings_for(module, size=size, steps=steps, lr=lr, optimizer=optimizer, fourier=fourier,
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
                          run.curve, run.values, found, options_of(settings))


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
            chosen = channel_list(channels)
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


__all__ = ["ChannelGallery", "DatasetExamples", "FeatureMaps", "Filters", "MaximizedImage", "dataset_examples",
           "feature_maps", "filters", "image_pool", "maximize", "maximize_channels"]
