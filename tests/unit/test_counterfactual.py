"""Counterfactuals (Wachter et al.) against independent references: brute force on a fine grid, closed forms,
validity over many rows of real models, and hard constraints checked directly on every returned point."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.errors import InputError, NotDifferentiableError
from nbexplain.methods.counterfactual.space import mad_scale


def mad_l1(a, b, scale):
    return float(np.sum(np.abs(np.asarray(a) - np.asarray(b)) / scale))


# ---------------------------------------------------------------------------------------------------
# a 2-feature problem with a known, curved decision boundary
# ---------------------------------------------------------------------------------------------------
def boundary_score(a, b, lib=np):
    """> 0 is class 1: outside a tilted, wavy ellipse (the second feature is on a 10x larger scale)."""
    b = b / 10
    return a**2 + 0.5 * a * b + b**2 + 0.3 * lib.sin(3 * a) - 2.5


def boundary_proba(X):
    X = np.asarray(X)
    p = 1 / (1 + np.exp(-4 * boundary_score(X[:, 0], X[:, 1])))
    return np.stack([1 - p, p], axis=1)


class BoundaryNet(torch.nn.Module):
    def forward(self, X):
        z = 4 * boundary_score(X[:, 0], X[:, 1], torch)
        return torch.stack([-z / 2, z / 2], dim=1)  # logits whose softmax is boundary_proba


@pytest.fixture(scope="module")
def two_features():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(500, 2)) * np.array([1.0, 10.0])
    scale = mad_scale(X)
    g1, g2 = np.linspace(-3, 3, 1501), np.linspace(-30, 30, 1501)
    grid = np.stack(np.meshgrid(g1, g2, indexing="ij"), -1).reshape(-1, 2)
    valid_grid = grid[boundary_proba(grid)[:, 1] >= 0.55]
    inside = np.flatnonzero(boundary_proba(X)[:, 1] < 0.5)[:8]
    return X, scale, valid_grid, inside


@pytest.mark.parametrize("model,method", [(boundary_proba, "growing_spheres"), (BoundaryNet().double(), "gradient")])
def test_two_features_within_5_percent_of_the_brute_force_optimum(two_features, model, method):
    X, scale, valid_grid, rows = two_features
    assert len(rows) == 8
    for i in rows:
        x = X[i]
        result = nbx.counterfactual(model, x, X, target=1)
        assert result.method == method
        best = result.best
        optimum = (np.abs(valid_grid - x) / scale).sum(axis=1).min()
        assert best.valid and boundary_proba(best.x[None])[0, 1] >= 0.55 - 1e-9
        # the grid's own resolution (one step per feature) bounds how much closer than the grid we can be
        step = (6 / 1500) / scale[0] + (60 / 1500) / scale[1]
        assert optimum - step <= best.distance <= 1.05 * optimum, (i, best.distance, optimum)
        assert best.distance == pytest.approx(mad_l1(best.x, x, scale))


def test_linear_boundary_matches_the_closed_form():
    """Valid iff w.x + b >= logit(0.55): the MAD-L1 optimum moves only the feature with the largest |w_j| MAD_j,
    by margin / |w_j| (when its range allows)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4)) * np.array([1.0, 5.0, 0.2, 2.0])
    w = np.array([0.5, 0.3, -4.0, 0.1])
    b = -0.5

    def proba(A):
        p = 1 / (1 + np.exp(-(np.asarray(A) @ w + b)))
        return np.stack([1 - p, p], axis=1)

    scale = mad_scale(X)
    x = np.array([-0.5, -2.0, 0.05, 0.0])
    margin = np.log(0.55 / 0.45) - (x @ w + b)
    assert margin > 0
    j = int(np.argmax(np.abs(w) * scale))
    expected = margin / abs(w[j]) / scale[j]
    result = nbx.counterfactual(proba, x, X, target=1, ranges={j: (-100, 100)})
    assert result.best.valid
    assert result.best.distance == pytest.approx(expected, rel=0.02)
    assert result.best.changed.tolist() == [k == j for k in range(4)]


