"""Static pictures of what is inside a network: weight-histogram ridgelines, grids of channel pictures (filters,
feature maps, maximised channels), a maximised image with its objective curve, dataset examples.

Names of layers, parameters and classes are the user's text: they go through
:func:`~nbexplain.plotting.figure.plain_text`.

Examples
--------
>>> plot_weight_histograms([(name, counts, edges, None)], steps)      # list of Axes
>>> plot_channel_grid(images, labels, values, "mean")                 # list of Axes
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from .figure import POSITIVE, SEQUENTIAL, grid_axes, plain_text

FLAG_COLOUR = POSITIVE


def plot_weight_histograms(tracks: Sequence[tuple[str, np.ndarray, np.ndarray, str | None]], steps: np.ndarray,
                           ax=None, *, log: bool = False, ncols: int = 4):
    """Ridgelines: for each ``(name, counts (S, B), edges (B + 1), flag)``, the S histograms stacked from
    the first snapshot (back, dark) to the last (front, light); flagged names in red. Returns the Axes."""
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    if not tracks:
        raise InputError("there are no parameters to draw")
    axes, fig = grid_axes(ax, len(tracks), ncols, cell=(2.6, 2.1))
    cmap = colormaps["viridis"]
    for a, (name, counts, edges, flag) in zip(axes, tracks, strict=True):
        s = len(counts)
        heights = np.log1p(counts) if log else counts.astype(float)
        top = heights.max() or 1.0
        centres = (edges[:-1] + edges[1:]) / 2
        lift = 0.35  # each later snapshot sits this much (of a full-height histogram) lower, in front
        for i in range(s):
            base = (s - 1 - i) * lift
            colour = cmap(i / max(s - 1, 1))
            a.fill_between(centres, base, base + heights[i] / top, color=colour, alpha=0.85, linewidth=0,
                           step="mid", zorder=i)
            a.plot(centres, base + heights[i] / top, color="white", linewidth=0.4, drawstyle="steps-mid", zorder=i)
        a.set_yticks([(s - 1 - i) * lift for i in (0, s - 1)] if s > 1 else [0])
        a.set_yticklabels([f"step {steps[0]}", f"step {steps[-1]}"] if s > 1 else [f"step {steps[0]}"], fontsize=6)
        a.tick_params(axis="x", labelsize=6)
        a.xaxis.set_major_locator(MaxNLocator(4))
        a.set_title(plain_text(name) + (f"  ({flag})" if flag else ""), fontsize=8,
                    color=FLAG_COLOUR if flag else "black")
        for side in ("top", "right", "left"):
            a.spines[side].set_visible(False)
    fig.suptitle("weight histograms across training" + (" (log counts)" if log else ""), fontsize=9)
    return axes


def plot_channel_grid(pictures: np.ndarray, labels: Sequence[str], values: np.ndarray, value_name: str, ax=None, *,
                      ncols: int | None = None, cmap: str = SEQUENTIAL, limits: tuple[float, float] | None = None,
                      title: str | None = None):
    """A grid of channel pictures ((N, H, W, 3) uint8, or (N, h, w) maps on one colour scale), each titled
    with its label and ``value_name = value``. Returns the Axes."""
    n = len(pictures)
    if n == 0:
        raise InputError("there are no channels to draw")
    ncols = ncols or min(8, max(1, int(np.ceil(np.sqrt(n * 1.5)))))
    axes, fig = grid_axes(ax, n, ncols, cell=(1.3, 1.45))
    vmin, vmax = limits if limits is not None else (None, None)
    for a, pic, label, value in zip(axes, pictures, labels, values, strict=True):
        if pic.ndim == 2:
            a.imshow(pic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        else:
            a.imshow(pic, interpolation="nearest")
        a.set_title(f"{plain_text(label)}\n{value_name} {value:.3g}", fontsize=6.5)
        a.set_axis_off()
    if title:
        fig.suptitle(plain_text(title), fontsize=9)
    return axes


def plot_maximized(image: np.ndarray, objective: np.ndarray, label: str, value: float, probability: float | None,
                   ax=None, *, curve: bool = True):
    """The maximised picture titled with its target and value, with the ``objective`` curve inset below
    it (``curve``); returns the Axes of the picture."""
    from .figure import axes as new_axes

    ax = new_axes(ax, figsize=(4.2, 4.6))
    ax.imshow(image, interpolation="nearest")
    p = f", p={probability:.3f}" if probability is not None else ""
    ax.set_title(f"{plain_text(label)}\nvalue {value:.4g}{p}", fontsize=9)
    ax.set_axis_off()
    if curve and len(objective):
        inset = ax.inset_axes([0.0, -0.3, 1.0, 0.22])
        inset.plot(np.arange(1, len(objective) + 1), objective, color=POSITIVE, linewidth=1.2)
        inset.set_xlabel("step", fontsize=7)
        inset.set_ylabel("objective", fontsize=7)
        inset.tick_params(labelsize=6)
        for side in ("top", "right"):
            inset.spines[side].set_visible(False)
    return ax


def plot_examples(patches: np.ndarray, values: np.ndarray, row_labels: Sequence[str], ax=None, *,
                  title: str | None = None):
    """Rows of patches ((m, k, ph, pw, 3) uint8), strongest first, each titled with its activation; a row
    label at the left. Returns the Axes."""
    m, k = values.shape
    axes, fig = grid_axes(ax, m * k, k, cell=(1.3, 1.4))
    for i in range(m):
        for j in range(k):
            a = axes[i * k + j]
            a.set_xticks([])
            a.set_yticks([])
            if np.isfinite(values[i, j]):
                a.imshow(patches[i, j], interpolation="nearest")
                a.set_title(f"{values[i, j]:.3g}", fontsize=6.5)
            else:
                a.set_axis_off()
            if j == 0:
                a.set_ylabel(plain_text(row_labels[i]), fontsize=7)
    if title:
        fig.suptitle(plain_text(title), fontsize=9)
    return axes


__all__ = ["plot_channel_grid", "plot_examples", "plot_maximized", "plot_weight_histograms"]
