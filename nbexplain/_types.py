"""Types every floor shares: how progress is reported, and what a lazy batch of model inputs is.

* ``Progress`` — a callable given the fraction of work done (0..1). It may raise
  :class:`~nbexplain.errors.Cancelled` to stop the work (widgets do this when a newer request arrives).
* :class:`LazyBatch` — a batch of N model inputs built only when sliced, so that perturbation methods never
  hold all their perturbed inputs in memory: :meth:`nbexplain.adapters.Model.predict` asks for one model batch at a
  time, at the batch size it measured fastest. :class:`nbexplain.adapters.lazy.LazyRows` is the base class the
  methods derive from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

Progress = Callable[[float], None] | None


@runtime_checkable
class LazyBatch(Protocol):
    """N model inputs of one shape, built on demand: ``batch[start:stop]`` returns a numpy array."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def __len__(self) -> int: ...

    def __getitem__(self, span: slice) -> np.ndarray: ...


__all__ = ["LazyBatch", "Progress"]