# ---------------------------------------------------------------------------------------------------
# validity over 100 rows of a scikit-learn model and a torch MLP on the same data
# ---------------------------------------------------------------------------------------------------
class MLP(torch.nn.Module):
    def __init__(self, X, y, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.register_buffer("mean", torch.tensor(X.mean(0)))
        self.register_buffer("std", torch.tensor(X.std(0)))
        self.net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
        self.double()
        opt = torch.optim.Adam(self.parameters(), lr=0.01)
        xt, yt = torch.tensor(X), torch.tensor(y)
        for _ in range(300):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(self(xt), yt).backward()
            opt.step()
        self.eval()

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    rows = np.random.default_rng(0).choice(len(X), 100, replace=False)
    return X, y, rows


def _validity(model, X, rows, **kwargs):
    m = nbx.as_model(model)
    results = [nbx.counterfactual(m, X[i], X, **kwargs) for i in rows]
    for i, r in zip(rows, results, strict=True):
        p = m.predict_proba(r.best.x[None])[0]
        original = int(np.argmax(m.predict_proba(X[i][None])[0]))
        # checked with the model directly: the other class reaches 0.55 and the decision flips
        assert r.best.valid == bool(p[1 - original] >= 0.55 - 1e-12)
        if r.best.valid:
            assert int(np.argmax(p)) != original
    return np.mean([r.best.valid for r in results]), results


@pytest.mark.slow
def test_validity_of_a_scikit_learn_forest_over_100_rows(cancer):
    from sklearn.ensemble import RandomForestClassifier

    X, y, rows = cancer
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)
    validity, results = _validity(forest, X, rows)
    assert validity >= 0.95
    assert results[0].method == "growing_spheres"


@pytest.mark.slow
def test_validity_of_a_torch_mlp_over_100_rows(cancer):
    X, y, rows = cancer
    validity, results = _validity(MLP(X, y), X, rows)
    assert validity >= 0.95
    assert results[0].method == "gradient"


# ---------------------------------------------------------------------------------------------------
# behaviour
# ---------------------------------------------------------------------------------------------------
def two_routes(A):
    """Class 1 when both features reach 1, or the first alone reaches 3: from (0, 0) the closest counterfactual
    changes both (MAD-L1 distance 2 / MAD), the sparsest only the first (3 / MAD)."""
    A = np.asarray(A)
    s = np.maximum(np.minimum(A[:, 0] - 1, A[:, 1] - 1), A[:, 0] - 3)
    p = 1 / (1 + np.exp(-20 * s))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def square():
    rng = np.random.default_rng(3)
    return rng.uniform(-4, 4, size=(400, 2))


def test_closest_and_sparse_counterfactuals_differ(square):
    scale = mad_scale(square)
    x = np.zeros(2)
    closest = nbx.counterfactual(two_routes, x, square, target=1)
    sparse = nbx.counterfactual(two_routes, x, square, target=1, sparse=True)
    assert closest.best.n_changed == 2 and sparse.best.n_changed == 1
    assert closest.best.distance < sparse.best.distance
    assert closest.best.distance == pytest.approx(1 / scale[0] + 1 / scale[1], rel=0.05)
    assert sparse.best.distance == pytest.approx(3 / scale[0], rel=0.05)
    assert sparse.best.x[1] == 0


def test_several_counterfactuals_are_diverse_and_ranked_by_loss(square):
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1, n=3)
    sets = [tuple(np.flatnonzero(c.changed)) for c in result]
    assert len(set(sets)) == len(sets) >= 2
    losses = [c.loss for c in result if c.valid]
    assert losses == sorted(losses)
    for c in result:  # loss is Wachter's at the final lambda
        assert c.loss == pytest.approx(result.lam * (c.value - result.desired) ** 2 + c.distance)


def test_immutable_feature_forces_another_route(square):
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1, immutable=[1])
    assert result.best.valid and result.best.x[1] == 0 and result.best.x[0] >= 3 - 1e-6


def test_a_row_already_at_the_target_needs_no_change(square):
    x = np.array([3.5, 0.0])
    result = nbx.counterfactual(two_routes, x, square, target=1)
    assert result.best.valid and result.best.distance == 0 and result.best.n_changed == 0


def test_no_valid_counterfactual_is_reported_as_not_valid(square):
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1, ranges={0: (-1, 0.5), 1: (-1, 0.5)})
    assert not result.valid
    assert all(not c.valid for c in result)


