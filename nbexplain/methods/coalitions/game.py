"""Games over players: a coalition (M booleans, True = the player is present) -> the model's output, cached.

:class:`CoalitionGame` is what every coalition method evaluates: superpixels of an image today
(:class:`~nbexplain.methods.coalitions.superpixels.SuperpixelGame`), tokens of a text or features of a row
next. It holds the model, the explained ``target`` class and ``output`` ("probability" or "score"), and a
cache of the model's outputs per coalition (keyed by the coalition's packed bits and its fill index), so that
LIME, Shapley values, anchors, curves and a widget's clicks reuse each other's evaluations. A subclass says
only how N coalitions become N model inputs — :meth:`CoalitionGame.inputs`, a lazy batch
(:class:`~nbexplain.adapters.lazy.LazyRows`) the model adapter slices one model batch at a time.

The estimators also take a plain value function ``(N, M) bool -> (N,) or (N, K)`` with its number of
players: :func:`as_game` wraps it as a :class:`FunctionGame` (no model, no cache).

Examples
--------
>>> class Bits(CoalitionGame):  # a model that reads the coalition itself
...     def inputs(self, coalitions, fill_index):
...         return coalitions.astype(np.float32)
>>> game = Bits(lambda x: np.stack([x[:, 0] * x[:, 1], 1 - x[:, 0] * x[:, 1]], 1) * 4, n_players=3)
>>> game.value(np.array([[1, 1, 0], [1, 0, 1]], bool)).round(3)  # P(class 0): 1 iff players 0 and 1
array([0.982, 0.018])
"""

from __future__ import annotations

import copy
import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._deprecation import renamed_value
from ..._types import LazyBatch, Progress
from ..._validation import check_callable, check_choice
from ...adapters.model import Model, as_model
from ...adapters.outputs import class_scores, resolve_target
from ...errors import InputError
from .masks import check_coalitions, check_n_players, pack_keys

#: what a game's value is: the target's probability, or the model's own output for it (logit or score)
OUTPUTS = ("probability", "score")
#: memory for cached outputs per game (oldest entries are dropped beyond it)
DEFAULT_CACHE_BYTES = 256 << 20


def check_output(output: Any) -> str:
    """``output`` as "probability" or "score" (the old spelling "probabilities" warns)."""
    return check_choice(renamed_value(output, "output", {"probabilities": "probability"}, stacklevel=4),
                        "output", OUTPUTS)


