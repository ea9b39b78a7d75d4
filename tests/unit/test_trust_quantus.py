"""nbexplain's randomisation and faithfulness-correlation numbers against Quantus 0.6 on the same inputs.

Quantus installs beside this torch (it pulls opencv-python and cachetools, and leaves torch and numpy as they
are). Same inputs means: the same model, image, map and class; for the model parameter randomisation test
(MPRT) the same random weights — Quantus seeds every layer's ``reset_parameters()`` with ``seed + 1``, which
``sanity_check(seed=[43] * n_layers)`` repeats for Quantus's default seed 42; for faithfulness correlation the
same pixel subsets — Quantus draws them with numpy's global generator; the test records them and replays them —
and the same baseline ("black" is the image's minimum there). Tolerance: 1e-6 (both compute Spearman's and
Pearson's correlations in float64 from float32 maps and model outputs).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import nbexplain as nbx

quantus = pytest.importorskip("quantus")  # a reference package: in CI (NBX_REQUIRE_ALL=1) a skip fails

TOLERANCE = 1e-6


def small_cnn(channels: int = 3) -> torch.nn.Module:
    nn = torch.nn
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(16 * 4 * 4, 3)).eval()


def explain_gradient(model, inputs, targets, **kwargs):
    """Quantus's explain_func: nbexplain's gradient map of each input, (B, 1, H, W)."""
    return np.stack([nbx.attribute(model, x, "gradient", target=int(t), progress=False).map[None]
                     for x, t in zip(inputs, targets, strict=True)])


def test_model_parameter_randomisation_matches_quantus():
    model = small_cnn()
    image = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    target = nbx.attribute(model, image, "gradient").target
    check = nbx.sanity_check(model, image, ["gradient"], "cascading", seed=[43] * 3, metrics=("spearman_abs",),
                             progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = quantus.MPRT(layer_order="top_down", seed=42, abs=True, normalise=True, return_aggregate=False,
                              disable_warnings=True)
        scores = metric(model=model, x_batch=image[None], y_batch=np.array([target]), a_batch=None,
                        explain_func=explain_gradient, channel_first=True, device="cpu")
    layers = [k for k in scores if k != "original"]
    assert layers == check.steps == ["7", "3", "0"]
    theirs = np.array([scores[k][0] for k in layers])
    np.testing.assert_allclose(check.similarity["spearman_abs"][0], theirs, atol=TOLERANCE)
    assert scores["original"][0] == pytest.approx(1.0)


def test_faithfulness_correlation_matches_quantus(monkeypatch):
    model = small_cnn(channels=1)  # one channel: Quantus's features (values) are then nbexplain's (pixels)
    image = np.random.default_rng(1).random((1, 16, 16)).astype(np.float32)
    result = nbx.attribute(model, image, "gradient_x_input")
    nr_runs, size = 40, 24
    drawn = []  # the subsets Quantus draws (numpy's global generator), replayed for nbexplain
    choice = np.random.choice

    def recording_choice(*args, **kwargs):
        out = choice(*args, **kwargs)
        drawn.append(np.array(out))
        return out

    monkeypatch.setattr(np.random, "choice", recording_choice)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = quantus.FaithfulnessCorrelation(nr_runs=nr_runs, subset_size=size, perturb_baseline="black",
                                                 abs=False, normalise=True, return_aggregate=False,
                                                 disable_warnings=True)
        np.random.seed(7)
        theirs = metric(model=model, x_batch=image[None], y_batch=np.array([result.target]),
                        a_batch=result.map[None, None], channel_first=True, device="cpu")
    subsets = np.stack(drawn)
    assert subsets.shape == (nr_runs, size)
    ours = nbx.faithfulness(model, image, result, subsets=subsets, baseline=float(image.min()), steps=2,
                            n_perturbations=0, progress=False).correlation
    assert ours == pytest.approx(theirs[0], abs=TOLERANCE)
