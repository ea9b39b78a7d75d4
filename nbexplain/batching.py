"""Batch-size selection: find the batch size with the best throughput using the real work itself.

On a few CPU cores a convolutional network is often *faster per image* at a batch of 4-16 than at 64
(caches), so "as large as memory allows" is not the fastest choice. :class:`BatchSizer` measures the
first chunks of real work at a few sizes (climbing while throughput improves), then keeps the best.
Nothing is wasted: every probe batch is part of the caller's work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

CANDIDATES = (4, 8, 16, 32, 64, 128, 256)


class BatchSizer:
    """Chooses batch sizes for one model and one sample shape, learning from measured timings.

    Parameters
    ----------
    max_batch : int
        Upper bound from the memory budget.
    fixed : int or None
        Skip the search and always use this size.
    """

    def __init__(self, max_batch: int, fixed: int | None = None):
        self.max_batch = max(1, int(max_batch))
        self.candidates = [c for c in CANDIDATES if c <= self.max_batch] or [self.max_batch]
        self.fixed = fixed
        self.per_sample: dict[int, float] = {}  # best seconds per sample seen for each size
        self.trials: dict[int, int] = {}
        self._warm = False

    @property
    def best(self) -> int:
        """The size with the lowest measured time per sample (the first candidate before any timing)."""
        if self.fixed:
            return self.fixed
        if not self.per_sample:
            return self.candidates[0]
        return min(self.per_sample, key=self.per_sample.get)

    @property
    def settled(self) -> bool:
        return self.fixed is not None or self._next_probe() is None

    def _next_probe(self) -> int | None:
        # Each size is measured twice (the first call at a new shape pays one-off set-up costs);
        # climb to the next size only while the last one was no slower than the best so far.
        for i, size in enumerate(self.candidates):
            if self.trials.get(size, 0) < 2:
                if i > 0:
                    prev = self.candidates[i - 1]
                    if self.per_sample.get(prev, np.inf) > 1.05 * min(self.per_sample.values()):
                        return None
                return size
        return None

    def next_size(self, remaining: int) -> int:
        """The size of the next batch when ``remaining`` samples are left."""
        if self.fixed:
            return min(self.fixed, remaining)
        probe = self._next_probe()
        return min(probe if probe is not None else self.best, remaining)

    def record(self, size: int, seconds: float) -> None:
        """Store the timing of a full batch of ``size`` samples."""
        if self.fixed or size not in self.candidates:
            return
        self.trials[size] = self.trials.get(size, 0) + 1
        per = seconds / size
        if self.trials[size] >= 2:  # the first timing at a new size is a warm-up
            self.per_sample[size] = min(self.per_sample.get(size, np.inf), per)

    def chunks(
        self,
        n: int,
        forward: Callable[[int, int], None],
        progress: Callable[[float], None] | None = None,
    ) -> Iterator[tuple[int, int]]:
        """Call ``forward(start, stop)`` over ``range(n)`` in chosen batches, timing each; yields the spans."""
        start = 0
        while start < n:
            size = self.next_size(n - start)
            t0 = time.perf_counter()
            forward(start, start + size)
            self.record(size, time.perf_counter() - t0)
            start += size
            if progress is not None:
                progress(start / n)
            yield start - size, start
