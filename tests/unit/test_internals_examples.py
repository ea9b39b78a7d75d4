"""Dataset examples against brute force (every activation of the pool computed and sorted), receptive fields
against the architecture's arithmetic, crops against slicing; filters and feature maps against the weights
and a forward hook."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.internals.examples import crop, receptive_field


def cnn(seed: int = 0) -> torch.nn.Sequential:
    """conv3 -> ReLU -> pool2 -> conv3 -> ReLU: a receptive field of 8 x 8 pixels, stride 2."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(5, 6, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(6, 2)).eval()


@pytest.fixture
def pool():
    return (np.random.default_rng(0).random((23, 20, 20, 3)) * 255).astype(np.uint8)


def all_activations(model, layer, pool):
    store = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: store.__setitem__("out", out.detach()))
    with torch.no_grad():
        model(torch.from_numpy(pool.transpose(0, 3, 1, 2).astype(np.float32) / 255))
    handle.remove()
    return store["out"].double().numpy()  # (N, C, h, w)


@pytest.mark.parametrize("per_image", [True, False])
def test_top_k_equals_brute_force(pool, per_image):
    model = cnn()
    acts = all_activations(model, model[4], pool)
    found = nbx.dataset_examples(model, "4", pool, channels=[0, 3, 5], k=7, per_image=per_image, batch_size=5,
                                 progress=False)
    n, _, h, w = acts.shape
    for row, c in enumerate([0, 3, 5]):
        if per_image:
            flat = acts[:, c].reshape(n, -1)
            best = flat.max(1)
            order = np.argsort(-best, kind="stable")[:7]
            np.testing.assert_allclose(found.values[row], best[order], rtol=1e-6)
            np.testing.assert_array_equal(found.image[row], order)
            pos = flat[order].argmax(1)
            np.testing.assert_array_equal(found.y[row], pos // w)
            np.testing.assert_array_equal(found.x[row], pos % w)
        else:
            flat = acts[:, c].ravel()
            order = np.argsort(-flat, kind="stable")[:7]
            np.testing.assert_allclose(found.values[row], flat[order], rtol=1e-6)
            np.testing.assert_array_equal(found.image[row], order // (h * w))
            # every reported activation is the model's at that image and position
        np.testing.assert_allclose(acts[found.image[row], c, found.y[row], found.x[row]], found.values[row], rtol=1e-6)
    assert len(set(found.image[0])) == 7 or not per_image


def test_receptive_fields_follow_the_architecture():
    model = cnn()
    theoretical = receptive_field(model, model[4], (3, 20, 20), mass=None)
    assert (theoretical.height, theoretical.width) == (8, 8)  # 3 + 1 (pool) + 2 x 2 (conv after the pool)
    assert (theoretical.stride_y, theoretical.stride_x) == (2.0, 2.0) and theoretical.size == (10, 10)
    assert theoretical.box(5, 5) == (10 - 3, 10 - 3, 8, 8)  # unit (5, 5) sees rows 7..14
    effective = receptive_field(model, model[4], (3, 20, 20), mass=0.5)
    assert effective.kind == "effective" and effective.height < 8 and effective.full == (8, 8)
    deep = torch.nn.Sequential(*[torch.nn.Conv2d(3, 3, 5, padding=2) for _ in range(6)])  # field 25 > 16
    wide = receptive_field(deep, deep[5], (3, 16, 16), mass=None)
    assert (wide.height, wide.width) == (25, 25) and wide.box(8, 8) == (-4, -4, 25, 25)


def test_patches_are_the_crops_of_the_pool(pool):
    model = cnn()
    found = nbx.dataset_examples(model, model[4], pool, channels=2, k=4, field="theoretical", progress=False)
    assert found.channels == [0, 1] and found.patches.shape == (2, 4, 8, 8, 3)
    for i in range(2):
        for j in range(4):
            top, left, h, w = found.boxes[i, j]
            assert (top, left) == (found.y[i, j] * 2 - 3, found.x[i, j] * 2 - 3)
            np.testing.assert_array_equal(found.patches[i, j], crop(pool[found.image[i, j]], (top, left, h, w)))
    picture = np.arange(5 * 5 * 3, dtype=np.uint8).reshape(5, 5, 3)
    patch = crop(picture, (-1, 3, 3, 3))
    np.testing.assert_array_equal(patch[1:, :2], picture[:2, 3:5])
    assert (patch[0] == 128).all() and (patch[:, 2] == 128).all()
    table = found.to_frame()
    assert len(table) == 8 and list(table.columns[:3]) == ["channel", "rank", "activation"]
    assert len(found.plot()) == 8
    assert set(found.of(1)) == {"values", "image", "y", "x", "boxes", "patches"}


def test_pools_of_tanks_lists_and_bad_pools():
    model = nbx.datasets.tank_network(0).eval()  # untrained: the pool and the field are what is tested
    tanks = nbx.datasets.tanks(12, seed=3)
    found = nbx.dataset_examples(model, "8", tanks, channels=[1], k=3, progress=False)
    from_list = nbx.dataset_examples(model, "8", list(tanks.images), channels=[1], k=3, progress=False)
    np.testing.assert_array_equal(found.values, from_list.values)
    assert found.field.full == (18, 18)
    with pytest.raises(InputError, match="must all have one size"):
        nbx.dataset_examples(model, "8", [tanks.images[0], tanks.images[1][:40]])
    with pytest.raises(InputError, match="channel 99 is out of range"):
        nbx.dataset_examples(model, "8", tanks, channels=[99])
    with pytest.raises(InputError, match="need a layer with a feature map"):
        nbx.dataset_examples(model, "13", tanks)
    with pytest.raises(InputError, match="field='theoretcal' is not valid.*did you mean 'theoretical'"):
        nbx.dataset_examples(model, "8", tanks, field="theoretcal")


def test_filters_are_the_first_convolution_drawn_around_grey():
    model = cnn()
    f = nbx.filters(model)
    w = model[0].weight.detach().numpy()
    assert f.layer == "0" and f.images.shape == (5, 3, 3, 3)
    np.testing.assert_allclose(f.norms, np.linalg.norm(w.reshape(5, -1), axis=1), rtol=1e-6)
    k = 2
    expected = np.round((0.5 + 0.5 * w[k] / np.abs(w[k]).max()) * 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_allclose(f.images[k].astype(int), expected.astype(int), atol=1)
    shared = nbx.filters(model, scale="layer")
    assert np.abs(shared.images.astype(int) - 128).max() <= np.abs(f.images.astype(int) - 128).max()
    deep = nbx.filters(model, "3")  # 5 inputs: each filter summed over its inputs, in grey
    assert deep.images.shape == (6, 3, 3, 3) and (deep.images[..., 0] == deep.images[..., 2]).all()
    assert len(f.plot()) == 5 and len(f.to_frame()) == 5
    with pytest.raises(InputError, match="must be a torch.nn.Conv2d"):
        nbx.filters(model, "1")


def test_feature_maps_equal_a_forward_hook():
    model = cnn()
    image = (np.random.default_rng(1).random((20, 20, 3)) * 255).astype(np.uint8)
    fm = nbx.feature_maps(model, image, "1")
    acts = all_activations(model, model[1], image[None])[0]
    np.testing.assert_allclose(fm.maps, acts, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fm.means, acts.reshape(5, -1).mean(1), rtol=1e-6)
    assert fm.strongest(2) == list(np.argsort(-fm.means, kind="stable")[:2])
    assert fm.to_frame()["active"].between(0, 1).all()
    assert len(fm.plot(channels=[0, 3])) == 2
    with pytest.raises(InputError, match="feature maps need an output of shape"):
        nbx.feature_maps(model, image, "7")
