"""Projector widget without a browser: traits and binary buffers, what the view may write (validated), the
"project" and "explain" requests, Python-side changes, static views of results, the PNG fallback."""

from __future__ import annotations

import base64
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch
from ipywidgets.widgets.widget import _remove_buffers
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError, UnknownArgumentError
from nbexplain.widgets.codec import encode_array


class Net(torch.nn.Module):
    def __init__(self, in_features: int | None = None):
        super().__init__()
        torch.manual_seed(0)
        if in_features is None:  # images (N, 3, 8, 8)
            self.body = torch.nn.Sequential(OrderedDict(
                conv=torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU()),
                pool=torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten()),
                hidden=torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU())))
        else:
            self.body = torch.nn.Sequential(OrderedDict(hidden=torch.nn.Sequential(torch.nn.Linear(in_features, 8),
                                                                                    torch.nn.ReLU())))
        self.head = torch.nn.Linear(8, 3)
        self.fail = False

    def forward(self, x):
        if self.fail:
            raise RuntimeError("the model is broken on purpose")
        return self.head(self.body(x))


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(60, 8, 8, 3), dtype=np.uint8), rng.integers(0, 3, size=60)


def make(images, **options):
    X, y = images
    return nbx.Projector(Net().eval(), X, y, layers=["body.conv", "body.hidden", "head"], class_names=["a", "b", "c"],
                         progress=False, **options)


def buffers_of(widget) -> dict:
    state, paths, buffers = _remove_buffers(widget.get_state())
    return {tuple(p): b for p, b in zip(paths, buffers, strict=True)}, state


def test_every_layers_map_travels_as_one_binary_buffer(images):
    X, y = images
    w = make(images)
    maps = nbx.project(w.activations)
    assert w.coords.shape == (3, 60, 2) and w.coords.dtype == np.float32
    np.testing.assert_allclose(w.coords, maps.aligned(), rtol=1e-6, atol=1e-6)
    assert w.layer_names == ["body.conv", "body.hidden", "head"] and w.method == "pca"
    assert w.quality[2] == maps["head"].quality()
    buffers, state = buffers_of(w)
    for name in ("coords", "rows", "labels", "predictions", "correct", "thumbnails"):
        assert (name, "buffer") in buffers, name
    assert bytes(buffers[("coords", "buffer")]) == w.coords.astype("<f4").tobytes()
    assert state["coords"]["shape"] == [3, 60, 2] and state["thumbnails"]["dtype"] == "uint8"
    # labels, predictions and right/wrong are the model's own
    scores = Net().eval()(torch.from_numpy(X.transpose(0, 3, 1, 2).astype(np.float32) / 255)).detach().numpy()
    np.testing.assert_array_equal(w.predictions, scores.argmax(1))
    np.testing.assert_array_equal(w.labels, y)
    np.testing.assert_array_equal(w.correct, (scores.argmax(1) == y).astype(np.uint8))
    assert w.class_names == ["a", "b", "c"] and w.label_names == ["a", "b", "c"] and w.color_by == "label"
    assert w.thumbnails.shape == (60, 8, 8, 3)
    np.testing.assert_array_equal(w.thumbnails, X)  # uint8 pictures at full size: the inputs themselves
    assert [m["name"] for m in w.explain_methods][:2] == ["gradient", "rectified"]


def test_the_view_writes_only_what_it_controls_and_each_write_is_validated(images):
    w = make(images)
    w.set_state({"layer": 2, "color_by": "correct", "tool": "box", "hovered": 5})
    assert (w.layer, w.color_by, w.tool, w.hovered) == (2, "correct", "box", 5) and w.error == {}
    w.set_state({"selected": encode_array(np.array([7, 3, 3, 9], dtype=np.int32))})  # a binary buffer
    assert w.selected.tolist() == [3, 7, 9] and w.error == {}
    w.set_state({"selected": encode_array(np.array([3, 60], dtype=np.int32))})
    assert w.selected.tolist() == [3, 7, 9] and "selected must hold row indices of X in 0..59; got [60]" in w.error["message"]
    w.set_state({"layer": 3})
    assert w.layer == 2 and "layer=3 is out of range: there are 3 layers" in w.error["message"]
    w.set_state({"hovered": 99})
    assert w.hovered == 5 and "hovered must be -1 or a row of X" in w.error["message"]
    w.set_state({"color_by": "column"})
    assert w.color_by == "correct" and "color_by='column' needs columns" in w.error["message"]
    w.set_state({"coords": None})
    assert w.coords is not None and "the view may not change 'coords'" in w.error["message"]
    w.set_state({"method": "tsne"})
    assert w.method == "pca" and "the view may not change 'method'" in w.error["message"]


