"""ALE (first and second order) against closed forms, a brute-force loop, and the PDP failure it fixes."""

from __future__ import annotations

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.errors import InputError


def additive(batch):
    return batch[:, 0] ** 2 + 3 * batch[:, 1]


def interaction(batch):
    return batch[:, 0] * batch[:, 1]


@pytest.fixture(scope="module")
def uniform():
    return np.random.default_rng(0).uniform(-1, 1, size=(4000, 3))


def test_ale_of_x2_is_linear_with_slope_3_and_ale_of_x1_recovers_x1_squared(uniform):
    a2 = nbx.ale(additive, uniform, 1)
    slopes = np.diff(a2.effect) / np.diff(a2.edges[0])
    np.testing.assert_allclose(slopes, 3.0, atol=1e-9)
    a1 = nbx.ale(additive, uniform, 0, bins=30)
    offset = a1.effect - a1.edges[0] ** 2  # x1^2 up to the centring constant
    np.testing.assert_allclose(offset, offset[0], atol=1e-9)
    assert len(a1.edges[0]) == 31 and a1.counts.sum() == len(uniform)
    # centred: the count-weighted mean of the bins (each at the mean of its edges) is 0
    for a in (a1, a2):
        mid = (a.effect[1:] + a.effect[:-1]) / 2
        assert abs(np.sum(mid * a.counts) / a.counts.sum()) < 1e-12
    np.testing.assert_allclose(a1(np.array([0.25])), 0.25**2 + offset[0], atol=5e-3)  # linear between edges


def brute_force_ale(f, X, j, bins):
    """ALEPlot's estimator written as plain loops (an independent reference)."""
    x = X[:, j]
    z = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1), method="inverted_cdf"))
    k = len(z) - 1
    local, counts = np.zeros(k), np.zeros(k)
    for i in range(len(X)):
        b = 0
        while b < k - 1 and x[i] > z[b + 1]:
            b += 1
        lo, hi = X[i].copy(), X[i].copy()
        lo[j], hi[j] = z[b], z[b + 1]
        local[b] += f(hi[None])[0] - f(lo[None])[0]
        counts[b] += 1
    local = np.where(counts > 0, local / np.maximum(counts, 1), 0)
    acc = np.concatenate([[0.0], np.cumsum(local)])
    return z, acc - np.sum((acc[1:] + acc[:-1]) / 2 * counts) / counts.sum()


def test_ale_equals_a_brute_force_loop_on_a_tree_model_with_ties():
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(5)
    X = np.column_stack([np.round(rng.normal(size=300), 1), rng.normal(size=300), rng.normal(size=300)])
    y = np.sin(2 * X[:, 0]) + X[:, 0] * X[:, 1] + 0.1 * rng.normal(size=300)
    gbr = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, y)
    for j, bins in [(0, 15), (1, 20)]:
        z, expected = brute_force_ale(gbr.predict, X, j, bins)
        a = nbx.ale(gbr, X, j, bins=bins)
        np.testing.assert_array_equal(a.edges[0], z)
        np.testing.assert_allclose(a.effect, expected, atol=1e-10)


def test_ale_stays_faithful_under_correlation_where_pdp_extrapolates():
    """The survey's documented failure of PDP: with x2 ≈ x1, PDP averages over (x1 high, x2 low) rows that
    never occur. The model is x1 + 100 (x1 - x2)^2: on the data (x2 ≈ x1) it is about x1, a slope of 1;
    off the data it explodes. PDP reports a large U; ALE, using only rows inside each bin, the slope 1."""
    rng = np.random.default_rng(1)
    x1 = rng.uniform(0, 1, 3000)
    X = np.column_stack([x1, x1 + rng.normal(0, 0.02, 3000)])

    def f(b):
        return b[:, 0] + 100 * (b[:, 0] - b[:, 1]) ** 2

    on_data = f(X)
    assert np.mean(np.abs(on_data - X[:, 0])) < 0.1  # on the data the model is about the line x1
    a = nbx.ale(f, X, 0, bins=20)
    ale_slope = np.polyfit(a.edges[0], a.effect, 1)[0]
    assert abs(ale_slope - 1.0) < 0.1
    assert np.max(np.abs(a.effect - (a.edges[0] - np.mean(a.edges[0])))) < 0.15
    pd = nbx.partial_dependence(f, X, 0, grid_resolution=20)
    bend = pd.average - np.polyval(np.polyfit(pd.grid[0], pd.average, 1), pd.grid[0])
    assert np.ptp(bend) > 10  # PDP: a U-shape of height ~ 100 * 0.45^2, which no data supports
    # closed form of the PDP: E_x2[f] = x + 100 ((x - mean x2)^2 + var x2)
    closed = pd.grid[0] + 100 * ((pd.grid[0] - X[:, 1].mean()) ** 2 + X[:, 1].var())
    np.testing.assert_allclose(pd.average, closed, rtol=1e-10)