def test_categorical_feature_switches_category_and_costs_one():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=300), rng.integers(0, 3, size=300)])

    def proba(A):
        A = np.asarray(A)
        p = np.where(A[:, 1] == 2, 0.9, 0.1) + 0.0 * A[:, 0]
        return np.stack([1 - p, p], axis=1)

    result = nbx.counterfactual(proba, np.array([0.3, 0.0]), X, target=1, categorical={1: ["red", "green", "blue"]})
    assert result.best.x.tolist() == [0.3, 2.0]
    assert result.best.distance == 1.0
    assert "blue" in result.summary() and "red" in result.summary()


def test_regression_target_value():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    w = np.array([2.0, -1.0, 0.5])
    result = nbx.counterfactual(lambda A: np.asarray(A) @ w, X[0], X, target=X[0] @ w + 1.0, epsilon=0.01)
    assert result.kind == "regression" and result.best.valid
    assert abs(result.best.x @ w - (X[0] @ w + 1.0)) <= 0.01


def test_class_names_and_dataframes(square):
    pd = pytest.importorskip("pandas")
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.DataFrame(square, columns=["income", "<img src=x onerror=alert(1)>"])
    y = (two_routes(square)[:, 1] > 0.5).astype(int)
    tree = DecisionTreeClassifier(random_state=0).fit(frame, y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a model fitted on a DataFrame is given DataFrames
        result = nbx.counterfactual(tree, frame.iloc[[int(np.argmin(y))]], frame, target="yes",
                                    class_names=["no", "yes"], immutable=["<img src=x onerror=alert(1)>"])
    assert result.target_name == "yes" and result.best.valid
    assert result.feature_names == ["income", "<img src=x onerror=alert(1)>"]


def test_plot_and_summary(square):
    import matplotlib

    matplotlib.use("Agg")
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1)
    ax = result.plot()
    assert len(ax.patches) == result.best.n_changed == 2
    assert "2 changed" in result.summary()
    assert result._repr_png_().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,message", [
    ({"immutable": ["age"]}, "immutable='age' is not a feature name"),
    ({"ranges": {0: (1.0, 2.0)}}, r"ranges\['x0'\]=\(1, 2\) excludes the original value x\['x0'\]=0"),
    ({"ranges": {0: (2.0, 1.0)}}, "is empty: low must be <= high"),
    ({"ranges": {0: 5}}, "must be a pair"),
    ({"ranges": [0, 1]}, "ranges must be a dict"),
    ({"integer": [0], "x": np.array([0.5, 0.0])}, "integer feature 'x0' has the non-integer original value"),
    ({"categorical": {1: ["a", "b"]}, "ranges": {1: (0, 1)}}, "categorical"),
    ({"target": 5}, "target=5 is out of range"),
    ({"target": "maybe"}, "target='maybe' is not a class name"),
    ({"epsilon": 0.0}, "epsilon=0.0 is out of range"),
    ({"target_probability": 1.5}, "target_probability=1.5 is out of range"),
    ({"n": 0}, "n must be an int >= 1"),
    ({"method": "magic"}, "method='magic' is not valid"),
    ({"sparse": "yes"}, "sparse must be True or False"),
    ({"x": np.array([0.0, np.nan])}, "NaN"),
    ({"x": np.zeros(3)}, "x has 3 features but the training data has 2"),
    ({"x": np.zeros((2, 2))}, "x must be a single row"),
])
def test_bad_input_is_named(square, kwargs, message):
    x = kwargs.pop("x", np.zeros(2))
    with pytest.raises(InputError, match=message):
        nbx.counterfactual(two_routes, x, square, **kwargs)


def test_bad_training_data_is_named():
    X = np.ones((10, 2))
    X[3, 1] = np.nan
    with pytest.raises(InputError, match="data has 1 NaN"):
        nbx.counterfactual(two_routes, np.zeros(2), X)


def test_gradient_method_needs_a_torch_model(square):
    with pytest.raises(NotDifferentiableError):
        nbx.counterfactual(two_routes, np.zeros(2), square, method="gradient")


def test_regression_needs_a_target_and_epsilon():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(InputError, match="target is required for a regression model"):
        nbx.counterfactual(lambda A: np.asarray(A).sum(1), X[0], X)
    with pytest.raises(InputError, match="epsilon is required"):
        nbx.counterfactual(lambda A: np.asarray(A).sum(1), X[0], X, target=1.0)


