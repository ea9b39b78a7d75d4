"""What every feature-effect result shares: old keyword names, seeds and samples, tables, one-line stories,
results computed from each other, user text in pictures, progress, and the lazy batches behind them."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.inspection import permutation_importance as sk_permutation_importance

import nbexplain as nbx
from nbexplain.adapters.lazy import LazyRows
from nbexplain.errors import InputError, UnknownArgumentError
from nbexplain.explain.result import Result
from nbexplain.inputs.tables import sample_rows
from nbexplain.methods.effects.ale import RowwiseBatch
from nbexplain.methods.effects.importance import PermutedBatch, sklearn_permutations
from nbexplain.methods.effects.pdp import GridBatch


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=400), rng.normal(size=400), rng.integers(0, 3, 400), rng.normal(size=400)])
    y = X[:, 0] ** 2 + 2 * X[:, 1] + X[:, 2] + X[:, 0] * X[:, 3] + 0.1 * rng.normal(size=400)
    return X, y


@pytest.fixture(scope="module")
def gbr(data):
    X, y = data
    return GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(X, y)


def quadratic(batch):
    return batch[:, 0] ** 2 + 3 * batch[:, 1] + batch[:, 0] * batch[:, 3]


# ---- old names --------------------------------------------------------------------------------------
@pytest.mark.parametrize("function", ["partial_dependence", "ice", "permutation_importance", "global_surrogate"])
def test_random_state_still_works_warns_and_means_seed(data, gbr, function):
    X, y = data
    call = getattr(nbx, function)
    args = {"partial_dependence": (0,), "ice": (0,), "permutation_importance": (y,), "global_surrogate": ()}[function]
    extra = {"max_rows": 50} if function in ("partial_dependence", "ice") else {}
    with pytest.warns(FutureWarning, match=rf"{function}\(\): 'random_state' is now called 'seed'"):
        old = call(gbr, X, *args, random_state=3, **extra)
    new = call(gbr, X, *args, seed=3, **extra)
    for name in ("average", "curves", "importances", "fidelity"):
        if hasattr(new, name):
            np.testing.assert_array_equal(getattr(old, name), getattr(new, name))
    with pytest.raises(UnknownArgumentError, match="got both 'random_state' and its new name 'seed'"):
        call(gbr, X, *args, random_state=3, seed=3, **extra)


def test_seed_is_checked_and_none_is_fresh_randomness(data, gbr):
    X, y = data
    with pytest.raises(InputError, match="seed must be a non-negative int or None; got -1"):
        nbx.ice(gbr, X, 0, max_rows=10, seed=-1)
    with pytest.raises(InputError, match="seed must be a non-negative int or None"):
        nbx.permutation_importance(gbr, X, y, seed=1.5)
    draws = {tuple(nbx.ice(quadratic, X, 0, grid_resolution=3, max_rows=20, seed=None).rows) for _ in range(4)}
    assert len(draws) > 1
    assert nbx.ice(quadratic, X, 0, grid_resolution=3, max_rows=20).rows.tolist() == sample_rows(400, 20, 0).tolist()


def test_misspelt_keywords_are_errors(data, gbr):
    X, _ = data
    with pytest.raises(TypeError, match="grid_resolutoin"):
        nbx.partial_dependence(gbr, X, 0, grid_resolutoin=5)


# ---- samples and results made from each other ------------------------------------------------------------
def test_max_rows_averages_over_a_sample_on_the_grid_and_rug_of_every_row(data, gbr):
    X, _ = data
    rows = sample_rows(400, 120, 5)
    pdp = nbx.partial_dependence(gbr, X, 0, grid_resolution=20, max_rows=120, seed=5)
    every_row = sk_partial_dependence(gbr, X, [0], grid_resolution=20, kind="average", method="brute")
    np.testing.assert_array_equal(pdp.grid[0], every_row["grid_values"][0])
    ref = sk_partial_dependence(gbr, X[rows], [0], custom_values={0: pdp.grid[0]}, kind="both", method="brute")
    np.testing.assert_array_equal(pdp.rows, rows)
    np.testing.assert_allclose(pdp.average, ref["average"][0], atol=1e-12)
    np.testing.assert_allclose(pdp.individual, ref["individual"][0], atol=1e-12)
    assert pdp.values.shape == (400, 1)
    c = nbx.ice(gbr, X, 0, grid_resolution=20, max_rows=120, seed=5)
    np.testing.assert_array_equal(c.grid, pdp.grid[0])
    np.testing.assert_array_equal(c.x, X[rows, 0])
    np.testing.assert_array_equal(c.predictions, pdp.individual)


def test_ice_and_partial_dependence_are_computed_from_each_other_without_the_model(data, gbr):
    X, _ = data
    calls = []

    def model(batch):
        calls.append(len(batch))
        return gbr.predict(batch)

    c = nbx.ice(model, X, 1, kind="centred", grid_resolution=15, max_rows=90, seed=2)
    n_calls = len(calls)
    pdp = c.partial_dependence()
    ref = nbx.partial_dependence(gbr, X, 1, grid_resolution=15, max_rows=90, seed=2)
    for name in ("average", "individual", "values", "rows"):
        np.testing.assert_allclose(getattr(pdp, name), getattr(ref, name), atol=1e-12)
    assert pdp.features == ref.features and pdp.categorical == ref.categorical and pdp.target is None
    back = ref.ice()
    plain = nbx.ice(gbr, X, 1, grid_resolution=15, max_rows=90, seed=2)
    for name in ("grid", "predictions", "curves", "rows", "x", "values"):
        np.testing.assert_allclose(getattr(back, name), getattr(plain, name), atol=1e-12)
    assert back.kind == "plain" and back.anchor == plain.anchor
    assert len(calls) == n_calls  # no new predictions
    with pytest.raises(InputError, match="ICE curves exist for one feature"):
        nbx.partial_dependence(gbr, X, [0, 1], grid_resolution=4).ice()


def test_target_is_none_for_a_regression_and_the_class_for_a_classifier(data, gbr):
    X, y = data
    assert nbx.ice(gbr, X, 0, grid_resolution=3).target is None
    assert nbx.ale(gbr, X, 0).target is None
    clf = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, np.digitize(y, [0, 2]))
    assert nbx.partial_dependence(clf, X, 0, target=2, grid_resolution=3).target == 2
    assert nbx.ale(clf, X, 1, target=0).output_label == "P(class 0)"


def test_importance_on_a_sample_is_scikit_learns_on_those_rows(data, gbr):
    X, y = data
    rows = sample_rows(400, 150, 4)
    imp = nbx.permutation_importance(gbr, X, y, n_repeats=3, max_rows=150, seed=4)
    ref = sk_permutation_importance(gbr, X[rows], y[rows], n_repeats=3, random_state=4)
    np.testing.assert_allclose(imp.importances, ref.importances, rtol=1e-10, atol=1e-12)
    assert imp.n_rows == 150
    with pytest.raises(InputError, match=r"y must be 1-D with one value per row of X \(400\)"):
        nbx.permutation_importance(gbr, X, y[:150], max_rows=150)


# ---- tables -----------------------------------------------------------------------------------------------
def test_every_result_is_a_result_with_a_table(data, gbr):
    pytest.importorskip("pandas")  # to_frame() needs it
    X, y = data
    pdp = nbx.partial_dependence(gbr, X, 0, grid_resolution=7, feature_names=["a", "b", "c", "d"])
    frame = pdp.to_frame()
    assert list(frame.columns) == ["a", "average"] and len(frame) == 7
    np.testing.assert_array_equal(frame["a"], pdp.grid[0])
    np.testing.assert_array_equal(frame["average"], pdp.average)

    pair = nbx.partial_dependence(gbr, X, [0, 1], grid_resolution=4)
    frame = pair.to_frame()
    assert list(frame.columns) == ["x0", "x1", "average"] and len(frame) == 16
    i, j = 2, 3
    row = frame[(frame["x0"] == pair.grid[0][i]) & (frame["x1"] == pair.grid[1][j])]
    assert row["average"].item() == pair.average[i, j]

    c = nbx.ice(gbr, X, 0, kind="derivative", grid_resolution=5, max_rows=30)
    long = c.to_frame()
    assert list(long.columns) == ["row", "x0", "d-ice"] and len(long) == 30 * 5
    first = long[long["row"] == c.rows[0]]
    np.testing.assert_array_equal(first["x0"], c.grid)
    np.testing.assert_array_equal(first["d-ice"], c.curves[0])
    wide = c.to_frame(wide=True)
    assert wide.shape == (30, 5) and wide.index.name == "row" and wide.columns.name == "x0"
    np.testing.assert_array_equal(wide.to_numpy(), c.curves)
    np.testing.assert_array_equal(wide.index, c.rows)

    a = nbx.ale(gbr, X, 1, bins=8)
    assert list(a.to_frame().columns) == ["x1", "effect"]
    np.testing.assert_array_equal(a.to_frame()["effect"], a.effect)
    levels = nbx.ale(gbr, X, 2).to_frame()
    assert list(levels.columns) == ["x2", "effect", "count"] and levels["count"].sum() == 400
    a2 = nbx.ale(gbr, X, [0, 1], bins=3)
    assert len(a2.to_frame()) == a2.effect.size

    imp = nbx.permutation_importance(gbr, X, y, n_repeats=3)
    frame = imp.to_frame()
    assert frame["feature"].tolist() == imp.ranking and list(frame.columns) == ["feature", "mean", "std"]
    assert frame["mean"].is_monotonic_decreasing

    for result in (pdp, c, a, imp, nbx.global_surrogate(gbr, X)):
        assert isinstance(result, Result)


def test_a_feature_named_like_a_column_keeps_its_own_column(data, gbr):
    pytest.importorskip("pandas")  # to_frame() needs it
    X, _ = data
    names = ["average", "row", "effect", "ice"]
    assert list(nbx.partial_dependence(gbr, X, 0, grid_resolution=3, feature_names=names).to_frame().columns) == [
        "average", "partial dependence"]
    assert list(nbx.ice(gbr, X, 1, grid_resolution=3, max_rows=4, feature_names=names).to_frame().columns) == [
        "row", "row (feature)", "ice"]
    assert list(nbx.ale(gbr, X, 0, feature_names=["effect", "b", "c", "d"]).to_frame().columns) == [
        "effect", "accumulated local effect"]


def test_tree_surrogate_rules_select_the_rows_of_their_leaves():
    pytest.importorskip("pandas")  # to_frame() needs it
    rng = np.random.default_rng(3)
    X = rng.integers(0, 10, size=(500, 3)).astype(float)  # thresholds are halves: the rules print exactly
    sur = nbx.global_surrogate(lambda b: 3 * b[:, 0] - b[:, 1] * (b[:, 2] > 4), X, max_depth=3,
                               feature_names=["price ($)", "b", "c"])
    frame = sur.to_frame()
    assert list(frame.columns) == ["rule", "prediction", "rows"] and frame["rows"].sum() == 500
    leaf_of_row = sur.model.apply(X)
    for rule, prediction, rows in frame.itertuples(index=False):
        mask = np.ones(len(X), bool)
        for condition in rule.split(" and "):
            name, op, value = re.fullmatch(r"(.+) (<=|>) (\S+)", condition).groups()
            column = X[:, ["price ($)", "b", "c"].index(name)]
            mask &= column <= float(value) if op == "<=" else column > float(value)
        assert mask.sum() == rows and len(np.unique(leaf_of_row[mask])) == 1
        np.testing.assert_allclose(sur.model.predict(X[mask]), prediction)


def test_classifier_surrogate_leaves_name_classes_and_linear_terms_come_with_the_intercept(data):
    pytest.importorskip("pandas")  # to_frame() needs it
    X, y = data
    labels = np.digitize(y, [0, 2])
    clf = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, labels)
    tree = nbx.global_surrogate(clf, X, max_depth=2)
    frame = tree.to_frame()
    assert set(frame["prediction"]) <= {"class 0", "class 1", "class 2"} and frame["rows"].sum() == 400
    lin = nbx.global_surrogate(lambda b: 2 * b[:, 1] - 3 * b[:, 3] + 0.5, X, kind="linear", n_terms=2)
    frame = lin.to_frame()
    assert frame["term"].tolist() == ["x3", "x1", "(intercept)"]
    np.testing.assert_allclose(frame["coefficient"], [-3, 2, 0.5], atol=1e-10)


# ---- one-line stories ---------------------------------------------------------------------------------------
def test_importance_summary_tells_the_ranking(data, gbr):
    X, y = data
    imp = nbx.permutation_importance(gbr, X, y, n_repeats=3, feature_names=["a", "b", "c", "d"])
    text = imp.summary()
    assert text.startswith("Permutation importance (drop in r2 vs the labels when shuffled (3 repeats, 400 rows)): ")
    positions = [text.index(f" {name} ") for name in imp.ranking]
    assert positions == sorted(positions)
    assert f"{imp.mean.max():.3g} ± " in text and "more" not in text
    assert imp.summary(top=2).endswith(", and 2 more")
    assert imp.quality() == ["drop in r2 vs the labels when shuffled (3 repeats, 400 rows)"]


def test_surrogate_summary_tells_its_fidelity(data, gbr):
    X, _ = data
    sur = nbx.global_surrogate(gbr, X[:300], max_depth=2, X_test=X[300:])
    assert sur.summary() == (f"Global surrogate (decision tree of depth ≤ 2) of the model's prediction: "
                             f"R² = {sur.fidelity:.3f} (held out {sur.test_fidelity:.3f})")
    assert sur.quality() == [f"Fidelity to the model's prediction: R² = {sur.fidelity:.4f}",
                             f"held out: R² = {sur.test_fidelity:.4f}"]
    lin = nbx.global_surrogate(gbr, X, kind="linear", n_terms=2)
    assert "sparse linear model with 2 terms" in lin.summary() and lin.n_terms == 2 and lin.max_depth is None


# ---- pictures -----------------------------------------------------------------------------------------------
def test_user_text_is_drawn_literally(data, gbr):
    import matplotlib

    matplotlib.use("Agg")
    X, y = data
    names = ["income from $5k to $10k", r"$\frac$", "c", "d"]
    escaped = r"income from \$5k to \$10k"
    pdp = nbx.partial_dependence(gbr, X, 0, grid_resolution=5, feature_names=names)
    assert pdp.plot().get_xlabel() == escaped
    c = nbx.ice(gbr, X, 0, kind="derivative", grid_resolution=5, feature_names=names, max_rows=20)
    ax = c.plot()
    assert ax.get_xlabel() == escaped and escaped in ax.get_title() and escaped in ax.get_ylabel()
    assert nbx.ale(gbr, X, 0, feature_names=names).plot().get_xlabel() == escaped
    ax = nbx.partial_dependence(gbr, X, [0, 1], grid_resolution=3, feature_names=names).plot()
    assert ax.get_ylabel() == r"\$\frac\$"
    imp = nbx.permutation_importance(gbr, X, y, n_repeats=2, feature_names=names)
    assert escaped in [t.get_text() for t in imp.plot().get_yticklabels()]
    tree = nbx.global_surrogate(gbr, X, max_depth=3, feature_names=names)
    texts = " ".join(t.get_text() for t in tree.plot().texts)
    assert r"\$\frac\$" in texts or escaped in texts
    for result in (pdp, c, imp, tree, nbx.global_surrogate(gbr, X, kind="linear", feature_names=names)):
        assert result._repr_png_().startswith(b"\x89PNG")  # mathtext would fail on "$\frac$"


def test_plot_returns_the_axes_it_was_given(data, gbr):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = data
    _, ax = plt.subplots()
    for result in (nbx.partial_dependence(gbr, X, 0, grid_resolution=4), nbx.ice(gbr, X, 0, grid_resolution=4),
                   nbx.ale(gbr, X, 0), nbx.permutation_importance(gbr, X, y, n_repeats=2),
                   nbx.global_surrogate(gbr, X, kind="linear")):
        assert result.plot(ax=ax) is ax
        ax.clear()
    plt.close("all")


# ---- progress ----------------------------------------------------------------------------------------------------
def test_progress_goes_to_a_callable_a_bar_or_nowhere(data, capsys):
    X, y = data
    seen = []
    nbx.partial_dependence(quadratic, X, 0, grid_resolution=60, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    for call in (lambda p: nbx.ale(quadratic, X, 0, progress=p),
                 lambda p: nbx.permutation_importance(quadratic, X, progress=p),
                 lambda p: nbx.global_surrogate(quadratic, X, progress=p)):
        seen.clear()
        call(seen.append)
        assert seen[-1] == 1.0
    capsys.readouterr()
    nbx.ice(quadratic, X, 0, grid_resolution=60, progress=True)  # 24 000 rows: three model batches
    assert "ICE" in capsys.readouterr().err
    nbx.ice(quadratic, X, 0, grid_resolution=60, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(InputError, match="progress must be None, True, False or a callable"):
        nbx.ale(quadratic, X, 0, progress="yes")


# ---- the lazy batches ------------------------------------------------------------------------------------------
def test_every_lazy_batch_is_a_lazy_rows_and_any_slice_is_its_rows():
    X = np.arange(21.0).reshape(7, 3)
    batches = [
        GridBatch(X, [0, 2], np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]])),
        RowwiseBatch(X, [1], np.arange(14.0).reshape(2, 7, 1) + 100),
        PermutedBatch(X, [0, 1, 2], sklearn_permutations(7, 2, 0)),
    ]
    expected = [
        np.concatenate([np.column_stack([np.full(7, a), X[:, 1], np.full(7, b)]) for a, b in [(10, 20), (30, 40), (50, 60)]]),
        np.concatenate([np.column_stack([X[:, 0], 100 + np.arange(7.0) + 7 * b, X[:, 2]]) for b in range(2)]),
        None,
    ]
    perms = sklearn_permutations(7, 2, 0)
    permuted = []
    for j in range(3):
        for r in range(2):
            block = X.copy()
            block[:, j] = X[perms[r], j]
            permuted.append(block)
    expected[2] = np.concatenate(permuted)
    for batch, full in zip(batches, expected, strict=True):
        assert isinstance(batch, LazyRows) and batch.shape == full.shape and len(batch) == len(full)
        for start, stop in [(0, len(full)), (3, 11), (6, 8), (len(full) - 1, len(full)), (5, 5)]:
            np.testing.assert_array_equal(batch[start:stop], full[start:stop])
        with pytest.raises(TypeError, match="contiguous slices only"):
            batch[::2]
