"""Superpixel segmentation, the perturbation engine, LIME, Shapley values and deletion/insertion curves,
checked against independent references: scikit-image's own segmenters, a naive per-sample per-superpixel
loop, closed forms of a model that is additive over superpixels, brute-force permutation enumeration, and
the ``lime`` package given the same samples."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nbexplain.errors import Cancelled, InputError
from nbexplain.explain.superpixels import (
    SuperpixelGame,
    deletion_insertion,
    lime_image,
    shapley_image,
)
from nbexplain.inputs.segmentation import relabel, segment
from nbexplain.methods.coalitions.masks import all_coalitions
from nbexplain.methods.coalitions.superpixels import superpixel_means

H, W = 24, 30


@pytest.fixture
def picture() -> np.ndarray:
    """A (H, W, 3) uint8 picture with structure (smooth colours plus noise)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    base = np.stack([yy / H, xx / W, (yy + xx) / (H + W)], axis=-1)
    return (np.clip(base + 0.1 * rng.random((H, W, 3)), 0, 1) * 255).astype(np.uint8)


class LinearPixels:
    """f(x) = <w_k, x> + b_k for K outputs: additive over any superpixels, with known contributions."""

    def __init__(self, k: int = 3, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.w = rng.normal(size=(k, 3, H, W)) * 0.05  # logits of order 1: probabilities not saturated
        self.b = rng.normal(size=k)
        self.rows_seen: list[int] = []

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.rows_seen.append(len(x))
        return x.reshape(len(x), -1) @ self.w.reshape(len(self.w), -1).T + self.b

    def contributions(self, game: SuperpixelGame, k: int) -> np.ndarray:
        """c_j = sum over superpixel j's pixels of w (x - fill): the exact effect of keeping superpixel j."""
        delta = (self.w[k] * (game.image.tensor.astype(np.float64) - game.fills[0])).sum(0)
        return np.bincount(game.labels.ravel(), delta.ravel(), game.n_players)


def naive_render(game: SuperpixelGame, z: np.ndarray, fill_index=None) -> np.ndarray:
    """The loop the engine avoids: copy the image per sample, paint each removed superpixel's fill."""
    out = []
    for n, row in enumerate(z):
        img = game.image.tensor.copy()
        fill = game.fills[0 if fill_index is None else int(fill_index[n])]
        for j in range(game.n_players):
            if not row[j]:
                where = game.labels == j
                img[:, where] = fill[:, where]
        out.append(img)
    return np.stack(out)


# -- segmentation -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method,params,call", [
    ("slic", {"n_segments": 20}, lambda s, img: s.slic(img, n_segments=20, compactness=10.0, sigma=1.0,
                                                        start_label=0, channel_axis=-1)),
    ("felzenszwalb", {"scale": 50}, lambda s, img: s.felzenszwalb(img, scale=50, sigma=0.5, min_size=50)),
    ("quickshift", {"kernel_size": 3}, lambda s, img: s.quickshift(img, kernel_size=3, max_dist=200, ratio=0.2)),
])
def test_segmenters_equal_scikit_image(picture, method, params, call):
    import skimage.segmentation as sks

    seg = segment(picture, method, **params)
    reference = call(sks, picture)
    assert seg.labels.dtype == np.int32 and seg.method == method
    np.testing.assert_array_equal(seg.labels, relabel(reference))
    assert set(np.unique(seg.labels)) == set(range(seg.n_segments)) and seg.n_segments > 1


