"""Text input: a string split into tokens that keep their character spans, so nothing of the text is lost.

:func:`tokenize` returns a :class:`TokenizedText`: the tokens (the parts an explanation switches on and off:
words, and emoji or other symbols), each with its ``start``/``stop`` in the string, and the *gaps* between
them (spaces, punctuation, line breaks). Joining the gaps and tokens in order gives back the exact string —
Unicode, emoji, HTML-looking text included — so highlights sit on the user's own text and a text with some
tokens removed (or replaced by a mask token) is the user's text with exactly those words gone
(:meth:`TokenizedText.render`). :func:`token_groups` groups tokens into phrases or sentences, so that those can
be the players of an explanation instead of single words. :class:`Vocabulary` turns texts into the integer ids
a small torch model reads, with the same tokens (so gradient attributions land on the displayed words).

Examples
--------
>>> t = tokenize("Not bad <b>at all</b> 👍🏽!")
>>> t.tokens
['Not', 'bad', 'b', 'at', 'all', 'b', '👍🏽']
>>> t.render(np.array([1, 0, 1, 1, 1, 1, 1], bool))
'Not  <b>at all</b> 👍🏽!'
>>> "".join(g + w for g, w in zip(t.gaps, t.tokens + [""])) == t.text
True
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int
from ..errors import InputError

#: a word (letters, digits, underscore; inner apostrophes and hyphens kept: "don't", "well-made"), or one
#: symbol cluster (an emoji with its variation selector, skin tone and zero-width joins)
_MODIFIERS = "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u20e3"
WORD_PATTERN = re.compile(rf"\w+(?:['’\-]\w+)*|[^\w\s][{_MODIFIERS}]*(?:\u200d[^\w\s][{_MODIFIERS}]*)*")
TOKENIZERS = ("word", "whitespace")
GROUPINGS = ("token", "phrase", "sentence")
#: gap characters that end a phrase / a sentence
_PHRASE_END = re.compile(r"[,;:.!?\u2014\u2013()\[\]\n]")
_SENTENCE_END = re.compile(r"[.!?\n]")
#: tokens per run in :meth:`TokenizedText.render_array` (each run's 2**run pieces are built once)
RENDER_RUN = 4


@dataclass(frozen=True)
class TokenizedText:
    """A text and its tokens, each a ``[start, stop)`` span of the text.

    Attributes
    ----------
    text : str - the whole text, as given.
    starts, stops : (T,) int64 - where each token begins and ends (sorted, non-overlapping, non-empty).
    """

    text: str
    starts: np.ndarray
    stops: np.ndarray

    @property
    def n_tokens(self) -> int:
        return int(len(self.starts))

    @property
    def tokens(self) -> list[str]:
        """The tokens as strings."""
        return [self.text[a:b] for a, b in zip(self.starts.tolist(), self.stops.tolist(), strict=True)]

    @property
    def gaps(self) -> list[str]:
        """The T + 1 pieces between tokens: before the first, between each pair, after the last."""
        bounds = [0, *np.column_stack([self.starts, self.stops]).ravel().tolist(), len(self.text)]
        return [self.text[bounds[2 * i]:bounds[2 * i + 1]] for i in range(self.n_tokens + 1)]

    def __len__(self) -> int:
        return self.n_tokens

    def render(self, keep: Any, mask: str | None = None) -> str:
        """The text with the tokens where ``keep`` is False removed (``mask`` None) or replaced by ``mask``."""
        return self.render_many(np.asarray(keep, bool)[None], mask)[0]

    def render_many(self, keep: np.ndarray, mask: str | None = None) -> list[str]:
        """The texts of N token masks ``keep`` (N, T) bool (see :meth:`render_array`)."""
        return self.render_array(keep, mask).tolist()

    def render_array(self, keep: np.ndarray, mask: str | None = None) -> np.ndarray:
        """The texts of N token masks ``keep`` (N, T) bool, as an (N,) object array. Each run of ``RENDER_RUN``
        tokens has its 2**run pieces built once (each token, or nothing or ``mask``, followed by its gap); a
        text is the sum of one piece per run, picked by the run's bits."""
        keep = np.asarray(keep, dtype=bool)
        if keep.ndim != 2 or keep.shape[1] != self.n_tokens:
            raise InputError(f"keep must be (N, {self.n_tokens}) booleans, one per token; got shape {keep.shape}")
        gaps = self.gaps
        kept = [t + g for t, g in zip(self.tokens, gaps[1:], strict=True)]
        dropped = [("" if mask is None else mask) + g for g in gaps[1:]]
        runs = []
        for start in range(0, self.n_tokens, RENDER_RUN):
            width = min(RENDER_RUN, self.n_tokens - start)
            head = gaps[0] if start == 0 else ""  # the text before the first token opens the first run
            pieces = np.empty(1 << width, dtype=object)
            pieces[:] = [head + "".join(kept[start + j] if bits >> j & 1 else dropped[start + j] for j in range(width))
                         for bits in range(1 << width)]
            code = keep[:, start:start + width].astype(np.intp) @ (np.intp(1) << np.arange(width, dtype=np.intp))
            runs.append(pieces[code])
        if not runs:
            out = np.empty(len(keep), dtype=object)
            out[:] = gaps[0]
            return out
        while len(runs) > 1:  # neighbours summed pairwise (element-wise str +): each text is copied log2(runs) times
            runs = [a + b for a, b in zip(runs[::2], runs[1::2], strict=False)] + runs[len(runs) - len(runs) % 2:]
        return runs[0]

    def token_at(self, position: int) -> int:
        """The index of the token covering character ``position`` (-1 in a gap)."""
        i = int(np.searchsorted(self.stops, position, side="right"))
        return i if i < self.n_tokens and self.starts[i] <= position else -1