class OutputCache:
    """The model's outputs per coalition key, least recently used first out beyond ``max_bytes``.

    Shared by a game and its :meth:`CoalitionGame.view` copies, with the counters of model evaluations
    (``n_evaluations``: inputs run through the model) and of rows answered from the cache (``n_hits``).
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self.rows: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.n_evaluations = 0
        self.n_hits = 0

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: bytes) -> np.ndarray | None:
        return self.rows.get(key)

    def store(self, keys: list[bytes], outputs: np.ndarray) -> None:
        limit = max(1, self.max_bytes // max(1, outputs.shape[1] * 8))
        before = len(self.rows)
        self.rows.update(zip(keys, outputs, strict=True))  # new keys go last
        if len(self.rows) != before + len(keys):  # some were cached (or repeated): they become the newest
            for key in keys:
                self.rows.move_to_end(key)
        while len(self.rows) > limit:
            self.rows.popitem(last=False)

    def clear(self) -> None:
        self.rows.clear()


class CoalitionGame:
    """Players of one input: a coalition of present players -> the model's output on the input they make.

    Subclasses set up what they need (the image and its fills, the tokens...), then call
    ``super().__init__`` (which predicts the whole input once) and write :meth:`inputs`. A subclass with
    several fills (what absent players show: a colour, a background picture, a mask token) overrides
    :attr:`n_fills`; every method takes a ``fill_index`` per coalition (default 0).

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
        Anything :func:`nbexplain.as_model` accepts.
    n_players : int
        M, the number of players.
    target : int, str or None
        The class whose output is the game's value; None is the class predicted for the whole input.
    output : {"probability", "score"}
        Value = the target's probability, or the model's own output for it (logit or score).
    class_names : sequence of str, optional
        Names of the model's classes (for ``target`` by name).
    cache_bytes : int
        Memory for cached outputs.

    Attributes
    ----------
    full_outputs : (n_outputs,) - the model's outputs for the whole input (every player present).
    probabilities : (n_classes,) - its class probabilities.
    n_evaluations : int - inputs run through the model since the game was made (shared by its views).
    """

    def __init__(self, model: Any, n_players: int, *, target: Any = None, output: str = "probability",
                 class_names=None, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.output = check_output(output)
        self.model: Model = as_model(model, class_names=class_names)
        self.n_players = check_n_players(n_players)
        self._cache = OutputCache(cache_bytes)
        everyone = np.ones((1, self.n_players), bool)
        nobody = np.zeros(1, np.int64)
        self.full_outputs = self.model.predict(self.inputs(everyone, nobody))[0]  # not counted: the prediction
        self._cache.store(self._keys(everyone, nobody), self.full_outputs[None])
        self.probabilities = self.model.to_probabilities(self.full_outputs[None])[0]
        self.target = resolve_target(target, self.probabilities, self.model.class_names)

    # -- what a subclass writes ----------------------------------------------------------------------
    def inputs(self, coalitions: np.ndarray, fill_index: np.ndarray) -> LazyBatch | np.ndarray:
        """The N model inputs of N coalitions ``(N, M) bool`` with fills ``(N,) int``: a lazy batch, built
        one model batch at a time (a :class:`~nbexplain.adapters.lazy.LazyRows`), or an array."""
        raise NotImplementedError

    @property
    def n_fills(self) -> int:
        """How many fills absent players can show (``fill_index`` is in ``0..n_fills - 1``)."""
        return 1

    # -- description ---------------------------------------------------------------------------------
    @property
    def target_name(self) -> str:
        return self.model.class_name(self.target)

    @property
    def predicted(self) -> int:
        """The class predicted for the whole input."""
        return int(np.argmax(self.probabilities))

    @property
    def n_evaluations(self) -> int:
        """Inputs run through the model (not counting the first prediction); shared with the views."""
        return self._cache.n_evaluations

    @property
    def n_cache_hits(self) -> int:
        """Coalitions answered from the cache; shared with the views."""
        return self._cache.n_hits

    def view(self, target: Any = None, output: str | None = None) -> CoalitionGame:
        """The same game (sharing its cache, fills and counters) valued by another class or output."""
        if target is None and (output is None or output == self.output):
            return self
        other = copy.copy(self)
        if target is not None:
            other.target = resolve_target(target, self.probabilities, self.model.class_names)
        if output is not None:
            other.output = check_output(output)
        return other

    # -- evaluation ----------------------------------------------------------------------------------
    def check(self, coalitions: Any, name: str = "coalitions") -> np.ndarray:
        """``coalitions`` as (N, M) bool for this game's M players."""
        return check_coalitions(coalitions, name, self.n_players)

    def _fill_index(self, fill_index: Any, n: int) -> np.ndarray:
        if fill_index is None:
            return np.zeros(n, dtype=np.int64)
        fi = np.broadcast_to(np.asarray(fill_index, dtype=np.int64), (n,))
        if fi.size and (fi.min() < 0 or fi.max() >= self.n_fills):
            raise InputError(f"fill_index must be in 0..{self.n_fills - 1}; got values up to {fi.max()}")
        return fi

    def _keys(self, z: np.ndarray, fi: np.ndarray) -> list[bytes]:
        """The cache key of each coalition: its packed bits, and its fill index unless 0."""
        keys = pack_keys(z)
        if not np.any(fi):
            return keys
        return [k if f == 0 else k + int(f).to_bytes(4, "little") for k, f in zip(keys, fi, strict=True)]

    def cached(self, coalitions: Any, fill_index: Any = None) -> np.ndarray | None:
        """Model outputs of coalitions that are all in the cache (no model call), else None."""
        z = self.check(coalitions)
        rows = [self._cache.get(k) for k in self._keys(z, self._fill_index(fill_index, len(z)))]
        return None if any(r is None for r in rows) else np.stack(rows)

    def outputs(self, coalitions: Any, fill_index: Any = None, progress: Progress = None, *,
                remember: bool = True) -> np.ndarray:
        """The model's own outputs (N, n_outputs) for coalitions; each distinct coalition is run once, ever
        (``remember=False``: once in this call, the new outputs not cached, for a game played once)."""
        z = self.check(coalitions)
        fi = self._fill_index(fill_index, len(z))
        keys = self._keys(z, fi)
        n = len(keys)
        first = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))  # each distinct key -> its first row
        hits = list(self._cache.rows.keys() & first.keys())
        known = [self._cache.get(k) for k in hits]  # held here: storing new rows may evict cached ones
        run = np.full(n, len(first) == n)  # the rows run through the model: first rows of keys not cached
        if len(first) < n:
            run[np.fromiter(first.values(), dtype=np.int64, count=len(first))] = True
        hit_rows = np.fromiter(map(first.__getitem__, hits), dtype=np.int64, count=len(hits))
        run[hit_rows] = False
        n_run = int(run.sum())
        self._cache.n_hits += n - n_run
        out = None
        if n_run:
            new = self.evaluate(z[run], fi[run], progress)
            self._cache.n_evaluations += n_run
            if remember:
                self._cache.store(list(itertools.compress(keys, run)), new)
            out = np.empty((n, new.shape[1]))
            out[run] = new
        elif progress is not None:
            progress(1.0)
        if out is None:
            out = np.empty((n, len(self.full_outputs)))
        if hits:
            out[hit_rows] = np.stack(known)
        if len(first) < n:  # repeated keys: each row takes its key's first row
            out = out[np.fromiter(map(first.__getitem__, keys), dtype=np.int64, count=n)]
        return out

    def evaluate(self, coalitions: np.ndarray, fill_index: np.ndarray, progress: Progress = None) -> np.ndarray:
        """The model's outputs (N, n_outputs) for checked coalitions and fills, every row run (no cache): the
        model on :meth:`inputs`. A subclass may compute the same numbers another way (the superpixel game
        runs coalitions close to the image or to its fill by incremental inference)."""
        return self.model.predict(self.inputs(coalitions, fill_index), progress=progress)

    def to_scores(self, outputs: np.ndarray) -> np.ndarray:
        """(N, n_classes) of model outputs: probabilities (``output="probability"``) or class scores."""
        if self.output == "probability":
            return self.model.to_probabilities(outputs)
        return class_scores(outputs)

    def scores(self, coalitions: Any, fill_index: Any = None, progress: Progress = None, *,
               remember: bool = True) -> np.ndarray:
        """(N, n_classes): probabilities (``output="probability"``) or class scores (``"score"``)."""
        return self.to_scores(self.outputs(coalitions, fill_index, progress, remember=remember))

    def value(self, coalitions: Any, fill_index: Any = None, progress: Progress = None, *,
              remember: bool = True) -> np.ndarray:
        """(N,) the target's value for each coalition (``remember``: as :meth:`outputs`)."""
        return self.scores(coalitions, fill_index, progress, remember=remember)[:, self.target]

    def value_fn(self, progress: Progress = None) -> Callable[[np.ndarray], np.ndarray]:
        """The game as a value function ``(N, M) bool -> (N, 1)`` for :mod:`.shapley`'s estimators."""
        return lambda z: self.value(z, progress=progress)[:, None]

    def clear_cache(self) -> None:
        self._cache.clear()


