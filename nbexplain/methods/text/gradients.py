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

:func:`baseline_id` picks the baseline's token and :func:`token_positions` says which displayed token each id
position sits on, so that per-position attributions add up to one number per token.

``f`` is the target's probability (softmax of the model's logits; probabilities pass through) or its score
(the model's own output; a single logit z of a binary model is ``[-z, z]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import check_choice
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


def baseline_id(model: Any, baseline: Any) -> int:
    """The id every position of the baseline text takes: ``"pad"`` (the embedding's padding id, or the tokenizer's
    ``PAD``, else 0), ``"unk"`` (the tokenizer's ``UNKNOWN``, else 1), or an id."""
    if isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
        return int(baseline)
    check_choice(baseline, "baseline", ["pad", "unk"])
    if baseline == "unk":
        return int(getattr(model.tokenizer, "UNKNOWN", 1))
    padding = getattr(model.embedding, "padding_idx", None)
    return int(padding if padding is not None else getattr(model.tokenizer, "PAD", 0))


def token_positions(tokenizer: Any, toks: Any, text: str, n_positions: int) -> np.ndarray:
    """The displayed token each id position sits on (-1: none), from the tokenizer's ``spans(text)``, else
    one id per token in order (padding after them)."""
    out = np.full(n_positions, -1, dtype=np.int64)
    spans = getattr(tokenizer, "spans", None)
    if callable(spans):
        for p, (start, stop) in enumerate(spans(text)[:n_positions]):
            inside = np.flatnonzero((toks.starts < stop) & (toks.stops > start))
            out[p] = inside[0] if len(inside) else -1
        return out
    ids_used = n_positions if n_positions == toks.n_tokens else None
    if ids_used is None and n_positions < toks.n_tokens:
        raise InputError(f"the tokenizer gives {n_positions} ids for {toks.n_tokens} tokens and has no "
                         "spans(text) saying where they sit; give it one, or pass tokens= that match its ids")
    out[:toks.n_tokens] = np.arange(toks.n_tokens)
    return out


__all__ = ["METHODS", "EmbeddingAttribution", "baseline_id", "embedding_attributions", "token_positions"]
