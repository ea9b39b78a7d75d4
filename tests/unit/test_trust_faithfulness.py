"""Faithfulness of pixel maps: deletion/insertion curves against a brute-force loop, infidelity and
max-sensitivity against Captum on the same perturbations, faithfulness correlation against a loop, ranking."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.pixel.baselines import make_baseline
from nbexplain.methods.trust.pixels import gaussian_noise
from nbexplain.methods.trust.robustness import uniform_noise


@pytest.fixture
def picture():
    return np.random.default_rng(3).random((3, 16, 16))


def brute_force_curves(model, image, map_, fill, target, steps, output):
    """Deletion and insertion by hand: one copy and one model call per step."""
    m = nbx.as_model(model)
    c, h, w = image.shape
    order = np.argsort(-map_.ravel(), kind="stable")
    deletion, insertion, fractions = [], [], []
    for k in range(steps + 1):
        n = int(np.rint(k * h * w / steps))
        moved = np.zeros(h * w, bool)
        moved[order[:n]] = True
        moved = moved.reshape(h, w)
        deleted = np.where(moved[None], fill, image)
        inserted = np.where(moved[None], image, fill)
        for out, x in ((deletion, deleted), (insertion, inserted)):
            scores = m.predict(x[None].astype(np.float32))
            out.append(m.to_probabilities(scores)[0, target] if output == "probability" else scores[0, target])
        fractions.append(n / (h * w))
    return np.array(fractions), np.array(deletion), np.array(insertion)


@pytest.mark.parametrize(("steps", "baseline", "output"), [(10, "blur", "probability"), (256, "mean", "score"),
                                                          (7, 0.25, "probability")])
def test_deletion_and_insertion_equal_a_brute_force_loop(cnn, picture, steps, baseline, output):
    result = nbx.attribute(cnn, picture, "gradient_x_input")
    f = nbx.faithfulness(cnn, picture, result, baseline=baseline, steps=steps, output=output, n_perturbations=0,
                         n_subsets=0, progress=False)
    fill = make_baseline(nbx.as_image(picture), baseline)
    fractions, deletion, insertion = brute_force_curves(cnn, nbx.as_image(picture).tensor, result.map, fill,
                                                        result.target, steps, output)
    np.testing.assert_allclose(f.fractions, fractions)
    np.testing.assert_allclose(f.deletion, deletion, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f.insertion, insertion, rtol=1e-10, atol=1e-12)
    assert f.auc_deletion == pytest.approx(np.trapezoid(deletion, fractions), rel=1e-10)
    assert f.auc_insertion == pytest.approx(np.trapezoid(insertion, fractions), rel=1e-10)
    assert f.infidelity is None and f.correlation is None


def test_curves_run_as_lazy_batches_at_the_models_batch_size(picture):
    seen = []

    def model(x):
        seen.append(len(x))
        return np.stack([x.mean(axis=(1, 2, 3)), 1 - x.mean(axis=(1, 2, 3))], axis=1)

    m = nbx.as_model(model, batch_size=16)
    f = nbx.faithfulness(m, picture, nbx.attribute(m, picture, "occlusion", window=4, stride=4), steps=20,
                         n_perturbations=0, n_subsets=0, progress=False)
    assert seen[-3:] == [16, 16, 10]  # 2 x 21 images in batches of 16, built one batch at a time
    assert len(f.deletion) == 21


def test_infidelity_equals_captums_on_the_same_perturbations(cnn, picture):
    from captum.metrics import infidelity

    result = nbx.attribute(cnn, picture, "gradient_x_input")
    x = torch.from_numpy(nbx.as_image(picture).tensor[None]).double()
    noise = torch.from_numpy(np.stack([gaussian_noise(x.shape[1:], 0.05, 3, i) for i in range(12)])).double()

    def perturb(inputs):
        assert len(inputs) == 12  # the one image repeated for the 12 perturbations, in order
        return noise, inputs - noise

    attr = torch.from_numpy(result.attribution[None]).double()
    for normalise in (False, True):
        ours = nbx.infidelity(cnn, picture, result, n_perturbations=12, noise=0.05, normalise=normalise, seed=3)
        theirs = infidelity(cnn, perturb, x, attr, target=result.target, n_perturb_samples=12, normalize=normalise)
        assert ours == pytest.approx(float(theirs[0]), rel=1e-6), normalise  # x - I in float32 here, float64 there
    assert nbx.faithfulness(cnn, picture, result, n_perturbations=12, noise=0.05, seed=3, n_subsets=0,
                            progress=False).infidelity == pytest.approx(
        nbx.infidelity(cnn, picture, result, n_perturbations=12, noise=0.05, seed=3), rel=1e-12)


def test_sensitivity_max_equals_captums_on_the_same_perturbations(cnn, picture):
    from captum.attr import Saliency
    from captum.metrics import sensitivity_max

    x = torch.from_numpy(nbx.as_image(picture).tensor[None]).double()
    target = nbx.attribute(cnn, picture, "gradient").target
    noise = torch.from_numpy(np.stack([uniform_noise(x.shape[1:], 0.02, 5, i) for i in range(6)]))

    def perturb(inputs, radius):
        assert len(inputs) == 6 and radius == 0.02
        return (inputs.float() + noise).double()  # float32 sums, as nbexplain's float32 image copies

    theirs = sensitivity_max(lambda inp, target: Saliency(cnn).attribute(inp, target=target, abs=False), x,
                             perturb_func=perturb, perturb_radius=0.02, n_perturb_samples=6, target=target)
    ours = nbx.sensitivity_max(cnn, picture, "gradient", n_perturbations=6, radius=0.02, seed=5, progress=False)
    assert ours == pytest.approx(float(theirs[0]), rel=1e-6)


def test_faithfulness_correlation_equals_a_loop(cnn, picture):
    result = nbx.attribute(cnn, picture, "integrated_gradients", steps=8)
    rng = np.random.default_rng(1)
    subsets = np.stack([rng.choice(256, 12, replace=False) for _ in range(15)])
    f = nbx.faithfulness(cnn, picture, result, subsets=subsets, n_perturbations=0, steps=4, baseline="black",
                         progress=False)
    m = nbx.as_model(cnn)
    x = nbx.as_image(picture).tensor
    reference = m.predict(x[None])[0, result.target]
    drops, sums = [], []
    for s in subsets:
        y = x.reshape(3, -1).copy()
        y[:, s] = 0.0
        drops.append(reference - m.predict(y.reshape(1, 3, 16, 16))[0, result.target])
        sums.append(result.map.astype(np.float64).ravel()[s].sum())
    assert f.correlation == pytest.approx(np.corrcoef(sums, drops)[0, 1], rel=1e-9)


def test_result_lines_table_picture_and_progress(cnn, picture):
    fractions = []
    f = nbx.faithfulness(cnn, picture, "gradient", steps=20, n_perturbations=5, n_subsets=5, progress=fractions.append)
    assert fractions[-1] == 1.0 and all(a <= b for a, b in zip(fractions, fractions[1:], strict=False))
    lines = f.quality()
    assert lines[0].startswith("deletion AUC") and lines[1].startswith("insertion AUC")
    assert lines[2].startswith("infidelity") and lines[3].startswith("faithfulness correlation")
    assert list(f.to_frame().columns) == ["fraction", "deletion", "insertion"]
    assert f.plot() is not None and f._repr_png_().startswith(b"\x89PNG")
    assert "Gradient (saliency)" in f.summary()


def test_bad_arguments_are_named(cnn, picture):
    with pytest.raises(InputError, match="steps must be a positive int"):
        nbx.faithfulness(cnn, picture, "gradient", steps=0)
    with pytest.raises(InputError, match="output='prob' is not valid"):
        nbx.faithfulness(cnn, picture, "gradient", output="prob")
    with pytest.raises(InputError, match="explanation must be an AttributionMap"):
        nbx.faithfulness(cnn, picture, 3)
    with pytest.raises(InputError, match="method='gradiant' is not valid.*did you mean 'gradient'"):
        nbx.faithfulness(cnn, picture, "gradiant")
    other = nbx.attribute(cnn, np.random.default_rng(0).random((3, 8, 8)), "gradient")
    with pytest.raises(InputError, match="explanation's map has shape"):
        nbx.faithfulness(cnn, picture, other)
    with pytest.raises(TypeError):
        nbx.faithfulness(cnn, picture, "gradient", step=3)


def test_methods_rank_by_each_measure_best_first(cnn, picture):
    ranking = nbx.rank_methods(cnn, picture, ["gradient", "gradient_x_input", "gradcam"], by="deletion", steps=16,
                               progress=False)
    values = ranking.values["deletion"]
    assert list(values) == sorted(values)  # lower is better: best first
    ins = nbx.rank_methods(cnn, picture, ["gradient", "gradient_x_input", "gradcam"], by="insertion", steps=16,
                           progress=False)
    assert list(ins.values["insertion"]) == sorted(ins.values["insertion"], reverse=True)
    for m in ranking.methods:  # the same numbers as faithfulness() of each method alone
        alone = nbx.faithfulness(cnn, picture, m, steps=16, n_perturbations=20, n_subsets=0, progress=False)
        assert ranking.values["deletion"][ranking.methods.index(m)] == pytest.approx(alone.auc_deletion)
    assert list(ranking.to_frame()["method"]) == ranking.methods
    comparison = nbx.attribute_many(cnn, picture, ["gradient", "gradient_x_input", "gradcam"])
    assert nbx.rank_methods(cnn, picture, by="deletion", results=comparison.results, steps=16,
                            progress=False).methods == ranking.methods
    assert ranking.plot() is not None
    with pytest.raises(InputError, match="by='auc' is not valid"):
        nbx.rank_methods(cnn, picture, by="auc")
