"""Answer tables (issue 18): what each widget's view answers without the kernel, checked against the model itself.

Built with ``precompute=True`` or when the notebook is run by the exporter (``NBEXPLAIN_EXPORT=1``); every
number in a table must be the one the kernel would have answered.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.widgets.base import DIRECT
from nbexplain.widgets.codec import decode_array
from nbexplain.widgets.counterfactual import SLIDER_STEPS
from nbexplain.widgets.tables import EXPORT_ENV, colour_index, half


@pytest.fixture(scope="module")
def classifier():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=300), rng.normal(size=300), rng.integers(0, 5000, 300), rng.integers(0, 3, 300)])
    y = (X[:, 0] + X[:, 1] ** 2 + X[:, 2] / 2000 + (X[:, 3] == 1) > 2).astype(int)
    return GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, y), X, y


def test_tables_are_built_when_asked_or_when_exporting_and_never_else(classifier, monkeypatch):
    model, X, y = classifier
    monkeypatch.delenv(EXPORT_ENV, raising=False)
    assert nbx.CounterfactualSliders(model, X, X[0], explainer="none").answer_tables is None
    assert nbx.FeatureEffects(model, X, y, max_rows=50, n_repeats=1).answer_tables is None
    monkeypatch.setenv(EXPORT_ENV, "1")
    assert nbx.CounterfactualSliders(model, X, X[0], explainer="none").answer_tables is not None
    assert nbx.FeatureEffects(model, X, y, max_rows=50, n_repeats=1).answer_tables is not None
    assert nbx.CounterfactualSliders(model, X, X[0], explainer="none", precompute=False).answer_tables is None
    with pytest.raises(InputError, match="precompute must be True or False"):
        nbx.CounterfactualSliders(model, X, X[0], explainer="none", precompute="yes")
    with pytest.raises(InputError, match="precompute must be True or False"):
        nbx.FeatureEffects(model, X, y, precompute=1)


def test_every_widget_declares_what_its_tables_answer():
    for cls in (nbx.CounterfactualSliders, nbx.FeatureEffects):
        assert cls.table_answers and all(isinstance(v, str) and v for v in cls.table_answers.values())


def test_counterfactual_slices_are_the_models_own_predictions_along_each_slider(classifier):
    model, X, _ = classifier
    cf = nbx.CounterfactualSliders(model, X, X[0], explainer="none", categorical=[3], integer=[2],
                                   immutable=[1], precompute=True)
    cf.find(n=2)
    t = cf.answer_tables
    bases = t["bases"]
    # the original row, the shown point (the first counterfactual after find) and every counterfactual
    assert np.array_equal(bases[0], cf.original)
    for row in [cf.value, *cf.counterfactuals]:
        assert any(np.array_equal(row, b) for b in bases)
    np.testing.assert_allclose(t["base_predictions"], model.predict_proba(bases))
    offsets, grid = t["offsets"], t["grid"]
    assert offsets[2] - offsets[1] == 0  # the immutable feature has no slider to move
    features = cf.features
    # a continuous slider: every one of its SLIDER_STEPS + 1 positions, as the page's range input takes them
    assert offsets[1] - offsets[0] == SLIDER_STEPS + 1
    np.testing.assert_allclose(grid[offsets[0]:offsets[1]], features[0]["lower"] + np.arange(SLIDER_STEPS + 1) * features[0]["step"])
    # an integer feature wider than SLIDER_STEPS moves on a coarser grid (the page's slider takes that step)
    step = t["steps"][2]
    assert step == np.ceil((features[2]["upper"] - features[2]["lower"]) / SLIDER_STEPS) and step > 1
    # a categorical one over its categories
    np.testing.assert_array_equal(grid[offsets[3]:offsets[4]], features[3]["categories"])
    rng = np.random.default_rng(1)
    for b, base in enumerate(bases):
        for j in (0, 2, 3):
            for k in rng.integers(offsets[j], offsets[j + 1], 5):
                point = base.copy()
                point[j] = grid[k]
                np.testing.assert_allclose(t["predictions"][b, k], model.predict_proba(point[None])[0], atol=1e-6)
                cf._on_predict({"value": point}, DIRECT)
                np.testing.assert_allclose(t["predictions"][b, k], cf.prediction, atol=1e-6)  # what the kernel answers


def test_counterfactual_tables_follow_the_point_set_from_python(classifier):
    model, X, _ = classifier
    cf = nbx.CounterfactualSliders(model, X, X[0], explainer="none", precompute=True)
    assert len(cf.answer_tables["bases"]) == 1
    cf.value = X[5]
    assert any(np.allclose(b, cf.value) for b in cf.answer_tables["bases"])


def test_feature_effects_tables_hold_what_the_kernel_shows_for_every_feature(classifier):
    model, X, y = classifier
    fe = nbx.FeatureEffects(model, X, y, max_rows=60, n_repeats=1, precompute=True)
    t = fe.answer_tables
    assert t["target"] == fe.target and len(t["features"]) == X.shape[1]
    for j in range(X.shape[1]):
        fe.feature = j  # the kernel's own answer to "feature"
        entry = t["features"][j]
        np.testing.assert_array_equal(entry["ice_table"], fe.ice_table)
        np.testing.assert_array_equal(entry["grid"], fe.grid)
        np.testing.assert_array_equal(entry["ale_y"], fe.ale_y)
        np.testing.assert_array_equal(entry["ale_x"], fe.ale_x)
        np.testing.assert_array_equal(entry["rug"], fe.rug)
        assert entry["anchor_index"] == fe.anchor_index
        np.testing.assert_array_equal(t["row_ids"], fe.row_ids)
        np.testing.assert_array_equal(t["row_values"], fe.row_values)
    # independent reference: the PDP of a feature is the mean of the model's predictions over the rows
    rows = X[t["row_ids"]]
    entry = t["features"][0]
    for g in (0, 17, len(entry["grid"]) - 1):
        changed = rows.copy()
        changed[:, 0] = entry["grid"][g]
        np.testing.assert_allclose(entry["ice_table"][:, g], model.predict_proba(changed)[:, fe.target], atol=1e-6)


def test_feature_effects_tables_are_rebuilt_for_another_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])
    model = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, y)
    fe = nbx.FeatureEffects(model, X, y, max_rows=40, n_repeats=1, precompute=True)
    before = fe.answer_tables["features"][0]["ice_table"].copy()
    fe.target = 2
    assert fe.answer_tables["target"] == 2
    assert not np.allclose(before, fe.answer_tables["features"][0]["ice_table"])
    np.testing.assert_array_equal(fe.answer_tables["features"][fe.feature]["ice_table"], fe.ice_table)


def test_tables_travel_as_binary_buffers(classifier, recording_comm):
    model, X, y = classifier
    fe = nbx.FeatureEffects(GradientBoostingRegressor(n_estimators=5).fit(X, y), X, max_rows=30, n_repeats=1,
                            precompute=True)
    state = fe.get_state("answer_tables")["answer_tables"]
    entry = state["features"][1]["ice_table"]
    assert isinstance(entry["buffer"], memoryview)  # lifted out of the JSON by ipywidgets, never a list
    np.testing.assert_array_equal(decode_array(entry), fe.answer_tables["features"][1]["ice_table"])


def test_colour_index_and_half_match_the_page():
    values = np.array([-1.0, 0.0, 0.25, 0.5, 1.0, 2.0, np.float32(1 / 3)], dtype=np.float32)
    # Math.round((v - lo) / span * 255), clipped: halves round up as in JavaScript
    np.testing.assert_array_equal(colour_index(values, 0.0, 1.0), [0, 0, 64, 128, 255, 255, 85])
    assert colour_index(np.array([0.5]), 1.0, 1.0)[0] == 0  # a flat map: span 1, as nbxScalarImage
    bits = half(values)
    assert bits.dtype == np.uint16
    np.testing.assert_allclose(bits.view(np.float16).astype(np.float32), values, rtol=1e-3)


# -- superpixels and heatmaps (torch models) ------------------------------------------------------------
@pytest.fixture(scope="module")
def small_cnn():
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4),
                              torch.nn.Flatten(), torch.nn.Linear(64, 5)).eval()
    image = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)
    return net, image


def test_superpixel_tables_beyond_twelve_hold_the_exact_neighbourhood_and_shapley_values(small_cnn):
    net, image = small_cnn
    ex = nbx.SuperpixelExplorer(net, image, "grid", n_segments=16, precompute=True)
    t = ex.answer_tables
    m, shown = ex.n_superpixels, [c["index"] for c in ex.classes]
    assert m == 16 and ex.table is None and t["classes"] == shown and t["shapley"].shape == (len(shown), m)
    np.testing.assert_array_equal(t["base"], ex.active)
    np.testing.assert_allclose(t["bars"], ex.bars, atol=1e-7)
    for i in (0, 5, 15):  # the kernel's own answer after toggling superpixel i
        ex.toggle(i)
        np.testing.assert_allclose(t["neighbours"][i], ex.bars, atol=1e-7)
        assert t["neighbour_top"][i] == ex.top["index"]
        ex.toggle(i)
    # the tables follow the shown mask; the Shapley values (independent of it) add up to full minus empty
    ex.toggle(3)
    assert ex.answer_tables["base"][3] == 0
    probs = ex.game.model.to_probabilities(ex.game.outputs(np.array([np.ones(m, bool), np.zeros(m, bool)])))
    np.testing.assert_allclose(t["shapley"].sum(1), probs[0, shown] - probs[1, shown], atol=1e-5)
    small = nbx.SuperpixelExplorer(net, image, "grid", n_segments=9, precompute=True)
    assert small.table.shape == (2 ** 9, len(small.classes)) and small.answer_tables is None


def test_speculation_sends_the_neighbourhood_of_each_toggled_mask(small_cnn, recording_comm):
    net, image = small_cnn
    ex = nbx.SuperpixelExplorer(net, image, "grid", n_segments=16)
    assert ex.answer_tables is None  # live: nothing precomputed, the kernel speculates instead
    mask = np.ones(16, np.uint8)
    mask[4] = 0
    ex.request("predict", {"active": mask}, request_id=7)
    assert ex.wait(60)
    sent = [c for c, _ in ex.comm.custom() if c.get("type") == "neighbours"]
    assert len(sent) == 1
    assert sent[0]["tables"]["neighbours"]["shape"] == [16, len(ex.classes)]  # its arrays travel as buffers
    evaluations = ex.game.n_evaluations
    mask[9] = 0  # one more toggle from the speculated mask: the model is not asked again
    ex.active = mask.astype(bool)
    assert ex.game.n_evaluations == evaluations
    off = nbx.SuperpixelExplorer(net, image, "grid", n_segments=16, speculate=False)
    off.request("predict", {"active": np.ones(16, np.uint8)}, request_id=8)
    assert off.wait(60) and not [c for c, _ in off.comm.custom() if c.get("type") == "neighbours"]


def test_heatmap_tables_hold_every_method_and_offered_class_as_the_kernel_draws_them(small_cnn):
    net, image = small_cnn
    options = {"occlusion": {"window": 8, "stride": 4}, "integrated_gradients": {"steps": 4}, "smoothgrad": {"n_samples": 3}}
    hm = nbx.Heatmap(net, image, options=options, precompute=True)
    t = hm.answer_tables
    assert t["kind"] == "single" and t["methods"] == [m["name"] for m in hm.methods]
    assert t["classes"] == [c["index"] for c in hm.classes] and t["known"].all()
    for i, method in enumerate(t["methods"]):
        for j in (0, len(t["classes"]) - 1):
            hm.method, hm.target = method, t["classes"][j]  # the kernel's own answer
            lo, hi = hm.limits[0]
            np.testing.assert_allclose(t["limits"][i, j], (lo, hi))
            np.testing.assert_array_equal(t["index"][i, j], colour_index(hm.maps[0], lo, hi))
            np.testing.assert_allclose(t["values"][i, j].view(np.float16), hm.maps[0], rtol=1e-3, atol=1e-3 * max(abs(lo), abs(hi)))
            assert t["signed"][i] == hm.signed[0]
    cmp = nbx.compare(net, image, methods=["gradient", "occlusion"], options=options, precompute=True)
    t = cmp.answer_tables
    assert t["kind"] == "comparison" and t["index"].shape[:2] == (2, len(cmp.classes))
    cmp.target = t["classes"][1]
    for i in range(2):
        lo, hi = cmp.limits[i]
        np.testing.assert_array_equal(t["index"][i, 1], colour_index(cmp.maps[i], lo, hi))
