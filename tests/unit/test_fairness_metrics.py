"""Audit numbers against independent references: fairlearn's MetricFrame (point values and bootstrap intervals
with the same resamples), scikit-learn's metrics on each group's rows, intersections filtered by hand, the
disparities by hand, and the coverage of the intervals on a population whose truth is known."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
)
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

import nbexplain as nbx
from nbexplain.methods.fairness import bootstrap, metrics

SKLEARN = {
    "base_rate": lambda y, p: float(np.mean(y)),
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "tpr": recall_score,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
}


def _probabilities(X):
    p = np.asarray(X)[:, 0]
    return np.column_stack([1 - p, p])


def ScoreModel():
    """A 'model' whose probability of class 1 is column 0 of X (so the scores are known exactly)."""
    return nbx.as_model(_probabilities, output="probability")


@pytest.fixture(scope="module")
def population():
    rng = np.random.default_rng(3)
    n = 3000
    gender = rng.choice([0, 1], n, p=[0.45, 0.55])
    ethnicity = rng.choice([0, 1, 2], n, p=[0.6, 0.3, 0.1])
    score = np.round(1 / (1 + np.exp(-(rng.normal(0, 1.3, n) + 0.4 * gender - 0.3 * ethnicity))), 3)
    y = (rng.random(n) < 0.15 + 0.7 * score).astype(int)
    X = np.column_stack([score, gender, ethnicity, rng.normal(size=n)])
    return X, y


@pytest.fixture(scope="module")
def credit_audit(population):
    X, y = population
    return nbx.audit(ScoreModel(), X, y, sensitive=["Gender", "Ethnicity"],
                     feature_names=["score", "Gender", "Ethnicity", "noise"],
                     categories={"Gender": ["Female", "Male"], "Ethnicity": ["A", "B", "C"]}, n_bootstrap=200, seed=7)


def frame_of(X):
    return pd.DataFrame({"Gender": np.where(X[:, 1] == 0, "Female", "Male"),
                         "Ethnicity": np.array(["A", "B", "C"])[X[:, 2].astype(int)]})


def test_every_group_metric_equals_metricframe_and_sklearn(population, credit_audit):
    X, y = population
    a = credit_audit
    decision = (X[:, 0] >= 0.5).astype(int)
    sensitive = frame_of(X)
    for attribute in ("Gender", "Ethnicity"):
        mf = MetricFrame(metrics=SKLEARN, y_true=y, y_pred=decision, sensitive_features=sensitive[attribute])
        auc = MetricFrame(metrics=roc_auc_score, y_true=y, y_pred=X[:, 0], sensitive_features=sensitive[attribute])
        gm = a.groups(attribute)
        assert gm.names == list(mf.by_group.index)
        for metric in SKLEARN:
            np.testing.assert_allclose(gm.values[:, a.metrics.index(metric)], mf.by_group[metric].to_numpy(),
                                       rtol=1e-14, atol=0, err_msg=f"{attribute} {metric}")
        np.testing.assert_allclose(gm.values[:, a.metrics.index("roc_auc")], auc.by_group.to_numpy(), rtol=1e-13)
        np.testing.assert_array_equal(gm.sizes, sensitive[attribute].value_counts().sort_index().to_numpy())
    for metric in SKLEARN:  # all rows
        assert a.overall.values[0, a.metrics.index(metric)] == pytest.approx(SKLEARN[metric](y, decision), abs=1e-15)


def test_intersections_equal_the_metrics_of_the_filtered_rows(population, credit_audit):
    X, y = population
    a = credit_audit
    gm = a.groups("Gender × Ethnicity")
    assert gm.names == [f"{g} × {e}" for g in ("Female", "Male") for e in ("A", "B", "C")]
    decision = (X[:, 0] >= 0.5).astype(int)
    for k, name in enumerate(gm.names):
        g, e = name.split(" × ")
        rows = (X[:, 1] == ["Female", "Male"].index(g)) & (X[:, 2] == ["A", "B", "C"].index(e))
        assert gm.sizes[k] == rows.sum()
        for metric, fn in SKLEARN.items():
            assert gm.values[k, a.metrics.index(metric)] == pytest.approx(fn(y[rows], decision[rows]), abs=1e-15)
        assert gm.values[k, a.metrics.index("roc_auc")] == pytest.approx(roc_auc_score(y[rows], X[rows, 0]), abs=1e-13)
    # and MetricFrame with both attributes agrees (its intersections)
    mf = MetricFrame(metrics=SKLEARN, y_true=y, y_pred=decision, sensitive_features=frame_of(X))
    np.testing.assert_allclose(gm.values[:, 1], mf.by_group["selection_rate"].to_numpy(), rtol=1e-14)


def test_calibration_error_and_reliability_curve_equal_calibration_curve(population, credit_audit):
    X, y = population
    gm = credit_audit.groups("Ethnicity")
    for k in range(3):
        rows = X[:, 2] == k
        prob_true, prob_pred = calibration_curve(y[rows], X[rows, 0], n_bins=10, strategy="uniform")
        rel = gm.reliability[k]
        filled = rel[:, 2] > 0
        np.testing.assert_allclose(rel[filled, 1], prob_true, rtol=1e-12)
        np.testing.assert_allclose(rel[filled, 0], prob_pred, rtol=1e-12)
        ece = np.sum(rel[filled, 2] / rows.sum() * np.abs(prob_true - prob_pred))
        assert gm.values[k, credit_audit.metrics.index("ece")] == pytest.approx(ece, rel=1e-12)


def test_bootstrap_intervals_equal_metricframe_with_the_same_resamples(population):
    X, y = population
    decision = (X[:, 0] >= 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fairlearn's own warnings about bootstrap
        mf = MetricFrame(metrics=SKLEARN, y_true=y, y_pred=decision, sensitive_features=frame_of(X)["Ethnicity"],
                         n_boot=40, ci_quantiles=[0.025, 0.975], random_state=7)
        auc = MetricFrame(metrics=roc_auc_score, y_true=y, y_pred=X[:, 0],
                          sensitive_features=frame_of(X)["Ethnicity"], n_boot=40, ci_quantiles=[0.025, 0.975],
                          random_state=7)
    credit_audit = nbx.audit(ScoreModel(), X, y, sensitive={"Ethnicity": frame_of(X)["Ethnicity"]}, n_bootstrap=40,
                             seed=7)
    gm = credit_audit.groups("Ethnicity")
    low, high = mf.by_group_ci
    for metric in SKLEARN:
        k = credit_audit.metrics.index(metric)
        np.testing.assert_allclose(gm.low[:, k], low[metric].to_numpy(), rtol=1e-12, err_msg=metric)
        np.testing.assert_allclose(gm.high[:, k], high[metric].to_numpy(), rtol=1e-12, err_msg=metric)
    k = credit_audit.metrics.index("roc_auc")
    np.testing.assert_allclose(gm.low[:, k], auc.by_group_ci[0].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(gm.high[:, k], auc.by_group_ci[1].to_numpy(), rtol=1e-12)
    # a disparity's interval is that of the gap between the two groups at its ends, over the same resamples
    d = gm.disparities["demographic_parity_difference"]
    assert d.value == pytest.approx(mf.difference()["selection_rate"], abs=1e-15)
    names = list(frame_of(X)["Ethnicity"])
    best, worst = (np.array(names) == d.best), (np.array(names) == d.worst)
    gaps, ratios = [], []
    for seed in bootstrap.resample_seeds(40, 7):
        rows = bootstrap.resample(len(y), int(seed))
        b, w = decision[rows][best[rows]].mean(), decision[rows][worst[rows]].mean()
        gaps.append(b - w)
        ratios.append(w / b)
    np.testing.assert_allclose([d.low, d.high], np.quantile(gaps, [0.025, 0.975]), rtol=1e-12)
    di = gm.disparities["disparate_impact"]
    assert (di.worst, di.best) == (d.worst, d.best)
    np.testing.assert_allclose([di.low, di.high], np.quantile(ratios, [0.025, 0.975]), rtol=1e-12)


def test_resamples_are_those_of_pandas_sample():
    frame = pd.DataFrame({"i": np.arange(50)})
    seeds = bootstrap.resample_seeds(3, 11)
    for s in seeds:
        expected = frame.sample(frac=1, replace=True, random_state=s, ignore_index=True)["i"].to_numpy()
        np.testing.assert_array_equal(bootstrap.resample(50, int(s)), expected)


def test_disparities_equal_fairlearn_and_the_hand_computation(population, credit_audit):
    X, y = population
    decision = (X[:, 0] >= 0.5).astype(int)
    for attribute in ("Gender", "Ethnicity"):
        s = frame_of(X)[attribute]
        gm = credit_audit.groups(attribute)
        d = gm.disparities
        assert d["demographic_parity_difference"].value == pytest.approx(
            demographic_parity_difference(y, decision, sensitive_features=s), abs=1e-15)
        assert d["disparate_impact"].value == pytest.approx(
            demographic_parity_ratio(y, decision, sensitive_features=s), abs=1e-15)
        assert d["equalized_odds_difference"].value == pytest.approx(
            equalized_odds_difference(y, decision, sensitive_features=s), abs=1e-15)
        assert d["equal_opportunity_difference"].value == pytest.approx(
            equal_opportunity_difference(y, decision, sensitive_features=s), abs=1e-15)
        # the disparate-impact ratio by hand: the lowest selection rate over the highest, with the 4/5 rule
        rates = {g: decision[(s == g).to_numpy()].mean() for g in gm.names}
        lowest, highest = min(rates, key=rates.get), max(rates, key=rates.get)
        ratio = rates[lowest] / rates[highest]
        assert d["disparate_impact"].value == ratio
        assert (d["disparate_impact"].worst, d["disparate_impact"].best) == (lowest, highest)
        assert d["disparate_impact"].passes == (ratio >= 0.8)
        assert d["disparate_impact"].low <= ratio <= d["disparate_impact"].high


def test_worst_off_groups_and_too_small_flags(population, credit_audit):
    a = credit_audit
    gm = a.groups("Gender × Ethnicity")
    k_tpr = a.metrics.index("tpr")
    positives = gm.counts[:, k_tpr]
    np.testing.assert_array_equal(gm.too_small[:, k_tpr], positives < 30)
    trusted = ~gm.too_small[:, k_tpr]
    expected = gm.names[int(np.flatnonzero(trusted)[np.argmin(gm.values[trusted, k_tpr])])]
    assert gm.worst["tpr"] == expected
    k_fpr = a.metrics.index("fpr")
    trusted = ~gm.too_small[:, k_fpr]
    assert gm.worst["fpr"] == gm.names[int(np.flatnonzero(trusted)[np.argmax(gm.values[trusted, k_fpr])])]
    assert gm.worst["base_rate"] is None


def test_undefined_metrics_are_nan_not_zero():
    y = np.array([0, 0, 1, 1, 0, 0])
    X = np.column_stack([[0.1, 0.2, 0.3, 0.9, 0.2, 0.1], [0, 0, 0, 1, 1, 1]])
    a = nbx.audit(ScoreModel(), X, y, sensitive=[1], n_bootstrap=20, min_group_size=1)
    gm = a.groups()
    # group 0: nothing selected -> precision undefined; group 1 rows y=[1, 0, 0]
    assert np.isnan(gm.values[0, a.metrics.index("precision")])
    assert np.isnan(precision_score(y[:3], [0, 0, 0], zero_division=np.nan))
    assert gm.values[0, a.metrics.index("selection_rate")] == 0.0


def test_regression_errors_per_group_equal_sklearn():
    rng = np.random.default_rng(0)
    n = 800
    g = rng.choice(["north", "south", "<b>east</b>"], n)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(0, 1 + (g == "south"), n)

    def linear(Z):
        return (np.asarray(Z) @ [1.0, -2.0, 0.5])[:, None]

    a = nbx.audit(linear, X, y, sensitive={"region": g}, n_bootstrap=100)
    assert a.kind == "regression" and a.metrics == metrics.REGRESSION
    prediction = X @ [1.0, -2.0, 0.5]
    gm = a.groups("region")
    for k, name in enumerate(gm.names):
        rows = g == name
        v = dict(zip(a.metrics, gm.values[k], strict=True))
        assert v["mae"] == pytest.approx(mean_absolute_error(y[rows], prediction[rows]), rel=1e-12)
        assert v["rmse"] == pytest.approx(root_mean_squared_error(y[rows], prediction[rows]), rel=1e-12)
        assert v["r2"] == pytest.approx(r2_score(y[rows], prediction[rows]), rel=1e-10)
        assert v["mean_error"] == pytest.approx(np.mean(prediction[rows] - y[rows]), abs=1e-12)
        assert v["mean_truth"] == pytest.approx(np.mean(y[rows]), rel=1e-12)
    assert gm.worst["mae"] == "south"
    d = gm.disparities["mae_difference"]
    assert d.value == pytest.approx(np.ptp(gm.values[:, a.metrics.index("mae")])) and d.worst == "south"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(metrics=mean_absolute_error, y_true=y, y_pred=prediction, sensitive_features=g, n_boot=100,
                         ci_quantiles=[0.025, 0.975], random_state=0)
    order = [list(mf.by_group.index).index(n) for n in gm.names]
    np.testing.assert_allclose(gm.low[:, a.metrics.index("mae")], mf.by_group_ci[0].to_numpy()[order], rtol=1e-12)


@pytest.mark.slow
def test_intervals_cover_the_truth_at_the_nominal_rate():
    """400 samples of 1,000 rows from a population whose metrics are known in closed form: the 95 % intervals
    of the selection rates, TPRs, AUC and the disparate-impact ratio cover the truth 95 % ± 3 % of the time."""
    p_b, base = 0.4, {0: 0.5, 1: 0.3}
    shift = {0: (0.4, -0.6), 1: (0.1, -0.9)}  # (mean of positives, mean of negatives) of the latent score

    def truth(g):
        m1, m0 = shift[g]
        tpr, fpr = norm.cdf(m1), norm.cdf(m0)  # selected when the latent score >= 0
        return {"selection_rate": base[g] * tpr + (1 - base[g]) * fpr, "tpr": tpr,
                "roc_auc": norm.cdf((m1 - m0) / np.sqrt(2))}

    true = {g: truth(g) for g in (0, 1)}
    true_di = true[1]["selection_rate"] / true[0]["selection_rate"]
    rng = np.random.default_rng(2024)
    checks = {"selection_rate": [], "tpr": [], "roc_auc": [], "di": []}
    for rep in range(400):
        n = 1000
        g = (rng.random(n) < p_b).astype(int)
        y = (rng.random(n) < np.where(g == 1, base[1], base[0])).astype(int)
        mean = np.where(y == 1, np.where(g == 1, shift[1][0], shift[0][0]), np.where(g == 1, shift[1][1], shift[0][1]))
        score = 1 / (1 + np.exp(-(mean + rng.normal(size=n))))
        a = nbx.audit(ScoreModel(), np.column_stack([score, g]), y, sensitive=[1], n_bootstrap=400, seed=rep)
        gm = a.groups()
        for metric in ("selection_rate", "tpr", "roc_auc"):
            k = a.metrics.index(metric)
            for grp in (0, 1):
                checks[metric].append(gm.low[grp, k] <= true[grp][metric] <= gm.high[grp, k])
        d = gm.disparities["disparate_impact"]
        checks["di"].append(d.low <= true_di <= d.high)
    coverage = {name: float(np.mean(hits)) for name, hits in checks.items()}
    print("coverage of the 95 % intervals:", coverage)
    for name, rate in coverage.items():
        assert 0.92 <= rate <= 0.98, f"{name}: {rate:.3f} coverage"
