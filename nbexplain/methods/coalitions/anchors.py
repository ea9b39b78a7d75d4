"""Anchors (Ribeiro, Singh & Guestrin 2018, "Anchors: high-precision model-agnostic explanations") over players.

An anchor is a set A of players such that, whatever happens to the others, the model keeps its prediction:
precision ``P(f(z) = f(x) | A holds) >= threshold`` under a perturbation distribution D. Among anchors, the
one with the largest coverage ``P_D(A holds)`` is wanted. What D is belongs to the player set, in a
*sampler* (:class:`AnchorSampler`); the search here knows only players:

* superpixels (:class:`CoalitionSampler` over a game): the other players are present with probability
  ``p_present``; absent ones show the game's fill or one of several backgrounds. Coverage ``p_present**|A|``.
* tabular rows (later): a player is a predicate on one feature (x's bin); samples are rows of the data that
  satisfy the anchor's predicates; ``holds`` says which predicates each sampled row satisfies.
* text tokens (later): the other tokens removed or replaced with some probability.

Search (:func:`anchor_search`): a beam over player sets grown one player at a time; in each round the
KL-LUCB bandit (Kaufmann & Kalyanakrishnan 2013) picks the ``beam_size`` most precise candidates, then each
is sampled until its KL confidence bounds place it above or below the threshold (within ``tolerance``). As
in the authors' ``anchor`` package, a sample drawn for one candidate counts for every candidate it satisfies,
and sampling is batched: each bandit step draws its two arms in one sampler call (one model call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..._types import Progress
from ..._validation import check_int, check_probability, check_seed
from ...errors import InputError


# -- KL confidence bounds for Bernoulli means (vectorised versions of the anchor package's) -------------------
def kl_bernoulli(p, q):
    """KL divergence between Bernoulli(p) and Bernoulli(q) (clipped away from 0 and 1, as the anchor package)."""
    p = np.clip(p, 1e-7, 1 - 1e-16)
    q = np.clip(q, 1e-7, 1 - 1e-16)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _kl_bound(p, level, upper: bool):
    """Bisection (16 steps, as the anchor package) for the q on one side of p with KL(p, q) = level."""
    p, level = np.broadcast_arrays(np.asarray(p, float), np.asarray(level, float))
    near = p.copy()
    far = np.minimum(1.0, p + np.sqrt(level / 2.0)) if upper else np.maximum(0.0, p - np.sqrt(level / 2.0))
    for _ in range(16):
        mid = (near + far) / 2
        over = kl_bernoulli(p, mid) > level
        far, near = np.where(over, mid, far), np.where(over, near, mid)
    return far


def kl_upper(p, level):
    """Largest q >= p with KL(p, q) <= level."""
    return _kl_bound(p, level, upper=True)


def kl_lower(p, level):
    """Smallest q <= p with KL(p, q) <= level."""
    return _kl_bound(p, level, upper=False)


def lucb_beta(n_arms: int, t: int, delta: float) -> float:
    """Exploration rate of KL-LUCB (the anchor package's constants alpha = 1.1, k = 405.5)."""
    temp = np.log(405.5 * n_arms * t**1.1 / delta)
    return float(temp + np.log(temp))


# -- samplers -------------------------------------------------------------------------------------------------
@runtime_checkable
class AnchorSampler(Protocol):
    """Draws perturbations conditioned on players holding, and says whether the model kept its prediction.

    ``sample(required)`` takes an ``(N, M)`` bool array (row i: the players that must hold in sample i) and
    returns ``(holds, agrees)``: ``(N, M)`` bool, the players that hold in each sample (True wherever
    ``required`` is), and ``(N,)`` bool, whether the model's prediction for the sample is the explained one.
    ``coverage(anchor)`` is ``P_D(anchor holds)``: exact where it is known, else estimated from unconditioned
    samples (e.g. the share of data rows satisfying the anchor's predicates).
    """

    n_players: int

    def sample(self, required: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def coverage(self, anchor: tuple[int, ...]) -> float: ...


class CoalitionSampler:
    """D over a :class:`~nbexplain.methods.coalitions.game.CoalitionGame`: every player not required is
    present with probability ``p_present``; absent players show fill ``fill_indices[k]`` chosen at random per
    sample (None: the game's fill 0). A sample agrees when its predicted class is the game's ``target``."""

    def __init__(self, game: Any, p_present: float = 0.5, fill_indices=None, seed: int | None = 0) -> None:
        self.game = game
        self.n_players = game.n_players
        self.p = check_probability(p_present, "p_present", strict=True)
        self.fills = None if fill_indices is None else np.asarray(fill_indices, dtype=np.int64)
        self.rng = np.random.default_rng(check_seed(seed))

    def sample(self, required: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = self.rng.random(required.shape) < self.p
        z |= required
        fill_index = None if self.fills is None else self.rng.choice(self.fills, size=len(z))
        return z, self.game.scores(z, fill_index).argmax(1) == self.game.target

    def coverage(self, anchor: tuple[int, ...]) -> float:
        return self.p ** len(anchor)


class _Pool:
    """Every sample drawn so far (which players held, whether the prediction was kept), within a budget."""

    def __init__(self, sampler: AnchorSampler, budget: int, progress: Progress) -> None:
        self.sampler, self.m = sampler, int(sampler.n_players)
        self.budget, self.progress, self.used = budget, progress, 0
        self._holds: list[np.ndarray] = []
        self._agrees: list[np.ndarray] = []
        self._cat: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def exhausted(self) -> bool:
        return self.used >= self.budget

    def draw(self, requests: list[tuple[tuple, int]]) -> list[tuple[int, int]]:
        """For each (anchor, n): draw n samples with the anchor holding; returns (n drawn, agreeing) each."""
        left = self.budget - self.used
        sizes = []
        for _, n in requests:
            sizes.append(max(0, min(n, left)))
            left -= sizes[-1]
        total = sum(sizes)
        if total == 0:
            return [(0, 0)] * len(requests)
        required = np.zeros((total, self.m), bool)
        start = 0
        for (anchor, _), n in zip(requests, sizes, strict=True):
            required[start:start + n, list(anchor)] = True
            start += n
        holds, agrees = self.sampler.sample(required)
        holds, agrees = np.asarray(holds, bool), np.asarray(agrees, bool)
        if holds.shape != required.shape or agrees.shape != (total,) or np.any(required & ~holds):
            raise InputError(f"the sampler must return holds {required.shape} (True wherever required) and agrees "
                             f"({total},); got {holds.shape} and {agrees.shape}")
        self._holds.append(holds)
        self._agrees.append(agrees)
        self._cat = None
        self.used += total
        if self.progress is not None:
            self.progress(min(0.99, self.used / self.budget))
        out, start = [], 0
        for n in sizes:
            out.append((n, int(agrees[start:start + n].sum())))
            start += n
        return out

    def stats(self, anchor: tuple) -> tuple[int, int]:
        """(samples, agreeing) of the pool in which every player of ``anchor`` holds."""
        if not self._holds:
            return 0, 0
        if self._cat is None:
            self._cat = (np.concatenate(self._holds), np.concatenate(self._agrees))
        holds, agrees = self._cat
        covered = holds[:, list(anchor)].all(1) if anchor else np.ones(len(holds), bool)
        return int(covered.sum()), int(agrees[covered].sum())


# -- the search -------------------------------------------------------------------------------------------------
@dataclass
class AnchorSearch:
    """What :func:`anchor_search` found.

    Attributes
    ----------
    anchor : tuple of int - the players, in the order the search added them.
    precision : float - estimated P(prediction kept | anchor holds).
    precision_lower : float - its KL lower confidence bound.
    coverage : float - P(anchor holds) under the sampler's distribution.
    threshold, tolerance : float - the precision asked for, and the bandit's tolerance.
    meets_threshold : bool - False when no set reached the threshold within the budget (the most precise
        candidate is returned instead).
    n_samples : int - perturbations drawn (the game's cache may have answered some of them).
    candidates : list of (tuple, n, agreeing) - every evaluated candidate's samples.
    """

    anchor: tuple
    precision: float
    precision_lower: float
    coverage: float
    threshold: float
    tolerance: float
    meets_threshold: bool
    n_samples: int
    candidates: list


def _lucb(pool: _Pool, tuples: list[tuple], stats: dict, epsilon: float, delta: float,
          batch_size: int, top_n: int) -> list[int]:
    """KL-LUCB: indices of the ``top_n`` candidates with the highest precision (updates ``stats``)."""
    n = np.array([stats[t][0] for t in tuples], dtype=float)
    pos = np.array([stats[t][1] for t in tuples], dtype=float)
    empty = [i for i in range(len(tuples)) if n[i] == 0]
    if empty:
        for i, (dn, dp) in zip(empty, pool.draw([(tuples[i], 1) for i in empty]), strict=True):
            n[i] += dn
            pos[i] += dp
    if len(tuples) <= top_n:
        _write(stats, tuples, n, pos)
        return list(range(len(tuples)))
    n = np.maximum(n, 1)  # only when the budget ran out before every arm had a sample
    means = pos / n
    t = 1
    while True:
        order = np.argsort(means, kind="stable")
        best, rest = order[-top_n:], order[:-top_n]
        beta = lucb_beta(len(tuples), t, delta)
        ub = kl_upper(means[rest], beta / n[rest])
        lb = kl_lower(means[best], beta / n[best])
        ut, lt = rest[np.argmax(ub)], best[np.argmin(lb)]
        if ub.max() - lb.min() <= epsilon or pool.exhausted:
            break
        for i, (dn, dp) in zip((ut, lt), pool.draw([(tuples[ut], batch_size), (tuples[lt], batch_size)]), strict=True):
            n[i] += dn
            pos[i] += dp
            means[i] = pos[i] / n[i]
        t += 1
    _write(stats, tuples, n, pos)
    return [int(i) for i in np.argsort(means, kind="stable")[-top_n:]]


def _write(stats: dict, tuples: list[tuple], n: np.ndarray, pos: np.ndarray) -> None:
    for t, a, b in zip(tuples, n, pos, strict=True):
        stats[t] = [int(a), int(b)]


def anchor_search(
    sampler: AnchorSampler,
    *,
    threshold: float = 0.95,
    delta: float = 0.1,
    tau: float = 0.15,
    tolerance: float = 0.05,
    batch_size: int = 100,
    beam_size: int = 1,
    max_anchor_size: int | None = None,
    min_samples_start: int = 100,
    max_samples: int = 5000,
    progress: Progress = None,
) -> AnchorSearch:
    """Find the anchor with the largest coverage whose precision reaches ``threshold`` (KL-LUCB beam search).

    Parameters
    ----------
    sampler : AnchorSampler
        Draws perturbations with given players holding (see :class:`AnchorSampler`).
    threshold : float
        Required precision.
    delta : float
        Confidence parameter of the bandit (bounds hold with probability about 1 - delta).
    tau : float
        KL-LUCB's tolerance when picking the best candidates.
    tolerance : float
        A candidate is accepted when its precision's lower bound exceeds ``threshold - tolerance``.
    batch_size : int
        Samples per bandit step.
    beam_size : int
        Candidates kept per anchor size.
    max_anchor_size : int, optional
        Largest anchor searched (default: all players).
    min_samples_start : int
        Samples of the empty anchor drawn first.
    max_samples : int
        Budget of samples; when it runs out the best candidate so far is returned.
    progress : callable, optional
        Called with the fraction of the budget used (may raise to cancel).

    Examples
    --------
    >>> class Rule:  # the prediction is kept iff players 2 and 5 are present
    ...     n_players = 8
    ...     rng = np.random.default_rng(0)
    ...     def sample(self, required):
    ...         z = (self.rng.random(required.shape) < 0.5) | required
    ...         return z, z[:, 2] & z[:, 5]
    ...     def coverage(self, anchor):
    ...         return 0.5 ** len(anchor)
    >>> found = anchor_search(Rule())
    >>> sorted(found.anchor), found.precision
    ([2, 5], 1.0)
    """
    threshold, delta, tau, tolerance = (check_probability(v, name, strict=True) for v, name in (
        (threshold, "threshold"), (delta, "delta"), (tau, "tau"), (tolerance, "tolerance")))
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    beam_size = check_int(beam_size, "beam_size", minimum=1)
    min_samples_start = check_int(min_samples_start, "min_samples_start", minimum=1)
    max_samples = check_int(max_samples, "max_samples", minimum=1)
    m = int(sampler.n_players)
    max_size = m if max_anchor_size is None else check_int(max_anchor_size, "max_anchor_size", minimum=1)
    pool = _Pool(sampler, max_samples, progress)
    stats: dict[tuple, list[int]] = {}

    def found(t, n, pos, meets, lower) -> AnchorSearch:
        if progress is not None:
            progress(1.0)
        return AnchorSearch(anchor=tuple(int(i) for i in t), precision=pos / max(n, 1), precision_lower=float(lower),
                            coverage=float(sampler.coverage(tuple(sorted(t)))), threshold=threshold,
                            tolerance=tolerance, meets_threshold=bool(meets), n_samples=pool.used,
                            candidates=[(k, v[0], v[1]) for k, v in stats.items()])

    # the empty anchor: is the prediction kept whatever happens?
    pool.draw([((), min_samples_start)])
    n0, p0 = pool.stats(())
    mean = p0 / n0
    beta = np.log(1.0 / delta)
    lb = float(kl_lower(mean, beta / n0))
    while mean > threshold and lb < threshold - tau and not pool.exhausted:
        pool.draw([((), batch_size)])
        n0, p0 = pool.stats(())
        mean = p0 / n0
        lb = float(kl_lower(mean, beta / n0))
    if lb > threshold:
        return found((), n0, p0, True, lb)

    order: dict[tuple, tuple] = {(): ()}  # sorted tuple -> the players in the order they were added
    best_of_size: dict[int, list[tuple]] = {0: [()]}
    best, best_coverage = None, -1.0
    size = 1
    while size <= max_size:
        candidates = []
        for parent in best_of_size[size - 1]:
            for f in range(m):
                if f in parent:
                    continue
                t = tuple(sorted((*parent, f)))
                if t not in order:
                    order[t] = (*order[parent], f)
                    candidates.append(t)
        candidates = [t for t in dict.fromkeys(candidates) if sampler.coverage(t) > best_coverage]
        if not candidates:
            break
        for t in candidates:
            if t not in stats:
                stats[t] = list(pool.stats(t))
        chosen = _lucb(pool, candidates, stats, tau, delta, batch_size, min(beam_size, len(candidates)))
        best_of_size[size] = [candidates[i] for i in chosen]
        beta = np.log(1.0 / (delta / (1 + (beam_size - 1) * m)))
        for t in best_of_size[size]:
            n, pos = stats[t]
            while True:
                n = max(n, 1)
                mean = pos / n
                lb, ub = float(kl_lower(mean, beta / n)), float(kl_upper(mean, beta / n))
                undecided = (mean >= threshold and lb < threshold - tolerance) or \
                            (mean < threshold and ub >= threshold + tolerance)
                if not undecided or pool.exhausted:
                    break
                (dn, dp), = pool.draw([(t, batch_size)])
                n, pos = n + dn, pos + dp
            stats[t] = [n, pos]
            if mean >= threshold and lb > threshold - tolerance and sampler.coverage(t) > best_coverage:
                best, best_coverage = (t, n, pos, lb), sampler.coverage(t)
        if best is not None or pool.exhausted:
            break  # every larger set has a smaller coverage
        size += 1
    if best is not None:
        t, n, pos, lb = best
        return found(order[t], n, pos, True, lb)
    # no set reached the threshold: the most precise candidate of every round
    tried = [t for s in best_of_size for t in best_of_size[s] if t]
    top = max(tried, key=lambda t: (stats[t][1] / max(stats[t][0], 1), -len(t)))
    n, pos = stats[top]
    return found(order[top], n, pos, False, float(kl_lower(pos / max(n, 1), np.log(1.0 / delta) / max(n, 1))))


__all__ = ["AnchorSampler", "AnchorSearch", "CoalitionSampler", "anchor_search", "kl_bernoulli", "kl_lower",
           "kl_upper", "lucb_beta"]
