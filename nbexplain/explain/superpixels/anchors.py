"""Anchors for images (Ribeiro, Singh & Guestrin 2018, "Anchors: high-precision model-agnostic explanations").

An anchor is a set A of superpixels such that, whatever happens to the other superpixels, the model keeps
its prediction: precision ``P(f(z) = f(x) | A kept) >= threshold`` under the perturbation distribution D
(each other superpixel kept with probability ``p_present``, removed ones showing the fill or one of the
given backgrounds). Among anchors, the one with the largest coverage ``P_D(A kept) = p_present**|A|`` -
the smallest - is wanted. Search: a beam over superpixel sets grown one superpixel at a time; in each
round the KL-LUCB bandit (Kaufmann & Kalyanakrishnan 2013) picks the ``beam_size`` most precise
candidates, then each is sampled until its KL confidence bounds place it above or below the threshold
(within ``tolerance``). As in the authors' ``anchor`` package, samples drawn for one candidate count for
every candidate they satisfy, and sampling is batched: each bandit step evaluates its two arms in one
model call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.segmentation import Segmentation
from ...methods.coalitions.superpixels import SuperpixelGame, check_count, check_seed, game_for
from ...plotting.superpixels import SuperpixelResultMixin, draw_segmentation


# -- KL confidence bounds for Bernoulli means (vectorised versions of the anchor package's) -------------------
def kl_bernoulli(p, q):
    p = np.clip(p, 1e-7, 1 - 1e-16)
    q = np.clip(q, 1e-7, 1 - 1e-16)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def kl_upper(p, level):
    """Largest q >= p with KL(p, q) <= level (16 bisection steps, as the anchor package)."""
    p, level = np.broadcast_arrays(np.asarray(p, float), np.asarray(level, float))
    lm = p.copy()
    um = np.minimum(1.0, p + np.sqrt(level / 2.0))
    for _ in range(16):
        qm = (um + lm) / 2
        over = kl_bernoulli(p, qm) > level
        um = np.where(over, qm, um)
        lm = np.where(over, lm, qm)
    return um


def kl_lower(p, level):
    """Smallest q <= p with KL(p, q) <= level."""
    p, level = np.broadcast_arrays(np.asarray(p, float), np.asarray(level, float))
    um = p.copy()
    lm = np.maximum(0.0, p - np.sqrt(level / 2.0))
    for _ in range(16):
        qm = (um + lm) / 2
        over = kl_bernoulli(p, qm) > level
        lm = np.where(over, qm, lm)
        um = np.where(over, um, qm)
    return lm


def lucb_beta(n_arms: int, t: int, delta: float) -> float:
    """Exploration rate of KL-LUCB (the anchor package's constants alpha = 1.1, k = 405.5)."""
    temp = np.log(405.5 * n_arms * t**1.1 / delta)
    return float(temp + np.log(temp))


@dataclass
class Anchor(SuperpixelResultMixin):
    """An anchor: superpixels that, kept, hold the prediction with high precision.

    Attributes
    ----------
    anchor : tuple of int - the superpixels, in the order the search added them.
    precision : float - estimated P(prediction kept | anchor kept).
    precision_lower : float - its KL lower confidence bound.
    coverage : float - P(anchor kept) under the perturbation distribution, ``p_present ** len(anchor)``.
    meets_threshold : bool - False when no set reached the threshold within the budget (the most precise
        candidate is returned instead).
    n_samples : int - perturbed images evaluated (the engine's cache may have served some).
    """

    anchor: tuple
    precision: float
    precision_lower: float
    coverage: float
    threshold: float
    tolerance: float
    meets_threshold: bool
    target: int
    target_name: str
    segmentation: Segmentation
    p_present: float
    n_samples: int
    output: str = "probability"
    candidates: list = field(default_factory=list)  # (tuple, n, positives) of every evaluated candidate

    @property
    def mask(self) -> np.ndarray:
        """(M,) bool: True for the anchor's superpixels."""
        m = np.zeros(self.segmentation.n_segments, dtype=bool)
        m[list(self.anchor)] = True
        return m

    @property
    def scores(self) -> np.ndarray:
        return self.mask.astype(np.float64)

    def _title(self) -> str:
        return (f"anchor for {self.target_name}: {len(self.anchor)} superpixels\n"
                f"precision {self.precision:.3f}, coverage {self.coverage:.3g}")

    def plot(self, ax=None, *, numbers: bool = False, alpha: float = 0.6):
        """The anchor's superpixels outlined, the rest dimmed; returns the Axes."""
        return draw_segmentation(self.segmentation, ax=ax, outline=self.mask, numbers=numbers, title=self._title())


class _Sampler:
    """Draws coalitions from D conditioned on candidate anchors, evaluates them in one call, keeps a pool."""

    def __init__(self, game: SuperpixelGame, label: int, p: float, fills: list[int] | None,
                 rng: np.random.Generator, budget: int, progress):
        self.game, self.label, self.p, self.fills, self.rng = game, label, p, fills, rng
        self.budget, self.progress, self.used = budget, progress, 0
        self._z: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self._cat: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def exhausted(self) -> bool:
        return self.used >= self.budget

    def draw(self, requests: list[tuple[tuple, int]]) -> list[tuple[int, int]]:
        """For each (anchor, n): draw n samples with the anchor kept; returns (n drawn, positives) each."""
        left = self.budget - self.used
        sizes = []
        for _, n in requests:
            take = max(0, min(n, left))
            sizes.append(take)
            left -= take
        total = sum(sizes)
        if total == 0:
            return [(0, 0)] * len(requests)
        z = self.rng.random((total, self.game.n_players)) < self.p
        start = 0
        for (anchor, _), n in zip(requests, sizes, strict=True):
            z[start:start + n, list(anchor)] = True
            start += n
        fill_index = None if self.fills is None else self.rng.choice(self.fills, size=total)
        y = self.game.scores(z, fill_index).argmax(1) == self.label
        self._z.append(z)
        self._y.append(y)
        self._cat = None
        self.used += total
        if self.progress is not None:
            self.progress(min(0.99, self.used / self.budget))
        out, start = [], 0
        for n in sizes:
            out.append((n, int(y[start:start + n].sum())))
            start += n
        return out

    def pool_stats(self, anchor: tuple) -> tuple[int, int]:
        """(samples, positives) of the pool that keep every superpixel of ``anchor``."""
        if not self._z:
            return 0, 0
        if self._cat is None:
            self._cat = (np.concatenate(self._z), np.concatenate(self._y))
        z, y = self._cat
        covered = z[:, list(anchor)].all(1) if anchor else np.ones(len(z), bool)
        return int(covered.sum()), int(y[covered].sum())


def _lucb(sampler: _Sampler, tuples: list[tuple], stats: dict, epsilon: float, delta: float,
          batch_size: int, top_n: int) -> list[int]:
    """KL-LUCB: indices of the ``top_n`` candidates with the highest precision (updates ``stats``)."""
    n = np.array([stats[t][0] for t in tuples], dtype=float)
    pos = np.array([stats[t][1] for t in tuples], dtype=float)
    empty = [i for i in range(len(tuples)) if n[i] == 0]
    if empty:
        for i, (dn, dp) in zip(empty, sampler.draw([(tuples[i], 1) for i in empty]), strict=True):
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
        if ub.max() - lb.min() <= epsilon or sampler.exhausted:
            break
        for i, (dn, dp) in zip((ut, lt), sampler.draw([(tuples[ut], batch_size), (tuples[lt], batch_size)]), strict=True):
            n[i] += dn
            pos[i] += dp
            means[i] = pos[i] / n[i]
        t += 1
    _write(stats, tuples, n, pos)
    return [int(i) for i in np.argsort(means, kind="stable")[-top_n:]]


def _write(stats: dict, tuples: list[tuple], n: np.ndarray, pos: np.ndarray) -> None:
    for t, a, b in zip(tuples, n, pos, strict=True):
        stats[t] = [int(a), int(b)]


def anchor_image(
    model: Any,
    image: Any = None,
    *,
    segmentation: Any = None,
    fill: Any = None,
    backgrounds: Any = None,
    target: Any = None,
    threshold: float = 0.95,
    delta: float = 0.1,
    tau: float = 0.15,
    tolerance: float = 0.05,
    batch_size: int = 100,
    beam_size: int = 1,
    p_present: float = 0.5,
    max_anchor_size: int | None = None,
    min_samples_start: int = 100,
    max_samples: int = 5000,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    **segment_params: Any,
) -> Anchor:
    """Find an anchor: superpixels that keep the model's prediction whatever happens to the rest.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable, Model or SuperpixelGame
        The classifier; a :class:`SuperpixelGame` brings its image, segmentation, fill and cache.
    image : array or PIL image
        The image (omit when ``model`` is a game).
    segmentation, fill, **segment_params
        As :func:`nbexplain.lime_image`.
    backgrounds : sequence of images, optional
        Removed superpixels show one of these pictures (chosen at random per sample) instead of ``fill``:
        the anchor then holds the prediction on other backgrounds.
    target : int, str or None
        The label to keep; None is the class predicted for the whole image.
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
    p_present : float
        Probability that a non-anchor superpixel is kept in a sample.
    max_anchor_size : int, optional
        Largest anchor searched (default: all superpixels).
    min_samples_start : int
        Samples of the empty anchor drawn first.
    max_samples : int
        Budget of model evaluations; when it runs out the best candidate so far is returned.
    seed : int, optional
        For reproducible samples.
    progress : callable, optional
        Called with the fraction of the budget used (may raise to cancel).

    Examples
    --------
    >>> a = nbx.anchor_image(model, image, n_segments=20, seed=0)
    >>> a.anchor, round(a.precision, 2), a.coverage
    ((3, 11), 0.97, 0.25)
    """
    for value, name, low, high in ((threshold, "threshold", 0, 1), (delta, "delta", 0, 1), (tau, "tau", 0, 1),
                                   (tolerance, "tolerance", 0, 1), (p_present, "p_present", 0, 1)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not low < value < high:
            raise InputError(f"{name} must be a number strictly between {low} and {high}; got {value!r}")
    batch_size = check_count(batch_size, "batch_size")
    beam_size = check_count(beam_size, "beam_size")
    min_samples_start = check_count(min_samples_start, "min_samples_start")
    max_samples = check_count(max_samples, "max_samples")
    rng = np.random.default_rng(check_seed(seed))
    game = game_for(model, image, segmentation, fill, target, None, segment_params)
    m = game.n_players
    max_size = m if max_anchor_size is None else check_count(max_anchor_size, "max_anchor_size")
    fills = None
    if backgrounds is not None:
        if isinstance(backgrounds, np.ndarray) and backgrounds.ndim == 3:
            backgrounds = [backgrounds]
        if len(backgrounds) == 0:
            raise InputError("backgrounds must hold at least one image")
        fills = [game.add_fill(b, f"backgrounds[{i}]") for i, b in enumerate(backgrounds)]
    label = game.target
    sampler = _Sampler(game, label, float(p_present), fills, rng, max_samples, progress)
    before = game.n_evaluations + game.n_cache_hits

    def coverage(t):
        return float(p_present) ** len(t)

    stats: dict[tuple, list[int]] = {}
    sampler.draw([((), min_samples_start)])
    n0, p0 = sampler.pool_stats(())
    mean = p0 / n0
    beta = np.log(1.0 / delta)
    lb = float(kl_lower(mean, beta / n0))
    while mean > threshold and lb < threshold - tau and not sampler.exhausted:
        sampler.draw([((), batch_size)])
        n0, p0 = sampler.pool_stats(())
        mean = p0 / n0
        lb = float(kl_lower(mean, beta / n0))

    def result(t, n, pos, meets, lower):
        return Anchor(anchor=tuple(int(i) for i in t), precision=pos / max(n, 1), precision_lower=float(lower),
                      coverage=coverage(t), threshold=float(threshold), tolerance=float(tolerance),
                      meets_threshold=bool(meets), target=label, target_name=game.target_name,
                      segmentation=game.segmentation, p_present=float(p_present),
                      n_samples=game.n_evaluations + game.n_cache_hits - before, output=game.output,
                      candidates=[(k, v[0], v[1]) for k, v in stats.items()])

    if lb > threshold:
        if progress is not None:
            progress(1.0)
        return result((), n0, p0, True, lb)
    order: dict[tuple, tuple] = {(): ()}  # sorted tuple -> the superpixels in the order they were added
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
        candidates = [t for t in dict.fromkeys(candidates) if coverage(t) > best_coverage]
        if not candidates:
            break
        for t in candidates:
            if t not in stats:
                stats[t] = list(sampler.pool_stats(t))
        chosen = _lucb(sampler, candidates, stats, tau, delta, batch_size, min(beam_size, len(candidates)))
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
                if not undecided or sampler.exhausted:
                    break
                (dn, dp), = sampler.draw([(t, batch_size)])
                n, pos = n + dn, pos + dp
            stats[t] = [n, pos]
            if mean >= threshold and lb > threshold - tolerance and coverage(t) > best_coverage:
                best, best_coverage = (t, n, pos, lb), coverage(t)
        if best is not None or sampler.exhausted:
            break  # every larger set has a smaller coverage
        size += 1
    if progress is not None:
        progress(1.0)
    if best is not None:
        t, n, pos, lb = best
        return result(order[t], n, pos, True, lb)
    # no set reached the threshold: the most precise candidate of every round
    pool = [t for s in best_of_size for t in best_of_size[s] if t]
    top = max(pool, key=lambda t: (stats[t][1] / max(stats[t][0], 1), -len(t)))
    n, pos = stats[top]
    lower = float(kl_lower(pos / max(n, 1), np.log(1.0 / delta) / max(n, 1)))
    return result(order[top], n, pos, False, lower)


__all__ = ["Anchor", "anchor_image", "kl_lower", "kl_upper"]
