"""Shapley values of generic cooperative games: exact, permutation sampling, and KernelSHAP.

A *value function* maps a batch of coalitions ``(N, M)`` bool (True = player present) to values
``(N, K)`` float (K outputs at once, e.g. one per class). No model knowledge lives here: a
:class:`~nbexplain.methods.coalitions.game.CoalitionGame` (superpixels, tokens, features) or a tabular
background game supplies the values.

* :func:`shapley` - the one entry point over a game: ``method="auto"`` is exact up to ``max_exact``
  players (the whole value table, evaluated in chunks with progress), else sampled.
* :func:`exact_shapley` - Shapley (1953) from the full value table ``(2**M, K)``, one weighted pass over
  the table per player (``phi_i = sum_S w(|S|) [v(S u {i}) - v(S)]``, ``w(s) = s!(M-s-1)!/M!``); no M!
  permutations are enumerated.
* :func:`sampled_shapley` - permutation sampling (Castro, Gomez & Tejada 2009) with antithetic pairs
  (a permutation and its reverse, Mitchell et al. 2022), every coalition of a chunk of permutations
  evaluated in one value-function call; standard errors from the pair means.
* :func:`kernel_shap` - KernelSHAP (Lundberg & Lee 2017): Shapley-kernel weighted linear regression with
  the efficiency constraint enforced exactly. Coalition sizes are sampled from the kernel; with a budget of
  at least ``2**M`` it enumerates every coalition with its exact kernel weight and returns exact values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._types import Progress
from ..._validation import check_choice, check_int, check_seed
from ...adapters.blas import one_blas_thread
from ...errors import InputError
from .game import FunctionGame, as_game
from .masks import MAX_ENUMERATED_PLAYERS, all_coalitions, popcount

ValueFn = Callable[[np.ndarray], np.ndarray]
SHAPLEY_METHODS = ("auto", "exact", "sampled", "kernel")

#: coalitions per value-function call in the sampling estimators (progress granularity)
CHUNK_COALITIONS = 512


@dataclass
class ShapleyValues:
    """Shapley values of a game with M players and K outputs.

    Attributes
    ----------
    values : (M, K) float64 - the Shapley value of each player for each output.
    base_value : (K,) - v(empty coalition).
    full_value : (K,) - v(all players).
    efficiency_gap : (K,) - ``values.sum(0) - (full_value - base_value)``; 0 up to rounding for every
        estimator here (each one enforces efficiency).
    std : (M, K) or None - standard errors of sampled estimates (None when exact or not estimated).
    n_evaluations : int - coalitions evaluated (value-function rows).
    method : str - "exact", "sampled" or "kernel".
    table : (2**M, K) or None - the whole value table (row b = bitmask b) when computed exactly.
    """

    values: np.ndarray
    base_value: np.ndarray
    full_value: np.ndarray
    efficiency_gap: np.ndarray
    std: np.ndarray | None = None
    n_evaluations: int = 0
    method: str = "exact"
    table: np.ndarray | None = None

    @property
    def n_players(self) -> int:
        return int(self.values.shape[0])

    def plot(self, ax=None, *, output: int = 0, names=None, max_players: int = 20):
        """Horizontal bars of the values of one output (largest |value| first); returns the Axes."""
        from ...plotting.coalitions import draw_player_bars

        return draw_player_bars(self.values[:, output], ax=ax, names=names, max_players=max_players,
                                std=None if self.std is None else self.std[:, output],
                                title=f"Shapley values ({self.method}); gap {self.efficiency_gap[output]:.2g}")


def shapley_weights(n_players: int) -> np.ndarray:
    """``w[s] = s! (M-s-1)! / M!`` for s = 0..M-1: the weight of a coalition of size s (without player i)."""
    m = n_players
    return np.array([1.0 / (m * math.comb(m - 1, s)) for s in range(m)])


def _as_table(values) -> np.ndarray:
    table = np.asarray(values, dtype=np.float64)
    if table.ndim == 1:
        table = table[:, None]
    if table.ndim != 2:
        raise InputError(f"values must be the (2**M, K) value table indexed by bitmask; got shape {table.shape}")
    n = table.shape[0]
    if n < 2 or n & (n - 1):
        raise InputError(f"values must have 2**M rows (one per coalition, indexed by bitmask); got {n} rows")
    if not np.all(np.isfinite(table)):
        raise InputError("values contains NaN or infinite values")
    return table


def exact_shapley(values: np.ndarray) -> ShapleyValues:
    """Exact Shapley values from the full value table.

    Parameters
    ----------
    values : (2**M, K) or (2**M,) array
        ``values[b]`` is v(S) for the coalition whose bitmask is ``b`` (bit i set = player i in S), as
        the rows of :func:`~nbexplain.methods.coalitions.all_coalitions`.

    Returns
    -------
    ShapleyValues
        ``phi_i = sum_{S not containing i} |S|!(M-|S|-1)!/M! [v(S u {i}) - v(S)]`` (Shapley 1953), computed as
        one weighted sum over the table per player: O(M 2**M K), not M! permutations.

    Examples
    --------
    >>> table = np.array([0.0, 1.0, 2.0, 5.0])  # v({})=0, v({0})=1, v({1})=2, v({0,1})=5
    >>> exact_shapley(table).values[:, 0]
    array([2., 3.])
    """
    table = _as_table(values)
    m = int(table.shape[0]).bit_length() - 1
    size = popcount(np.arange(table.shape[0], dtype=np.int64))
    w = np.append(shapley_weights(m), 0.0)  # w[M] unused (a full coalition lacks no player)
    # phi_i = sum_b c_i(b) v(b) with c_i(b) = w(|b|-1) if i in b else -w(|b|)
    w_in, w_out = w[np.maximum(size - 1, 0)], w[size]
    phi = np.empty((m, table.shape[1]))
    index = np.arange(table.shape[0], dtype=np.int64)
    for i in range(m):
        present = ((index >> i) & 1).astype(bool)
        phi[i] = np.where(present, w_in, -w_out) @ table
    base, full = table[0], table[-1]
    return ShapleyValues(phi, base.copy(), full.copy(), phi.sum(0) - (full - base), None, int(table.shape[0]), "exact",
                         table)


def _call(game: FunctionGame, z: np.ndarray, k: int | None) -> np.ndarray:
    """The game's (N, K) values of ``z`` (a 1-D value is one output), K checked against earlier calls."""
    out = game.value(z)
    if out.ndim == 1:
        out = out[:, None]
    if k is not None and out.shape[1] != k:
        raise InputError(f"{game.name} returned shape {out.shape} for {len(z)} coalitions; expected ({len(z)}, {k})")
    return out


