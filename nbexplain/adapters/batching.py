"""Batch-size selection: find the batch size with the best throughput using the real work itself.

On a few CPU cores a convolutional network is often *faster per image* at a batch of 4-16 than at 64
(caches), so "as large as memory allows" is not the fastest choice. :class:`BatchSizer` measures the
first chunks of real work at growing sizes 1, 2, 4, 8, ... and keeps the fastest. Nothing is wasted:
every probe batch is part of the caller's work, and the climb is cheap because the small sizes hold few
samples and it stops at the first size that is not clearly faster (two batches at a too-large size).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

CANDIDATES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
MIN_GAIN = 0.03  # the climb goes on past a size only if it was at least this much faster per sample
RECENT = 3  # during the climb a size is judged by the fastest of its last few batches
REPROBE_EVERY = 48  # after the climb, one re-probe of a neighbouring size per this many judged batches
PROBE_BATCHES = 2  # a re-probe runs this many batches in a row at the neighbour and is judged by the last
PAIRED = 2  # a neighbour takes over when this many of its re-probes in a row were clearly faster than their bracket


class BatchSizer:
    """Chooses batch sizes for one model and one sample shape, learning from measured timings.

    The strategy, a climb:

    1. The very first batch (size 1) is a warm-up: the first call of a model at a new input shape pays
       one-off costs (allocations, kernel selection), so its time is not used.
    2. Sizes 1, 2, 4, ... are then timed two batches each and judged by the faster of the two: the
       first call at each new batch size pays one-off costs too (oneDNN sets its kernels up for each new
       shape: measured 1.1-1.5x for a small CNN, over 2x for the incremental engine's many small
       convolutions), and one slow batch is noise more often than not. The climb goes on while each size
       is faster per sample than every smaller one by at least ``MIN_GAIN``.
    3. A size that is only barely faster (the gains flatten out near the minimum of a U-shaped curve),
       or slower, ends the climb; from then on the fastest size measured is used.

    4. After the climb, every ``REPROBE_EVERY`` batches a re-probe runs ``PROBE_BATCHES`` batches at a
       neighbouring size (alternately the next smaller and larger candidate). Each re-probe is compared
       with its bracket: the batches at the size in use just before and just after it. A shared
       machine's speed comes in bursts (quiet and busy spells of many batches), so timings far apart in
       time are not comparable, while a bracket shares the probe's spell. A neighbour takes over once its
       last ``PAIRED`` re-probes were each faster than their bracket by ``MIN_GAIN``; the re-probes then
       look around the new size. So a choice made while the machine was busy (a climb that stopped too
       early or too late) is corrected once it is quiet, step by step, and a machine whose best size
       moves is followed; a neighbour that only once caught a quiet spell does not take over.
    5. After the climb, a batch right after a change of size is not judged: it pays for the change
       (memory and caches laid out for the other size; measured 3-10 % per image for a small CNN at
       batches of 8 to 32, about the gain between those sizes). Judged, it hid the gain of a larger
       size, so a re-probe runs two batches and the bracket's "after" is the second batch back.

    Each sample run at a size slower than the best costs the difference; the climb spends two batches at
    a too-large size, and the re-probes cost a few percent at most.

    Parameters
    ----------
    max_batch : int
        Upper bound from the memory budget.
    fixed : int or None
        Skip the search and always use this size.

    Examples
    --------
    >>> sizer = BatchSizer(max_batch=256)
    >>> for start, stop in sizer.chunks(170, lambda a, b: model(x[a:b])):
    ...     pass
    >>> sizer.best  # the fastest size measured, used by every later call
    8
    """

    def __init__(self, max_batch: int, fixed: int | None = None):
        self.max_batch = max(1, int(max_batch))
        self.candidates = [c for c in CANDIDATES if c <= self.max_batch] or [self.max_batch]
        self.fixed = fixed
        self.per_sample: dict[int, float] = {}  # fastest seconds per sample of each size's recent batches
        self.recent: dict[int, list[float]] = {}  # the last RECENT seconds per sample of each size
        self._since_probe = 0  # batches at the best size since the last re-probe
        self._probe_up = False  # which neighbour the next re-probe tries
        self.trials: dict[int, int] = {}  # timed batches of each size (the warm-up excluded)
        self._warm = False
        self._climbed = False  # the climb is over: the size in use moves only by re-probes
        self._in_use: int | None = None  # the size in use once the climb is over (see :attr:`best`)
        self._before: float | None = None  # seconds per sample of the last batch at the size in use
        self._probe: tuple[int, float, float] | None = None  # (size, its seconds per sample, its before)
        self.paired: dict[int, list[float]] = {}  # a neighbour's last re-probes / their brackets
        self._probing: tuple[int, int] | None = None  # (neighbour, batches of it still to run) of a re-probe
        self._previous: int | None = None  # the size of the batch before (a change of size is not judged)

    def resume(self, earlier: BatchSizer) -> BatchSizer:
        """Start from what ``earlier`` measured (same model, same sample shape): no climb from size 1 again.

        Its timings are copied, not shared, so two models used from two threads never write one sizer."""
        try:
            recent = {size: list(times) for size, times in earlier.recent.items()}
            trials = dict(earlier.trials)
        except RuntimeError:  # ``earlier`` changed while being read: measure afresh
            return self
        self.recent, self.trials = recent, trials
        self.per_sample = {size: min(times) for size, times in recent.items() if times}
        self._warm, self._climbed, self._in_use = earlier._warm, earlier._climbed, earlier._in_use
        self.paired = {size: list(ratios) for size, ratios in dict(earlier.paired).items()}
        self._since_probe, self._probe_up = earlier._since_probe, earlier._probe_up  # calls shorter than
        return self  # REPROBE_EVERY batches still re-probe

    @property
    def best(self) -> int:
        """The size in use: while climbing, the one with the lowest measured time per sample (the first
        candidate before any timing); after the climb, the size the climb chose, until a neighbour takes
        over (step 4 of the strategy)."""
        if self.fixed:
            return self.fixed
        if not self.per_sample:
            return self.candidates[0]
        if self.settled:
            return self._in_use
        return min(self.per_sample, key=self.per_sample.get)

    @property
    def settled(self) -> bool:
        """True once the climb is over (or the size is fixed); the climb's end sets the size in use."""
        if not self._climbed and not self.fixed and self._warm and self._next_probe() is None:
            self._climbed = True
            self._in_use = min(self.per_sample, key=self.per_sample.get)
        return bool(self.fixed) or self._climbed

    def _next_probe(self) -> int | None:
        """The size to measure next, or None when the climb is over."""
        if not self._warm:
            return self.candidates[0]
        for i, size in enumerate(self.candidates):
            if size not in self.per_sample:
                return size
            t = self.per_sample[size]
            best_below = min((self.per_sample[c] for c in self.candidates[:i]), default=np.inf)
            if self.trials[size] < 2:
                return size  # a second batch: the first may have paid the new shape's one-off costs
            if t < (1 - MIN_GAIN) * best_below:
                continue  # clearly faster: climb on
            return None  # slower, or barely faster (the curve flattens: the minimum is here)
        return None

    def next_size(self, remaining: int) -> int:
        """The size of the next batch when ``remaining`` samples are left."""
        if self.fixed:
            return min(self.fixed, remaining)
        probe = None if self.settled else self._next_probe()
        if probe is None and self._probing is None and self._since_probe >= REPROBE_EVERY:
            neighbour = self._neighbour()
            self._probing = None if neighbour is None else (neighbour, PROBE_BATCHES)
        if probe is None and self._probing is not None:
            neighbour, left = self._probing
            self._probing = (neighbour, left - 1) if left > 1 else None
            probe = neighbour
        return min(probe if probe is not None else self.best, remaining)

    def _neighbour(self) -> int | None:
        """The next smaller or larger candidate than the best (alternating), or None if there is none."""
        i = self.candidates.index(self.best) if self.best in self.candidates else None
        if i is None:
            return None
        self._probe_up = not self._probe_up
        order = (i + 1, i - 1) if self._probe_up else (i - 1, i + 1)
        for j in order:
            if 0 <= j < len(self.candidates):
                self._since_probe = 0
                return self.candidates[j]
        return None

    def record(self, size: int, seconds: float) -> None:
        """Store the timing of a batch of ``size`` samples (the first batch of all is a warm-up)."""
        if self.fixed:
            return
        changed, self._previous = size != self._previous, size
        if not self._warm:
            self._warm = True
            return
        if size not in self.candidates:  # a short last batch: not comparable
            return
        per_sample = seconds / size
        self.trials[size] = self.trials.get(size, 0) + 1
        history = self.recent.setdefault(size, [])
        history.append(per_sample)
        del history[:-RECENT]
        self.per_sample[size] = min(history)
        if self.settled and not changed:  # (a batch right after a change of size pays for it: step 5)
            self._after_climb(size, per_sample)

    def _after_climb(self, size: int, per_sample: float) -> None:
        """Pair each re-probe with the batches at the size in use around it; move to a neighbour that was
        clearly faster ``PAIRED`` times in a row."""
        if size != self._in_use:
            self._probe = None if self._before is None else (size, per_sample, self._before)
            return
        if self._probe is not None and self._probe[2] + per_sample > 0:
            neighbour, probe, before = self._probe
            self._probe = None
            ratios = self.paired.setdefault(neighbour, [])
            # against the bracket's mean, and no slower than either of its batches: a spell that changes
            # within the bracket (busy before the probe, quiet from it on) makes no winner of a slower size
            ratios.append(probe / ((before + per_sample) / 2) if probe <= min(before, per_sample) else 1.0)
            del ratios[:-PAIRED]
            if len(ratios) == PAIRED and max(ratios) < 1 - MIN_GAIN:
                self._in_use, self._before = neighbour, None
                self.paired.clear()
                return
        self._before = per_sample
        self._since_probe += 1

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
