"""Progress of long headless work: a bar with a time estimate, shown only when the work is long.

Every front door takes ``progress``: a callable given the fraction done (widgets pass their own, which also
cancels superseded work), ``False`` for silence, ``True`` for a bar from the start, or ``None`` (the default):
a bar that appears once the work has run for ``DELAY`` seconds and is not yet nearly done, with tqdm's
notebook-aware bar (a text bar in a terminal). :func:`progress_bars` switches the automatic bars off for the
whole session (e.g. in scripts and tests).

Examples
--------
>>> report = reporter(None, "occlusion")
>>> for i in range(10):
...     report((i + 1) / 10)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .errors import InputError

#: seconds of work before an automatic bar appears
DELAY = 2.0
_enabled = True


def progress_bars(enabled: bool) -> None:
    """Show (True, the default) or hide automatic progress bars for long work, for this whole session."""
    global _enabled
    if not isinstance(enabled, bool):
        raise InputError(f"enabled must be True or False; got {enabled!r}")
    _enabled = enabled


def bars_enabled() -> bool:
    """Whether automatic progress bars are shown in this session (see :func:`progress_bars`)."""
    return _enabled


def estimate(fraction: float, elapsed: float) -> float | None:
    """Seconds left, extrapolated linearly from the fraction done in ``elapsed`` seconds (None when unknown)."""
    if fraction <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed * (1 - fraction) / fraction)


class _Bar:
    """A bar (tqdm when importable) created lazily after ``delay`` seconds, closed when the work is done."""

    def __init__(self, label: str, delay: float):
        self.label, self.delay = label, delay
        self.start = time.monotonic()
        self.bar: Any = None
        self.done = False

    def __call__(self, fraction: float) -> None:
        if self.done:
            return
        fraction = min(1.0, max(0.0, float(fraction)))
        elapsed = time.monotonic() - self.start
        if self.bar is None and (self.delay == 0 or (elapsed >= self.delay and fraction < 0.9)):
            self.bar = _open(self.label)
        if self.bar is not None:
            self.bar.n = round(100 * fraction, 1)
            self.bar.refresh()
        if fraction >= 1.0:
            self.done = True
            if self.bar is not None:
                self.bar.close()


def _open(label: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _TextBar(label)
    return tqdm(total=100, desc=label, unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")


class _TextBar:  # pragma: no cover - only without tqdm
    def __init__(self, label: str):
        import sys

        self.label, self.n, self.stream, self.start = label, 0.0, sys.stderr, time.monotonic()

    def refresh(self) -> None:
        left = estimate(self.n / 100, time.monotonic() - self.start)
        tail = "" if left is None else f", about {left:.0f} s left"
        self.stream.write(f"\r{self.label}: {self.n:5.1f}%{tail}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")


def reporter(progress: Any, label: str, *, delay: float = DELAY) -> Callable[[float], None] | None:
    """The callable a computation reports its fraction done to, from a front door's ``progress`` argument."""
    if progress is False:
        return None
    if progress is True:
        return _Bar(label, 0.0)
    if progress is None:
        return _Bar(label, delay) if _enabled else None
    if callable(progress):
        return progress
    raise InputError(f"progress must be None, True, False or a callable taking the fraction done; got {progress!r}")


__all__ = ["DELAY", "bars_enabled", "estimate", "progress_bars", "reporter"]
