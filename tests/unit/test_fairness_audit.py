"""nbx.audit as a user meets it: the credit data with its Gender and Ethnicity columns and an approval decision,
every kind of input for the groups and labels, tables, pictures and one-line stories, and bad input named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbexplain as nbx
from nbexplain.errors import InputError


@pytest.fixture(scope="module")
def credit():
    data = nbx.datasets.credit()
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(data.X[:200], data.y[:200])
    return data, clf


@pytest.fixture(scope="module")
def credit_audit(credit):
    data, clf = credit
    return nbx.audit(clf, data.X[200:], data.y[200:], sensitive=["Gender", "Ethnicity"], categories=data.categories,
                     feature_names=data.feature_names, class_names=data.class_names, target="low balance",
                     n_bootstrap=200)


def test_credit_approval_is_the_favourable_class(credit, credit_audit):
    data, clf = credit
    a = credit_audit
    approve = clf.predict_proba(data.X[200:])[:, 0]  # P(low balance): approve a limit increase at >= 0.5
    np.testing.assert_array_equal(a.score, approve)
    np.testing.assert_array_equal(a.y, (data.y[200:] == 0).astype(int))
    assert a.target_name == "low balance" and a.output_label == "P(low balance)"
    assert a.groups("Gender").names == ["Female", "Male"]
    assert a.groups("Ethnicity").names == ["African American", "Asian", "Caucasian"]
    assert a.attributes == ["Gender", "Ethnicity", "Gender × Ethnicity"]
    assert a.sensitive_features == ["Gender", "Ethnicity"]
    women = data.X[200:, data.feature_names.index("Gender")] == 0
    assert a.value("selection_rate", "Female", "Gender")[0] == pytest.approx((approve[women] >= 0.5).mean())
    # 200 rows: the intersections are small, and say so
    gm = a.groups("Gender × Ethnicity")
    assert gm.too_small[:, a.metrics.index("fpr")].any()
    assert a.small_groups() and "group(s) under 30 rows" in a.quality()[1]


def test_tables(credit_audit):
    a = credit_audit
    long = a.to_frame()
    assert list(long.columns) == ["attribute", "group", "metric", "value", "low", "high", "count", "too_small"]
    assert len(long) == (1 + 2 + 3 + 6) * len(a.metrics)
    row = long[(long.group == "Asian") & (long.metric == "tpr")].iloc[0]
    v, lo, hi = a.value("tpr", "Asian", "Ethnicity")
    assert (row.value, row.low, row.high) == (v, lo, hi) and lo <= v <= hi
    wide = a.to_frame("wide")
    assert list(wide.columns[:3]) == ["attribute", "group", "size"] and len(wide) == 12
    disparities = a.to_frame("disparities")
    assert len(disparities) == 3 * 4 and set(disparities.measure) >= {"disparate_impact"}
    assert disparities.iloc[0].passes in (True, False)
    with pytest.raises(InputError, match="what='long' is not valid"):
        a.to_frame("long")


def test_summary_findings_and_quality_are_text(credit_audit):
    a = credit_audit
    s = a.summary()
    assert s.startswith("selection rate by Gender: Female ") and "four-fifths rule" in s
    assert any("disparate-impact ratio for Ethnicity" in f for f in a.findings())
    assert "95% bootstrap intervals over 200 resamples of 200 rows" == a.quality()[0]
    d = a.disparity("disparate_impact", "Ethnicity")
    assert d.describe().startswith(f"disparate-impact ratio for Ethnicity: {d.value:.3f}")


def test_pictures(credit_audit):
    a = credit_audit
    ax = a.plot()
    assert ax.get_title().startswith("selection rate by Gender")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Female", "Male"]  # the first group on top
    assert [t.get_position()[1] for t in ax.get_yticklabels()] == [1, 0]
    assert ax.get_legend().get_texts()[0].get_text() == "four-fifths of the highest rate"
    ax = a.plot(metric="tpr", attribute="Gender × Ethnicity")
    assert any("(too small)" in t.get_text() for t in ax.get_yticklabels())
    ax = a.plot(metric="calibration", attribute="Ethnicity")
    assert ax.get_xlabel() == "mean P(low balance)" and len(ax.get_lines()) == 4
    assert a._repr_png_()[:4] == b"\x89PNG"
    assert a.plot(metric="size").get_xlabel() == "rows"


def test_group_names_are_drawn_as_text():
    rng = np.random.default_rng(0)
    X = rng.random((300, 2))
    y = (rng.random(300) < X[:, 0]).astype(int)
    names = np.where(X[:, 1] > 0.5, "$5k to $10k", "under $5k")
    a = nbx.audit(nbx.as_model(lambda Z: np.column_stack([1 - Z[:, 0], Z[:, 0]]), output="probability"), X, y,
                  sensitive={"income": names}, n_bootstrap=20)
    labels = [t.get_text() for t in a.plot().get_yticklabels()]
    assert labels == [r"\$5k to \$10k", r"under \$5k"]


def test_dataframes_series_and_string_labels():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = np.where(df.a + rng.normal(size=400) > 0, "approved", "denied")
    clf = LogisticRegression().fit(df, y)
    groups = pd.Series(rng.choice(["p", "q"], 400), name="site")
    a = nbx.audit(clf, df, y, sensitive=groups, target="approved", n_bootstrap=20)
    assert a.attributes == ["site"] and a.target_name == "approved"
    np.testing.assert_array_equal(a.y, (y == "approved").astype(int))
    b = nbx.audit(clf, df, pd.Series(y), sensitive=pd.DataFrame({"site": groups, "other": groups}), n_bootstrap=0,
                  target="approved")
    assert b.attributes == ["site", "other", "site × other"] and np.isnan(b.overall.low).all()
    assert b.quality()[0].startswith("no intervals")


def test_bad_input_is_named(credit):
    data, clf = credit
    X, y = data.X[:50], data.y[:50]
    common = dict(feature_names=data.feature_names)
    with pytest.raises(InputError, match="sensitive='Gendr' is not a feature name"):
        nbx.audit(clf, X, y, sensitive=["Gendr"], **common)
    with pytest.raises(InputError, match="sensitive attribute 'g' must have one value per row \\(50\\)"):
        nbx.audit(clf, X, y, sensitive={"g": np.zeros(3)}, **common)
    with pytest.raises(InputError, match="y must have one label per row of X \\(50\\)"):
        nbx.audit(clf, X, y[:10], sensitive=["Gender"], **common)
    with pytest.raises(InputError, match="y has labels \\[7\\] that are not the model's classes"):
        nbx.audit(clf, X, np.full(50, 7), sensitive=["Gender"], **common)
    with pytest.raises(InputError, match="threshold must be a finite number >= 0 and <= 1; got 1.5"):
        nbx.audit(clf, X, y, sensitive=["Gender"], threshold=1.5, **common)
    with pytest.raises(InputError, match="n_bootstrap must be an int >= 0"):
        nbx.audit(clf, X, y, sensitive=["Gender"], n_bootstrap=-1, **common)
    with pytest.raises(InputError, match="ci must be a number strictly between 0 and 1"):
        nbx.audit(clf, X, y, sensitive=["Gender"], ci=1.0, **common)
    with pytest.raises(InputError, match="target='approved' is not a class name"):
        nbx.audit(clf, X, y, sensitive=["Gender"], target="approved", **common)
    with pytest.raises(InputError, match="sensitive must name"):
        nbx.audit(clf, X, y, sensitive=[], **common)
    with pytest.raises(InputError, match="missing values"):
        nbx.audit(clf, X, y, sensitive={"g": np.r_[np.nan, np.zeros(49)]}, **common)
    with pytest.raises(TypeError, match="n_bootstraps"):
        nbx.audit(clf, X, y, sensitive=["Gender"], n_bootstraps=10, **common)
    a = nbx.audit(clf, X, y, sensitive=["Gender"], n_bootstrap=10, **common)
    with pytest.raises(InputError, match="metric='selection' is not valid.*did you mean 'selection_rate'"):
        a.plot(metric="selection")
    with pytest.raises(InputError, match="attribute='Ethnicity' is not valid"):
        a.groups("Ethnicity")


def test_progress_is_reported(credit):
    data, clf = credit
    seen = []
    nbx.audit(clf, data.X, data.y, sensitive=["Gender"], feature_names=data.feature_names, n_bootstrap=300,
              progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(a <= b for a, b in zip(seen, seen[1:], strict=False))
