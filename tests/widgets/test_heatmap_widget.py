"""Heatmap and Comparison widgets from Python: traits, Python-side changes, static fallback."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import nbexplain as nbx
from nbexplain.errors import InputError


def test_heatmap_shows_the_attribution_of_the_predicted_class(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image, class_names=["cat", "dog", "<img src=x onerror=alert(1)>"])
    ref = nbx.attribute(tiny_cnn, image, "gradient")
    assert hm.target == ref.target
    np.testing.assert_allclose(hm.maps[0], ref.map)
    assert hm.limits == [[0.0, pytest.approx(float(ref.map.max()))]]
    names = {c["index"]: c["name"] for c in hm.classes}
    assert names[2] == "<img src=x onerror=alert(1)>"  # passed as data; the view renders it as text
    assert sum(c["probability"] for c in hm.classes) == pytest.approx(1.0)


def test_setting_method_from_python_recomputes(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    hm.method = "integrated_gradients"
    ref = nbx.attribute(tiny_cnn, image, "integrated_gradients")
    np.testing.assert_allclose(hm.maps[0], ref.map, rtol=1e-4, atol=1e-7)
    assert hm.signed == [True] and hm.limits[0][0] == -hm.limits[0][1]


def test_setting_a_bad_target_raises_and_keeps_the_shown_state(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    before = hm.target
    with pytest.raises(InputError, match="target=7 is out of range: the model has 3 classes"):
        hm.target = 7
    assert hm.target == before


def test_sklearn_models_offer_only_perturbation_methods():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.random((40, 3 * 8 * 8)).astype(np.float32)
    clf = LogisticRegression(max_iter=200).fit(X, (X[:, 0] > 0.5).astype(int))
    predict = nbx.as_model(lambda x: clf.predict_proba(x.reshape(len(x), -1)))
    hm = nbx.Heatmap(predict, rng.random((3, 8, 8)).astype(np.float32), method="occlusion")
    assert [m["name"] for m in hm.methods] == ["occlusion"]


def test_mimebundle_has_a_true_png_fallback(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    data, _ = hm._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG")
    from io import BytesIO

    from PIL import Image

    picture = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    assert picture.shape[0] > 100 and picture.std() > 10  # a real drawing, not a blank canvas


def test_comparison_shares_one_normalised_scale(tiny_cnn, image):
    cmp = nbx.compare(tiny_cnn, image, methods=["gradient", "occlusion", "gradcam"])
    assert cmp.maps.shape == (3, 16, 16)
    assert cmp.titles == ["Gradient (saliency)", "Occlusion", "Grad-CAM"]
    for (lo, hi), m in zip(cmp.limits, cmp.maps, strict=True):
        assert lo == -hi and hi == pytest.approx(np.percentile(np.abs(m), 99.0))
    cmp.target = 0
    assert all(r.target == 0 for r in cmp.result.results)


def test_result_widget_without_model_is_static(tiny_cnn, image):
    result = nbx.attribute(tiny_cnn, image, "occlusion", target=1)
    hm = result.widget()
    assert hm.interactive is False and hm.method == "occlusion" and hm.target == 1
    np.testing.assert_array_equal(hm.maps[0], result.map)
    live = result.widget(model=tiny_cnn)
    assert live.interactive and live.method == "occlusion"


def test_esm_is_one_module_with_the_shared_helpers():
    esm = nbx.Heatmap._esm if isinstance(nbx.Heatmap._esm, str) else str(nbx.Heatmap._esm)
    assert "function nbxDecodeArray" in esm and "export default { render }" in esm
    import re

    assert not re.search(r"^\s*import\s", esm, re.M)  # no imports: anywidget loads it from a blob URL
    assert "innerHTML" not in esm  # user text only ever goes through textContent


@pytest.mark.parametrize(("image", "match"), [
    (None, r"image must be a single image of shape \(H, W, 3\).*or a path to an image file; got None"),
    ("cat.jpg", r"image='cat.jpg' is not a file; image must be .*a path to an image file"),
])
def test_heatmap_says_what_an_image_may_be(tiny_cnn, image, match):
    with pytest.raises(InputError, match=match):
        nbx.Heatmap(tiny_cnn, image)


def test_heatmap_reads_an_image_file_and_adapts_a_grey_one(tiny_cnn, image, tmp_path):
    from PIL import Image

    path = tmp_path / "picture.png"
    Image.fromarray(image).save(path)
    np.testing.assert_array_equal(nbx.Heatmap(tiny_cnn, path).maps, nbx.Heatmap(tiny_cnn, image).maps)
    grey = image.mean(axis=2).astype(np.uint8)
    hm = nbx.Heatmap(tiny_cnn, grey)  # a 3-channel model: the grey image is repeated to 3 channels
    np.testing.assert_allclose(hm.maps[0], nbx.attribute(tiny_cnn, np.repeat(grey[..., None], 3, 2)).map)


def test_results_find_their_widget_through_the_registry(tiny_cnn, image):
    from nbexplain._registry import widget_for
    from nbexplain.widgets.heatmap import Comparison, Heatmap

    result = nbx.attribute(tiny_cnn, image, "gradient")
    assert isinstance(widget_for(result), Heatmap)  # (anywidget may subclass per instance)
    cmp = nbx.attribute_many(tiny_cnn, image, ["gradient", "occlusion"], target=1,
                             options={"occlusion": {"window": 4, "stride": 4}})
    static = cmp.widget()
    assert isinstance(static, Comparison) and static.interactive is False and static.target == 1
    np.testing.assert_array_equal(static.maps, np.stack([r.map for r in cmp.results]))
    assert static.limits == [list(lim) for lim in cmp.limits()]
    live = cmp.widget(model=tiny_cnn)
    assert live.interactive and live.options == {"gradient": {}, "occlusion": {"window": 4, "stride": 4}}
    np.testing.assert_allclose(live.maps, static.maps, rtol=1e-4, atol=1e-7)  # float32 model, other batch sizes
    live.target = 0
    assert [r.target for r in live.result.results] == [0, 0]


def test_heatmap_options_use_one_vocabulary(tiny_cnn, image):
    from nbexplain.errors import UnknownArgumentError

    with pytest.warns(FutureWarning, match=r"'samples' is now called 'n_samples'"):
        hm = nbx.Heatmap(tiny_cnn, image, method="smoothgrad", options={"smoothgrad": {"samples": 3}})
    assert hm.options == {"smoothgrad": {"n_samples": 3}} and hm.result.options == {"n_samples": 3}
    with pytest.raises(UnknownArgumentError, match=r"options has an unknown option 'ocllusion'.*'occlusion'"):
        nbx.Heatmap(tiny_cnn, image, options={"ocllusion": {"window": 4}})
    with pytest.raises(UnknownArgumentError, match=r"method='occlusion' does not take option\(s\) \['size'\]"):
        nbx.compare(tiny_cnn, image, methods=["occlusion"], options={"occlusion": {"size": 4}})


def test_the_view_may_change_only_how_maps_are_drawn():
    assert nbx.Heatmap._view_writes == {"opacity", "colormap", "arrangement"}
    assert nbx.compare.__module__ == "nbexplain.widgets.heatmap"
