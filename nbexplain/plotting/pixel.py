"""Static pictures of pixel attributions: one map over its image, or several on one shared scale.

Class names are the user's text and are drawn through :func:`~nbexplain.plotting.figure.plain_text`.

Examples
--------
>>> plot_attribution(nbx.attribute(model, image))          # the Axes
>>> plot_comparison(cmp.results, cmp.normalised)           # k Axes
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_range
from .figure import DIVERGING, axes, default_cmap, grid_axes, plain_text


def plot_attribution(result, ax=None, *, overlay=True, alpha=0.6, cmap=None, limits=None, title=None, colorbar=True):
    """Draw ``result.map`` (an AttributionMap) over its image; returns the Axes."""
    ax = axes(ax, figsize=(4.2, 4))
    vmin, vmax = result.limits() if limits is None else check_range(limits, "limits")
    cmap = cmap or default_cmap(result.signed)
    if overlay:
        ax.imshow(result.image, interpolation="nearest")
        im = ax.imshow(result.map, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha, interpolation="nearest")
    else:
        im = ax.imshow(result.map, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    p = float(result.probabilities[result.target])
    ax.set_title(plain_text(title) if title is not None else f"{result.label}\n{plain_text(result.target_name)} (p={p:.2f})",
                 fontsize=9)
    ax.set_axis_off()
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_comparison(results: Sequence, normalised: Sequence[np.ndarray], ax=None, *, alpha=0.6):
    """Several maps side by side on one shared diverging scale of normalised attribution; returns the k Axes."""
    grid, _ = grid_axes(ax, len(results), figsize=(2.6 * len(results) + 0.6, 2.9), constrained=False)
    im = None
    for a, res, norm in zip(grid, results, normalised, strict=True):
        a.imshow(res.image, interpolation="nearest")
        im = a.imshow(norm, cmap=DIVERGING, vmin=-1, vmax=1, alpha=alpha, interpolation="nearest")
        a.set_title(res.label, fontsize=9)
        a.set_axis_off()
    if im is not None:
        first = results[0]
        grid[0].figure.colorbar(im, ax=grid, fraction=0.02, pad=0.02, label="normalised attribution")
        grid[0].text(0.0, -0.06, f"{plain_text(first.target_name)} (p={float(first.probabilities[first.target]):.2f})",
                     transform=grid[0].transAxes, fontsize=8, va="top")
    return grid


__all__ = ["plot_attribution", "plot_comparison"]
