"""Permutation importance against scikit-learn and a closed form; global surrogates against known models."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.metrics import r2_score
from sklearn.tree import DecisionTreeRegressor

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.effects.importance import PermutedBatch, sklearn_permutations


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = 3 * X[:, 0] + 2 * X[:, 1] ** 2 + X[:, 2] + 0.2 * rng.normal(size=400)  # x3 is noise
    return X, y


@pytest.fixture(scope="module")
def gbr(data):
    X, y = data
    return GradientBoostingRegressor(n_estimators=60, random_state=0).fit(X, y)


def test_importance_equals_sklearn_for_the_same_seed(data, gbr):
    X, y = data
    for scoring in (None, "neg_mean_squared_error", "neg_mean_absolute_error"):
        ref = sk_permutation_importance(gbr, X, y, n_repeats=4, random_state=7, scoring=scoring)
        imp = nbx.permutation_importance(gbr, X, y, n_repeats=4, seed=7, scoring=scoring)
        np.testing.assert_allclose(imp.importances, ref.importances, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(imp.std, ref.importances_std, rtol=1e-10, atol=1e-12)
    clf = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, np.where(y > 1, "high", "low"))
    labels = np.where(y > 1, "high", "low")
    for scoring in ("accuracy", "neg_log_loss"):
        ref = sk_permutation_importance(clf, X, labels, n_repeats=3, random_state=1, scoring=scoring)
        imp = nbx.permutation_importance(clf, X, labels, n_repeats=3, seed=1, scoring=scoring)
        np.testing.assert_allclose(imp.importances, ref.importances, rtol=1e-9, atol=1e-12)


def test_a_noise_feature_ranks_last_with_labels_and_without(data, gbr):
    X, y = data
    imp = nbx.permutation_importance(gbr, X, y, n_repeats=5, feature_names=["a", "b", "c", "noise"])
    assert imp.ranking[-1] == "noise" and imp.ranking[0] == "a"
    assert imp.importances.shape == (4, 5) and imp.mean[3] < 0.01 and imp.against == "labels"
    own = nbx.permutation_importance(gbr, X, n_repeats=5, feature_names=["a", "b", "c", "noise"])
    assert own.against == "model" and own.baseline == 1.0 and own.ranking[-1] == "noise"


def test_model_reliance_of_a_linear_model_matches_its_closed_form():
    # f = sum b_j x_j with independent features: shuffling x_j costs R^2 ≈ 2 b_j^2 var(x_j) / var(f)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20_000, 3)) * np.array([1.0, 2.0, 0.5])
    beta = np.array([1.0, 0.5, 2.0])
    imp = nbx.permutation_importance(lambda b: b @ beta, X, n_repeats=3)
    expected = 2 * beta**2 * X.var(axis=0) / (X @ beta).var()
    np.testing.assert_allclose(imp.mean, expected, rtol=0.05)


def test_all_permutations_are_predicted_in_one_lazy_batch(data):
    X, _ = data
    calls = []

    def f(b):
        calls.append(len(b))
        return b[:, 0]

    nbx.permutation_importance(f, X, n_repeats=5)
    assert calls[-1] == 4 * 5 * 400 and len(calls) == 3  # output kind, baseline, one batch
    perms = sklearn_permutations(6, 2, 0)
    batch = PermutedBatch(np.arange(12.0).reshape(6, 2), [0, 1], perms)
    full = batch[0:24]
    np.testing.assert_array_equal(full[6:12, 0], np.arange(12.0).reshape(6, 2)[perms[1], 0])
    np.testing.assert_array_equal(batch[5:14], full[5:14])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.zeros(3)}, r"y must be 1-D with one value per row of X \(400\); got shape \(3,\)"),
        ({"y": np.zeros(400), "scoring": "accuracy"}, "scoring='accuracy' is not valid for a regression"),
        ({"n_repeats": 0}, "n_repeats must be an int >= 1"),
        ({"y": np.full(400, np.nan)}, "y has NaN or infinite values"),
    ],
)
def test_importance_validates(data, kwargs, message):
    X, _ = data
    with pytest.raises(InputError, match=message):
        nbx.permutation_importance(lambda b: b[:, 0], X, **kwargs)


def test_importance_rejects_unknown_class_labels(data):
    X, y = data
    clf = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y > 1)
    labels = (y > 1).astype(object)
    labels[0] = "maybe"
    with pytest.raises(InputError, match=r"y has labels \['maybe'\] that are not among the model's classes \[False, True\]"):
        nbx.permutation_importance(clf, X, labels)


def test_tree_surrogate_of_a_tree_is_exact_and_fidelity_is_r2(data):
    X, y = data
    black_box = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, y)
    sur = nbx.global_surrogate(black_box, X, max_depth=2, feature_names=["a", "b", "c", "d"])
    assert sur.fidelity_name == "R2" and sur.fidelity == pytest.approx(1.0)
    np.testing.assert_allclose(sur.model.predict(X), black_box.predict(X))
    assert "a <=" in sur.rules or "b <=" in sur.rules


def test_fidelity_is_r2_against_the_black_box_and_held_out(data, gbr):
    X, y = data
    sur = nbx.global_surrogate(gbr, X[:300], max_depth=3, X_test=X[300:])
    assert sur.fidelity == pytest.approx(r2_score(gbr.predict(X[:300]), sur.model.predict(X[:300])), abs=1e-12)
    assert sur.test_fidelity == pytest.approx(r2_score(gbr.predict(X[300:]), sur.model.predict(X[300:])), abs=1e-12)
    deeper = nbx.global_surrogate(gbr, X[:300], max_depth=6)
    assert deeper.fidelity > sur.fidelity


def test_sparse_linear_surrogate_finds_the_true_terms():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6))
    sur = nbx.global_surrogate(lambda b: 2 * b[:, 1] - 3 * b[:, 4] + 0.5, X, kind="linear", n_terms=2)
    assert sur.fidelity == pytest.approx(1.0) and [n for n, _ in sur.terms()] == ["x4", "x1"]
    np.testing.assert_allclose(sur.coefficients, [0, 2, 0, 0, -3, 0], atol=1e-10)
    assert sur.intercept == pytest.approx(0.5) and "-3 * x4" in sur.rules
    one = nbx.global_surrogate(lambda b: 2 * b[:, 1] - 3 * b[:, 4], X, kind="linear", n_terms=1)
    assert [n for n, _ in one.terms()] == ["x4"] and 0 < one.fidelity < 1


def test_classifier_tree_surrogate_reports_agreement(data):
    X, y = data
    clf = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, np.digitize(y, [0, 3]))
    sur = nbx.global_surrogate(clf, X, max_depth=3, target=2)
    assert sur.fidelity_name == "agreement"
    assert sur.fidelity == pytest.approx(np.mean(sur.model.predict(X) == clf.predict(X)))
    lin = nbx.global_surrogate(clf, X, kind="linear", target=2)
    assert lin.fidelity_name == "R2" and lin.output_label == "P(class 2)"
    assert lin.fidelity == pytest.approx(r2_score(clf.predict_proba(X)[:, 2], lin.model.predict(X)), abs=1e-12)


def test_surrogate_validates(data):
    X, _ = data
    with pytest.raises(InputError, match="kind='forest' is not valid"):
        nbx.global_surrogate(lambda b: b[:, 0], X, kind="forest")
    with pytest.raises(InputError, match="max_depth must be an int >= 1"):
        nbx.global_surrogate(lambda b: b[:, 0], X, max_depth=0)
    with pytest.raises(InputError, match="X_test has 1 NaN"):
        nbx.global_surrogate(lambda b: b[:, 0], X, X_test=np.where(np.eye(1, 4, dtype=bool), np.nan, 0.0))
    with pytest.raises(InputError, match="feature_names has 4 names but X_test has 3 columns"):
        nbx.global_surrogate(lambda b: b[:, 0], X, X_test=np.zeros((2, 3)))


def test_importance_and_surrogate_plots(data, gbr):
    import matplotlib

    matplotlib.use("Agg")
    X, y = data
    imp = nbx.permutation_importance(gbr, X, y, n_repeats=3)
    ax = imp.plot()
    assert len(ax.patches) == 4 and [t.get_text() for t in ax.get_yticklabels()][-1] == imp.ranking[0]
    assert nbx.global_surrogate(gbr, X, max_depth=2).plot().get_title().startswith("Global surrogate (tree): R2 =")
    assert nbx.global_surrogate(gbr, X, kind="linear")._repr_png_().startswith(b"\x89PNG")
