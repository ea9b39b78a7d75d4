"""Tabular Shapley values and LIME against independent references: brute-force enumeration of permutations,
the closed form for linear models, SHAP's KernelExplainer and the lime package's LimeTabularExplainer."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.errors import InputError


def nonlinear(A):
    """Three classes with interactions: softmax of products, a max and a sine."""
    A = np.asarray(A)
    z = np.stack([A[:, 0] * A[:, 1] - A[:, 2], np.maximum(A[:, 3], A[:, 0]) + 0.5 * A[:, 1],
                  np.sin(A[:, 2] + A[:, 3])], axis=1)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 4)) * np.array([1.0, 2.0, 0.5, 1.5]) + np.array([0.0, 1.0, -1.0, 2.0])


def brute_force_shapley(f, x, background, k):
    """Average marginal contributions over all M! orderings; v(S) by an explicit loop over background rows."""
    m = len(x)

    def v(S):
        total = 0.0
        for b in background:
            row = b.copy()
            row[list(S)] = x[list(S)]
            total += f(row[None])[0, k]
        return total / len(background)

    phi = np.zeros(m)
    for order in itertools.permutations(range(m)):
        present: list[int] = []
        for i in order:
            before = v(present)
            present.append(i)
            phi[i] += v(present) - before
    return phi / math.factorial(m)


def test_exact_equals_brute_force_enumeration(data):
    x = np.array([0.3, -1.0, 0.7, 2.5])
    e = nbx.shapley_tabular(nonlinear, x, data, target=2, n_background=None)
    assert e.method == "exact" and e.n_evaluations == 16 * len(data)
    np.testing.assert_allclose(e.values, brute_force_shapley(nonlinear, x, data, 2), atol=1e-12)
    for k in range(3):  # every class is computed
        np.testing.assert_allclose(e.all_values[:, k], brute_force_shapley(nonlinear, x, data, k), atol=1e-12)
    assert e.values.sum() == pytest.approx(e.prediction - e.base_value, abs=1e-12)
    assert e.prediction == pytest.approx(nonlinear(x[None])[0, 2])
    assert e.base_value == pytest.approx(nonlinear(data)[:, 2].mean())


def test_exact_skips_rows_where_the_background_equals_x_and_still_equals_brute_force():
    # integer and categorical columns: many background values equal x's, so those features are dummies of
    # that background row's game and their rows are never predicted
    rng = np.random.default_rng(3)
    background = np.column_stack([rng.integers(0, 3, 15), rng.normal(size=15), rng.integers(0, 2, 15),
                                  rng.integers(1, 4, 15)]).astype(float)
    background[4] = background[7]  # a duplicate row
    x = background[7].copy()  # x itself is in the background: that row needs one prediction only
    x[1] = 0.25
    calls = []

    def f(A):
        calls.append(np.array(A))
        return nonlinear(A)

    e = nbx.shapley_tabular(f, x, background, target=0, n_background=None)
    rows = np.concatenate(calls[1:])  # the first call is x alone
    expected_rows = int((2.0 ** (background != x).sum(1)).sum())
    assert e.n_evaluations == len(rows) == expected_rows < 16 * len(background)
    for k in range(3):
        np.testing.assert_allclose(e.all_values[:, k], brute_force_shapley(nonlinear, x, background, k), atol=1e-12)
    full_table = nbx.shapley_tabular(nonlinear, x + 1e-9 * np.arange(1, 5), background, target=0, n_background=None)
    assert full_table.n_evaluations == 16 * len(background)  # nothing coincides: every row
    assert e.base_value == pytest.approx(nonlinear(background)[:, 0].mean(), abs=1e-12)
    assert e.prediction == pytest.approx(nonlinear(x[None])[0, 0], abs=1e-12)


def test_linear_model_with_independent_features_gives_w_times_x_minus_mean():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 6)) * rng.uniform(0.5, 3, size=6)
    w = rng.normal(size=6)
    x = X[0] + 1.0
    for method, n in [("exact", None), ("sampled", 4), ("kernel", 200)]:
        e = nbx.shapley_tabular(lambda A: np.asarray(A) @ w + 3.0, x, X, method=method, n_samples=n,
                                n_background=None)
        assert e.output == "regression"
        np.testing.assert_allclose(e.values, w * (x - X.mean(0)), atol=1e-10, err_msg=method)


def test_kernel_shap_converges_to_exact(data):
    rng = np.random.default_rng(2)
    X = np.column_stack([data, rng.normal(size=(12, 4))])  # 8 features: 256 coalitions

    def f(A):
        A = np.asarray(A)
        return nonlinear(A[:, :4] + 0.3 * A[:, 4:])

    x = X[0] + 0.5
    exact = nbx.shapley_tabular(f, x, X, target=1).values
    errors = [np.abs(nbx.shapley_tabular(f, x, X, target=1, method="kernel", n_samples=n, seed=s).values - exact).max()
              for n in (32, 128) for s in range(3)]
    small, large = np.mean(errors[:3]), np.mean(errors[3:])
    assert large < small
    enumerated = nbx.shapley_tabular(f, x, X, target=1, method="kernel", n_samples=256)
    np.testing.assert_allclose(enumerated.values, exact, atol=1e-10)
    sampled = nbx.shapley_tabular(f, x, X, target=1, method="sampled", n_samples=400, seed=0)
    assert np.abs(sampled.values - exact).max() < 4 * sampled.std.max() + 1e-9
    assert sampled.efficiency_gap == pytest.approx(0, abs=1e-12)


def test_exact_agrees_with_shap_kernel_explainer(data):
    shap = pytest.importorskip("shap")
    x = np.array([0.3, -1.0, 0.7, 2.5])
    ours = nbx.shapley_tabular(nonlinear, x, data, target=0, n_background=None)
    explainer = shap.KernelExplainer(lambda A: nonlinear(A)[:, 0], data)
    theirs = explainer.shap_values(x[None], nsamples=2**4, silent=True)
    np.testing.assert_allclose(ours.values, np.asarray(theirs).reshape(-1), atol=1e-8)
    assert ours.base_value == pytest.approx(float(np.ravel(explainer.expected_value)[0]))


def test_auto_switches_to_sampling_beyond_16_features():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 18))
    w = rng.normal(size=18)
    e = nbx.shapley_tabular(lambda A: np.asarray(A) @ w, X[0], X, n_samples=2, n_background=10)
    assert e.method == "sampled"
    background = X[np.sort(np.random.default_rng(0).choice(30, 10, replace=False))]
    np.testing.assert_allclose(e.values, w * (X[0] - background.mean(0)), atol=1e-10)


def test_lazy_batches_respect_the_chunk_size(data):
    seen = []

    def f(A):
        seen.append(len(A))
        return nonlinear(A)

    X = np.random.default_rng(0).normal(size=(701, 4))
    nbx.shapley_tabular(f, X[0], X[1:], n_background=700)
    assert seen[0] == 1 and sum(seen[1:]) == 16 * 700 and max(seen) <= 8192  # x, then the table


def test_lime_equals_the_lime_package():
    pytest.importorskip("lime")
    from lime.lime_tabular import LimeTabularExplainer
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    X[:, 3] = rng.integers(0, 3, 300)
    y = (X[:, 0] + X[:, 1] * X[:, 2] + (X[:, 3] == 1) > 0).astype(int)
    forest = RandomForestClassifier(30, random_state=0).fit(X, y)
    ours = nbx.lime_tabular(forest, X[5], X, target=1, categorical=[3], seed=42)
    explainer = LimeTabularExplainer(X, mode="classification", categorical_features=[3], discretize_continuous=False,
                                     sample_around_instance=True, random_state=42)
    theirs = explainer.explain_instance(X[5], forest.predict_proba, labels=(1,), num_features=5, num_samples=5000)
    coef = dict(theirs.as_map()[1])
    np.testing.assert_allclose(ours.coef, [coef[j] for j in range(5)], rtol=1e-9, atol=1e-12)
    assert ours.fidelity == pytest.approx(theirs.score, rel=1e-9)


def test_lime_on_a_linear_model_recovers_w_times_x_minus_mean():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 4)) * np.array([1.0, 3.0, 0.5, 2.0])
    w = np.array([1.0, -0.5, 4.0, 0.25])
    x = X[0] + 0.5
    e = nbx.lime_tabular(lambda A: np.asarray(A) @ w, x, X, n_samples=5000, alpha=1e-9)
    assert e.fidelity == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(e.coef, w * X.std(0), rtol=1e-6)
    np.testing.assert_allclose(e.values, w * (x - X.mean(0)), rtol=1e-6, atol=1e-9)
    assert e.values.sum() == pytest.approx(x @ w - X.mean(0) @ w, rel=1e-6)


def test_lime_default_kernel_width_is_three_quarters_root_m():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 9))
    f = nonlinear_wide = lambda A: nonlinear(np.asarray(A)[:, :4] * np.asarray(A)[:, 4:8])  # noqa: E731
    default = nbx.lime_tabular(f, X[0], X, target=0)
    explicit = nbx.lime_tabular(nonlinear_wide, X[0], X, target=0, kernel_width=0.75 * 3.0)
    other = nbx.lime_tabular(nonlinear_wide, X[0], X, target=0, kernel_width=0.5)
    np.testing.assert_array_equal(default.coef, explicit.coef)
    assert not np.allclose(default.coef, other.coef)


def test_plots(data):
    import matplotlib

    matplotlib.use("Agg")
    e = nbx.shapley_tabular(nonlinear, data[0], data)
    ax = e.plot()
    assert len(ax.patches) == 4
    assert "exact Shapley values" in ax.get_title()
    lime = nbx.lime_tabular(nonlinear, data[0], data)
    assert "fidelity" in lime.plot().get_title()
    assert e._repr_png_().startswith(b"\x89PNG")


@pytest.mark.parametrize("fn,kwargs,message", [
    ("shapley_tabular", {"method": "fast"}, "method='fast' is not valid"),
    ("shapley_tabular", {"n_background": 0}, "n_background must be an int >= 1"),
    ("shapley_tabular", {"target": 3}, "target=3 is out of range"),
    ("shapley_tabular", {"x": np.zeros(5)}, "x has 5 features"),
    ("shapley_tabular", {"n_samples": 0, "method": "sampled"}, "n_samples must be an int >= 1"),
    ("lime_tabular", {"kernel_width": -1.0}, "kernel_width must be a positive number"),
    ("lime_tabular", {"n_samples": 1}, "n_samples must be an int >= 2"),
    ("lime_tabular", {"alpha": -1.0}, "alpha must be a non-negative number"),
    ("lime_tabular", {"categorical": ["colour"]}, "categorical='colour' is not a feature name"),
    ("lime_tabular", {"x": np.array([0.0, np.nan, 0, 0])}, "NaN"),
])
def test_bad_input_is_named(data, fn, kwargs, message):
    x = kwargs.pop("x", data[0])
    with pytest.raises(InputError, match=message):
        getattr(nbx, fn)(nonlinear, x, data, **kwargs)


# ---------------------------------------------------------------------------------------------------
# the result: table, story, picture, names
# ---------------------------------------------------------------------------------------------------
def test_score_output_of_a_linear_logit_model_is_w_times_x_minus_mean():
    """output="score" explains the model's own output: for logits z = A @ W (one column per class) the
    Shapley values of class k are W[:, k] (x - mean of the background), exactly; probabilities are not."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3))
    W = rng.normal(size=(3, 3))
    x = X[0] + 0.7
    e = nbx.shapley_tabular(lambda A: np.asarray(A) @ W, x, X, target=2, output="score", n_background=None)
    assert e.output == "score" and e.output_label == "score of class 2"
    np.testing.assert_allclose(e.values, W[:, 2] * (x - X.mean(0)), atol=1e-12)
    np.testing.assert_allclose(e.all_values, W * (x - X.mean(0))[:, None], atol=1e-12)
    p = nbx.shapley_tabular(lambda A: np.asarray(A) @ W, x, X, target=2, n_background=None)
    assert p.output == "probability" and not np.allclose(p.values, e.values)
    lime = nbx.lime_tabular(lambda A: np.asarray(A) @ W, x, X, target=2, output="score", alpha=1e-9)
    np.testing.assert_allclose(lime.values, W[:, 2] * (x - X.mean(0)), rtol=1e-6, atol=1e-9)
    with pytest.raises(InputError, match="output='logit' is not valid"):
        nbx.shapley_tabular(nonlinear, x, X, output="logit")


