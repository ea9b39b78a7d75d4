"""Read a torch model's layers while it runs: forward hooks that pool each layer's output batch by batch.

The inputs are a lazy batch (:class:`ModelInputs`): the adapter's ``predict`` slices it at the batch size
it measured fastest, the slice is converted to the model's layout only then (uint8 images to float in
[0, 1], shaped channels first over memory that keeps them last, as the adapter runs convolutions), and
every hooked layer's output is pooled to one row per input and written into its place in a preallocated
(N, D) array. Memory stays at one batch of inputs and unpooled activations,
plus the pooled rows; the forward passes are the model's own, so extraction costs what ``predict`` costs.

Pooling turns a layer's output of shape (C, ...) into a vector: ``"mean"`` averages over every axis after
the channels (global average pooling of a conv map; a vector stays as it is), ``"max"`` takes the maximum
there, ``"flatten"`` keeps every value, and a callable maps the output tensor (N, ...) to (N, D).

Examples
--------
>>> model = as_model(cnn)
>>> layers = resolve_layers(cnn, ["features.0", "classifier"])
>>> values, shapes, scores = extract(model, ModelInputs(images, model_channels(cnn)), layers, "mean")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..._types import Progress
from ..._validation import nearest
from ...adapters.lazy import LazyRows, ReusedBuffer, is_lazy
from ...adapters.model import Model
from ...errors import InputError, ModelError

#: the pseudo-layer that is the model's input itself (pooled like any layer)
INPUT = "input"
POOLS = ("mean", "max", "flatten")
LAYERS_EXPECTED = ("a list of layer names from model.named_modules() (or the modules themselves), "
                   f"{INPUT!r} for the model's input, a dict of names to show -> layers, or None (the model's "
                   "top-level stages)")


# -------------------------------------------------------------------------------------------------
# inputs
# -------------------------------------------------------------------------------------------------
def image_layout(shape: tuple[int, ...], dtype: np.dtype, channels: int | None) -> str:
    """How a batch of ``shape`` reaches a model whose first convolution takes ``channels``:
    "nhwc" (images with channels last: moved first), "nhw" (grey images: a channel axis added) or "as is"."""
    if len(shape) == 4:
        if channels is not None and shape[1] == channels:
            return "as is"
        last = shape[-1]
        if channels is not None and (last == channels or (channels == 3 and last == 4)):
            return "nhwc"
        if channels is None and dtype == np.uint8 and last in (1, 3, 4) and shape[1] not in (1, 3, 4):
            return "nhwc"
        return "as is"
    if len(shape) == 3 and channels == 1:
        return "nhw"
    return "as is"


class ModelInputs(LazyRows):
    """The rows of ``X`` as the model takes them, converted one batch at a time.

    uint8 values are scaled to [0, 1] (as :func:`nbexplain.as_image` does for one image); images with their
    channels last, (N, H, W, C), are moved to (N, C, H, W) when the model's first convolution takes C
    channels (an alpha channel is dropped); grey (N, H, W) images get a channel axis for a one-channel
    model. Anything else (table rows, tensors already laid out) passes as it is, as float32 unless it is
    float64. ``on_slice(start, stop)`` is called before each slice is built (the hooks learn where the rows go).
    With ``reuse`` every slice is written into one buffer, overwritten by the next slice: for one pass of the
    model adapter, which is done with a batch before it asks for the next (a small CNN's forward pass then
    reads its input from memory still in the cache: ~2% of its time).
    """

    def __init__(self, X: Any, channels: int | None = None, on_slice: Callable[[int, int], None] | None = None):
        source = _array_like(X)
        if len(source.shape) < 1 or source.shape[0] == 0:
            raise InputError(f"X must be a non-empty batch of model inputs, shape (N, ...); got shape {source.shape}")
        dtype = np.dtype(source.dtype)
        if dtype.kind not in "biuf":
            raise InputError(f"X must hold numbers (model inputs); got dtype {dtype}")
        self.source = source
        self.layout = image_layout(tuple(source.shape), dtype, channels)
        self.scale = dtype == np.uint8
        self.out_dtype = np.dtype(np.float64 if dtype == np.float64 else np.float32)
        sample = tuple(source.shape[1:])
        if self.layout == "nhwc":
            c = 3 if sample[2] == 4 and channels in (None, 3) else sample[2]  # an alpha channel is dropped
            sample = (c, sample[0], sample[1])
        elif self.layout == "nhw":
            sample = (1, *sample)
        self.on_slice = on_slice
        self._reuse = False
        self._buffer = ReusedBuffer()
        super().__init__(source.shape[0], sample, self.out_dtype)

    @property
    def reuse(self) -> bool:
        """Whether slices are written into one reused buffer; switched off, the buffer is handed back."""
        return self._reuse

    @reuse.setter
    def reuse(self, on: bool) -> None:
        self._reuse = bool(on)
        if not on:
            self._buffer.release()

    def build(self, start: int, stop: int) -> np.ndarray:
        if self.on_slice is not None:
            self.on_slice(start, stop)
        batch = np.asarray(self.source[start:stop])
        if self.layout == "nhwc" and batch.shape[-1] != self.shape[1]:
            batch = batch[..., :self.shape[1]]
        elif self.layout == "nhw":
            batch = batch[:, None]
        out = self._output(batch.shape)
        if self.scale and batch.flags.writeable:
            _scaled(batch, out)
        else:  # one pass into a contiguous batch
            if self.scale:
                np.divide(batch, self.out_dtype.type(255.0), out=out)
            else:
                out[...] = batch
                if batch.dtype.kind == "f" and not np.all(np.isfinite(out)):
                    raise InputError(f"X contains NaN or infinite values (rows {start}..{stop - 1})")
        # (N, C, H, W) seen over memory that keeps the channels last: the layout the torch adapter gives a
        # convolutional model on the CPU, so it runs without another copy
        return out.transpose(0, 3, 1, 2) if self.layout == "nhwc" else out

    def _output(self, shape: tuple[int, ...]) -> np.ndarray:
        """Where a slice of ``shape`` is converted: a new array, or with :attr:`reuse` the front of one buffer."""
        if not self._reuse:
            return np.empty(shape, dtype=self.out_dtype)
        out, _ = self._buffer.take(shape[0], shape[1:], lambda n: np.empty((n, *shape[1:]), dtype=self.out_dtype))
        return out


def _scaled(batch: np.ndarray, out: np.ndarray) -> None:
    """uint8 ``batch`` / 255 into float32 ``out``, by torch's kernel: the same values as numpy's division, on
    the threads torch runs the model on (numpy's single-threaded cast and divide cost 4 % of a small CNN's
    extraction)."""
    import torch

    torch.div(torch.from_numpy(batch), 255.0, out=torch.from_numpy(out))


def _array_like(X: Any) -> Any:
    """``X`` as something with shape, dtype and slicing: an array, a lazy batch, a tensor or a DataFrame."""
    if X is None:
        raise InputError("X must be a batch of model inputs (N, ...): images or table rows; got None")
    if hasattr(X, "detach"):  # a torch tensor
        return X.detach().cpu().numpy()
    if hasattr(X, "to_numpy") and hasattr(X, "columns"):  # a DataFrame
        return X.to_numpy(dtype=np.float64)
    if is_lazy(X) and not isinstance(X, np.ndarray):
        return X
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists, exotic objects
        raise InputError(f"X must be an array of model inputs (N, ...); got {type(X).__name__}") from exc
    if arr.dtype == object:
        raise InputError(f"X must be an array of numbers (model inputs); got {type(X).__name__} of objects")
    return arr


# -------------------------------------------------------------------------------------------------
# layers
# -------------------------------------------------------------------------------------------------
def default_layers(module) -> list[str]:
    """The model's top-level stages (``named_children``), or its leaf modules when it has a single stage."""
    children = [name for name, _ in module.named_children()]
    if len(children) >= 2:
        return children
    leaves = [name for name, m in module.named_modules() if name and not any(True for _ in m.children())]
    if not leaves:
        raise InputError(f"the model ({type(module).__name__}) has no layers to read; pass layers=[{INPUT!r}] "
                         "to look at its input")
    return leaves


