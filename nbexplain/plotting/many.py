"""Static pictures of many explanations: global importance, and importance by group (matplotlib imported lazily).

* :func:`importance_plot` — mean |value| per feature as horizontal bars, largest on top (SHAP's summary bar),
  or, for image explanations, the mean |map| as an image; :meth:`ManyExplanations.plot` draws with it.
* :func:`group_importance_plot` — the same for each group: grouped bars (one colour per group, through
  :func:`nbexplain.plotting.fairness.grouped_feature_bars`) or one mean map per group side by side;
  :meth:`GroupImportance.plot` draws with it.

Feature and group names are user text: they go through :func:`~nbexplain.plotting.figure.plain_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .figure import SEQUENTIAL, axes, plain_text

BAR = "#4d4d4d"


def importance_plot(importance: np.ndarray, feature_names: Sequence[str] | None, *, title: str = "",
                    unit: str = "value", max_features: int = 20, ax=None) -> Any:
    """Bars of ``importance`` (F,) per feature (largest on top, at most ``max_features``), or the (H, W) map
    of an image explanation; returns the Axes."""
    importance = np.asarray(importance, dtype=np.float64)
    if feature_names is None or importance.ndim != 1:
        ax = axes(ax, figsize=(4.2, 4))
        shown = importance if importance.ndim == 2 else importance.reshape(1, -1)
        image = ax.imshow(shown, cmap=SEQUENTIAL, vmin=0)
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=plain_text(f"mean |{unit}|"))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(plain_text(title), fontsize=9)
        return ax
    order = np.argsort(-importance, kind="stable")[:max_features][::-1]
    ax = axes(ax, figsize=(5, 0.28 * len(order) + 1.2))
    ax.barh(range(len(order)), importance[order], color=BAR)
    ax.set_yticks(range(len(order)), [plain_text(feature_names[i]) for i in order], fontsize=8)
    ax.set_xlabel(plain_text(f"mean |{unit}|"))
    ax.set_title(plain_text(title), fontsize=9)
    return ax


def group_importance_plot(mean_abs: np.ndarray, group_names: Sequence[str], counts: Sequence[int],
                          feature_names: Sequence[str] | None, *, title: str = "", unit: str = "value",
                          max_features: int = 12, ax=None) -> Any:
    """Mean |value| per group: grouped bars per feature (tables) or the groups' mean maps side by side,
    separated by a blank column and labelled with their names and sizes (images); returns the Axes."""
    labels = [f"{name} (n={int(c):,})" for name, c in zip(group_names, counts, strict=True)]
    mean_abs = np.asarray(mean_abs, dtype=np.float64)
    if feature_names is not None and mean_abs.ndim == 2:
        from .fairness import grouped_feature_bars

        return grouped_feature_bars(mean_abs, list(feature_names), labels, title=title, xlabel=f"mean |{unit}|",
                                    max_features=max_features, ax=ax)
    maps = mean_abs.reshape(len(group_names), mean_abs.shape[1], -1)
    h, w = maps.shape[1:]
    strip = np.full((h, len(maps) * (w + 1) - 1), np.nan)
    for k, m in enumerate(maps):
        strip[:, k * (w + 1):k * (w + 1) + w] = m
    ax = axes(ax, figsize=(2.4 * len(maps) + 1, 3))
    image = ax.imshow(strip, cmap=SEQUENTIAL, vmin=0)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=plain_text(f"mean |{unit}|"))
    ax.set_xticks([k * (w + 1) + (w - 1) / 2 for k in range(len(maps))], [plain_text(s) for s in labels], fontsize=8)
    ax.set_yticks([])
    ax.set_title(plain_text(title), fontsize=9)
    return ax


__all__ = ["group_importance_plot", "importance_plot"]
