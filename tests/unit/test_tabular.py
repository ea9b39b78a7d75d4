"""Tabular input validation: as_table, feature_index, tabular_output."""

from __future__ import annotations

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.adapters.outputs import tabular_output
from nbexplain.errors import InputError
from nbexplain.inputs.tables import (
    Table,
    as_table,
    feature_index,
    feature_indices,
    tabular_model,
)


def test_array_becomes_a_read_only_float64_copy_with_default_names():
    X = np.arange(12, dtype=np.int32).reshape(4, 3)
    t = as_table(X)
    assert isinstance(t, Table) and t.values.dtype == np.float64 and t.values.shape == (4, 3)
    assert t.feature_names == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(t.values, X)
    with pytest.raises(ValueError):
        t.values[0, 0] = 5
    Xf = X.astype(np.float64)
    as_table(Xf)
    Xf[0, 0] = 7  # the caller's array stays writable (the table holds a copy)
    assert as_table(t) is t


def test_categorical_detection_and_overrides():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random(50), rng.integers(0, 3, 50), rng.integers(0, 40, 50), rng.random(50) > 0.5])
    t = as_table(X, ["a", "b", "c", "d"])
    assert t.categorical.tolist() == [False, True, False, True]  # c has too many levels, d is boolean
    assert as_table(X, categorical=["x2"]).categorical.tolist() == [False, False, True, False]
    assert as_table(X, categorical=[0, -1]).categorical.tolist() == [True, False, False, True]
    assert as_table(X, categorical=np.zeros(4, bool)).categorical.sum() == 0
    assert as_table(X, max_levels=50).categorical.tolist() == [False, True, True, True]
    assert t.levels("b").tolist() == [0.0, 1.0, 2.0]


def test_dataframe_gives_names_and_codes_text_columns_as_categories():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"temp": [1.5, 2.5, 3.0], "holiday": [0, 1, 0], "flag": [True, False, True]})
    t = as_table(df)
    assert t.feature_names == ["temp", "holiday", "flag"] and t.frame_columns == ["temp", "holiday", "flag"]
    np.testing.assert_array_equal(t.values[:, 2], [1, 0, 1])
    coded = as_table(df.assign(city=["b", "a", "b"]))  # text is a category (#12), coded 0..k-1 in sorted order
    np.testing.assert_array_equal(coded.values[:, 3], [1, 0, 1])
    assert coded.categorical[3] and coded.labels("city") == ["a", "b"]


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (np.zeros(5), {}, r"X must be 2-D \(rows, features\); got shape \(5,\)"),
        (np.zeros((0, 3)), {}, r"X must have at least one row and one column; got shape \(0, 3\)"),
        (np.array([[1.0, np.nan], [0, 1]]), {}, r"X has 1 NaN or infinite values \(first at row 0, column 1\)"),
        (np.array([[1.0, np.inf]]), {"name": "X_test"}, r"X_test has 1 NaN or infinite values"),
        (np.array([["a", "b"]]), {}, "X must be an array of real numbers; got dtype <U1"),
        (np.array([[1.0, "a"]], dtype=object), {}, "X must contain numbers only"),
        (np.array([[1j, 2]]), {}, "X must be an array of real numbers; got dtype complex128"),
        (np.zeros((2, 2)), {"feature_names": ["a"]}, "feature_names has 1 names but X has 2 columns"),
        (np.zeros((2, 2)), {"feature_names": ["a", "a"]}, r"feature_names must be unique; repeated: \['a'\]"),
        (np.zeros((2, 2)), {"feature_names": "ab"}, "feature_names must be a sequence of str"),
        (np.zeros((2, 2)), {"categorical": ["zz"]}, r"categorical='zz' is not a feature name"),
        (np.zeros((2, 2)), {"categorical": np.ones(3, bool)}, "categorical as a mask must have one bool per feature"),
    ],
)
def test_bad_input_is_named_in_the_error(X, kwargs, message):
    with pytest.raises(InputError, match=message):
        as_table(X, **kwargs)


def test_feature_index_by_name_and_position():
    t = as_table(np.zeros((2, 3)), ["temp", "hum", "wind"])
    assert feature_index(t, "hum") == 1 and feature_index(t, 2) == 2 and feature_index(t, -1) == 2
    assert feature_indices(t, ["wind", 0]) == [2, 0]
    with pytest.raises(InputError, match=r"feature='rain' is not a feature name; feature names: \['temp', 'hum', 'wind'\]"):
        feature_index(t, "rain")
    with pytest.raises(InputError, match=r"feature=3 is out of range: there are 3 features \(0..2\)"):
        feature_index(t, 3)
    with pytest.raises(InputError, match="feature must be a feature index"):
        feature_index(t, 1.0)
    with pytest.raises(InputError, match="features must name distinct features"):
        feature_indices(t, ["temp", 0])
    with pytest.raises(InputError, match="features must name at most 2 features"):
        feature_indices(t, [0, 1, 2], max_count=2)


