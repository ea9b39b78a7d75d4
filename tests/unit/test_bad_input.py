"""Bad input: each mistake raises a specific nbexplain error whose message names the argument and
says what was expected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain import InputError, ModelError, NotDifferentiableError


@pytest.fixture
def img():
    return np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)


# -- the image ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (
            np.zeros((2, 16, 16, 3), np.float32),
            r"image must be a single image of shape \(H, W, 3\).*got shape \(2, 16, 16, 3\)",
        ),
        (
            np.zeros((16, 16, 5), np.float32),
            r"image must be a single image .*got shape \(16, 16, 5\) \(no axis of size 1 or 3\)",
        ),
        (np.zeros((16,), np.float32), r"image must be a single image .*got shape \(16,\)"),
        (
            np.zeros((16, 16, 3), np.int64),
            r"image must have dtype uint8 \(0-255\) or float; got dtype int64",
        ),
        (
            np.zeros((16, 16, 3), bool),
            r"image must have dtype uint8 \(0-255\) or float; got dtype bool",
        ),
        (np.zeros((1, 16), np.float32), r"image must be at least 2x2 pixels; got shape \(1, 16\)"),
        ("cat.png", r"image='cat.png' is not a file; image must be .*a PIL image, or a path to an image file"),
        (None, r"image must be a single image of shape \(H, W, 3\).*or a path to an image file; got None"),
    ],
)
def test_image_shape_and_dtype(cnn, bad, match):
    with pytest.raises(InputError, match=match):
        nbx.attribute(cnn, bad)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_image_with_nan_or_inf(cnn, img, value):
    img[3, 4, 1] = value
    img[5, 6, 0] = value
    with pytest.raises(InputError, match=r"image contains 2 NaN or infinite values"):
        nbx.attribute(cnn, img, "occlusion")


# -- target ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "match"),
    [
        (3, r"target=3 is out of range: the model has 3 classes \(0\.\.2\)"),
        (-1, r"target=-1 is out of range: the model has 3 classes \(0\.\.2\)"),
        (np.int64(9), r"target=9 is out of range"),
        (1.0, r"target must be an int class index, a class name or None; got float"),
        (True, r"target must be an int class index, a class name or None; got bool"),
        ("dog", r"target='dog' is not a class name; class names: \[\]"),
    ],
)
def test_target(cnn, img, target, match):
    with pytest.raises(InputError, match=match):
        nbx.attribute(cnn, img, "gradient", target=target)


def test_target_name_not_among_class_names(cnn, img):
    model = nbx.as_model(cnn, class_names=["cat", "dog", "fox"])
    with pytest.raises(
        InputError, match=r"target='cow' is not a class name; class names: \['cat', 'dog', 'fox'\]"
    ):
        nbx.attribute(model, img, target="cow")
    assert nbx.attribute(model, img, target="fox").target == 2  # names do work


# -- the model's outputs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (
            lambda b: np.zeros((len(b), 2, 2)),
            ModelError,
            r"the model returned shape \(1, 2, 2\) for a batch of 1; expected \(1, n_outputs\)",
        ),
        (
            lambda b: np.zeros((len(b) + 1, 3)),
            ModelError,
            r"the model returned shape \(2, 3\) for a batch of 1; expected \(1, n_outputs\)",
        ),
        (lambda b: np.float64(0.3), ModelError, r"the model returned shape \(\) for a batch of 1"),
        (
            lambda b: np.full((len(b), 3), np.nan),
            ModelError,
            r"the model returned 3 non-finite values \(NaN or inf\) for a batch of 1",
        ),
        (
            lambda b: np.array([["cat", "dog"]] * len(b)),
            ModelError,
            r"the model returned ndarray that is not numeric .*expected a \(1, n_outputs\) array of numbers",
        ),
        (
            lambda b: 1 / 0,
            ModelError,
            r"the model raised ZeroDivisionError on a batch of shape \(1, 3, 16, 16\) \(dtype float32\): division by zero",
        ),
    ],
)
def test_callable_model_returning_garbage_or_raising(img, fn, error, match):
    with pytest.raises(error, match=match):
        nbx.attribute(fn, img, "occlusion")


def test_model_changing_its_number_of_outputs(img):
    calls = []

    def fickle(b):
        calls.append(1)
        return np.zeros((len(b), 3 if len(calls) == 1 else 4))

    with pytest.raises(ModelError, match=r"the model returned 4 outputs, earlier 3"):
        nbx.attribute(fickle, img, "occlusion")


def test_torch_model_that_raises(img):
    class Broken(torch.nn.Module):
        def forward(self, x):
            raise ValueError("the model is broken on purpose")

    with pytest.raises(
        ModelError,
        match=r"the model raised ValueError on a batch of shape \(1, 3, 16, 16\).*broken on purpose",
    ):
        nbx.attribute(Broken(), img, "gradient")


def test_torch_model_that_raises_only_under_gradients_is_restored(cnn, img):
    class GradShy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = cnn

        def forward(self, x):
            if torch.is_grad_enabled():
                raise RuntimeError("no gradients here")
            return self.inner(x)

    model = GradShy().train()
    with pytest.raises(
        ModelError, match=r"the model raised while computing gradients: no gradients here"
    ):
        nbx.attribute(model, img, "integrated_gradients")
    assert model.training and cnn.training  # train mode restored after the failure


def test_torch_model_with_wrong_input_channels(cnn):
    # a grey image for a 3-channel model is repeated to 3 channels; what cannot be adapted is said exactly
    grey = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    assert nbx.attribute(cnn, grey).attribution.shape == (3, 16, 16)
    two = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
    with pytest.raises(InputError, match=r"image must be .*got shape \(2, 16, 16\) \(no axis of size 1 or 3\)"):
        nbx.attribute(cnn, two)
    callable_model = nbx.as_model(lambda b: cnn(torch.from_numpy(b).double()).detach().numpy())
    with pytest.raises(
        ModelError, match=r"the model raised RuntimeError on a batch of shape \(1, 1, 16, 16\)"
    ):
        nbx.attribute(callable_model, grey, "occlusion")  # a callable does not say what it takes


def test_torch_model_that_detaches_its_output(cnn, img):
    class Detaching(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = cnn

        def forward(self, x):
            return self.inner(x).detach()

    with pytest.raises(
        ModelError, match=r"the model's output is not connected to its input by gradients"
    ):
        nbx.attribute(Detaching(), img, "gradient")
    assert nbx.attribute(Detaching(), img, "occlusion").map.shape == (
        16,
        16,
    )  # predictions are enough


def test_class_names_of_the_wrong_length(cnn, img):
    with pytest.raises(InputError, match=r"class_names has 2 names but the model has 3 classes"):
        nbx.attribute(nbx.as_model(cnn, class_names=["a", "b"]), img)


# -- gradient methods need a torch module ------------------------------------------------------------------
@pytest.mark.parametrize(
    "method", ["gradient", "rectified", "smoothgrad", "gradcam", "integrated_gradients"]
)
def test_sklearn_model_asked_for_a_gradient_method(img, method):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    est = LogisticRegression().fit(rng.random((20, 768)), np.arange(20) % 2)
    with pytest.raises(
        NotDifferentiableError,
        match=rf"method='{method}' needs gradients, but the model is a sklearn \(LogisticRegression\), not a torch.nn.Module; use method='occlusion'",
    ):
        nbx.attribute(est, img, method)


def test_callable_asked_for_a_gradient_method(img):
    def scores(b):
        return b.reshape(len(b), -1)[:, :3]

    with pytest.raises(
        NotDifferentiableError,
        match=r"method='gradient_x_input' needs gradients, but the model is a callable \(function\)",
    ):
        nbx.attribute(scores, img, "gradient_x_input")
    with pytest.raises(
        NotDifferentiableError,
        match=r"this needs a differentiable torch.nn.Module, but the model is a callable",
    ):
        _ = nbx.as_model(scores).torch_module


# -- method and options ------------------------------------------------------------------------------------
def test_unknown_method(cnn, img):
    with pytest.raises(
        InputError,
        match=r"method='saliency' is not valid: expected one of \['gradient', 'rectified', .*'occlusion'\]",
    ):
        nbx.attribute(cnn, img, "saliency")


@pytest.mark.parametrize(
    ("method", "options", "match"),
    [
        (
            "gradient",
            {"steps": 5},
            r"method='gradient' does not take option\(s\) \['steps'\]; it takes none",
        ),
        (
            "occlusion",
            {"windw": 4},
            r"method='occlusion' does not take option\(s\) \['windw'\]; it takes \['baseline', 'stride', 'window'\]",
        ),
        (
            "smoothgrad",
            {"sigma": 1, "n": 2},
            r"does not take option\(s\) \['n', 'sigma'\]; it takes \['n_samples', 'noise', 'seed'\]",
        ),
    ],
)
def test_unknown_option(cnn, img, method, options, match):
    with pytest.raises(InputError, match=match):
        nbx.attribute(cnn, img, method, **options)


@pytest.mark.parametrize(
    ("method", "options", "match"),
    [
        ("integrated_gradients", {"steps": 0}, r"steps must be a positive int; got 0"),
        ("integrated_gradients", {"steps": 2.5}, r"steps must be a positive int; got 2\.5"),
        (
            "integrated_gradients",
            {"baseline": "purple"},
            r"baseline='purple' is not valid: expected one of \('grey', 'black', 'white', 'mean', 'blur'\), a number or an array",
        ),
        (
            "integrated_gradients",
            {"internal_batch_size": 0},
            r"internal_batch_size must be a positive int; got 0",
        ),
        ("smoothgrad", {"n_samples": 0}, r"n_samples must be a positive int; got 0"),
        (
            "smoothgrad",
            {"noise": -0.1},
            r"noise must be a finite number >= 0 \(a fraction of the value range\); got -0\.1",
        ),
        ("smoothgrad", {"noise": "high"}, r"noise must be a finite number >= 0 .*got 'high'"),
        ("occlusion", {"window": 0}, r"window must be a positive int or a pair of them; got 0"),
        ("occlusion", {"window": 17}, r"window=\(17, 17\) is larger than the image \(16, 16\)"),
        (
            "occlusion",
            {"stride": (1, 2, 3)},
            r"stride must be a positive int or a pair of them; got \(1, 2, 3\)",
        ),
        (
            "occlusion",
            {"baseline": np.zeros((5, 5))},
            r"baseline must be one of .*a number or an array broadcastable to \(3, 16, 16\); got \(5, 5\)",
        ),
        ("occlusion", {"baseline": np.nan}, r"baseline contains NaN or infinite values"),
        (
            "gradcam",
            {"layer": "conv9"},
            r"layer='conv9' is not a module of the model; some names: \['conv1', 'relu1', 'pool', 'conv2'",
        ),
        (
            "gradcam",
            {"layer": torch.nn.Conv2d(3, 3, 1)},
            r"layer must be a module inside the model",
        ),
    ],
)
def test_bad_option_values(cnn, img, method, options, match):
    with pytest.raises(InputError, match=match):
        nbx.attribute(cnn, img, method, **options)


def test_gradcam_without_conv_layer(img):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(768, 3))
    with pytest.raises(
        InputError,
        match=r"gradcam needs a convolutional layer, but the model has no torch.nn.Conv2d",
    ):
        nbx.attribute(model, img, "gradcam")


# -- as_model arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"model": 42},
            r"model must be a torch.nn.Module, a scikit-learn estimator or a callable; got int",
        ),
        (
            {"model": len, "output": "scores"},
            r"output='scores' is not valid: expected 'auto', 'logits' or 'probability'",
        ),
        (
            {"model": len, "batch_size": 0},
            r"batch_size=0 is not valid: expected a positive integer or None",
        ),
        ({"model": len, "batch_size": 2.0}, r"batch_size=2.0 is not valid"),
        ({"model": len, "preprocess": abs}, r"preprocess is only for torch modules"),
    ],
)
def test_as_model_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        nbx.as_model(**kwargs)


def test_predict_of_empty_batch(cnn):
    with pytest.raises(
        InputError,
        match=r"x must be a non-empty batch of shape \(N, \.\.\.\), got shape \(0, 3, 16, 16\)",
    ):
        nbx.as_model(cnn).predict(np.zeros((0, 3, 16, 16)))
