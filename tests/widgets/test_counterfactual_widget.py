"""CounterfactualSliders from Python and through the view's request protocol (a recording comm, no kernel):
traits describe the constraints, arrays travel as binary buffers, every point is projected onto the
constraints, the search commits a valid counterfactual, model errors reach the error trait, stale requests
never reach the traits."""

from __future__ import annotations

import base64
import threading

import numpy as np
import pytest
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError

XSS = "<img src=x onerror=alert(1)>"
NAMES = ["income", "age", "children", "colour", XSS]


class Scorer:
    """A black-box classifier over 5 features; ``fail`` makes it raise, ``gate`` makes it wait."""

    def __init__(self):
        self.fail = False
        self.gate: threading.Event | None = None

    def __call__(self, A):
        if self.fail:
            raise ValueError("the scorer is broken on purpose")
        if self.gate is not None:
            self.gate.wait(10)
        A = np.asarray(A)
        z = 0.04 * A[:, 0] - 0.03 * A[:, 1] + 0.5 * A[:, 2] + 1.5 * (A[:, 3] == 2) + 0.2 * A[:, 4] - 2.0
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 300
    X = np.column_stack([rng.uniform(10, 120, n), rng.integers(20, 70, n), rng.integers(0, 4, n),
                         rng.integers(0, 3, n), rng.normal(size=n)])
    return X


@pytest.fixture
def scorer():
    return Scorer()


def make(scorer, X, **kwargs):
    x = np.array([30.0, 50.0, 1.0, 0.0, 0.0])
    kwargs.setdefault("feature_names", NAMES)
    kwargs.setdefault("class_names", ["denied", "approved"])
    return nbx.CounterfactualSliders(scorer, X, x, immutable=["age"], integer=["children"],
                                     categorical={"colour": ["red", "green", "blue"]},
                                     ranges={"income": (0, 200)}, **kwargs)


def _responses(widget):
    return [(c, b) for c, b in widget.comm.custom() if c.get("type") == "response"]


def send_point(widget, rid, value, action="predict", **params):
    arr = np.asarray(value, dtype=np.float64)
    content = {"type": "request", "id": rid, "action": action,
               "params": {"value": {"dtype": "float64", "shape": [len(arr)], "buffer": None}, **params},
               "buffer_paths": [["params", "value", "buffer"]]}
    view_sends(widget, content, [memoryview(arr.tobytes())])


def test_traits_describe_the_constraints(scorer, data):
    cf = make(scorer, data)
    f = {d["name"]: d for d in cf.features}
    assert f["age"]["immutable"] and not f["income"]["immutable"]
    assert (f["income"]["lower"], f["income"]["upper"]) == (0, 200)
    assert f["children"]["integer"] and f["children"]["step"] == 1
    assert f["colour"]["categorical"] and f["colour"]["labels"] == ["red", "green", "blue"]
    assert f[XSS]["name"] == XSS  # passed as data; the view sets it with textContent
    assert cf.histograms.shape[0] == 5 and cf.histograms.max() == pytest.approx(1.0)
    counts = np.histogram(data[:, 4], bins=cf.histograms.shape[1], range=(f[XSS]["lower"], f[XSS]["upper"]))[0]
    np.testing.assert_allclose(cf.histograms[4], counts / counts.max(), rtol=1e-6)
    np.testing.assert_array_equal(cf.value, cf.original)
    np.testing.assert_allclose(cf.prediction, scorer(cf.original[None])[0])
    assert cf.target == 1 and cf.class_names == ["denied", "approved"]


def test_arrays_travel_as_binary_buffers(scorer, data):
    from ipywidgets.widgets.widget import _remove_buffers

    cf = make(scorer, data)
    state, buffer_paths, buffers = _remove_buffers(cf.get_state())
    paths = {p[0]: b for p, b in zip(buffer_paths, buffers, strict=True)}
    assert {"histograms", "original", "value", "prediction", "explanation_values"} <= set(paths)
    assert bytes(paths["value"]) == cf.value.astype("<f8").tobytes()
    assert state["histograms"]["dtype"] == "float32" and state["histograms"]["shape"] == list(cf.histograms.shape)


