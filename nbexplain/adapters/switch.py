"""A speed-up that can be switched off for a while: to compare with the plain path, or to rule it out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class Switch:
    """On for the whole process, off within :meth:`off` (nested uses restore what was before).

    >>> FOLDING = Switch()
    >>> with FOLDING.off():
    ...     FOLDING.on
    False
    """

    def __init__(self) -> None:
        self.on = True

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        before, self.on = self.on, False
        try:
            yield
        finally:
            self.on = before


__all__ = ["Switch"]