def resolve_layers(module, layers: Any) -> list[tuple[str, Any]]:
    """``layers`` as ``[(name, module or None for the input)]``, in the order given, each named once.

    A dict names the layers as its keys say (``{"conv1": "features.0", "logits": model.fc}``).
    """
    labels: list[str] | None = None
    if layers is None:
        layers = default_layers(module)
    elif isinstance(layers, Mapping):  # {name to show: layer}
        labels, layers = [str(k) for k in layers], list(layers.values())
    elif isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        layers = [layers]
    if len(layers) == 0:
        raise InputError(f"layers must name at least one layer: {LAYERS_EXPECTED}")
    named = dict(module.named_modules())
    names_of = {id(m): n for n, m in named.items()}
    resolved: list[tuple[str, Any]] = []
    for layer in layers:
        if isinstance(layer, str):
            if layer in named and layer != "":
                if layer == INPUT:
                    raise InputError(f"the model has a module named {INPUT!r}, which is also the name of the "
                                     "model's input: pass the module itself to read it")
                resolved.append((layer, named[layer]))
            elif layer == INPUT:
                resolved.append((INPUT, None))
            else:
                near = nearest(layer, [n for n in named if n] + [INPUT])
                hint = f"; did you mean {near!r}?" if near else ""
                some = [n for n in named if n][:12]
                raise InputError(f"layers: {layer!r} is not a module of the model{hint} Its modules: {some}"
                                 f"{' ...' if len(named) > 13 else ''} (or {INPUT!r})")
        elif id(layer) in names_of and names_of[id(layer)] != "":
            resolved.append((names_of[id(layer)], layer))
        elif layer is module:
            raise InputError("layers: the model itself is not a layer; its output is the model's output "
                             "(scores), which activations() returns as .scores")
        else:
            raise InputError(f"layers must be {LAYERS_EXPECTED}; got {type(layer).__name__} {layer!r}")
    if labels is not None:
        resolved = [(label, layer) for label, (_, layer) in zip(labels, resolved, strict=True)]
    seen = [name for name, _ in resolved]
    doubles = sorted({n for n in seen if seen.count(n) > 1})
    if doubles:
        raise InputError(f"layers names {doubles} more than once; name each layer once")
    return resolved


