"""Bootstrap resamples of the rows and percentile intervals (Efron & Tibshirani 1993).

The resamples are drawn as fairlearn's ``MetricFrame`` draws them (``n_boot``, ``random_state``): a
``numpy.random.default_rng(seed)`` draws one 32-bit seed per resample, and resample ``i`` is
``RandomState(seeds[i]).choice(N, N, replace=True)`` (pandas' ``DataFrame.sample(frac=1, replace=True)``).
So an audit and a ``MetricFrame`` given the same seed see the same resamples, and their intervals agree;
the percentile interval is ``numpy.nanquantile`` of the resampled values, as fairlearn's ``ci_quantiles``.
Rows are resampled together, not group by group: a group's size varies between resamples as it would
between samples of the population (a group absent from a resample gives NaN, which the quantiles skip).

Examples
--------
>>> seeds = resample_seeds(1000, seed=0)
>>> for idx in resample_blocks(10_000, seeds, block=100):   # (100, 10000) row indices at a time
...     ...
>>> low, high = percentile_interval(samples, 0.95)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np

#: resamples counted together (memory: block * N row indices)
BLOCK = 100


def resample_seeds(n_resamples: int, seed: int | None) -> np.ndarray:
    """One uint32 seed per resample, drawn as fairlearn draws them (``seed=None``: fresh randomness)."""
    generator = np.random.default_rng(seed)
    return generator.integers(low=0, high=np.iinfo(np.uint32).max, size=n_resamples, dtype=np.uint32)


def resample(n_rows: int, seed: int, state: np.random.RandomState | None = None) -> np.ndarray:
    """The row indices of one resample (with replacement), as ``DataFrame.sample(frac=1, replace=True)``:
    ``RandomState(seed).choice(n_rows, n_rows)``, which draws ``randint(0, n_rows, n_rows)`` (re-seeding
    ``state`` instead of making a new generator is several times faster for small resamples)."""
    state = np.random.RandomState() if state is None else state
    state.seed(seed)
    return state.randint(0, n_rows, size=n_rows).astype(np.int64, copy=False)


def resample_blocks(n_rows: int, seeds: np.ndarray, block: int = BLOCK,
                    progress: Callable[[float], None] | None = None) -> Iterator[np.ndarray]:
    """``(b, n_rows)`` int64 index arrays of ``block`` resamples at a time, one per seed."""
    total = len(seeds)
    state = np.random.RandomState()
    for start in range(0, total, block):
        part = seeds[start:start + block]
        yield np.stack([resample(n_rows, int(s), state) for s in part])
        if progress is not None:
            progress(min(1.0, (start + len(part)) / total))


def percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` percentile interval over axis 0 of ``samples``, NaNs skipped (NaN where all are NaN)."""
    alpha = (1.0 - level) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN, said by the caller
        low, high = np.nanquantile(samples, [alpha, 1.0 - alpha], axis=0)
    return low, high


__all__ = ["BLOCK", "percentile_interval", "resample", "resample_blocks", "resample_seeds"]
