"""Static picture of an anchor rule (Ribeiro, Singh & Guestrin 2018): its terms, and its precision and
coverage as two bars. Feature names, category labels and class names are user text (drawn literally)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .figure import NEGATIVE, POSITIVE, axes, plain_text


def draw_rule(terms: Sequence[str], outcome: str, precision: float, coverage: float, ax=None, *,
              threshold: float | None = None, title: str | None = None) -> Any:
    """``IF term AND term ... THEN outcome`` with bars of the precision (a tick at ``threshold``) and the
    coverage; returns the Axes."""
    ax = axes(ax, (5.5, 0.35 * len(terms) + 1.8))
    ax.set_xlim(0, 1)
    n = max(1, len(terms))
    ax.set_ylim(-2.6, n + 0.4)
    ax.set_axis_off()
    lines = [f"IF   {plain_text(t)}" if k == 0 else f"AND  {plain_text(t)}" for k, t in enumerate(terms)] \
        or ["(any row: the prediction holds everywhere)"]
    for k, line in enumerate(lines):
        ax.text(0.02, n - k - 0.5, line, fontsize=9, family="monospace", va="center")
    ax.text(0.02, -0.3, f"THEN {plain_text(outcome)}", fontsize=9, family="monospace", va="center",
            fontweight="bold")
    for y, label, value, colour in ((-1.3, "precision", precision, POSITIVE), (-2.1, "coverage", coverage, NEGATIVE)):
        ax.barh(y, value * 0.6, left=0.3, height=0.45, color=colour)
        ax.barh(y, 0.6, left=0.3, height=0.45, fill=False, edgecolor="0.6", linewidth=0.8)
        ax.text(0.28, y, label, ha="right", va="center", fontsize=8)
        ax.text(0.92, y, f"{value:.3f}", ha="left", va="center", fontsize=8)
    if threshold is not None:
        ax.plot([0.3 + 0.6 * threshold] * 2, [-1.6, -1.0], color="black", lw=1)
    if title:
        ax.set_title(plain_text(title), fontsize=9, loc="left")
    return ax


__all__ = ["draw_rule"]
