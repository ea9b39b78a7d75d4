"""Every attribution method against an independent reference: Captum's own class on the same float64
model, and where it is short to write, a direct autograd / closed-form computation as well."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import (
    Deconvolution,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from unit_kit import H, Linear, TinyCNN, W, chw64

import nbexplain as nbx
from nbexplain.errors import InputError, UnknownArgumentError

pytestmark = pytest.mark.filterwarnings("ignore:Setting backward hooks:UserWarning")

TARGET = 2


def close(actual: np.ndarray, expected, rtol: float = 1e-5) -> None:
    """float32 results vs float64 references: relative to the reference's scale."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.abs(expected).max())
    assert scale > 0, "a zero reference proves nothing"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def grad_of(model, x: torch.Tensor, target: int) -> np.ndarray:
    """d model(x)[0, target] / dx by plain autograd."""
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(x)[0, target], x)
    return g[0].numpy()


# -- gradients ---------------------------------------------------------------------------------------------
def test_gradient_equals_captum_saliency_and_autograd(cnn, image):
    r = nbx.attribute(cnn, image, "gradient", target=TARGET)
    x = chw64(image)
    ref = (
        Saliency(cnn).attribute(x.clone().requires_grad_(True), target=TARGET, abs=False)[0].numpy()
    )
    close(r.attribution, ref)
    close(r.attribution, grad_of(cnn, x, TARGET))
    # the map is the max over channels of |gradient| (Simonyan et al.), not a sum
    close(r.map, np.abs(ref).max(axis=0))
    assert not r.signed and r.target == TARGET and r.method == "gradient"


def test_saliency_of_linear_model_is_max_abs_weight_exactly(linear, image):
    for target in range(3):
        r = nbx.attribute(linear, image, "gradient", target=target)
        w = linear.weight[target].detach().numpy()  # (C, H, W)
        np.testing.assert_array_equal(r.map, np.abs(w).max(axis=0).astype(np.float32))
        np.testing.assert_array_equal(r.attribution, w.astype(np.float32))


def test_rectified_equals_captum_guided_backprop(cnn, image):
    r = nbx.attribute(cnn, image, "rectified", target=TARGET)
    x = chw64(image).requires_grad_(True)
    ref = GuidedBackprop(cnn).attribute(x, target=TARGET)[0].numpy()
    close(r.attribution, ref)
    close(r.map, np.abs(ref).max(axis=0))
    # the ReLUs make it differ from the plain gradient, so the comparison above is not vacuous
    assert np.abs(ref - grad_of(cnn, chw64(image), TARGET)).max() > 1e-3 * np.abs(ref).max()


def test_deconvolution_equals_captum_deconvolution(cnn, image):
    r = nbx.attribute(cnn, image, "deconvolution", target=TARGET)
    ref = Deconvolution(cnn).attribute(chw64(image).requires_grad_(True), target=TARGET)[0].numpy()
    close(r.attribution, ref)
    close(r.map, np.abs(ref).max(axis=0))
    guided = (
        GuidedBackprop(cnn).attribute(chw64(image).requires_grad_(True), target=TARGET)[0].numpy()
    )
    assert np.abs(ref - guided).max() > 1e-3 * np.abs(ref).max()


def test_gradient_x_input_equals_captum_and_product(cnn, image):
    r = nbx.attribute(cnn, image, "gradient_x_input", target=TARGET)
    x = chw64(image)
    ref = (
        InputXGradient(cnn)
        .attribute(x.clone().requires_grad_(True), target=TARGET)[0]
        .detach()
        .numpy()
    )
    close(r.attribution, ref)
    close(r.attribution, x[0].numpy() * grad_of(cnn, x, TARGET))
    close(r.map, ref.sum(axis=0), rtol=1e-4)  # contributions add up over channels
    assert r.signed


@pytest.mark.parametrize(
    ("baseline", "value", "steps"), [("black", 0.0, 50), ("grey", 0.5, 7), (0.25, 0.25, 20)]
)
def test_integrated_gradients_equals_captum(cnn, image, baseline, value, steps):
    r = nbx.attribute(
        cnn, image, "integrated_gradients", target=TARGET, baseline=baseline, steps=steps
    )
    x = chw64(image).requires_grad_(True)
    ref = (
        IntegratedGradients(cnn)
        .attribute(x, baselines=torch.full_like(x, value), target=TARGET, n_steps=steps)[0]
        .detach()
        .numpy()
    )
    close(r.attribution, ref)
    close(r.map, ref.sum(axis=0), rtol=1e-4)


