"""Adapters: any model becomes one batched ``predict`` (:func:`as_model`), at the batch size measured fastest."""

from .model import Model, as_model

__all__ = ["Model", "as_model"]
