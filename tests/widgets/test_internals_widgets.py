"""WeightHistograms, ChannelGrid and Maximization from Python with a recording comm: the numbers in the traits
are the front doors', arrays travel as binary buffers, the view may write only what it declares (validated),
a live recorder updates the widget, a maximisation streams frames, stops on request keeping what it found,
and answers dataset examples equal to ``nbx.dataset_examples``."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest
import torch
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.datasets import tank_network, tanks


class SlowCNN(torch.nn.Module):
    """A small CNN whose forward sleeps, so that a run lasts long enough to stream and to be stopped."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.Conv2d(6, 5, 3, padding=1), torch.nn.ReLU())
        self.head = torch.nn.Linear(5, 3)
        self.delay = delay

    def forward(self, x):
        time.sleep(self.delay)
        return self.head(self.features(x).mean((2, 3)))


def frames(widget) -> list[tuple[dict, list]]:
    return [(c, b) for c, b in widget.comm.custom() if c.get("type") == "frame"]


def responses(widget) -> dict[int, dict]:
    return {c["id"]: c for c, _ in widget.comm.custom() if c.get("type") == "response"}


# -- WeightHistograms --------------------------------------------------------------------------------------------
@pytest.fixture
def recorder():
    model = tank_network(0)
    for p in model[4].parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    rec = nbx.WeightRecorder(model, optimizer=opt, every=2, bins=12)
    data = tanks(32, seed=0)
    x = torch.from_numpy(np.ascontiguousarray(data.images.transpose(0, 3, 1, 2))).float() / 255
    for i in range(4):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i * 8:(i + 1) * 8]), torch.from_numpy(data.labels[i * 8:(i + 1) * 8])).backward()
        opt.step()
    return rec, model, opt, x


def test_weight_histograms_carry_the_recorders_numbers_as_binary_buffers(recorder):
    rec, *_ = recorder
    w = nbx.WeightHistograms(rec)
    assert w.steps == [0, 2, 4] and [p["name"] for p in w.parameters] == rec.parameters
    assert w.parameters[w.parameter]["name"] == "4.weight"  # the first flagged parameter is shown first
    assert w.checkpoint == 2
    for i, name in enumerate(rec.parameters):
        np.testing.assert_array_equal(w.tables[i]["counts"], rec.counts(name))
        np.testing.assert_array_equal(w.tables[i]["edges"], rec.edges(name))
    counts, edges = w.histogram()
    np.testing.assert_array_equal(counts, rec.histogram("4.weight")[0])
    assert {f["parameter"] for f in w.flags if f["kind"] == "frozen"} == {"4.weight", "4.bias"}
    state, buffers = w.get_state(), None
    from ipywidgets.widgets.widget import _remove_buffers

    _, paths, buffers = _remove_buffers(state)
    assert ["tables", 0, "counts", "buffer"] in paths and len(buffers) == 3 * len(rec.parameters)


def test_the_view_writes_only_declared_traits_and_valid_values(recorder):
    rec, *_ = recorder
    w = nbx.WeightHistograms(rec)
    w.set_state({"checkpoint": 0, "compare": 2, "parameter": 3, "log_counts": True})
    assert (w.checkpoint, w.compare, w.parameter, w.log_counts) == (0, 2, 3, True)
    np.testing.assert_array_equal(w.histogram()[0], rec.histogram(rec.parameters[3], 0)[0])
    w.set_state({"checkpoint": 7})
    assert w.checkpoint == 0 and "checkpoint must be a snapshot index in 0..2" in w.error["message"]
    w.set_state({"steps": [1]})
    assert w.steps == [0, 2, 4] and "the view may not change 'steps'" in w.error["message"]


def test_a_live_recorder_updates_the_widget_and_follows_the_last_snapshot(recorder):
    rec, model, opt, x = recorder
    w = rec.widget()
    assert w.live
    for _ in range(2):
        opt.zero_grad()
        model(x[:8]).sum().backward()
        opt.step()
    assert w.steps == [0, 2, 4, 6] and w.checkpoint == 3
    np.testing.assert_array_equal(w.tables[0]["counts"], rec.counts(rec.parameters[0]))
    rec.close()
    png = base64.b64decode(w._repr_mimebundle_()[0]["image/png"])
    assert png.startswith(b"\x89PNG")


# -- ChannelGrid ---------------------------------------------------------------------------------------------------
def test_channel_grids_of_filters_feature_maps_and_examples():
    model = SlowCNN().eval()
    image = (np.random.default_rng(0).random((12, 12, 3)) * 255).astype(np.uint8)
    fm = nbx.feature_maps(model, image, "features.1")
    grid = fm.widget()
    np.testing.assert_array_equal(grid.maps, fm.maps)
    assert grid.values == pytest.approx(list(fm.means)) and grid.value_label == "mean activation"
    assert grid.labels[0] == "channel 0" and grid.limits == [pytest.approx(v) for v in fm.limits()]
    grid.set_state({"selected": 4})
    assert grid.selected == 4
    grid.set_state({"selected": 6})
    assert grid.selected == 4 and "selected must be -1 (none) or a cell index in 0..5" in grid.error["message"]
    filters = nbx.filters(model).widget()
    assert filters.images.shape == (6, 3, 3, 3) and filters.value_label == "norm"
    pool = (np.random.default_rng(1).random((9, 12, 12, 3)) * 255).astype(np.uint8)
    examples = nbx.dataset_examples(model, "features.3", pool, channels=[0, 2], k=3).widget()
    assert examples.images.shape[0] == 6 and examples.labels[4] == "channel 2 #2"
    assert examples._repr_mimebundle_()[0]["image/png"]


