"""Activation maximisation against closed forms and direct computation: a linear score with an L2 penalty
converges to w / (2 lambda) clipped to the valid range; with every regulariser off each step increases a
concave objective; the same seed gives the same image; the reported values are the model's own; the
parameterisations keep the image in range; Lucid's constants and a Gaussian blur as scipy computes it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.errors import Cancelled, InputError
from nbexplain.methods.internals.parameterization import (
    COLOR_CORRELATION_SVD_SQRT,
    COLOR_MATRIX,
    ImageParameters,
    gaussian_kernel,
)

PLAIN = dict(fourier=False, decorrelate=False, jitter=0, scale=0, rotate=0, progress=False)


class LinearScores(torch.nn.Module):
    """Class 0 scores w . x, class 1 scores -w . x (float64)."""

    def __init__(self, shape=(3, 8, 8), seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(shape, generator=g, dtype=torch.float64))

    def forward(self, x):
        z = (x * self.w).flatten(1).sum(1)
        return torch.stack([z, -z], dim=1)


class Concave(torch.nn.Module):
    """A concave score: -|x - a|^2 + w . x, so gradient ascent has one maximum."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.a = torch.nn.Parameter(torch.rand((3, 8, 8), generator=g, dtype=torch.float64) * 0.6 + 0.2)
        self.w = torch.nn.Parameter(torch.randn((3, 8, 8), generator=g, dtype=torch.float64))

    def forward(self, x):
        z = -((x - self.a) ** 2).flatten(1).sum(1) + (x * self.w).flatten(1).sum(1)
        return torch.stack([z, -z], dim=1)


def small_cnn(seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 3)).double().eval()


@pytest.mark.parametrize("lam", [0.5, 0.2, 0.8])
def test_linear_score_with_l2_converges_to_w_over_2_lambda_clipped(lam):
    model = LinearScores()
    expected = np.clip(model.w.detach().numpy() / (2 * lam), -1.0, 1.0)
    assert 0 < np.mean(np.abs(expected) == 1.0) < 1  # some components clipped, some inside
    sgd = nbx.maximize(model, 0, size=8, steps=300, lr=0.2, optimizer="sgd", l2=lam, value_range=(-1, 1), **PLAIN)
    np.testing.assert_allclose(sgd.tensor, expected, atol=1e-6)
    adam = nbx.maximize(model, 0, size=8, steps=600, lr=0.02, l2=lam, value_range=(-1, 1), **PLAIN)
    np.testing.assert_allclose(adam.tensor, expected, atol=2e-3)
    # the reported value is the score w . x of the image found
    np.testing.assert_allclose(sgd.value, float((model.w.detach().numpy() * sgd.tensor).sum()), rtol=1e-5)


def test_penalty_centre_is_the_middle_of_the_range():
    model = LinearScores()
    lam = 0.5
    found = nbx.maximize(model, 0, size=8, steps=200, lr=0.2, optimizer="sgd", l2=lam, value_range=(0, 2), **PLAIN)
    np.testing.assert_allclose(found.tensor, np.clip(1 + model.w.detach().numpy() / (2 * lam), 0, 2), atol=1e-6)


@pytest.mark.parametrize("model", [Concave(), LinearScores()])
def test_every_step_increases_a_concave_objective_with_regularisers_off(model):
    found = nbx.maximize(model, 0, size=8, steps=80, lr=0.05, optimizer="sgd", value_range=(0, 1), **PLAIN)
    steps = np.diff(found.curve)
    assert np.all(steps >= -1e-12), f"the objective fell at steps {np.nonzero(steps < -1e-12)[0]}"
    assert found.curve[-1] > found.curve[0]


def test_the_same_seed_gives_the_same_image_and_another_seed_another():
    cnn = small_cnn()
    options = dict(size=16, steps=12, jitter=2, scale=0.1, rotate=10, blur_every=3, progress=False)
    a = nbx.maximize(cnn, 1, seed=7, **options)
    b = nbx.maximize(cnn, 1, seed=7, **options)
    c = nbx.maximize(cnn, 1, seed=8, **options)
    np.testing.assert_array_equal(a.tensor, b.tensor)
    np.testing.assert_array_equal(a.curve, b.curve)
    assert not np.array_equal(a.tensor, c.tensor)
    fresh = nbx.maximize(cnn, 1, seed=None, **options)
    again = nbx.maximize(cnn, 1, **{**options, "seed": fresh.options["seed"]})
    np.testing.assert_array_equal(fresh.tensor, again.tensor)  # a fresh seed is kept, so it can be redone


