"""How far a faster path's outputs are from the model's own: the check every speed-up makes on its first batch.

Incremental inference (:mod:`nbexplain.methods.incremental`) and batch-norm folding (:mod:`.folding`) compute a
model's outputs another way; each compares its first row with the model's own forward pass and stops using
itself when the two differ by more than float rounding could explain.
"""

from __future__ import annotations

import numpy as np


def relative_gap(outputs, truth) -> float:
    """max |outputs - truth| relative to the outputs' scale (max |truth|, at least 1: logits near 0 are judged
    in absolute terms); inf when the shapes differ or ``outputs`` are not all finite."""
    outputs, truth = np.asarray(outputs, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if outputs.shape != truth.shape or not np.all(np.isfinite(outputs)):
        return float("inf")
    if outputs.size == 0:
        return 0.0
    return float(np.abs(outputs - truth).max()) / max(1.0, float(np.abs(truth).max()))


__all__ = ["relative_gap"]