def test_integrated_gradients_is_complete(cnn, image):
    """Sundararajan et al.'s completeness: the attributions sum to f(x) - f(baseline)."""
    r = nbx.attribute(cnn, image, "integrated_gradients", target=TARGET, baseline="black", steps=64)
    with torch.no_grad():
        x = chw64(image)
        gap = float(cnn(x)[0, TARGET] - cnn(torch.zeros_like(x))[0, TARGET])
    assert abs(gap) > 0.1
    assert r.attribution.astype(np.float64).sum() == pytest.approx(gap, rel=2e-3)


def test_integrated_gradients_of_linear_model_is_weight_times_difference(linear, image):
    r = nbx.attribute(linear, image, "integrated_gradients", target=1, baseline=0.5, steps=3)
    w = linear.weight[1].detach().numpy()
    close(r.attribution, w * (image.transpose(2, 0, 1).astype(np.float64) - 0.5))


def test_smoothgrad_equals_captum_noise_tunnel(cnn, image):
    r = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=10, noise=0.2, seed=3)
    torch.manual_seed(3)
    ref = (
        NoiseTunnel(Saliency(cnn))
        .attribute(
            chw64(image).requires_grad_(True),
            nt_type="smoothgrad",
            nt_samples=10,
            nt_samples_batch_size=8,
            stdevs=0.2,
            target=TARGET,
            abs=False,
        )[0]
        .numpy()
    )
    close(r.attribution, ref)
    close(r.map, np.abs(ref).max(axis=0))
    # the noise matters: the average differs from the plain gradient
    assert np.abs(ref - grad_of(cnn, chw64(image), TARGET)).max() > 1e-3 * np.abs(ref).max()


def test_smoothgrad_seed_is_reproducible_and_leaves_global_rng_alone(cnn, image):
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=4, seed=7)
    assert torch.equal(torch.rand(3), expected_next)
    b = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=4, seed=7)
    c = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=4, seed=8)
    np.testing.assert_array_equal(a.attribution, b.attribution)
    assert not np.array_equal(a.attribution, c.attribution)


def test_smoothgrad_with_zero_noise_is_the_gradient(cnn, image):
    r = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=3, noise=0.0)
    close(r.attribution, grad_of(cnn, chw64(image), TARGET))


# -- Grad-CAM ----------------------------------------------------------------------------------------------
def manual_gradcam(model, x: torch.Tensor, layer, target: int) -> np.ndarray:
    """Selvaraju et al. by hand: ReLU(sum_k mean(dy/dA_k) A_k), bilinearly upsampled to the input."""
    store = {}
    handle = layer.register_forward_hook(lambda m, i, o: store.setdefault("a", o))
    try:
        y = model(x)[0, target]
    finally:
        handle.remove()
    a = store["a"]
    (g,) = torch.autograd.grad(y, a)
    cam = torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True))
    up = torch.nn.functional.interpolate(
        cam, size=x.shape[2:], mode="bilinear", align_corners=False
    )
    return up[0].detach().numpy()


def test_gradcam_equals_captum_layer_gradcam_on_last_conv(cnn, image):
    r = nbx.attribute(cnn, image, "gradcam", target=TARGET)
    x = chw64(image).requires_grad_(True)
    cam = LayerGradCam(cnn, cnn.conv2).attribute(x, target=TARGET, relu_attributions=True)
    ref = LayerAttribution.interpolate(cam, (H, W), interpolate_mode="bilinear")[0].detach().numpy()
    assert r.attribution.shape == (1, H, W)
    close(r.attribution, ref)
    close(r.attribution, manual_gradcam(cnn, chw64(image), cnn.conv2, TARGET))
    close(r.map, ref[0])
    assert r.map.min() >= 0  # the ReLU of the paper


def test_gradcam_layer_option_by_name_and_module(cnn, image):
    ref = manual_gradcam(cnn, chw64(image), cnn.conv1, TARGET)
    close(nbx.attribute(cnn, image, "gradcam", target=TARGET, layer="conv1").attribution, ref)
    close(nbx.attribute(cnn, image, "gradcam", target=TARGET, layer=cnn.conv1).attribution, ref)