# ---------------------------------------------------------------------------------------------------
# the result: table, names, widget, old names
# ---------------------------------------------------------------------------------------------------
def test_to_frame_has_one_row_per_counterfactual(square):
    pytest.importorskip("pandas")
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1, n=3, feature_names=["a", "b"],
                                class_names=["no", "yes"])
    df = result.to_frame()
    assert list(df.columns) == ["a", "b", "P(yes)", "valid", "distance", "n_changed", "loss"]
    assert df.index.name == "counterfactual" and df.index.tolist() == list(range(1, len(result) + 1))
    np.testing.assert_array_equal(df[["a", "b"]].to_numpy(), np.array([c.x for c in result]))
    assert df["valid"].tolist() == [c.valid for c in result]
    np.testing.assert_allclose(df["P(yes)"], two_routes(df[["a", "b"]].to_numpy())[:, 1])  # re-predictable
    np.testing.assert_array_equal(df["distance"], [c.distance for c in result])
    assert df["n_changed"].tolist() == [c.n_changed for c in result]


def test_class_names_come_from_the_model_and_the_argument():
    from sklearn.tree import DecisionTreeClassifier

    data = nbx.datasets.credit()
    labels = np.array(data.class_names)[data.y]
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(data.X, labels)
    x = data.X[np.flatnonzero(tree.predict(data.X) == "low balance")[0]]
    result = nbx.counterfactual(tree, x, data.X, feature_names=data.feature_names)
    assert result.target_name == "high balance" and result.class_names == ["high balance", "low balance"]
    assert "P(high balance)" in result.summary() and result.to_frame().columns[10] == "P(high balance)"
    coded = DecisionTreeClassifier(max_depth=4, random_state=0).fit(data.X, data.y)
    named = nbx.counterfactual(coded, x, data.X, target="high balance", class_names=data.class_names)
    assert named.target == 1 and named.best.valid


def test_plot_draws_user_text_literally(square):
    import matplotlib

    matplotlib.use("Agg")
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1, feature_names=["$5k", "a $ b $ c"])
    ax = result.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == [r"\$5k", r"a \$ b \$ c"]
    assert all(t._preprocess_math(t.get_text())[1] is False for t in ax.get_yticklabels())
    with pytest.raises(InputError, match="index must be an int in -1..0"):
        result.plot(index=3)


def test_order_changes_puts_the_main_change_last(square):
    from nbexplain.inputs.tables import as_table
    from nbexplain.methods.counterfactual.search import order_changes
    from nbexplain.methods.counterfactual.space import feature_space

    X = np.column_stack([square, np.random.default_rng(0).integers(0, 3, len(square))])
    space = feature_space(as_table(X), np.zeros(3), categorical=[2])
    row = np.array([0.1 * space.scale[0], -2.0 * space.scale[1], 1.0])
    assert order_changes(space, row).tolist() == [0, 2, 1]  # 0.1 MAD, a category (1), 2 MADs
    assert order_changes(space.frozen([1]), row).tolist() == [0, 2]  # immutable features are not changes


def test_result_widget_uses_the_model_and_data_searched_with(square):
    result = nbx.counterfactual(two_routes, np.zeros(2), square, target=1, n=2, class_names=["no", "yes"])
    w = result.widget(explainer="none")
    assert type(w).__name__ == "CounterfactualSliders" and w.class_names == ["no", "yes"]
    np.testing.assert_array_equal(w.value, result.best.x)
    np.testing.assert_array_equal(w.counterfactuals, np.array([c.x for c in result]))
    with pytest.warns(FutureWarning, match="'X_train' is now called 'data'"):
        old = result.widget(X_train=square[:50], explainer="none")
    assert old.histograms.shape[0] == 2


def test_the_old_name_of_data_still_works_and_warns(square):
    new = nbx.counterfactual(two_routes, np.zeros(2), data=square, target=1)
    with pytest.warns(FutureWarning, match="'X_train' is now called 'data'"):
        old = nbx.counterfactual(two_routes, np.zeros(2), X_train=square, target=1)
    np.testing.assert_array_equal(old.best.x, new.best.x)


def test_progress_reaches_one(square):
    seen = []
    nbx.counterfactual(two_routes, np.zeros(2), square, target=1, n=2, progress=seen.append)
    assert seen[-1] == 1.0 and max(seen) == 1.0
