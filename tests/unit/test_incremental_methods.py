"""Incremental inference inside the perturbation methods: occlusion and superpixel games give what full
forward passes give, say how they ran, fall back when they cannot look into the model, and stay true to
the model's own forward pass (a model that raises still raises; Python state torch.fx froze is caught)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from captum.attr import Occlusion
from torch import nn

import nbexplain as nbx
from nbexplain.errors import ModelError
from nbexplain.methods.incremental.patches import disabled

RTOL = 1e-5


def close(actual, expected, rtol: float = RTOL) -> None:
    """Equal within ``rtol`` of the reference's scale (float32 rounding of the same computation)."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.abs(expected).max())
    assert scale > 0
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + self.down(x))


class SmallResNet(nn.Module):
    """A ResNet-shaped CNN: a linear stem (conv + batch-norm), max pooling, residual blocks, a linear head.
    ``scale`` is Python state read in forward (torch.fx freezes it); ``fail`` makes it raise."""

    def __init__(self, width: int = 4, n_classes: int = 5):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(3, width, 5, 2, 2, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.Sequential(Block(width, width, 1), Block(width, 2 * width, 2))
        self.head = nn.Linear(2 * width, n_classes)
        self.scale = 1.0
        self.fail = False
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)

    def forward(self, x):
        if self.fail:
            raise ValueError("the model is broken on purpose")
        h = self.blocks(self.stem(x))
        return self.head(h.mean((2, 3))) * self.scale


@pytest.fixture
def net() -> SmallResNet:
    return SmallResNet().eval()


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)


# -- occlusion ---------------------------------------------------------------------------------------------------
def test_occlusion_runs_incrementally_and_equals_captum(net, image):
    result = nbx.attribute(net, image, "occlusion", target=1, window=8, stride=4, baseline=0.0)
    assert result.engine == "incremental"
    x = torch.from_numpy(image.transpose(2, 0, 1).copy()[None])
    ref = Occlusion(net).attribute(x, sliding_window_shapes=(3, 8, 8), strides=(3, 4, 4), baselines=0.0, target=1,
                                   perturbations_per_eval=16)[0].numpy()
    with torch.inference_mode():
        scale = float(net(x).abs().max())
    assert np.abs(result.attribution - ref).max() <= RTOL * scale  # relative to the output scale
    with disabled():
        full = nbx.attribute(net, image, "occlusion", target=1, window=8, stride=4, baseline=0.0)
    assert full.engine == "full (incremental inference is switched off)"
    assert np.abs(result.attribution - full.attribution).max() <= RTOL * scale


def test_occlusion_says_why_it_ran_full_forward_passes(net, image):
    callable_model = nbx.as_model(lambda b: net(torch.from_numpy(b)).detach().numpy())
    got = nbx.attribute(callable_model, image, "occlusion", window=8, stride=8)
    assert got.engine == "full (a callable model: its forward pass cannot be looked into)"
    big = nbx.attribute(net, image, "occlusion", window=48, stride=16)  # a window this large does not pay off
    assert big.engine.startswith("full (a changed box of 48 x 48 would cost an estimated")
    circular = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(4, 3)).eval()
    got = nbx.attribute(circular, image, "occlusion", window=8, stride=8)
    assert got.engine == ("full (layer '0' (Conv2d) is not supported: padding_mode='circular' (only zero padding "
                          "is local))")
    partial = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.GroupNorm(2, 4), nn.Conv2d(4, 4, 3),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()
    got = nbx.attribute(partial, image, "occlusion", window=8, stride=8)
    assert got.engine == ("incremental up to layer '2' (GroupNorm) (GroupNorm is not a layer incremental inference "
                          "knows), full maps after it")
    # this model's occlusion differences are ~1e-5 of outputs ~1: float32 rounding (which differs between the
    # engine's layers and the full passes' channels-last convolutions) is a visible share of them; in float64 the
    # two paths agree to far below the tolerance
    partial64 = copy.deepcopy(partial).double()
    got64 = nbx.attribute(partial64, image, "occlusion", window=8, stride=8)
    assert got64.engine == got.engine
    with disabled():
        ref = nbx.attribute(partial64, image, "occlusion", window=8, stride=8)
    close(got64.attribution, ref.attribution, 1e-4)
    close(got.attribution, ref.attribution, 0.05)  # float32: the same map to a few % of its tiny scale


