"""PDP and ICE against scikit-learn's partial_dependence, closed forms and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.inspection import partial_dependence as sk_partial_dependence

import nbexplain as nbx
from nbexplain.errors import InputError, ModelError
from nbexplain.methods.effects.pdp import GridBatch, mquantiles


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[:, 3] = rng.integers(0, 3, 300)  # categorical
    y = X[:, 0] ** 2 + 3 * X[:, 1] + X[:, 3] + X[:, 0] * X[:, 2] + rng.normal(size=300) * 0.1
    return X, y


@pytest.fixture(scope="module")
def gbr(data):
    X, y = data
    return GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def gbc(data):
    X, y = data
    return GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, np.digitize(y, [0, 2]))


def test_pdp_and_ice_equal_sklearn_brute_on_the_same_grid(data, gbr):
    X, _ = data
    ref = sk_partial_dependence(gbr, X, [0], grid_resolution=50, kind="both", method="brute")
    pd = nbx.partial_dependence(gbr, X, 0, grid_resolution=50)
    np.testing.assert_array_equal(pd.grid[0], ref["grid_values"][0])
    np.testing.assert_allclose(pd.average, ref["average"][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(pd.individual, ref["individual"][0], rtol=0, atol=1e-12)
    ice = nbx.ice(gbr, X, 0, grid_resolution=50)
    np.testing.assert_allclose(ice.curves, ref["individual"][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ice.pdp, ref["average"][0], atol=1e-12)


def test_pdp_equals_sklearn_for_a_custom_grid_a_pair_and_a_categorical_feature(data, gbr):
    X, _ = data
    grid = np.linspace(-1, 1, 7)
    ref = sk_partial_dependence(gbr, X, [1], custom_values={1: grid}, kind="average", method="brute")
    np.testing.assert_allclose(nbx.partial_dependence(gbr, X, 1, grid=grid).average, ref["average"][0], atol=1e-12)
    ref = sk_partial_dependence(gbr, X, [(0, 2)], grid_resolution=8, kind="average", method="brute")
    pd = nbx.partial_dependence(gbr, X, [0, 2], grid_resolution=8)
    assert pd.average.shape == (8, 8) and pd.individual is None
    np.testing.assert_allclose(pd.average, ref["average"][0], atol=1e-12)
    ref = sk_partial_dependence(gbr, X, [3], categorical_features=[3], kind="average", method="brute")
    pd = nbx.partial_dependence(gbr, X, "x3")
    assert pd.categorical == [True] and pd.grid[0].tolist() == [0.0, 1.0, 2.0]
    np.testing.assert_allclose(pd.average, ref["average"][0], atol=1e-12)


def test_classifier_pdp_is_the_probability_of_the_target_class_as_sklearn(data, gbc):
    X, _ = data
    ref = sk_partial_dependence(gbc, X, [0], grid_resolution=20, kind="both", method="brute")
    for k in range(3):
        pd = nbx.partial_dependence(gbc, X, 0, target=k, grid_resolution=20)
        np.testing.assert_allclose(pd.average, ref["average"][k], atol=1e-12)
        np.testing.assert_allclose(pd.individual, ref["individual"][k], atol=1e-12)
        assert pd.output_label == f"P(class {k})"
    binary = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, X[:, 0] > 0)
    ref = sk_partial_dependence(binary, X, [1], grid_resolution=10, kind="average", method="brute")
    np.testing.assert_allclose(nbx.partial_dependence(binary, X, 1, grid_resolution=10).average,
                               ref["average"][0], atol=1e-12)  # binary: the positive class, as sklearn


def test_mquantiles_equals_scipy():
    from scipy.stats.mstats import mquantiles as scipy_mquantiles

    rng = np.random.default_rng(3)
    for n in (2, 5, 17, 400):
        x = rng.normal(size=n)
        np.testing.assert_allclose(mquantiles(x, [0.05, 0.5, 0.95]), scipy_mquantiles(x, [0.05, 0.5, 0.95]), atol=1e-14)


def test_model_runs_once_per_chunk_not_once_per_grid_value():
    calls = []

    def f(batch):
        calls.append(len(batch))
        return batch[:, 0] ** 2 + batch[:, 1]

    X = np.random.default_rng(0).normal(size=(1000, 3))
    ice = nbx.ice(f, X, 0, grid_resolution=50)
    # one call to learn the output kind, then 50 000 rows in chunks of up to 8192
    assert calls[0] <= 256 and calls[1:] == [8192] * 6 + [50_000 - 6 * 8192]
    np.testing.assert_allclose(ice.curves, ice.grid[None, :] ** 2 + X[:, [1]], atol=1e-12)


def test_grid_batch_slices_are_the_rows_of_the_full_table():
    X = np.arange(15.0).reshape(5, 3)
    points = np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]])
    full = np.concatenate([np.column_stack([p[0] * np.ones(5), X[:, 1], p[1] * np.ones(5)]) for p in points])
    batch = GridBatch(X, [0, 2], points)
    assert batch.shape == (15, 3)
    for start, stop in [(0, 15), (3, 11), (4, 5), (14, 15)]:
        np.testing.assert_array_equal(batch[start:stop], full[start:stop])


def quadratic(batch):
    return batch[:, 0] ** 2 + 3 * batch[:, 1] + batch[:, 0] * batch[:, 2]


def test_centred_ice_starts_at_zero_and_an_off_grid_anchor_is_evaluated_exactly():
    X = np.random.default_rng(1).normal(size=(80, 3))
    c = nbx.ice(quadratic, X, 0, kind="centred", grid_resolution=10)
    assert c.anchor == c.grid[0]
    np.testing.assert_allclose(c.curves[:, 0], 0, atol=1e-12)
    plain = nbx.ice(quadratic, X, 0, grid_resolution=10)
    np.testing.assert_allclose(c.curves, plain.curves - plain.curves[:, [0]], atol=1e-12)
    c = nbx.ice(quadratic, X, 0, kind="centered", anchor=0.123, grid_resolution=10)
    assert len(c.grid) == 11 and 0.123 in c.grid.tolist()
    j = c.grid.tolist().index(0.123)
    direct = quadratic(np.column_stack([np.full(80, 0.123), X[:, 1:]]))
    np.testing.assert_allclose(c.predictions[:, j], direct, atol=1e-12)
    np.testing.assert_allclose(c.curves[:, j], 0, atol=1e-12)
    # closed form: f(g) - f(a) = g^2 - a^2 + (g - a) x2
    expected = c.grid[None] ** 2 - 0.123**2 + (c.grid[None] - 0.123) * X[:, [2]]
    np.testing.assert_allclose(c.curves, expected, atol=1e-10)


def test_derivative_ice_equals_the_finite_difference_of_ice():
    X = np.random.default_rng(2).normal(size=(60, 3))
    grid = np.linspace(-2, 2, 21)
    plain = nbx.ice(quadratic, X, 0, grid=grid)
    d = nbx.ice(quadratic, X, 0, kind="derivative", grid=grid)
    h = grid[1] - grid[0]
    central = (plain.curves[:, 2:] - plain.curves[:, :-2]) / (2 * h)
    np.testing.assert_allclose(d.curves[:, 1:-1], central, atol=1e-10)
    np.testing.assert_allclose(d.curves[:, 0], (plain.curves[:, 1] - plain.curves[:, 0]) / h, atol=1e-10)
    np.testing.assert_allclose(d.curves[:, -1], (plain.curves[:, -1] - plain.curves[:, -2]) / h, atol=1e-10)
    # central differences are exact for a quadratic: d/dx0 = 2 x0 + x2, so the spread over rows is sd(x2)
    np.testing.assert_allclose(d.curves[:, 1:-1], 2 * grid[None, 1:-1] + X[:, [2]], atol=1e-10)
    np.testing.assert_allclose(d.spread[1:-1], X[:, 2].std(), atol=1e-10)
    # no interaction for x1: every d-ICE line is the constant 3 and the spread is 0
    d1 = nbx.ice(quadratic, X, 1, kind="derivative", grid_resolution=15)
    np.testing.assert_allclose(d1.curves, 3.0, atol=1e-9)
    # switching kinds reuses the predictions
    np.testing.assert_allclose(plain.with_kind("derivative").curves, d.curves, atol=1e-12)
    uneven = np.array([-1.0, -0.2, 0.5, 2.0])
    du = nbx.ice(quadratic, X, 0, kind="derivative", grid=uneven)
    np.testing.assert_allclose(du.curves[:, 1:-1], 2 * uneven[None, 1:-1] + X[:, [2]], atol=1e-10)


def test_max_rows_samples_rows():
    X = np.random.default_rng(0).normal(size=(500, 3))
    ice = nbx.ice(quadratic, X, 0, grid_resolution=5, max_rows=40, seed=3)
    assert ice.curves.shape == (40, 5) and len(np.unique(ice.rows)) == 40
    np.testing.assert_array_equal(ice.x, X[ice.rows, 0])
    assert ice.values.shape == (500,)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda X: nbx.partial_dependence(quadratic, X, "rain"), r"features='rain' is not a feature name"),
        (lambda X: nbx.partial_dependence(quadratic, X, [0, 1, 2]), "features must name at most 2 features"),
        (lambda X: nbx.partial_dependence(quadratic, X, 0, percentiles=(0.9, 0.1)), "percentiles must satisfy"),
        (lambda X: nbx.partial_dependence(quadratic, X, 0, grid_resolution=1), "grid_resolution must be an int >= 2"),
        (lambda X: nbx.partial_dependence(quadratic, X, 0, grid=[0, np.nan]), "grid for 'x0' has NaN"),
        (lambda X: nbx.partial_dependence(quadratic, X, [0, 1], grid=[0, 1]), "grid must be one 1-D array per feature"),
        (lambda X: nbx.ice(quadratic, X, 0, kind="wiggly"), r"kind='wiggly' is not valid: expected one of \['plain', 'centred', 'derivative'\]"),
        (lambda X: nbx.ice(quadratic, X, 0, anchor="low"), "anchor must be a number"),
        (lambda X: nbx.ice(quadratic, X, 0, target=1), "target=1 is not valid: the model has one output"),
        (lambda X: nbx.ice(quadratic, X, 0, max_rows=0), "max_rows must be an int >= 1"),
    ],
)
def test_bad_arguments_raise_input_errors_naming_them(call, message):
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(InputError, match=message):
        call(X)


def test_categorical_features_have_levels_not_derivatives():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 4, 50), rng.normal(size=50)])
    ice = nbx.ice(lambda b: 2 * b[:, 0] + b[:, 1], X, 0)
    assert ice.categorical and ice.grid.tolist() == [0, 1, 2, 3]
    with pytest.raises(InputError, match="kind='derivative' needs a numeric feature; 'x0' is categorical"):
        nbx.ice(lambda b: 2 * b[:, 0] + b[:, 1], X, 0, kind="derivative")
    with pytest.raises(InputError, match="anchor=1.5 is not a level of the categorical feature 'x0'"):
        nbx.ice(lambda b: 2 * b[:, 0] + b[:, 1], X, 0, kind="centred", anchor=1.5)


def test_a_failing_model_raises_model_error():
    def broken(batch):
        if len(batch) > 100:
            raise ValueError("boom")
        return batch[:, 0]

    with pytest.raises(ModelError, match="the model raised ValueError"):
        nbx.ice(broken, np.random.default_rng(0).normal(size=(50, 2)), 0, grid_resolution=10)


def test_plots_draw_curves_rug_and_bars(data, gbr):
    import matplotlib

    matplotlib.use("Agg")
    X, _ = data
    pd = nbx.partial_dependence(gbr, X, 0, grid_resolution=20)
    ax = pd.plot()
    assert len(ax.lines) >= 100 + 1 + 1  # ICE lines, the PD line, the rug
    assert ax.get_xlabel() == "x0"
    ax = nbx.partial_dependence(gbr, X, 3).plot()
    assert len(ax.patches) == 3  # bars for the three levels
    ax = nbx.partial_dependence(gbr, X, [0, 1], grid_resolution=6).plot()
    assert ax.collections
    ice = nbx.ice(gbr, X, 0, kind="derivative", grid_resolution=20)
    ax = ice.plot(max_lines=50)
    assert "d-ICE" in ax.get_title()
    assert pd._repr_png_().startswith(b"\x89PNG") and ice._repr_png_().startswith(b"\x89PNG")