def test_grid_and_custom_segmentations(picture):
    seg = segment(picture, "grid", rows=3, cols=5)
    assert seg.n_segments == 15
    np.testing.assert_array_equal(seg.sizes(), np.full(15, H * W // 15))
    assert seg.labels[0, 0] == 0 and seg.labels[-1, -1] == 14 and seg.labels[0, -1] == 4
    approx = segment(picture, "grid", n_segments=20)
    assert 15 <= approx.n_segments <= 25
    custom = segment(picture, np.where(np.arange(W) < 10, 7, 42)[None].repeat(H, 0))
    assert custom.n_segments == 2 and custom.method == "custom"
    np.testing.assert_array_equal(custom.labels[:, :10], 0)
    by_fn = segment(picture, lambda img, k=4: (np.arange(img.shape[1]) * k // img.shape[1])[None].repeat(img.shape[0], 0), k=3)
    assert by_fn.n_segments == 3 and by_fn.params == {"k": 3}


def test_segmentation_geometry_against_brute_force(picture):
    seg = segment(picture, "slic", n_segments=12)
    lab = seg.labels
    for j in range(seg.n_segments):
        rows, cols = np.nonzero(lab == j)
        np.testing.assert_allclose(seg.centroids()[j], [rows.mean(), cols.mean()])
    edge = np.zeros_like(lab, dtype=bool)
    for r in range(H):
        for c in range(W):
            edge[r, c] = (c + 1 < W and lab[r, c] != lab[r, c + 1]) or (r + 1 < H and lab[r, c] != lab[r + 1, c])
    np.testing.assert_array_equal(seg.boundaries(), edge)
    values = np.arange(seg.n_segments) * 1.5
    np.testing.assert_array_equal(seg.paint(values), values[lab])


def test_segmentation_validation(picture):
    with pytest.raises(InputError, match="method='watershed' is not valid"):
        segment(picture, "watershed")
    with pytest.raises(InputError, match=r"method 'slic' does not take \['n_segmnts'\]"):
        segment(picture, "slic", n_segmnts=10)
    with pytest.raises(InputError, match="n_segments must be an int >= 1; got 0"):
        segment(picture, "slic", n_segments=0)
    with pytest.raises(InputError, match=r"segmentation must be an integer label array of the image's shape \(24, 30\)"):
        segment(picture, np.zeros((4, 4), int))
    with pytest.raises(InputError, match="must hold integer labels"):
        segment(picture, np.zeros((H, W)))
    with pytest.raises(InputError, match="the segmentation callable raised ZeroDivisionError"):
        segment(picture, lambda img: 1 / 0)


# -- the engine ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fill", ["mean", "grey", "black", "blur", 0.25, "image"])
def test_vectorised_render_equals_naive_loop(picture, fill):
    if fill == "image":
        fill = np.random.default_rng(5).integers(0, 256, (H, W, 3), dtype=np.uint8)
    game = SuperpixelGame(LinearPixels(), picture, "slic", n_segments=15, fill=fill, output="score")
    z = np.random.default_rng(2).random((13, game.n_players)) < 0.5
    z[0], z[1] = True, False
    np.testing.assert_array_equal(game.render(z), naive_render(game, z))
    np.testing.assert_array_equal(game.render(z)[0], game.image.tensor)
    np.testing.assert_array_equal(game.render(z)[1], game.fills[0])
    last = game.render(z, channels_last=True)  # over (N, H, W, C) memory, for models that run channels last
    assert last.transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_array_equal(last, naive_render(game, z))


def test_mean_fill_and_several_backgrounds(picture):
    game = SuperpixelGame(LinearPixels(), picture, "grid", rows=2, cols=3, output="score")
    x = game.image.tensor
    for j in range(6):
        where = game.labels == j
        np.testing.assert_allclose(game.fills[0][:, where], x[:, where].mean(1, keepdims=True).repeat(where.sum(), 1), rtol=1e-6)
    np.testing.assert_array_equal(superpixel_means(game.image, game.labels), game.fills[0])
    rng = np.random.default_rng(0)
    a = game.add_fill(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    b = game.add_fill(np.zeros((H, W, 3), np.uint8))
    assert (a, b) == (1, 2) and game.add_fill(np.zeros((H, W, 3), np.uint8)) == 2  # the same picture, same index
    z = rng.random((9, 6)) < 0.5
    fi = np.array([0, 1, 2, 1, 0, 2, 2, 1, 0])
    np.testing.assert_array_equal(game.render(z, fi), naive_render(game, z, fi))
    np.testing.assert_array_equal(game.render(z, fi, channels_last=True), naive_render(game, z, fi))


def test_cache_runs_each_coalition_once_and_batches_lazily(picture):
    import nbexplain as nbx

    model = LinearPixels()
    game = SuperpixelGame(nbx.as_model(model, batch_size=4), picture, "slic", n_segments=10, output="score")
    model.rows_seen.clear()
    z = np.random.default_rng(3).random((20, game.n_players)) < 0.5
    z[5] = z[2]  # a duplicate inside the batch
    first = game.outputs(z)
    assert sum(model.rows_seen) == 19 and max(model.rows_seen) == 4  # model batches of 4, built lazily
    np.testing.assert_allclose(first, model(game.render(z)), rtol=1e-12)
    again = game.outputs(z[::-1])
    np.testing.assert_array_equal(again, first[::-1])
    assert sum(model.rows_seen) == 19 + 20  # the reference call above only
    assert game.n_evaluations == 19 and game.cached(z) is not None and game.cached(~z) is None


def test_progress_and_cancellation(picture):
    game = SuperpixelGame(LinearPixels(), picture, "slic", n_segments=10, output="score")
    seen = []
    game.outputs(np.random.default_rng(0).random((50, game.n_players)) < 0.5, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)

    def cancel(fraction):
        raise Cancelled("superseded")

    with pytest.raises(Cancelled):
        lime_image(game, n_samples=300, seed=1, progress=cancel)


# -- additive model: closed forms ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fill", ["mean", "grey"])
def test_exact_shapley_and_lime_recover_additive_contributions(picture, fill):
    model = LinearPixels()
    game = SuperpixelGame(model, picture, "slic", n_segments=12, fill=fill, target=1, output="score")
    truth = model.contributions(game, 1)
    assert np.abs(truth).max() > 0.1
    sv = shapley_image(game)
    assert sv.method == "exact" and sv.n_evaluations == 2**game.n_players
    np.testing.assert_allclose(sv.values, truth, rtol=1e-9, atol=1e-9)
    full = model(game.image.tensor[None])[0, 1]
    empty = model(game.fills[0][None])[0, 1]
    assert sv.full_value == pytest.approx(full) and sv.base_value == pytest.approx(empty, abs=1e-9)
    assert abs(sv.efficiency_gap) < 1e-9

    exact_fit = lime_image(game, n_samples=400, alpha=1e-9, seed=0)
    np.testing.assert_allclose(exact_fit.weights, truth, rtol=1e-6, atol=1e-6)
    assert exact_fit.score == pytest.approx(1.0, abs=1e-9)
    assert exact_fit.local_prediction == pytest.approx(full, rel=1e-6)
    lime = lime_image(game, n_samples=1000, seed=0)  # LIME's default ridge alpha=1 shrinks a little
    np.testing.assert_allclose(lime.weights, truth, rtol=0.03, atol=0.01 * np.abs(truth).max())
    assert lime.score > 0.999
    for method in ("sampled", "kernel"):
        np.testing.assert_allclose(shapley_image(game, method=method, n_permutations=4, n_samples=64, seed=0).values,
                                   truth, rtol=1e-9, atol=1e-9)


def test_exact_equals_permutation_enumeration_for_m6_on_probabilities(picture):
    model = LinearPixels(k=3, seed=4)
    game = SuperpixelGame(model, picture, "grid", rows=2, cols=3, target=2)  # softmax: not additive
    m = game.n_players
    assert m == 6
    prob = lambda z: game.model.predict_proba(naive_render(game, z[None]))[0, 2]  # noqa: E731
    brute = np.zeros(m)
    for perm in itertools.permutations(range(m)):
        z = np.zeros(m, bool)
        before = prob(z)
        for player in perm:
            z[player] = True
            after = prob(z)
            brute[player] += after - before
            before = after
    brute /= math.factorial(m)
    sv = shapley_image(game)
    np.testing.assert_allclose(sv.values, brute, rtol=1e-7, atol=1e-10)
    assert sv.full_value == pytest.approx(game.probabilities[2])
    assert abs(sv.values.sum() - (sv.full_value - sv.base_value)) < 1e-12


def test_sampled_shapley_converges_on_an_image_game(picture):
    game = SuperpixelGame(LinearPixels(k=3, seed=7), picture, "slic", n_segments=10, target=0)
    exact = shapley_image(game, method="exact").values
    errors = [np.abs(shapley_image(game, method="sampled", n_permutations=p, seed=3).values - exact).max()
              for p in (4, 40, 400)]
    assert errors[2] < errors[0] / 4 and errors[2] < 0.05 * np.abs(exact).max(), errors


def test_lime_equals_the_lime_package_on_the_same_samples(picture):
    lime_image_pkg = pytest.importorskip("lime.lime_image")
    model = LinearPixels(k=3, seed=2)
    image = picture.astype(np.float64) / 255  # a float image: lime's mean fill is not rounded to uint8
    game = SuperpixelGame(model, image.astype(np.float32), "slic", n_segments=14)
    labels, target, n, seed = game.labels, game.target, 300, 11
    coalitions = np.random.RandomState(seed).randint(0, 2, n * game.n_players).reshape(n, -1)
    coalitions[0] = 1  # lime's sampling with random_seed=seed, reproduced

    def classifier(batch):  # lime passes (N, H, W, 3)
        return game.model.to_probabilities(model(np.asarray(batch, np.float32).transpose(0, 3, 1, 2)))

    explanation = lime_image_pkg.LimeImageExplainer(random_state=seed).explain_instance(
        image, classifier, labels=(target,), top_labels=None, hide_color=None, num_samples=n,
        segmentation_fn=lambda img: labels, random_seed=seed, batch_size=50)
    ours = lime_image(game, coalitions=coalitions.astype(bool))
    weights = np.zeros(game.n_players)
    for feature, weight in explanation.local_exp[target]:
        weights[feature] = weight
    np.testing.assert_allclose(ours.weights, weights, rtol=1e-4, atol=1e-7 * np.abs(weights).max())
    assert ours.intercept == pytest.approx(explanation.intercept[target], rel=1e-4)
    assert ours.score == pytest.approx(explanation.score, rel=1e-4)
    assert ours.local_prediction == pytest.approx(explanation.local_pred[0], rel=1e-4)


# -- curves ------------------------------------------------------------------------------------------------------
def test_deletion_insertion_closed_form_and_ranking_quality(picture):
    model = LinearPixels()
    game = SuperpixelGame(model, picture, "slic", n_segments=12, target=0, output="score")
    truth = model.contributions(game, 0)
    curves = deletion_insertion(game, scores=truth)
    order = np.argsort(-truth, kind="stable")
    np.testing.assert_array_equal(curves.order, order)
    full = model(game.image.tensor[None])[0, 0]
    empty = full - truth.sum()
    np.testing.assert_allclose(curves.deletion, full - np.concatenate([[0], np.cumsum(truth[order])]), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(curves.insertion, empty + np.concatenate([[0], np.cumsum(truth[order])]), rtol=1e-9, atol=1e-9)
    m = game.n_players
    x = np.arange(m + 1) / m
    assert curves.auc_deletion == pytest.approx(sum((curves.deletion[i] + curves.deletion[i + 1]) / 2 / m for i in range(m)))
    worst = deletion_insertion(game, order=order[::-1])
    assert curves.auc_deletion < worst.auc_deletion and curves.auc_insertion > worst.auc_insertion
    assert np.array_equal(curves.keep_top(3), np.isin(np.arange(m), order[:3])) and len(x) == m + 1
    with pytest.raises(InputError, match="order must be a permutation"):
        deletion_insertion(game, order=np.zeros(m, int))
    with pytest.raises(InputError, match="give exactly one of scores"):
        deletion_insertion(game)


# -- validation -----------------------------------------------------------------------------------------------
def test_public_functions_validate_their_input(picture):
    model = LinearPixels()
    with pytest.raises(InputError, match="n_samples must be an int >= 2; got 1"):
        lime_image(model, picture, n_samples=1)
    with pytest.raises(InputError, match="kernel_width must be a positive number"):
        lime_image(model, picture, kernel_width=0, n_segments=5)
    with pytest.raises(InputError, match="method='banzhaf' is not valid"):
        shapley_image(model, picture, method="banzhaf")
    with pytest.raises(InputError, match="method='exact' needs 2\\*\\*M evaluations; M=49"):
        shapley_image(model, picture, method="exact", segmentation="grid", rows=7, cols=7)
    with pytest.raises(InputError, match="target=9 is out of range"):
        lime_image(model, picture, target=9)
    with pytest.raises(InputError, match="image is required"):
        lime_image(model)
    game = SuperpixelGame(model, picture, n_segments=8)
    with pytest.raises(InputError, match="pass either a SuperpixelGame"):
        lime_image(game, picture)
    with pytest.raises(InputError, match="fill='purple' is not valid"):
        SuperpixelGame(model, picture, fill="purple")
    with pytest.raises(InputError, match="fill must be an image of the same size"):
        SuperpixelGame(model, picture, fill=np.zeros((5, 5, 3), np.uint8))
    with pytest.raises(InputError, match="output='logit' is not valid"):
        SuperpixelGame(model, picture, output="logit")
    with pytest.raises(InputError, match=f"coalitions must have {game.n_players} columns"):
        game.render(np.ones((2, 3), bool))


def test_results_plot_and_keep_their_numbers(picture):
    import matplotlib

    matplotlib.use("Agg")
    game = SuperpixelGame(LinearPixels(), picture, "slic", n_segments=8)
    lime = lime_image(game, n_samples=100, seed=0)
    sv = shapley_image(game)
    curves = deletion_insertion(game, scores=sv)
    for result in (lime, sv, curves, game.segmentation):
        ax = result.plot()
        assert ax.figure is not None
        assert result._repr_png_().startswith(b"\x89PNG")
    np.testing.assert_array_equal(sv.map, sv.values[game.labels].astype(np.float32))
    assert sv.table.shape == (2**game.n_players,)
    np.testing.assert_allclose(sv.table, game.value(all_coalitions(game.n_players)))


def test_a_small_cache_evicts_oldest_entries_but_answers_stay_right(picture):
    model = LinearPixels()
    game = SuperpixelGame(model, picture, "slic", n_segments=10, output="score", cache_bytes=5 * 3 * 8)  # 5 rows
    z = np.random.default_rng(4).random((12, game.n_players)) < 0.5
    first = game.outputs(z[:4])
    both = game.outputs(z)  # 4 cached rows + 8 new ones: the new rows evict the old while answering
    np.testing.assert_allclose(both, model(game.render(z)), rtol=1e-12)
    np.testing.assert_array_equal(both[:4], first)
    assert len(game._cache) == 5


# -- the front door's vocabulary -----------------------------------------------------------------------------------
def test_seed_defaults_to_reproducible_and_none_is_fresh(picture):
    game = SuperpixelGame(LinearPixels(), picture, "slic", n_segments=10)
    np.testing.assert_array_equal(lime_image(game, n_samples=50).coalitions, lime_image(game, n_samples=50).coalitions)
    np.testing.assert_array_equal(lime_image(game, n_samples=50).coalitions, lime_image(game, n_samples=50, seed=0).coalitions)
    fresh = [lime_image(game, n_samples=50, seed=None).coalitions for _ in range(2)]
    assert not np.array_equal(*fresh)
    a = shapley_image(game, method="sampled", n_permutations=6)
    np.testing.assert_array_equal(a.values, shapley_image(game, method="sampled", n_permutations=6).values)
    with pytest.raises(InputError, match="seed must be a non-negative int or None"):
        lime_image(game, seed=1.5)


def test_progress_choices_and_misspelt_keywords(picture):
    from nbexplain.errors import UnknownArgumentError

    game = SuperpixelGame(LinearPixels(), picture, "slic", n_segments=10)
    seen: list[float] = []
    shapley_image(game, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    seen.clear()
    deletion_insertion(game, scores=np.arange(game.n_players), progress=seen.append)
    assert seen[-1] == 1.0
    lime_image(game, n_samples=20, progress=False)
    lime_image(game, n_samples=20, progress=True)
    with pytest.raises(InputError, match="progress must be None, True, False or a callable"):
        lime_image(game, n_samples=20, progress="yes")
    with pytest.raises(UnknownArgumentError, match="lime_image\\(\\) got an unexpected keyword argument 'n_sample'; "
                                                   "did you mean 'n_samples'"):
        lime_image(game, n_sample=20)
    with pytest.raises(UnknownArgumentError, match="did you mean 'n_segments'"):
        shapley_image(LinearPixels(), picture, n_segmnts=5)
    with pytest.raises(InputError, match="pass either a SuperpixelGame"):
        shapley_image(game, n_segments=5)  # a segmentation parameter, but the game has its segmentation


def test_results_state_their_quality_as_numbers_and_lines(picture):
    game = SuperpixelGame(LinearPixels(), picture, "grid", rows=2, cols=3, output="score")
    lime = lime_image(game, n_samples=200)
    sv = shapley_image(game)
    curves = deletion_insertion(game, scores=sv)
    assert lime.fidelity == lime.score and lime.quality()[0] == f"fidelity (weighted R²) {lime.score:.3f}"
    assert sv.quality()[1].startswith(f"efficiency gap {sv.efficiency_gap:.2g}")
    assert curves.quality() == [f"deletion AUC {curves.auc_deletion:.3f} (lower is better)",
                                f"insertion AUC {curves.auc_insertion:.3f} (higher is better)"]
    for result, kind in ((lime, "lime"), (sv, "shapley"), (curves, "ranking")):
        assert result.kind == kind and result.summary().startswith(result.headline + ": ")
        assert result.headline.endswith(f"for {game.target_name}") and result.outline == ()
        assert result.scores.shape == (game.n_players,) and result.output == "score"
    np.testing.assert_array_equal(curves.order, np.argsort(-sv.values, kind="stable"))
    assert curves.target == sv.target and curves.segmentation is game.segmentation
