"""pandas ``category`` and string columns are categorical features: coded for the kernels, given back to the
model as it saw them, and named by their labels in sliders, summaries and plots (#12)."""

from __future__ import annotations

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.inputs.tables import as_table

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame_and_model():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({
        "income": rng.normal(50, 15, n),
        "student": pd.Categorical(rng.choice(["No", "Yes"], n), categories=["No", "Yes"]),
        "city": rng.choice(["Oslo", "Lima", "Pune"], n).astype(object),
    })
    y = ((df["income"] > 50) ^ (df["student"] == "Yes") | (df["city"] == "Lima")).astype(int)
    pre = ColumnTransformer([("cat", OneHotEncoder(), ["student", "city"])], remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(df, y)
    return df, y, model


def test_category_and_string_columns_become_coded_categorical_features(frame_and_model):
    df, _, _ = frame_and_model
    t = as_table(df)
    assert t.categorical.tolist() == [False, True, True]
    assert t.labels("student") == ["No", "Yes"] and t.labels("city") == ["Lima", "Oslo", "Pune"]
    np.testing.assert_array_equal(t.column("city"), pd.Categorical(df["city"]).codes)
    assert t.label("city", 2) == "Pune" and t.label("income", 51.25) == "51.25"
    with pytest.raises(nbx.InputError, match=r"X column 'city' has 1 missing values"):
        as_table(df.assign(city=df["city"].where(df.index != 3)))


def test_the_model_gets_its_categories_back_and_explanations_name_them(frame_and_model):
    df, _, model = frame_and_model
    row = df.iloc[[5]]
    expected = model.predict_proba(row)[0]
    sv = nbx.shapley_tabular(model, row, df.iloc[:40])
    np.testing.assert_allclose(sv.prediction, expected[sv.target], rtol=1e-12)  # decoded for the pipeline
    np.testing.assert_allclose(sv.values.sum(), sv.prediction - sv.base_value, atol=1e-9)
    assert sv.value_labels[1] == str(df["student"].iloc[5]) and sv.value_labels[2] == df["city"].iloc[5]
    assert f"city = {df['city'].iloc[5]}" in [t.get_text() for t in sv.plot().get_yticklabels()]
    assert sv.to_frame()["label"].tolist()[2] == df["city"].iloc[5]
    series = df.iloc[5]  # a Series row with labels in it works too
    np.testing.assert_allclose(nbx.shapley_tabular(model, series, df.iloc[:40]).values, sv.values)


def test_sliders_and_counterfactuals_move_between_labelled_categories(frame_and_model):
    df, _, model = frame_and_model
    w = nbx.CounterfactualSliders(model, df, df.iloc[[7]], explainer="none")
    city = [f for f in w.features if f["name"] == "city"][0]
    assert city["categorical"] and city["labels"] == ["Lima", "Oslo", "Pune"]
    result = nbx.counterfactual(model, df.iloc[[7]], df, n=1)
    for change in result.changes(0):
        if change["feature"] in ("student", "city"):
            assert change["label"] in {"No", "Yes", "Lima", "Oslo", "Pune"}


def test_effects_plots_label_the_levels(frame_and_model):
    df, _, model = frame_and_model
    pdp = nbx.partial_dependence(model, df, "city")
    assert [t.get_text() for t in pdp.plot().get_xticklabels()] == ["Lima", "Oslo", "Pune"]
    ale = nbx.ale(model, df, "student")
    assert [t.get_text() for t in ale.plot().get_xticklabels()] == ["No", "Yes"]
