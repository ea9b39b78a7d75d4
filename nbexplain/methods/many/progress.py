"""The progress of a run of many explanations: rows done and failed, the rate and the time left.

Follows the ``progress`` argument of every front door (:mod:`nbexplain._progress`): None shows a bar once
the run has lasted :data:`~nbexplain._progress.DELAY` seconds (unless bars are switched off with
``nbexplain._progress.progress_bars(False)``), True from the start, False never, and a callable is given the
fraction of rows done (and may raise :class:`~nbexplain.errors.Cancelled` to stop the run). The bar is tqdm's
(a widget in a notebook, text in a terminal): ``explained 1,200/2,000 rows [00:10<00:06, 118 rows/s, 2 failed]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ... import _progress
from ...errors import InputError


class RowProgress:
    """Reports ``done`` and ``failed`` rows out of ``n`` to a bar and/or the caller's callable."""

    def __init__(self, progress: Any, n: int, label: str):
        if not (progress is None or isinstance(progress, bool) or callable(progress)):
            raise InputError("progress must be None, True, False or a callable taking the fraction done; "
                             f"got {progress!r}")
        self.n, self.label = max(1, int(n)), label
        self.callback: Callable[[float], None] | None = progress if callable(progress) else None
        self.show = progress is True or (progress is None and _progress.bars_enabled())
        self.delay = 0.0 if progress is True else _progress.DELAY
        self.start = time.monotonic()
        self.bar: Any = None
        self.notes: list[str] = []
        self.done = self.failed = 0

    def note(self, text: str) -> None:
        """A line said at once where bars are shown (e.g. the Dask dashboard's address), kept in ``notes``."""
        self.notes.append(text)
        if self.show:
            print(text, flush=True)

    def update(self, done: int, failed: int) -> None:
        """``done`` rows finished so far, ``failed`` of them without an explanation."""
        self.done, self.failed = int(done), int(failed)
        if self.callback is not None:
            self.callback(min(1.0, self.done / self.n))
        if not self.show:
            return
        if self.bar is None and time.monotonic() - self.start >= self.delay and self.done < self.n:
            self.bar = _open(self.label, self.n, self.done)
        if self.bar is not None:
            self.bar.n = self.done
            self.bar.set_postfix_str(f"{self.failed:,} failed", refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        """Close the bar (it stays on screen with its final counts)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _open(label: str, total: int, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=label, unit=" rows", unit_scale=False, smoothing=0.1,
                bar_format="{desc}: {n_fmt}/{total_fmt} rows |{bar}| [{elapsed}<{remaining}, {rate_fmt}{postfix}]")


__all__ = ["RowProgress"]
