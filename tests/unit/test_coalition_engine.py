"""The generic coalition engine on toy games whose answers are known: a model that reads the coalition itself
(no image), so anchors, LIME, Shapley values and curves are checked against rules and closed forms, with
scikit-learn's Ridge and pairwise distances as the independent LIME reference, exact enumeration for
anchors' precision, and a counting model for the cache shared by a game's views."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import pairwise_distances

from nbexplain._types import LazyBatch
from nbexplain.adapters.lazy import LazyRows
from nbexplain.errors import InputError
from nbexplain.methods.coalitions.anchors import AnchorSampler, CoalitionSampler, anchor_search
from nbexplain.methods.coalitions.curves import perturbation_curves, ranking_order
from nbexplain.methods.coalitions.game import CoalitionGame, as_game
from nbexplain.methods.coalitions.lime import lime
from nbexplain.methods.coalitions.masks import all_coalitions
from nbexplain.methods.coalitions.shapley import shapley


class Coalitions(LazyRows):
    """The model input of a coalition is the coalition itself, as float32 0/1 (built lazily)."""

    def __init__(self, z: np.ndarray):
        super().__init__(len(z), z.shape[1:], np.float32)
        self.z = z

    def build(self, start: int, stop: int) -> np.ndarray:
        return self.z[start:stop].astype(np.float32)


class ToyGame(CoalitionGame):
    """A new player set in four lines: players are the model's input columns."""

    def inputs(self, coalitions, fill_index):
        return Coalitions(coalitions)


class CountingModel:
    """Logits ``f(z)`` for classes (rule false, rule true) or any callable's (N, K); counts the rows it sees."""

    def __init__(self, logits):
        self.logits = logits
        self.rows = 0

    def __call__(self, x):
        self.rows += len(x)
        return self.logits(np.asarray(x) > 0.5)


def rule_game(rule, m: int = 8, **kwargs) -> tuple[ToyGame, CountingModel]:
    model = CountingModel(lambda z: np.stack([~rule(z), rule(z)], 1).astype(np.float64) * 6.0)
    return ToyGame(model, m, **kwargs), model


def additive_game(c: np.ndarray, b: float) -> ToyGame:
    """Class 1's score is ``z @ c + b`` (class 0's is 0): with output="score" the game is additive."""
    model = CountingModel(lambda z: np.stack([np.zeros(len(z)), z @ c + b], 1))
    return ToyGame(model, len(c), target=1, output="score")


# -- anchors -----------------------------------------------------------------------------------------------
def test_anchor_of_an_exact_rule_is_the_rule():
    game, _ = rule_game(lambda z: z[:, 2] & z[:, 5])
    assert game.target == 1 and isinstance(CoalitionSampler(game), AnchorSampler)
    found = anchor_search(CoalitionSampler(game, seed=0))
    assert sorted(found.anchor) == [2, 5] and found.meets_threshold
    assert found.precision == 1.0 and found.coverage == 0.25
    assert found.precision_lower > found.threshold - found.tolerance


def exact_precision(rule, anchor, m: int) -> float:
    """P(rule | anchor's players present), the others present with probability 1/2: by enumeration."""
    z = all_coalitions(m)
    z = z[z[:, list(anchor)].all(1)]
    return float(rule(z).mean())


@pytest.mark.parametrize("seed", range(3))
def test_returned_anchor_is_precise_on_fresh_samples_and_exactly(seed):
    # player 0 and any one of 1..3: P(rule | {0}) = 7/8 < 0.95 - tolerance, P(rule | {0, j}) = 1 (j in 1..3)
    rule = lambda z: z[:, 0] & (z[:, 1] | z[:, 2] | z[:, 3])  # noqa: E731
    game, _ = rule_game(rule)
    found = anchor_search(CoalitionSampler(game, seed=seed), threshold=0.95)
    assert found.anchor[0] == 0 and len(found.anchor) == 2 and found.anchor[1] in (1, 2, 3)
    assert exact_precision(rule, found.anchor, 8) == 1.0 >= found.threshold
    fresh = np.random.default_rng(100 + seed).random((5000, 8)) < 0.5
    fresh[:, list(found.anchor)] = True
    assert np.mean(game.scores(fresh).argmax(1) == game.target) >= found.threshold

    # a soft rule: precisions are fractions; the bandit guarantees threshold - tolerance
    weights = np.random.default_rng(seed).random(8) + 0.2
    soft = lambda z: z.astype(float) @ weights > 0.55 * weights.sum()  # noqa: E731
    game, _ = rule_game(soft)
    found = anchor_search(CoalitionSampler(game, seed=seed), threshold=0.9, max_samples=20000)
    assert found.meets_threshold and exact_precision(soft, found.anchor, 8) >= found.threshold - found.tolerance
    fresh = np.random.default_rng(200 + seed).random((20000, 8)) < 0.5
    fresh[:, list(found.anchor)] = True
    assert np.mean(soft(fresh)) >= found.threshold - found.tolerance - 3 * np.sqrt(0.25 / 20000)


