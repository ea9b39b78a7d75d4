"""What the results of coalition explanations share, whatever the players are (superpixels, tokens, phrases).

A coalition explanation scores each player of one input's game (:mod:`nbexplain.methods.coalitions`):

* :class:`PlayerScores` — the base of such results: ``kind`` (the explorer's name of the overlay), ``label``
  (what the scores are), ``scored`` (the field holding one score per player), ``headline`` and ``quality()``;
* :class:`LimeScores` — a LIME surrogate's weights and its fidelity (Ribeiro, Singh & Guestrin 2016);
* :class:`ShapleyScores` — Shapley values with their efficiency check (Shapley 1953);
* :class:`AnchorScores` — an anchor (Ribeiro, Singh & Guestrin 2018) as scores: 1 for its players, 0 for the rest;
* :func:`confirmed_precision` — an anchor's precision against its threshold, in words (Ribeiro, Singh & Guestrin
  2018: confirmed when the lower bound of its confidence interval clears the threshold).

A family's results derive from its own base (which knows the image or the text) and these:
``class LimeImage(LimeScores, SuperpixelResult)``; the front doors build them with :meth:`LimeScores.of` and
:meth:`ShapleyScores.of` from the engine's answer and the game's context.

Examples
--------
>>> lime = nbx.lime_image(game)
>>> lime.scores is lime.weights, lime.fidelity == lime.score
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..methods.coalitions.anchors import AnchorSearch
from ..methods.coalitions.lime import LimeFit
from .result import Result


@dataclass(kw_only=True)
class PlayerScores(Result):
    """A result with one score per player: what the scores are, how far to trust them.

    Attributes
    ----------
    target : int - the explained class; ``target_name`` its name.
    output : str - "probability" or "score": what the game's values are.

    Subclasses say ``kind``, ``label``, which field holds the scores (``scored``; or they override
    :attr:`scores`) and ``quality()`` (how far to trust the result, in short lines).
    """

    target: int
    target_name: str
    output: str = "probability"
    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    scored: ClassVar[str] = ""  # the field holding one score per player

    @property
    def scores(self) -> np.ndarray:
        """(M,) one number per player."""
        return np.asarray(getattr(self, self.scored), dtype=np.float64)

    @property
    def headline(self) -> str:
        """What the scores are, in a few words (the title of views and plots)."""
        return f"{self.label} for {self.target_name}"

    def quality(self) -> list[str]:
        """How far to trust the result, in short lines (for views and plot titles)."""
        return []


@dataclass
class LimeScores(LimeFit):
    """A LIME surrogate's answer as player scores (the fields of
    :class:`~nbexplain.methods.coalitions.lime.LimeFit`: ``weights`` per player, ``intercept``,
    ``local_prediction``, ``prediction``, ``score`` — the fidelity — and the samples)."""

    kind: ClassVar[str] = "lime"
    label: ClassVar[str] = "LIME weights"
    scored: ClassVar[str] = "weights"

    @property
    def fidelity(self) -> float:
        """The surrogate's weighted R² on its samples (``score``)."""
        return self.score

    @classmethod
    def of(cls, fit: LimeFit, **context: Any):
        """The result of one LIME fit (one output) with its game's ``context``."""
        return cls(**{**vars(fit), "intercept": float(fit.intercept), "local_prediction": float(fit.local_prediction),
                      "score": float(fit.score), "prediction": float(fit.prediction)}, **context)


@dataclass
class ShapleyScores:
    """Shapley values of the players for one output.

    Attributes
    ----------
    values : (M,) - each player's Shapley value.
    base_value : float - v(no player): the output with every player absent.
    full_value : float - v(all): the output on the whole input.
    efficiency_gap : float - ``values.sum() - (full_value - base_value)`` (0 up to rounding).
    std : (M,) or None - standard errors of sampled values.
    method : str - "exact", "sampled" or "kernel".
    n_evaluations : int - coalitions the estimator used (the game's cache may have served some).
    table : (2**M,) or None - the full value table when computed exactly (row b = bitmask b).
    """

    values: np.ndarray
    base_value: float
    full_value: float
    efficiency_gap: float
    std: np.ndarray | None
    method: str
    n_evaluations: int
    table: np.ndarray | None = field(default=None, repr=False)
    kind: ClassVar[str] = "shapley"
    scored: ClassVar[str] = "values"

    @property
    def label(self) -> str:  # type: ignore[override]
        return f"Shapley values ({self.method})"

    @classmethod
    def of(cls, sv: Any, **context: Any):
        """The result of the engine's Shapley values ``sv`` (their first output) with its game's ``context``."""
        return cls(values=sv.values[:, 0], base_value=float(sv.base_value[0]), full_value=float(sv.full_value[0]),
                   efficiency_gap=float(sv.efficiency_gap[0]), std=None if sv.std is None else sv.std[:, 0],
                   method=sv.method, n_evaluations=sv.n_evaluations,
                   table=None if sv.table is None else sv.table[:, 0], **context)


@dataclass
class AnchorScores(AnchorSearch):
    """An anchor search's answer (the fields of :class:`~nbexplain.methods.coalitions.anchors.AnchorSearch`)
    with ``p_present``, the probability that a player outside the anchor was kept in a sample."""

    p_present: float
    kind: ClassVar[str] = "anchor"

    def _anchor_mask(self, n_players: int) -> np.ndarray:
        """(n_players,) bool: True for the anchor's players."""
        mask = np.zeros(n_players, dtype=bool)
        mask[list(self.anchor)] = True
        return mask


def confirmed_precision(precision: float, lower: float, threshold: float, met: bool) -> str:
    """An anchor's precision against its threshold, in words (the first quality line of text and row anchors)."""
    if met:
        return f"precision {precision:.3f} (≥ {threshold:g} with confidence: lower bound {lower:.3f})"
    return (f"precision {precision:.3f}, not confirmed ≥ {threshold:g} (lower bound {lower:.3f}): no anchor found "
            "within the sample budget")


__all__ = ["AnchorScores", "LimeScores", "PlayerScores", "ShapleyScores", "confirmed_precision"]