# -- occlusion ---------------------------------------------------------------------------------------------
def captum_occlusion(forward, image: np.ndarray, target: int, window, stride, fill) -> np.ndarray:
    x = chw64(image)
    c = x.shape[1]
    return (
        Occlusion(forward)
        .attribute(
            x,
            sliding_window_shapes=(c, *window),
            strides=(c, *stride),
            baselines=fill,
            target=target,
            perturbations_per_eval=7,
        )[0]
        .numpy()
    )


@pytest.mark.parametrize(
    ("options", "window", "stride", "fill"),
    [
        ({"window": 4, "stride": 2, "baseline": "grey"}, (4, 4), (2, 2), 0.5),
        ({"window": 4, "stride": 4, "baseline": "black"}, (4, 4), (4, 4), 0.0),
        (
            {"window": (6, 3), "stride": (4, 3), "baseline": 0.3},
            (6, 3),
            (4, 3),
            0.3,
        ),  # last windows cut off
        (
            {"window": 5, "stride": 3, "baseline": "mean"},
            (5, 5),
            (3, 3),
            "mean",
        ),  # last windows cut off
        ({}, (4, 4), (2, 2), 0.5),  # defaults: window max(4, H // 14), stride half of it, grey
    ],
)
def test_occlusion_equals_captum_occlusion(cnn, image, options, window, stride, fill):
    r = nbx.attribute(cnn, image, "occlusion", target=TARGET, **options)
    if fill == "mean":
        fill = (
            torch.from_numpy(image.mean(axis=(0, 1)).astype(np.float64))
            .reshape(1, 3, 1, 1)
            .expand(1, 3, H, W)
        )
    ref = captum_occlusion(cnn, image, TARGET, window, stride, fill)
    close(r.attribution, ref)
    close(r.map, ref.mean(axis=0))
    assert r.signed


def test_occlusion_array_and_blur_baselines_equal_captum(cnn, image):
    rng = np.random.default_rng(5)
    fill = rng.random((3, H, W)).astype(np.float32)
    r = nbx.attribute(cnn, image, "occlusion", target=0, window=4, stride=4, baseline=fill)
    close(
        r.attribution,
        captum_occlusion(
            cnn, image, 0, (4, 4), (4, 4), torch.from_numpy(fill[None].astype(np.float64))
        ),
    )

    from scipy.ndimage import gaussian_filter

    # sigma defaults to max(1, H / 20) = 1 here; numpy's "reflect" padding is scipy's "mirror"
    blurred = np.stack(
        [gaussian_filter(ch, 1.0, mode="mirror", truncate=3.0) for ch in image.transpose(2, 0, 1)]
    )
    r = nbx.attribute(cnn, image, "occlusion", target=0, window=4, stride=4, baseline="blur")
    ref = captum_occlusion(
        cnn, image, 0, (4, 4), (4, 4), torch.from_numpy(blurred[None].astype(np.float64))
    )
    close(r.attribution, ref, rtol=1e-4)


def test_occlusion_of_predict_proba_model_equals_captum(image):
    """A non-torch model: a logistic regression over pixels, explained through its probabilities."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    est = LogisticRegression()  # "fitted" by hand: a fit would only cost time
    est.coef_, est.intercept_, est.classes_ = (
        rng.normal(size=(3, 3 * H * W)) * 0.1,
        np.zeros(3),
        np.arange(3),
    )
    r = nbx.attribute(
        lambda b: est.predict_proba(b.reshape(len(b), -1)),
        image,
        "occlusion",
        target=1,
        window=8,
        stride=4,
    )

    def forward(t):
        return torch.from_numpy(est.predict_proba(t.reshape(len(t), -1).numpy()))

    close(r.attribution, captum_occlusion(forward, image, 1, (8, 8), (4, 4), 0.5))


def test_occlusion_of_linear_model_is_closed_form(linear, image):
    """Windows tile the image: each pixel's drop is w . (x - fill) summed over its own window."""
    r = nbx.attribute(linear, image, "occlusion", target=0, window=4, stride=4, baseline="black")
    contrib = (linear.weight[0].detach().numpy() * image.transpose(2, 0, 1)).sum(0)
    per_window = contrib.reshape(4, 4, 4, 4).sum(axis=(1, 3))
    close(r.map, np.kron(per_window, np.ones((4, 4))))


