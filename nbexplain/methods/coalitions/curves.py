"""Deletion and insertion curves (Petsiuk, Das & Saenko 2018, "RISE") of any ranking of a game's players.

Deletion removes the players most important first and records the game's value after each step; insertion
starts with no player and adds them back in the same order. A good ranking makes the deletion curve fall
fast (small area under it) and the insertion curve rise fast (large area). The areas are trapezoidal over
the fraction of players moved, 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._types import Progress
from ...errors import InputError
from .game import as_game


@dataclass
class Curves:
    """Deletion and insertion curves of one ranking.

    Attributes
    ----------
    order : (M,) int - players, most important first.
    fractions : (M+1,) - k / M for k = 0..M players moved.
    deletion : (M+1,) or (M+1, K) - the value with the first k of ``order`` removed.
    insertion : (M+1,) or (M+1, K) - the value with only the first k of ``order`` present.
    auc_deletion, auc_insertion : float or (K,) - trapezoidal areas under the curves.
    """

    order: np.ndarray
    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    auc_deletion: Any
    auc_insertion: Any

    def keep_top(self, k: int) -> np.ndarray:
        """(M,) bool coalition keeping only the ``k`` most important players (insertion step k)."""
        z = np.zeros(len(self.order), bool)
        z[self.order[:k]] = True
        return z


def ranking_order(scores: Any, n: int, name: str = "scores") -> np.ndarray:
    """Players by decreasing score (ties by index); accepts a result with ``scores``."""
    if hasattr(scores, "scores") and not isinstance(scores, np.ndarray):
        scores = scores.scores
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (n,) or not np.all(np.isfinite(s)):
        raise InputError(f"{name} must be {n} finite numbers (one per player); got shape {s.shape}")
    return np.argsort(-s, kind="stable")


def check_order(order: Any, n: int, name: str = "order") -> np.ndarray:
    """``order`` as a permutation of 0..n-1 (int64), or :class:`InputError`."""
    o = np.asarray(order)
    if o.shape != (n,) or not np.issubdtype(o.dtype, np.integer) or not np.array_equal(np.sort(o), np.arange(n)):
        raise InputError(f"{name} must be a permutation of 0..{n - 1}; got {np.asarray(order)!r}")
    return o.astype(np.int64)


def trapezoid(y: np.ndarray, x: np.ndarray) -> Any:
    """Trapezoidal area under ``y`` (along its first axis) over ``x``."""
    widths = np.diff(x).reshape(-1, *([1] * (np.ndim(y) - 1)))
    area = ((y[1:] + y[:-1]) / 2 * widths).sum(0)
    return float(area) if np.ndim(area) == 0 else area


def perturbation_curves(game: Any, order: Any, *, n_players: int | None = None, progress: Progress = None) -> Curves:
    """Deletion and insertion curves (and their areas) of the ranking ``order`` of a game's players.

    Parameters
    ----------
    game : CoalitionGame or callable
        A game, or a value function ``(N, M) bool -> (N,) or (N, K)`` with ``n_players``.
    order : (M,) int array
        The players, most important first (a permutation; :func:`ranking_order` makes one from scores).
    progress : callable, optional
        Called with the fraction of evaluations done.

    Examples
    --------
    >>> curves = perturbation_curves(lambda z: z @ np.array([3.0, 1.0, 2.0]), [0, 2, 1], n_players=3)
    >>> curves.deletion, curves.insertion
    (array([6., 3., 1., 0.]), array([0., 3., 5., 6.]))
    """
    game = as_game(game, n_players)
    m = game.n_players
    o = check_order(order, m)
    steps = np.arange(m + 1)
    rank = np.empty(m, np.int64)
    rank[o] = np.arange(m)
    deleted = rank[None, :] >= steps[:, None]  # step k keeps everything but the first k
    inserted = rank[None, :] < steps[:, None]  # step k keeps only the first k
    values = game.value(np.concatenate([deleted, inserted]), progress=progress)
    deletion, insertion = values[: m + 1], values[m + 1:]
    fractions = steps / m
    return Curves(order=o, fractions=fractions, deletion=deletion, insertion=insertion,
                  auc_deletion=trapezoid(deletion, fractions), auc_insertion=trapezoid(insertion, fractions))


__all__ = ["Curves", "check_order", "perturbation_curves", "ranking_order", "trapezoid"]