def test_predict_request_projects_onto_the_constraints(scorer, data):
    cf = make(scorer, data)
    moved = cf.original.copy()
    moved[0] = 250.0  # beyond the income range
    moved[1] = 20.0  # age is immutable
    moved[2] = 2.6  # children are whole
    moved[3] = 1.8  # colour codes snap to a category
    send_point(cf, 5, moved)
    assert cf.wait(10)
    expected = cf.original.copy()
    expected[[0, 2, 3]] = [200.0, 3.0, 2.0]
    np.testing.assert_array_equal(cf.value, expected)
    np.testing.assert_allclose(cf.prediction, scorer(expected[None])[0])
    content, buffers = _responses(cf)[-1]
    assert content["status"] == "ok" and content["id"] == 5 and cf.committed_request == 5
    assert ["data", "value", "buffer"] in content["buffer_paths"]
    assert np.frombuffer(buffers[content["buffer_paths"].index(["data", "value", "buffer"])], "<f8").tolist() \
        == expected.tolist()


def test_find_request_moves_to_a_valid_counterfactual_with_progress(scorer, data):
    cf = make(scorer, data, explainer="none")
    view_sends(cf, {"type": "request", "id": 9, "action": "find", "params": {"n": 3, "sparse": False}})
    assert cf.wait(30)
    assert cf.error == {}
    assert cf.counterfactuals.shape[1] == 5 and 1 <= len(cf.counterfactual_info) <= 3
    assert cf.selected == 0
    np.testing.assert_array_equal(cf.value, cf.counterfactuals[0])
    assert scorer(cf.value[None])[0, 1] >= 0.55  # checked with the model itself
    assert cf.value[1] == cf.original[1]  # immutable
    assert cf.counterfactual_info[0]["valid"]
    progress = [c for c, _ in cf.comm.custom() if c.get("type") == "progress"]
    assert progress and all(c["id"] == 9 for c in progress)
    assert _responses(cf)[-1][0]["status"] == "ok"


def test_python_api_find_select_reset(scorer, data):
    cf = make(scorer, data)
    result = cf.find(n=2)
    assert isinstance(result, nbx.CounterfactualResult) and result.best.valid
    np.testing.assert_array_equal(cf.value, result.best.x)
    np.testing.assert_allclose(cf.prediction, result.best.prediction)
    if len(result) > 1:
        np.testing.assert_array_equal(cf.select(1), result[1].x)
        assert cf.selected == 1
    cf.reset()
    np.testing.assert_array_equal(cf.value, cf.original)
    assert cf.selected == -1
    with pytest.raises(InputError, match="immutable is fixed when the widget is made"):
        cf.find(immutable=["income"])


def test_setting_value_from_python_predicts_and_explains(scorer, data):
    cf = make(scorer, data)
    v = cf.original.copy()
    v[0] = 90.0
    cf.value = v
    np.testing.assert_allclose(cf.prediction, scorer(v[None])[0])
    ref = nbx.shapley_tabular(scorer, v, data, target=1, n_background=50)
    np.testing.assert_allclose(cf.explanation_values, ref.values, atol=1e-12)
    assert cf.explanation["label"] == "exact Shapley values"
    v[1] = 0.0  # immutable: projected back
    cf.value = v
    assert cf.value[1] == cf.original[1]


def test_explain_request_switches_to_lime_with_its_fidelity(scorer, data):
    cf = make(scorer, data)
    send_point(cf, 3, cf.original, action="explain", explainer="lime")
    assert cf.wait(30)
    assert cf.explainer == "lime" and cf.explanation["method"] == "lime"
    ref = nbx.lime_tabular(scorer, cf.original, data, target=1, n_samples=2000, categorical=[3])
    np.testing.assert_allclose(cf.explanation_values, ref.values, atol=1e-12)
    assert cf.explanation["fidelity"] == pytest.approx(ref.fidelity)


def test_model_error_is_shown_and_the_widget_keeps_working(scorer, data):
    cf = make(scorer, data, explainer="none")
    before = cf.value.copy()
    scorer.fail = True
    moved = before.copy()
    moved[0] = 80.0
    send_point(cf, 1, moved)
    assert cf.wait(10)
    assert cf.error["type"] == "ModelError" and "broken on purpose" in cf.error["message"]
    np.testing.assert_array_equal(cf.value, before)  # nothing committed
    assert _responses(cf)[-1][0]["status"] == "error"
    scorer.fail = False
    send_point(cf, 2, moved)
    assert cf.wait(10)
    assert cf.error == {} and cf.value[0] == 80.0 and cf.committed_request == 2


