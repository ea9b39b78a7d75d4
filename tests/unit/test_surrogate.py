"""LIME's surrogate pieces against their references: scikit-learn's Ridge with sample weights and r2_score,
and the ``lime`` package's own kernel and ``LimeBase.explain_instance_with_data``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from nbexplain.errors import InputError
from nbexplain.methods.coalitions.surrogate import exponential_kernel, fit_weighted_ridge


def data(n=300, m=12, k=None, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, size=(n, m)).astype(float)
    coef = rng.normal(size=(m,) if k is None else (m, k))
    y = z @ coef + 0.3 * rng.normal(size=(n,) if k is None else (n, k))
    w = rng.random(n)
    return z, y, w


@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("alpha", [1.0, 0.01, 10.0])
def test_weighted_ridge_equals_sklearn(k, alpha):
    z, y, w = data(k=k)
    ours = fit_weighted_ridge(z, y, w, alpha=alpha)
    ref = Ridge(alpha=alpha, fit_intercept=True).fit(z, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef, ref.coef_.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept, ref.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.predict(z), ref.predict(z), rtol=1e-9, atol=1e-12)
    expected = r2_score(y, ref.predict(z), sample_weight=w, multioutput="raw_values")
    np.testing.assert_allclose(ours.score, expected if k else expected[0], rtol=1e-9)
    assert 0.5 < np.min(ours.score) < 1.0


def test_ridge_recovers_an_exact_linear_function():
    z, _, w = data()
    coef = np.arange(12) - 5.5
    fit = fit_weighted_ridge(z, z @ coef + 2.0, w, alpha=1e-10)
    np.testing.assert_allclose(fit.coef, coef, atol=1e-6)
    assert fit.intercept == pytest.approx(2.0, abs=1e-6) and fit.score == pytest.approx(1.0, abs=1e-12)


def test_kernel_equals_the_lime_package():
    lime_image = pytest.importorskip("lime.lime_image")
    d = np.linspace(0, 1, 21)
    for width in (0.25, 1.0):
        ref = lime_image.LimeImageExplainer(kernel_width=width).base.kernel_fn(d)
        np.testing.assert_allclose(exponential_kernel(d, width), ref, rtol=1e-14)
    # the documented closed form: the square root of exp(-d^2 / width^2)
    np.testing.assert_allclose(exponential_kernel(d, 0.5) ** 2, np.exp(-(d**2) / 0.25))


def test_surrogate_equals_lime_base_explanation():
    lime_base = pytest.importorskip("lime.lime_base")
    from sklearn.metrics import pairwise_distances

    rng = np.random.default_rng(1)
    z = rng.integers(0, 2, size=(400, 15))
    z[0] = 1
    labels = rng.random((400, 3))
    distances = pairwise_distances(z, z[:1], metric="cosine").ravel()
    kernel = lambda d: exponential_kernel(d, 0.25)  # noqa: E731
    intercept, exp, score, local = lime_base.LimeBase(kernel, random_state=0).explain_instance_with_data(
        z, labels, distances, 1, num_features=100000)
    fit = fit_weighted_ridge(z, labels[:, 1], kernel(distances), alpha=1.0)
    lime_coef = np.zeros(15)
    for feature, weight in exp:
        lime_coef[feature] = weight
    np.testing.assert_allclose(fit.coef, lime_coef, rtol=1e-9, atol=1e-12)
    assert fit.intercept == pytest.approx(intercept, rel=1e-9)
    assert fit.score == pytest.approx(score, rel=1e-9)
    assert fit.predict(z[:1])[0] == pytest.approx(local[0], rel=1e-9)


def test_validation_names_the_argument():
    z, y, w = data()
    with pytest.raises(InputError, match="width must be a positive number"):
        exponential_kernel([0.1], 0)
    with pytest.raises(InputError, match="distances must be finite and non-negative"):
        exponential_kernel([-1.0], 1)
    with pytest.raises(InputError, match="y must have shape \\(300,\\)"):
        fit_weighted_ridge(z, y[:10], w)
    with pytest.raises(InputError, match="sample_weight must be \\(300,\\) non-negative"):
        fit_weighted_ridge(z, y, -w)
    with pytest.raises(InputError, match="alpha must be a non-negative number"):
        fit_weighted_ridge(z, y, w, alpha=-1)