def test_python_state_frozen_by_the_trace_is_caught_and_the_numbers_stay_right(net, image):
    model = nbx.as_model(net)
    first = nbx.attribute(model, image, "occlusion", target=0, window=8, stride=8, baseline=0.0)
    assert first.engine == "incremental"
    net.scale = 3.0  # forward reads it: the traced graph (and the engine cached for this image) still says 1.0
    again = nbx.attribute(model, image, "occlusion", target=0, window=8, stride=8, baseline=0.0)
    assert again.engine.startswith("full (incremental inference gave ")
    assert "away from the model's own forward pass" in again.engine
    close(again.attribution, 3.0 * first.attribution, 1e-4)
    fresh = nbx.attribute(model, image, "occlusion", target=0, window=8, stride=8, baseline=0.0)
    assert fresh.engine == "incremental"  # traced again, with scale 3
    close(fresh.attribution, again.attribution, 1e-4)


def test_a_model_that_raises_still_raises(net, image):
    model = nbx.as_model(net)
    nbx.attribute(model, image, "occlusion", window=8, stride=8)
    net.fail = True
    with pytest.raises(ModelError, match="broken on purpose"):
        nbx.attribute(model, image, "occlusion", window=8, stride=8)
    game = nbx.SuperpixelGame(SmallResNet().eval(), image, "grid", rows=4, cols=4)
    game.model.raw.fail = True
    one_removed = ~np.eye(16, dtype=bool)
    with pytest.raises(ModelError, match="broken on purpose"):
        game.outputs(one_removed)


def test_occluded_batches_reuse_one_buffer_and_stay_right():
    from nbexplain.methods.pixel.occlusion import Occluded, window_starts

    rng = np.random.default_rng(0)
    x, fill = rng.random((3, 10, 12)).astype(np.float32), rng.random((3, 10, 12)).astype(np.float32)
    rows, cols = window_starts(10, 4, 3), window_starts(12, 5, 4)
    batch = Occluded(x, fill, rows, cols, (4, 5))
    for start, stop in [(0, 4), (4, 8), (8, 9), (9, len(batch))]:
        got = batch[start:stop]
        for k, i in enumerate(range(start, stop)):
            expected = x.copy()
            r, q = rows[i // len(cols)], cols[i % len(cols)]
            expected[:, r:r + 4, q:q + 5] = fill[:, r:r + 4, q:q + 5]
            np.testing.assert_array_equal(got[k], expected)


# -- superpixel games: boxes, the linear stem, full forward passes --------------------------------------------------
def coalitions(m: int, rng) -> np.ndarray:
    one_removed = ~np.eye(m, dtype=bool)
    one_kept = np.eye(m, dtype=bool)
    random = rng.random((40, m)) < 0.5
    return np.concatenate([one_removed, one_kept, random])


def test_superpixel_games_run_incrementally_by_superposition_and_exactly(net, image):
    rng = np.random.default_rng(1)
    game = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4)
    z = coalitions(game.n_players, rng)
    got = game.outputs(z)
    assert "incremental for 32" in game.engine, game.engine  # the 32 coalitions with one superpixel changed
    assert "superposition through the linear stem (up to layer 'stem.1' (BatchNorm2d)) for 40" in game.engine
    with disabled():
        full_game = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4)
        expected = full_game.outputs(z)
    assert full_game.engine == "full (incremental inference is switched off)"
    close(got, expected)


def test_superposition_assembles_the_stems_output_of_each_coalition_into_one_reused_buffer(net, image):
    from nbexplain.adapters.lazy import ReusedBuffer
    from nbexplain.methods.incremental.stem import Responses

    game = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4)
    engine = game._engine(0)
    b = game._boxes
    responses = Responses(engine, np.ascontiguousarray(game.image.tensor), game.fills[0], game.labels,
                          (b.top, b.bottom, b.left, b.right))
    z = coalitions(game.n_players, np.random.default_rng(3))
    with torch.inference_mode():  # the stem (convolution and batch-norm) run on the rendered images
        expected = net.stem[1](net.stem[0](torch.from_numpy(game.render(z)))).numpy()
    buffer = ReusedBuffer()
    first = responses.assemble(z[:20], buffer)
    close(first.numpy(), expected[:20])
    assert first.is_contiguous(memory_format=torch.channels_last)
    second = responses.assemble(z[20:30], buffer)  # fewer rows: the front of the same memory
    assert second.data_ptr() == first.data_ptr()
    close(second.numpy(), expected[20:30])
    close(responses.assemble(z).numpy(), expected)  # without a buffer: new memory


