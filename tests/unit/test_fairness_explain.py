"""Why the gap: on the synthetic hiring data the injected proxy is found and ranked first; the explanations by
group are the other explainers' own numbers on each group's rows; associations match their closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats.contingency import association
from sklearn.ensemble import GradientBoostingClassifier

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.fairness import proxies


@pytest.fixture(scope="module")
def hiring():
    data = nbx.datasets.hiring(1600, seed=1)
    clf = GradientBoostingClassifier(n_estimators=60, random_state=0).fit(data.X[:800], data.y[:800])
    a = nbx.audit(clf, data.X[800:], data.y[800:], sensitive={k: v[800:] for k, v in data.sensitive.items()},
                  categories=data.groups, feature_names=data.feature_names, class_names=data.class_names,
                  n_bootstrap=50)
    return data, clf, a


def test_the_generator_injects_the_bias_through_the_proxy():
    data = nbx.datasets.hiring(4000, seed=0)
    women = data.sensitive["Gender"] == "Female"
    gap = data.X[:, data.feature_names.index("career_gap")]
    assert gap[women].mean() > 2 * gap[~women].mean()  # the proxy is associated with gender
    assert data.y[women].mean() < 0.8 * data.y[~women].mean()  # the past decisions are biased
    assert abs(data.qualified[women].mean() - data.qualified[~women].mean()) < 0.04  # the merit is not
    fair = nbx.datasets.hiring(4000, seed=0, bias=0)
    np.testing.assert_array_equal(fair.y, fair.qualified)
    again = nbx.datasets.hiring(4000, seed=0)
    np.testing.assert_array_equal(again.X, data.X)  # seeded
    with pytest.raises(InputError, match="n must be an int >= 50"):
        nbx.datasets.hiring(10)


def test_the_injected_proxy_is_ranked_first(hiring):
    data, _, a = hiring
    assert a.disparity("disparate_impact", "Gender").passes is False  # the model inherits the bias
    p = a.proxies("Gender", n_rows=15, n_background=40)
    assert p.ranking()[0] == data.proxy == "career_gap"
    assert p.top(1)[0][0] == "career_gap"
    j = p.feature_names.index("career_gap")
    assert p.association[j] > 0.25 and p.share[j] > 0.05
    assert p.score[j] > 3 * np.sort(p.score)[-2]  # clearly first
    assert p.share.sum() == pytest.approx(1.0)
    assert not p.sensitive.any() and p.direct() == []  # the model never saw gender
    df = p.to_frame()
    assert df["feature"].iloc[0] == "career_gap" and "career_gap" in p.summary()
    # a decoy associated with age but unused by the decisions: associated, yet not a proxy of the explanation
    q = a.proxies("Age band", n_rows=15, n_background=40)
    k = q.feature_names.index("commute_km")
    assert q.association[k] > 0.4 and q.share[k] < 0.05


def test_shapley_by_group_is_shapley_tabular_on_each_groups_rows(hiring):
    data, clf, a = hiring
    s = a.shapley_by_group("Gender", n_rows=4, n_background=30)
    assert s.values.shape == (8, 7) and s.group_names == ["Female", "Male"]
    X = data.X[800:]
    for i in (0, 5):
        row = s.rows[i]
        e = nbx.shapley_tabular(clf, X[row], X, target=1, n_background=30, feature_names=data.feature_names)
        np.testing.assert_allclose(s.values[i], e.values, rtol=1e-10, atol=1e-12)
    assert a._grouping("Gender").codes[s.rows[0]] == 0 and a._grouping("Gender").codes[s.rows[-1]] == 1
    np.testing.assert_allclose(s.mean_abs[1], np.abs(s.values[s.row_groups == 1]).mean(axis=0))
    assert s.to_frame().shape == (7, 3) and s.ranking()[0] in data.feature_names
    assert "by Gender" in s.summary()


def test_effect_by_group_is_ice_on_each_groups_rows(hiring):
    data, clf, a = hiring
    e = a.effect_by_group("career_gap", "Gender", grid_resolution=8, max_rows=50)
    X = data.X[800:]
    women = np.flatnonzero(data.sensitive["Gender"][800:] == "Female")
    ref = nbx.ice(clf, X[women], "career_gap", grid=e.grid, target=1, feature_names=data.feature_names,
                  max_rows=50)
    np.testing.assert_allclose(e.curves[0].predictions, ref.predictions)
    assert e.average.shape == (2, len(e.grid))
    assert (e.average[:, -1] < e.average[:, 0]).all()  # a longer career gap lowers P(hired) in both groups
    assert len(e.to_frame()) == 2 * len(e.grid) and "career_gap" in e.summary()


def test_counterfactuals_for_the_worst_off_group(hiring):
    data, _, a = hiring
    c = a.counterfactuals(attribute="Gender", n_rows=3, integer=["education", "referral"])
    assert c.group == a.groups("Gender").worst["selection_rate"] == "Female"
    assert (a.decision[c.rows] == 0).all()  # people who were not selected
    assert (data.sensitive["Gender"][800:][c.rows] == "Female").all()
    for r in c.results:
        assert r.target_name == "hired"
        if r.valid:
            assert r.best.prediction[1] >= 0.5  # selected at the group's threshold
    assert c.change_rate.shape == (7,) and "rejected members of Female" in c.summary()
    with pytest.raises(TypeError, match="did you mean 'integer'"):
        a.counterfactuals(integr=["education"])


def test_associations_match_their_closed_forms():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 500)
    values = rng.integers(0, 4, 500) + (codes == 2)
    table = np.zeros((5, 3), dtype=np.int64)
    np.add.at(table, (values, codes), 1)
    assert proxies.cramers_v(values, codes, 3) == pytest.approx(association(table[table.sum(1) > 0], method="cramer"))
    x = rng.normal(size=500) + codes
    means = np.array([x[codes == k].mean() for k in range(3)])
    between = sum((codes == k).sum() * (means[k] - x.mean()) ** 2 for k in range(3))
    assert proxies.correlation_ratio(x, codes, 3) == pytest.approx(np.sqrt(between / ((x - x.mean()) ** 2).sum()))
    assert proxies.correlation_ratio(np.ones(10), np.arange(10) % 2, 2) == 0.0


def test_why_methods_need_the_model_and_a_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    g = rng.choice(["a", "b"], 200)

    def regression(Z):
        return np.asarray(Z)[:, :1]

    a = nbx.audit(regression, X, X[:, 0] + rng.normal(size=200), sensitive={"g": g}, n_bootstrap=10)
    with pytest.raises(InputError, match="counterfactuals\\(\\) needs a classifier"):
        a.counterfactuals()
    with pytest.raises(InputError, match="fair_thresholds\\(\\) needs a classifier"):
        a.fair_thresholds()