class FunctionGame:
    """A value function ``(N, M) bool -> (N,) or (N, K)`` seen as a game of ``n_players`` (no model, no cache)."""

    def __init__(self, value_fn: Callable[[np.ndarray], Any], n_players: int, name: str = "value_fn") -> None:
        self.fn = check_callable(value_fn, name, "coalitions (N, M) bool -> values (N,) or (N, K)")
        self.name = name
        self.n_players = check_n_players(n_players)
        self.n_evaluations = 0

    def check(self, coalitions: Any, name: str = "coalitions") -> np.ndarray:
        return check_coalitions(coalitions, name, self.n_players)

    def value(self, coalitions: Any, fill_index: Any = None, progress: Progress = None) -> np.ndarray:
        """The function's values for ``coalitions``, checked: (N,) or (N, K) finite floats."""
        z = self.check(coalitions)
        out = np.asarray(self.fn(z), dtype=np.float64)
        if out.ndim not in (1, 2) or out.shape[0] != len(z):
            raise InputError(f"{self.name} returned shape {out.shape} for {len(z)} coalitions; "
                             f"expected ({len(z)},) or ({len(z)}, K)")
        if not np.all(np.isfinite(out)):
            raise InputError(f"{self.name} returned NaN or infinite values")
        self.n_evaluations += len(z)
        if progress is not None:
            progress(1.0)
        return out


def as_game(game: Any, n_players: int | None = None) -> CoalitionGame | FunctionGame:
    """``game`` itself (anything with ``n_players`` and ``value(coalitions, progress=...)``), or a value
    function wrapped as a :class:`FunctionGame` of ``n_players``."""
    if hasattr(game, "n_players") and hasattr(game, "value"):
        if n_players is not None and n_players != game.n_players:
            raise InputError(f"n_players={n_players!r} contradicts the game's {game.n_players} players")
        return game
    if n_players is None:
        raise InputError("n_players is required with a value function (a game knows its players)")
    return FunctionGame(game, n_players)


__all__ = ["DEFAULT_CACHE_BYTES", "OUTPUTS", "CoalitionGame", "FunctionGame", "OutputCache", "as_game",
           "check_output"]