def test_engines_and_superpositions_are_kept_per_network_and_made_again_after_training(image):
    """A fresh ``as_model`` of the same network (each ``nbx.lime_image(net, ...)`` makes one) reuses the
    engine's reference run and the superpixels' responses; a weight changed in place makes them again, and
    the outputs follow the new weights."""
    from nbexplain.methods.incremental.patches import engine_for

    net = SmallResNet().eval()
    x = np.ascontiguousarray(image.transpose(2, 0, 1))
    assert engine_for(nbx.as_model(net), x) is engine_for(nbx.as_model(net), x)
    z = np.random.default_rng(4).random((40, 16)) < 0.5
    first = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4)
    first.outputs(z)
    second = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4)
    second.outputs(z[::-1].copy())
    assert "superposition" in second.engine, second.engine
    assert second._stems[0] is first._stems[0] and second._engines[0] is first._engines[0]

    before = engine_for(nbx.as_model(net), x)
    with torch.no_grad():
        net.stem[0].weight.mul_(1.5)  # a step of training, in place
        net.blocks[1].bn2.running_var.add_(0.5)
    assert engine_for(nbx.as_model(net), x) is not before
    third = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4)
    got = third.outputs(z)
    assert "superposition" in third.engine and third._stems[0] is not first._stems[0]
    close(got, nbx.as_model(net).predict(third.render(z)))


def test_a_run_frees_each_map_after_its_last_reader():
    """A run through the traced graph drops each map once no later layer reads it, as the model's own forward
    pass does (holding every map of a batch to the end made the layers after a superposed stem 12 % slower;
    incremental runs drop theirs the same way)."""
    import weakref

    from nbexplain.methods.incremental.engine import IncrementalModel

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                          nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 3)).eval()
    engine = IncrementalModel(model, np.random.default_rng(0).random((3, 16, 16)).astype(np.float32))
    maps = torch.rand(2, 4, 16, 16)
    with torch.inference_mode():
        expected = model[2:](maps).numpy()
    early: list = []
    alive_at_the_end: list = []
    model[2].register_forward_hook(lambda _m, _i, out: early.append(weakref.ref(out)))
    model[5].register_forward_hook(lambda _m, _i, _o: alive_at_the_end.append(early[-1]() is not None))
    got = engine.run_from(engine.stem(), maps)
    close(got, expected)
    assert alive_at_the_end == [False]  # the first ReLU's output is gone once the second convolution read it


def test_several_fills_and_backgrounds(net, image):
    rng = np.random.default_rng(2)
    game = nbx.SuperpixelGame(net, image, "grid", rows=4, cols=4, fill="grey")
    other = game.add_fill(rng.random(image.shape).astype(np.float32))
    z = coalitions(game.n_players, rng)
    fi = rng.integers(0, 2, len(z))
    got = game.outputs(z, fi)
    assert game.engine != "full", game.engine
    expected = nbx.as_model(net).predict(game.render(z, fi))
    close(got, expected)
    assert other == 1


def test_lime_and_shapley_equal_their_full_forward_passes(net, image):
    lime = nbx.lime_image(net, image, segmentation="grid", rows=4, cols=4, n_samples=120, progress=False)
    sampled = nbx.shapley_image(net, image, segmentation="grid", rows=4, cols=4, method="sampled",
                                n_permutations=6, progress=False)
    with disabled():
        lime_full = nbx.lime_image(net, image, segmentation="grid", rows=4, cols=4, n_samples=120, progress=False)
        sampled_full = nbx.shapley_image(net, image, segmentation="grid", rows=4, cols=4, method="sampled",
                                         n_permutations=6, progress=False)
    close(lime.weights, lime_full.weights, 1e-4)
    close(sampled.values, sampled_full.values, 1e-4)


def test_non_torch_models_render_into_a_reused_buffer(image):
    from nbexplain.methods.coalitions.superpixels import Perturbed

    seen = []
    game = nbx.SuperpixelGame(lambda b: (seen.append(b.flags["C_CONTIGUOUS"]), b.mean((2, 3)))[1], image, "grid",
                              rows=3, cols=3, fill="black")
    z = np.random.default_rng(3).random((20, 9)) < 0.5
    got = game.outputs(z)
    assert game.engine == "full (a callable model: its forward pass cannot be looked into)"
    expected = np.where(z[:, game.labels][:, None], game.image.tensor[None], 0.0).mean((2, 3))
    close(got, expected)  # float32 means against float64 ones
    assert all(seen)  # the model got C-ordered batches (no copy on its side)
    lazy = Perturbed(game, z, np.zeros(len(z), np.int64))
    first, second = lazy[0:5].copy(), lazy[5:10]
    np.testing.assert_array_equal(first, game.render(z[:5]))
    np.testing.assert_array_equal(second, game.render(z[5:10]))