def test_second_order_ale_recovers_a_pure_interaction(uniform):
    a = nbx.ale(interaction, uniform, [0, 1], bins=12)
    z, w = a.edges
    assert a.effect.shape == (len(z), len(w)) and a.order == 2
    # every cell's second difference is exactly the model's: (z_k - z_{k-1}) (w_l - w_{l-1})
    mixed = a.effect[1:, 1:] - a.effect[:-1, 1:] - a.effect[1:, :-1] + a.effect[:-1, :-1]
    np.testing.assert_allclose(mixed, np.outer(np.diff(z), np.diff(w)), atol=1e-10)
    # with independent features the interaction-only effect is (x1 - mean)(x2 - mean), up to the
    # sampling noise of the per-bin means used to remove the main effects (~0.03 per unit of x)
    mu1, mu2 = uniform[:, 0].mean(), uniform[:, 1].mean()
    np.testing.assert_allclose(a.effect, np.outer(z - mu1, w - mu2), atol=0.08)
    assert np.corrcoef(a.effect.ravel(), np.outer(z - mu1, w - mu2).ravel())[0, 1] > 0.999
    # adding main effects changes nothing: the second-order ALE keeps only the interaction
    both = nbx.ale(lambda b: interaction(b) + additive(b), uniform, [0, 1], bins=12)
    np.testing.assert_allclose(both.effect, a.effect, atol=1e-9)
    # and an additive model has no interaction at all
    np.testing.assert_allclose(nbx.ale(additive, uniform, [0, 1], bins=12).effect, 0, atol=1e-9)
    assert a.counts.sum() == len(uniform)


def test_second_order_ale_fills_empty_cells_from_their_nearest_neighbour():
    rng = np.random.default_rng(2)
    x1 = rng.uniform(0, 1, 2000)
    X = np.column_stack([x1, x1 + rng.normal(0, 0.05, 2000)])  # most off-diagonal cells are empty
    a = nbx.ale(interaction, X, [0, 1], bins=8)
    assert (a.counts == 0).sum() > 20 and np.all(np.isfinite(a.effect))
    z, w = a.edges
    mixed = a.effect[1:, 1:] - a.effect[:-1, 1:] - a.effect[1:, :-1] + a.effect[:-1, :-1]
    full = a.counts > 0
    np.testing.assert_allclose(mixed[full], np.outer(np.diff(z), np.diff(w))[full], atol=1e-10)
    from nbexplain.methods.effects.ale import fill_empty_cells

    delta = np.arange(9.0).reshape(3, 3)
    counts = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 1]])
    filled = fill_empty_cells(delta, counts)
    assert filled[0, 1] == 0 and filled[2, 1] == 8 and filled[0, 0] == 0 and filled[2, 2] == 8


def test_categorical_ale_steps_between_neighbouring_levels():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.integers(0, 3, 600), rng.normal(size=600)])

    def f(b):
        return np.array([0.0, 2.0, 7.0])[b[:, 0].astype(int)] + b[:, 1]

    a = nbx.ale(f, X, 0)
    assert a.categorical and a.edges[0].tolist() == [0, 1, 2]
    np.testing.assert_allclose(np.diff(a.effect), [2.0, 5.0], atol=1e-12)
    np.testing.assert_allclose(np.sum(a.effect * a.counts), 0, atol=1e-9)
    assert a.counts.tolist() == np.bincount(X[:, 0].astype(int)).tolist()


def test_ale_predicts_every_row_twice_in_one_batch(uniform):
    calls = []

    def f(b):
        calls.append(len(b))
        return additive(b)

    nbx.ale(f, uniform[:3000], 0)
    assert calls[1:] == [6000]
    calls.clear()
    nbx.ale(f, uniform[:1000], [0, 1])
    assert calls[1:] == [4000]


def test_ale_plots(uniform):
    import matplotlib

    matplotlib.use("Agg")
    ax = nbx.ale(additive, uniform, 0).plot()
    assert ax.get_ylabel() == "ALE of prediction" and len(ax.lines) >= 2
    ax = nbx.ale(interaction, uniform, [0, 1], bins=5).plot()
    assert "interaction" in ax.get_title()


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (np.column_stack([np.ones(20), np.arange(20.0)]), {"features": 0, "categorical": []}, "x0 has a single value"),
        (np.random.default_rng(0).normal(size=(20, 2)), {"features": 0, "bins": 0}, "bins must be an int >= 1"),
        (np.column_stack([np.arange(20.0) % 2, np.arange(20.0)]), {"features": [0, 1]}, "second-order ALE needs numeric features"),
    ],
)
def test_ale_validates(X, kwargs, message):
    with pytest.raises(InputError, match=message):
        nbx.ale(additive, X, **kwargs)


def test_ale_equals_the_peer_library_pyale():
    """PyALE implements the same ALEPlot estimator (the same centring). Its quantile rule is R's type 1 with
    n - 1 in place of n, which picks the same edges as numpy's inverted_cdf when the row count is a multiple
    of the number of bins: so 510 rows and 15 bins."""
    pd = pytest.importorskip("pandas")
    pyale = pytest.importorskip("PyALE")
    import warnings

    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(8)
    X = rng.normal(size=(510, 3))
    gbr = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, np.sin(X[:, 0]) + X[:, 0] * X[:, 2])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyALE predicts DataFrames on an estimator fitted on arrays
        ref = pyale.ale(frame, gbr, ["a"], grid_size=15, include_CI=False, plot=False)
    a = nbx.ale(gbr, X, 0, bins=15)
    np.testing.assert_allclose(a.edges[0], ref.index.to_numpy(dtype=float))
    np.testing.assert_allclose(a.effect, ref["eff"].to_numpy(), atol=1e-10)
    np.testing.assert_array_equal(a.counts, ref["size"].to_numpy()[1:])
