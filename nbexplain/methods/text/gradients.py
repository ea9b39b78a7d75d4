"""Gradient attributions of a text model on its embedding layer, through Captum.

The ids a model reads are not differentiable, so the attribution is taken where they become vectors: the
output of the embedding layer (one vector per position), summed over the vector's dimensions to one number
per position.

* ``integrated_gradients`` — Sundararajan, Taly & Yan (2017), Captum's ``LayerIntegratedGradients``: the path
  integral of the gradient from the baseline's embeddings (every position the ``baseline_id`` token, e.g.
  padding) to the text's. Completeness: the attributions add up to ``f(text) - f(baseline)`` up to the
  integral's error, Captum's convergence delta.
* ``gradient_x_input`` — Shrikumar et al. (2016), Captum's ``LayerGradientXActivation``: gradient times
  embedding at the text itself (no baseline, no completeness).

``f`` is the target's probability (softmax of the model's logits; probabilities pass through) or its score
(the model's own output; a single logit z of a binary model is ``[-z, z]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError

METHODS = ("integrated_gradients", "gradient_x_input")


@dataclass
class EmbeddingAttribution:
    """Per-position attributions of one text (``values`` (L,)), with what completeness compares."""

    values: np.ndarray
    ids: np.ndarray
    prediction: float
    baseline_prediction: float | None
    convergence_delta: float | None


def _target_output(module: Any, target: int, output: str, probabilities: bool):
    """``ids -> (N,)``: the target's probability or score of the module's outputs."""
    import torch

    def forward(ids):
        y = module(ids)
        if y.shape[1] == 1:  # a single logit (binary)
            y = torch.cat([-y, y], dim=1)
            return torch.sigmoid(y[:, target]) if output == "probability" else y[:, target]
        if output == "probability" and not probabilities:
            y = torch.softmax(y, dim=1)
        return y[:, target]

    return forward


def embedding_attributions(model: Any, text: str, target: int, output: str = "probability",
                           method: str = "integrated_gradients", baseline_id: int = 0,
                           n_steps: int = 50) -> EmbeddingAttribution:
    """Attributions of ``model`` (a :class:`~nbexplain.adapters.text_models.TextModel`) for ``text``, one per
    id position; see the module docstring."""
    import torch
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    if method not in METHODS:
        raise InputError(f"method={method!r} is not valid: expected one of {list(METHODS)}")
    ids = model.ids([text])
    forward = _target_output(model.raw, target, output, model.output == "probability")
    with model.gradient_mode() as module:
        with torch.no_grad():
            prediction = float(forward(ids)[0])
        if method == "integrated_gradients":
            baseline = torch.full_like(ids, int(baseline_id))
            with torch.no_grad():
                base_prediction = float(forward(baseline)[0])
            attr, delta = LayerIntegratedGradients(forward, model.embedding).attribute(
                ids, baselines=baseline, n_steps=int(n_steps), return_convergence_delta=True)
            delta = float(delta.reshape(-1)[0])
        else:
            attr = LayerGradientXActivation(forward, model.embedding).attribute(ids)
            base_prediction, delta = None, None
        del module
    if attr.ndim != 3 or attr.shape[1] != ids.shape[1]:
        raise InputError(f"the embedding layer's output must be one vector per position, (1, {ids.shape[1]}, D); got "
                         f"{tuple(attr.shape)} (an EmbeddingBag pools the positions: pass embedding= a "
                         "torch.nn.Embedding)")
    values = attr.detach().sum(-1)[0].double().cpu().numpy()
    return EmbeddingAttribution(values, ids[0].cpu().numpy(), prediction, base_prediction, delta)


__all__ = ["METHODS", "EmbeddingAttribution", "embedding_attributions"]
