"""Text explanations against independent references: exact Shapley values equal a brute-force enumeration of
token coalitions; on a linear bag-of-words model Shapley values equal the per-token contributions exactly and
LIME's weights rank them (Spearman >= 0.95); LIME equals the ``lime`` package's own surrogate on the same
samples; integrated gradients add up to f(text) - f(baseline) within Captum's convergence delta; anchors of a
model that is a rule are that rule with precision 1, and returned anchors keep their precision on 5,000 fresh
perturbations."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from scipy.stats import spearmanr

import nbexplain as nbx
from nbexplain.errors import InputError, NotDifferentiableError
from nbexplain.methods.coalitions.anchors import CoalitionSampler
from nbexplain.methods.coalitions.tokens import TokenGame, lime_text_coalitions

WEIGHTS = {"great": 2.0, "superb": 1.5, "good": 1.0, "fine": 0.5, "plot": 0.1, "the": 0.05, "acting": -0.2,
           "dull": -0.7, "bad": -1.2, "boring": -1.6, "awful": -2.1, "ending": -0.4, "was": 0.02}
LINEAR_TEXT = "The acting was great but the plot was dull and the ending awful, boring."


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def linear_scores(texts):
    """A bag-of-words logit: the sum of the words' weights (one column: a binary model's logit)."""
    return np.array([[sum(WEIGHTS.get(w, 0.0) for w in words(t))] for t in texts])


def rule_model(texts):
    """Positive iff the text contains "excellent" or "superb"."""
    positive = np.array([bool({"excellent", "superb"} & set(words(t))) for t in texts], dtype=float)
    p = 0.02 + 0.96 * positive
    return np.stack([1 - p, p], axis=1)


@pytest.fixture(scope="module")
def review_clf():
    return nbx.datasets.review_classifier()


def without(text: str, spans: list[tuple[int, int]], removed: set[int]) -> str:
    """The text with the spans in ``removed`` cut out (built from the spans, independently of render)."""
    out, last = [], 0
    for i, (a, b) in enumerate(spans):
        out.append(text[last:a])
        if i not in removed:
            out.append(text[a:b])
        last = b
    return "".join(out) + text[last:]


# -- Shapley values ------------------------------------------------------------------------------------------------
def test_exact_text_shapley_equals_a_brute_force_enumeration_of_token_coalitions(review_clf):
    text = "Cold food, rude staff, but a lovely view!"
    sv = nbx.shapley_text(review_clf, text, target="negative")
    spans = list(zip(sv.tokens.starts.tolist(), sv.tokens.stops.tolist(), strict=True))
    m = len(spans)
    assert sv.method == "exact" and m == 8
    neg = list(review_clf.classes_).index("negative")

    def v(kept: frozenset) -> float:
        return float(review_clf.predict_proba([without(text, spans, set(range(m)) - kept)])[0, neg])

    values = {frozenset(s): v(frozenset(s)) for k in range(m + 1) for s in itertools.combinations(range(m), k)}
    brute = np.zeros(m)
    for i in range(m):
        for s, value in values.items():
            if i not in s:
                brute[i] += math.factorial(len(s)) * math.factorial(m - len(s) - 1) / math.factorial(m) * (
                    values[s | {i}] - value)
    np.testing.assert_allclose(sv.values, brute, atol=1e-12)
    assert abs(sv.efficiency_gap) < 1e-12
    assert sv.full_value == pytest.approx(v(frozenset(range(m))))
    assert sv.base_value == pytest.approx(v(frozenset()))


def test_shapley_values_of_a_linear_bag_of_words_model_are_the_tokens_weights():
    sv = nbx.shapley_text(linear_scores, LINEAR_TEXT, target=1, output="score")
    expected = [WEIGHTS.get(t.lower(), 0.0) for t in sv.tokens.tokens]
    assert sv.method == "exact" and len(expected) == 14
    np.testing.assert_allclose(sv.values, expected, atol=1e-12)
    longer = LINEAR_TEXT + " The plot was good, the acting fine."  # 21 tokens: sampled permutations
    sampled = nbx.shapley_text(linear_scores, longer, target=1, output="score", n_permutations=4)
    assert sampled.method == "sampled" and sampled.std is not None
    np.testing.assert_allclose(sampled.values, [WEIGHTS.get(t.lower(), 0.0) for t in sampled.tokens.tokens], atol=1e-12)


def test_grouped_players_are_phrases_and_share_the_token_games_evaluations(review_clf):
    text = "The soup was cold. The bread was stale, the wine sour. Dessert, though, was wonderful!"
    game = TokenGame(review_clf, text)
    sv_tokens = nbx.shapley_text(game, method="sampled", n_permutations=20)
    before = game.n_evaluations
    sv = nbx.shapley_text(game, groups="sentence")
    assert sv.player_names == ["The soup was cold", "The bread was stale, the wine sour",
                               "Dessert, though, was wonderful"]
    assert sv.method == "exact" and abs(sv.efficiency_gap) < 1e-12
    assert game.n_evaluations - before <= 2 ** 3  # the empty and whole texts were cached by the token game
    assert sv.full_value == pytest.approx(sv_tokens.full_value)
    assert sv.base_value == pytest.approx(sv_tokens.base_value)
    assert len(sv.token_scores) == len(sv.tokens)


# -- LIME ----------------------------------------------------------------------------------------------------------
def test_lime_recovers_the_per_token_contributions_of_a_linear_model():
    lime = nbx.lime_text(linear_scores, LINEAR_TEXT, target=1, output="score", n_samples=3000)
    expected = [WEIGHTS.get(t.lower(), 0.0) for t in lime.tokens.tokens]
    assert spearmanr(lime.weights, expected).statistic >= 0.95
    assert lime.fidelity > 0.99  # a linear model is fitted almost exactly (the ridge penalty shrinks a little)


def test_lime_equals_the_lime_packages_surrogate_on_the_same_samples(review_clf):
    from lime.lime_base import LimeBase
    from sklearn.metrics import pairwise_distances

    text = "The screen cracked within a week and support never answered."
    game = TokenGame(review_clf, text)
    z = lime_text_coalitions(800, game.n_players, np.random.default_rng(3))
    ours = nbx.lime_text(game, coalitions=z)
    probabilities = review_clf.predict_proba(game.texts(z))
    distances = pairwise_distances(z.astype(float), z[:1].astype(float), metric="cosine").ravel() * 100
    base = LimeBase(lambda d: np.sqrt(np.exp(-(d**2) / 25**2)))  # LimeTextExplainer's kernel, width 25
    intercept, weights, score, local = base.explain_instance_with_data(
        z.astype(float), probabilities, distances, ours.target, game.n_players, feature_selection="none")
    reference = np.zeros(game.n_players)
    for j, w in weights:
        reference[j] = w
    np.testing.assert_allclose(ours.weights, reference, atol=1e-10)
    assert ours.intercept == pytest.approx(intercept, abs=1e-10)
    assert ours.fidelity == pytest.approx(score, abs=1e-10)
    assert ours.local_prediction == pytest.approx(float(np.ravel(local)[0]), abs=1e-10)


def test_lime_text_design_removes_between_one_and_all_players():
    z = lime_text_coalitions(4000, 9, np.random.default_rng(0))
    assert z[0].all()
    removed = (~z[1:]).sum(1)
    assert removed.min() == 1 and removed.max() == 9
    counts = np.bincount(removed, minlength=10)[1:]
    assert counts.min() > 0.8 * 4000 / 9  # uniform over 1..M, as lime's randint(1, M + 1)


# -- integrated gradients ------------------------------------------------------------------------------------------
def test_integrated_gradients_add_up_to_the_output_change_within_the_convergence_delta():
    import torch

    net = nbx.datasets.review_network()
    text = "The staff were rude and the room was dirty, but breakfast was fine."
    ig = nbx.attribute_text(net, text)
    ids = torch.as_tensor(net.tokenizer([text]))
    with torch.no_grad():
        fx = float(torch.softmax(net(ids), 1)[0, ig.target])
        fb = float(torch.softmax(net(torch.zeros_like(ids)), 1)[0, ig.target])
    assert ig.prediction == pytest.approx(fx, abs=1e-6) and ig.baseline_prediction == pytest.approx(fb, abs=1e-6)
    total = ig.values.sum() + ig.unassigned
    assert abs(total - (fx - fb)) <= abs(ig.convergence_delta) + 1e-6
    assert abs(ig.convergence_delta) < 0.05 * abs(fx - fb) + 1e-3
    assert len(ig.values) == len(ig.tokens) == 13
    gxi = nbx.attribute_text(net, text, method="gradient_x_input", output="score")
    assert gxi.baseline_prediction is None and np.any(gxi.values != 0)
    assert "Σ attributions" in ig.quality()[0]


def test_gradient_methods_need_a_torch_model_with_a_tokenizer(review_clf):
    with pytest.raises(NotDifferentiableError, match="torch module with a tokenizer"):
        nbx.attribute_text(review_clf, "fine")
    import torch

    with pytest.raises(InputError, match="needs tokenizer="):
        nbx.attribute_text(torch.nn.Sequential(torch.nn.Embedding(5, 2)), "fine")


# -- anchors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [None, "UNK"])
def test_the_anchor_of_a_rule_model_is_the_rule_with_precision_one(mask):
    text = "The pasta was excellent and the wine superb, though the room was noisy."
    a = nbx.anchor_text(rule_model, text, mask=mask)
    assert a.target_name == "class 1" and len(a.anchor) == 1
    assert a.words[0] in ("excellent", "superb")
    assert a.precision == 1.0 and a.meets_threshold and a.coverage == 0.5
    assert all("excellent" in t or "superb" in t for t in a.kept) and a.flipped == []
    negative = nbx.anchor_text(rule_model, "The room was noisy and the pasta cold.")
    assert negative.anchor == () and negative.precision == 1.0  # nothing makes it positive


def test_returned_anchors_keep_their_precision_on_5000_fresh_perturbations(review_clf):
    texts = ["Terrible service and the food was bland.", "I would not recommend this phone to anyone.",
             "The plot was boring and the acting was awful.", "Rude staff.",
             "The pasta was excellent and the wine superb, though the room was noisy."]
    for text, model in [*[(t, review_clf) for t in texts[:4]], (texts[4], rule_model)]:
        a = nbx.anchor_text(model, text)
        assert a.meets_threshold, a.summary()
        game = TokenGame(model, text)
        required = np.zeros((5000, game.n_players), bool)
        required[:, list(a.anchor)] = True
        holds, agrees = CoalitionSampler(game, a.p_present, seed=12345).sample(required)
        assert holds[:, list(a.anchor)].all()
        assert agrees.mean() >= a.threshold, (text, a.summary(), agrees.mean())


# -- results and errors --------------------------------------------------------------------------------------------
def test_results_draw_tabulate_and_state_their_quality(review_clf):
    text = "A dull, <b>lifeless</b> film with a $5 budget 😴"
    results = [nbx.lime_text(review_clf, text, n_samples=300), nbx.shapley_text(review_clf, text),
               nbx.anchor_text(review_clf, text, max_samples=1500)]
    for r in results:
        frame = r.to_frame()
        assert list(frame["token"]) == r.tokens.tokens
        assert (frame["start"].to_numpy() == r.tokens.starts).all()
        assert isinstance(r.summary(), str) and r.quality()
        assert r.plot() is not None
        assert r._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "fidelity (weighted R²)" in results[0].quality()[0]
    assert "efficiency gap" in results[1].quality()[0]
    assert results[2].quality()[0].startswith("precision") and "in_anchor" in results[2].to_frame()


def test_bad_arguments_name_what_was_expected(review_clf):
    with pytest.raises(TypeError):
        nbx.lime_text(review_clf, "fine", n_sample=10)  # a misspelt keyword is an error
    with pytest.raises(InputError, match="did you mean 'exact'"):
        nbx.shapley_text(review_clf, "fine", method="exactt")
    with pytest.raises(InputError, match="text has no tokens"):
        nbx.lime_text(review_clf, " ... ")
    with pytest.raises(InputError, match="text is required"):
        nbx.lime_text(review_clf)
    game = TokenGame(review_clf, "fine food")
    with pytest.raises(InputError, match="not both"):
        nbx.lime_text(game, "other text")
    with pytest.raises(InputError, match="mask must be None"):
        nbx.anchor_text(review_clf, "fine food", mask=3)
    with pytest.raises(InputError, match="target='neutral' is not a class name"):
        nbx.shapley_text(review_clf, "fine food", target="neutral")