def _is_token(piece: str) -> bool:
    """A word, or a symbol cluster (emoji, currency): punctuation and maths signs (``< = >``) stay gaps."""
    first = piece[0]
    category = unicodedata.category(first)
    return first.isalnum() or first == "_" or not (category.startswith("P") or category == "Sm")


def _spans_of(text: str, tokenizer: Any) -> list[tuple[int, int]]:
    if tokenizer == "word":
        return [m.span() for m in WORD_PATTERN.finditer(text) if _is_token(m.group())]
    if tokenizer == "whitespace":
        return [m.span() for m in re.finditer(r"\S+", text)]
    if isinstance(tokenizer, re.Pattern) or (isinstance(tokenizer, str) and tokenizer not in TOKENIZERS):
        try:
            pattern = re.compile(tokenizer)
        except re.error as exc:
            raise InputError(f"tokenizer={tokenizer!r} is neither one of {list(TOKENIZERS)} nor a valid regular "
                             f"expression ({exc})") from exc
        return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
    if callable(tokenizer):
        spans = tokenizer(text)
        try:
            return [(int(a), int(b)) for a, b in spans]
        except (TypeError, ValueError) as exc:
            raise InputError("a tokenizer callable must return (start, stop) character spans; "
                             f"got {type(spans).__name__}") from exc
    raise InputError(f"tokenizer must be one of {list(TOKENIZERS)}, a regular expression or a callable "
                     f"text -> [(start, stop), ...]; got {tokenizer!r}")


def tokenize(text: Any, tokenizer: Any = "word", name: str = "text") -> TokenizedText:
    """Split ``text`` into tokens that keep their spans (the text is never altered).

    Parameters
    ----------
    text : str or TokenizedText
        The text (a :class:`TokenizedText` is returned as is).
    tokenizer : {"word", "whitespace"}, regular expression, callable or TokenizedText
        "word": words (inner apostrophes and hyphens kept) and emoji or other symbols; punctuation and
        spaces are gaps. "whitespace": every run of non-space characters. A regular expression: its
        matches. A callable: ``text -> [(start, stop), ...]`` (sorted, non-overlapping, non-empty spans).
    name : str
        The argument's name in error messages.

    Examples
    --------
    >>> tokenize("it's well-made, 10/10 😀").tokens
    ["it's", 'well-made', '10', '10', '😀']
    """
    if isinstance(text, TokenizedText):
        return text
    if isinstance(tokenizer, TokenizedText):  # tokens made before, of this very text
        if tokenizer.text != text:
            raise InputError(f"the given tokens are of another text ({tokenizer.text[:40]!r}), not {text[:40]!r}")
        return tokenizer
    if not isinstance(text, str):
        raise InputError(f"{name} must be a str; got {type(text).__name__}")
    spans = _spans_of(text, tokenizer)
    starts = np.array([a for a, _ in spans], dtype=np.int64)
    stops = np.array([b for _, b in spans], dtype=np.int64)
    if len(spans) and (np.any(stops <= starts) or starts[0] < 0 or stops[-1] > len(text)
                       or np.any(starts[1:] < stops[:-1])):
        raise InputError(f"the tokenizer's spans must be sorted, non-overlapping, non-empty and inside the "
                         f"{len(text)}-character text; got {spans[:10]}")
    starts.setflags(write=False)
    stops.setflags(write=False)
    return TokenizedText(text, starts, stops)