def test_anchor_search_is_generic_over_samplers_and_checks_them():
    class Predicates:  # a tabular-like sampler: players hold with their own frequencies in "the data"
        n_players = 5
        frequency = np.array([0.9, 0.5, 0.3, 0.8, 0.6])
        rng = np.random.default_rng(0)

        def sample(self, required):
            holds = (self.rng.random(required.shape) < self.frequency) | required
            return holds, holds[:, 1] & holds[:, 3]

        def coverage(self, anchor):
            return float(np.prod(self.frequency[list(anchor)]))

    found = anchor_search(Predicates())
    assert sorted(found.anchor) == [1, 3] and found.coverage == pytest.approx(0.4)

    class Broken(Predicates):
        def sample(self, required):
            holds, agrees = super().sample(required)
            return holds & ~required, agrees  # the required players do not hold

    with pytest.raises(InputError, match="the sampler must return holds"):
        anchor_search(Broken())


def test_anchor_budget_and_validation():
    game, model = rule_game(lambda z: z.astype(float) @ np.linspace(0.1, 1, 8) > 2.5)
    rows = model.rows
    found = anchor_search(CoalitionSampler(game, seed=0), max_samples=300, batch_size=50, min_samples_start=50)
    assert found.n_samples <= 300 and model.rows - rows <= 300
    with pytest.raises(InputError, match="p_present must be a number strictly between 0 and 1"):
        CoalitionSampler(game, p_present=1.0)
    with pytest.raises(InputError, match="tau must be a number strictly between 0 and 1"):
        anchor_search(CoalitionSampler(game), tau=0)
    with pytest.raises(InputError, match="max_samples must be an int >= 1"):
        anchor_search(CoalitionSampler(game), max_samples=0)


# -- LIME ---------------------------------------------------------------------------------------------------
def test_lime_on_an_additive_game_equals_closed_form_and_sklearn():
    c = np.array([0.8, -1.5, 0.3, 2.0, -0.4, 0.0, 1.1])
    game = additive_game(c, 0.7)
    exact = lime(game, 300, alpha=1e-10, seed=1)
    np.testing.assert_allclose(exact.weights, c, atol=1e-8)
    assert exact.intercept == pytest.approx(0.7) and exact.score == pytest.approx(1.0)
    assert exact.local_prediction == pytest.approx(0.7 + c.sum()) and exact.prediction == pytest.approx(0.7 + c.sum())

    fit = lime(game, 300, seed=1)  # alpha = 1: scikit-learn's Ridge with LIME's kernel weights
    z = fit.coalitions
    assert z[0].all() and z.shape == (300, 7)
    distance = pairwise_distances(z.astype(float), np.ones((1, 7)), metric="cosine").ravel()
    weight = np.sqrt(np.exp(-(distance**2) / 0.25**2))
    np.testing.assert_allclose(fit.sample_weight, weight, rtol=1e-12)
    ridge = Ridge(alpha=1.0).fit(z, z @ c + 0.7, sample_weight=weight)
    np.testing.assert_allclose(fit.weights, ridge.coef_, rtol=1e-9, atol=1e-12)
    assert fit.intercept == pytest.approx(ridge.intercept_)
    assert fit.score == pytest.approx(ridge.score(z, z @ c + 0.7, sample_weight=weight))


def test_lime_takes_a_value_function_with_several_outputs():
    c = np.array([[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]])
    fit = lime(lambda z: z @ c, 100, n_players=3, alpha=1e-10)
    np.testing.assert_allclose(fit.weights, c, atol=1e-8)
    np.testing.assert_allclose(fit.score, [1.0, 1.0])
    with pytest.raises(InputError, match="n_players is required with a value function"):
        lime(lambda z: z @ c, 100)
    with pytest.raises(InputError, match="n_samples must be an int >= 2"):
        lime(lambda z: z @ c, 1, n_players=3)


# -- Shapley and curves ---------------------------------------------------------------------------------------
def test_shapley_of_a_game_is_exact_on_an_additive_game():
    c = np.array([0.8, -1.5, 0.3, 2.0, -0.4])
    game = additive_game(c, 0.7)
    for method in ("auto", "exact", "sampled", "kernel"):
        sv = shapley(game, method, n_permutations=4, n_samples=32)
        np.testing.assert_allclose(sv.values[:, 0], c, atol=1e-9)
    exact = shapley(game)
    assert exact.method == "exact" and exact.table.shape == (32, 1)
    np.testing.assert_allclose(exact.table[:, 0], all_coalitions(5) @ c + 0.7)
    assert shapley(lambda z: z @ c, n_players=5, max_exact=4).method == "sampled"