@pytest.mark.parametrize("fourier,decorrelate", [(True, True), (True, False), (False, True), (False, False)])
def test_images_stay_in_the_valid_range(fourier, decorrelate):
    found = nbx.maximize(small_cnn(), 2, size=16, steps=15, lr=0.5, fourier=fourier, decorrelate=decorrelate,
                         value_range=(-0.5, 0.25), progress=False)
    assert found.tensor.min() >= -0.5 and found.tensor.max() <= 0.25
    assert found.image.dtype == np.uint8 and found.image.shape == (16, 16, 3)


def activation(model, layer, x):
    store = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: store.__setitem__("out", out))
    with torch.no_grad():
        model(torch.from_numpy(x).to(torch.float64))
    handle.remove()
    return store["out"]


def test_targets_report_the_models_own_values():
    cnn = small_cnn()
    unit = nbx.maximize(cnn, ("3", 5, 2, 3), size=16, steps=10, progress=False)
    act = activation(cnn, cnn[3], unit.tensor[None])
    np.testing.assert_allclose(unit.value, act[0, 5, 2, 3].item(), rtol=1e-5)
    assert unit.label == "unit (2, 3) of channel 5 of '3'" and unit.kind == "unit" and unit.probability is None
    channel = nbx.maximize(cnn, (cnn[3], 4), size=16, steps=10, progress=False)
    act = activation(cnn, cnn[3], channel.tensor[None])
    np.testing.assert_allclose(channel.value, act[0, 4].mean().item(), rtol=1e-5)
    assert channel.target == ("3", 4)
    named = nbx.as_model(cnn, class_names=["cat", "dog", "$5 bill"])
    cls = nbx.maximize(named, "$5 bill", size=16, steps=10, output="probability", progress=False)
    with torch.no_grad():
        logits = cnn(torch.from_numpy(cls.tensor[None]).double())
    np.testing.assert_allclose(cls.probability, torch.softmax(logits, 1)[0, 2].item(), rtol=1e-5)
    np.testing.assert_allclose(cls.value, torch.log_softmax(logits, 1)[0, 2].item(), rtol=1e-5)
    assert cls.label == "class '$5 bill'" and "probability" in cls.summary()
    cls.plot()  # a class name with a dollar sign is drawn as text


def test_a_channel_objective_never_runs_the_layers_above():
    cnn = small_cnn()
    calls = []
    cnn[7].register_forward_hook(lambda *_: calls.append(1))
    nbx.maximize(cnn, ("3", 0), size=16, steps=3, progress=False)
    assert calls == []
    nbx.maximize(cnn, 0, size=16, steps=3, progress=False)
    assert len(calls) == 5  # the prediction that counts the classes, three steps and the final image


def test_maximize_channels_is_one_batch_of_independent_images():
    cnn = small_cnn()
    gallery = nbx.maximize_channels(cnn, "3", channels=[1, 4, 6], size=16, steps=8, progress=False)
    assert gallery.images.shape == (3, 16, 16, 3) and gallery.curves.shape == (3, 8)
    acts = activation(cnn, cnn[3], gallery.tensors)
    np.testing.assert_allclose(gallery.values, [acts[i, c].mean().item() for i, c in enumerate([1, 4, 6])], rtol=1e-5)
    assert gallery.to_frame()["channel"].tolist() == [1, 4, 6]
    assert len(gallery.plot()) == 3
    first = nbx.maximize_channels(cnn, "3", channels=2, size=16, steps=8, progress=False)
    assert first.channels == [0, 1]


