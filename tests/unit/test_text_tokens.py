"""Tokens keep their spans: joining the gaps and tokens gives back the exact input string (Unicode, emoji,
HTML-looking text, line breaks), rendering a mask removes exactly those tokens, groups cover every token
once, and the vocabulary's ids sit on the displayed tokens."""

from __future__ import annotations

import numpy as np
import pytest

from nbexplain.errors import InputError
from nbexplain.inputs.text import Vocabulary, token_groups, tokenize

TEXTS = [
    "Not bad <b>at all</b> 👍🏽!",
    "<img src=x onerror=window.__xss=1> and <b>bold</b>",
    "it's well-made, 10/10 😀 — café naïve 日本語のテキスト",
    "👨‍👩‍👧 family\n\n\ttabs  and   spaces  ",
    "$5 off ${x} \\frac{1}{2} <script>alert(1)</script>",
    "",
    "   ",
    "word",
    "a\u200bb e\u0301 ﬁne",
]


def joined(t) -> str:
    return "".join(g + w for g, w in zip(t.gaps, [*t.tokens, ""], strict=True))


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("how", ["word", "whitespace", r"\w+", lambda s: [(i, i + 1) for i in range(len(s))]])
def test_gaps_and_tokens_join_back_to_the_exact_text(text, how):
    t = tokenize(text, how)
    assert joined(t) == text
    assert t.render(np.ones(len(t), bool)) == text
    for token, a, b in zip(t.tokens, t.starts, t.stops, strict=True):
        assert text[a:b] == token and token


def test_word_tokens_are_words_and_symbols_and_punctuation_stays_in_the_gaps():
    assert tokenize("Not bad <b>at all</b> 👍🏽!").tokens == ["Not", "bad", "b", "at", "all", "b", "👍🏽"]
    assert tokenize("it's well-made, 10/10 😀").tokens == ["it's", "well-made", "10", "10", "😀"]
    assert tokenize("👨‍👩‍👧 ok").tokens == ["👨‍👩‍👧", "ok"]  # one family emoji, joiners and all
    assert tokenize("costs $5").tokens == ["costs", "$", "5"]


def test_render_removes_or_masks_exactly_the_dropped_tokens():
    t = tokenize("The food was cold, the dessert great.")
    keep = np.ones(len(t), bool)
    keep[[1, 3]] = False
    assert t.render(keep) == "The  was , the dessert great."
    assert t.render(keep, "UNK") == "The UNK was UNK, the dessert great."
    many = t.render_many(np.stack([keep, ~keep]))
    assert many == ["The  was , the dessert great.", " food  cold,   ."]
    with pytest.raises(InputError, match=r"keep must be \(N, 7\)"):
        t.render_many(np.ones((2, 3), bool))


@pytest.mark.parametrize("mask", [None, "UNK"])
def test_render_many_is_each_row_joined_token_by_token(mask):
    t = tokenize("  One, two three: four five six seven eight nine ten eleven twelve thirteen.  ")
    keep = np.random.default_rng(0).random((50, len(t))) < 0.5
    gaps = t.gaps
    expected = [gaps[0] + "".join((w if k else mask or "") + g for w, k, g in zip(t.tokens, row, gaps[1:], strict=True))
                for row in keep]
    assert t.render_many(keep, mask) == expected
    assert t.render_many(keep[:0], mask) == [] and tokenize("  ").render_many(np.ones((2, 0), bool)) == ["  ", "  "]


def test_token_at_finds_the_token_under_a_character():
    t = tokenize("ab, cd")
    assert [t.token_at(i) for i in range(6)] == [0, 0, -1, -1, 1, 1]


def test_groups_phrases_sentences_and_lists_cover_every_token_once():
    t = tokenize("Great food. Bad service, slow! Yes")
    words = lambda groups: [[t.tokens[i] for i in g] for g in groups]  # noqa: E731
    assert words(token_groups(t, "sentence")) == [["Great", "food"], ["Bad", "service", "slow"], ["Yes"]]
    assert words(token_groups(t, "phrase")) == [["Great", "food"], ["Bad", "service"], ["slow"], ["Yes"]]
    assert words(token_groups(t, [[0, 1], [4]])) == [["Great", "food"], ["Bad"], ["service"], ["slow"], ["Yes"]]
    assert len(token_groups(t, "token")) == len(t)
    with pytest.raises(InputError, match=r"groups\[1\] repeats tokens"):
        token_groups(t, [[0, 1], [1, 2]])
    with pytest.raises(InputError, match=r"groups\[0\] must hold token indices in 0..5"):
        token_groups(t, [[9]])
    with pytest.raises(InputError, match="groups='paragraph' is not valid"):
        token_groups(t, "paragraph")


def test_bad_tokenizers_are_refused_with_a_reason():
    with pytest.raises(InputError, match="text must be a str"):
        tokenize(["a list"])
    with pytest.raises(InputError, match="valid regular expression"):
        tokenize("abc", "(")
    with pytest.raises(InputError, match="sorted, non-overlapping"):
        tokenize("abcdef", lambda s: [(0, 3), (2, 4)])
    with pytest.raises(InputError, match="another text"):
        tokenize("abc", tokenize("xyz"))


def test_vocabulary_ids_sit_on_the_displayed_tokens():
    vocab = Vocabulary.fit(["a good film", "a bad film", "A GOOD day"], min_length=4)
    assert vocab.words[:2] == ["<pad>", "<unk>"]
    ids = vocab(["a good day!", "zzz"])
    assert ids.shape == (2, 4) and ids.dtype == np.int64
    assert [vocab.words[i] for i in ids[0][:3]] == ["a", "good", "day"] and ids[0, 3] == vocab.PAD
    assert ids[1, 0] == vocab.UNKNOWN
    text = "a good day!"
    assert [text[a:b] for a, b in vocab.spans(text)] == tokenize(text).tokens
