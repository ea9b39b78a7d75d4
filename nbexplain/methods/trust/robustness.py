"""Does the map stay put when the input barely moves? Noisy copies that keep the prediction, and sensitivity.

Ghorbani, Abid & Zou (2019), "Interpretation of neural networks is fragile": a map can change a lot under a
perturbation too small to change the prediction. :func:`noisy_copies` draws copies of the image with
uniform noise in an L∞ ball (Captum's ``sensitivity_max`` perturbation) and keeps those the model still
classifies as the original; :func:`relative_change` is the change of an attribution relative to its size,
whose maximum over the copies is the max-sensitivity estimate of Yeh et al. (2019).

Examples
--------
>>> kept, tried = noisy_copies(model, image.tensor, label=285, n=10, radius=0.02, seed=0)
>>> relative_change(attribution, explain(kept[0]))
0.41
"""

from __future__ import annotations

import numpy as np

from ..._types import Progress
from ...adapters.lazy import LazyRows
from ...adapters.model import Model
from ...errors import InputError
from .pixels import fresh_seed


def uniform_noise(shape: tuple[int, ...], radius: float, seed: int | None, index: int) -> np.ndarray:
    """Perturbation ``index`` of a seeded series: uniform in [-radius, radius] per value, float32."""
    rng = np.random.default_rng(None if seed is None else [seed, index])
    return (rng.random(shape, dtype=np.float32) * np.float32(2 * radius) - np.float32(radius))


class Noisy(LazyRows):
    """Row i: ``image + uniform_noise(i)``, optionally clipped to the image's value range."""

    def __init__(self, image: np.ndarray, n: int, radius: float, seed: int | None,
                 clip: tuple[float, float] | None = None, first: int = 0):
        super().__init__(n, image.shape, image.dtype)
        seed = fresh_seed() if seed is None else seed  # None: fresh, but copy(i) the same each time asked
        self.image, self.radius, self.seed, self.clip, self.first = image, radius, seed, clip, first

    def copy(self, i: int) -> np.ndarray:
        x = self.image + uniform_noise(self.image.shape, self.radius, self.seed, self.first + i)
        return np.clip(x, *self.clip) if self.clip is not None else x

    def build(self, start: int, stop: int) -> np.ndarray:
        return np.stack([self.copy(i) for i in range(start, stop)])


def noisy_copies(model: Model, image: np.ndarray, label: int, n: int, radius: float, seed: int | None,
                 clip: tuple[float, float] | None = None, max_tries: int | None = None,
                 progress: Progress = None) -> tuple[list[np.ndarray], int]:
    """Up to ``n`` noisy copies of ``image`` the model still predicts as ``label``, and how many were drawn.

    Copies are drawn in rounds of ``n`` (numbered on, so the series is the same however many rounds run)
    until ``n`` keep the prediction or ``max_tries`` (default ``4 n``) have been drawn.
    """
    max_tries = 4 * n if max_tries is None else max_tries
    seed = fresh_seed() if seed is None else seed  # one series across the rounds
    kept: list[np.ndarray] = []
    tried = 0
    while len(kept) < n and tried < max_tries:
        batch = Noisy(image, min(n, max_tries - tried), radius, seed, clip, first=tried)
        labels = model.predict_proba(batch).argmax(axis=1)
        for i in np.flatnonzero(labels == label):
            if len(kept) < n:
                kept.append(batch.copy(int(i)))
        tried += len(batch)
        if progress is not None:
            progress(min(1.0, len(kept) / n))
    return kept, tried


def relative_change(original: np.ndarray, other: np.ndarray) -> float:
    """``||other - original|| / ||original||`` (Frobenius norms; a zero original counts as 1, as Captum)."""
    a, b = np.asarray(original, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"the attributions must have the same shape; got {a.shape} and {b.shape}")
    norm = float(np.linalg.norm(a.ravel()))
    return float(np.linalg.norm((b - a).ravel())) / (norm if norm != 0 else 1.0)


__all__ = ["Noisy", "noisy_copies", "relative_change", "uniform_noise"]
