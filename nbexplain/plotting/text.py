"""Static pictures of text explanations: the user's text, token by token, on a diverging colour scale.

:func:`draw_tokens` lays the tokens out in a monospace font as they stand in the text (gaps and line breaks
kept, runs of spaces shown as one), each on a box coloured by its value (red raises the explained output,
blue lowers it), or outlined when it belongs to an anchor. Every token is user text: it goes through
:func:`~nbexplain.plotting.figure.plain_text` (no mathtext), and characters the font cannot draw (most emoji)
are shown as ``□`` instead of a missing-glyph warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from .figure import DIVERGING, axes, plain_text

FONT_SIZE = 9.5
CHAR_EM = 0.602  # advance of a DejaVu Sans Mono character, in em
LINE_EM = 1.9


@cache
def _font():
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return FT2Font(font_manager.findfont(font_manager.FontProperties(family="monospace")))


def drawable(text: str) -> str:
    """``text`` with the characters the monospace font lacks shown as ``□`` (and ``$`` escaped)."""
    font = _font()
    return plain_text("".join(c if c in "\n\t " or font.get_char_index(ord(c)) else "□" for c in text))


def layout(pieces: Sequence[tuple[str, int]], width: int) -> list[tuple[int, int, str, int]]:
    """Place ``(text, token index or -1)`` pieces on lines of ``width`` characters: (row, column, text, index).
    Gaps are shown with their spaces collapsed, a line break in a gap starts a new line, and a token never
    straddles two lines."""
    placed, row, col = [], 0, 0
    for text, index in pieces:
        if index < 0:
            for k, part in enumerate(text.split("\n")):
                if k:
                    row, col = row + 1, 0
                part = re.sub(r"\s+", " ", part)
                if part and not (col == 0 and part == " "):
                    if col + len(part) > width and col:
                        row, col = row + 1, 0
                    placed.append((row, col, part, -1))
                    col += len(part)
            continue
        if col + len(text) > width and col:
            row, col = row + 1, 0
        placed.append((row, col, text, index))
        col += len(text)
    return placed


def rows_needed(text: str, width: int = 72) -> int:
    """About how many lines :func:`draw_tokens` uses for ``text`` (to size a figure)."""
    return sum(max(1, -(-len(line) // width)) for line in text.split("\n"))


def draw_tokens(tokens: Sequence[str], gaps: Sequence[str], values: np.ndarray | None = None, ax=None, *,
                limit: float | None = None, outline: np.ndarray | None = None, title: str | None = None,
                colorbar_label: str | None = None, notes: Sequence[str] = (), width: int = 72) -> Any:
    """The text (``gaps[0] tokens[0] gaps[1] ... gaps[T]``) with each token coloured by ``values`` on a
    diverging scale symmetric around 0 (``limit``: the scale's end, default the largest |value|), or, with
    ``outline``, the outlined tokens on green and the others greyed. ``notes`` are lines of text drawn under
    it (user text too). Returns the Axes."""
    import matplotlib as mpl

    ax = axes(ax, (7, 2.5))
    ax.set_axis_off()
    fig = ax.figure
    pieces = [(gaps[0], -1)]
    for i, tok in enumerate(tokens):
        pieces += [(tok, i), (gaps[i + 1], -1)]
    placed = layout(pieces, width)
    n_rows = (placed[-1][0] + 1 if placed else 1) + len(notes) + (1 if notes else 0)
    box = ax.get_position()
    width_pt = box.width * fig.get_figwidth() * 72
    height_pt = box.height * fig.get_figheight() * 72
    size = min(FONT_SIZE, width_pt / (width * CHAR_EM), height_pt / (max(n_rows, 1) * LINE_EM))
    dx, dy = size * CHAR_EM / width_pt, size * LINE_EM / height_pt
    cmap = mpl.colormaps[DIVERGING]
    values = None if values is None else np.asarray(values, dtype=np.float64)
    if values is not None:
        limit = float(limit if limit is not None else np.max(np.abs(values), initial=0.0)) or 1.0
    for row, col, text, index in placed:
        style: dict[str, Any] = {}
        if index >= 0 and outline is not None:
            inside = bool(outline[index])
            style["bbox"] = {"facecolor": "#a6e3b0" if inside else "#eeeeee", "edgecolor": "#1b7f3b" if inside
                             else "none", "boxstyle": "square,pad=0.15", "linewidth": 1.2}
            style["color"] = "black" if inside else "#777777"
        elif index >= 0 and values is not None:
            rgba = cmap(0.5 + 0.5 * np.clip(values[index] / limit, -1, 1))
            style["bbox"] = {"facecolor": rgba, "edgecolor": "none", "boxstyle": "square,pad=0.15"}
            style["color"] = "white" if abs(values[index]) > 0.7 * limit else "black"
        ax.text(col * dx, 1 - (row + 0.8) * dy, drawable(text), family="monospace", fontsize=size,
                transform=ax.transAxes, va="baseline", ha="left", **style)
    top = (placed[-1][0] + 2) if placed else 1
    for k, note in enumerate(notes):
        ax.text(0, 1 - (top + k + 0.8) * dy, drawable(note), family="monospace", fontsize=size * 0.9,
                transform=ax.transAxes, va="baseline", ha="left", color="#333333")
    if title:
        ax.set_title(plain_text(title), fontsize=9, loc="left")
    if values is not None and outline is None:
        mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(-limit, limit), cmap=cmap)
        bar = fig.colorbar(mappable, ax=ax, orientation="horizontal", fraction=0.06, pad=0.02, aspect=40)
        bar.ax.tick_params(labelsize=7)
        if colorbar_label:
            bar.set_label(plain_text(colorbar_label), fontsize=8)
    return ax


__all__ = ["draw_tokens", "drawable", "layout", "rows_needed"]
