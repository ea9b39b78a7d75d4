"""What every static picture shares: fresh axes (one, or a grid of panels), PNG bytes, colour scales, and user
text drawn as text.

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


def grid_axes(ax, k: int, ncols: int | None = None, *, cell: tuple[float, float] = (2.6, 2.1),
              figsize: tuple[float, float] | None = None, constrained: bool = True) -> tuple[list, Any]:
    """``k`` Axes in rows of ``ncols`` (default: one row) and their figure, for pictures of several panels.

    ``ax`` None: a new pyplot figure of ``figsize`` inches (default ``cell`` inches per panel), with constrained
    layout unless ``constrained=False``; one subplot: its place is split into the panels (it is removed); a
    sequence of ``k`` Axes: those. Cells left over in the last row are switched off.
    """
    ncols = k if ncols is None else max(1, min(ncols, k))
    nrows = -(-k // ncols)
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize or (cell[0] * ncols + 0.4, cell[1] * nrows + 0.5),
                         layout="constrained" if constrained else None)
        spec = fig.add_gridspec(nrows, ncols)
    elif hasattr(ax, "get_subplotspec") and hasattr(ax, "figure"):  # one Axes: split its place
        outer = ax.get_subplotspec()
        if outer is None:
            raise InputError(f"ax must be None, a subplot (an Axes made by plt.subplots or add_subplot) whose place "
                             f"the {k} panels share, or a sequence of {k} Axes; got an Axes placed by hand")
        fig = ax.figure
        ax.remove()
        spec = outer.subgridspec(nrows, ncols)
    else:
        many = list(np.ravel(ax))
        if len(many) != k:
            raise InputError(f"ax must be None, one Axes or a sequence of {k} Axes (one per panel); got {len(many)}")
        return many, many[0].figure
    axes = [fig.add_subplot(spec[i // ncols, i % ncols]) for i in range(nrows * ncols)]
    for extra in axes[k:]:
        extra.set_axis_off()
    return axes[:k], fig


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


def png_of_axes(draw: Callable[[Any], object], figsize=(4.2, 4), dpi: int = 80) -> bytes:
    """PNG bytes of what ``draw(ax)`` puts on the one Axes of a fresh figure (e.g. a result's ``plot``)."""
    return png_of(lambda fig: draw(fig.add_subplot()), figsize=figsize, dpi=dpi)


class ShownAsPNG:
    """Mixin for results: ``_repr_png_`` is a PNG of ``self.plot(ax=...)`` at ``_png_figsize`` inches.

    Notebooks store it as the output, so a notebook viewed without a kernel, or exported, still shows
    the result (the widget, when there is one, needs a live kernel).
    """

    _png_figsize: tuple[float, float] = (4.2, 4)

    def _png_size(self) -> tuple[float, float]:
        return self._png_figsize

    def _repr_png_(self) -> bytes:
        return png_of_axes(lambda ax: self.plot(ax=ax), figsize=self._png_size())


__all__ = ["DIVERGING", "NEGATIVE", "POSITIVE", "SEQUENTIAL", "ShownAsPNG", "axes", "default_cmap", "grid_axes", "plain_text", "png_of", "png_of_axes"]