def check_pool(pool: Any) -> str | Callable:
    """``pool`` as one of :data:`POOLS` or a callable (tensor (N, ...) -> (N, D))."""
    if callable(pool):
        return pool
    if pool not in POOLS:
        near = nearest(pool, POOLS) if isinstance(pool, str) else None
        raise InputError(f"pool={pool!r} is not valid: expected one of {list(POOLS)} or a function mapping a "
                         f"layer's output (N, ...) to (N, D){'; did you mean ' + repr(near) + '?' if near else ''}")
    return pool


def pool_output(output: Any, pool: str | Callable, name: str, out: Any = None):
    """One row per input: a layer's ``output`` (a torch tensor (N, ...)) pooled as ``pool`` says, on its device;
    or written into ``out`` (rows (N, D) of the result array): a map's mean then goes there directly, with no
    temporary (the pooling is memory-bound work beside the forward pass)."""
    import torch

    if (out is not None and pool == "mean" and output.ndim > 2 and output.dtype == out.dtype
            and output.device == out.device and output.shape[1] == out.shape[1]):
        return torch.mean(output, dim=tuple(range(2, output.ndim)), out=out)
    pooled = _pooled(output, pool, name)
    if out is None:
        return pooled
    if pooled.shape[1] != out.shape[1]:
        raise InputError(f"layer {name!r} gave {pooled.shape[1]} values per input after pooling, earlier "
                         f"{out.shape[1]} (inputs of different sizes): use pool='mean'")
    return out.copy_(pooled)


def _pooled(output: Any, pool: str | Callable, name: str):
    import torch

    if callable(pool):
        pooled = pool(output)
        if not isinstance(pooled, torch.Tensor):
            pooled = torch.as_tensor(np.asarray(pooled))
        if pooled.ndim == 1:
            pooled = pooled[:, None]
        if pooled.ndim != 2 or pooled.shape[0] != output.shape[0]:
            raise InputError(f"pool (a function) must return one row per input, shape ({output.shape[0]}, D), "
                             f"for layer {name!r}; got shape {tuple(pooled.shape)}")
        return pooled
    if output.ndim == 1:
        return output[:, None]
    if output.ndim == 2:
        return output
    if pool == "flatten":
        return output.flatten(1)
    dims = tuple(range(2, output.ndim))
    if pool == "mean":
        return output.mean(dim=dims)
    if output.ndim == 4 and not output.is_contiguous() and output.is_contiguous(memory_format=torch.channels_last):
        # the adapter runs CNNs channels last: amax over such a map is ~7x slower than this kernel
        return torch.nn.functional.adaptive_max_pool2d(output, 1).flatten(1)
    return output.amax(dim=dims)


def _tensor_of(output: Any, name: str):
    import torch

    if isinstance(output, torch.Tensor):
        return output
    raise InputError(f"layer {name!r} returns a {type(output).__name__}, not a tensor; read a layer inside it, "
                     "or pass pool=<a function> to a layer that returns one tensor")


