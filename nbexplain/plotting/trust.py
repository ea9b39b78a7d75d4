"""Static pictures of how far an explanation can be trusted: sanity checks, curves, robustness, plausibility.

Method, class and feature names are the user's text and are drawn through
:func:`~nbexplain.plotting.figure.plain_text`.

Examples
--------
>>> draw_sanity(check, columns=[0, 3, 7])     # Adebayo et al.'s figure: maps degrading, similarity curves
>>> draw_pixel_curves(faithfulness)          # deletion and insertion
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .figure import NEGATIVE, POSITIVE, SEQUENTIAL, axes, plain_text

CURVE_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")


def _grid(ax, rows: int, cols: int, figsize: tuple[float, float], width_ratios=None, **spacing):
    """A rows x cols grid of Axes: a new figure (``ax`` None) or the place of one given subplot."""
    kw = {"width_ratios": width_ratios, **spacing} if width_ratios is not None else dict(spacing)
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize)
        spec = fig.add_gridspec(rows, cols, **kw)
    else:
        spec_of = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
        if spec_of is None:
            raise InputError("ax must be None or a subplot (an Axes made by subplots() or add_subplot())")
        fig = ax.figure
        ax.remove()
        spec = spec_of.subgridspec(rows, cols, **kw)
    return fig, spec


def draw_sanity(check, ax=None, *, metric: str = "spearman_abs", columns: list[int] | None = None,
                ylabel: str = "similarity"):
    """Each method's original map and its map after the chosen steps (a row per method), and the similarity
    curves of all methods on the right (Adebayo et al. 2018, Fig. 2); returns the array of Axes."""
    columns = list(range(len(check.steps))) if columns is None else list(columns)
    n_m, n_c = len(check.methods), len(columns) + 1
    fig, spec = _grid(ax, n_m, n_c + 2, (1.5 * n_c + 5.0, 1.5 * n_m + 0.8), width_ratios=[1] * n_c + [0.6, 2.8],
                      wspace=0.08, hspace=0.12)
    out = []
    for i in range(n_m):
        row = []
        pictures = [np.abs(check.original[i].astype(np.float64))] + [np.abs(check.maps[i, k].astype(np.float64))
                                                                    for k in columns]
        titles = ["original"] + [f"{k + 1}: {check.steps[k]}" for k in columns]
        for j, (picture, title) in enumerate(zip(pictures, titles, strict=True)):
            a = fig.add_subplot(spec[i, j])
            top = float(picture.max()) or 1.0
            a.imshow(picture / top, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            a.set_xticks([])
            a.set_yticks([])
            if i == 0:
                a.set_title(plain_text(title), fontsize=7)
            if j == 0:
                a.set_ylabel(plain_text(check.labels[i].replace(" (", "\n(")), fontsize=7)
            row.append(a)
        out.append(row)
    curves = fig.add_subplot(spec[:, n_c + 1])
    draw_similarity(check, ax=curves, metric=metric, ylabel=ylabel)
    out.append([curves])
    return np.array([a for row in out for a in row], dtype=object)


def draw_similarity(check, ax=None, *, metric: str = "spearman_abs", ylabel: str = "similarity"):
    """One curve per method: the similarity ``metric`` to the original map after each step; returns the Axes."""
    ax = axes(ax, (4.4, 3.2))
    values = check.similarity[metric]
    x = np.arange(1, len(check.steps) + 1)
    for i, label in enumerate(check.labels):
        ax.plot(x, values[i], marker="o", ms=3, color=CURVE_COLOURS[i % len(CURVE_COLOURS)], label=plain_text(label))
    ax.axhline(0.0, color="#999999", lw=0.6)
    ax.set_ylim(min(-0.2, float(np.nanmin(values)) - 0.05), 1.05)
    ax.set_ylabel(ylabel, fontsize=8)
    if check.mode == "data":
        ax.set_xticks(x, [plain_text(s) for s in check.steps], fontsize=7)
    else:
        shown = x if len(x) <= 12 else x[np.linspace(0, len(x) - 1, 12).round().astype(int)]
        ax.set_xticks(shown, [plain_text(check.steps[k - 1]) for k in shown], rotation=60, ha="right", fontsize=6)
        ax.set_xlabel(f"{check.mode} randomisation (top-down)", fontsize=8)
    ax.set_title(plain_text(f"explaining {check.target_name}"), fontsize=9)
    ax.legend(fontsize=7)
    return ax


def draw_pixel_curves(result, ax=None):
    """Deletion and insertion curves of a :class:`~nbexplain.explain.trust.Faithfulness`; returns the Axes."""
    ax = axes(ax, (4.4, 3.2))
    ax.plot(result.fractions, result.deletion, color=POSITIVE, label=f"deletion (AUC {result.auc_deletion:.3f})")
    ax.plot(result.fractions, result.insertion, color=NEGATIVE, label=f"insertion (AUC {result.auc_insertion:.3f})")
    ax.set_xlabel(f"fraction of pixels removed / inserted (most important first; baseline: {result.baseline})",
                  fontsize=8)
    ax.set_ylabel(result.output)
    ax.set_title(plain_text(f"{result.label} for {result.target_name}"), fontsize=9)
    ax.legend(fontsize=8)
    return ax


def draw_robustness(result, ax=None):
    """The original map and up to three noisy copies' maps, titled with their top-k intersection and rank
    correlation; returns the array of Axes."""
    k = 1 + len(result.noisy_maps)
    fig, spec = _grid(ax, 1, k, (2.0 * k + 0.5, 2.6))
    out = []
    for j in range(k):
        a = fig.add_subplot(spec[0, j])
        picture = np.abs(result.map if j == 0 else result.noisy_maps[j - 1])
        a.imshow(result.image, interpolation="nearest")
        a.imshow(picture, cmap=SEQUENTIAL, alpha=0.6, vmin=0, vmax=float(picture.max()) or 1.0, interpolation="nearest")
        a.set_axis_off()
        title = "original" if j == 0 else (f"noisy copy {j}\ntop-{result.top_k} ∩ {result.intersections[j - 1]:.2f}, "
                                          f"ρ {result.correlations[j - 1]:.2f}")
        a.set_title(title, fontsize=7)
        out.append(a)
    out[0].text(0.0, -0.08, plain_text(f"{result.label}: mean top-{result.top_k} intersection {result.intersection:.2f}, "
                                       f"max-sensitivity {result.max_sensitivity:.3g}"),
                transform=out[0].transAxes, fontsize=7, va="top")
    return np.array(out, dtype=object)


def draw_stability(result, ax=None):
    """How often each entry is in the top k across the seeds (the 30 most frequent); returns the Axes."""
    ax = axes(ax, (4.4, 3.0))
    k = result.top_k
    counts = np.zeros(result.scores.shape[1])
    for run in result.scores:
        counts[np.argsort(-run, kind="stable")[:k]] += 1
    order = np.argsort(-counts, kind="stable")[: min(30, len(counts))]
    shares = counts[order] / len(result.scores)
    ax.bar(np.arange(len(order)), shares, color="#1976d2")
    ax.set_xticks(np.arange(len(order)), [str(int(i)) for i in order], fontsize=6, rotation=90)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"share of seeds with it in the top {k}", fontsize=8)
    ax.set_xlabel("entry (pixel, superpixel or feature index)", fontsize=8)
    ax.set_title(plain_text(result.summary()), fontsize=8)
    return ax


def draw_plausibility(result, ax=None, *, threshold: float = 1.5):
    """The data rows' local outlier factors (histogram) with each point's marked (an outlier above
    ``threshold``); returns the Axes."""
    ax = axes(ax, (4.6, 3.0))
    top = max(float(np.max(result.data_factors)), float(np.max(result.outlier_factors)), threshold) * 1.05
    ax.hist(result.data_factors, bins=40, range=(min(0.8, float(np.min(result.data_factors))), top),
            color="#bbbbbb", label="data rows")
    ax.axvline(threshold, color="#666666", ls="--", lw=0.8, label=f"outlier above {threshold}")
    for i, f in enumerate(result.outlier_factors):
        colour = POSITIVE if result.implausible[i] else NEGATIVE
        ax.axvline(f, color=colour, lw=1.6, label=f"point {i + 1}: {f:.2f}" if i < 6 else None)
    ax.set_xlabel("local outlier factor (about 1 inside the data)", fontsize=8)
    ax.set_ylabel("rows", fontsize=8)
    ax.set_title(f"{int(result.implausible.sum())} of {len(result.points)} point(s) implausible", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def draw_ranking(result, ax=None):
    """Horizontal bars of the measure ranked by, best on top; returns the Axes."""
    ax = axes(ax, (4.6, 0.35 * len(result.methods) + 1.4))
    values = result.values[result.by]
    y = np.arange(len(values))[::-1]
    ax.barh(y, values, color="#1976d2")
    ax.set_yticks(y, [plain_text(label) for label in result.labels], fontsize=8)
    better = "higher" if result.higher_is_better else "lower"
    ax.set_xlabel(f"{result.by} ({better} is better)", fontsize=8)
    ax.set_title(plain_text(f"ranked by {result.by} for {result.target_name}"), fontsize=9)
    return ax


def draw_report(report, ax=None) -> Any:
    """A quality panel: its plots side by side and its lines of text underneath; returns the Axes."""
    k = max(1, len(report.plots))
    fig, spec = _grid(ax, 1, k, (4.2 * k + 0.4, 3.2 + 0.18 * len(report.lines)))
    out = []
    for j in range(k):
        a = fig.add_subplot(spec[0, j])
        if j < len(report.plots):
            p = report.plots[j]
            for i, (y, label) in enumerate(zip(p.ys, p.labels, strict=True)):
                a.plot(p.x, y, color=CURVE_COLOURS[i % len(CURVE_COLOURS)], label=plain_text(label))
            a.set_xlabel(plain_text(p.x_label), fontsize=8)
            a.set_ylabel(plain_text(p.y_label), fontsize=8)
            a.set_title(plain_text(p.title), fontsize=9)
            a.legend(fontsize=7)
        else:
            a.set_axis_off()
        out.append(a)
    out[0].set_title(plain_text(report.title) + ("\n" + out[0].get_title() if report.plots else ""), fontsize=9)
    text = "\n".join(plain_text(line) for line in report.lines)
    out[0].text(0.0, -0.25, text, transform=out[0].transAxes, fontsize=7, va="top")
    return np.array(out, dtype=object)


__all__ = ["draw_pixel_curves", "draw_plausibility", "draw_ranking", "draw_report", "draw_robustness",
           "draw_sanity", "draw_similarity", "draw_stability"]
