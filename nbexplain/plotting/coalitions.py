"""Static drawings of the coalition engine's plain results: one bar per player (Shapley values, LIME weights)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .figure import NEGATIVE, POSITIVE, axes, plain_text


def draw_player_bars(values, ax=None, *, names: Sequence[Any] | None = None, std=None, max_players: int = 20,
                     title: str | None = None, unnamed: str = "player") -> Any:
    """Horizontal bars of one value per player, largest |value| on top (red positive, blue negative), with
    error bars ``std`` when given; players are ``names`` (user text, drawn literally) or "player i". Returns
    the Axes."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.abs(v))[:max_players][::-1]
    ax = axes(ax, (4.5, 0.25 * len(order) + 1))
    labels = [plain_text(names[i]) if names is not None else f"{unnamed} {i}" for i in order]
    ax.barh(range(len(order)), v[order], color=[POSITIVE if v[i] > 0 else NEGATIVE for i in order],
            xerr=None if std is None else np.asarray(std)[order])
    ax.set_yticks(range(len(order)), labels, fontsize=8)
    ax.axvline(0, color="0.5", lw=0.8)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


__all__ = ["draw_player_bars"]
