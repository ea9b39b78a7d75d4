"""Deletion and insertion curves (Petsiuk, Das & Saenko 2018, "RISE") for any ranking of superpixels.

Deletion removes the superpixels from the image most important first and records the target's output
after each step; insertion starts from the fill and adds them back in the same order. A good ranking makes
the deletion curve fall fast (small area under it) and the insertion curve rise fast (large area). The
areas are trapezoidal over the fraction of superpixels moved, 0..1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.segmentation import Segmentation
from ...methods.coalitions.superpixels import game_for
from ...plotting.superpixels import SuperpixelResultMixin, draw_curves, draw_segmentation


@dataclass
class PerturbationCurves(SuperpixelResultMixin):
    """Deletion and insertion curves of one ranking.

    Attributes
    ----------
    order : (M,) int - superpixels, most important first.
    fractions : (M+1,) - k / M for k = 0..M superpixels moved.
    deletion : (M+1,) - the target's output with the first k of ``order`` removed.
    insertion : (M+1,) - the target's output with only the first k of ``order`` kept.
    auc_deletion, auc_insertion : float - trapezoidal areas under the curves.
    """

    order: np.ndarray
    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    auc_deletion: float
    auc_insertion: float
    target: int
    target_name: str
    segmentation: Segmentation
    output: str = "probability"

    @property
    def scores(self) -> np.ndarray:
        """Rank as a score: M for the first of ``order`` down to 1 for the last."""
        s = np.empty(len(self.order))
        s[self.order] = np.arange(len(self.order), 0, -1)
        return s

    def keep_top(self, k: int) -> np.ndarray:
        """(M,) bool coalition keeping only the ``k`` most important superpixels (insertion step k)."""
        z = np.zeros(len(self.order), bool)
        z[self.order[:k]] = True
        return z

    def plot(self, ax=None, **_: Any):
        """Both curves with their AUCs; returns the Axes."""
        return draw_curves(self, ax=ax)

    def plot_ranking(self, ax=None):
        return draw_segmentation(self.segmentation, ax=ax, values=self.scores, cmap="magma",
                                 title="ranking (bright = first)")


def ranking_order(scores: Any, n: int, name: str = "scores") -> np.ndarray:
    """Superpixels by decreasing score (ties by index); accepts a result with ``scores``."""
    if hasattr(scores, "scores") and not isinstance(scores, np.ndarray):
        scores = scores.scores
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (n,) or not np.all(np.isfinite(s)):
        raise InputError(f"{name} must be {n} finite numbers (one per superpixel); got shape {s.shape}")
    return np.argsort(-s, kind="stable")


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())


def deletion_insertion(
    model: Any,
    image: Any = None,
    scores: Any = None,
    *,
    order: Any = None,
    segmentation: Any = None,
    fill: Any = None,
    target: Any = None,
    output: str | None = None,
    progress: Callable[[float], None] | None = None,
    **segment_params: Any,
) -> PerturbationCurves:
    """Deletion and insertion curves (and their AUCs) of a ranking of superpixels.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable, Model or SuperpixelGame
        The classifier; a game brings its image, segmentation, fill and cache.
    image : array or PIL image
        The image (omit when ``model`` is a game).
    scores : (M,) array or result
        Importance per superpixel (larger first), e.g. ``lime.weights`` or a LIME/Shapley result.
    order : (M,) int array, optional
        An explicit ranking (a permutation of 0..M-1) instead of ``scores``.
    segmentation, fill, target, output, **segment_params
        As :func:`nbexplain.lime_image`.
    progress : callable, optional
        Called with the fraction of evaluations done.

    Examples
    --------
    >>> game = nbx.SuperpixelGame(model, image, n_segments=30)
    >>> curves = nbx.deletion_insertion(game, scores=nbx.lime_image(game))
    >>> curves.auc_deletion < curves.auc_insertion
    True
    """
    if target is None and hasattr(scores, "target"):
        target = scores.target  # the class the ranking explains
    game = game_for(model, image, segmentation, fill, target, output, segment_params)
    m = game.n_players
    if (scores is None) == (order is None):
        raise InputError("give exactly one of scores (one per superpixel) or order (a permutation)")
    if order is not None:
        o = np.asarray(order)
        if o.shape != (m,) or not np.issubdtype(o.dtype, np.integer) or not np.array_equal(np.sort(o), np.arange(m)):
            raise InputError(f"order must be a permutation of 0..{m - 1}; got {np.asarray(order)!r}")
        o = o.astype(np.int64)
    else:
        o = ranking_order(scores, m)
    steps = np.arange(m + 1)
    rank = np.empty(m, np.int64)
    rank[o] = np.arange(m)
    deleted = rank[None, :] >= steps[:, None]  # step k keeps everything but the first k
    inserted = rank[None, :] < steps[:, None]  # step k keeps only the first k
    values = game.value(np.concatenate([deleted, inserted]), progress=progress)
    dele, ins = values[: m + 1], values[m + 1:]
    fractions = steps / m
    return PerturbationCurves(
        order=o, fractions=fractions, deletion=dele, insertion=ins,
        auc_deletion=_trapezoid(dele, fractions), auc_insertion=_trapezoid(ins, fractions),
        target=game.target, target_name=game.target_name, segmentation=game.segmentation, output=game.output,
    )


__all__ = ["PerturbationCurves", "deletion_insertion", "ranking_order"]