def test_to_frame_has_one_row_per_feature(data):
    pytest.importorskip("pandas")
    x = np.array([0.3, -1.0, 0.7, 2.5])
    e = nbx.shapley_tabular(nonlinear, x, data, feature_names=["a", "b", "c", "d"])
    df = e.to_frame()
    assert list(df.columns) == ["feature", "value", "contribution"] and len(df) == 4
    assert df["feature"].tolist() == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(df["value"], x)
    np.testing.assert_array_equal(df["contribution"], e.values)
    sampled = nbx.shapley_tabular(nonlinear, x, data, method="sampled", n_samples=10).to_frame()
    assert list(sampled.columns) == ["feature", "value", "contribution", "std"]
    lime = nbx.lime_tabular(nonlinear, x, data)
    np.testing.assert_array_equal(lime.to_frame()["coef"], lime.coef)


def test_summary_tells_the_story_in_one_line(data):
    e = nbx.shapley_tabular(nonlinear, data[0], data, class_names=["low", "mid", "high"], target="mid")
    line = e.summary()
    assert "\n" not in line and str(e) == line
    assert line.startswith(f"exact Shapley values of P(mid) = {e.prediction:.3g} (base {e.base_value:.3g})")
    name, value = e.top(1)[0]
    assert f"{name} = " in line and f"({value:+.3g})" in line
    lime = nbx.lime_tabular(nonlinear, data[0], data)
    assert f"fidelity R² {lime.fidelity:.2f}" in lime.summary()
    assert lime.quality()[0] == f"fidelity R² {lime.fidelity:.2f}"


