"""What a model's outputs mean: class scores, the explained class (``target``), one number per row.

* :func:`resolve_target` — ``target`` (an index, a class name, or None = the predicted class) as an index.
* :func:`class_scores` — one column per class: a single logit z (a binary model) becomes ``[-z, z]``.
* :func:`tabular_output` / :class:`Output` — for global tabular views (effects, importance, surrogates): the
  regression output, or the probability of one class, as one number per row.
* :func:`local_output` — the same for a local explanation of one row (Shapley values, LIME): ``target=None``
  is the class the model predicts for that row, and ``output`` chooses the probability or the model's score.

What ``target=None`` means is stated here once: the predicted class for a local explanation
(:func:`resolve_target`, :func:`local_output`); the positive class of a binary classifier, else the class with
the highest mean probability, for a global view (:func:`tabular_output`); a regression has no class (None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._deprecation import renamed_value
from .._validation import check_choice
from ..errors import InputError
from .model import Model

#: what a local explanation explains: the probability of the target class, or the model's own score for it
OUTPUTS = ("probability", "score")


def check_output(output: Any) -> str:
    """``output`` as "probability" or "score" (the old spelling "probabilities" warns, pointing at the caller of
    the public function that called this)."""
    return check_choice(renamed_value(output, "output", {"probabilities": "probability"}, stacklevel=4),
                        "output", OUTPUTS)


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

    ``kind`` is "regression" (column 0 of ``predict``), "probability" (the probability of class
    ``target``) or "score" (the model's own output for class ``target``: a logit or a decision score; a
    single logit z of a binary model is ``[-z, z]``). ``label`` says it in words (for axes).
    """

    kind: str
    target: int
    target_name: str
    n_classes: int

    @property
    def label(self) -> str:
        if self.kind == "regression":
            return "prediction"
        return f"P({self.target_name})" if self.kind == "probability" else f"score of {self.target_name}"

    def __call__(self, model: Model, scores: np.ndarray) -> np.ndarray:
        """One value per row of the ``model.predict`` outputs ``scores``."""
        return self.every_class(model, scores)[:, 0 if self.kind == "regression" else self.target]

    def every_class(self, model: Model, scores: np.ndarray) -> np.ndarray:
        """``(N, K)``: this kind of output for every class (a regression: its one output column)."""
        if self.kind == "regression":
            return scores[:, :1]
        return model.to_probabilities(scores) if self.kind == "probability" else class_scores(scores)

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
        is_classifier = not is_regression(model, scores)
        probabilities = model.to_probabilities(scores).mean(axis=0) if is_classifier else None
        n_classes = len(probabilities) if is_classifier else 0
    if not is_classifier:
        return _regression(target, name)
    if target is None:
        index = 1 if n_classes == 2 else int(np.argmax(probabilities))
    else:
        index = resolve_target(target, probabilities, model.class_names, name=name)
    return Output("probability", index, model.class_name(index), n_classes)


def is_regression(model: Model, scores: np.ndarray) -> bool:
    """Whether ``scores`` (from ``model.predict``) are a regression's: one column that is not a probability."""
    return scores.shape[1] == 1 and model.output != "probability"


def local_output(model: Model, x: np.ndarray, target: Any = None, output: str = "probability",
                 name: str = "target") -> tuple[Output, np.ndarray]:
    """What a local explanation of the row ``x`` explains, and the model's scores at ``x`` (one model call).

    A classifier: the probability (``output="probability"``) or the model's own score (``output="score"``)
    of class ``target`` (an index or a class name); None means the class the model predicts for ``x``. A
    regression (one output that is not a probability): its output, and ``target`` must be None or 0.
    """
    output = check_choice(renamed_value(output, "output", {"probabilities": "probability"}, stacklevel=4),
                          "output", OUTPUTS)
    scores = model.predict(np.asarray(x)[None])
    if is_regression(model, scores):
        return _regression(target, name), scores[0]
    probabilities = model.to_probabilities(scores)[0]
    index = resolve_target(target, probabilities, model.class_names, name=name)
    return Output(output, index, model.class_name(index), len(probabilities)), scores[0]


def _regression(target: Any, name: str) -> Output:
    if target not in (None, 0):
        raise InputError(f"{name}={target!r} is not valid: the model has one output (a regression); use None")
    return Output("regression", 0, "prediction", 0)


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


__all__ = ["OUTPUTS", "Output", "check_output", "class_scores", "is_regression", "local_output", "resolve_target", "tabular_output"]