def test_occlusion_with_gaps_leaves_uncovered_pixels_at_zero(linear, image):
    """stride > window (Captum refuses it): covered pixels get their one window's drop, the rest 0."""
    r = nbx.attribute(
        linear, image, "occlusion", target=2, window=2, stride=(4, 5), baseline="black"
    )
    contrib = (linear.weight[2].detach().numpy() * image.transpose(2, 0, 1)).sum(0)
    expected = np.zeros((H, W))
    for y in range(0, H, 4):
        for x in range(0, W, 5):
            expected[y : y + 2, x : x + 2] = contrib[y : y + 2, x : x + 2].sum()
    close(r.map, expected)


def test_occlusion_predicts_the_image_itself_once(linear, image):
    """attribute() predicts the image for its probabilities; occlusion's reference reuses those outputs."""
    batches = []

    def model(x):
        batches.append(len(x))
        return linear(torch.from_numpy(np.asarray(x, dtype=np.float64))).detach().numpy()

    r = nbx.attribute(nbx.as_model(model, batch_size=7), image, "occlusion", target=1, window=4, stride=4,
                      baseline="black")
    assert batches.count(1) == 1 and sum(batches) == 1 + 16  # the image once, then its 16 occluded copies
    reference = nbx.attribute(linear, image, "occlusion", target=1, window=4, stride=4, baseline="black")
    close(r.map, reference.map)


def test_occlusion_reports_progress_up_to_one(cnn, image):
    seen = []
    nbx.attribute(cnn, image, "occlusion", window=4, stride=2, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


# -- single-logit (binary) models ---------------------------------------------------------------------------
@pytest.mark.parametrize("squeeze", [False, True])
@pytest.mark.parametrize(
    "method", ["gradient", "gradient_x_input", "integrated_gradients", "occlusion"]
)
def test_single_logit_model_explains_both_classes(image, method, squeeze):
    """One output z is a binary problem: class 1 is explained by z, class 0 by -z."""
    inner = Linear(n_classes=1)
    model = torch.nn.Sequential(inner, torch.nn.Flatten(0)) if squeeze else inner
    options = {"window": 4, "stride": 4} if method == "occlusion" else {}
    one = nbx.attribute(model, image, method, target=1, **options).attribution
    zero = nbx.attribute(model, image, method, target=0, **options).attribution
    x = chw64(image).requires_grad_(True)
    if method == "occlusion":
        ref = captum_occlusion(inner, image, 0, (4, 4), (4, 4), 0.5)
    elif method == "integrated_gradients":
        ref = IntegratedGradients(inner).attribute(x, baselines=0.0, target=0)[0].detach().numpy()
    else:
        ref = (
            {
                "gradient": Saliency(inner).attribute(x, target=0, abs=False),
                "gradient_x_input": InputXGradient(inner).attribute(x, target=0),
            }[method][0]
            .detach()
            .numpy()
        )
    close(one, ref)
    close(zero, -ref)


def test_gradcam_with_inplace_relus_matches_manual(image):
    """A second architecture (inplace ReLUs after the convs, two poolings) so Grad-CAM's layer choice
    and bilinear upsampling are checked on a coarse 8x8 map."""

    def make(inplace: bool):
        torch.manual_seed(0)
        return (
            torch.nn.Sequential(
                torch.nn.Conv2d(3, 4, 3, padding=1),
                torch.nn.ReLU(inplace=inplace),
                torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(4, 5, 3, padding=1),
                torch.nn.ReLU(inplace=inplace),
                torch.nn.MaxPool2d(2),
                torch.nn.Flatten(),
                torch.nn.Linear(5 * 4 * 4, 3),
            )
            .double()
            .eval()
        )

    # the hand-written reference hooks the conv output, which an inplace ReLU would overwrite: use a twin
    twin = make(inplace=False)
    r = nbx.attribute(make(inplace=True), image, "gradcam", target=1)
    close(r.attribution, manual_gradcam(twin, chw64(image), twin[3], 1))


def test_methods_work_on_float32_models_too(image):
    model = TinyCNN().eval()
    r = nbx.attribute(model, image, "gradient", target=TARGET)
    ref = grad_of(model.double(), chw64(image), TARGET)
    close(r.attribution, ref, rtol=1e-4)


def test_attribution_plot_takes_limits_title_and_no_colorbar(cnn, image):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = nbx.attribute(cnn, image, "gradient")
    fig, (a, b) = plt.subplots(1, 2)
    result.plot(ax=a)
    result.plot(ax=b, limits=(-2.0, 3.0), title="my title", colorbar=False)
    assert len(fig.axes) == 3  # two maps and one colour bar (b has none)
    assert b.images[-1].get_clim() == (-2.0, 3.0) and b.get_title() == "my title"
    assert a.images[-1].get_clim() == pytest.approx(result.limits())
    assert result._repr_png_().startswith(b"\x89PNG")
    plt.close(fig)


@pytest.mark.parametrize("limits, message", [((1.0, 0.0), "low < high"), ((0.0, float("nan")), "finite"),
                                             ((0.0,), "pair of numbers"), ("ab", "pair of numbers")])
def test_attribution_plot_rejects_bad_limits_naming_them(cnn, image, limits, message):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = nbx.attribute(cnn, image, "gradient")
    fig, ax = plt.subplots()
    with pytest.raises(InputError, match=rf"limits .*{message}"):
        result.plot(ax=ax, limits=limits)
    plt.close(fig)


# -- one vocabulary: n_samples (samples warns), seed, progress ---------------------------------------------
def test_smoothgrad_old_name_samples_still_works_and_warns(cnn, image):
    new = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=4, seed=5)
    with pytest.warns(FutureWarning, match=r"'samples' is now called 'n_samples'; 'samples' stops working"):
        old = nbx.attribute(cnn, image, "smoothgrad", target=TARGET, samples=4, seed=5)
    np.testing.assert_array_equal(old.attribution, new.attribution)
    assert old.options == {"n_samples": 4, "seed": 5}  # recorded under the new name
    assert "n_samples" in nbx.METHODS["smoothgrad"].options
    assert "samples" not in nbx.METHODS["smoothgrad"].options
    with pytest.raises(UnknownArgumentError, match=r"got both 'samples' and its new name 'n_samples'"):
        nbx.attribute(cnn, image, "smoothgrad", samples=4, n_samples=4)