def sampled_shapley(
    value_fn: ValueFn,
    n_players: int,
    n_permutations: int,
    *,
    antithetic: bool = True,
    seed: int | None = None,
    progress: Progress = None,
) -> ShapleyValues:
    """Shapley values estimated from random permutations (Castro et al. 2009), with antithetic pairs.

    Each permutation adds the players one by one; a player's marginal contribution is the change of v
    when it joins. The estimate averages contributions over permutations; every permutation's
    contributions sum to v(all) - v(empty), so efficiency holds exactly. With ``antithetic`` each random
    permutation is paired with its reverse (its early players become late ones), which cancels much of the
    variance; the standard errors come from the pair means.

    Parameters
    ----------
    value_fn : callable
        ``(N, M) bool -> (N, K)`` values; called once per chunk of permutations with all their coalitions.
    n_players : int
        M.
    n_permutations : int
        Permutations to evaluate (rounded up to an even number with ``antithetic``); each costs M - 1
        evaluations (the empty and full coalitions are evaluated once in all).
    antithetic : bool
        Pair each permutation with its reverse.
    seed : int, optional
        For reproducible permutations.
    progress : callable, optional
        Called with the fraction done after each chunk (may raise to cancel).

    Examples
    --------
    >>> weights = np.array([1.0, 2.0, 3.0])
    >>> sv = sampled_shapley(lambda z: z @ weights, 3, 10, seed=0)
    >>> np.allclose(sv.values[:, 0], weights)
    True
    """
    game = FunctionGame(value_fn, n_players)
    m = game.n_players
    p = check_int(n_permutations, "n_permutations", minimum=1)
    if antithetic:
        p += p % 2
    rng = np.random.default_rng(check_seed(seed))
    ends = _call(game, np.stack([np.zeros(m, bool), np.ones(m, bool)]), None)
    base, full = ends[0], ends[1]
    k = ends.shape[1]
    contributions = np.empty((p, m, k))
    step = 2 if antithetic else 1
    per_chunk = max(step, (CHUNK_COALITIONS // max(1, m - 1)) // step * step)
    done = 0
    while done < p:
        n = min(per_chunk, p - done)
        if antithetic:
            half = np.argsort(rng.random((n // 2, m)), axis=1)
            perms = np.empty((n, m), dtype=np.int64)
            perms[0::2], perms[1::2] = half, half[:, ::-1]
        else:
            perms = np.argsort(rng.random((n, m)), axis=1)
        # position of each player in each permutation; prefix j holds the players at positions < j
        position = np.argsort(perms, axis=1)
        prefixes = position[:, None, :] < np.arange(1, m)[None, :, None]  # (n, M-1, M): sizes 1..M-1
        inner = _call(game, prefixes.reshape(-1, m), k).reshape(n, m - 1, k) if m > 1 else np.empty((n, 0, k))
        chain = np.concatenate([np.broadcast_to(base, (n, 1, k)), inner, np.broadcast_to(full, (n, 1, k))], axis=1)
        steps = np.diff(chain, axis=1)  # steps[:, j] = contribution of the player at position j
        contributions[done:done + n][np.arange(n)[:, None], perms] = steps
        done += n
        if progress is not None:
            progress(done / p)
    units = contributions.reshape(p // 2, 2, m, k).mean(axis=1) if antithetic else contributions
    phi = units.mean(axis=0)
    std = units.std(axis=0, ddof=1) / np.sqrt(len(units)) if len(units) > 1 else np.full_like(phi, np.nan)
    return ShapleyValues(phi, base, full, phi.sum(0) - (full - base), std, 2 + p * max(0, m - 1), "sampled")


def _kernel_design(m: int, budget: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``budget`` coalitions (neither empty nor full) and their regression weights for KernelSHAP.

    Sizes are taken in pairs from the outside in (1 and M-1, then 2 and M-2, ...): a pair is enumerated
    when its share of the remaining budget, in proportion to its kernel mass, is at least its number of
    coalitions; each enumerated coalition weighs its exact kernel weight. The remaining budget samples the
    remaining sizes in complementary pairs, which share the remaining mass equally.
    """
    sizes = np.arange(1, m)
    mass = (m - 1) / (sizes * (m - sizes))  # kernel weight of all coalitions of size s together
    mass /= mass.sum()
    left = np.ones(m - 1, dtype=bool)  # sizes still to be sampled
    blocks, weights = [], []
    for small in range(1, m // 2 + 1):
        pair = sorted({small, m - small})
        count = sum(math.comb(m, t) for t in pair)
        if budget * mass[[t - 1 for t in pair]].sum() / mass[left].sum() < count:
            break
        for t in pair:
            members = np.array(list(itertools.combinations(range(m), t)))
            z = np.zeros((len(members), m), dtype=bool)
            z[np.arange(len(members))[:, None], members] = True
            blocks.append(z)
            weights.append(np.full(len(z), mass[t - 1] / len(z)))
            left[t - 1] = False
        budget -= count
    if left.any() and budget >= 1:
        p = mass[left] / mass[left].sum()
        half = (budget + 1) // 2
        s = rng.choice(sizes[left], size=half, p=p)
        ranks = np.argsort(rng.random((half, m)), axis=1)
        first = ranks < s[:, None]  # a uniform subset of size s
        z = np.concatenate([first, ~first])[:budget]
        blocks.append(z)
        weights.append(np.full(len(z), mass[left].sum() / len(z)))
    return np.concatenate(blocks), np.concatenate(weights)


def kernel_weights(n_players: int) -> np.ndarray:
    """Shapley kernel ``pi(s) = (M-1) / (C(M, s) s (M-s))`` for s = 1..M-1 (index 0 and M: infinite -> 0 here)."""
    m = n_players
    w = np.zeros(m + 1)
    for s in range(1, m):
        w[s] = (m - 1) / (math.comb(m, s) * s * (m - s))
    return w


def kernel_shap(
    value_fn: ValueFn,
    n_players: int,
    n_samples: int,
    *,
    seed: int | None = None,
    progress: Progress = None,
) -> ShapleyValues:
    """KernelSHAP (Lundberg & Lee 2017): Shapley values as a Shapley-kernel weighted linear regression.

    Solves ``min sum_z pi(z) (v(z) - v(empty) - z . phi)**2`` subject to ``sum(phi) = v(all) - v(empty)``
    (enforced exactly by eliminating one coefficient). The empty and full coalitions are always
    evaluated (they carry infinite kernel weight: they become the intercept and the constraint). The other
    coalitions follow the kernel (``P(s) ~ (M-1)/(s(M-s))`` for size s): as in SHAP's KernelExplainer,
    the sizes whose share of the budget covers them completely (the smallest and largest first) are
    enumerated with their exact kernel weights, and the rest are sampled in complementary pairs sharing
    the remaining kernel mass. When ``n_samples >= 2**M`` every coalition is enumerated and the result
    equals :func:`exact_shapley`.

    Parameters
    ----------
    value_fn : callable
        ``(N, M) bool -> (N, K)`` values.
    n_players : int
        M (at least 2).
    n_samples : int
        Coalitions to evaluate, including the empty and the full one.
    seed : int, optional
        For reproducible sampling.
    progress : callable, optional
        Called with the fraction done after each chunk of evaluations.

    Examples
    --------
    >>> weights = np.array([1.0, 2.0, 3.0, -1.0])
    >>> sv = kernel_shap(lambda z: z @ weights, 4, 100, seed=0)
    >>> np.allclose(sv.values[:, 0], weights)
    True
    """
    game = FunctionGame(value_fn, n_players)
    m = game.n_players
    if m < 2:
        raise InputError("n_players must be at least 2 for kernel_shap (one player's value is v(all) - v(empty))")
    n = check_int(n_samples, "n_samples", minimum=4)
    rng = np.random.default_rng(check_seed(seed))
    kw = kernel_weights(m)
    if m <= MAX_ENUMERATED_PLAYERS and n >= 2**m:
        z = all_coalitions(m)[1:-1]
        weight = kw[z.sum(1)]
    else:
        z, weight = _kernel_design(m, n - 2, rng)
    ends = _call(game, np.stack([np.zeros(m, bool), np.ones(m, bool)]), None)
    base, full = ends[0], ends[1]
    k = ends.shape[1]
    chunks = []
    for start in range(0, len(z), CHUNK_COALITIONS):
        chunks.append(_call(game, z[start:start + CHUNK_COALITIONS], k))
        if progress is not None:
            progress(min(1.0, (start + CHUNK_COALITIONS) / len(z)))
    values = np.concatenate(chunks) if chunks else np.empty((0, k))
    total = full - base
    # eliminate phi_last = total - sum(others): y - z_last * total = (z_j - z_last) . phi_others
    zf = z.astype(np.float64)
    y = (values - base) - zf[:, -1:] * total
    x = zf[:, :-1] - zf[:, -1:]
    sw = np.sqrt(weight)[:, None]
    with one_blas_thread():  # a small fit between the model's passes (see nbexplain.adapters.blas)
        coef, *_ = np.linalg.lstsq(x * sw, y * sw, rcond=None)
    phi = np.vstack([coef, total - coef.sum(0)])
    return ShapleyValues(phi, base, full, phi.sum(0) - total, None, len(z) + 2, "kernel")


def _scaled(progress: Progress, offset: float, span: float) -> Progress:
    """``progress`` of a part of the work that spans ``offset .. offset + span`` of the whole."""
    return None if progress is None else (lambda f: progress(offset + f * span))


def value_table(game: Any, progress: Progress = None) -> np.ndarray:
    """The game's values of all ``2**M`` coalitions (row b = bitmask b), evaluated in about 50 chunks."""
    z = all_coalitions(game.n_players)
    step = max(CHUNK_COALITIONS, len(z) // 50)
    parts = [game.value(z[start:start + step], progress=_scaled(progress, start / len(z), len(z[start:start + step]) / len(z)))
             for start in range(0, len(z), step)]
    return np.concatenate(parts)


def shapley(
    game: Any,
    method: str = "auto",
    *,
    n_players: int | None = None,
    max_exact: int = 16,
    n_permutations: int = 50,
    n_samples: int = 2048,
    antithetic: bool = True,
    seed: int | None = 0,
    progress: Progress = None,
) -> ShapleyValues:
    """Shapley values of a game's players by the method that fits (Shapley 1953).

    Parameters
    ----------
    game : CoalitionGame or callable
        A game (``n_players`` and ``value(coalitions, progress=...)``), or a value function
        ``(N, M) bool -> (N,) or (N, K)`` with ``n_players``.
    method : {"auto", "exact", "sampled", "kernel"}
        "auto" is "exact" when M <= ``max_exact`` (all ``2**M`` coalitions), else "sampled".
    n_permutations : int
        Permutations for "sampled" (:func:`sampled_shapley`; each costs M - 1 evaluations).
    n_samples : int
        Coalitions for "kernel" (:func:`kernel_shap`).
    antithetic : bool
        Pair each sampled permutation with its reverse.
    seed : int or None
        For reproducible sampling (None: fresh randomness).
    progress : callable, optional
        Called with the fraction done (may raise to cancel).

    Examples
    --------
    >>> sv = shapley(lambda z: z @ np.array([1.0, 2.0, 3.0]), n_players=3)
    >>> sv.method, sv.values[:, 0]
    ('exact', array([1., 2., 3.]))
    """
    method = check_choice(method, "method", SHAPLEY_METHODS)
    max_exact = check_int(max_exact, "max_exact", minimum=1)
    game = as_game(game, n_players)
    m = game.n_players
    if method == "auto":
        method = "exact" if m <= max_exact else "sampled"
    if method == "exact":
        if m > MAX_ENUMERATED_PLAYERS:
            raise InputError(f"method='exact' needs 2**M evaluations; M={m} is too many (at most "
                             f"{MAX_ENUMERATED_PLAYERS}); use method='sampled' or 'kernel', or fewer players")
        return exact_shapley(value_table(game, progress))
    value_fn = lambda z: game.value(z)  # noqa: E731 - progress is reported per chunk by the estimator
    if method == "sampled":
        if m < 2:
            raise InputError("sampled Shapley values need at least 2 players")
        return sampled_shapley(value_fn, m, n_permutations, antithetic=antithetic, seed=seed, progress=progress)
    return kernel_shap(value_fn, m, n_samples, seed=seed, progress=progress)


__all__ = ["SHAPLEY_METHODS", "ShapleyValues", "exact_shapley", "kernel_shap", "kernel_weights", "sampled_shapley",
           "shapley", "shapley_weights", "value_table"]
