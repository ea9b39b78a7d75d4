"""Static matplotlib drawings of tabular local explanations and counterfactuals (matplotlib imported lazily).

* :func:`contribution_bars` — one horizontal bar per feature (Shapley values, LIME), largest |value| on top,
  red for positive, blue for negative contributions; :meth:`TabularExplanation.plot` draws with it.
* :func:`change_bars` — the features a counterfactual changes, in MADs, each annotated "from → to";
  :meth:`CounterfactualResult.plot` draws with it.
* :func:`draw_slider_state` — the PNG fallback of :class:`~nbexplain.CounterfactualSliders`: the prediction
  and each feature's change from the original.

Feature names, category labels and class names are user text: they go through
:func:`~nbexplain.plotting.figure.plain_text`, so ``"income from $5k to $10k"`` is drawn as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .figure import NEGATIVE, POSITIVE, axes, plain_text


def contribution_bars(values: np.ndarray, labels: Sequence[str], *, std: np.ndarray | None = None,
                      title: str = "", xlabel: str = "contribution", max_features: int = 20, ax=None) -> Any:
    """Horizontal bars of per-feature ``values`` with their ``labels`` (largest |value| on top, at most
    ``max_features``), ``std`` as error bars; returns the Axes."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.abs(values), kind="stable")[:max_features][::-1]
    ax = axes(ax, figsize=(5, 0.28 * len(order) + 1.2))
    ax.barh(range(len(order)), values[order], color=[POSITIVE if values[i] > 0 else NEGATIVE for i in order],
            xerr=None if std is None else np.asarray(std)[order])
    ax.set_yticks(range(len(order)), [plain_text(labels[i]) for i in order], fontsize=8)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_title(plain_text(title), fontsize=9)
    ax.set_xlabel(plain_text(xlabel))
    return ax


def change_bars(names: Sequence[str], sizes: Sequence[float], notes: Sequence[str], *, title: str = "",
                xlabel: str = "change (MADs; categories: 1)", ax=None) -> Any:
    """One bar per changed feature (``sizes`` in MADs, a category 1), annotated with ``notes`` ("a → b");
    "no change needed" when there is none. Returns the Axes."""
    sizes = [float(s) for s in sizes]
    ax = axes(ax, figsize=(6, 0.4 * max(3, len(sizes) + 2)))
    y = np.arange(len(sizes))[::-1]
    ax.barh(y, sizes, color=[NEGATIVE if s >= 0 else POSITIVE for s in sizes])
    ax.axvline(0, color="0.3", lw=0.8)
    for yi, s, note in zip(y, sizes, notes, strict=True):
        ax.annotate(f" {plain_text(note)} ", (s, yi), va="center", ha="left" if s >= 0 else "right", fontsize=8)
    ax.set_yticks(y, [plain_text(n) for n in names])
    ax.set_xlabel(plain_text(xlabel))
    ax.set_title(plain_text(title), fontsize=9)
    if not sizes:
        ax.text(0.5, 0.5, "no change needed", transform=ax.transAxes, ha="center")
    lim = max([abs(s) for s in sizes] + [1.0])
    ax.set_xlim(-1.6 * lim if min(sizes + [0]) < 0 else -0.1 * lim, 1.6 * lim if max(sizes + [0]) > 0 else 0.1 * lim)
    return ax


def draw_slider_state(fig, *, class_names: Sequence[str], prediction: np.ndarray, probability: bool,
                      feature_names: Sequence[str], value: np.ndarray, change: np.ndarray) -> None:
    """The sliders' state on ``fig``: the prediction per class (left) and each feature at its current
    ``value`` with its ``change`` from the original in MADs (right)."""
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    labels = [plain_text(c) for c in list(class_names)[: len(prediction)]]
    ax1.barh(range(len(labels))[::-1], prediction[: len(labels)], color=NEGATIVE)
    ax1.set_yticks(range(len(labels))[::-1], labels, fontsize=8)
    ax1.set_title("prediction", fontsize=9)
    if probability:
        ax1.set_xlim(0, 1)
    y = np.arange(len(feature_names))[::-1]
    ax2.barh(y, change, color=[POSITIVE if d < 0 else NEGATIVE for d in change])
    ax2.set_yticks(y, [f"{plain_text(n)} = {v:.4g}" for n, v in zip(feature_names, value, strict=True)], fontsize=7)
    ax2.axvline(0, color="0.4", lw=0.8)
    ax2.set_title("change from the original (MADs)", fontsize=9)


__all__ = ["change_bars", "contribution_bars", "draw_slider_state"]
