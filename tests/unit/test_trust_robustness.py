"""Robustness under noise that keeps the prediction, and stability across seeds."""

from __future__ import annotations

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.pixel.maps import average_ranks
from nbexplain.methods.trust.robustness import Noisy, noisy_copies, relative_change
from nbexplain.methods.trust.similarity import correlation, top_k_intersection


@pytest.fixture
def picture():
    return np.random.default_rng(4).random((3, 16, 16))


def test_robustness_measures_each_kept_copy_as_by_hand(cnn, picture):
    r = nbx.robustness(cnn, picture, "gradient", n_samples=4, noise=0.05, top_k=20, seed=2, progress=False)
    assert r.n == 4 and r.n_tried >= 4 and r.top_k == 20
    original = nbx.attribute(cnn, picture, "gradient")
    batch = Noisy(nbx.as_image(picture).tensor, 4, 0.05, 2, clip=(0.0, 1.0))
    m = nbx.as_model(cnn)
    kept = [batch.copy(i) for i in range(4) if m.predict(batch.copy(i)[None]).argmax() == original.target]
    assert len(kept) == 4  # small noise: the prediction holds for these copies
    for i, x in enumerate(kept):
        again = nbx.attribute(cnn, x, "gradient", target=original.target)
        assert r.intersections[i] == pytest.approx(top_k_intersection(original.map, again.map, 20))
        assert r.correlations[i] == pytest.approx(correlation(average_ranks(original.map), average_ranks(again.map)))
        assert r.sensitivities[i] == pytest.approx(relative_change(original.attribution, again.attribution), rel=1e-5)
    assert r.max_sensitivity == pytest.approx(max(r.sensitivities))
    assert r.quality()[0].startswith("top-20 intersection under noise")
    assert r.to_frame().shape == (4, 3) and r._repr_png_().startswith(b"\x89PNG")


def test_copies_that_change_the_prediction_are_dropped_and_more_drawn():
    def model(x):  # class 1 when the mean is above 0.5: an image at 0.5 flips with noise half the time
        m = x.reshape(len(x), -1).mean(axis=1)
        return np.stack([0.5 - m, m - 0.5], axis=1)

    image = np.full((1, 8, 8), 0.5, np.float32) + 1e-4
    kept, tried = noisy_copies(nbx.as_model(model), image, 1, n=5, radius=0.2, seed=0)
    assert len(kept) == 5 and tried > 5
    assert all(k.mean() > 0.5 for k in kept)
    kept2, tried2 = noisy_copies(nbx.as_model(model), image, 1, n=5, radius=0.2, seed=0, max_tries=3)
    assert tried2 == 3 and len(kept2) <= 3


def test_a_deterministic_method_is_exactly_stable(cnn, picture):
    s = nbx.stability(lambda seed: nbx.attribute(cnn, picture, "gradient"), n_seeds=10)
    assert s.agreement == 1.0 and s.rank_agreement == 1.0
    assert len(s.intersections) == 45  # every pair of the 10 seeds


def test_smoothgrad_depends_on_its_seed(cnn, picture):
    s = nbx.stability(lambda seed: nbx.attribute(cnn, picture, "smoothgrad", n_samples=4, seed=seed), n_seeds=4)
    assert s.agreement < 1.0
    same = nbx.stability(lambda seed: nbx.attribute(cnn, picture, "smoothgrad", n_samples=4, seed=0), n_seeds=3)
    assert same.agreement == 1.0  # one seed: the same noise every run


def test_limes_stability_rises_with_its_samples():
    from unit_kit import TinyCNN

    model = TinyCNN(seed=2).double().eval()
    image = np.random.default_rng(5).random((3, 16, 16))
    game = nbx.SuperpixelGame(model, image, "grid", n_segments=16)

    def agreement(n_samples):
        return nbx.stability(lambda seed: nbx.lime_image(game, n_samples=n_samples, seed=seed, progress=False),
                             n_seeds=10)

    few, many = agreement(40), agreement(1500)
    assert few.top_k == 5
    assert many.agreement > few.agreement + 0.15, (few.agreement, many.agreement)
    assert many.rank_agreement > few.rank_agreement
    assert many.agreement > 0.8


def test_exact_shapley_values_are_exactly_stable_and_sampled_ones_are_not():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    clf = LogisticRegression().fit(X, (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(int))
    exact = nbx.stability(lambda seed: nbx.shapley_tabular(clf, X[0], X[:40], n_background=None, seed=seed),
                          n_seeds=3)
    assert exact.agreement == 1.0 and exact.rank_agreement == 1.0
    subsampled = nbx.stability(lambda seed: nbx.shapley_tabular(clf, X[0], X, n_background=10, seed=seed), n_seeds=3)
    assert subsampled.rank_agreement < 1.0  # the seed draws the background rows
    sampled = nbx.stability(lambda seed: nbx.shapley_tabular(clf, X[0], X, method="sampled", n_samples=3,
                                                             n_background=30, seed=seed), n_seeds=5)
    assert sampled.rank_agreement < 1.0


def test_stability_result_and_bad_input(cnn, picture):
    s = nbx.stability(lambda seed: np.arange(10.0) * (1 + seed), seeds=[3, 4, 5], top_k=2, label="toy")
    assert s.seeds == [3, 4, 5] and s.agreement == 1.0 and s.summary().startswith("toy: stability across 3 seeds")
    assert list(s.to_frame().columns) == ["seed_a", "seed_b", "intersection", "correlation"]
    assert s._repr_png_().startswith(b"\x89PNG")
    with pytest.raises(InputError, match="explain must be callable"):
        nbx.stability([1, 2])
    with pytest.raises(InputError, match="n_seeds must be an int >= 2"):
        nbx.stability(lambda seed: np.ones(3), n_seeds=1)
    with pytest.raises(InputError, match="different numbers of entries"):
        nbx.stability(lambda seed: np.ones(3 + seed), n_seeds=2)
    with pytest.raises(InputError, match="top_k must be an int in 1..3"):
        nbx.stability(lambda seed: np.ones(3), top_k=4)
    with pytest.raises(InputError, match="noise must be a positive number"):
        nbx.robustness(cnn, picture, noise=0)


def test_fresh_randomness_is_still_one_series():
    from nbexplain.methods.trust.pixels import Perturbed

    image = np.zeros((1, 4, 4), np.float32)
    for batch in (Perturbed(image, 3, 0.1, None), Noisy(image, 3, 0.1, None)):
        rows = batch[0:3]
        again = [batch.noise(i) if isinstance(batch, Perturbed) else batch.copy(i) for i in range(3)]
        expected = [-a for a in again] if isinstance(batch, Perturbed) else again
        np.testing.assert_array_equal(rows, np.stack(expected))
    assert not np.array_equal(Noisy(image, 1, 0.1, None).copy(0), Noisy(image, 1, 0.1, None).copy(0))