def test_sampled_methods_are_seeded_by_default_and_none_is_fresh_noise(cnn, image):
    assert nbx.METHODS["smoothgrad"].options["seed"] == 0
    default = [nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=3).attribution for _ in range(2)]
    np.testing.assert_array_equal(default[0], default[1])
    np.testing.assert_array_equal(
        default[0], nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=3, seed=0).attribution)
    fresh = [nbx.attribute(cnn, image, "smoothgrad", target=TARGET, n_samples=3, seed=None).attribution
             for _ in range(2)]
    assert not np.array_equal(fresh[0], fresh[1])
    with pytest.raises(InputError, match=r"seed must be a non-negative int or None; got -1"):
        nbx.attribute(cnn, image, "smoothgrad", seed=-1)


def test_unknown_option_names_the_nearest(cnn, image):
    with pytest.raises(UnknownArgumentError, match=r"does not take option\(s\) \['windw'\].*did you mean 'window'\?"):
        nbx.attribute(cnn, image, "occlusion", windw=4)


@pytest.mark.parametrize("method", ["occlusion", "gradient"])
def test_progress_false_true_and_callable(cnn, image, method, capsys):
    seen = []
    r = nbx.attribute(cnn, image, method, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    np.testing.assert_array_equal(nbx.attribute(cnn, image, method, progress=False).map, r.map)
    np.testing.assert_array_equal(nbx.attribute(cnn, image, method, progress=True).map, r.map)
    assert nbx.METHODS[method].label in capsys.readouterr().err  # True: a bar from the start, on stderr
    with pytest.raises(InputError, match=r"progress must be None, True, False or a callable"):
        nbx.attribute(cnn, image, method, progress="yes")


def test_attribute_many_reports_progress_over_all_methods(cnn, image):
    seen = []
    cmp = nbx.attribute_many(cnn, image, ["gradient", "occlusion"], progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and any(0 < f <= 0.5 for f in seen)
    assert [r.method for r in cmp.results] == ["gradient", "occlusion"]


def test_attribute_many_checks_methods_and_options(cnn, image):
    with pytest.raises(InputError, match=r"methods must be a list of method names.*got 'gradient'"):
        nbx.attribute_many(cnn, image, "gradient")
    with pytest.raises(UnknownArgumentError, match=r"options has an unknown option 'occlusoin'.*did you mean 'occlusion'"):
        nbx.attribute_many(cnn, image, ["gradient", "occlusion"], options={"occlusoin": {"window": 4}})
    with pytest.raises(InputError, match=r"method='saliency' is not valid"):
        nbx.attribute_many(cnn, image, ["gradient", "saliency"])


# -- what an image may be (#12) -----------------------------------------------------------------------------
def test_a_path_to_an_image_file_is_read_with_pil(cnn, tmp_path):
    from PIL import Image

    pixels = np.random.default_rng(3).integers(0, 256, size=(H, W, 3), dtype=np.uint8)
    path = tmp_path / "cat.png"
    Image.fromarray(pixels).save(path)
    expected = nbx.attribute(cnn, pixels, "gradient", target=TARGET)
    for given in (path, str(path)):
        r = nbx.attribute(cnn, given, "gradient", target=TARGET)
        np.testing.assert_array_equal(r.attribution, expected.attribution)
        np.testing.assert_array_equal(r.image, pixels)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("cat.jpg", r"image='cat.jpg' is not a file; image must be a single image of shape \(H, W, 3\) .*a PIL image, "
                    r"or a path to an image file"),
        (None, r"image must be a single image of shape \(H, W, 3\) .*a PIL image, or a path to an image file; got None"),
        ({"pixels": 1}, r"image must be a single image .*or a path to an image file; got dict"),
        (np.array(["a", "b"]), r"image must be .*a path to an image file; got an array of dtype <U1"),
    ],
)
def test_what_an_image_may_be(cnn, bad, match):
    with pytest.raises(InputError, match=match):
        nbx.attribute(cnn, bad)


