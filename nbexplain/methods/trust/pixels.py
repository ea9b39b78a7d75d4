"""Faithfulness of a pixel map: does removing what it calls important change the model's output?

* :func:`pixel_curves` — deletion and insertion curves (Petsiuk, Das & Saenko 2018, "RISE"): the pixels
  are removed (replaced by the ``fill``: a blurred or mean image) in order of decreasing attribution, in
  ``steps`` equal steps, and the target's output recorded after each; insertion starts from the fill and
  puts the pixels back in the same order. The areas under the curves are trapezoidal over the fraction of
  pixels moved (0..1): a faithful map has a small deletion and a large insertion area.
* :func:`faithfulness_correlation` — Bhatt, Weller & Moura (2020): over random subsets of pixels, the
  Pearson correlation between the attribution a subset holds and the drop of the output when it is removed.
* :func:`infidelity` — Yeh et al. (2019): the expected squared error between ``attribution · I`` and
  ``f(x) - f(x - I)`` for Gaussian perturbations ``I``; with ``normalise`` the attribution is first scaled
  by the factor that minimises it (Captum's ``normalize=True``), so maps in different units compare.

Every perturbed image is built lazily, one model batch at a time (:class:`PixelSteps`, :class:`Subsets`,
:class:`Perturbed` are :class:`~nbexplain.adapters.lazy.LazyRows`), and the model runs at its best batch
size: the floor of these measures is the forward passes themselves.

Examples
--------
>>> curves = pixel_curves(model, image.tensor, result.map, fill, target=285, output="probability", steps=100)
>>> curves.auc_deletion < curves.auc_insertion
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._types import Progress
from ...adapters.lazy import LazyRows
from ...adapters.model import Model
from ...adapters.outputs import class_scores
from ...errors import InputError
from ..coalitions.curves import trapezoid
from .similarity import correlation

OUTPUTS = ("probability", "score")


def target_values(model: Model, scores: np.ndarray, target: int, output: str) -> np.ndarray:
    """One number per row of ``model.predict`` outputs: the probability or the score of ``target``."""
    if output == "probability":
        return model.to_probabilities(scores)[:, target]
    return class_scores(scores)[:, target]


def pixel_ranks(map_: np.ndarray) -> np.ndarray:
    """(H, W) int: each pixel's position when the map is sorted by decreasing value (ties: row-major order)."""
    flat = np.ravel(map_)
    order = np.argsort(-flat, kind="stable")
    ranks = np.empty(flat.size, dtype=np.int64)
    ranks[order] = np.arange(flat.size)
    return ranks.reshape(np.shape(map_))


def step_counts(n_pixels: int, steps: int) -> np.ndarray:
    """How many pixels are moved after each of ``steps`` equal steps: ``round(k * n / steps)``, k = 0..steps."""
    return np.rint(np.arange(steps + 1) * (n_pixels / steps)).astype(np.int64)


class PixelSteps(LazyRows):
    """Rows 0..steps: the image with its first ``counts[k]`` pixels (by ``ranks``) replaced by ``fill``
    (deletion); rows steps+1..2*steps+1: the fill with those pixels restored (insertion)."""

    def __init__(self, image: np.ndarray, fill: np.ndarray, ranks: np.ndarray, counts: np.ndarray):
        super().__init__(2 * len(counts), image.shape, image.dtype)
        self.image, self.fill, self.ranks, self.counts = image, fill, ranks, counts

    def build(self, start: int, stop: int) -> np.ndarray:
        rows = np.arange(start, stop)
        n = len(self.counts)
        moved = self.ranks[None] < self.counts[rows % n][:, None, None]  # (rows, H, W)
        deleting = (rows < n)[:, None, None]
        take_fill = (moved == deleting)[:, None]  # deletion: moved pixels show the fill; insertion: unmoved ones
        return np.where(take_fill, self.fill[None], self.image[None])


@dataclass
class PixelCurves:
    """Deletion and insertion curves of one pixel ranking.

    Attributes
    ----------
    fractions : (steps+1,) - share of the pixels moved after each step.
    deletion, insertion : (steps+1,) - the target's output after each step.
    auc_deletion, auc_insertion : float - trapezoidal areas under the curves over ``fractions``.
    """

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    auc_deletion: float
    auc_insertion: float


def pixel_curves(model: Model, image: np.ndarray, map_: np.ndarray, fill: np.ndarray, target: int,
                 output: str = "probability", steps: int = 100, progress: Progress = None) -> PixelCurves:
    """Deletion and insertion curves of the (H, W) ``map_`` on the (C, H, W) ``image`` (see module docstring).

    Two model evaluations per step and curve, ``2 * (steps + 1)`` in all, run as one lazy batch.
    """
    h, w = image.shape[1:]
    if np.shape(map_) != (h, w):
        raise InputError(f"the map must have the image's shape ({h}, {w}); got {np.shape(map_)}")
    if not 1 <= steps <= h * w:
        raise InputError(f"steps must be in 1..{h * w} (the number of pixels); got {steps}")
    counts = step_counts(h * w, steps)
    batch = PixelSteps(image, fill.astype(image.dtype), pixel_ranks(map_), counts)
    values = target_values(model, model.predict(batch, progress=progress), target, output)
    fractions = counts / (h * w)
    deletion, insertion = values[: steps + 1], values[steps + 1:]
    return PixelCurves(fractions, deletion, insertion, trapezoid(deletion, fractions), trapezoid(insertion, fractions))


