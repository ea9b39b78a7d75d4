"""What every static picture shares: fresh axes, PNG bytes, colour scales, and user text drawn as text.

matplotlib is imported inside the functions only, so the floors below never pay for it. User-supplied strings
(feature and class names, tokens, group names) go through :func:`plain_text` before they reach a picture:
matplotlib would read ``"$5k to $10k"`` as mathematics and drop the dollars (or fail on ``"$\\frac$"``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError

SEQUENTIAL = "magma"
DIVERGING = "RdBu_r"
POSITIVE = "#b2182b"  # bars of positive contributions (red), as the diverging scale's high end
NEGATIVE = "#2166ac"  # bars of negative contributions (blue)


def default_cmap(signed: bool) -> str:
    """The diverging colour map for signed values, the sequential one otherwise."""
    return DIVERGING if signed else SEQUENTIAL


def plain_text(text: Any) -> str:
    """``text`` as a string matplotlib draws literally (dollar signs escaped, so no mathtext)."""
    return str(text).replace("$", r"\$")


def axes(ax=None, figsize: tuple[float, float] = (4.2, 4)):
    """``ax``, or the Axes of a new pyplot figure of ``figsize`` inches."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def check_limits(limits, name: str = "limits") -> tuple[float, float]:
    """``limits`` as a ``(low, high)`` pair of finite numbers with low < high, or :class:`InputError`."""
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a (low, high) pair of numbers; got {limits!r}") from exc
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InputError(f"{name} must be finite with low < high; got {limits!r}")
    return low, high


def png_of(draw: Callable[..., object], figsize=(4.2, 4), dpi: int = 80) -> bytes:
    """PNG bytes of what ``draw(fig)`` puts on a fresh figure, without touching pyplot's state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    draw(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


class ShownAsPNG:
    """Mixin for results: ``_repr_png_`` is a PNG of ``self.plot(ax=...)`` at ``_png_figsize`` inches.

    Notebooks store it as the output, so a notebook viewed without a kernel, or exported, still shows
    the result (the widget, when there is one, needs a live kernel).
    """

    _png_figsize: tuple[float, float] = (4.2, 4)

    def _png_size(self) -> tuple[float, float]:
        return self._png_figsize

    def _repr_png_(self) -> bytes:
        return png_of(lambda fig: self.plot(ax=fig.add_subplot()), figsize=self._png_size())


__all__ = ["DIVERGING", "NEGATIVE", "POSITIVE", "SEQUENTIAL", "ShownAsPNG", "axes", "check_limits",
           "default_cmap", "plain_text", "png_of"]
