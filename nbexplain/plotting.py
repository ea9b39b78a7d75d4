"""Static matplotlib renderings of results (imported lazily: the compute layer never needs matplotlib)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np

from .errors import InputError

SEQUENTIAL = "magma"
DIVERGING = "RdBu_r"


def default_cmap(signed: bool) -> str:
    return DIVERGING if signed else SEQUENTIAL


def check_limits(limits, name: str = "limits") -> tuple[float, float]:
    """``limits`` as a ``(low, high)`` pair of finite numbers with low < high, or :class:`InputError`."""
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a (low, high) pair of numbers; got {limits!r}") from exc
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InputError(f"{name} must be finite with low < high; got {limits!r}")
    return low, high


def plot_attribution(result, ax=None, *, overlay=True, alpha=0.6, cmap=None, limits=None, title=None, colorbar=True):
    """Draw ``result.map`` (an AttributionMap) over its image; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    vmin, vmax = result.limits() if limits is None else check_limits(limits)
    cmap = cmap or default_cmap(result.signed)
    if overlay:
        ax.imshow(result.image, interpolation="nearest")
        im = ax.imshow(result.map, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha, interpolation="nearest")
    else:
        im = ax.imshow(result.map, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    p = float(result.probabilities[result.target])
    ax.set_title(title or f"{result.label}\n{result.target_name} (p={p:.2f})", fontsize=9)
    ax.set_axis_off()
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_comparison(results: Sequence, normalized: Sequence[np.ndarray], axes=None, *, alpha=0.6):
    """Several maps side by side on one shared diverging scale of normalised attribution; returns the axes."""
    import matplotlib.pyplot as plt

    k = len(results)
    if axes is None:
        fig, axes = plt.subplots(1, k, figsize=(2.6 * k + 0.6, 2.9), squeeze=False)
        axes = axes[0]
    im = None
    for ax, res, norm in zip(axes, results, normalized, strict=False):
        ax.imshow(res.image, interpolation="nearest")
        im = ax.imshow(norm, cmap=DIVERGING, vmin=-1, vmax=1, alpha=alpha, interpolation="nearest")
        ax.set_title(res.label, fontsize=9)
        ax.set_axis_off()
    if im is not None:
        axes[0].figure.colorbar(im, ax=list(axes), fraction=0.02, pad=0.02, label="normalised attribution")
    return axes


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
