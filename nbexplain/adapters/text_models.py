"""Text models: anything that scores strings becomes a :class:`~nbexplain.adapters.model.Model`.

Texts travel through the same batched ``predict`` as images and rows: a batch is a numpy object array of
``str`` (shape ``(N,)``; a perturbation engine hands a :class:`~nbexplain.adapters.lazy.LazyRows` of them), and
the batch sizer picks the batch size. :func:`as_text_model` accepts

* a scikit-learn pipeline on raw strings (``TfidfVectorizer`` + a classifier): ``predict_proba`` (else
  ``decision_function``) gets the strings;
* any callable ``list[str] -> scores`` (it is given a plain list);
* a torch module with a ``tokenizer``: ``tokenizer(list[str]) -> (N, L)`` integer ids (an array or a tensor,
  e.g. :class:`~nbexplain.inputs.text.Vocabulary`), then ``module(ids) -> (N, n_classes)`` logits or
  probabilities. The result is a :class:`TextModel` whose ``torch_module`` gradient methods differentiate;
  its embedding layer (``embedding``) is found or given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_callable
from ..errors import InputError
from .model import DEFAULT_MEMORY_BUDGET, Model, check_class_names
from .sklearn_models import is_sklearn_estimator, sklearn_forward
from .torch_models import is_torch_module


class TextModel(Model):
    """A torch module reading token ids, seen as a model of strings.

    Attributes
    ----------
    tokenizer : callable - ``list[str] -> (N, L)`` ids.
    embedding : torch.nn.Module - the layer that turns ids into vectors (gradient methods attribute there).
    """

    def __init__(self, module: Any, tokenizer: Callable, embedding: Any, **kwargs: Any) -> None:
        self.tokenizer = tokenizer
        self.embedding = embedding
        super().__init__(module, "torch", self._forward_texts, **kwargs)

    def ids(self, texts: Sequence[str]):
        """The token ids of ``texts`` as a LongTensor on the module's device."""
        import torch

        ids = self.tokenizer([str(t) for t in texts])
        ids = ids if isinstance(ids, torch.Tensor) else torch.as_tensor(np.asarray(ids))
        if ids.ndim != 2 or ids.dtype.is_floating_point:
            raise InputError(f"the tokenizer must return (N, L) integer ids for N texts; got {tuple(ids.shape)} "
                             f"{ids.dtype}")
        params = list(self.raw.parameters())
        return ids.to(device=params[0].device if params else "cpu", dtype=torch.long)

    def _forward_texts(self, batch):
        import torch

        module = self.raw
        was_training = module.training
        module.eval()
        try:
            with torch.inference_mode():
                y = module(self.ids(list(batch)))
                return (y.float() if y.dtype not in (torch.float32, torch.float64) else y).cpu().numpy()
        finally:
            module.train(was_training)


def find_embedding(module: Any, layer: Any = None):
    """The module's embedding layer: ``layer`` (a submodule or its dotted name), else its first
    ``torch.nn.Embedding`` (or ``EmbeddingBag``)."""
    import torch

    if layer is not None:
        if isinstance(layer, str):
            try:
                return module.get_submodule(layer)
            except AttributeError as exc:
                names = [n for n, _ in module.named_modules() if n]
                raise InputError(f"embedding={layer!r} is not a submodule of the model; it has {names[:20]}") from exc
        if not isinstance(layer, torch.nn.Module):
            raise InputError(f"embedding must be a torch.nn.Module of the model or its name; got {type(layer).__name__}")
        return layer
    for sub in module.modules():
        if isinstance(sub, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
            return sub
    raise InputError("the model has no torch.nn.Embedding; pass embedding= (the layer whose output gradient "
                     "methods attribute to)")


def as_text_model(model: Any, *, tokenizer: Callable | None = None, embedding: Any = None,
                  class_names: Sequence[str] | None = None, output: str = "auto", batch_size: int | None = None,
                  memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Model:
    """Wrap a model of strings into a :class:`~nbexplain.adapters.model.Model` (see the module docstring).

    Parameters
    ----------
    model : scikit-learn pipeline, callable, torch.nn.Module or Model
        What scores texts. A :class:`Model` is returned as is (it must accept an array of strings).
    tokenizer : callable, optional
        For a torch module: ``list[str] -> (N, L)`` integer ids; default: the module's ``tokenizer``
        attribute. A ``spans(text)`` method, when it has one, says where each id sits in the text.
    embedding : torch.nn.Module or str, optional
        For a torch module: its embedding layer (default: its first ``torch.nn.Embedding``).
    class_names : sequence of str, optional
        A name per class (default: the model's ``class_names``, or an estimator's string ``classes_``).
    output, batch_size, memory_budget
        As :func:`nbexplain.as_model`.

    Examples
    --------
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, y)
    >>> nbx.as_text_model(clf).predict_proba(["a great film"])
    """
    if isinstance(model, Model):
        if class_names is not None:
            model.class_names = check_class_names(class_names)
        return model
    if class_names is None:
        names = getattr(model, "class_names", None)
        classes = getattr(model, "classes_", None)
        if isinstance(names, (list, tuple)):
            class_names = list(names)
        elif classes is not None and np.ndim(classes) == 1 and all(isinstance(c, str) for c in classes):
            class_names = [str(c) for c in classes]
    common = dict(class_names=class_names, batch_size=batch_size, memory_budget=memory_budget)
    if is_torch_module(model):
        tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
        if tokenizer is None:
            raise InputError("a torch text model needs tokenizer= (list[str] -> (N, L) integer ids), e.g. "
                             "nbx.Vocabulary.fit(texts)")
        check_callable(tokenizer, "tokenizer", "list[str] -> (N, L) integer ids")
        return TextModel(model, tokenizer, find_embedding(model, embedding), output=output, **common)
    if tokenizer is not None or embedding is not None:
        raise InputError("tokenizer= and embedding= are for torch modules; this model reads strings itself")
    if is_sklearn_estimator(model):
        forward, detected = sklearn_forward(model)
        return Model(model, "sklearn", forward, output=detected if output == "auto" else output, **common)
    if callable(model):
        return Model(model, "callable", lambda batch: model([str(t) for t in batch]), output=output, **common)
    raise InputError(f"model must be a scikit-learn pipeline on strings, a callable list[str] -> scores, a torch "
                     f"module with a tokenizer or a Model; got {type(model).__name__}")


def is_text_torch(model: Any) -> bool:
    """True for a :class:`TextModel` (gradient methods can run on it)."""
    return isinstance(model, TextModel)


__all__ = ["TextModel", "as_text_model", "find_embedding", "is_text_torch"]
