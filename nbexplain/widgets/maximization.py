"""Channel grids and the Maximization widget: pictures of a layer's channels, and their optimisation, live.

* :class:`ChannelGrid` shows any row of channel pictures — a convolution's filters, one image's feature maps,
  dataset examples: hovering a cell names the channel and its value (the mean activation of a feature map),
  clicking one shows it larger.
* :class:`Maximization` runs :func:`nbexplain.maximize_channels` (or :func:`nbexplain.maximize`) in the
  kernel and streams the images as they form (progress with an estimate, a stop button that keeps what was
  found so far), then shows the gallery; clicking a channel shows its picture larger, its objective curve
  and its dataset examples (the pool patches that excite it most).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from .._validation import check_int, check_keywords, check_positive_int, check_seed
from ..adapters.model import as_model
from ..errors import InputError
from ..explain.internals import (
    ChannelGallery,
    DatasetExamples,
    FeatureMaps,
    Filters,
    MaximizedImage,
    dataset_examples,
    maximize,
    maximize_channels,
)
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, field, handles
from .codec import array_serialization

#: options of maximize / maximize_channels the widget passes on
MAXIMIZE_OPTIONS = ("size", "steps", "lr", "optimizer", "fourier", "decorrelate", "jitter", "scale", "rotate",
                    "l2", "tv", "blur_every", "blur_sigma", "value_range", "seed", "output")
#: widget keywords (traits of every view) a Maximization also takes
WIDGET_OPTIONS = ("cell_size", "layout")
#: seconds between two streamed frames
FRAME_INTERVAL = 0.1


def _array_trait():
    return traitlets.Any(None).tag(sync=True, **array_serialization)


class ChannelGrid(ExplainerWidget):
    """A grid of channel pictures: hover names a channel and its value, click shows it larger.

    Made by ``.widget()`` of :class:`~nbexplain.Filters`, :class:`~nbexplain.FeatureMaps` and
    :class:`~nbexplain.DatasetExamples`; pass either ``images`` (N, H, W, 3) uint8 or ``maps`` (N, h, w)
    (drawn on one colour scale, ``limits``).

    Examples
    --------
    >>> grid = nbx.feature_maps(model, image, "6").widget()
    >>> grid.selected = 3           # the view shows channel 3 large
    """

    _esm = assets.view_esm("maximization")
    _css = assets.view_css("maximization")
    _view_writes: ClassVar[frozenset[str]] = frozenset({"selected"})

    images = _array_trait()  # (N, H, W, 3) uint8
    maps = _array_trait()  # (N, h, w) float32
    limits = traitlets.List([0.0, 1.0]).tag(sync=True)
    colormap = traitlets.Unicode("magma").tag(sync=True)
    labels = traitlets.List([]).tag(sync=True)
    values = traitlets.List([]).tag(sync=True)
    value_label = traitlets.Unicode("value").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    cell_size = traitlets.Int(84, min=16).tag(sync=True)
    mode = traitlets.Unicode("grid").tag(sync=True)  # "grid" or "maximize" (the view's controls)

    def __init__(self, *, images: Any = None, maps: Any = None, labels: Any = None, values: Any = None,
                 value_label: str = "value", title: str = "", limits: Any = None, result: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.result = result
        if images is None and maps is None:
            return
        pictures = images if images is not None else maps
        n = len(pictures)
        labels = [str(x) for x in (labels if labels is not None else [f"channel {i}" for i in range(n)])]
        values = [float(v) for v in (values if values is not None else [np.nan] * n)]
        if len(labels) != n or len(values) != n:
            raise InputError(f"labels and values must have one entry per picture ({n}); got {len(labels)} and "
                             f"{len(values)}")
        with self._applying():
            if images is not None:
                self.images = np.ascontiguousarray(np.asarray(images, dtype=np.uint8))
            else:
                self.maps = np.ascontiguousarray(np.asarray(maps, dtype=np.float32))
                lo, hi = limits if limits is not None else (float(np.min(maps)), float(np.max(maps)))
                self.limits = [float(lo), float(hi) if hi > lo else float(lo) + 1.0]
            self.labels, self.values = labels, values
            self.value_label, self.title = value_label, title

    @traitlets.validate("selected")
    def _check_selected(self, proposal: dict) -> int:
        value = proposal["value"]
        if not -1 <= value < len(self.labels):
            raise traitlets.TraitError(f"selected must be -1 (none) or a cell index in 0..{len(self.labels) - 1}; "
                                       f"got {value}")
        return value

    def _static_png(self) -> bytes | None:
        return self.result._repr_png_() if self.result is not None else None


class Maximization(ChannelGrid):
    """Feature visualisation in the notebook: optimise a layer's channels, watch them form, compare with data.

    Parameters
    ----------
    model : torch.nn.Module
        The network (anything :func:`nbexplain.as_model` accepts that is a torch module).
    layer : module or dotted name
        The layer whose channels are maximised.
    channels : int or list of int
        The channels (a count n: the first n).
    examples : pool of images, optional
        Images to find each channel's dataset examples in (see :func:`nbexplain.dataset_examples`).
    k : int
        Dataset examples per channel.
    autostart : bool
        Start the optimisation as soon as the view shows (else press "run", or call :meth:`run`).
    **options
        Options of :func:`nbexplain.maximize_channels` (``size``, ``steps``, ``seed``, ``fourier``, ...).

    Examples
    --------
    >>> w = nbx.Maximization(model, "net._blocks.6", channels=8, size=64, steps=96, examples=pool)
    >>> w.result            # the ChannelGallery shown (None until a run ends)
    >>> w.examples_of(2)    # the dataset examples of the third cell
    """

    _view_writes: ClassVar[frozenset[str]] = frozenset({"selected"})

    curves = _array_trait()  # (N, steps) float32
    steps = traitlets.Int(128).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    done_steps = traitlets.Int(0).tag(sync=True)
    stopped_at = traitlets.Int(-1).tag(sync=True)  # the step a stopped run ended at; -1 when it finished
    has_examples = traitlets.Bool(False).tag(sync=True)
    autostart = traitlets.Bool(False).tag(sync=True)
    interactive = traitlets.Bool(True).tag(sync=True)

    def __init__(self, model: Any = None, layer: Any = None, channels: Any = 8, *, examples: Any = None, k: int = 6,
                 autostart: bool = True, target: Any = None, **options: Any):
        check_keywords(options, MAXIMIZE_OPTIONS + WIDGET_OPTIONS, "Maximization()")
        kwargs = {key: options.pop(key) for key in list(options) if key in WIDGET_OPTIONS}
        super().__init__(**kwargs)
        self.mode = "maximize"
        self._model = as_model(model) if model is not None else None
        self._layer, self._channels, self._target = layer, channels, target
        self._pool, self._k = examples, check_positive_int(k, "k")
        self._options = dict(options)
        self._examples: DatasetExamples | None = None
        self._partial: dict | None = None
        self.result: ChannelGallery | MaximizedImage | None = None
        if self._model is not None and layer is None and target is None:
            raise InputError("Maximization needs layer= (to maximise its channels) or target= (a class or unit)")
        with self._applying():
            self.steps = check_positive_int(options.get("steps", 128), "steps")
            seed = check_seed(options.get("seed", 0))
            self.seed = -1 if seed is None else seed
            self.interactive = self._model is not None
            self.has_examples = examples is not None
            self.autostart = bool(autostart) and self._model is not None
            self.value_label = "mean activation" if target is None else "value"

    @classmethod
    def from_result(cls, result: ChannelGallery | MaximizedImage, model: Any = None, examples: Any = None,
                    **kwargs: Any) -> Maximization:
        """A widget showing ``result``; with ``model`` it can run again (same settings, new steps or seed)."""
        options = {key: value for key, value in result.options.items() if key in MAXIMIZE_OPTIONS}
        options.update({key: kwargs.pop(key) for key in list(kwargs) if key in MAXIMIZE_OPTIONS})
        if isinstance(result, ChannelGallery):
            widget = cls(model, result.layer, list(result.channels), examples=examples, autostart=False,
                         **options, **kwargs)
            if examples is None and result.examples is not None:
                widget._examples = result.examples
        else:
            widget = cls(model, target=result.target, autostart=False, **options, **kwargs)
        with widget._applying():
            widget.has_examples = widget._pool is not None or widget._examples is not None
            widget._show(result)
        return widget

    # -- computing -----------------------------------------------------------------------------
    def run(self, **overrides: Any) -> ChannelGallery | MaximizedImage:
        """Optimise now (in this cell, no streaming); ``overrides`` change options (e.g. ``steps=200``)."""
        check_keywords(overrides, MAXIMIZE_OPTIONS, "run()")
        with self._compute_lock:
            return self._run(overrides, DIRECT)

    def _run(self, overrides: dict, ctx: RequestContext) -> ChannelGallery | MaximizedImage:
        if self._model is None:
            raise InputError("this widget was made from a result without a model; pass model= to run again")
        options = {**self._options, **overrides}
        steps = options.get("steps", 128)
        rid = ctx.request_id if ctx.request_id is not None else -1  # frames carry the request they belong to
        self._partial = None
        last_sent = [0.0]

        def preview(step: int, pictures: np.ndarray, curve: np.ndarray) -> None:
            self._partial = {"step": step, "steps": steps, "images": pictures, "curves": curve.copy()}
            now = time.monotonic()
            if ctx is not DIRECT and (now - last_sent[0] >= FRAME_INTERVAL or step == steps):
                last_sent[0] = now
                self._dispatcher.send({"type": "frame", "id": rid, "step": step, "steps": steps,
                                       "images": pictures, "values": curve[:, -1].astype(np.float64)})

        common = {"progress": ctx.progress if ctx is not DIRECT else False, "preview": preview,
                  "preview_every": 1, **options}
        if self._target is not None:
            result = maximize(self._model, self._target, **common)
        else:
            if common.pop("output", "score") != "score":
                raise InputError("output is for class targets; channels maximise their mean activation")
            result = maximize_channels(self._model, self._layer, self._channels, **common)
        with self._applying(ctx):
            self._show(result)
        return result

    def _show(self, result: ChannelGallery | MaximizedImage, stopped_at: int = -1) -> None:
        self.result = result
        if isinstance(result, ChannelGallery):
            images, curves, values, labels = result.images, result.curves, result.values, result.labels
            self.title = f"channels of {result.layer!r}"
        else:
            images, curves, values, labels = result.image[None], result.curve[None], [result.value], [result.label]
            self.title = result.label
        self.images = np.ascontiguousarray(images)
        self.curves = np.asarray(curves, dtype=np.float32)
        self.labels = list(labels)
        self.values = [float(v) for v in values]
        self.value_label = "mean activation" if isinstance(result, ChannelGallery) else "value"
        self.done_steps = int(np.asarray(curves).shape[1])
        self.stopped_at = stopped_at
        self.steps = int(result.options.get("steps", self.steps)) if stopped_at < 0 else self.steps
        self.seed = int(result.options.get("seed", self.seed))
        self.autostart = False
        if self.selected >= len(self.labels):
            self.selected = -1

    def _show_partial(self, ctx: RequestContext) -> dict:
        partial = self._partial
        if partial is None:
            return {"stopped_at": -1}
        with self._applying(ctx):
            self.images = np.ascontiguousarray(partial["images"])
            self.curves = partial["curves"].astype(np.float32)
            self.values = [float(v) for v in partial["curves"][:, -1]]
            self.value_label = "objective (stopped)"
            self.done_steps = self.stopped_at = int(partial["step"])
            self.steps = int(partial["steps"])
            self.autostart = False
        return {"stopped_at": self.stopped_at}

    @handles("maximize")
    def _on_maximize(self, params: dict, ctx: RequestContext) -> dict:
        if field(params, "stop", False):
            return self._show_partial(ctx)
        overrides = {}
        if "steps" in params:
            overrides["steps"] = check_int(params["steps"], "steps", 1, 100_000)
        if "seed" in params:
            overrides["seed"] = check_int(params["seed"], "seed", 0)
        self._options.update(overrides)
        self._run({}, ctx)  # a stop (a newer request) cancels it; the stop request shows what was found so far
        return {"stopped_at": -1, "done_steps": self.done_steps}

    # -- dataset examples -------------------------------------------------------------------------
    def examples_of(self, index: int) -> dict[str, np.ndarray]:
        """The dataset examples of grid cell ``index`` (computed once for every channel, on first use)."""
        if self._target is not None and self._examples is None:
            raise InputError("dataset examples are for channels of a layer (this widget maximises a target)")
        if self._examples is None:
            if self._pool is None:
                raise InputError("no image pool: pass examples=<images> to find dataset examples")
            channels = self.result.channels if self.result is not None else self._channels
            self._examples = dataset_examples(self._model, self._layer, self._pool, channels=channels, k=self._k,
                                              progress=False)
        channels = self._examples.channels
        if not 0 <= index < len(channels):
            raise InputError(f"index must be a cell in 0..{len(channels) - 1}; got {index}")
        return self._examples.of(channels[index])

    @handles("examples")
    def _on_examples(self, params: dict, ctx: RequestContext) -> dict:
        index = check_int(field(params, "index"), "index", 0)
        found = self.examples_of(index)
        ctx.check()
        keep = np.isfinite(found["values"])
        return {"index": index, "channel": self._examples.channels[index], "values": found["values"][keep],
                "image": found["image"][keep].astype(np.int32), "boxes": found["boxes"][keep].astype(np.int32),
                "patches": np.ascontiguousarray(found["patches"][keep])}

    def _static_png(self) -> bytes | None:
        return self.result._repr_png_() if self.result is not None else None


@shows(Filters)
def filters_grid(result: Filters, **options: Any) -> ChannelGrid:
    """The widget of ``filters(...).widget()``: hover names a filter and its norm."""
    return ChannelGrid(images=result.images, labels=result.labels, values=result.norms, value_label="norm",
                       title=f"filters of {result.layer!r}", result=result, **options)


@shows(FeatureMaps)
def feature_maps_grid(result: FeatureMaps, **options: Any) -> ChannelGrid:
    """The widget of ``feature_maps(...).widget()``: hover names a channel and its mean activation."""
    return ChannelGrid(maps=result.maps, labels=result.labels, values=result.means, value_label="mean activation",
                       limits=result.limits(), title=f"feature maps of {result.layer!r}", result=result, **options)


@shows(DatasetExamples)
def examples_grid(result: DatasetExamples, **options: Any) -> ChannelGrid:
    """The widget of ``dataset_examples(...).widget()``: every patch, channel by channel."""
    m, k = result.values.shape
    keep = [(i, j) for i in range(m) for j in range(k) if np.isfinite(result.values[i, j])]
    return ChannelGrid(images=np.stack([result.patches[i, j] for i, j in keep]),
                       labels=[f"channel {result.channels[i]} #{j + 1}" for i, j in keep],
                       values=[result.values[i, j] for i, j in keep], value_label="activation",
                       title=f"dataset examples of {result.layer!r}", result=result, **options)


@shows(ChannelGallery, MaximizedImage)
def maximization_of(result: ChannelGallery | MaximizedImage, **options: Any) -> Maximization:
    """The widget of ``gallery.widget(model=..., examples=...)``: static without a model."""
    return Maximization.from_result(result, **options)


__all__ = ["MAXIMIZE_OPTIONS", "ChannelGrid", "Maximization"]