def test_class_names_come_from_the_argument_the_model_and_string_labels():
    from sklearn.tree import DecisionTreeClassifier

    data = nbx.datasets.credit()
    labels = np.array(data.class_names)[data.y]  # an estimator fitted on string labels names its classes
    named = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data.X, labels)
    e = nbx.shapley_tabular(named, data.X[1], data.X, n_background=20)
    assert e.class_names == ["high balance", "low balance"]  # sorted, as classes_
    assert e.target_name == named.predict(data.X[1:2])[0] and e.output_label == f"P({e.target_name})"
    coded = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data.X, data.y)  # codes 0/1: names from class_names=
    assert nbx.shapley_tabular(coded, data.X[1], data.X, n_background=20).target_name == "class 0"
    given = nbx.lime_tabular(coded, data.X[1], data.X, class_names=data.class_names, target="high balance")
    assert given.target == 1 and given.output_label == "P(high balance)"
    model = nbx.as_model(coded)
    nbx.shapley_tabular(model, data.X[1], data.X, class_names=data.class_names, n_background=5)
    assert model.class_names is None  # the caller's Model is not renamed


def test_user_text_is_drawn_literally(data):
    import matplotlib

    matplotlib.use("Agg")
    names = ["income from $5k to $10k", r"$\frac$", "c", "d"]
    e = nbx.shapley_tabular(nonlinear, data[0], data, feature_names=names, class_names=["$a", "b$", "c"])
    ax = e.plot()
    for label in ax.get_yticklabels():  # escaped: matplotlib draws them as plain text, not mathtext
        assert label._preprocess_math(label.get_text())[1] is False
    shown = {label._preprocess_math(label.get_text())[0].split(" = ")[0] for label in ax.get_yticklabels()}
    assert shown == set(names)
    assert ax.title._preprocess_math(ax.title.get_text())[1] is False
    assert e._repr_png_().startswith(b"\x89PNG")  # r"$\frac$" as mathtext would fail to draw


