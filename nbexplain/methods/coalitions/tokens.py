"""Tokens as players: the coalition game of a text (coalitions -> shortened texts -> model outputs, cached).

A coalition keeps some players — single tokens, or groups of them (phrases, sentences; see
:func:`~nbexplain.inputs.text.token_groups`) — and the text the model reads is the user's own text with the
other tokens removed, or replaced by a mask string such as ``"UNK"`` (:meth:`TokenizedText.render_many
<nbexplain.inputs.text.TokenizedText.render_many>`: gaps, spaces and punctuation stay where they were, as in
the ``lime`` package's ``IndexedString.inverse_removing``). The texts of N coalitions are a lazy batch of
strings (:class:`TextRows`) that the model adapter slices one model batch at a time.

Outputs are cached by the *token* mask, so a game and its :meth:`TokenGame.grouped` copies (the same text with
phrases or sentences as players) share every evaluation, as do LIME, Shapley values, anchors and a widget's
clicks. :func:`lime_text_coalitions` is the ``lime`` package's text design (the number of removed players
uniform in 1..M), and :func:`covered_examples` draws perturbations in which an anchor holds and sorts them by
whether the prediction was kept. :func:`game_for` is the game a text explanation plays (a new one, or a
:class:`TokenGame` given as the model, seen with another target, output or grouping).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ...adapters.lazy import LazyRows
from ...adapters.text_models import as_text_model
from ...errors import InputError
from ...inputs.text import TokenizedText, token_groups, tokenize
from .game import DEFAULT_CACHE_BYTES, CoalitionGame, check_output
from .masks import pack_keys


def check_mask(mask: Any) -> str | None:
    """``mask`` as None (absent tokens are removed) or the string absent tokens become."""
    if mask is not None and not isinstance(mask, str):
        raise InputError(f"mask must be None (remove absent tokens) or a string that replaces them, e.g. 'UNK'; "
                         f"got {type(mask).__name__}")
    return mask


class TokenGame(CoalitionGame):
    """The tokens (or groups of tokens) of a text as players: a coalition -> the model's output on the text
    that keeps them.

    Parameters
    ----------
    model : scikit-learn pipeline, callable, torch.nn.Module or Model
        Anything :func:`~nbexplain.adapters.text_models.as_text_model` accepts.
    text : str or TokenizedText
        The text to explain.
    tokens : {"word", "whitespace"}, regular expression or callable
        How the text splits into tokens (:func:`~nbexplain.inputs.text.tokenize`).
    groups : {"token", "phrase", "sentence"} or lists of token indices
        The players (:func:`~nbexplain.inputs.text.token_groups`).
    mask : str or None
        Absent tokens are removed (None) or replaced by this string.
    target, output, class_names, cache_bytes
        As :class:`~nbexplain.methods.coalitions.game.CoalitionGame`.
    tokenizer, embedding
        For a torch module (see :func:`~nbexplain.adapters.text_models.as_text_model`).

    Examples
    --------
    >>> game = TokenGame(pipeline, "a truly great film")
    >>> game.texts(np.array([[1, 0, 1, 1]], bool))
    ['a  great film']
    """

    def __init__(self, model: Any, text: Any, *, tokens: Any = "word", groups: Any = "token", mask: str | None = None,
                 target: Any = None, output: str = "probability", class_names=None, tokenizer=None, embedding=None,
                 cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        output = check_output(output)
        self.tokens: TokenizedText = tokenize(text, tokens)
        if self.tokens.n_tokens == 0:
            raise InputError(f"text has no tokens to explain: {self.tokens.text[:60]!r}")
        self.mask = check_mask(mask)
        self._set_groups(groups)
        model = as_text_model(model, tokenizer=tokenizer, embedding=embedding, class_names=class_names)
        super().__init__(model, len(self.groups), target=target, output=output, cache_bytes=cache_bytes)

    def _set_groups(self, groups: Any) -> None:
        self.groups: list[np.ndarray] = token_groups(self.tokens, groups)
        self.player_of = np.empty(self.tokens.n_tokens, dtype=np.int64)  # the player each token belongs to
        for k, members in enumerate(self.groups):
            self.player_of[members] = k
        self.n_players = len(self.groups)

    def __repr__(self) -> str:
        return (f"TokenGame({self.n_players} players over {self.tokens.n_tokens} tokens, mask={self.mask!r}, "
                f"target={self.target} {self.target_name!r}, output={self.output!r})")

    @property
    def text(self) -> str:
        return self.tokens.text

    @property
    def player_names(self) -> list[str]:
        """Each player as text: its tokens with the gaps between them (a phrase reads as written)."""
        text = self.tokens.text
        return [text[int(self.tokens.starts[g[0]]):int(self.tokens.stops[g[-1]])] if len(g) == int(g[-1] - g[0]) + 1
                else " … ".join(text[int(self.tokens.starts[i]):int(self.tokens.stops[i])] for i in g)
                for g in self.groups]

    def grouped(self, groups: Any) -> TokenGame:
        """The same text with other players (e.g. "sentence"), sharing this game's cache, target and output."""
        other = copy.copy(self)
        other._set_groups(groups)
        return other

    # -- coalitions -> texts -------------------------------------------------------------------------
    def token_mask(self, coalitions: Any) -> np.ndarray:
        """(N, T) bool: the tokens each coalition keeps."""
        return self.check(coalitions)[:, self.player_of]

    def texts(self, coalitions: Any) -> list[str]:
        """The texts the model reads for ``coalitions``."""
        return self.tokens.render_many(self.token_mask(coalitions), self.mask)

    def inputs(self, coalitions: np.ndarray, fill_index: np.ndarray) -> TextRows:
        return TextRows(self.tokens, coalitions[:, self.player_of], self.mask)

    def _keys(self, z: np.ndarray, fi: np.ndarray) -> list[bytes]:
        """Cached by the token mask, so grouped copies of the game share evaluations."""
        return pack_keys(z[:, self.player_of])