# -------------------------------------------------------------------------------------------------
# extraction
# -------------------------------------------------------------------------------------------------
class _Recorder:
    """Forward hooks writing each layer's pooled output for the rows of the batch being run."""

    def __init__(self, n: int, layers: list[tuple[str, Any]], pool: str | Callable):
        self.n, self.layers, self.pool = n, layers, pool
        self.values: dict[str, np.ndarray | None] = {name: None for name, _ in layers}
        self.rows: dict[str, Any] = {}  # each layer's values as a torch tensor over the same memory
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.span = (0, 0)
        self.passes = 0  # forward passes started (a pass the adapter runs again counts anew)
        self.written: dict[str, int] = {}  # the pass each layer last wrote in
        self.error: BaseException | None = None

    def on_slice(self, start: int, stop: int) -> None:
        self.span = (start, stop)

    def record(self, name: str, output: Any) -> None:
        import torch

        try:
            start, stop = self.span
            t = _tensor_of(output, name)
            if t.ndim == 0 or t.shape[0] != stop - start:
                raise InputError(f"layer {name!r} gave an output of shape {tuple(t.shape)} for a batch of "
                                 f"{stop - start} inputs; a layer must keep one row per input")
            if self.written.get(name) == self.passes:
                raise InputError(f"layer {name!r} runs more than once in a forward pass (a shared module); "
                                 "read the modules around it instead")
            rows = self.rows.get(name)
            if torch.is_inference_mode_enabled():  # as the adapter runs: no graph to keep out of
                self._write(name, t, rows, start, stop)
            else:
                with torch.no_grad():
                    self._write(name, t.detach(), rows, start, stop)
            self.written[name] = self.passes
        except BaseException as exc:
            self.error = self.error or exc
            raise

    def _write(self, name: str, t: Any, rows: Any, start: int, stop: int) -> None:
        """Pool ``t`` into rows ``start:stop`` of the layer's result; the first batch makes the result array
        (the pooled width, float32, or float64 for a float64 model)."""
        import torch

        if rows is not None:
            pool_output(t, self.pool, name, out=rows[start:stop])
            return
        pooled = pool_output(t, self.pool, name)
        self.shapes[name] = tuple(int(s) for s in t.shape[1:])
        dtype = np.float64 if pooled.dtype == torch.float64 else np.float32
        self.values[name] = np.empty((self.n, pooled.shape[1]), dtype=dtype)
        self.rows[name] = torch.from_numpy(self.values[name])
        self.rows[name][start:stop].copy_(pooled)

    def pass_hook(self):
        """A forward pre-hook on the whole model: a pass starts (the adapter may run a batch again, e.g. in
        another memory layout; each layer then writes once more, not twice in one pass)."""
        def hook(_module, _args):
            self.passes += 1
        return hook

    def hook(self, name: str):
        return lambda _module, _inputs, output: self.record(name, output)

    def input_hook(self):
        """A forward pre-hook on the whole model: the model's input as a layer."""
        def hook(_module, args, kwargs=None):
            if args:
                self.record(INPUT, args[0])
        return hook


def torch_module_of(model: Model):
    """The torch module whose layers hooks can read, or an error saying what to do with another model."""
    if model.kind != "torch":
        raise InputError(f"activations need a torch.nn.Module (forward hooks read its layers); the model is a "
                         f"{model.kind} ({type(model.raw).__name__}). For a scikit-learn pipeline pass the "
                         "transformed features (e.g. pipeline[:-1].transform(X)) to nbx.project or "
                         "nbx.linear_probes directly")
    return model.torch_module


def extract(model: Model, inputs: ModelInputs, layers: list[tuple[str, Any]], pool: str | Callable,
            progress: Progress = None) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, ...]], np.ndarray]:
    """Run ``model`` over ``inputs`` once and return ``(values, shapes, scores)``.

    ``values[name]`` is the (N, D) pooled output of each layer (float32, float64 for a float64 model),
    ``shapes[name]`` its unpooled shape per input, ``scores`` the model's (N, n_outputs) outputs.
    """
    module = torch_module_of(model)
    recorder = _Recorder(len(inputs), layers, pool)
    inputs.on_slice, inputs.reuse = recorder.on_slice, True  # the adapter is done with each slice before the next
    handles = [module.register_forward_pre_hook(recorder.pass_hook())]  # first: it runs before the input's
    try:
        for name, layer in layers:
            if layer is None:
                handles.append(module.register_forward_pre_hook(recorder.input_hook()))
            else:
                handles.append(layer.register_forward_hook(recorder.hook(name)))
        try:
            scores = model.predict(inputs, progress)
        except ModelError:
            if recorder.error is not None:  # our own check inside a hook, not the user's model
                raise recorder.error from None
            raise
    finally:
        for h in handles:
            h.remove()
        inputs.on_slice, inputs.reuse = None, False  # the buffer handed back
    silent = [name for name, v in recorder.values.items() if v is None]
    if silent:
        raise InputError(f"layers {silent} produced no output during the forward pass: are they used by the "
                         "model's forward()?")
    values = {name: recorder.values[name] for name, _ in layers}
    return values, recorder.shapes, scores


__all__ = ["INPUT", "LAYERS_EXPECTED", "POOLS", "ModelInputs", "check_pool", "default_layers", "extract",
           "image_layout", "pool_output", "resolve_layers", "torch_module_of"]