def test_results_show_themselves_as_counterfactual_sliders(data):
    e = nbx.lime_tabular(nonlinear, data[0], data, n_samples=500)
    w = e.widget(explainer_options={"lime": {"n_samples": 300}})
    assert type(w).__name__ == "CounterfactualSliders" and w.explainer == "lime"
    np.testing.assert_array_equal(w.original, e.x)
    other = nbx.shapley_tabular(nonlinear, data[0], data).widget(data=data[:6], explainer="none")
    assert other.explainer == "none" and other.histograms.shape[0] == 4


def test_lazy_row_batches_are_lazy_rows_and_build_the_game_rows(data):
    from nbexplain.adapters.lazy import LazyRows
    from nbexplain.methods.coalitions.masks import all_coalitions
    from nbexplain.methods.coalitions.tabular import CoalitionRows, DistinctRows

    x = np.array([0.3, -1.0, 0.7, 2.5])
    z = all_coalitions(4)
    rows = CoalitionRows(x, data, z)
    dense = np.where(z[:, None, :], x, data[None]).reshape(-1, 4)
    assert isinstance(rows, LazyRows) and rows.shape == dense.shape
    for span in (slice(0, 7), slice(5, 40), slice(11, 11), slice(180, None)):
        np.testing.assert_array_equal(rows[span], dense[span])
    masks = np.array([0, 5, 15, 2])
    distinct = DistinctRows(x, data, np.array([3, 0, 7, 7]), masks)
    assert isinstance(distinct, LazyRows)
    expected = np.where(((masks[:, None] >> np.arange(4)) & 1).astype(bool), x, data[[3, 0, 7, 7]])
    np.testing.assert_array_equal(distinct[0:4], expected)


def test_progress_callable_reaches_one_and_silence_is_allowed(data):
    seen = []
    nbx.shapley_tabular(nonlinear, data[0], data, progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    nbx.lime_tabular(nonlinear, data[0], data, progress=False)
    with pytest.raises(InputError, match="progress must be None, True, False or a callable"):
        nbx.shapley_tabular(nonlinear, data[0], data, progress="yes")


@pytest.mark.parametrize("fn,old", [("shapley_tabular", "background"), ("lime_tabular", "X_train")])
def test_the_old_name_of_data_still_works_and_warns(data, fn, old):
    new = getattr(nbx, fn)(nonlinear, data[0], data=data)
    with pytest.warns(FutureWarning, match=f"'{old}' is now called 'data'"):
        renamed = getattr(nbx, fn)(nonlinear, data[0], **{old: data})
    np.testing.assert_array_equal(renamed.values, new.values)
    with pytest.raises(TypeError, match=f"got both '{old}' and its new name 'data'"):
        getattr(nbx, fn)(nonlinear, data[0], data=data, **{old: data})


def test_old_output_spelling_warns(data):
    with pytest.warns(FutureWarning, match="output='probabilities' is now spelled output='probability'"):
        e = nbx.shapley_tabular(nonlinear, data[0], data, output="probabilities")
    assert e.output == "probability"
