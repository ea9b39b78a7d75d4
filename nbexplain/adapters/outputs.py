"""What a model's outputs mean: class scores, the explained class (``target``), one number per row.

* :func:`resolve_target` — ``target`` (an index, a class name, or None = the predicted class) as an index.
* :func:`class_scores` — one column per class: a single logit z (a binary model) becomes ``[-z, z]``.
* :func:`tabular_output` / :class:`Output` — for global tabular views (effects, importance, surrogates): the
  regression output, or the probability of one class, as one number per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .model import Model


def resolve_target(target: Any, probabilities: np.ndarray, class_names: Sequence[str] | None, name: str = "target") -> int:
    """``target`` as a class index: None means the predicted class; names are looked up in class_names."""
    n = len(probabilities)
    if target is None:
        return int(np.argmax(probabilities))
    if isinstance(target, str):
        if class_names is None or target not in class_names:
            raise InputError(f"{name}={target!r} is not a class name; class names: {list(class_names or [])[:20]}")
        return list(class_names).index(target)
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
        raise InputError(f"{name} must be an int class index, a class name or None; got {type(target).__name__}")
    if not 0 <= int(target) < n:
        raise InputError(f"{name}={int(target)} is out of range: the model has {n} classes (0..{n - 1})")
    return int(target)


def class_scores(outputs: np.ndarray) -> np.ndarray:
    """One column per class: a single logit z (a binary model) becomes ``[-z, z]``, as in gradient methods."""
    return np.concatenate([-outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs


@dataclass(frozen=True)
class Output:
    """How a model's outputs become one number per row.

    ``kind`` is "regression" (column 0 of ``predict``) or "probability" (the probability of class
    ``target``). ``label`` says it in words (for axes).
    """

    kind: str
    target: int
    target_name: str
    n_classes: int

    @property
    def label(self) -> str:
        return "prediction" if self.kind == "regression" else f"P({self.target_name})"

    def __call__(self, model: Model, scores: np.ndarray) -> np.ndarray:
        """One value per row of the ``model.predict`` outputs ``scores``."""
        if self.kind == "regression":
            return scores[:, 0]
        return model.to_probabilities(scores)[:, self.target]

    def labels(self, model: Model, scores: np.ndarray) -> np.ndarray:
        """The predicted value (regression) or class index (classifiers) of each row."""
        if self.kind == "regression":
            return scores[:, 0]
        return np.argmax(model.to_probabilities(scores), axis=1).astype(np.float64)


def tabular_output(model: Model, table: Any, target: Any = None, name: str = "target") -> Output:
    """Decide what "the model's output" means for ``model`` on ``table`` and validate ``target``.

    A model with one output column (that is not declared as probabilities) is a regression: the
    response is that column and ``target`` must be None or 0. Otherwise the model is a classifier and
    the response is the probability of class ``target`` (an index or a class name); None means the
    positive class (1) of a binary model, or the class with the highest mean probability over the
    first rows of ``table`` for more classes. A scikit-learn estimator's kind and classes are read
    from the estimator itself; other models predict a few rows once to find out.
    """
    known = _known_layout(model)
    if known is not None and (not known[0] or known[1] == 2 or target is not None):
        is_classifier, n_classes = known  # a scikit-learn estimator: no prediction needed
        probabilities = np.full(n_classes, 1.0 / n_classes) if is_classifier else None
    else:
        scores = model.predict(table.values[: min(64, table.n_rows)])
        is_classifier = not (scores.shape[1] == 1 and model.output != "probability")
        probabilities = model.to_probabilities(scores).mean(axis=0) if is_classifier else None
        n_classes = len(probabilities) if is_classifier else 0
    if not is_classifier:
        if target not in (None, 0):
            raise InputError(f"{name}={target!r} is not valid: the model has one output (a regression); use None")
        return Output("regression", 0, "prediction", 0)
    if target is None:
        index = 1 if n_classes == 2 else int(np.argmax(probabilities))
    else:
        index = resolve_target(target, probabilities, model.class_names, name=name)
    return Output("probability", index, model.class_name(index), n_classes)


def _known_layout(model: Model) -> tuple[bool, int] | None:
    """(is_classifier, n_classes) of a scikit-learn estimator, read from the estimator; None if unknown."""
    raw = model.raw
    if not (hasattr(raw, "fit") and hasattr(raw, "predict")) or model.output == "auto":
        return None
    if hasattr(raw, "predict_proba") or hasattr(raw, "decision_function"):
        classes = getattr(raw, "classes_", None)
        if classes is None or np.ndim(classes) != 1 or len(classes) < 2:
            return None
        return True, len(classes)
    return False, 1


__all__ = ["Output", "class_scores", "resolve_target", "tabular_output"]
