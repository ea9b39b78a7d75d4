"""FeatureEffects from Python and through the request protocol (a recording comm, no kernel)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError, UnknownArgumentError
from nbexplain.inputs.tables import sample_rows

NAMES = ["temp", "hum", "wind", "season"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(15, 8, 600), rng.uniform(20, 100, 600), rng.gamma(2, 5, 600),
                         rng.integers(1, 5, 600)])
    y = 10 * X[:, 0] - 0.05 * (X[:, 1] - 60) ** 2 - X[:, 2] + 20 * (X[:, 3] == 3) + rng.normal(0, 5, 600)
    return X, y


@pytest.fixture(scope="module")
def gbr(data):
    X, y = data
    return GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0).fit(X, y)


def make(gbr, X, **kw):
    kw.setdefault("max_rows", 120)
    kw.setdefault("n_repeats", 3)
    return nbx.FeatureEffects(gbr, X, feature_names=NAMES, **kw)


def responses(widget):
    return [c for c, _ in widget.comm.custom() if c.get("type") == "response"]


def test_first_view_is_the_most_important_feature_with_its_ice_table_and_ale(data, gbr):
    X, y = data
    fe = make(gbr, X)
    imp = nbx.permutation_importance(gbr, X[sample_rows(600, 2000, 1)], n_repeats=3, seed=0)
    np.testing.assert_allclose(fe.importance, imp.mean, atol=1e-12)
    np.testing.assert_allclose(fe.importance_std, imp.std, atol=1e-12)
    assert fe.feature == int(np.argmax(imp.mean)) == 0 and fe.feature_names == NAMES
    assert fe.categorical == [False, False, False, True]
    rows = sample_rows(600, 120, 0)
    ref = nbx.ice(gbr, X[rows], 0, grid_resolution=50)
    np.testing.assert_array_equal(fe.row_ids, rows)
    np.testing.assert_allclose(fe.grid, ref.grid)
    np.testing.assert_allclose(fe.ice_table, ref.predictions.astype(np.float32))
    ale = nbx.ale(gbr, X, 0, bins=20)
    np.testing.assert_allclose(fe.ale_x, ale.edges[0])
    np.testing.assert_allclose(fe.ale_y, ale.effect.astype(np.float32))
    np.testing.assert_allclose(fe.rug, X[:, 0].astype(np.float32))
    assert fe.surrogate["kind"] == "tree" and fe.surrogate["fidelity_name"] == "R2"
    assert fe.surrogate["fidelity"] == pytest.approx(nbx.global_surrogate(gbr, X, max_depth=3).fidelity)
    assert "temp <=" in fe.surrogate["text"]
    # arrays travel as binary buffers
    state = fe.get_state()
    for name in ("ice_table", "grid", "rug", "ale_y", "importance", "row_values"):
        assert isinstance(state[name]["buffer"], memoryview), name
    assert state["ice_table"]["shape"] == [120, 50] and state["ice_table"]["dtype"] == "float32"


def test_feature_and_pair_requests_commit_results_and_answer(data, gbr):
    X, _ = data
    fe = make(gbr, X)
    view_sends(fe, {"type": "request", "id": 41, "action": "feature", "params": {"feature": 1}})
    assert fe.wait(60)
    assert fe.feature == 1 and fe.committed_request == 41
    rows = sample_rows(600, 120, 0)
    np.testing.assert_allclose(fe.ice_table, nbx.ice(gbr, X[rows], 1).predictions.astype(np.float32))
    assert responses(fe)[-1] == {"type": "response", "id": 41, "status": "ok", "data": {"feature": 1},
                                 "buffer_paths": []}
    view_sends(fe, {"type": "request", "id": 42, "action": "pair", "params": {"feature": 1, "pair": 2, "kind": "pdp"}})
    assert fe.wait(60)
    pd = nbx.partial_dependence(gbr, X[rows], [1, 2], grid_resolution=20)
    np.testing.assert_allclose(fe.surface, pd.average.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(fe.surface_x, pd.grid[0])
    assert fe.pair == 2 and fe.surface_features == [1, 2, "pdp"]
    view_sends(fe, {"type": "request", "id": 43, "action": "pair", "params": {"feature": 1, "pair": 2, "kind": "ale"}})
    assert fe.wait(60)
    ale2 = nbx.ale(gbr, X, [1, 2], bins=10)
    np.testing.assert_allclose(fe.surface, ale2.effect.astype(np.float32), rtol=1e-5, atol=1e-6)
    assert fe.result.order == 2 and fe.pair_kind == "ale"
    assert [r["status"] for r in responses(fe)] == ["ok", "ok", "ok"]


def test_only_the_newest_feature_request_is_committed(data, gbr):
    X, _ = data
    fe = make(gbr, X)
    with fe._compute_lock:  # hold the worker so the requests queue up
        for i, j in enumerate([1, 2, 3]):
            view_sends(fe, {"type": "request", "id": 100 + i, "action": "feature", "params": {"feature": j}})
    assert fe.wait(60)
    by_id = {r["id"]: r["status"] for r in responses(fe)}
    assert by_id[102] == "ok" and "superseded" in (by_id[100], by_id[101])
    assert fe.feature == 3 and fe.committed_request == 102


def test_a_model_error_is_shown_and_the_widget_keeps_working(data, gbr):
    X, _ = data
    state = {"broken": False}

    def model(batch):
        if state["broken"]:
            raise ValueError("the model is broken on purpose")
        return gbr.predict(batch)

    fe = make(model, X)
    state["broken"] = True
    fe.request("feature", {"feature": 2}, request_id=7)
    assert fe.wait(60)
    assert fe.error["type"] == "ModelError" and "broken on purpose" in fe.error["message"]
    assert responses(fe)[-1]["status"] == "error" and fe.feature == 0  # the shown state is unchanged
    state["broken"] = False
    fe.request("feature", {"feature": 2}, request_id=8)
    assert fe.wait(60)
    assert fe.error == {} and fe.feature == 2 and responses(fe)[-1]["status"] == "ok"
    fe.request("feature", {"feature": "rain"}, request_id=9)
    assert fe.wait(60)
    assert fe.error["type"] == "InputError" and "feature='rain' is not a feature name" in fe.error["message"]


def test_python_side_changes_recompute_and_results_match_the_functions(data, gbr):
    X, _ = data
    fe = make(gbr, X)
    rows = sample_rows(600, 120, 0)
    fe.feature = "wind"
    assert fe.feature == 2
    fe.kind = "derivative"
    ref = nbx.ice(gbr, X[rows], "wind", kind="derivative", feature_names=NAMES)
    np.testing.assert_allclose(fe.result.curves, ref.curves, atol=1e-9)
    fe.kind, fe.anchor_index = "centred", 5
    np.testing.assert_allclose(fe.result.curves[:, 5], 0, atol=1e-12)
    fe.kind = "pdp"
    np.testing.assert_allclose(fe.result.average, ref.predictions.mean(0), atol=1e-9)
    fe.pair = "temp"
    assert fe.surface.shape == (20, 20) and fe.surface_features == [2, 0, "pdp"]
    fe.pair = None
    assert fe.pair == -1 and isinstance(fe.result, nbx.PartialDependence)
    with pytest.raises(InputError, match="feature='rain' is not a feature name"):
        fe.feature = "rain"
    assert fe.feature == 2
    fe.set_anchor(12.345)
    assert fe.kind == "centred" and fe.grid[fe.anchor_index] == 12.345
    np.testing.assert_allclose(fe.result.curves[:, fe.anchor_index], 0, atol=1e-12)
    with pytest.raises(InputError, match="anchor_index=99 is out of range"):
        fe.anchor_index = 99


def test_categorical_features_fall_back_from_derivative(data, gbr):
    X, _ = data
    fe = make(gbr, X, kind="derivative")
    fe.feature = "season"
    assert fe.kind == "ice" and fe.grid.tolist() == [1, 2, 3, 4]
    fe.kind = "ale"
    assert fe.result.categorical and fe.ale_x.tolist() == [1, 2, 3, 4]


def test_classifier_target_switches_the_output(data):
    X, y = data
    clf = GradientBoostingClassifier(n_estimators=15, random_state=0).fit(X, np.digitize(y, [50, 150]))
    fe = nbx.FeatureEffects(clf, X, feature_names=NAMES, max_rows=60, n_repeats=2, target=0)
    assert [c["index"] for c in fe.classes] == [0, 1, 2] and fe.output_label == "P(class 0)"
    fe.request("target", {"target": 2}, request_id=3)
    assert fe.wait(60) and fe.error == {}
    assert fe.target == 2 and fe.output_label == "P(class 2)"
    ref = nbx.ice(clf, X[sample_rows(600, 60, 0)], fe.feature, target=2)
    np.testing.assert_allclose(fe.ice_table, ref.predictions.astype(np.float32), atol=1e-7)
    assert fe.surrogate["fidelity_name"] == "agreement"


def test_surrogate_request_refits(data, gbr):
    X, _ = data
    fe = make(gbr, X)
    fe.request("surrogate", {"kind": "linear", "n_terms": 2}, request_id=5)
    assert fe.wait(60) and fe.error == {}
    ref = nbx.global_surrogate(gbr, X, kind="linear", n_terms=2, feature_names=NAMES)
    assert fe.surrogate["kind"] == "linear" and len(fe.surrogate["terms"]) == 2
    assert fe.surrogate["fidelity"] == pytest.approx(ref.fidelity)
    assert fe.show_surrogate("tree", max_depth=2).fidelity == pytest.approx(fe.surrogate["fidelity"])


def test_results_open_as_static_views(data, gbr):
    X, y = data
    ice = nbx.ice(gbr, X, "temp", kind="centred", feature_names=NAMES, max_rows=50)
    w = ice.widget()
    assert w.interactive is False and w.kind == "centred" and w.feature_names == ["temp"]
    np.testing.assert_allclose(w.ice_table, ice.predictions.astype(np.float32))
    w = nbx.ale(gbr, X, 1).widget()
    assert w.kind == "ale" and w.ale_y.shape == (21,)
    w = nbx.partial_dependence(gbr, X, [0, 1], grid_resolution=5).widget()
    assert w.pair == 1 and w.surface.shape == (5, 5)
    w = nbx.permutation_importance(gbr, X, y, n_repeats=2, feature_names=NAMES).widget()
    assert w.feature == -1 and w.importance.shape == (4,)
    w = nbx.global_surrogate(gbr, X).widget()
    assert w.surrogate["kind"] == "tree"
    live = ice.widget(model=gbr, X=X, feature_names=NAMES, max_rows=50, n_repeats=2)
    assert live.interactive and live.kind == "centred" and live.feature == 0
    with pytest.raises(InputError, match="this view was made from a result without a model"):
        w._on_feature({"feature": 0}, None)


def test_each_result_type_opens_through_the_registry(data, gbr):
    X, y = data
    results = [nbx.partial_dependence(gbr, X, 0, grid_resolution=5, max_rows=40), nbx.ice(gbr, X, 1, max_rows=30),
               nbx.ale(gbr, X, [0, 1], bins=4), nbx.permutation_importance(gbr, X, y, n_repeats=2),
               nbx.global_surrogate(gbr, X, kind="linear", n_terms=2)]
    for result in results:
        w = result.widget(plot_width=300)
        assert isinstance(w, nbx.FeatureEffects) and w.interactive is False and w.plot_width == 300
    pdp, c, a2, imp, sur = (r.widget() for r in results)
    np.testing.assert_allclose(pdp.ice_table, results[0].individual.astype(np.float32))
    np.testing.assert_array_equal(pdp.row_ids, results[0].rows)  # the rows of X the curves belong to
    assert pdp.result.average.tolist() == pytest.approx(results[0].average.tolist())
    assert c.kind == "ice" and a2.pair_kind == "ale" and a2.surface.shape == (5, 5)
    assert imp.importance_label == results[3].quality()[0]
    assert sur.surrogate["summary"] == results[4].summary() and sur.surrogate["n_terms"] == 2
    assert sur.surrogate["quality"] == results[4].quality()
    with pytest.warns(FutureWarning, match=r"from_result\(result\) is now result.widget\(\)"):
        old = nbx.FeatureEffects.from_result(results[1])
    np.testing.assert_array_equal(old.ice_table, c.ice_table)
    with pytest.raises(InputError, match="a live view needs both model= and X="):
        results[1].widget(model=gbr)


def test_live_views_of_pairs_open_on_the_pair(data, gbr):
    X, _ = data
    a2 = nbx.ale(gbr, X, ["temp", "hum"], feature_names=NAMES, bins=5)
    live = a2.widget(model=gbr, X=X, feature_names=NAMES, max_rows=60, n_repeats=2)
    assert live.interactive and live.feature == 0 and live.pair == 1 and live.surface_features == [0, 1, "ale"]
    sur = nbx.global_surrogate(gbr, X, max_depth=2, feature_names=NAMES)
    live = sur.widget(model=gbr, X=X, feature_names=NAMES, max_rows=60, n_repeats=2)
    assert live.surrogate["max_depth"] == 2 and live.surrogate["fidelity"] == pytest.approx(sur.fidelity)


def test_shown_results_name_the_rows_of_x_and_keep_every_rows_rug(data, gbr):
    X, _ = data
    fe = make(gbr, X, kind="ice")
    rows = sample_rows(600, 120, 0)
    for result in (fe.result, fe.result.partial_dependence()):
        np.testing.assert_array_equal(result.rows, rows)
    np.testing.assert_array_equal(fe.result.x, X[rows, 0])
    np.testing.assert_array_equal(fe.result.values, X[:, 0])
    fe.pair = "hum"
    np.testing.assert_array_equal(fe.result.values, X[:, [0, 1]])


def test_old_keyword_and_misspelt_keywords(data, gbr):
    X, _ = data
    with pytest.warns(FutureWarning, match="'random_state' is now called 'seed'"):
        fe = make(gbr, X, random_state=0)
    assert fe.seed == 0
    with pytest.raises(UnknownArgumentError, match="got an unexpected keyword argument 'max_row'; did you mean 'max_rows'"):
        make(gbr, X, max_row=5)
    with pytest.raises(InputError, match="seed must be a non-negative int or None"):
        make(gbr, X, seed="zero")


def test_the_view_writes_only_what_it_controls(data, gbr):
    X, _ = data
    fe = make(gbr, X)
    fe.set_state({"kind": "ice", "highlighted": 3})
    assert fe.kind == "ice" and fe.highlighted == 3 and fe.error == {}
    fe.set_state({"feature": 2})
    assert fe.feature == 0 and "the view may not change 'feature'" in fe.error["message"]
    fe.set_state({"anchor_index": 999})
    assert fe.anchor_index == 0 and "anchor_index=999 is out of range" in fe.error["message"]
    fe.set_state({"pair": 1})  # the worker computes the pair
    assert fe.wait(60)
    assert fe.pair == 1 and fe.surface_features == [0, 1, "pdp"]
    fe.set_state({"pair": -1})
    assert fe.pair == -1 and isinstance(fe.result, nbx.ICE)


def test_mimebundle_has_a_png_of_importance_and_effect(data, gbr):
    X, _ = data
    fe = make(gbr, X)
    data_, _ = fe._repr_mimebundle_()
    png = base64.b64decode(data_["image/png"])
    from io import BytesIO

    from PIL import Image

    picture = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    assert picture.shape[1] > 2 * picture.shape[0] * 0.9 and picture.std() > 10


def test_bad_constructor_arguments(data, gbr):
    X, y = data
    with pytest.raises(InputError, match="kind='wiggle' is not valid"):
        make(gbr, X, kind="wiggle")
    with pytest.raises(InputError, match=r"y must have one value per row of X \(600\); got 3"):
        make(gbr, X, y=[1, 2, 3])
    with pytest.raises(InputError, match="max_rows must be an int >= 1"):
        make(gbr, X, max_rows=0)


def test_view_module_is_self_contained_and_safe():
    esm = nbx.FeatureEffects._esm if isinstance(nbx.FeatureEffects._esm, str) else str(nbx.FeatureEffects._esm)
    assert "function nbxDecodeArray" in esm and "export default { render }" in esm
    assert not re.search(r"^\s*import\s", esm, re.M) and "innerHTML" not in esm


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the view's JavaScript")
def test_the_views_derivative_is_numpys_gradient(tmp_path):
    """The view answers d-ICE from the table; its gradient must be numpy's (what nbx.ice computes)."""
    from nbexplain.widgets import assets

    source = (assets.js_dir() / "effects.js").read_text()
    fn = source[source.index("function nbxFxGradient"):source.index("/** About `count` round tick")]
    grid = np.array([-1.0, -0.2, 0.5, 2.0, 2.1, 3.5])
    table = np.random.default_rng(0).normal(size=(3, 6))
    script = tmp_path / "g.js"
    script.write_text(fn + f"\nconsole.log(JSON.stringify(Array.from(nbxFxGradient({json.dumps(table.ravel().tolist())}, 3, 6, "
                      f"{json.dumps(grid.tolist())}))));\n")
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout
    np.testing.assert_allclose(np.array(json.loads(out)).reshape(3, 6), np.gradient(table, grid, axis=1), atol=1e-12)
