"""Model adapters: a torch module, a scikit-learn estimator or any callable becomes one batched ``predict``.

Everything above this floor (attribution methods, perturbation engines, widgets) talks to a
:class:`Model` only: ``predict(x) -> (N, n_outputs)`` numpy scores, ``predict_proba`` for probabilities,
and, for torch modules, ``torch_module`` so gradient methods can differentiate.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from .._deprecation import renamed_value
from .batching import BatchSizer

DEFAULT_MEMORY_BUDGET = 1 << 30  # bytes of model input (and its activations) per batch
ACTIVATION_FACTOR = 32  # rough ratio of a CNN's activation memory to its input size
MAX_ROWS = 8192  # tabular chunk size for non-torch models


def _is_torch_module(obj: Any) -> bool:
    # only a module that was already imported can have made ``obj``: never pay torch's import for sklearn users
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_sklearn_estimator(obj: Any) -> bool:
    return hasattr(obj, "fit") and (hasattr(obj, "predict") or hasattr(obj, "predict_proba"))


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
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.batch_size = batch_size
        self.memory_budget = int(memory_budget)
        self.n_outputs: int | None = None
        self._sizers: dict[tuple, BatchSizer] = {}

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
    def sizer(self, sample_shape: tuple, itemsize: int) -> BatchSizer:
        """The batch sizer for samples of this shape (learned once, reused by every later call)."""
        key = tuple(sample_shape)
        if key not in self._sizers:
            sample_bytes = max(1, int(np.prod(sample_shape)) * itemsize)
            if self.kind == "torch":
                max_batch = max(1, self.memory_budget // (sample_bytes * ACTIVATION_FACTOR))
                self._sizers[key] = BatchSizer(min(max_batch, 256), fixed=self.batch_size)
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
        if not np.all(np.isfinite(y)):
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


def _looks_like_probabilities(y: np.ndarray) -> bool:
    return y.shape[1] > 1 and bool(np.all(y >= 0) and np.all(y <= 1) and np.allclose(y.sum(1), 1, atol=1e-3))


def _to_numpy(y: Any) -> np.ndarray:
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    return np.asarray(y, dtype=np.float64) if not isinstance(y, np.ndarray) or y.dtype != np.float64 else y


def _torch_forward(module, preprocess):
    import torch

    params = list(module.parameters())
    device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32

    def forward(batch: np.ndarray):
        was_training = module.training
        module.eval()
        try:
            with torch.inference_mode():
                t = torch.from_numpy(np.ascontiguousarray(batch)).to(device=device, dtype=dtype)
                if preprocess is not None:
                    t = preprocess(t)
                y = module(t)
                if y.dtype not in (torch.float32, torch.float64):  # half, bfloat16, ints: not all numpy-able
                    y = y.float()
                return y.cpu().numpy()
        finally:
            module.train(was_training)

    return forward


def _sklearn_forward(est):
    forest = _forest_forward(est)
    if forest is not None:
        return forest
    if hasattr(est, "predict_proba"):
        return est.predict_proba, "probability"
    if hasattr(est, "decision_function"):
        def forward(batch):
            d = np.asarray(est.decision_function(batch), dtype=np.float64)
            return np.stack([-d, d], axis=1) / 2 if d.ndim == 1 else d
        return forward, "logits"
    return est.predict, "logits"


#: forest class -> whether summing its trees gave exactly the estimator's own prediction (checked once)
_FOREST_AGREES: dict[type, bool] = {}


def _forest_forward(est):
    """A fitted single-output random forest or extra-trees model, predicted tree by tree in this thread.

    scikit-learn's forests send every call through joblib and each tree's own checks, ~30 µs per tree
    whatever the batch: 3 ms for one row of a 100-tree forest whose trees take 0.2 ms. Explanations make
    many small calls (counterfactual search rounds, slider drags), so for forests left at ``n_jobs=None``
    or ``1`` this sums the trees' ``tree_.predict`` on the float32 input in order and divides by their
    number, as ``predict_proba``/``predict`` do. The first batch of each forest class is also sent to the
    model's own method and the fast path is kept only if both agree exactly. Anything unusual (other n_jobs, several outputs,
    an overridden method, a wrong width, NaN) goes to the model's own method.
    """
    try:
        from sklearn.ensemble import (
            ExtraTreesClassifier,
            ExtraTreesRegressor,
            RandomForestClassifier,
            RandomForestRegressor,
        )
    except ImportError:  # pragma: no cover - an estimator implies scikit-learn
        return None
    # both kinds of forest share one prediction method; a subclass that overrides it keeps its own
    classifier = (isinstance(est, (RandomForestClassifier, ExtraTreesClassifier))
                  and type(est).predict_proba is RandomForestClassifier.predict_proba)
    regressor = (isinstance(est, (RandomForestRegressor, ExtraTreesRegressor))
                 and type(est).predict is RandomForestRegressor.predict)
    if not (classifier or regressor) or getattr(est, "n_jobs", None) not in (None, 1) \
            or not getattr(est, "estimators_", None) or getattr(est, "n_outputs_", 1) != 1:
        return None
    method = est.predict_proba if classifier else est.predict
    trees = [tree.tree_ for tree in est.estimators_]
    width = 1 if regressor else len(est.classes_)
    kind = type(est)

    def summed(X: np.ndarray) -> np.ndarray:
        out = trees[0].predict(X)[:, :width].astype(np.float64)
        for tree in trees[1:]:
            out += tree.predict(X)[:, :width]
        return out / len(trees)

    def forward(batch):
        X = np.asarray(batch)
        if not _FOREST_AGREES.get(kind, True) or X.ndim != 2 or X.shape[1] != getattr(est, "n_features_in_", X.shape[1]) \
                or not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
            return method(batch)  # scikit-learn's own checks and errors
        y = summed(np.ascontiguousarray(X, dtype=np.float32))
        if kind not in _FOREST_AGREES:  # once per class: does this scikit-learn predict the same way?
            _FOREST_AGREES[kind] = bool(np.array_equal(y, np.asarray(method(batch), dtype=np.float64).reshape(y.shape)))
        return y

    return forward, "probability" if classifier else "logits"


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
            model.class_names = [str(c) for c in class_names]
        return model
    if class_names is None:  # a model that names its classes (e.g. ``module.class_names``) keeps them
        names = getattr(model, "class_names", None)
        class_names = list(names) if isinstance(names, (list, tuple)) else None
    common = dict(class_names=class_names, batch_size=batch_size, memory_budget=memory_budget)
    if _is_torch_module(model):
        if preprocess is not None:
            import torch

            class Preprocessed(torch.nn.Module):
                def __init__(self, fn, inner):
                    super().__init__()
                    self.fn, self.inner = fn, inner

                def forward(self, x):
                    return self.inner(self.fn(x))

            model = Preprocessed(preprocess, model)
        return Model(model, "torch", _torch_forward(model, None), output=output, **common)
    if preprocess is not None:
        raise InputError("preprocess is only for torch modules; fold it into your callable instead")
    if _is_sklearn_estimator(model):
        forward, detected = _sklearn_forward(model)
        return Model(model, "sklearn", forward, output=detected if output == "auto" else output, **common)
    if callable(model):
        return Model(model, "callable", model, output=output, **common)
    raise InputError(
        f"model must be a torch.nn.Module, a scikit-learn estimator or a callable; got {type(model).__name__}"
    )