def test_python_side_names_masks_and_errors(images):
    w = make(images)
    w.layer = "head"
    assert w.layer == 2 and w.result.layer == "head"
    with pytest.raises(InputError, match="layer='hed' is not valid.*did you mean 'head'"):
        w.layer = "hed"
    mask = np.zeros(60, dtype=bool)
    mask[[4, 1]] = True
    assert w.select(mask).tolist() == [1, 4]
    w.selected = [10, 2]
    assert w.selected.tolist() == [2, 10]
    with pytest.raises(InputError, match="boolean per row of X"):
        w.selected = np.ones(5, dtype=bool)
    with pytest.raises(InputError, match="1-D list of row indices"):
        w.selected = [[1, 2]]
    assert isinstance(w.projections, nbx.Projections) and isinstance(w.activations, nbx.Activations)


def test_project_request_maps_every_layer_with_another_method(images):
    w = make(images)
    before = w.coords.copy()
    view_sends(w, {"type": "request", "id": 7, "action": "project", "params": {"method": "tsne"}})
    assert w.wait(120)
    assert w.error == {} and w.method == "tsne" and w.committed_request == 7
    expected = nbx.project(w.activations, "tsne", perplexity=0.99 * 59 / 3)  # 60 points: the most there can be
    np.testing.assert_allclose(w.coords, expected.aligned(), rtol=1e-5, atol=1e-5)
    assert not np.allclose(w.coords, before)
    assert any("KL divergence" in line for line in w.quality[0])
    responses = [c for c, _ in w.comm.custom() if c.get("type") == "response"]
    assert responses[-1]["id"] == 7 and responses[-1]["status"] == "ok"
    assert any(c.get("type") == "progress" and c["id"] == 7 for c, _ in w.comm.custom())
    view_sends(w, {"type": "request", "id": 8, "action": "project", "params": {"method": "pca"}})  # cached
    assert w.wait(30) and w.method == "pca"
    view_sends(w, {"type": "request", "id": 9, "action": "project", "params": {"method": "isomap"}})
    assert w.wait(30)
    assert "method='isomap' is not valid" in w.error["message"] and w.method == "pca"
    view_sends(w, {"type": "request", "id": 10, "action": "project", "params": {}})
    assert w.wait(30)
    assert "the request has no field 'method'" in w.error["message"]


def test_answer_tables_hold_the_maps_a_project_request_would_show(images, recording_comm):
    from nbexplain.widgets.projector import Projector

    assert Projector.table_answers["project"]
    w = make(images, precompute=True)
    tables = w.answer_tables
    assert tables["layers"] == w.layer_names and set(tables["methods"]) == {"pca", "tsne"}
    np.testing.assert_array_equal(tables["methods"]["pca"]["coords"], w.coords)
    view_sends(w, {"type": "request", "id": 3, "action": "project", "params": {"method": "tsne"}})
    assert w.wait(60) and w.method == "tsne"
    np.testing.assert_array_equal(tables["methods"]["tsne"]["coords"], w.coords)  # what the kernel commits
    assert tables["methods"]["tsne"]["quality"] == w.quality
    buffers, state = buffers_of(w)
    assert ("answer_tables", "methods", "tsne", "coords", "buffer") in buffers  # binary, not JSON lists
    assert make(images).answer_tables is None and make(images, precompute=False).answer_tables is None
    with pytest.raises(InputError, match="precompute must be True or False"):
        make(images, precompute="yes")
    later = make(images)
    later.precompute()
    assert set(later.answer_tables["methods"]) == {"pca", "tsne"}


def test_explain_request_explains_the_selection_and_keeps_working_after_a_model_error(images):
    w = make(images)
    view_sends(w, {"type": "request", "id": 3, "action": "explain", "params": {"method": "gradient"}})
    assert w.wait(30)
    assert "select points first" in w.error["message"]
    w.selected = [5, 2, 11]
    view_sends(w, {"type": "request", "id": 4, "action": "explain", "params": {"method": "gradient"}})
    assert w.wait(60) and w.error == {}
    content, buffers = [(c, b) for c, b in w.comm.custom() if c.get("id") == 4 and c.get("type") == "response"][-1]
    assert content["status"] == "ok" and content["data"]["titles"][0].startswith("Gradient (saliency)")
    paths = [tuple(p) for p in content["buffer_paths"]]
    maps = np.frombuffer(buffers[paths.index(("data", "maps", "buffer"))], "<f4").reshape(3, 8, 8)
    X, _ = images
    for k, row in enumerate([2, 5, 11]):
        np.testing.assert_allclose(maps[k], nbx.attribute(w._model, X[row], "gradient").map, rtol=1e-5, atol=1e-7)
    assert [r.method for r in w.explanations] == ["gradient"] * 3
    w._model.raw.fail = True
    view_sends(w, {"type": "request", "id": 5, "action": "explain", "params": {"method": "occlusion"}})
    assert w.wait(60)
    assert "broken on purpose" in w.error["message"]
    w._model.raw.fail = False
    results = w.explain("gradient", rows=[1])
    assert len(results) == 1 and w.error["message"]  # the error stays shown until the next request succeeds
    view_sends(w, {"type": "request", "id": 6, "action": "explain", "params": {"method": "gradient"}})
    assert w.wait(60) and w.error == {}


