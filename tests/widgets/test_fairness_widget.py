"""FairnessAudit from Python and through the request protocol (a recording comm, no kernel): what travels,
what the view may write, threshold requests recounting the audit, errors shown and survived."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError, UnknownArgumentError
from nbexplain.widgets.codec import encode_array


@pytest.fixture(scope="module")
def hiring():
    data = nbx.datasets.hiring(1200, seed=3)
    clf = LogisticRegression(max_iter=2000).fit(data.X[:600], data.y[:600])
    a = nbx.audit(clf, data.X[600:], data.y[600:], sensitive={k: v[600:] for k, v in data.sensitive.items()},
                  categories=data.groups, feature_names=data.feature_names, class_names=data.class_names,
                  n_bootstrap=60)
    return data, clf, a


def responses(widget):
    return [c for c, _ in widget.comm.custom() if c.get("type") == "response"]


def test_the_audit_travels_as_binary_arrays(hiring):
    _, _, a = hiring
    w = a.widget()
    assert isinstance(w, nbx.FairnessAudit) and w.audit is a
    assert w.attributes == ["Gender", "Age band", "Gender × Age band"]
    assert w.group_names == ["Female", "Male", "under 40", "40 and over", "Female × under 40",
                             "Female × 40 and over", "Male × under 40", "Male × 40 and over"]
    np.testing.assert_array_equal(w.group_attribute, [0, 0, 1, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(w.values[:2], a.groups("Gender").values)
    np.testing.assert_array_equal(w.low[2:4], a.groups("Age band").low)
    roc = a.roc("Age band")
    start, stop = w.roc_offsets[2], w.roc_offsets[4]
    np.testing.assert_array_equal(w.roc_scores[start:stop], roc.scores)
    np.testing.assert_array_equal(w.roc_positives[start:stop], roc.positives)
    np.testing.assert_array_equal(w.n_neg[2:4], roc.n_neg)
    np.testing.assert_array_equal(w.thresholds, [0.5, 0.5])
    state = w.get_state()
    for name in ("values", "low", "roc_scores", "roc_positives", "thresholds", "too_small"):
        assert isinstance(state[name]["buffer"], memoryview), name
    assert state["roc_scores"]["dtype"] == "float64"  # the page compares scores exactly as the kernel does
    assert w.disparities["Gender"][0]["measure"] == "disparate_impact"
    assert w.info["rule"].startswith("The four-fifths rule")


def test_a_thresholds_request_recounts_the_audit(hiring):
    _, _, a = hiring
    w = a.widget()
    t = np.array([0.41, 0.57])
    view_sends(w, {"type": "request", "id": 5, "action": "thresholds",
                   "params": {"thresholds": encode_array(t)}, "buffer_paths": [["params", "thresholds", "buffer"]]},
               [encode_array(t)["buffer"]])
    assert w.wait(60)
    assert responses(w)[-1]["status"] == "ok" and w.committed_request == 5
    np.testing.assert_array_equal(w.thresholds, t)
    expected = a.with_thresholds({"Female": 0.41, "Male": 0.57})
    np.testing.assert_allclose(w.values[:2], expected.groups("Gender").values)
    np.testing.assert_allclose(w.high[:2], expected.groups("Gender").high)
    assert w.audit.thresholds == {"Female": 0.41, "Male": 0.57}
    np.testing.assert_array_equal(w.audited_thresholds[:2], t)
    assert np.isnan(w.audited_thresholds[2:4]).all()  # age bands mix the two thresholds
    # what the page computes from the ROC points, the kernel computes for the same thresholds
    rates = w.audit.rates_at({"Female": 0.41, "Male": 0.57})
    np.testing.assert_allclose(rates["selection_rate"], w.values[:2, a.metrics.index("selection_rate")])


def test_bad_threshold_requests_are_answered_with_errors_and_change_nothing(hiring):
    _, _, a = hiring
    w = a.widget()
    for rid, params, says in [
        (1, {}, "the request has no field 'thresholds'"),
        (2, {"thresholds": [0.2, 0.3, 0.4]}, "thresholds must be 2 numbers in \\[0, 1\\]"),
        (3, {"thresholds": [0.2, 1.3]}, "thresholds must be 2 numbers in \\[0, 1\\]"),
        (4, {"thresholds": "high"}, "thresholds must be 2 numbers"),
    ]:
        view_sends(w, {"type": "request", "id": rid, "action": "thresholds", "params": params})
        assert w.wait(30)
        answer = responses(w)[-1]
        assert answer["id"] == rid and answer["status"] == "error"
        assert re.search(says, answer["error"]["message"]), answer["error"]["message"]
        assert w.error["type"] == "InputError"
    np.testing.assert_array_equal(w.thresholds, [0.5, 0.5])
    assert w.audit is a
    view_sends(w, {"type": "request", "id": 9, "action": "thresholds", "params": {"thresholds": [0.3, 0.3]}})
    assert w.wait(30) and responses(w)[-1]["status"] == "ok" and w.error == {}  # and it keeps working


def test_fair_thresholds_and_attribute_requests(hiring):
    _, _, a = hiring
    w = a.widget(tolerance=0.02)
    view_sends(w, {"type": "request", "id": 11, "action": "fair", "params": {"criterion": "equal_opportunity"}})
    assert w.wait(60) and responses(w)[-1]["status"] == "ok"
    k = a.metrics.index("tpr")
    assert np.ptp(w.values[:2, k]) <= 0.02
    np.testing.assert_allclose(w.thresholds, list(a.fair_thresholds("equal_opportunity", "Gender",
                                                                    tolerance=0.02).values()))
    view_sends(w, {"type": "request", "id": 12, "action": "attribute", "params": {"attribute": 1}})
    assert w.wait(60) and w.attribute == 1
    np.testing.assert_array_equal(w.thresholds, [0.5, 0.5])  # per-group thresholds belong to an attribute
    np.testing.assert_allclose(w.values[2:4], a.groups("Age band").values)
    view_sends(w, {"type": "request", "id": 13, "action": "fair", "params": {"criterion": "equalized_odds"}})
    assert w.wait(30) and "criterion='equalized_odds' is not valid" in w.error["message"]
    view_sends(w, {"type": "request", "id": 14, "action": "attribute", "params": {"attribute": 7}})
    assert w.wait(30) and "attribute must be an index" in w.error["message"]


def test_the_view_writes_only_the_metric_and_only_a_valid_one(hiring):
    _, _, a = hiring
    w = a.widget()
    w.set_state({"metric": "tpr"})
    assert w.metric == "tpr"
    w.set_state({"metric": "<script>"})
    assert w.metric == "tpr" and "metric='<script>' is not valid" in w.error["message"]
    w.set_state({"thresholds": encode_array(np.array([0.1, 0.1]))})
    np.testing.assert_array_equal(w.thresholds, [0.5, 0.5])
    assert "the view may not change 'thresholds'" in w.error["message"]


def test_python_side_controls(hiring):
    data, clf, a = hiring
    w = nbx.FairnessAudit(clf, data.X[600:], data.y[600:], sensitive={k: v[600:] for k, v in data.sensitive.items()},
                          feature_names=data.feature_names, n_bootstrap=20, metric="tpr", attribute="Age band")
    assert w.attribute == 1 and w.metric == "tpr" and w.audit.n_bootstrap == 20
    b = w.set_thresholds({"under 40": 0.45})
    assert b.thresholds == {"under 40": 0.45, "40 and over": 0.5} and w.audit is b
    w.show_attribute("Gender")
    assert w.attribute == 0 and w.audit.thresholds is None
    fair = w.fair("demographic_parity")
    assert np.ptp(fair.groups("Gender").values[:, fair.metrics.index("selection_rate")]) <= 0.02
    png = base64.b64decode(w._repr_mimebundle_()[0]["image/png"])
    assert png[:4] == b"\x89PNG"
    with pytest.raises(UnknownArgumentError, match="did you mean 'n_bootstrap'"):
        nbx.FairnessAudit(clf, data.X, data.y, sensitive={}, n_bootstrp=3)
    with pytest.raises(InputError, match="needs model, X and y"):
        nbx.FairnessAudit(clf)
    with pytest.raises(InputError, match="either audit= or model"):
        nbx.FairnessAudit(clf, audit=a)


def test_a_regression_audit_shows_without_thresholds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    a = nbx.audit(lambda Z: Z[:, :1], X, X[:, 0] + rng.normal(size=300), sensitive={"g": rng.choice(["a", "b"], 300)},
                  n_bootstrap=20)
    w = a.widget()
    assert w.kind == "regression" and w.metric == "mae" and w.threshold_metrics == []
    assert w.roc_scores is None
    view_sends(w, {"type": "request", "id": 3, "action": "thresholds", "params": {"thresholds": [0.5, 0.5]}})
    assert w.wait(30) and "thresholds apply to classifiers" in w.error["message"]
    assert w._static_png()[:4] == b"\x89PNG"