def test_curves_of_an_additive_game_equal_cumulative_sums():
    c = np.array([0.8, -1.5, 0.3, 2.0, -0.4, 1.1])
    game = additive_game(c, 0.7)
    order = ranking_order(c, 6)
    curves = perturbation_curves(game, order)
    steps = np.concatenate([[0.0], np.cumsum(c[order])])
    full = 0.7 + c.sum()
    np.testing.assert_allclose(curves.deletion, full - steps, atol=1e-12)
    np.testing.assert_allclose(curves.insertion, 0.7 + steps, atol=1e-12)
    x = np.arange(7) / 6
    assert curves.auc_insertion == pytest.approx(np.sum((curves.insertion[1:] + curves.insertion[:-1]) / 2 * np.diff(x)))
    assert curves.auc_deletion < perturbation_curves(game, order[::-1]).auc_deletion
    two = perturbation_curves(lambda z: np.stack([z @ c, -(z @ c)], 1), order, n_players=6)
    np.testing.assert_allclose(two.auc_deletion, [curves.auc_deletion - 0.7, 0.7 - curves.auc_deletion])
    with pytest.raises(InputError, match="order must be a permutation of 0..5"):
        perturbation_curves(game, [0, 0, 1, 2, 3, 4])


# -- the game: cache, views, lazy inputs ----------------------------------------------------------------------
def test_cache_is_shared_across_views_and_inputs_are_lazy():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3))
    model = CountingModel(lambda z: z @ w)
    game = ToyGame(model, 6)
    assert isinstance(game.inputs(np.ones((2, 6), bool), np.zeros(2, int)), LazyBatch)
    z = rng.random((40, 6)) < 0.5
    first = game.value(z)
    rows, evaluations = model.rows, game.n_evaluations
    other = game.view(target=(game.target + 1) % 3)
    scores = game.view(output="score")
    assert game.view() is game and other._cache is game._cache is scores._cache
    probabilities = np.exp(z @ w) / np.exp(z @ w).sum(1, keepdims=True)
    np.testing.assert_allclose(first, probabilities[:, game.target], rtol=1e-12)
    np.testing.assert_allclose(other.value(z), probabilities[:, other.target], rtol=1e-12)
    np.testing.assert_allclose(scores.value(z[::-1]), (z @ w)[::-1, game.target], rtol=1e-12)
    assert model.rows == rows and other.n_evaluations == game.n_evaluations == evaluations  # no model call
    other.value(~z)  # new coalitions through a view count for every view
    assert game.n_evaluations - evaluations == other.n_evaluations - evaluations == model.rows - rows > 0
    with pytest.raises(InputError, match="output='logit' is not valid"):
        game.view(output="logit")
    with pytest.raises(InputError, match="target=3 is out of range"):
        game.view(target=3)
    with pytest.raises(InputError, match="fill_index must be in 0..0"):
        game.value(z, fill_index=1)


def test_outputs_run_each_new_coalition_once_and_remember_false_leaves_the_cache_alone():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 2))
    model = CountingModel(lambda z: z @ w)
    game = ToyGame(model, 5)
    seen = rng.random((6, 5)) < 0.5
    game.outputs(seen)
    z = np.concatenate([seen[::2], rng.random((30, 5)) < 0.5, seen[:3]])  # cached, new and repeated rows
    rows, cached, hits = model.rows, len(game._cache), game.n_cache_hits
    out = game.outputs(z, remember=False)
    np.testing.assert_allclose(out, z @ w, rtol=1e-12)
    distinct = {r.tobytes() for r in z}
    new = distinct - {r.tobytes() for r in seen} - {np.ones(5, bool).tobytes()}
    assert model.rows - rows == len(new) and game.n_cache_hits - hits == len(z) - len(new)
    assert len(game._cache) == cached  # nothing stored
    np.testing.assert_array_equal(game.outputs(z), out)
    assert len(game._cache) == cached + len(new) and game.cached(z) is not None


def test_as_game_wraps_value_functions_and_checks_them():
    g = as_game(lambda z: z.sum(1), 4)
    np.testing.assert_array_equal(g.value(np.eye(4, dtype=bool)), np.ones(4))
    with pytest.raises(InputError, match="value_fn must be callable"):
        as_game(3, 4)
    with pytest.raises(InputError, match=r"value_fn returned shape \(1,\) for 2 coalitions"):
        as_game(lambda z: np.zeros(1), 3).value(np.ones((2, 3), bool))
    with pytest.raises(InputError, match="coalitions must have 4 columns"):
        g.value(np.ones((2, 3), bool))