class Subsets(LazyRows):
    """The image with the pixels of ``subsets[i]`` (flat indices into H x W) replaced by ``fill``, row i."""

    def __init__(self, image: np.ndarray, fill: np.ndarray, subsets: np.ndarray):
        super().__init__(len(subsets), image.shape, image.dtype)
        self.image, self.fill, self.subsets = image, fill, subsets

    def build(self, start: int, stop: int) -> np.ndarray:
        c, h, w = self.image.shape
        batch = np.repeat(self.image.reshape(1, c, h * w), stop - start, axis=0)
        fill = self.fill.reshape(c, h * w)
        for k, i in enumerate(range(start, stop)):
            idx = self.subsets[i]
            batch[k][:, idx] = fill[:, idx]
        return batch.reshape(stop - start, c, h, w)


def random_subsets(n_pixels: int, n_subsets: int, size: int, seed: int | None) -> np.ndarray:
    """(n_subsets, size) distinct pixel indices per row, drawn with ``numpy.random.default_rng(seed)``."""
    if not 1 <= size <= n_pixels:
        raise InputError(f"subset_size must be in 1..{n_pixels} (the number of pixels); got {size}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(n_pixels, size, replace=False) for _ in range(n_subsets)])


def faithfulness_correlation(model: Model, image: np.ndarray, map_: np.ndarray, fill: np.ndarray, target: int,
                             subsets: np.ndarray, output: str = "score", progress: Progress = None
                             ) -> tuple[float, np.ndarray, np.ndarray]:
    """(correlation, attribution sums, output drops) over the pixel ``subsets`` (flat indices, one row each).

    The drop of subset i is ``f(x) - f(x with subset i filled)``; its attribution is the sum of ``map_``
    over the subset. Returns their Pearson correlation (0 when either is constant).
    """
    flat = np.ravel(map_).astype(np.float64)
    subsets = np.asarray(subsets, dtype=np.int64)
    if subsets.ndim != 2 or subsets.size == 0 or subsets.min() < 0 or subsets.max() >= flat.size:
        raise InputError(f"subsets must be a (n, size) array of pixel indices in 0..{flat.size - 1}")
    reference = target_values(model, model.predict(image[None]), target, output)[0]
    perturbed = target_values(model, model.predict(Subsets(image, fill.astype(image.dtype), subsets),
                                                   progress=progress), target, output)
    drops = reference - perturbed
    sums = flat[subsets].sum(axis=1)
    return correlation(sums, drops), sums, drops


def fresh_seed() -> int:
    """A seed drawn from fresh entropy (for ``seed=None``: new randomness, but one series)."""
    return int(np.random.default_rng().integers(2**31))


def gaussian_noise(shape: tuple[int, ...], std: float, seed: int | None, index: int) -> np.ndarray:
    """Perturbation ``index`` of a seeded series: N(0, std²) per value, float32; the same for any batching."""
    rng = np.random.default_rng(None if seed is None else [seed, index])
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))


class Perturbed(LazyRows):
    """Row i: ``image - noise(i)`` for the seeded Gaussian perturbations of :func:`gaussian_noise`."""

    def __init__(self, image: np.ndarray, n: int, std: float, seed: int | None):
        super().__init__(n, image.shape, image.dtype)
        # seed None: fresh, but fixed here, so that noise(i) is the same each time it is asked for
        self.image, self.std, self.seed = image, std, fresh_seed() if seed is None else seed

    def noise(self, i: int) -> np.ndarray:
        return gaussian_noise(self.image.shape, self.std, self.seed, i)

    def build(self, start: int, stop: int) -> np.ndarray:
        return np.stack([self.image - self.noise(i) for i in range(start, stop)])


def infidelity(model: Model, image: np.ndarray, attribution: np.ndarray, target: int, *, n: int = 50,
               std: float = 0.05, seed: int | None = 0, normalise: bool = True, output: str = "score",
               progress: Progress = None) -> float:
    """Infidelity (Yeh et al. 2019) of a (C, H, W) ``attribution`` (one channel is broadcast to C).

    ``mean_i (a·I_i - (f(x) - f(x - I_i)))²`` over ``n`` seeded perturbations ``I_i ~ N(0, std²)``; with
    ``normalise`` the attribution is scaled by ``β = Σ(a·I)(Δf) / Σ(a·I)²`` first (Captum's ``normalize``).
    """
    attribution = np.broadcast_to(np.asarray(attribution, dtype=np.float64), image.shape)
    batch = Perturbed(image, n, std, seed)
    reference = target_values(model, model.predict(image[None]), target, output)[0]
    drops = reference - target_values(model, model.predict(batch, progress=progress), target, output)
    dots = np.array([float(np.vdot(attribution, batch.noise(i))) for i in range(n)])
    if normalise:
        a, b = float(dots @ dots), float(dots @ drops)
        beta = b / a if a != 0 else 0.0
        dots = beta * dots
    return float(np.mean((dots - drops) ** 2))


__all__ = ["OUTPUTS", "PixelCurves", "PixelSteps", "Perturbed", "Subsets", "faithfulness_correlation",
           "fresh_seed", "gaussian_noise", "infidelity", "pixel_curves", "pixel_ranks", "random_subsets", "step_counts",
           "target_values"]
