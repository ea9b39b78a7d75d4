"""The driver's side of a run: chunk results gathered in row order, progress counted, a broken run stopped.

:class:`Collector` receives every :class:`~.rows.ChunkResult` as it arrives (in any order), tells the progress
bar the rows done and failed, and stops the run when its first :data:`FIRST_ROWS` rows have all failed: then
a setting or the model is wrong, not one row, and grinding through a million rows to report a million
identical errors helps nobody (the first error is raised, with its class). :meth:`Collector.assemble` puts the
rows back in order, filling rows that failed (or never ran, after a cancel) with NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import errors
from .progress import RowProgress
from .rows import ChunkResult, RowFailure, fill_value

#: a run stops when this many first rows (or all rows, if fewer) failed and none succeeded
FIRST_ROWS = 16


def systematic(failure: RowFailure, count: int) -> Exception:
    """The error raised when the first ``count`` rows all failed: the first row's error class (an nbexplain
    error keeps its class, anything else is a :class:`~nbexplain.errors.NbexplainError`) and message."""
    cls = getattr(errors, failure.error, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.NbexplainError)):
        cls = errors.NbexplainError
    return cls(f"the first {count} row(s) all failed, so the run stopped (a setting or the model is wrong, not a "
               f"row); {failure}")


@dataclass
class Assembled:
    """Every row's results in row order: ``arrays`` name -> (N, ...) (None when they are stored elsewhere),
    ``quality`` name -> (N,), ``targets``, ``seeds``, ``failed`` and ``pending`` (never ran) masks,
    ``failures`` by row, ``seconds`` per row."""

    arrays: dict[str, np.ndarray]
    quality: dict[str, np.ndarray]
    targets: np.ndarray
    seeds: np.ndarray
    failed: np.ndarray
    pending: np.ndarray
    failures: list[RowFailure]
    seconds: np.ndarray


class Collector:
    """Gathers the chunk results of a run of ``n`` rows and reports them to ``progress``."""

    def __init__(self, n: int, progress: RowProgress):
        self.n, self.progress = int(n), progress
        self.parts: dict[int, ChunkResult] = {}
        self.ok = self.failed = 0
        self._row_ok = self._row_failed = 0  # counted row by row between chunk results (in-process)
        self.first_failure: RowFailure | None = None

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def on_row(self, row: int, failure: RowFailure | None) -> None:
        """One row finished in this process (before its chunk is complete)."""
        if failure is None:
            self._row_ok += 1
        else:
            self._row_failed += 1
            self.first_failure = self.first_failure or failure
        self._check(self.ok + self._row_ok, self.failed + self._row_failed)
        self.progress.update(self.done + self._row_ok + self._row_failed, self.failed + self._row_failed)

    def add(self, result: ChunkResult) -> None:
        """A chunk's result arrived."""
        self.parts[result.start] = result
        bad = int(result.failed.sum())
        self.failed += bad
        self.ok += len(result.failed) - bad
        self._row_ok = self._row_failed = 0
        if result.failures and self.first_failure is None:
            self.first_failure = result.failures[0]
        self._check(self.ok, self.failed)
        self.progress.update(self.done, self.failed)

    def _check(self, ok: int, failed: int) -> None:
        count = min(self.n, FIRST_ROWS)
        if ok == 0 and failed >= count and self.first_failure is not None:
            raise systematic(self.first_failure, failed)

    def assemble(self, shapes: dict[str, tuple[tuple[int, ...], str]] | None, with_arrays: bool = True) -> Assembled:
        """The rows in order (see :class:`Assembled`); ``shapes`` fill rows with no array (failed everywhere
        in their chunk, or never run); without ``with_arrays`` the arrays are left out (stored elsewhere)."""
        n = self.n
        if shapes is None:
            shapes = next(({k: (v.shape[1:], v.dtype.str) for k, v in p.arrays.items()}
                           for p in self.parts.values() if p.arrays), None)
        arrays: dict[str, np.ndarray] = {}
        if with_arrays and shapes:
            for name, (shape, dtype) in shapes.items():
                arrays[name] = np.full((n, *shape), fill_value(dtype), dtype=np.dtype(dtype))
        names = sorted({q for p in self.parts.values() for q in p.quality})
        quality = {q: np.full(n, np.nan) for q in names}
        targets = np.full(n, -1, dtype=np.int64)
        seeds = np.zeros(n, dtype=np.uint32)
        failed = np.zeros(n, dtype=bool)
        pending = np.ones(n, dtype=bool)
        seconds = np.full(n, np.nan)
        failures: list[RowFailure] = []
        for start in sorted(self.parts):
            p = self.parts[start]
            span = slice(p.start, p.stop)
            for name, values in p.arrays.items():
                if name in arrays:
                    if values.shape[1:] != arrays[name].shape[1:]:
                        raise errors.InputError(
                            f"rows {p.start}:{p.stop} have {name} of shape {values.shape[1:]}, other rows "
                            f"{arrays[name].shape[1:]}: explain inputs of one size together")
                    arrays[name][span] = values
            for q, values in p.quality.items():
                quality[q][span] = values
            targets[span], seeds[span], failed[span], seconds[span] = p.targets, p.seeds, p.failed, p.seconds
            pending[span] = False
            failures.extend(p.failures)
        return Assembled(arrays, quality, targets, seeds, failed, pending, failures, seconds)


__all__ = ["FIRST_ROWS", "Assembled", "Collector", "systematic"]