def token_groups(tokens: TokenizedText, groups: Any = "token", name: str = "groups") -> list[np.ndarray]:
    """Players made of tokens: each a sorted array of token indices, every token in exactly one group.

    ``groups`` is "token" (one player per token), "phrase" (tokens between punctuation marks), "sentence"
    (tokens between sentence ends ``. ! ?`` and line breaks), or a sequence of groups given as lists of token
    indices (the tokens left out form one group each).
    """
    n = tokens.n_tokens
    if groups is None or (isinstance(groups, str) and groups == "token"):
        return [np.array([i]) for i in range(n)]
    if isinstance(groups, str):
        if groups not in GROUPINGS:
            raise InputError(f"{name}={groups!r} is not valid: expected one of {list(GROUPINGS)} or lists of "
                             "token indices")
        end = _PHRASE_END if groups == "phrase" else _SENTENCE_END
        gaps = tokens.gaps
        out, current = [], []
        for i in range(n):
            if current and end.search(gaps[i]):
                out.append(np.array(current))
                current = []
            current.append(i)
        if current:
            out.append(np.array(current))
        return out
    if not isinstance(groups, Sequence | np.ndarray):
        raise InputError(f"{name} must be one of {list(GROUPINGS)} or a sequence of lists of token indices; "
                         f"got {type(groups).__name__}")
    seen = np.zeros(n, dtype=bool)
    out = []
    for k, group in enumerate(groups):
        idx = np.unique(np.asarray(group, dtype=np.int64).ravel()) if np.size(group) else np.zeros(0, np.int64)
        if len(idx) == 0 or idx.min() < 0 or idx.max() >= n:
            raise InputError(f"{name}[{k}] must hold token indices in 0..{n - 1}; got {group!r}")
        if seen[idx].any():
            raise InputError(f"{name}[{k}] repeats tokens of an earlier group: {idx[seen[idx]].tolist()}")
        seen[idx] = True
        out.append(idx)
    out += [np.array([i]) for i in np.flatnonzero(~seen)]
    return sorted(out, key=lambda g: int(g[0]))


class Vocabulary:
    """Texts as integer ids for a torch model, with nbexplain's own tokens (so attributions sit on them).

    ``vocabulary(texts)`` returns an ``(N, L)`` int64 array: one id per token (lower-cased when
    ``lowercase``), 0 padding to the longest text, 1 for words not in the vocabulary; ``spans(text)``
    says where each id sits in the text. Build one with :meth:`fit`.

    Examples
    --------
    >>> vocab = Vocabulary.fit(["a good film", "a bad film"])
    >>> vocab(["a good day"])
    array([[2, 5, 1]])
    """

    PAD, UNKNOWN = 0, 1

    def __init__(self, words: Sequence[str], *, lowercase: bool = True, tokenizer: Any = "word",
                 min_length: int = 1) -> None:
        self.words = ["<pad>", "<unk>", *[str(w) for w in words]]
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise InputError("words must be distinct (and not '<pad>' or '<unk>')")
        self.lowercase = bool(lowercase)
        self.tokenizer = tokenizer
        self.min_length = check_int(min_length, "min_length", minimum=1)

    @classmethod
    def fit(cls, texts: Iterable[str], *, min_count: int = 1, lowercase: bool = True, tokenizer: Any = "word",
            min_length: int = 1) -> Vocabulary:
        """The vocabulary of the words that occur at least ``min_count`` times in ``texts`` (most frequent first)."""
        min_count = check_int(min_count, "min_count", minimum=1)
        counts: Counter = Counter()
        for text in texts:
            counts.update(w.lower() if lowercase else w for w in tokenize(text, tokenizer).tokens)
        words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(words, lowercase=lowercase, tokenizer=tokenizer, min_length=min_length)

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.words)} ids, lowercase={self.lowercase})"

    def ids(self, text: str) -> list[int]:
        """The ids of one text's tokens."""
        tokens = tokenize(text, self.tokenizer).tokens
        return [self.index.get(w.lower() if self.lowercase else w, self.UNKNOWN) for w in tokens]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where each id of :meth:`ids` sits in ``text``."""
        t = tokenize(text, self.tokenizer)
        return list(zip(t.starts.tolist(), t.stops.tolist(), strict=True))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self.ids(str(t)) for t in texts]
        out = np.full((len(rows), max([self.min_length, *map(len, rows)])), self.PAD, dtype=np.int64)
        for i, row in enumerate(rows):
            out[i, :len(row)] = row
        return out


def check_texts(texts: Any, name: str = "texts") -> list[str]:
    """``texts`` as a list of str (one string alone is refused: it would be read letter by letter)."""
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise InputError(f"{name} must be a sequence of strings; got {type(texts).__name__}")
    out = list(texts)
    bad = [type(t).__name__ for t in out if not isinstance(t, str)]
    if bad:
        raise InputError(f"{name} must hold strings only; got {bad[0]}")
    return out


TokenizerFn = Callable[[str], Sequence[tuple[int, int]]]

__all__ = ["GROUPINGS", "TOKENIZERS", "TokenizedText", "TokenizerFn", "Vocabulary", "check_texts", "token_groups",
           "tokenize"]