def test_a_file_that_is_not_an_image(cnn, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not pixels")
    with pytest.raises(InputError, match=r"image='.*notes.txt' is not an image file PIL can read"):
        nbx.attribute(cnn, path)


# -- channels (#12) -----------------------------------------------------------------------------------------
def test_grey_image_to_a_colour_model_is_repeated_to_three_channels(cnn, image):
    grey = image.mean(axis=2)
    r = nbx.attribute(cnn, grey, "gradient", target=TARGET)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    x = chw64(rgb).requires_grad_(True)
    ref = Saliency(cnn).attribute(x, target=TARGET, abs=False)[0].numpy()
    assert r.attribution.shape == (3, H, W)
    close(r.attribution, ref)
    np.testing.assert_array_equal(r.image, nbx.attribute(cnn, rgb, "gradient").image)


def test_pil_grey_image_to_a_grey_model_stays_one_channel():
    from PIL import Image

    model = TinyCNN(channels=1).double().eval()
    pixels = np.random.default_rng(4).integers(0, 256, size=(H, W), dtype=np.uint8)
    r = nbx.attribute(model, Image.fromarray(pixels, mode="L"), "gradient", target=1)
    assert r.attribution.shape == (1, H, W)
    x = torch.from_numpy(pixels[None, None].astype(np.float64) / 255).requires_grad_(True)
    close(r.attribution, Saliency(model).attribute(x, target=1, abs=False)[0].numpy())


def test_colour_image_to_a_grey_model_says_what_to_pass(image):
    model = TinyCNN(channels=1).double().eval()
    with pytest.raises(InputError, match=r"image has 3 colour channels but the model's first convolution takes 1.*"
                                         r"pass a grey image.*rgb.mean\(axis=-1\).*convert\('L'\)"):
        nbx.attribute(model, image, "gradient")


# -- Grad-CAM's layer, occlusion's gaps (#12) ---------------------------------------------------------------
def test_gradcam_on_a_layer_without_height_and_width_names_it(cnn, image):
    with pytest.raises(InputError, match=r"layer='head' \(Linear\) gives an output of shape \(1, 3\) without height "
                                         r"and width; gradcam needs a layer whose output has height and width"):
        nbx.attribute(cnn, image, "gradcam", layer="head")
    with pytest.raises(InputError, match=r"layer='head' \(Linear\)"):
        nbx.attribute(cnn, image, "gradcam", layer=cnn.head)
    assert not any(m._forward_hooks for m in cnn.modules())  # the probe hook is gone


def test_occlusion_with_gaps_warns_how_much_is_not_measured(linear, image):
    with pytest.warns(UserWarning, match=r"stride=\(4, 5\) is larger than window=\(2, 2\): 78% of the pixels lie "
                                         r"under no window and get attribution 0"):
        r = nbx.attribute(linear, image, "occlusion", target=2, window=2, stride=(4, 5), baseline="black")
    covered = np.zeros((H, W), bool)
    for y in range(0, H, 4):
        for x in range(0, W, 5):
            covered[y : y + 2, x : x + 2] = True
    assert 1 - covered.mean() == pytest.approx(0.78125)
    assert np.all(r.map[~covered] == 0) and np.all(r.map[covered] != 0)


def test_occlusion_without_gaps_does_not_warn(cnn, image):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nbx.attribute(cnn, image, "occlusion", window=4, stride=4)
        nbx.attribute(cnn, image, "occlusion", window=(6, 3), stride=(4, 3))


def test_occluded_batch_is_a_lazy_rows_of_filled_copies(image):
    from nbexplain.adapters.lazy import LazyRows
    from nbexplain.methods.pixel.occlusion import Occluded, window_starts

    x = image.transpose(2, 0, 1).copy()
    fill = np.zeros_like(x)
    rows, cols = window_starts(H, 4, 4), window_starts(W, 8, 8)
    batch = Occluded(x, fill, rows, cols, (4, 8))
    assert isinstance(batch, LazyRows) and batch.shape == (8, 3, H, W) and len(batch) == 8
    got = batch[3:5]
    for k, i in enumerate((3, 4)):
        expected = x.copy()
        r, q = rows[i // 2], cols[i % 2]
        expected[:, r : r + 4, q : q + 8] = 0
        np.testing.assert_array_equal(got[k], expected)
    # built channels last (for a model that runs that way): the same images, over (N, H, W, C) memory, through
    # batches of changing sizes that reuse one buffer
    last = Occluded(x, fill, rows, cols, (4, 8), channels_last=True)
    for a, b in ((0, 1), (1, 4), (4, 8), (2, 5)):
        got = last[a:b]
        assert got.transpose(0, 2, 3, 1).flags.c_contiguous
        np.testing.assert_array_equal(got, batch[a:b])


def test_run_captum_is_the_public_helper_of_gradient_methods(cnn, image):
    from nbexplain.adapters.model import as_model
    from nbexplain.inputs.images import as_image
    from nbexplain.methods.pixel.gradients import run_captum

    got = run_captum(as_model(cnn), as_image(image), Saliency, target=1, abs=False)
    close(got, grad_of(cnn, chw64(image), 1))


# -- results: Result, .plot through the plotting floor, user text as text -------------------------------------
def test_results_derive_from_result_and_draw_class_names_as_text(cnn, image):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nbexplain.explain.result import Result

    model = nbx.as_model(cnn, class_names=["$5 bill", "cat", "$\\frac$"])
    result = nbx.attribute(model, image, "gradient", target=2)
    assert isinstance(result, Result)
    ax = result.plot()
    assert ax.get_title().endswith(f"\\$\\frac\\$ (p={result.probability:.2f})")
    ax.figure.canvas.draw()  # mathtext would fail on "$\frac$"; plain text draws
    plt.close(ax.figure)
    cmp = nbx.attribute_many(model, image, ["gradient", "occlusion"], target=0)
    assert isinstance(cmp, Result)
    axes = cmp.plot()
    assert len(axes) == 2 and [a.get_title() for a in axes] == ["Gradient (saliency)", "Occlusion"]
    assert any("\\$5 bill" in t.get_text() for t in axes[0].texts)
    axes[0].figure.canvas.draw()
    plt.close(axes[0].figure)
    assert result._repr_png_().startswith(b"\x89PNG") and cmp._repr_png_().startswith(b"\x89PNG")


def test_comparison_plot_takes_one_axes_k_axes_and_the_old_name(cnn, image):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmp = nbx.attribute_many(cnn, image, ["gradient", "gradcam", "occlusion"])
    fig, ax = plt.subplots()
    axes = cmp.plot(ax=ax)  # one Axes: the three maps share its place
    assert len(axes) == 3 and ax not in fig.axes and all(a.figure is fig for a in axes)
    fig2, grid = plt.subplots(1, 3)
    assert list(cmp.plot(ax=grid)) == list(grid)
    with pytest.warns(FutureWarning, match=r"'axes' is now called 'ax'"):
        cmp.plot(axes=grid)
    with pytest.raises(InputError, match=r"a sequence of 3 Axes"):
        cmp.plot(ax=grid[:2])
    from scipy.stats import spearmanr

    # occlusion's blocks and Grad-CAM's zeros tie: ties share their average rank, as in scipy
    close(cmp.agreement(), spearmanr(np.stack([r.map.ravel() for r in cmp.results]), axis=1).statistic)
    assert cmp.summary().startswith(f"3 method(s) explain {cmp.results[0].target_name!r}")
    plt.close(fig)
    plt.close(fig2)
