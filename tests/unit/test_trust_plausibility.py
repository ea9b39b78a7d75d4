"""Plausibility of counterfactuals: distances to the nearest rows and the local outlier factor."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.counterfactual.space import mad_scale


@pytest.fixture(scope="module")
def credit():
    data = nbx.datasets.credit()
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(data.X, data.y)
    return data, clf


def mad_l1(a, b, scale, categorical):
    d = np.abs(a - b) / scale
    d[categorical] = (a[categorical] != b[categorical]).astype(float)
    return d.sum()


def test_a_counterfactual_moved_off_the_data_scores_worse_than_the_one_found(credit):
    data, clf = credit
    cf = nbx.counterfactual(clf, data.X[1], data.X, feature_names=data.feature_names, class_names=data.class_names,
                            immutable=["Age", "Gender", "Ethnicity"], integer=data.integer,
                            categorical=data.categories)
    assert cf.valid
    found = nbx.plausibility(cf)
    # off the manifold: Limit and Rating move together in the data (r = 0.997); raise Limit alone to the
    # data's maximum while Rating stays where the counterfactual put it
    off = cf.x.copy()
    limit = data.feature_names.index("Limit")
    off[limit] = data.X[:, limit].max()
    moved = nbx.plausibility(off, data.X, categorical=data.categorical, feature_names=data.feature_names)
    assert not found.implausible[0]
    assert moved.implausible[0]
    assert moved.outlier_factors[0] > found.outlier_factors[0]
    assert moved.distance_percentile[0] > 0.95 > found.distance_percentile[0]
    assert moved.nearest_mean[0] > found.nearest_mean[0]
    assert "IMPLAUSIBLE" in moved.quality()[-1] and "plausible" in found.quality()[-1]
    assert found.quality()[0].startswith("valid") and found.quality()[1].startswith("sparsity")
    assert found.quality()[2].startswith("proximity")


def test_distances_and_outlier_factors_equal_a_direct_computation(credit):
    data, _ = credit
    cat = np.array([n in data.categorical for n in data.feature_names])
    points = data.X[[3, 50]] + np.array([[0, 500, 0, 0, 0, 0, 0, 0, 0, 0]])
    p = nbx.plausibility(points, data.X, categorical=data.categorical, feature_names=data.feature_names, k=3,
                         n_neighbors=10)
    scale = mad_scale(data.X)
    scale = np.where(scale > 0, scale, 1.0)
    for i, x in enumerate(points):
        d = np.sort([mad_l1(x, row, scale, cat) for row in data.X])[:3]
        np.testing.assert_allclose(p.nearest[i], d, rtol=1e-12)
    # the outlier factor: scikit-learn's, on rows embedded so that L1 is the same distance
    def embed(X):
        cols = []
        for j in range(X.shape[1]):
            if cat[j]:
                cols.append(0.5 * (X[:, j:j + 1] == np.unique(data.X[:, j])[None]))
            else:
                cols.append(X[:, j:j + 1] / scale[j])
        return np.concatenate(cols, axis=1)

    lof = LocalOutlierFactor(n_neighbors=10, novelty=True, metric="manhattan").fit(embed(data.X))
    np.testing.assert_allclose(p.outlier_factors, -lof.score_samples(embed(points)), rtol=1e-12)
    assert 0.9 < np.median(p.data_factors) < 1.2  # the data's own rows are inliers


def test_the_counterfactual_quality_report(credit):
    data, clf = credit
    cf = nbx.counterfactual(clf, data.X[1], data.X, feature_names=data.feature_names, n=2)
    report = nbx.counterfactual_quality(cf, index=1)
    assert report.lines == report.parts["plausibility"].lines(1)
    assert report.lines[1] == f"sparsity: {cf[1].n_changed} of 10 features changed"
    p = report.parts["plausibility"]
    assert p.to_frame().shape == (2, 4) and p._repr_png_().startswith(b"\x89PNG")
    assert p.summary().startswith("2 point(s)")


def test_bad_input_is_named(credit):
    data, _ = credit
    with pytest.raises(InputError, match="needs data="):
        nbx.plausibility(data.X[:2])
    with pytest.raises(InputError, match="points must have 10 features"):
        nbx.plausibility(np.ones((1, 3)), data.X)
    with pytest.raises(InputError, match="give all of valid, n_changed and distance"):
        nbx.plausibility(data.X[:1], data.X, valid=[True])
    with pytest.raises(InputError, match="valid must give one value per point"):
        nbx.plausibility(data.X[:2], data.X, valid=[True], n_changed=[1], distance=[0.1])
    with pytest.raises(InputError, match="n_neighbors must be an int >= 1"):
        nbx.plausibility(data.X[:1], data.X, n_neighbors=0)
