"""Thresholds: the rates at any per-group threshold equal thresholding the scores by hand, thresholds chosen
for equal opportunity equalise the groups' TPR within the tolerance asked, and the audit at new thresholds
is the audit of those decisions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, recall_score

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.fairness import thresholds as th


@pytest.fixture(scope="module")
def hiring_audit():
    data = nbx.datasets.hiring(2000, seed=0)
    clf = GradientBoostingClassifier(n_estimators=60, random_state=0).fit(data.X[:1000], data.y[:1000])
    sensitive = {k: v[1000:] for k, v in data.sensitive.items()}
    a = nbx.audit(clf, data.X[1000:], data.y[1000:], sensitive=sensitive, categories=data.groups,
                  feature_names=data.feature_names, class_names=data.class_names, n_bootstrap=100)
    return a, clf, data


def by_hand(a, attribute, thresholds):
    """Selection rate and TPR of each group when its rows are selected at score >= its threshold."""
    g = a._grouping(attribute)
    out = {}
    for k, name in enumerate(g.names):
        rows = g.codes == k
        chosen = a.score[rows] >= thresholds[name]
        out[name] = (chosen.mean(), recall_score(a.y[rows], chosen.astype(int)), accuracy_score(a.y[rows], chosen))
    return out


def test_the_audit_is_of_the_models_decisions_at_the_threshold(hiring_audit):
    a, clf, data = hiring_audit
    p = clf.predict_proba(data.X[1000:])[:, 1]
    np.testing.assert_array_equal(a.score, p)
    np.testing.assert_array_equal(a.decision, (p >= 0.5).astype(int))
    assert a.target_name == "hired" and a.output_label == "P(hired)"
    assert a.attributes == ["Gender", "Age band", "Gender × Age band"]
    assert a.groups("Age band").names == ["under 40", "40 and over"]


@pytest.mark.parametrize("t", [{"Female": 0.31, "Male": 0.72}, {"Female": 0.0, "Male": 1.0}, {"Female": 0.5}])
def test_rates_at_any_thresholds_equal_thresholding_by_hand(hiring_audit, t):
    a, _, _ = hiring_audit
    full = {"Female": 0.5, "Male": 0.5, **t}
    rates = a.rates_at(t, "Gender")
    for k, (sel, tpr, acc) in enumerate(by_hand(a, "Gender", full).values()):
        assert rates["selection_rate"][k] == pytest.approx(sel, abs=1e-15)
        assert rates["tpr"][k] == pytest.approx(tpr, abs=1e-15)
        assert rates["accuracy"][k] == pytest.approx(acc, abs=1e-15)
    sel = rates["selection_rate"]
    assert rates["disparate_impact"] == pytest.approx(sel.min() / sel.max())
    assert rates["overall_accuracy"] == pytest.approx(accuracy_score(a.y, a.score >= np.array(
        [full[n] for n in a.groups("Gender").names])[a._grouping("Gender").codes]))


def test_thresholds_at_the_scores_themselves_select_them(hiring_audit):
    a, _, _ = hiring_audit
    roc = a.roc("Gender")
    s, p, n = roc.group(0)
    for i in (0, 5, len(s) - 1):  # a threshold equal to a score selects that score (>=)
        tp, fp = th.selected_counts(roc, np.array([s[i], 2.0]))
        assert (tp[0, 0], fp[0, 0]) == (p[i], n[i])


@pytest.mark.parametrize("attribute", ["Gender", "Gender × Age band"])
def test_equal_opportunity_thresholds_equalise_tpr_within_the_tolerance(hiring_audit, attribute):
    a, _, _ = hiring_audit
    gm = a.groups(attribute)
    before = gm.values[:, a.metrics.index("tpr")]
    if attribute != "Gender":
        assert np.ptp(before) > 0.05  # there is a gap to close
    for tolerance in (0.03, 0.02):
        chosen = a.fair_thresholds("equal_opportunity", attribute, tolerance=tolerance)
        tprs = [v[1] for v in by_hand(a, attribute, chosen).values()]
        assert max(tprs) - min(tprs) <= tolerance
        fair = a.with_thresholds(chosen)
        assert np.ptp(fair.groups(attribute).values[:, a.metrics.index("tpr")]) <= tolerance
        assert fair.disparity("equal_opportunity_difference", attribute).value <= tolerance
        assert fair.thresholds == chosen and fair.threshold_attribute == attribute
    if attribute != "Gender":
        return
    # at a chosen level too
    chosen = a.fair_thresholds("equal_opportunity", "Gender", level=0.9, tolerance=0.02)
    tprs = [v[1] for v in by_hand(a, "Gender", chosen).values()]
    assert max(tprs) - min(tprs) <= 0.02 and abs(np.mean(tprs) - 0.9) < 0.05


def test_demographic_parity_thresholds_equalise_selection(hiring_audit):
    a, _, _ = hiring_audit
    chosen = a.fair_thresholds("demographic_parity", "Gender", tolerance=0.01)
    sel = [v[0] for v in by_hand(a, "Gender", chosen).values()]
    assert max(sel) - min(sel) <= 0.01
    assert a.with_thresholds(chosen).disparity("disparate_impact", "Gender").passes


def test_an_unreachable_tolerance_names_the_coarse_groups(hiring_audit):
    a, _, _ = hiring_audit
    with pytest.raises(InputError, match=r"tolerance=0.*Female × 40 and over \(steps of"):
        a.fair_thresholds("equal_opportunity", "Gender × Age band", tolerance=0.0001)


def test_with_thresholds_is_the_audit_of_those_decisions(hiring_audit):
    a, _, _ = hiring_audit
    chosen = {"Female": 0.4, "Male": 0.6}
    b = a.with_thresholds(chosen)
    g = a._grouping("Gender")
    decision = (a.score >= np.array([0.4, 0.6])[g.codes]).astype(int)
    np.testing.assert_array_equal(b.decision, decision)
    for k, name in enumerate(g.names):
        rows = g.codes == k
        assert b.value("selection_rate", name, "Gender")[0] == pytest.approx(decision[rows].mean(), abs=1e-15)
    # the other attributes are recounted with the same decisions
    h = a._grouping("Age band")
    assert b.value("selection_rate", "under 40", "Age band")[0] == pytest.approx(decision[h.codes == 0].mean())
    np.testing.assert_array_equal(b.groups("Gender").thresholds, [0.4, 0.6])
    assert np.isnan(b.groups("Age band").thresholds).all()  # each age band mixes both thresholds
    assert b.with_thresholds(0.5).disparity().value == pytest.approx(a.disparity().value)


def test_bad_thresholds_are_named(hiring_audit):
    a, _, _ = hiring_audit
    with pytest.raises(InputError, match="'Femal'.*did you mean 'Female'"):
        a.with_thresholds({"Femal": 0.4})
    with pytest.raises(InputError, match=r"thresholds\['Male'\] must be a finite number >= 0 and <= 1"):
        a.with_thresholds({"Male": 1.4})
    with pytest.raises(InputError, match="one threshold in \\[0, 1\\] per group of Gender \\(2\\)"):
        a.with_thresholds([0.1, 0.2, 0.3], "Gender")
    with pytest.raises(InputError, match="criterion='equal_odds' is not valid"):
        a.fair_thresholds("equal_odds")


def test_tradeoff_curves_are_the_rates_at_their_thresholds(hiring_audit):
    a, _, _ = hiring_audit
    t = a.tradeoff("Gender", grid_resolution=21)
    one = t.curves["global"]
    for i in (0, 7, 10, 20):
        rates = a.rates_at(float(one["threshold"][i]), "Gender")
        assert one["accuracy"][i] == pytest.approx(accuracy_score(a.y, a.score >= one["threshold"][i]))
        assert one["demographic_parity_difference"][i] == pytest.approx(np.ptp(rates["selection_rate"]))
    fair = t.curves["equalised"]
    assert np.nanmax(fair["equal_opportunity_difference"][2:-2]) < np.nanmax(one["equal_opportunity_difference"])
    assert t.current["accuracy"] == pytest.approx(a.overall.values[0, a.metrics.index("accuracy")])
    df = t.to_frame()
    assert len(df) == 42 and set(df["family"]) == {"global", "equalised"}
    ax = t.plot(disparity="equal_opportunity_difference")
    assert ax.get_xlabel() == "equal-opportunity difference"
