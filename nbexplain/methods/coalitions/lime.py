"""LIME over players (Ribeiro, Singh & Guestrin 2016, "Why should I trust you?").

Random binary coalitions (the first is the whole input: every player present), the game's value for each,
a proximity weight from the cosine distance of the coalition to the all-ones coalition through the
exponential kernel, and a weighted ridge surrogate (:mod:`.surrogate`) whose coefficients are the players'
weights and whose weighted R² is the explanation's fidelity. With the ``lime`` package's image defaults
(kernel width 0.25, ridge alpha 1, all features) the numbers equal ``lime_image.LimeImageExplainer`` given
the same samples; the players may as well be tokens (``lime_text``'s cosine distance and kernel width 25 on
100-scaled distances are the same weights) or features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._types import Progress
from ..._validation import check_int, check_positive, check_seed
from ...errors import InputError
from .game import as_game
from .surrogate import exponential_kernel, fit_weighted_ridge


@dataclass
class LimeFit:
    """A LIME surrogate of a game around the whole input.

    Attributes
    ----------
    weights : (M,) or (M, K) - the surrogate's coefficient of each player (its local effect on the value).
    intercept : float or (K,) - the surrogate's value with every player absent.
    local_prediction : float or (K,) - the surrogate's value with every player present.
    prediction : float or (K,) - the game's value with every player present.
    score : float or (K,) - fidelity: the surrogate's weighted R² on the samples.
    coalitions : (N, M) bool, values : (N,) or (N, K), sample_weight : (N,) - what the surrogate was fitted on.
    kernel_width, alpha : float - the kernel's width and the ridge penalty.
    n_evaluations : int - model evaluations run (the game's cache may have answered the other samples).
    """

    weights: np.ndarray
    intercept: Any
    local_prediction: Any
    prediction: Any
    score: Any
    coalitions: np.ndarray
    values: np.ndarray
    sample_weight: np.ndarray
    kernel_width: float
    alpha: float
    n_evaluations: int


def cosine_distance_to_all(coalitions: np.ndarray) -> np.ndarray:
    """Cosine distance of each 0/1 row to the all-ones row: ``1 - sqrt(k / M)`` (1 for the empty row, as sklearn)."""
    z = np.asarray(coalitions, dtype=bool)
    return 1.0 - np.sqrt(z.sum(1) / z.shape[1])


def lime_coalitions(n_samples: int, n_players: int, rng: np.random.Generator) -> np.ndarray:
    """LIME's design: ``n_samples`` uniform random coalitions (each player present with probability 1/2),
    the first one the whole input."""
    z = rng.integers(0, 2, size=(n_samples, n_players)).astype(bool)
    z[0] = True
    return z


def lime(
    game: Any,
    n_samples: int = 1000,
    *,
    n_players: int | None = None,
    kernel_width: float = 0.25,
    alpha: float = 1.0,
    coalitions: np.ndarray | None = None,
    seed: int | None = 0,
    progress: Progress = None,
) -> LimeFit:
    """Fit LIME's weighted ridge surrogate to a game's values on random coalitions.

    Parameters
    ----------
    game : CoalitionGame or callable
        A game (``n_players`` and ``value(coalitions, progress=...)``), or a value function
        ``(N, M) bool -> (N,) or (N, K)`` with ``n_players``.
    n_samples : int
        Coalitions sampled (the first is the whole input); ignored with ``coalitions``.
    kernel_width : float
        Width of the exponential kernel on the cosine distance to the whole input.
    alpha : float
        Ridge penalty (LIME's default 1).
    coalitions : (N, M) bool, optional
        Use these coalitions instead of sampling (e.g. to compare with another implementation).
    seed : int or None
        For reproducible samples (None: fresh randomness).
    progress : callable, optional
        Called with the fraction of evaluations done (may raise to cancel).

    Examples
    --------
    >>> fit = lime(lambda z: z @ np.array([1.0, -2.0, 0.5]), 200, n_players=3, alpha=1e-9)
    >>> fit.weights.round(6), round(float(fit.score), 6)
    (array([ 1. , -2. ,  0.5]), 1.0)
    """
    game = as_game(game, n_players)
    if coalitions is None:
        n = check_int(n_samples, "n_samples", minimum=2)
        z = lime_coalitions(n, game.n_players, np.random.default_rng(check_seed(seed)))
    else:
        z = game.check(coalitions, "coalitions")
        if len(z) < 2:
            raise InputError(f"coalitions must have at least 2 rows; got {len(z)}")
    kernel_width = check_positive(kernel_width, "kernel_width")
    before = getattr(game, "n_evaluations", 0)
    values = game.value(z, progress=progress)
    weight = exponential_kernel(cosine_distance_to_all(z), kernel_width)
    fit = fit_weighted_ridge(z.astype(np.float64), values, weight, alpha=alpha)
    full = game.value(np.ones((1, game.n_players), bool))[0]
    return LimeFit(weights=fit.coef, intercept=fit.intercept, local_prediction=fit.intercept + fit.coef.sum(0),
                   prediction=full if np.ndim(full) else float(full), score=fit.score, coalitions=z, values=values,
                   sample_weight=weight, kernel_width=kernel_width, alpha=fit.alpha,
                   n_evaluations=getattr(game, "n_evaluations", 0) - before)


__all__ = ["LimeFit", "cosine_distance_to_all", "lime", "lime_coalitions"]