def test_stale_predictions_never_reach_the_traits(scorer, data):
    cf = make(scorer, data, explainer="none")
    seen = []
    cf.observe(lambda ch: seen.append(float(cf.value[0])), names="value")
    with cf._compute_lock:  # hold the worker so the requests queue up
        for rid, income in [(1, 40.0), (2, 50.0), (3, 60.0)]:
            v = cf.original.copy()
            v[0] = income
            send_point(cf, rid, v)
    assert cf.wait(30)
    statuses = {c["id"]: c["status"] for c, _ in _responses(cf)}
    assert statuses[3] == "ok" and statuses[2] == "superseded"
    assert cf.value[0] == 60.0 and 50.0 not in seen


def test_png_fallback_and_result_widget(scorer, data):
    cf = make(scorer, data)
    data_bundle, _ = cf._repr_mimebundle_()
    png = base64.b64decode(data_bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    result = nbx.counterfactual(scorer, cf.original, data, immutable=["age"], feature_names=NAMES)
    w = result.widget()
    np.testing.assert_array_equal(w.value, result.best.x)
    assert [d["immutable"] for d in w.features] == [False, True, False, False, False]


@pytest.mark.parametrize("kwargs,message", [
    ({"explainer": "shap"}, "explainer='shap' is not valid"),
    ({"bins": 1}, "bins must be an int in 2..200"),
    ({"explainer_options": {"kernel": {}}}, "explainer_options keys must be 'shapley', 'lime' or 'anchor'"),
    ({"target": "maybe"}, "target='maybe' is not a class name"),
])
def test_bad_arguments_are_named(scorer, data, kwargs, message):
    with pytest.raises(InputError, match=message):
        make(scorer, data, **kwargs)


def test_the_old_name_of_data_still_works_and_warns(scorer, data):
    x = np.array([30.0, 50.0, 1.0, 0.0, 0.0])
    with pytest.warns(FutureWarning, match="'X_train' is now called 'data'"):
        old = nbx.CounterfactualSliders(scorer, X_train=data, x=x, explainer="none")
    new = nbx.CounterfactualSliders(scorer, data=data, x=x, explainer="none")
    np.testing.assert_array_equal(old.histograms, new.histograms)
    assert old.features == new.features


def test_explanation_carries_the_results_own_words(scorer, data):
    cf = make(scorer, data, explainer="lime")
    result = cf.explanation_result
    assert cf.explanation["output_label"] == "P(approved)" == result.output_label
    assert cf.explanation["quality"] == result.quality() and cf.explanation["summary"] == result.summary()


def test_options_are_checked_when_the_widget_is_made(scorer, data):
    from nbexplain.errors import UnknownArgumentError

    with pytest.raises(UnknownArgumentError, match=r"explainer_options\['shapley'\] has an unknown option "
                                                   "'n_backgroud'; did you mean 'n_background'"):
        make(scorer, data, explainer_options={"shapley": {"n_backgroud": 10}})
    with pytest.raises(UnknownArgumentError, match="counterfactual_options has an unknown option 'epsilom'"):
        make(scorer, data, counterfactual_options={"epsilom": 0.3})
    cf = make(scorer, data, explainer="none", counterfactual_options={"epsilon": 0.3})
    assert cf.epsilon == 0.3
    with pytest.raises(UnknownArgumentError, match="find\\(\\) got an unexpected keyword argument 'sead'"):
        cf.find(sead=1)


def test_swapped_row_and_data_are_named(scorer, data):
    with pytest.raises(InputError, match=r"CounterfactualSliders takes \(model, data, x\)"):
        nbx.CounterfactualSliders(scorer, data[0], data)


def test_png_fallback_draws_names_as_text(scorer, data):
    import matplotlib

    matplotlib.use("Agg")
    cf = nbx.CounterfactualSliders(scorer, data, data[0], explainer="none", class_names=["$no", "yes$"],
                                   feature_names=["income from $5k to $10k", r"$\frac$", "c", "d", "e"])
    assert cf._static_png().startswith(b"\x89PNG")  # r"$\frac$" drawn as mathtext would raise


def test_a_point_with_nan_or_the_wrong_length_is_refused(scorer, data):
    cf = make(scorer, data, explainer="none")
    with pytest.raises(InputError, match="value contains NaN or infinite values"):
        cf.value = np.full(5, np.nan)
    with pytest.raises(InputError, match=r"value must have 5 features; got shape \(3,\)"):
        cf.value = np.zeros(3)
    np.testing.assert_array_equal(cf.value, cf.original)
