"""Tabular anchors: on a model that is exactly the rule ``x0 > t0 and x3 <= t3`` (cut points of the quartiles)
the anchor is that rule with precision 1; a returned anchor keeps its precision on 5,000 fresh perturbations;
predicates follow the quantiles and categories; the rule reads as people write it; results draw and tabulate;
bad input is refused by name."""

from __future__ import annotations

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.coalitions.tabular_anchors import (
    Predicate,
    TabularAnchorSampler,
    feature_predicates,
    quantile_cuts,
    rule_terms,
)


@pytest.fixture(scope="module")
def rule_setup():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2000, 5))
    cuts = [quantile_cuts(data[:, j], 4) for j in range(5)]
    t0, t3 = cuts[0][1], cuts[3][1]  # the medians

    def model(rows):
        positive = ((rows[:, 0] > t0) & (rows[:, 3] <= t3)).astype(float)
        return np.stack([1 - positive, positive], axis=1)

    x = np.array([(cuts[0][1] + cuts[0][2]) / 2, 0.1, -0.2, (cuts[3][0] + cuts[3][1]) / 2, 0.3])
    return data, model, x, t0, t3


def test_the_anchor_of_a_rule_model_is_the_rule_with_precision_one(rule_setup):
    data, model, x, t0, t3 = rule_setup
    a = nbx.anchor_tabular(model, x, data)
    assert sorted((p.feature, p.op, p.value) for p in a.predicates) == [(0, ">", t0), (3, "<=", t3)]
    assert a.precision == 1.0 and a.meets_threshold
    assert a.coverage == pytest.approx(np.mean((data[:, 0] > t0) & (data[:, 3] <= t3)))
    assert a.rule == f"x0 > {t0:.4g} AND x3 <= {t3:.4g}" or a.rule == f"x3 <= {t3:.4g} AND x0 > {t0:.4g}"
    assert a.target == 1 and a.summary().startswith("IF ")


def test_a_returned_anchor_keeps_its_precision_on_5000_fresh_perturbations():
    from sklearn.ensemble import GradientBoostingClassifier

    data = nbx.datasets.credit()
    clf = GradientBoostingClassifier(random_state=0).fit(data.X, data.y)
    cat = np.array([n in data.categories for n in data.feature_names])
    for i in [11, 15, 42]:
        a = nbx.anchor_tabular(clf, data.X[i], data.X, categorical=data.categories, feature_names=data.feature_names,
                               class_names=data.class_names)
        assert a.meets_threshold, a.summary()
        predicates = feature_predicates(data.X[i], data.X, cat)
        sampler = TabularAnchorSampler(clf.predict, data.X[i], data.X, predicates, a.target, seed=777)
        anchor = [predicates.index(p) for p in a.predicates]
        required = np.zeros((5000, len(predicates)), bool)
        required[:, anchor] = True
        holds, agrees = sampler.sample(required)
        assert holds[:, anchor].all()
        assert agrees.mean() >= a.threshold, (a.summary(), agrees.mean())


def test_predicates_are_the_quantile_cuts_the_row_lies_on_and_its_categories():
    data = np.column_stack([np.arange(100.0), np.repeat([0.0, 1.0, 2.0, 3.0], 25)])
    predicates = feature_predicates(np.array([30.0, 2.0]), data, np.array([False, True]))
    cuts = np.quantile(data[:, 0], [0.25, 0.5, 0.75])
    assert predicates == [Predicate(0, ">", cuts[0]), Predicate(0, "<=", cuts[1]), Predicate(0, "<=", cuts[2]),
                          Predicate(1, "=", 2.0)]
    assert quantile_cuts(np.array([1.0, 1.0, 1.0, 1.0]), 4).tolist() == []  # nothing to cut off
    assert quantile_cuts(np.array([1.0, 1.0, 1.0, 2.0]), 4).tolist() == [1.0, 1.25]


def test_perturbations_satisfy_the_required_predicates_and_keep_rows_that_do():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(500, 3))
    x = np.array([0.5, -0.5, 0.0])
    predicates = feature_predicates(x, data, np.zeros(3, bool))
    sampler = TabularAnchorSampler(lambda r: (r[:, 0] > 0).astype(int), x, data, predicates, 1, seed=0)
    required = np.zeros((400, len(predicates)), bool)
    required[:, [0, 3]] = True
    rows = sampler.perturb(required)
    assert sampler.holds(rows)[:, [0, 3]].all()
    assert np.isin(rows, data).all()  # every value is a data value
    assert sampler.coverage((0, 3)) == pytest.approx(np.mean(sampler.satisfied[:, [0, 3]].all(1)))


def test_rules_read_as_people_write_them():
    preds = [Predicate(0, ">", 33.25), Predicate(1, "=", 1.0), Predicate(0, "<=", 57.5), Predicate(2, "<=", 4.0)]
    terms = rule_terms(preds, ["Income", "Student", "Cards"], {1: ["No", "Yes"]}, np.array([False, True, True]))
    assert terms == ["33.25 < Income <= 57.5", "Student = Yes", "Cards <= 4"]


def test_credit_anchors_name_categories_draw_and_tabulate():
    from sklearn.ensemble import GradientBoostingClassifier

    data = nbx.datasets.credit()
    clf = GradientBoostingClassifier(random_state=0).fit(data.X, data.y)
    a = nbx.anchor_tabular(clf, data.X[15], data.X, categorical=data.categories, feature_names=data.feature_names,
                           class_names=data.class_names)
    assert a.target_name == "low balance" and a.terms and "Limit" in a.rule
    frame = a.to_frame()
    assert list(frame["term"]) == a.terms and list(frame.columns) == ["feature", "term", "value"]
    assert a.plot() is not None and a._repr_png_()[:4] == b"\x89PNG"
    student = nbx.anchor_tabular(clf, data.X[15], data.X, categorical=data.categories,
                                 feature_names=data.feature_names, max_anchor_size=1, threshold=0.999,
                                 max_samples=3000)
    assert len(student.terms) <= 1
    labelled = rule_terms([Predicate(7, "=", 1.0)], data.feature_names, {7: data.categories["Student"]})
    assert labelled == ["Student = Yes"]


def test_bad_input_is_refused_by_name(rule_setup):
    data, model, x, _, _ = rule_setup
    with pytest.raises(InputError, match="anchors explain a classification"):
        nbx.anchor_tabular(lambda rows: rows[:, :1] * 3.0, x, data)
    with pytest.raises(InputError, match="n_bins must be an int >= 2"):
        nbx.anchor_tabular(model, x, data, n_bins=1)
    with pytest.raises(InputError, match="threshold must be a number strictly between 0 and 1"):
        nbx.anchor_tabular(model, x, data, threshold=1.5)
    with pytest.raises(InputError, match="categorical='x9' is not a feature name"):
        nbx.anchor_tabular(model, x, data, categorical=["x9"])
    with pytest.raises(TypeError):
        nbx.anchor_tabular(model, x, data, treshold=0.9)
