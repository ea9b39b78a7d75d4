"""Generic Shapley values against independent references: brute-force enumeration of all M! permutations,
the axioms (efficiency, symmetry, dummy, linearity), closed forms of additive games, and convergence of the
sampling estimators to the exact values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nbexplain.errors import InputError
from nbexplain.methods.coalitions.masks import all_coalitions, coalition_index, pack_keys, popcount
from nbexplain.methods.coalitions.shapley import exact_shapley, kernel_shap, sampled_shapley


def random_game(m: int, k: int = 2, seed: int = 0) -> np.ndarray:
    """A value table with interactions of every order (random values per coalition)."""
    return np.random.default_rng(seed).normal(size=(2**m, k))


def brute_force(table: np.ndarray, m: int) -> np.ndarray:
    """Average marginal contribution over every one of the M! orderings (the definition)."""
    phi = np.zeros((m, table.shape[1]))
    for perm in itertools.permutations(range(m)):
        mask = 0
        for player in perm:
            phi[player] += table[mask | (1 << player)] - table[mask]
            mask |= 1 << player
    return phi / math.factorial(m)


def game_fn(table: np.ndarray):
    """The value function of a table game: coalitions -> rows of the table by bitmask."""
    calls = []

    def value_fn(z):
        calls.append(len(z))
        return table[coalition_index(z)]

    value_fn.calls = calls
    return value_fn


# -- coalitions --------------------------------------------------------------------------------------------
def test_all_coalitions_row_b_is_bitmask_b():
    m = 5
    z = all_coalitions(m)
    assert z.shape == (32, 5) and z.dtype == bool
    for b in range(32):
        assert [bool(b & (1 << i)) for i in range(m)] == z[b].tolist()
    np.testing.assert_array_equal(coalition_index(z), np.arange(32))
    np.testing.assert_array_equal(popcount(np.arange(32)), z.sum(1))
    assert len(set(pack_keys(z))) == 32


def test_coalition_validation_names_the_argument():
    with pytest.raises(InputError, match="n_players must be a positive int; got 0"):
        all_coalitions(0)
    with pytest.raises(InputError, match="n_players=30 is too large"):
        all_coalitions(30)
    with pytest.raises(InputError, match="coalitions must hold booleans"):
        coalition_index(np.array([[0, 2]]))


# -- exact ---------------------------------------------------------------------------------------------------
def test_exact_equals_brute_force_permutations_for_m6():
    m = 6
    table = random_game(m, k=3)
    sv = exact_shapley(table)
    np.testing.assert_allclose(sv.values, brute_force(table, m), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(sv.base_value, table[0])
    np.testing.assert_array_equal(sv.full_value, table[-1])
    assert sv.n_evaluations == 64 and sv.std is None and sv.method == "exact"


@pytest.mark.parametrize("m", [1, 2, 3, 8])
def test_efficiency(m):
    table = random_game(m, k=2, seed=m)
    sv = exact_shapley(table)
    np.testing.assert_allclose(sv.values.sum(0), table[-1] - table[0], atol=1e-10)
    np.testing.assert_allclose(sv.efficiency_gap, 0, atol=1e-10)


def test_symmetry_and_dummy_axioms():
    m = 6
    z = all_coalitions(m)
    rng = np.random.default_rng(3)
    # players 1 and 4 are interchangeable; player 5 is a dummy (never changes the value)
    core = z[:, [0, 1, 2, 3, 4]].copy()
    key = core[:, [0, 2, 3]] @ np.array([1, 2, 4]) * 3 + core[:, 1].astype(int) + core[:, 4]
    values = rng.normal(size=key.max() + 1)[key]
    sv = exact_shapley(values)
    assert sv.values[1, 0] == pytest.approx(sv.values[4, 0], abs=1e-12)
    assert sv.values[5, 0] == pytest.approx(0.0, abs=1e-12)
    assert abs(sv.values[0, 0]) > 1e-3  # a non-trivial game


def test_linearity_and_additive_closed_form():
    m = 7
    z = all_coalitions(m).astype(float)
    a, b = random_game(m, 1, 1), random_game(m, 1, 2)
    np.testing.assert_allclose(exact_shapley(a + 2 * b).values,
                               exact_shapley(a).values + 2 * exact_shapley(b).values, atol=1e-10)
    contributions = np.array([0.5, -1.0, 2.0, 0.0, 3.0, -0.25, 1.5])
    sv = exact_shapley(z @ contributions + 4.0)
    np.testing.assert_allclose(sv.values[:, 0], contributions, atol=1e-12)
    # a pure pairwise interaction is split equally between its two players
    sv = exact_shapley(z[:, 0] * z[:, 3] * 6.0)
    np.testing.assert_allclose(sv.values[:, 0], [3, 0, 0, 3, 0, 0, 0], atol=1e-12)


def test_exact_validates_the_table():
    with pytest.raises(InputError, match="values must have 2\\*\\*M rows"):
        exact_shapley(np.zeros((6, 1)))
    with pytest.raises(InputError, match="NaN"):
        exact_shapley(np.array([0.0, np.nan]))


# -- sampled -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("antithetic", [True, False])
def test_sampled_converges_to_exact(antithetic):
    m = 8
    table = random_game(m, k=2, seed=5)
    exact = exact_shapley(table).values
    errors = []
    for p in (20, 200, 2000, 20000):
        sv = sampled_shapley(game_fn(table), m, p, antithetic=antithetic, seed=1)
        errors.append(np.abs(sv.values - exact).max())
        np.testing.assert_allclose(sv.efficiency_gap, 0, atol=1e-9)  # every permutation is efficient
        # the standard errors are honest: errors are within a few of them
        assert np.all(np.abs(sv.values - exact) < 5 * sv.std + 1e-12)
    assert errors[-1] < errors[0] / 10, errors
    assert errors[-1] < 0.05 * np.abs(exact).max()


def test_sampled_is_exact_on_additive_games_and_batches_chunks():
    m = 10
    contributions = np.linspace(-2, 3, m)
    table = all_coalitions(m) @ contributions
    fn = game_fn(table)
    sv = sampled_shapley(fn, m, 7, seed=0)
    np.testing.assert_allclose(sv.values[:, 0], contributions, atol=1e-12)
    np.testing.assert_allclose(sv.std, 0, atol=1e-12)
    assert sv.n_evaluations == 2 + 8 * (m - 1)  # 7 rounded up to 4 antithetic pairs
    assert fn.calls == [2, 8 * (m - 1)]  # the ends once, then one call for the whole chunk


def test_antithetic_pairs_reduce_variance_on_a_nearly_additive_game():
    m = 8
    z = all_coalitions(m).astype(float)
    table = z @ np.linspace(-1, 2, m) + 0.3 * (z[:, 0] * z[:, 1]) + 0.1 * z.sum(1) ** 2
    exact = exact_shapley(table).values
    err = {}
    for anti in (True, False):
        runs = [sampled_shapley(game_fn(table), m, 40, antithetic=anti, seed=s).values for s in range(30)]
        err[anti] = np.mean([(r - exact) ** 2 for r in runs])
    assert err[True] < err[False] / 2, err


def test_sampled_validates_and_reports_progress():
    seen = []
    sampled_shapley(lambda z: z.sum(1), 4, 10, seed=0, progress=seen.append)
    assert seen and seen[-1] == 1.0
    with pytest.raises(InputError, match="n_permutations must be an int >= 1"):
        sampled_shapley(lambda z: z.sum(1), 4, 0)
    with pytest.raises(InputError, match="value_fn must be callable"):
        sampled_shapley(None, 4, 2)
    with pytest.raises(InputError, match="value_fn returned shape"):
        sampled_shapley(lambda z: np.zeros((1, 1)), 4, 2)


# -- kernel --------------------------------------------------------------------------------------------------
def test_kernel_shap_with_full_enumeration_is_exact():
    m = 7
    table = random_game(m, k=2, seed=9)
    sv = kernel_shap(game_fn(table), m, 2**m, seed=0)
    np.testing.assert_allclose(sv.values, exact_shapley(table).values, atol=1e-9)
    assert sv.n_evaluations == 2**m


def test_kernel_shap_sampled_is_efficient_and_close():
    m = 10
    table = random_game(m, k=1, seed=4) * 0.2 + all_coalitions(m) @ np.linspace(-1, 1, m)[:, None]
    exact = exact_shapley(table).values
    sv = kernel_shap(game_fn(table), m, 800, seed=1)
    np.testing.assert_allclose(sv.efficiency_gap, 0, atol=1e-9)
    assert np.abs(sv.values - exact).max() < 0.1
    contributions = np.arange(m) - 4.5
    sv = kernel_shap(lambda z: z @ contributions, m, 50, seed=2)
    np.testing.assert_allclose(sv.values[:, 0], contributions, atol=1e-9)


def test_kernel_shap_validates():
    with pytest.raises(InputError, match="n_players must be at least 2"):
        kernel_shap(lambda z: z.sum(1), 1, 10)
    with pytest.raises(InputError, match="n_samples must be an int >= 4"):
        kernel_shap(lambda z: z.sum(1), 3, 2)
