"""Sanity checks (Adebayo et al. 2018): the published finding reproduced, the randomisation itself, the result.

The model built for the finding (``vgg_like``): a VGG-style CNN of six 3x3 convolutions (16, 16, 32, 32, 64, 64
channels, each followed by an ``nn.ReLU`` module, a 2x2 max-pool after every second), then two linear layers
(2304 -> 64 -> ReLU -> 2): guided backpropagation needs ReLU *modules* (Captum's hooks), and no batch norm, so
re-initialising a layer changes only its weights. Its weights are drawn with torch seed 1 (untrained: what the
check tests — whether a map depends on the top layers' weights — is a property of the method; the notebook
shows it on the trained tank CNN). Images: 48 x 48 tank scenes (``tanks(8, biased=False, seed=3)``, scenes 1
and 4). Thresholds found there (cascading randomisation, rank correlation of |map|):

* gradient and Grad-CAM: < 0.3 at full randomisation (found: 0.11-0.12 and -0.02 to -0.01);
* guided backpropagation: > 0.7 while the top layers are random — the two linear layers, Adebayo et al.'s
  "logits" (found: 0.79-0.86);
* the ordering: guided backpropagation above gradient and above Grad-CAM at every step.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.datasets import tanks
from nbexplain.errors import InputError, NotDifferentiableError
from nbexplain.methods.trust.randomisation import (
    layer_steps,
    parameterised_layers,
    randomised_modules,
)

FULL_RANDOM_BELOW = 0.3
TOP_LAYERS_ABOVE = 0.7
TOP_STEPS = 2  # the two linear layers


def vgg_like(seed: int = 1) -> torch.nn.Module:
    nn = torch.nn
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers, c = [], 3
        for width in (16, 32, 64):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c = width
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 6 * 6, 64), nn.ReLU(), nn.Linear(64, 2)).eval()


@pytest.fixture(scope="module")
def finding():
    model = vgg_like()
    scenes = tanks(8, biased=False, seed=3)
    return [nbx.sanity_check(model, scenes.images[i], ["gradient", "rectified", "gradcam"], "cascading",
                             metrics=("spearman_abs",), progress=False) for i in (1, 4)]


@pytest.mark.slow
def test_gradient_and_gradcam_lose_rank_correlation_while_guided_backprop_stays(finding):
    for check in finding:
        rank = dict(zip(check.methods, check.similarity["spearman_abs"], strict=True))
        assert check.steps[:TOP_STEPS] == ["18", "16"]  # the linear layers first: top-down
        assert len(check.steps) == 8
        assert rank["gradient"][-1] < FULL_RANDOM_BELOW, rank["gradient"]
        assert rank["gradcam"][-1] < FULL_RANDOM_BELOW, rank["gradcam"]
        assert np.all(rank["rectified"][:TOP_STEPS] > TOP_LAYERS_ABOVE), rank["rectified"]
        # the ordering of the methods never flips
        assert np.all(rank["rectified"] > rank["gradient"]), (rank["rectified"], rank["gradient"])
        assert np.all(rank["rectified"] > rank["gradcam"]), (rank["rectified"], rank["gradcam"])
        assert not check.passed("rectified") and check.passed("gradient") and check.passed("gradcam")
        assert "fails: barely changes when the weights are random" in check.verdict("rectified")
        assert "passes" in check.verdict("gradient")


def test_cascading_randomises_top_down_cumulatively_on_a_copy():
    model = vgg_like()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    steps = layer_steps(model)
    assert [name for name, _ in steps] == [n for n, _ in parameterised_layers(model)][::-1]
    seen = []
    for _, clone in randomised_modules(model, steps, "cascading", list(range(len(steps)))):
        changed = [n for n, p in clone.named_parameters() if not torch.equal(p, before[n])]
        seen.append(sorted({c.rsplit(".", 1)[0] for c in changed}, key=int, reverse=True))
        assert clone is not model
    assert seen[0] == ["18"] and seen[1] == ["18", "16"] and seen[-1] == ["18", "16", "12", "10", "7", "5", "2", "0"]
    for k, v in model.state_dict().items():  # the model itself is untouched
        assert torch.equal(v, before[k])


def test_independent_randomises_one_layer_at_a_time_and_seeds_reproduce():
    model = vgg_like()
    before = dict(model.state_dict())
    steps = layer_steps(model)
    runs = []
    for _ in range(2):
        runs.append([])
        for name, clone in randomised_modules(model, steps, "independent", [7] * len(steps)):
            changed = {n.rsplit(".", 1)[0] for n, p in clone.named_parameters() if not torch.equal(p, before[n])}
            assert changed == {name}
            runs[-1].append(clone.state_dict()[f"{name}.weight"].clone())
    for a, b in zip(*runs, strict=True):
        assert torch.equal(a, b)  # same seed, same random weights


def test_each_layer_gets_its_own_default_initialiser_and_the_caller_rng_is_untouched():
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4, 2))
    with torch.no_grad():
        model[1].weight.fill_(3.0)
        model[1].running_mean.fill_(5.0)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    steps = layer_steps(model)
    *_, (_, clone) = list(randomised_modules(model, steps, "cascading", [0, 1, 2]))
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(clone[1].weight, torch.ones(4)) and torch.equal(clone[1].running_mean, torch.zeros(4))
    ref = nn.Conv2d(3, 4, 3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)  # the conv is step 2 (top-down: linear, batch norm, conv)
        ref.reset_parameters()
    assert torch.equal(clone[0].weight, ref.weight)


def test_layers_can_be_blocks(cnn):
    steps = layer_steps(cnn, ["head", "conv2"])
    assert [n for n, _ in steps] == ["head", "conv2"]
    with pytest.raises(InputError, match="'nope' is not a module of the model"):
        layer_steps(cnn, ["nope"])
    with pytest.raises(InputError, match="'relu1' has no parameters"):
        layer_steps(cnn, ["relu1"])


def test_result_numbers_words_table_and_picture(cnn):
    image = np.random.default_rng(0).random((3, 16, 16))
    check = nbx.sanity_check(cnn, image, ["gradient", "gradcam"], layers=["head", "conv2", "conv1"], progress=False)
    assert check.steps == ["head", "conv2", "conv1"] and check.seeds == [0, 1, 2]
    assert set(check.similarity) == {"spearman_abs", "spearman", "ssim", "hog"}
    assert check.maps.shape == (2, 3, 16, 16) and check.original.shape == (2, 16, 16)
    frame = check.to_frame()
    assert list(frame.columns) == ["method", "step", "layer", "spearman_abs", "spearman", "ssim", "hog"]
    assert len(frame) == 6
    assert check.summary().count("\n") == 2
    axes = check.plot()
    assert len(axes) == 2 * 4 + 1
    assert check._repr_png_().startswith(b"\x89PNG")
    # the same step maps as the methods give on a model randomised by hand
    steps = layer_steps(cnn, ["head", "conv2", "conv1"])
    *_, (_, clone) = list(randomised_modules(cnn, steps, "cascading", [0, 1, 2]))
    by_hand = nbx.attribute(clone, image, "gradient", target=check.target).map
    np.testing.assert_allclose(check.maps[0, -1].astype(np.float32), by_hand / np.abs(by_hand).max(), atol=2e-3)


def test_data_randomisation_compares_with_the_shuffled_label_model(cnn):
    from unit_kit import TinyCNN

    image = np.random.default_rng(1).random((3, 16, 16))
    shuffled = TinyCNN(seed=5).double().eval()
    check = nbx.sanity_check(cnn, image, ["gradient"], "data", shuffled_model=shuffled, progress=False)
    assert check.steps == ["shuffled labels"]
    a = nbx.attribute(cnn, image, "gradient").map
    b = nbx.attribute(shuffled, image, "gradient", target=check.target).map
    from nbexplain.methods.trust.similarity import spearman

    assert check.similarity["spearman_abs"][0, 0] == pytest.approx(spearman(a, b))
    assert "labels are shuffled" in check.verdict("gradient") or "shuffled labels" in check.verdict("gradient")


def test_bad_arguments_are_named(cnn):
    image = np.random.default_rng(0).random((3, 16, 16))
    with pytest.raises(InputError, match="mode='cascade' is not valid"):
        nbx.sanity_check(cnn, image, mode="cascade")
    with pytest.raises(InputError, match="pass shuffled_model="):
        nbx.sanity_check(cnn, image, ["gradient"], mode="data")
    with pytest.raises(InputError, match="shuffled_model is for mode='data'"):
        nbx.sanity_check(cnn, image, ["gradient"], shuffled_model=cnn)
    with pytest.raises(InputError, match="one int per step"):
        nbx.sanity_check(cnn, image, ["gradient"], seed=[1, 2], progress=False)
    with pytest.raises(InputError, match="metrics='pearson' is not valid"):
        nbx.sanity_check(cnn, image, ["gradient"], metrics=["pearson"])
    with pytest.raises(TypeError):
        nbx.sanity_check(cnn, image, ["gradient"], moed="cascading")
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).random((20, 3 * 4 * 4))
    clf = nbx.as_model(LogisticRegression().fit(X, np.arange(20) % 2))
    with pytest.raises(NotDifferentiableError):
        nbx.sanity_check(clf, np.random.default_rng(0).random((3, 4, 4)), ["occlusion"])


def test_a_flat_map_cannot_be_checked(cnn):
    image = np.zeros((3, 16, 16))
    check = nbx.sanity_check(cnn, image, ["occlusion"], layers=["head"], metrics=("spearman_abs",),
                             options={"occlusion": {"window": 4, "stride": 4, "baseline": "black"}}, progress=False)
    assert np.isnan(check.scores[0]) and not check.passed("occlusion")
    assert "cannot be checked" in check.verdict("occlusion")


def test_similarity_measures_equal_scikit_image_and_scipy():
    from scipy.stats import rankdata, spearmanr
    from skimage.feature import hog
    from skimage.metrics import structural_similarity

    from nbexplain.methods.trust import similarity as sim

    rng = np.random.default_rng(0)
    for shape in [(224, 224), (48, 48), (16, 16), (33, 20)]:
        a, b = rng.random(shape), rng.random(shape) ** 3
        a[3:6, 3:6] = 0.5  # ties
        assert sim.spearman(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel())[0], abs=1e-12)
        np.testing.assert_array_equal(sim.ranks(np.round(a, 1)), rankdata(np.round(a, 1).ravel()) - 1)
        signed = (np.round(a, 1) - 0.5).astype(np.float32)  # a float32 map: sorted as keys of its bits
        signed[0, :3] = [-0.0, np.inf, -np.inf]
        np.testing.assert_array_equal(sim.ranks(signed), rankdata(signed.ravel()) - 1)
        window = sim.ssim_window(shape)
        expected = structural_similarity(sim.scaled(a), sim.scaled(b), data_range=1.0, win_size=window)
        assert sim.ssim(a, b) == pytest.approx(expected, abs=1e-9)  # window sums by shifted additions here
        cell, block = sim.hog_cells(shape)
        reference = hog(sim.scaled(a), orientations=9, pixels_per_cell=cell, cells_per_block=block)
        np.testing.assert_allclose(sim.hog_features(a), reference, atol=1e-6)  # scikit-image sums in float32
        features = [sim.hog_features(m) for m in (a, b)]
        assert sim.hog_similarity(a, b) == pytest.approx(np.corrcoef(*features)[0, 1], abs=1e-12)
    flat = np.zeros((8, 8))
    assert sim.spearman(flat, rng.random((8, 8))) == 0.0 and sim.spearman(flat, flat) == 1.0
    assert sim.top_k_intersection(np.arange(10.0), np.arange(10.0)[::-1], 3) == 0.0


def test_a_step_may_span_several_modules():
    model = vgg_like()
    steps = layer_steps(model, [["18", "16"], ["12"], ["10", "7", "5"]])
    assert [n for n, _ in steps] == ["18 … 16", "12", "10 … 5"]
    assert [len(layers) for _, layers in steps] == [2, 1, 3]
    with pytest.raises(InputError, match="at least one module"):
        layer_steps(model, [[]])