# -- Maximization --------------------------------------------------------------------------------------------------
OPTIONS = dict(size=12, steps=30, seed=3)


def test_a_run_streams_frames_and_commits_what_maximize_channels_computes():
    model = SlowCNN(delay=0.01).eval()
    w = nbx.Maximization(model, "features.3", channels=[0, 2, 4], **OPTIONS)
    assert w.autostart and w.mode == "maximize" and w.images is None
    view_sends(w, {"type": "request", "id": 11, "action": "maximize", "params": {"steps": 30}})
    assert w.wait(60) and w.error == {}
    streamed = [f for f in frames(w) if f[0]["id"] == 11]
    assert len(streamed) >= 3
    content, buffers = streamed[-1]
    assert content["step"] == 30 and content["images"]["shape"] == [3, 12, 12, 3] and len(buffers) == 2
    assert responses(w)[11]["status"] == "ok"
    expected = nbx.maximize_channels(model, "features.3", [0, 2, 4], progress=False, **OPTIONS)
    np.testing.assert_array_equal(w.images, expected.images)
    np.testing.assert_allclose(w.curves, expected.curves, rtol=1e-5)
    assert w.values == pytest.approx(list(expected.values)) and w.labels == expected.labels
    assert not w.autostart and w.stopped_at == -1 and w.done_steps == 30


def test_stop_ends_the_run_and_keeps_what_it_found():
    model = SlowCNN(delay=0.02).eval()
    w = nbx.Maximization(model, "features.3", channels=2, size=12, steps=2000)
    view_sends(w, {"type": "request", "id": 1, "action": "maximize", "params": {}})
    deadline = time.monotonic() + 30
    while len(frames(w)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    view_sends(w, {"type": "request", "id": 2, "action": "maximize", "params": {"stop": True}})
    assert w.wait(60)
    answers = responses(w)
    assert answers[1]["status"] == "superseded" and answers[2]["status"] == "ok"
    assert 0 < w.stopped_at < 2000 and answers[2]["data"]["stopped_at"] == w.stopped_at
    assert w.curves.shape == (2, w.stopped_at) and w.images.shape == (2, 12, 12, 3)
    sent = len(frames(w))
    time.sleep(0.3)
    assert len(frames(w)) == sent  # nothing streams after the stop


def test_examples_answer_equals_dataset_examples():
    model = SlowCNN().eval()
    pool = (np.random.default_rng(2).random((15, 12, 12, 3)) * 255).astype(np.uint8)
    w = nbx.Maximization(model, "features.3", channels=[1, 3], examples=pool, k=4, **OPTIONS)
    view_sends(w, {"type": "request", "id": 5, "action": "examples", "params": {"index": 1}})
    assert w.wait(60)
    answer = responses(w)[5]
    assert answer["status"] == "ok" and answer["data"]["channel"] == 3
    expected = nbx.dataset_examples(model, "features.3", pool, channels=[1, 3], k=4).of(3)
    np.testing.assert_array_equal(w.examples_of(1)["patches"], expected["patches"])
    np.testing.assert_allclose(w.examples_of(1)["values"], expected["values"])
    assert answer["data"]["patches"]["shape"] == list(expected["patches"].shape)


def test_bad_requests_and_static_widgets_answer_with_errors():
    model = SlowCNN().eval()
    w = nbx.Maximization(model, "features.3", channels=2, **OPTIONS)
    view_sends(w, {"type": "request", "id": 1, "action": "maximize", "params": {"steps": -3}})
    view_sends(w, {"type": "request", "id": 2, "action": "examples", "params": {"index": 0}})
    assert w.wait(60)
    answers = responses(w)
    assert answers[1]["status"] == "error" and "steps must be an int in 1..100000" in answers[1]["error"]["message"]
    assert answers[2]["status"] == "error" and "no image pool" in answers[2]["error"]["message"]
    gallery = nbx.maximize_channels(model, "features.3", 2, progress=False, **OPTIONS)
    static = gallery.widget()
    assert not static.interactive and static.values == pytest.approx(list(gallery.values))
    view_sends(static, {"type": "request", "id": 3, "action": "maximize", "params": {}})
    assert static.wait(60)
    assert "without a model" in responses(static)[3]["error"]["message"]
    assert static._repr_mimebundle_()[0]["image/png"]
    single = nbx.maximize(model, 1, size=12, steps=5, progress=False).widget(model=model)
    assert single.labels == ["class 1"] and single.interactive
    result = single.run(steps=4)
    assert result.kind == "class" and single.done_steps == 4
    with pytest.raises(TypeError, match="did you mean 'steps'"):
        nbx.Maximization(model, "features.3", stpes=3)
