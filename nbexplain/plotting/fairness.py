"""Static matplotlib drawings of fairness audits (the results' ``.plot`` and the widget's PNG fallback call these).

* :func:`group_bars` — one horizontal bar per group with its interval; hatched where the group is too small.
* :func:`reliability_curves` — each group's calibration (reliability) curve against the diagonal.
* :func:`tradeoff_curves` — accuracy against a disparity as thresholds move; the audit's point marked.
* :func:`grouped_feature_bars`, :func:`effect_by_group`, :func:`change_rates`, :func:`proxy_map` — the "why
  the gap?" results: Shapley values by group, effects by group, counterfactual changes, proxy features.

Group, feature and class names are user text: they go through :func:`~nbexplain.plotting.figure.plain_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .figure import NEGATIVE, POSITIVE, axes, plain_text

GROUP_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def colour(k: int) -> str:
    """The colour of group ``k`` (cycling through ten)."""
    return GROUP_COLOURS[k % len(GROUP_COLOURS)]


def group_bars(values: np.ndarray, low: np.ndarray | None, high: np.ndarray | None, names: Sequence[str],
               too_small: np.ndarray, *, title: str = "", xlabel: str = "", reference: tuple[float, str] | None = None,
               ax=None) -> Any:
    """One bar per group (first on top) with its interval as an error bar; a too-small group's bar is
    hatched and marked; ``reference`` draws a labelled vertical line. Returns the Axes."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    ax = axes(ax, figsize=(6, 0.35 * n + 1.6))
    y = np.arange(n)[::-1]
    shown = np.nan_to_num(values)
    bars = ax.barh(y, shown, color=[colour(k) for k in range(n)], alpha=0.85)
    for bar, small in zip(bars, too_small, strict=True):
        if small:
            bar.set_hatch("///")
            bar.set_alpha(0.4)
    if low is not None and high is not None:
        lo, hi = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(values)
        ax.errorbar(values[ok], y[ok], xerr=np.vstack([values[ok] - lo[ok], hi[ok] - values[ok]]).clip(0),
                    fmt="none", ecolor="k", capsize=3, lw=1)
    labels = [plain_text(nm) + (" (too small)" if s else "") for nm, s in zip(names, too_small, strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    for yi, v in zip(y, values, strict=True):
        if not np.isfinite(v):
            ax.text(0, yi, " undefined", va="center", fontsize=7, color="0.4")
    if reference is not None:
        ax.axvline(reference[0], color="#d32f2f", ls="--", lw=1, label=plain_text(reference[1]))
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel(plain_text(xlabel))
    ax.set_title(plain_text(title), fontsize=9)
    return ax


def reliability_curves(reliability: np.ndarray, names: Sequence[str], *, title: str = "", xlabel: str = "mean score",
                       ax=None) -> Any:
    """Each group's observed rate against its mean score per bin (``reliability`` (G, bins, 3)); the
    diagonal is perfect calibration. Returns the Axes."""
    ax = axes(ax, figsize=(4.6, 4))
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1, label="perfectly calibrated")
    for k, name in enumerate(names):
        mean_score, freq, count = reliability[k, :, 0], reliability[k, :, 1], reliability[k, :, 2]
        ok = count > 0
        ax.plot(mean_score[ok], freq[ok], "o-", color=colour(k), ms=3, lw=1.2, label=plain_text(name))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(plain_text(xlabel))
    ax.set_ylabel("observed rate")
    ax.set_title(plain_text(title), fontsize=9)
    ax.legend(fontsize=7)
    return ax


def tradeoff_curves(curves: dict, current: dict, disparity: str, disparity_label: str, *, criterion: str = "",
                    attribute: str = "", ax=None) -> Any:
    """Accuracy (y) against ``disparity`` (x) for one threshold for all and for equalising thresholds;
    the audit's point as a star. Returns the Axes."""
    ax = axes(ax, figsize=(5, 3.8))
    one, fair = curves["global"], curves["equalised"]
    ax.plot(one[disparity], one["accuracy"], "-", color=NEGATIVE, lw=1.4, label="one threshold for all")
    ax.plot(fair[disparity], fair["accuracy"], "-", color=POSITIVE, lw=1.4,
            label=plain_text(f"per-group thresholds ({criterion})"))
    ax.plot([current[disparity]], [current["accuracy"]], "*", color="k", ms=11, label="the audited thresholds")
    ax.set_xlabel(plain_text(disparity_label))
    ax.set_ylabel("accuracy")
    ax.set_title(plain_text(f"accuracy and disparity by {attribute}"), fontsize=9)
    ax.legend(fontsize=7)
    return ax


def grouped_feature_bars(values: np.ndarray, features: Sequence[str], groups: Sequence[str], *, title: str = "",
                         xlabel: str = "", max_features: int = 12, ax=None) -> Any:
    """Horizontal bars of ``values`` (G, F): for each feature (largest mean on top) one bar per group."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.nanmean(values, axis=0), kind="stable")[:max_features]
    G = len(groups)
    ax = axes(ax, figsize=(6, 0.3 * len(order) * max(1, G) ** 0.5 + 1.5))
    height = 0.8 / max(1, G)
    base = np.arange(len(order))[::-1]
    for k, name in enumerate(groups):
        ax.barh(base + 0.4 - height * (k + 0.5), values[k, order], height=height, color=colour(k),
                label=plain_text(name))
    ax.set_yticks(base, [plain_text(features[j]) for j in order], fontsize=8)
    ax.set_xlabel(plain_text(xlabel))
    ax.set_title(plain_text(title), fontsize=9)
    ax.legend(fontsize=7)
    return ax


def effect_by_group(grid: np.ndarray, predictions: Sequence[np.ndarray], groups: Sequence[str], feature: str,
                    output_label: str, *, ice_lines: int = 30, categorical: bool = False, title: str = "",
                    ax=None) -> Any:
    """Each group's mean curve (thick) over ``ice_lines`` of its ICE curves (thin), one colour per group."""
    ax = axes(ax, figsize=(5.2, 3.6))
    x = np.arange(len(grid)) if categorical else np.asarray(grid)
    rng = np.random.default_rng(0)
    for k, (name, table) in enumerate(zip(groups, predictions, strict=True)):
        if ice_lines and len(table):
            for r in rng.permutation(len(table))[:ice_lines]:
                ax.plot(x, table[r], color=colour(k), alpha=0.12, lw=0.7)
        ax.plot(x, table.mean(axis=0), color=colour(k), lw=2.2, label=plain_text(name), marker="o" if categorical else None)
    if categorical:
        ax.set_xticks(x, [f"{v:g}" for v in grid])
    ax.set_xlabel(plain_text(feature))
    ax.set_ylabel(plain_text(output_label))
    ax.set_title(plain_text(title), fontsize=9)
    ax.legend(fontsize=7)
    return ax


def change_rates(rates: np.ndarray, features: Sequence[str], *, title: str = "", ax=None) -> Any:
    """How often each feature changes in the counterfactuals (most often on top). Returns the Axes."""
    rates = np.asarray(rates, dtype=np.float64)
    order = np.argsort(-rates, kind="stable")[::-1]
    ax = axes(ax, figsize=(5, 0.28 * len(order) + 1.3))
    ax.barh(range(len(order)), rates[order], color=NEGATIVE)
    ax.set_yticks(range(len(order)), [plain_text(features[j]) for j in order], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of counterfactuals changing the feature")
    ax.set_title(plain_text(title), fontsize=9)
    return ax


def proxy_map(association: np.ndarray, share: np.ndarray, features: Sequence[str], sensitive: np.ndarray, *,
              title: str = "", ax=None) -> Any:
    """Each feature at (association with the attribute, share of the explanation); likely proxies sit top
    right (shaded by the proxy score); sensitive features are hollow. Returns the Axes."""
    ax = axes(ax, figsize=(5.2, 3.8))
    score = np.asarray(association) * np.asarray(share)
    xs, ys = np.linspace(0, 1, 60), np.linspace(0, max(0.05, float(np.max(share)) * 1.15), 60)
    ax.contourf(xs, ys, xs[None, :] * ys[:, None], levels=8, cmap="Reds", alpha=0.25)
    for j, name in enumerate(features):
        hollow = bool(sensitive[j])
        ax.scatter([association[j]], [share[j]], s=36, facecolors="none" if hollow else POSITIVE,
                   edgecolors=POSITIVE, zorder=3)
        ax.annotate(" " + plain_text(name) + (" (sensitive)" if hollow else ""), (association[j], share[j]),
                    fontsize=7, va="center")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, ys[-1])
    ax.set_xlabel("association with the attribute")
    ax.set_ylabel("share of the explanation")
    ax.set_title(plain_text(title) + f" (top: {plain_text(features[int(np.argmax(np.where(sensitive, -1, score)))])})",
                 fontsize=9)
    return ax


__all__ = ["GROUP_COLOURS", "change_rates", "colour", "effect_by_group", "group_bars", "grouped_feature_bars",
           "proxy_map", "reliability_curves", "tradeoff_curves"]
