"""Static pictures of pixel attributions: one map over its image, or several on one shared scale."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .figure import DIVERGING, check_limits, default_cmap


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
