"""Shapley values with superpixels as players (Shapley 1953; for images e.g. Lundberg & Lee 2017).

The value of a coalition is the model's output for the target on the image in which only the
coalition's superpixels are kept. With M <= ``max_exact`` superpixels the whole 2**M value table is
evaluated (in model batches, cached) and the exact values computed from it in one vectorised pass;
beyond, permutation sampling with antithetic pairs; KernelSHAP is the third option.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.segmentation import Segmentation
from ...methods.coalitions.masks import all_coalitions
from ...methods.coalitions.shapley import (
    CHUNK_COALITIONS,
    ShapleyValues,
    exact_shapley,
    kernel_shap,
    sampled_shapley,
)
from ...methods.coalitions.superpixels import check_count, check_seed, game_for
from ...plotting.superpixels import SuperpixelResultMixin

SHAPLEY_METHODS = ("auto", "exact", "sampled", "kernel")


@dataclass
class ShapleyImage(SuperpixelResultMixin):
    """Shapley values of the superpixels of one image for one class.

    Attributes
    ----------
    values : (M,) - each superpixel's Shapley value.
    base_value : float - v(no superpixel): the output on the fill alone.
    full_value : float - v(all): the output on the image.
    efficiency_gap : float - ``values.sum() - (full_value - base_value)`` (0 up to rounding).
    std : (M,) or None - standard errors of sampled values.
    method : str - "exact", "sampled" or "kernel".
    n_evaluations : int - coalitions the estimator used (the engine's cache may have served some).
    table : (2**M,) or None - the full value table when computed exactly (row b = bitmask b).
    """

    values: np.ndarray
    base_value: float
    full_value: float
    efficiency_gap: float
    std: np.ndarray | None
    method: str
    n_evaluations: int
    target: int
    target_name: str
    segmentation: Segmentation
    output: str = "probability"
    table: np.ndarray | None = None

    @property
    def scores(self) -> np.ndarray:
        return self.values

    def _title(self) -> str:
        return (f"Shapley values ({self.method}) for {self.target_name}\n"
                f"Σφ = {self.values.sum():.3f} = f(all) − f(none) = {self.full_value - self.base_value:.3f}")


def _scaled(progress, offset: float, span: float):
    return lambda f: progress(offset + f * span)


def shapley_image(
    model: Any,
    image: Any = None,
    *,
    segmentation: Any = None,
    fill: Any = None,
    target: Any = None,
    method: str = "auto",
    max_exact: int = 16,
    n_permutations: int = 50,
    n_samples: int = 2048,
    antithetic: bool = True,
    output: str | None = None,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    **segment_params: Any,
) -> ShapleyImage:
    """Shapley values of an image's superpixels for one class.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable, Model or SuperpixelGame
        The classifier; a :class:`SuperpixelGame` brings its image, segmentation, fill and cache.
    image : array or PIL image
        The image (omit when ``model`` is a game).
    segmentation, fill, target, output, **segment_params
        As :func:`nbexplain.lime_image`.
    method : {"auto", "exact", "sampled", "kernel"}
        "auto" is "exact" when M <= ``max_exact`` (2**M model evaluations), else "sampled".
    n_permutations : int
        Permutations for "sampled" (each costs M - 1 evaluations).
    n_samples : int
        Coalitions for "kernel" (KernelSHAP).
    antithetic : bool
        Pair each sampled permutation with its reverse.
    seed : int, optional
        For reproducible sampling.
    progress : callable, optional
        Called with the fraction done (may raise to cancel).

    Examples
    --------
    >>> sv = nbx.shapley_image(model, image, segmentation="grid", n_segments=12)
    >>> sv.method, abs(sv.efficiency_gap) < 1e-9
    ('exact', True)
    """
    if method not in SHAPLEY_METHODS:
        raise InputError(f"method={method!r} is not valid: expected one of {SHAPLEY_METHODS}")
    max_exact = check_count(max_exact, "max_exact", minimum=1)
    seed = check_seed(seed)
    game = game_for(model, image, segmentation, fill, target, output, segment_params)
    m = game.n_players
    if method == "auto":
        method = "exact" if m <= max_exact else "sampled"
    table = None
    if method == "exact":
        if m > 24:
            raise InputError(f"method='exact' needs 2**M evaluations; M={m} is too many (at most 24); "
                             "use method='sampled' or 'kernel', or fewer superpixels")
        z = all_coalitions(m)
        parts = []
        step = max(CHUNK_COALITIONS, 2 ** m // 50)
        for start in range(0, len(z), step):
            chunk = z[start:start + step]
            inner = None if progress is None else _scaled(progress, start / len(z), len(chunk) / len(z))
            parts.append(game.value(chunk, progress=inner))
        table = np.concatenate(parts)
        sv: ShapleyValues = exact_shapley(table)
    elif method == "sampled":
        if m < 2:
            raise InputError("sampled Shapley values need at least 2 superpixels")
        sv = sampled_shapley(game.value_fn(), m, check_count(n_permutations, "n_permutations"),
                             antithetic=antithetic, seed=seed, progress=progress)
    else:
        sv = kernel_shap(game.value_fn(), m, check_count(n_samples, "n_samples", minimum=4), seed=seed,
                         progress=progress)
    return ShapleyImage(
        values=sv.values[:, 0], base_value=float(sv.base_value[0]), full_value=float(sv.full_value[0]),
        efficiency_gap=float(sv.efficiency_gap[0]), std=None if sv.std is None else sv.std[:, 0],
        method=sv.method, n_evaluations=sv.n_evaluations, target=game.target, target_name=game.target_name,
        segmentation=game.segmentation, output=game.output, table=table,
    )


__all__ = ["SHAPLEY_METHODS", "ShapleyImage", "shapley_image"]
