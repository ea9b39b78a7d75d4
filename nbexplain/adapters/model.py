"""Model adapters: a torch module, a scikit-learn estimator or any callable becomes one batched ``predict``.

Everything above this floor (attribution methods, perturbation engines, widgets) talks to a
:class:`Model` only: ``predict(x) -> (N, n_outputs)`` numpy scores, ``predict_proba`` for probabilities,
and, for torch modules, ``torch_module`` so gradient methods can differentiate.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._deprecation import renamed_value
from ..errors import InputError, ModelError
from .allocator import BATCH_MEMORY, steady_heap
from .batching import BatchSizer
from .sklearn_models import is_sklearn_estimator, sklearn_forward
from .torch_models import is_torch_module, torch_forward, with_preprocess

DEFAULT_MEMORY_BUDGET = BATCH_MEMORY  # bytes of model input (and its activations) per batch
ACTIVATION_FACTOR = 32  # rough ratio of a CNN's activation memory to its input size
MAX_ROWS = 8192  # tabular chunk size for non-torch models
#: {torch module: {(sample shape, itemsize): the newest sizer}}: a fresh ``as_model(net)`` (every
#: ``nbx.attribute(net, ...)`` makes one) starts from the batch size measured before, not from size 1
_LEARNED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Model:
    """A model seen through one batched ``predict``.

    Build it with :func:`as_model`. ``predict`` returns the model's own outputs (logits, scores or
    probabilities) as a float ``(N, n_outputs)`` array; ``predict_proba`` turns them into probabilities
    (softmax of logits; probabilities are passed through).
    """

    def __init__(
        self,
        raw: Any,
        kind: str,
        forward: Callable[[np.ndarray], Any],
        *,
        output: str = "auto",
        class_names: Sequence[str] | None = None,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ):
        output = renamed_value(output, "output", {"probabilities": "probability"})
        if output not in ("auto", "logits", "probability"):
            raise InputError(f"output={output!r} is not valid: expected 'auto', 'logits' or 'probability'")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise InputError(f"batch_size={batch_size!r} is not valid: expected a positive integer or None")
        self.raw = raw
        self.kind = kind
        self._forward = forward
        self.output = output
        self.class_names = check_class_names(class_names)
        self.batch_size = batch_size
        self.memory_budget = int(memory_budget)
        self.n_outputs: int | None = None
        self._sizers: dict[tuple, BatchSizer] = {}
        steady_heap()  # batch memory reused, not faulted in again (glibc's thresholds; see .allocator)

    def __setstate__(self, state: dict) -> None:
        """Unpickled in another process (a Dask worker): that process's heap is made steady too."""
        self.__dict__.update(state)
        steady_heap()

    # -- properties ---------------------------------------------------------------------------
    @property
    def differentiable(self) -> bool:
        """True when gradient methods can run (the model is a torch module)."""
        return self.kind == "torch"

    @property
    def torch_module(self):
        """The torch module, for gradient methods; raises a clear error for other models."""
        from ..errors import NotDifferentiableError

        if not self.differentiable:
            raise NotDifferentiableError(
                f"this needs a differentiable torch.nn.Module, but the model is a {self.kind} "
                f"({type(self.raw).__name__}); use a perturbation method such as method='occlusion'"
            )
        return self.raw

    def __repr__(self) -> str:
        return f"Model(kind={self.kind!r}, model={type(self.raw).__name__}, n_outputs={self.n_outputs})"

    # -- prediction ---------------------------------------------------------------------------
    def with_batch_size(self, batch_size: int | None) -> Model:
        """A copy sharing the model (and its weights) that predicts in batches of ``batch_size`` (None: the
        fastest size, as measured for this model)."""
        import copy

        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise InputError(f"batch_size={batch_size!r} is not valid: expected a positive integer or None")
        other = copy.copy(self)
        other.batch_size = None if batch_size is None else int(batch_size)
        other._sizers = {}
        return other

    @property
    def channels_last(self) -> bool:
        """True when the model takes (N, C, H, W) image batches fastest with their channels last in memory (a
        convolutional torch model on the CPU, see :func:`~.torch_models.channels_last_wanted`): perturbation
        methods then build their batches that way (:func:`image_batch`), and the adapter passes them on without
        a copy."""
        return bool(getattr(self._forward, "layout", {}).get("channels_last", False))

    @property
    def measured_batch_size(self) -> int | None:
        """The fastest batch size measured so far (for the input shape predicted most), None before any."""
        sizers = list(self._sizers.values())
        if not sizers:
            return None
        return int(max(sizers, key=lambda z: sum(z.trials.values())).best)

    def sizer(self, sample_shape: tuple, itemsize: int) -> BatchSizer:
        """The batch sizer for samples of this shape (learned once, reused by every later call, and by every
        later ``Model`` of the same torch module)."""
        key = tuple(sample_shape)
        if key not in self._sizers:
            sample_bytes = max(1, int(np.prod(sample_shape)) * itemsize)
            if self.kind == "torch":
                max_batch = max(1, self.memory_budget // (sample_bytes * ACTIVATION_FACTOR))
                sizer = BatchSizer(min(max_batch, 256), fixed=self.batch_size)
                if self.batch_size is None:
                    learned = _LEARNED.setdefault(self.raw, {})
                    earlier = learned.get((key, itemsize))
                    if earlier is not None and earlier.candidates == sizer.candidates:
                        sizer.resume(earlier)
                    learned[(key, itemsize)] = sizer
                self._sizers[key] = sizer
            else:
                rows = max(1, min(MAX_ROWS, self.memory_budget // sample_bytes))
                self._sizers[key] = BatchSizer(rows, fixed=self.batch_size or rows)
        return self._sizers[key]

    def predict(self, x: Any, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Model outputs for a batch ``x`` of shape (N, ...) as a float64 (N, n_outputs) array.

        ``x`` may also be a lazy batch: any object with ``shape``, ``dtype``, ``len()`` and slicing that
        returns numpy arrays, so perturbed inputs are built one model batch at a time.
        """
        if not (hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__getitem__")):
            x = np.asarray(x)
        if len(x.shape) < 1 or x.shape[0] == 0:
            raise InputError(f"x must be a non-empty batch of shape (N, ...), got shape {x.shape}")
        n = x.shape[0]
        out: np.ndarray | None = None
        sizer = self.sizer(tuple(x.shape[1:]), np.dtype(x.dtype).itemsize)

        def forward(start: int, stop: int) -> None:
            nonlocal out
            y = self._call(x[start:stop])
            if out is None:
                out = np.empty((n, y.shape[1]), dtype=np.float64)
            out[start:stop] = y

        with getattr(self._forward, "evaluating", contextlib.nullcontext)():  # a torch module: eval mode once
            for _ in sizer.chunks(n, forward, progress):
                pass
        assert out is not None
        if self.output == "auto":
            self.output = "probability" if _looks_like_probabilities(out) else "logits"
        return out

    def predict_proba(self, x: Any, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Class probabilities (softmax of logits; probabilities pass through)."""
        return self.to_probabilities(self.predict(x, progress))

    def to_probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Turn outputs of :meth:`predict` into probabilities."""
        if self.output == "probability":
            return scores
        if scores.shape[1] == 1:  # a single logit: binary problem
            p = 1 / (1 + np.exp(-scores))
            return np.concatenate([1 - p, p], axis=1)
        return _softmax(scores)

    def _call(self, batch: np.ndarray) -> np.ndarray:
        try:
            y = self._forward(batch)
        except Exception as exc:  # the user's model failed: say so, with the batch it got
            raise ModelError(
                f"the model raised {type(exc).__name__} on a batch of shape {batch.shape} "
                f"(dtype {batch.dtype}): {exc}"
            ) from exc
        try:
            y = _to_numpy(y)
        except (TypeError, ValueError) as exc:  # strings, objects, ragged lists
            raise ModelError(
                f"the model returned {type(y).__name__} that is not numeric ({exc}); "
                f"expected a ({len(batch)}, n_outputs) array of numbers"
            ) from exc
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[0] != len(batch):
            raise ModelError(
                f"the model returned shape {y.shape} for a batch of {len(batch)}; "
                f"expected ({len(batch)}, n_outputs)"
            )
        if not np.isfinite(y).all():
            bad = int((~np.isfinite(y)).sum())
            raise ModelError(f"the model returned {bad} non-finite values (NaN or inf) for a batch of {len(batch)}")
        if self.n_outputs is None:
            self.n_outputs = int(y.shape[1])
            expected = 2 if self.n_outputs == 1 else self.n_outputs
            if self.class_names is not None and len(self.class_names) != expected:
                names, self.n_outputs = self.class_names, None
                raise InputError(
                    f"class_names has {len(names)} names but the model has {expected} classes"
                )
        elif y.shape[1] != self.n_outputs:
            raise ModelError(f"the model returned {y.shape[1]} outputs, earlier {self.n_outputs}")
        return y

    def n_classes(self, sample: np.ndarray) -> int:
        """Number of classes (columns of ``predict_proba``), predicting ``sample`` once if unknown."""
        if self.n_outputs is None:
            self.predict(sample[:1])
        return 2 if self.n_outputs == 1 else int(self.n_outputs)

    def class_name(self, index: int) -> str:
        if self.class_names is not None and 0 <= index < len(self.class_names):
            return self.class_names[index]
        return f"class {index}"

    @contextlib.contextmanager
    def gradient_mode(self):
        """Context for gradient work on the torch module: eval mode, grads on, both restored after."""
        import torch

        module = self.torch_module
        was_training = module.training
        module.eval()
        try:
            with torch.enable_grad():
                yield module
        finally:
            module.train(was_training)


def image_batch(n: int, sample_shape: tuple[int, ...], dtype: Any, channels_last: bool) -> np.ndarray:
    """An uninitialised (n, C, H, W) batch; with ``channels_last`` its memory holds (n, H, W, C) (the view is
    transposed), the layout :attr:`Model.channels_last` models run without a copy."""
    if channels_last and len(sample_shape) == 3:
        c, h, w = sample_shape
        return np.empty((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return np.empty((n, *sample_shape), dtype=dtype)


def check_class_names(class_names: Any, name: str = "class_names") -> list[str] | None:
    """``class_names`` as a list of str (None stays None); one string is refused, not split into letters."""
    if class_names is None:
        return None
    if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__len__"):
        raise InputError(f"{name} must be a sequence of names, one per class (e.g. ['cat', 'dog']); "
                         f"got {type(class_names).__name__} {class_names!r}")
    return [str(c) for c in class_names]


def _looks_like_probabilities(y: np.ndarray) -> bool:
    return y.shape[1] > 1 and bool(np.all(y >= 0) and np.all(y <= 1) and np.allclose(y.sum(1), 1, atol=1e-3))


def _to_numpy(y: Any) -> np.ndarray:
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    return np.asarray(y, dtype=np.float64) if not isinstance(y, np.ndarray) or y.dtype != np.float64 else y


def callable_forward(fn: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """``fn`` as the adapter calls it, never writing into the caller's batch: perturbation methods reuse one
    buffer and rewrite only what changes, so a function that edits its input (``x -= mean``) would corrupt
    every later batch. Its first call gets a copy, compared with the batch afterwards; a function seen
    changing it gets a copy of every batch from then on (one copy per batch, which only it pays)."""
    writes = [None]  # unknown until the first call; then whether fn writes into its input

    def forward(batch: np.ndarray) -> Any:
        if writes[0] is False:
            return fn(batch)
        own = np.array(batch, copy=True)
        y = fn(own)
        if writes[0] is None:
            writes[0] = not np.array_equal(own, batch, equal_nan=own.dtype.kind in "fc")
        return y

    forward.writes_input = writes  # for tests: [None | bool]
    return forward


def as_model(
    model: Any,
    *,
    class_names: Sequence[str] | None = None,
    output: str = "auto",
    preprocess: Callable | None = None,
    batch_size: int | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> Model:
    """Wrap any model into a :class:`Model` with one batched ``predict``.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
        A torch module returning logits or probabilities; an estimator (``predict_proba``, else
        ``decision_function``, else ``predict``); or a callable mapping a numpy batch to scores.
    class_names : sequence of str, optional
        A name for each output.
    output : {"auto", "logits", "probability"}
        What the model returns; "auto" checks the first outputs (rows in [0, 1] summing to 1).
    preprocess : callable, optional
        For torch modules: a differentiable function applied to the input tensor before the module
        (normalisation, resizing), so attributions are expressed on the image the user passes.
    batch_size : int, optional
        Fix the batch size; by default the fastest size is measured on the first calls.
    memory_budget : int
        Bytes that one batch may use (input times an activation factor for torch modules).

    Examples
    --------
    >>> m = nbx.as_model(torch_cnn, class_names=["cat", "dog"])
    >>> m.predict_proba(images).shape
    (8, 2)
    """
    if isinstance(model, Model):
        if class_names is not None:
            model.class_names = check_class_names(class_names)
        return model
    if class_names is None:  # a model that names its classes (e.g. ``module.class_names``) keeps them
        names = getattr(model, "class_names", None)
        class_names = list(names) if isinstance(names, (list, tuple)) else None
    common = dict(class_names=class_names, batch_size=batch_size, memory_budget=memory_budget)
    if is_torch_module(model):
        if preprocess is not None:
            model = with_preprocess(model, preprocess)
        return Model(model, "torch", torch_forward(model), output=output, **common)
    if preprocess is not None:
        raise InputError("preprocess is only for torch modules; fold it into your callable instead")
    if is_sklearn_estimator(model):
        forward, detected = sklearn_forward(model)
        return Model(model, "sklearn", forward, output=detected if output == "auto" else output, **common)
    if callable(model):
        return Model(model, "callable", callable_forward(model), output=output, **common)
    raise InputError(
        f"model must be a torch.nn.Module, a scikit-learn estimator or a callable; got {type(model).__name__}"
    )