def test_tabular_output_regression_and_classifiers():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    t = as_table(X)
    reg = tabular_output(nbx.as_model(LinearRegression().fit(X, X[:, 0])), t)
    assert reg.kind == "regression" and reg.label == "prediction"
    with pytest.raises(InputError, match="target=1 is not valid: the model has one output"):
        tabular_output(nbx.as_model(LinearRegression().fit(X, X[:, 0])), t, target=1)
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    m = nbx.as_model(LogisticRegression().fit(X, y3), class_names=["low", "mid", "high"])
    out = tabular_output(m, t, "high")
    assert (out.kind, out.target, out.label) == ("probability", 2, "P(high)")
    scores = m.predict(X)
    np.testing.assert_allclose(out(m, scores), m.raw.predict_proba(X)[:, 2])
    assert tabular_output(nbx.as_model(LogisticRegression().fit(X, y3 > 0)), t).target == 1  # binary: positive
    with pytest.raises(InputError, match=r"target=5 is out of range: the model has 3 classes"):
        tabular_output(m, t, 5)


def test_estimator_fitted_on_a_dataframe_gets_dataframes(recwarn):
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LinearRegression

    df = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0]})
    est = LinearRegression().fit(df, [0.0, 1, 2, 3])
    model = tabular_model(est, as_table(df))
    np.testing.assert_allclose(model.predict(df.to_numpy())[:, 0], est.predict(df))
    assert not [w for w in recwarn if "feature names" in str(w.message)]


def test_local_output_explains_the_predicted_class_unless_told():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from nbexplain.adapters.outputs import local_output

    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 2))
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    m = nbx.as_model(LogisticRegression().fit(X, y3), class_names=["low", "mid", "high"])
    x = np.array([2.0, 0.0])
    out, scores = local_output(m, x)
    assert (out.kind, out.target, out.label) == ("probability", 2, "P(high)")  # predicted at x
    np.testing.assert_allclose(scores, m.raw.predict_proba(x[None])[0])
    assert local_output(m, x, "low")[0].target == 0
    logits = nbx.as_model(lambda A: np.asarray(A) @ np.ones((2, 3)) * [1, 2, 3])
    score, _ = local_output(logits, x, 1, "score")
    assert score.kind == "score" and score.label == "score of class 1"
    np.testing.assert_allclose(score(logits, logits.predict(X[:3])), X[:3].sum(1) * 2)
    reg, _ = local_output(nbx.as_model(LinearRegression().fit(X, X[:, 0])), x)
    assert reg.kind == "regression" and reg.label == "prediction"
    with pytest.raises(InputError, match="target=2 is not valid: the model has one output"):
        local_output(nbx.as_model(LinearRegression().fit(X, X[:, 0])), x, 2)
    with pytest.raises(InputError, match="output='logits' is not valid"):
        local_output(m, x, output="logits")


def test_as_row_and_feature_set():
    from nbexplain.inputs.tables import as_row, feature_set

    t = as_table(np.zeros((3, 3)), ["a", "b", "c"])
    np.testing.assert_array_equal(as_row([1, 2, 3], t), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(as_row(np.array([[1, 2, 3]]), t), [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="x has 2 features but the training data has 3"):
        as_row([1, 2], t)
    with pytest.raises(InputError, match="x must be a single row; got 2 rows"):
        as_row(np.zeros((2, 3)), t)
    with pytest.raises(InputError, match="x has 1 NaN"):
        as_row([1, np.nan, 3], t)
    assert feature_set(t, ["c", 0, "c"], "immutable") == [0, 2] and feature_set(t, None, "integer") == []
    assert feature_set(t, "b", "integer") == [1]
    with pytest.raises(InputError, match="immutable must be a list of feature names or indices; got dict"):
        feature_set(t, {"a": 1}, "immutable")


def test_tabular_model_names_classes():
    from sklearn.tree import DecisionTreeClassifier

    X = np.random.default_rng(0).normal(size=(30, 2))
    words = np.where(X[:, 0] > 0, "yes", "no")
    assert tabular_model(DecisionTreeClassifier().fit(X, words)).class_names == ["no", "yes"]
    assert tabular_model(DecisionTreeClassifier().fit(X, words == "yes")).class_names is None  # bools: codes
    named = tabular_model(DecisionTreeClassifier().fit(X, words), class_names=["N", "Y"])
    assert named.class_names == ["N", "Y"]
    model = nbx.as_model(DecisionTreeClassifier().fit(X, words))
    model.predict(X[:1])
    with pytest.raises(InputError, match="class_names has 3 names but the model has 2 classes"):
        tabular_model(model, class_names=["a", "b", "c"])
    with pytest.raises(InputError, match="class_names must be a sequence of str"):
        tabular_model(model, class_names="ab")