def game_for(model: Any, text: Any, tokens: Any, groups: Any, mask: Any, target: Any, output: str | None,
             class_names: Any, tokenizer: Any) -> TokenGame:
    """The game a text explanation plays: ``model`` itself when it is a :class:`TokenGame` (sharing its cache;
    ``groups``, ``target`` and ``output`` may differ), else a new game of ``text``."""
    if isinstance(model, TokenGame):
        if text is not None or tokens is not None or tokenizer is not None or class_names is not None:
            raise InputError("pass either a TokenGame (which has its text, tokens and model), or a model with a "
                             "text, not both")
        if mask is not None and check_mask(mask) != model.mask:
            raise InputError(f"mask={mask!r} differs from the game's {model.mask!r}; make a TokenGame with it")
        game = model.view(target=target, output=output)
        return game if groups is None else game.grouped(groups)
    if text is None:
        raise InputError("text is required (or pass a TokenGame as the model)")
    return TokenGame(model, text, tokens="word" if tokens is None else tokens, groups="token" if groups is None
                     else groups, mask=check_mask(mask), target=target,
                     output="probability" if output is None else output, class_names=class_names,
                     tokenizer=tokenizer)


class TextRows(LazyRows):
    """A lazy (N,) batch of strings: the text with the tokens of each mask kept, built when sliced."""

    def __init__(self, tokens: TokenizedText, keep: np.ndarray, mask: str | None):
        super().__init__(len(keep), (), object)
        self.tokens, self.keep, self.mask = tokens, keep, mask

    def build(self, start: int, stop: int) -> np.ndarray:
        return self.tokens.render_array(self.keep[start:stop], self.mask)


def lime_text_coalitions(n_samples: int, n_players: int, rng: np.random.Generator) -> np.ndarray:
    """The ``lime`` package's text design: the whole text first, then samples that each remove a number of
    players drawn uniformly from 1..M, chosen at random (``LimeTextExplainer.__data_labels_distances``)."""
    z = np.ones((n_samples, n_players), dtype=bool)
    if n_samples > 1:
        removed = rng.integers(1, n_players + 1, size=n_samples - 1)
        order = np.argsort(rng.random((n_samples - 1, n_players)), axis=1)  # a random order of the players
        rest = z[1:]
        np.put_along_axis(rest, order, np.arange(n_players)[None, :] >= removed[:, None], axis=1)  # first k go
    return z


def covered_examples(game: CoalitionGame, anchor: tuple[int, ...], p_present: float, rng: np.random.Generator,
                     n_draws: int = 200, keep: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Perturbations in which ``anchor`` holds (the other players present with probability ``p_present``):
    up to ``keep`` distinct ones where the prediction stayed the game's target, and up to ``keep`` where it
    changed. Returns two (k, M) bool arrays of coalitions."""
    z = rng.random((n_draws, game.n_players)) < p_present
    z[:, list(anchor)] = True
    z = np.unique(z, axis=0)
    z = z[rng.permutation(len(z))]
    agrees = game.scores(z).argmax(1) == game.target
    return z[agrees][:keep], z[~agrees][:keep]


__all__ = ["TextRows", "TokenGame", "check_mask", "covered_examples", "game_for", "lime_text_coalitions"]
