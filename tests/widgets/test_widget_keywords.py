"""Misspelt keywords are errors naming the nearest valid one, never silently ignored (#12's matrix)."""

from __future__ import annotations

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.errors import UnknownArgumentError


@pytest.fixture
def tabular_model():
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(60, 3))
    return LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)), X


@pytest.mark.parametrize("make, message", [
    (lambda m, img: nbx.Heatmap(m, img, methd="occlusion"),
     r"Heatmap\(\) got an unexpected keyword argument 'methd'; did you mean 'method'\?"),
    (lambda m, img: nbx.Heatmap(m, img, options={"occlussion": {"window": 4}}),
     r"options has an unknown option 'occlussion'; did you mean 'occlusion'\?"),
    (lambda m, img: nbx.SuperpixelExplorer(m, img, segmentation="grid", n_segment=4),
     r"SuperpixelExplorer\(\) got an unexpected keyword argument 'n_segment'; did you mean 'n_segments'\?"),
    (lambda m, img: nbx.compare(m, img, methds=["gradient"]),
     r"got an unexpected keyword argument 'methds'; did you mean 'methods'\?"),
])
def test_image_widgets_refuse_misspelt_keywords(tiny_cnn, image, make, message):
    with pytest.raises(UnknownArgumentError, match=message):
        make(tiny_cnn, image)


@pytest.mark.parametrize("make, message", [
    (lambda clf, X: nbx.CounterfactualSliders(clf, X, X[0], imutable=[0]),
     r"CounterfactualSliders\(\) got an unexpected keyword argument 'imutable'; did you mean 'immutable'\?"),
    (lambda clf, X: nbx.CounterfactualSliders(clf, X, X[0], counterfactual_options={"bogus": 1}),
     r"counterfactual_options has an unknown option 'bogus'"),
    (lambda clf, X: nbx.FeatureEffects(clf, X, feature_name=["a", "b", "c"]),
     r"FeatureEffects\(\) got an unexpected keyword argument 'feature_name'; did you mean 'feature_names'\?"),
])
def test_tabular_widgets_refuse_misspelt_keywords(tabular_model, make, message):
    clf, X = tabular_model
    with pytest.raises(UnknownArgumentError, match=message):
        make(clf, X)


def test_a_misspelt_explanation_option_is_named(tiny_cnn, image):
    ex = nbx.SuperpixelExplorer(tiny_cnn, image, segmentation="grid", n_segments=4)
    with pytest.raises(UnknownArgumentError, match="unexpected keyword argument 'bogus'"):
        ex.explain("lime", bogus=1)


def test_a_regressions_epsilon_given_to_the_sliders_is_the_objectives_tolerance():
    from sklearn.linear_model import LinearRegression

    X = np.random.default_rng(0).normal(size=(50, 3))
    reg = LinearRegression().fit(X, 2 * X[:, 0])
    w = nbx.CounterfactualSliders(reg, X, X[0], target=3.0, epsilon=2.0)
    assert w.epsilon == 2.0
    result = w.find()
    assert result.epsilon == 2.0 and result.best.valid and abs(result.best.value - 3.0) <= 2.0
    with pytest.raises(nbx.InputError, match="epsilon is given twice"):
        nbx.CounterfactualSliders(reg, X, X[0], target=3.0, epsilon=2.0, counterfactual_options={"epsilon": 1.0})