def test_progress_and_preview_and_cancel():
    cnn = small_cnn()
    seen, frames = [], []
    nbx.maximize(cnn, 0, size=16, steps=6, progress=seen.append,
                 preview=lambda step, pictures, curve: frames.append((step, pictures.shape, curve.shape)),
                 preview_every=2)
    assert seen == pytest.approx([(i + 1) / 6 for i in range(6)])
    assert frames == [(2, (1, 16, 16, 3), (1, 2)), (4, (1, 16, 16, 3), (1, 4)), (6, (1, 16, 16, 3), (1, 6))]

    def cancel(fraction):
        if fraction > 0.5:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        nbx.maximize(cnn, 0, size=16, steps=6, progress=cancel)


def test_bad_targets_and_options_are_named():
    cnn = small_cnn()
    with pytest.raises(InputError, match="channel 9 is out of range: layer '3' has 8 channels"):
        nbx.maximize(cnn, ("3", 9), size=16, steps=2, progress=False)
    with pytest.raises(InputError, match=r"must lie in layer '3'.s 8 x 8 feature map"):
        nbx.maximize(cnn, ("3", 1, 8, 0), size=16, steps=2, progress=False)
    with pytest.raises(InputError, match="target=5 is out of range: the model has 3 classes"):
        nbx.maximize(cnn, 5, size=16, steps=2, progress=False)
    with pytest.raises(InputError, match="target must be a class"):
        nbx.maximize(cnn, None)
    with pytest.raises(InputError, match="layer='nope' is not a module"):
        nbx.maximize(cnn, ("nope", 1))
    with pytest.raises(InputError, match="output='probability' is for class targets"):
        nbx.maximize(cnn, ("3", 1), output="probability")
    with pytest.raises(InputError, match="optimizer='adamw' is not valid.*did you mean 'adam'"):
        nbx.maximize(cnn, 0, optimizer="adamw")
    with pytest.raises(InputError, match="size must be an int >= 8"):
        nbx.maximize(cnn, 0, size=4)
    with pytest.raises(InputError, match="value_range must have low < high"):
        nbx.maximize(cnn, 0, value_range=(1, 0))
    with pytest.raises(InputError, match="decorrelate=True mixes 3 colour channels"):
        grey = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
        grey(torch.zeros(1, 1, 16, 16))
        nbx.maximize(grey, 0, size=16, decorrelate=True)
    with pytest.raises(TypeError):
        nbx.maximize(cnn, 0, stepz=3)
    with pytest.raises(InputError, match="lists a channel twice"):
        nbx.maximize_channels(cnn, "3", channels=[1, 1])


def test_lucids_colour_matrix_and_fourier_scale():
    np.testing.assert_allclose(np.linalg.norm(COLOR_MATRIX, axis=0).max(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(COLOR_MATRIX * np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0).max(),
                               COLOR_CORRELATION_SVD_SQRT, rtol=1e-6)
    g = torch.Generator().manual_seed(0)
    params = ImageParameters(2, 3, 12, 10, fourier=True, decorrelate=True, value_range=(0, 1), generator=g)
    image = params.image().detach()
    assert image.shape == (2, 3, 12, 10) and float(image.min()) > 0.4 and float(image.max()) < 0.6  # starts grey


def test_pixel_blur_equals_scipys_gaussian_filter():
    ndimage = pytest.importorskip("scipy.ndimage")
    g = torch.Generator().manual_seed(0)
    params = ImageParameters(1, 3, 20, 24, fourier=False, decorrelate=False, value_range=(-10, 10), generator=g,
                             sd=0.2, dtype=torch.float64)
    before = params.tensor.detach().numpy().copy()
    sigma = 1.3
    params.blur(sigma)
    radius = (len(gaussian_kernel(sigma)) - 1) // 2
    expected = ndimage.gaussian_filter(before, sigma=(0, 0, sigma, sigma), mode="nearest", truncate=radius / sigma)
    np.testing.assert_allclose(params.tensor.detach().numpy(), expected, atol=1e-9)


def test_fourier_blur_removes_high_frequencies():
    g = torch.Generator().manual_seed(0)
    params = ImageParameters(1, 3, 32, 32, fourier=True, decorrelate=False, value_range=(0, 1), generator=g, sd=1.0)
    rough = params._pre_squash().detach()
    params.blur(2.0)
    smooth = params._pre_squash().detach()
    high = lambda t: torch.fft.rfft2(t).abs()[..., 8:24, 8:].sum().item()  # noqa: E731
    assert high(smooth) < 0.01 * high(rough)