def test_table_rows_colour_by_column_and_explain_with_shapley_values():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    w = nbx.Projector(Net(4).eval(), X, y, feature_names=["income", "$limit", "age", "<b>x</b>"],
                      columns={"group": np.where(X[:, 2] > 0, "old", "young")}, progress=False)
    assert w.thumbnails is None and w.column_names == ["income", "$limit", "age", "<b>x</b>", "group"]
    np.testing.assert_allclose(w.columns[:, :4], X, rtol=1e-6)
    assert set(np.unique(w.columns[:, 4])) == {0.0, 1.0}
    w.set_state({"color_by": "column", "column": 4})
    assert w.color_by == "column" and w.column == 4 and w.error == {}
    w.column = "age"
    assert w.column == 2
    w.selected = [3]
    results = w.explain()
    expected = nbx.shapley_tabular(w._model, X[3], X, feature_names=["income", "$limit", "age", "<b>x</b>"])
    np.testing.assert_allclose(results[0].values, expected.values, rtol=1e-6)
    assert w.explain_methods == [{"name": "shapley", "label": "Shapley values"}]


def test_a_large_dataset_is_sampled_and_rows_name_the_rows_of_x():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    w = nbx.Projector(Net(4).eval(), X, max_points=50, progress=False)
    assert w.coords.shape[1] == 50 and w.n_total == 300 and "50 of 300" in w.note
    assert len(set(w.rows.tolist())) == 50 and w.rows.max() < 300
    shown = int(w.rows[7])
    w.selected = [shown]
    assert w.selected.tolist() == [shown]
    outside = next(r for r in range(300) if r not in set(w.rows.tolist()))
    with pytest.raises(InputError, match=r"row indices of X in the rows shown \(w.rows\)"):
        w.selected = [outside]
    np.testing.assert_allclose(w.columns, X[w.rows], rtol=1e-6)
    assert w.color_by == "prediction" and w.labels is None


def test_results_open_in_the_projector_through_the_registry(images):
    X, y = images
    acts = nbx.activations(Net().eval(), X, layers=["body.conv", "head"], progress=False)
    live = acts.widget(y=y)
    assert isinstance(live, nbx.Projector) and live.interactive and live.coords.shape == (2, 60, 2)
    np.testing.assert_array_equal(live.thumbnails, X)
    view_sends(live, {"type": "request", "id": 1, "action": "project", "params": {"method": "tsne"}})
    assert live.wait(120) and live.method == "tsne"
    maps = nbx.project(acts, "pca")
    static = maps.widget(y=y, images=X)
    assert not static.interactive and static.predictions is None and static.layer_names == ["body.conv", "head"]
    assert static.methods == [{"name": "pca", "label": "PCA"}] and static.explain_methods == []
    view_sends(static, {"type": "request", "id": 2, "action": "project", "params": {"method": "tsne"}})
    assert static.wait(30) and "no activations to map again" in static.error["message"]
    one = maps["head"].widget(y=y)
    assert one.coords.shape == (1, 60, 2) and one.color_by == "label"


def test_the_png_fallback_shows_the_current_map(images):
    w = make(images)
    w.color_by = "correct"
    data, _ = w._repr_mimebundle_()
    png = base64.b64decode(data["image/png"])
    from io import BytesIO

    from PIL import Image

    picture = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    assert picture.std() > 10


def test_bad_constructor_arguments(images):
    X, y = images
    with pytest.raises(UnknownArgumentError, match="unexpected keyword argument 'colour_by'"):
        make(images, colour_by="label")
    with pytest.raises(InputError, match="method='tnse' is not valid"):
        make(images, method="tnse")
    with pytest.raises(InputError, match=r"y must be 1-D with one label per row of X \(60\)"):
        nbx.Projector(Net().eval(), X, y[:5], progress=False)
    with pytest.raises(InputError, match="max_points must be an int in 4..50000"):
        make(images, max_points=60_000)
    with pytest.raises(InputError, match="needs a model and the inputs X"):
        nbx.Projector(Net().eval(), None)


def test_view_module_is_self_contained_and_safe():
    esm = str(nbx.Projector._esm)
    assert "function nbxDecodeArray" in esm and "export default { render }" in esm
    assert not re.search(r"^\s*import\s", esm, re.M) and "innerHTML" not in esm
