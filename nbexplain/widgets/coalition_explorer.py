"""What the explorers of one input's coalition game share (SuperpixelExplorer, TextExplorer).

Both show an input split into players (superpixels, tokens) beside the model's probabilities of a few
classes: the view edits a mask of the players kept, the kernel (or a table of all 2**M masks) answers with
the bars of the shown classes. This base holds what does not depend on the players: the options, the mask
a request sends, the shown classes and their bars, the target switch, the answer tables and the bars of the
static picture. Subclasses say ``_player_noun``, ``_n_players``, ``_clear_overlay`` and ``_publish_table``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import check_positive_int
from ..errors import InputError
from ..methods.coalitions.masks import all_coalitions
from .base import ExplainerWidget, RequestContext
from .codec import decode_array

#: most players whose 2**M masks the view may hold in a table (4096 rows) and answer itself
TABLE_MAX_PLAYERS = 12


class CoalitionExplorer(ExplainerWidget):
    """Base of the explorers that toggle the players of a coalition game and show the shown classes' bars.

    Needs the traits ``active``, ``classes``, ``bars``, ``target`` and the attributes ``_game``, ``_model``
    and ``_probs`` (the probabilities of the shown mask).
    """

    #: what one player is called in messages ("superpixel", "token")
    _player_noun: ClassVar[str] = "player"

    @property
    def _n_players(self) -> int:  # pragma: no cover - each explorer says it
        raise NotImplementedError

    def _clear_overlay(self) -> None:  # pragma: no cover - each explorer writes it
        raise NotImplementedError

    def _publish_table(self) -> None:  # pragma: no cover - each explorer writes it
        raise NotImplementedError

    def _take_options(self, top_k: Any, explain_options: dict | None, explainers: tuple[str, ...]) -> None:
        """Check and keep ``top_k`` and the options per explainer (only ``explainers`` may have some)."""
        self.top_k = check_positive_int(top_k, "top_k")
        self.explain_options = {k: dict(v) for k, v in (explain_options or {}).items()}
        unknown = set(self.explain_options) - set(explainers)
        if unknown:
            raise InputError(f"explain_options has unknown explainers {sorted(unknown)}; expected {list(explainers)}")

    def _check_mask(self, value: Any, name: str) -> np.ndarray:
        """``value`` as an (M,) bool mask: a list, an encoded array (nbxEncodeArray) or a raw byte buffer."""
        if isinstance(value, dict) and "dtype" in value:  # {dtype, shape, buffer} (nbxEncodeArray)
            value = decode_array(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):  # a typed array lifted to a raw buffer
            value = np.frombuffer(bytes(value), dtype=np.uint8)
        arr = None if value is None else np.asarray(value)
        n = self._n_players
        if arr is None or arr.shape != (n,):
            raise InputError(f"{name} must have one boolean per {self._player_noun}, shape ({n},); got "
                             f"{None if arr is None else arr.shape}")
        if arr.dtype != bool:
            if not np.isin(arr, (0, 1)).all():
                raise InputError(f"{name} must hold booleans (or 0/1)")
            arr = arr.astype(bool)
        return arr

    def _top(self, probs: np.ndarray) -> dict:
        """The predicted class of ``probs``: {index, name, probability}."""
        i = int(np.argmax(probs))
        return {"index": i, "name": self._model.class_name(i), "probability": float(probs[i])}

    def _class_list(self, probs: np.ndarray, target: int) -> list[dict]:
        """The classes with bars: the ``top_k`` most probable of the whole input, and the target."""
        order = [int(i) for i in np.argsort(-probs)[: self.top_k]]
        if target not in order:
            order.append(int(target))
        return [{"index": i, "name": self._model.class_name(i), "full": float(probs[i])} for i in order]

    def _bars_of(self, probs: np.ndarray) -> np.ndarray:
        """(T,) float32: ``probs`` of the shown classes."""
        return np.array([probs[c["index"]] for c in self.classes], dtype=np.float32)

    def _probabilities_of(self, mask: np.ndarray, ctx: RequestContext) -> np.ndarray:
        """(n_classes,) the model's probabilities with the players of ``mask`` kept (cached by the game)."""
        return self._game.model.to_probabilities(self._game.outputs(mask[None], progress=ctx.progress))[0]

    def _show_class_of(self, result: Any) -> None:
        """Within ``_applying``, for a view without a model: every player kept, ``result``'s class alone (no bars)."""
        self.active = np.ones(self._n_players, bool)
        self.target = int(result.target)
        self.classes = [{"index": int(result.target), "name": result.target_name, "full": 0.0}]

    def _show_whole_input(self, full: np.ndarray) -> None:
        """Within ``_applying``: every player kept, ``full`` its probabilities, the classes of the game's
        target, no overlay (after a new game: another segmentation, fill or perturbation)."""
        self.target = self._game.target
        self.classes = self._class_list(full, self._game.target)
        self._clear_overlay()
        self.active = np.ones(self._n_players, bool)
        self.bars = self._bars_of(full)
        self.top = self._top(full)
        self._probs = full
        self._publish_table()

    def _set_target(self, target: Any, ctx: RequestContext) -> None:
        """Explain ``target``: the shown classes follow, the overlay and the table are cleared or rebuilt."""
        game = self._game.view(target=target)
        ctx.check()
        self._game = game
        probs = self._probs if self._probs is not None else game.probabilities
        with self._applying(ctx):
            self.target = game.target
            self.classes = self._class_list(game.probabilities, game.target)
            self.bars = self._bars_of(probs)
            self._clear_overlay()
            self._publish_table()

    def _all_masks_table(self) -> dict | None:
        """The answers for all 2**M masks (:meth:`_class_tables`) when M <= 12 and every one is cached; else None."""
        n = self._n_players
        cached = self._game.cached(all_coalitions(n)) if n <= TABLE_MAX_PLAYERS else None
        return None if cached is None else self._class_tables(cached)

    def _class_tables(self, outputs: np.ndarray) -> dict:
        """Per row of model ``outputs``: ``bars`` of the shown classes (float32), the ``top`` class (int32), its
        probability ``top_p`` (float32), and the ``names`` of those top classes ({str(index): name})."""
        probs = self._game.model.to_probabilities(outputs)
        top = probs.argmax(1)
        return {"bars": probs[:, [c["index"] for c in self.classes]].astype(np.float32),
                "top": top.astype(np.int32), "top_p": probs[np.arange(len(probs)), top].astype(np.float32),
                "names": {str(int(i)): self._model.class_name(int(i)) for i in np.unique(top)}}

    def _draw_bars_and_quality(self, fig, bx) -> None:
        """The static picture's side: the shown classes' bars on ``bx`` and the quality lines under ``fig``."""
        from ..plotting.figure import plain_text

        if self.classes and self.bars is not None:
            names = [plain_text(c["name"]) for c in self.classes][::-1]
            bx.barh(range(len(names)), np.asarray(self.bars)[::-1], color="#1976d2")
            bx.set_yticks(range(len(names)), names, fontsize=8)
            bx.set_xlim(0, 1)
            bx.set_title("probability", fontsize=9)
        else:
            bx.set_axis_off()
        for i, line in enumerate(self.overlay_info.get("quality", [])):
            fig.text(0.02, -0.04 - 0.05 * i, plain_text(line), fontsize=8)
