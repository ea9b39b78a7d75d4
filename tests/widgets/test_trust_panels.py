"""The quality panels of the Heatmap, the SuperpixelExplorer and the CounterfactualSliders, from Python and through
the request protocol (a recording comm), and ``nbx.compare(..., rank_by=...)``."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.widgets import quality as quality_module


def _responses(widget):
    return [c for c, _ in widget.comm.custom() if c.get("type") == "response"]


def _ask(widget, rid, check):
    view_sends(widget, {"type": "request", "id": rid, "action": "quality", "params": {"check": check}})


# -- Heatmap ----------------------------------------------------------------------------------------------------
def test_heatmap_panel_shows_the_front_doors_numbers_for_the_current_method(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image, method="gradient_x_input")
    assert [c["name"] for c in hm.quality_checks] == ["faithfulness", "sanity"]
    _ask(hm, 4, "faithfulness")
    assert hm.wait(120)
    assert _responses(hm)[-1]["status"] == "ok" and hm.committed_request == 4
    expected = nbx.pixel_quality(tiny_cnn, image, hm.result, checks=("faithfulness", "robustness", "stability"),
                                 progress=False)
    assert hm.quality_panel["lines"] == expected.lines
    assert hm.quality_panel["check"] == "faithfulness"
    f = hm.quality_report.parts["faithfulness"]
    assert f.method == "gradient_x_input"
    assert f"deletion AUC {f.auc_deletion:.3f}" in hm.quality_panel["lines"][0]
    # the curves travel as one binary float32 array: x, deletion, insertion
    plot = hm.quality_panel["plots"][0]
    np.testing.assert_allclose(hm.quality_curves[plot["x_row"]], f.fractions.astype(np.float32))
    np.testing.assert_allclose(hm.quality_curves[plot["rows"][0]], f.deletion.astype(np.float32))
    state = hm.get_state()
    assert state["quality_curves"]["dtype"] == "float32" and isinstance(state["quality_curves"]["buffer"], memoryview)


def test_switching_method_clears_the_panel_and_the_next_check_is_for_the_new_method(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    hm.check_quality("faithfulness")
    assert hm.quality_panel["lines"]
    view_sends(hm, {"type": "request", "id": 9, "action": "attribute", "params": {"method": "occlusion"}})
    assert hm.wait(60)
    assert hm.quality_panel == {} and hm.quality_curves is None and hm.quality_report is None
    report = hm.check_quality()
    assert report.parts["faithfulness"].method == "occlusion" and "Occlusion" in hm.quality_panel["title"]


def test_sanity_verdict_appears_once_computed(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    first = hm.check_quality("faithfulness")
    assert not any(line.startswith("sanity:") for line in first.lines)
    sanity = hm.check_quality("sanity")
    assert sanity.lines[0].startswith("sanity: Gradient (saliency)")
    assert hm.quality_panel["plots"][0]["title"].startswith("sanity check")
    again = hm.check_quality("faithfulness")
    assert again.lines[-1] == sanity.lines[0]  # the verdict stays beside the other numbers
    assert ("gradient", hm.target) in hm.sanity_checks


def test_a_quality_check_gives_way_to_a_new_method(tiny_cnn, image, monkeypatch):
    started = threading.Event()

    def slow(*args, progress=None, **kwargs):
        started.set()
        for i in range(200):
            time.sleep(0.02)
            progress(i / 200)
        raise AssertionError("never finishes: a newer request cancels it")

    monkeypatch.setattr(quality_module, "pixel_quality", slow)
    hm = nbx.Heatmap(tiny_cnn, image)
    _ask(hm, 1, "faithfulness")
    assert started.wait(30)
    view_sends(hm, {"type": "request", "id": 2, "action": "attribute", "params": {"method": "gradient_x_input"}})
    assert hm.wait(60)
    statuses = {c["id"]: c["status"] for c in _responses(hm)}
    assert statuses == {1: "superseded", 2: "ok"}
    assert hm.method == "gradient_x_input" and hm.quality_panel == {} and hm.error == {}


def test_a_report_for_a_state_that_changed_is_not_committed(tiny_cnn, image, monkeypatch):
    hm = nbx.Heatmap(tiny_cnn, image)
    real = quality_module.pixel_quality

    def changes_meanwhile(*args, **kwargs):
        report = real(*args, **kwargs)
        with hm._applying():  # the shown method changes while the check runs
            hm.method, hm.result = "occlusion", nbx.attribute(tiny_cnn, image, "occlusion")
        return report

    monkeypatch.setattr(quality_module, "pixel_quality", changes_meanwhile)
    _ask(hm, 3, "faithfulness")
    assert hm.wait(60)
    assert _responses(hm)[-1]["status"] == "superseded" and hm.quality_panel == {}


def test_model_errors_and_bad_checks_are_shown_and_the_widget_keeps_working(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    _ask(hm, 5, "speed")
    assert hm.wait(30)
    assert "check='speed' is not valid" in hm.error["message"]
    tiny_cnn.fail = True
    _ask(hm, 6, "faithfulness")
    assert hm.wait(30)
    assert hm.error["type"] == "ModelError" and _responses(hm)[-1]["status"] == "error"
    tiny_cnn.fail = False
    _ask(hm, 7, "faithfulness")
    assert hm.wait(120)
    assert hm.error == {} and hm.quality_panel["lines"]


def test_a_static_heatmap_offers_no_checks(tiny_cnn, image):
    hm = nbx.attribute(tiny_cnn, image, "gradient").widget()
    assert hm.quality_checks == []
    with pytest.raises(InputError):
        hm.check_quality("faithfulness")


# -- compare(rank_by=...) --------------------------------------------------------------------------------------
def test_compare_ranks_its_methods_best_first(tiny_cnn, image):
    methods = ["gradient", "gradient_x_input", "gradcam"]
    cmp = nbx.compare(tiny_cnn, image, methods, rank_by="deletion")
    expected = nbx.rank_methods(tiny_cnn, image, methods, by="deletion", progress=False)
    assert cmp.ranking.methods == expected.methods
    np.testing.assert_allclose(cmp.ranking.values["deletion"], expected.values["deletion"])
    assert [r.method for r in cmp.result.results] == expected.methods
    assert cmp.titles[0].startswith(f"#1 {expected.labels[0]} (deletion ")
    plain = nbx.compare(tiny_cnn, image, methods)
    assert plain.ranking is None and plain.titles == [nbx.METHODS[m].label for m in methods]
    with pytest.raises(InputError, match="rank_by='fast' is not valid"):
        nbx.compare(tiny_cnn, image, methods, rank_by="fast")


# -- SuperpixelExplorer ---------------------------------------------------------------------------------------
def test_superpixel_panel_adds_stability_to_the_explanations_own_quality(tiny_cnn, image):
    ex = nbx.SuperpixelExplorer(tiny_cnn, image, segmentation="grid", n_segments=9,
                                explain_options={"lime": {"n_samples": 60}})
    with pytest.raises(InputError, match="explain first"):
        ex.check_quality()
    lime = ex.explain("lime")
    _ask(ex, 3, "stability")
    assert ex.wait(120)
    lines = ex.quality_panel["lines"]
    assert lines[:3] == lime.quality()
    expected = nbx.stability(lambda seed: nbx.lime_image(ex.game, n_samples=60, seed=seed, progress=False))
    assert expected.quality()[0] in lines
    assert lines[-2:] == ex.curves.quality()
    ex.explain("shapley")  # exact with 9 superpixels: deterministic
    assert ex.quality_panel == {}
    report = ex.check_quality("stability")
    assert any("exactly 1" in line for line in report.lines) and "stability" not in report.parts


# -- CounterfactualSliders -----------------------------------------------------------------------------------
@pytest.fixture
def tabular():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    clf = LogisticRegression().fit(X, (X[:, 0] + X[:, 1] > 0).astype(int))
    return clf, X


def test_counterfactual_panel_checks_the_point_on_screen(tabular):
    clf, X = tabular
    cf = nbx.CounterfactualSliders(clf, X, X[0], explainer="lime", explainer_options={"lime": {"n_samples": 300}})
    report = cf.check_quality("plausibility")
    assert report.lines[0].startswith("NOT valid") and report.lines[1] == "sparsity: 0 of 4 features changed"
    result = cf.find(n=2)
    assert cf.quality_panel == {}  # the point moved
    report = cf.check_quality("plausibility")
    assert report.lines == nbx.plausibility(result).lines(0)
    _ask(cf, 8, "stability")
    assert cf.wait(120)
    lines = cf.quality_panel["lines"]
    assert lines[4].startswith("LIME: fidelity R²")
    assert lines[-1].startswith("stability across 10 seeds: top-2 agreement")
    cf.select(1)
    assert cf.quality_panel == {}
    assert cf.check_quality("plausibility").lines == nbx.plausibility(result).lines(1)


def test_compare_takes_the_rankings_options(tiny_cnn, image):
    methods = ["gradient", "gradcam"]
    cmp = nbx.compare(tiny_cnn, image, methods, rank_by="deletion", rank_options={"baseline": "grey", "steps": 8})
    expected = nbx.rank_methods(tiny_cnn, image, methods, by="deletion", baseline="grey", steps=8, progress=False)
    np.testing.assert_allclose(cmp.ranking.values["deletion"], expected.values["deletion"])
    with pytest.raises(nbx.errors.UnknownArgumentError, match="rank_options has an unknown option 'step'"):
        nbx.compare(tiny_cnn, image, methods, rank_by="deletion", rank_options={"step": 8})
    with pytest.raises(InputError, match="rank_options are for rank_by"):
        nbx.compare(tiny_cnn, image, methods, rank_options={"steps": 8})
