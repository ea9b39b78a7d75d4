"""SuperpixelExplorer from Python and through the request protocol (a recording comm, no browser): traits
as binary buffers, predictions checked against the model run on an independently rendered image, stale
requests, the error channel, explanations equal to the headless functions, the 2**M table, re-segmenting."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest
import torch
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.coalitions.masks import all_coalitions
from nbexplain.widgets.codec import decode_array

H, W = 20, 24


class Net(torch.nn.Module):
    """A small CNN over 4 classes; ``fail`` makes every forward raise, ``delay`` slows it, ``calls`` counts rows."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.head = torch.nn.Linear(6 * 4, 4)
        self.fail, self.delay, self.rows = False, 0.0, 0

    def forward(self, x):
        if self.fail:
            raise ValueError("the model is broken on purpose")
        time.sleep(self.delay)
        self.rows += len(x)
        return self.head(torch.nn.functional.adaptive_avg_pool2d(torch.tanh(self.conv(x)), 2).flatten(1)) * 3


@pytest.fixture
def net():
    return Net().eval()


@pytest.fixture
def photo():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    base = np.stack([yy / H, xx / W, ((yy // 5 + xx // 6) % 2) * 0.8], -1)
    return (np.clip(base + 0.15 * rng.random((H, W, 3)), 0, 1) * 255).astype(np.uint8)


NAMES = ["cat", "dog", "<b>fox</b>", "owl"]


def expected_probabilities(net, explorer, mask) -> np.ndarray:
    """The model on the image rebuilt by hand: hidden superpixels take the fill, pixel by pixel."""
    game = explorer.game
    img = game.image.tensor.copy()
    for j in np.flatnonzero(~np.asarray(mask, bool)):
        img[:, game.labels == j] = game.fills[0][:, game.labels == j]
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(img[None])), 1).numpy()[0]


def predict_request(widget, rid: int, mask) -> None:
    mask = np.asarray(mask, dtype=np.uint8)
    view_sends(widget, {"type": "request", "id": rid, "action": "predict",
                        "params": {"active": {"dtype": "uint8", "shape": [len(mask)]}},
                        "buffer_paths": [["params", "active", "buffer"]]}, [memoryview(mask.tobytes())])


def responses(widget) -> dict:
    return {c["id"]: (c, b) for c, b in widget.comm.custom() if c.get("type") == "response"}


def test_initial_state_travels_as_buffers(net, photo):
    ex = nbx.SuperpixelExplorer(nbx.as_model(net, class_names=NAMES), photo, "slic", n_segments=8, top_k=2, target=3)
    m = ex.n_superpixels
    assert m == ex.segmentation.n_segments > 1
    state = ex.get_state()
    for name, dtype, shape in [("image", "uint8", [H, W, 3]), ("labels", "int32", [H, W]), ("active", "uint8", [m]),
                               ("bars", "float32", [len(ex.classes)]), ("fill_image", "uint8", [H, W, 3])]:
        assert state[name]["dtype"] == dtype and state[name]["shape"] == shape
        assert isinstance(state[name]["buffer"], memoryview)
    full = expected_probabilities(net, ex, np.ones(m, bool))
    np.testing.assert_allclose(ex.probabilities, full, rtol=1e-5)
    order = list(np.argsort(-full)[:2])
    assert [c["index"] for c in ex.classes] == order + ([3] if 3 not in order else [])
    assert ex.target == 3 and ex.top["index"] == int(np.argmax(full))
    names = {c["index"]: c["name"] for c in ex.classes}
    assert all(names[i] == NAMES[i] for i in names)  # class names go to the view as data, rendered as text
    np.testing.assert_allclose(ex.bars, [full[c["index"]] for c in ex.classes], rtol=1e-5)


def test_predict_request_commits_mask_and_matches_the_model(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "slic", n_segments=10)
    m = ex.n_superpixels
    mask = np.arange(m) % 3 != 0
    predict_request(ex, 11, mask)
    assert ex.wait(30)
    np.testing.assert_array_equal(ex.active, mask)
    expected = expected_probabilities(net, ex, mask)
    np.testing.assert_allclose(ex.probabilities, expected, rtol=1e-5, atol=1e-7)
    content, buffers = responses(ex)[11]
    assert content["status"] == "ok" and ex.committed_request == 11
    restored = {"bars": dict(content["data"]["bars"])}
    path = content["buffer_paths"].index(["data", "bars", "buffer"])
    restored["bars"]["buffer"] = buffers[path]
    np.testing.assert_allclose(decode_array(restored["bars"]), [expected[c["index"]] for c in ex.classes], rtol=1e-5)
    assert content["data"]["top"]["index"] == int(np.argmax(expected))


def test_rapid_requests_end_in_the_newest_state(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "slic", n_segments=10)
    m = ex.n_superpixels
    rng = np.random.default_rng(1)
    masks = [rng.random(m) < 0.5 for _ in range(20)]
    seen = []
    ex.observe(lambda ch: seen.append(np.asarray(ex.active).copy()), names="active")
    net.delay = 0.01
    with ex._compute_lock:  # hold the worker: the requests queue up as fast clicks would
        for rid, mask in enumerate(masks, start=100):
            predict_request(ex, rid, mask)
    assert ex.wait(60)
    np.testing.assert_array_equal(ex.active, masks[-1])
    np.testing.assert_allclose(ex.probabilities, expected_probabilities(net, ex, masks[-1]), rtol=1e-5, atol=1e-7)
    statuses = {rid: c["status"] for rid, (c, _) in responses(ex).items()}
    assert statuses[119] == "ok" and ex.committed_request == 119
    assert sum(s == "superseded" for s in statuses.values()) >= 17  # only the newest waiting request ran
    assert len(seen) <= 3


def test_model_error_is_shown_and_the_next_toggle_works(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "slic", n_segments=10)
    m = ex.n_superpixels
    before = np.asarray(ex.active).copy()
    net.fail = True
    mask = before.copy()
    mask[0] = False
    predict_request(ex, 1, mask)
    assert ex.wait(30)
    assert ex.error["type"] == "ModelError" and "broken on purpose" in ex.error["message"]
    assert responses(ex)[1][0]["status"] == "error"
    np.testing.assert_array_equal(ex.active, before)  # the traits still describe what the bars show
    net.fail = False
    predict_request(ex, 2, mask)
    assert ex.wait(30)
    assert ex.error == {} and responses(ex)[2][0]["status"] == "ok"
    np.testing.assert_array_equal(ex.active, mask)
    with pytest.raises(InputError, match=f"i=99 is not a superpixel: expected an int in 0..{m - 1}"):
        ex.toggle(99)
    predict_request(ex, 3, np.ones(m + 2, np.uint8))
    assert ex.wait(30)
    assert "active must have one boolean per superpixel" in ex.error["message"]


def test_python_api_toggle_reset_invert_and_cache(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "grid", n_segments=6)
    assert ex.n_superpixels == 6
    ex.toggle(2)
    assert ex.active.tolist() == [True, True, False, True, True, True]
    after_toggle = ex.probabilities
    np.testing.assert_allclose(after_toggle, expected_probabilities(net, ex, ex.active), rtol=1e-5)
    ex.invert()
    assert ex.active.tolist() == [False, False, True, False, False, False]
    rows = net.rows
    ex.toggle(2)  # now nothing is shown
    ex.reset()
    ex.toggle(2)  # back to a state seen before: served from the cache
    assert net.rows == rows + 1  # only the all-hidden coalition was new
    np.testing.assert_allclose(ex.probabilities, after_toggle)
    ex.active = [1, 1, 1, 1, 1, 0]
    assert ex.active.dtype == bool and not ex.active[5]
    with pytest.raises(InputError, match=r"active must have one boolean per superpixel, shape \(6,\)"):
        ex.active = [True] * 3


def test_explanations_equal_the_headless_functions(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "grid", n_segments=8, explain_options={"lime": {"n_samples": 200, "seed": 3}})
    game = ex.game
    lime = ex.explain("lime")
    ref = nbx.lime_image(game, n_samples=200, seed=3)
    np.testing.assert_allclose(lime.weights, ref.weights)
    assert ex.overlay == "lime" and ex.result is lime
    np.testing.assert_allclose(ex.overlay_values, lime.weights.astype(np.float32))
    assert any(f"fidelity (weighted R²) {lime.score:.3f}" in q for q in ex.overlay_info["quality"])
    assert ex.curve_deletion.shape == (ex.n_superpixels + 1,) and ex.curve_info["auc_deletion"] == pytest.approx(ex.curves.auc_deletion)
    curves = nbx.deletion_insertion(game, scores=lime)
    np.testing.assert_allclose(ex.curve_insertion, curves.insertion.astype(np.float32))

    shap = ex.explain("shapley")
    exact = nbx.shapley_image(game)
    np.testing.assert_allclose(shap.values, exact.values, atol=1e-12)
    assert ex.overlay == "shapley" and "efficiency gap" in ex.overlay_info["quality"][1]
    # exact Shapley evaluated all 2**8 coalitions: the view now holds the table and can answer alone
    z = all_coalitions(ex.n_superpixels)
    probs = game.model.to_probabilities(game.outputs(z))
    np.testing.assert_allclose(ex.table, probs[:, [c["index"] for c in ex.classes]].astype(np.float32))
    np.testing.assert_array_equal(ex.table_top, probs.argmax(1))
    assert set(ex.table_names) == {str(i) for i in np.unique(probs.argmax(1))}

    anchor = ex.explain("anchor", seed=0, max_samples=600)
    assert ex.overlay == "anchor" and ex.anchor == list(anchor.anchor)
    assert ex.curve_deletion is None
    assert any("coverage" in q for q in ex.overlay_info["quality"])
    with pytest.raises(InputError, match="method='gradcam' is not valid"):
        ex.explain("gradcam")


def test_explain_request_reports_progress(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "slic", n_segments=10, explain_options={"lime": {"n_samples": 300}})
    view_sends(ex, {"type": "request", "id": 5, "action": "explain", "params": {"method": "lime"}})
    assert ex.wait(60)
    assert responses(ex)[5][0]["status"] == "ok" and ex.overlay == "lime"
    fractions = [c["fraction"] for c, _ in ex.comm.custom() if c.get("type") == "progress" and c["id"] == 5]
    assert fractions and fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_resegment_and_target_requests(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "slic", n_segments=10)
    first_game = ex.game
    ex.toggle(0)
    view_sends(ex, {"type": "request", "id": 1, "action": "segment", "params": {"method": "grid", "param": 12, "fill": "grey"}})
    assert ex.wait(30) and ex.error == {}
    assert (ex.seg_method, ex.seg_param, ex.fill) == ("grid", 12.0, "grey")
    assert ex.n_superpixels == ex.segmentation.n_segments == 12 and ex.active.all()
    np.testing.assert_array_equal(ex.labels, nbx.segment(photo, "grid", n_segments=12).labels)
    np.testing.assert_allclose(ex.fill_image, 128, atol=1)
    view_sends(ex, {"type": "request", "id": 2, "action": "segment", "params": {"method": "slic", "param": 10, "fill": "mean"}})
    assert ex.wait(30)
    assert ex.game.model is first_game.model and ex.game._cache is first_game._cache  # the earlier game, reused
    view_sends(ex, {"type": "request", "id": 3, "action": "segment", "params": {"method": "watershed"}})
    assert ex.wait(30) and "segmentation method='watershed' is not valid" in ex.error["message"]
    view_sends(ex, {"type": "request", "id": 4, "action": "target", "params": {"target": 2}})
    assert ex.wait(30)
    assert ex.target == 2 and ex.game.target == 2 and 2 in [c["index"] for c in ex.classes]
    ex.target = 1
    assert ex.game.target == 1
    with pytest.raises(InputError, match="target=9 is out of range"):
        ex.target = 9
    assert ex.target == 1


def test_precompute_table_and_validation(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "grid", n_segments=4, precompute=True)
    assert ex.table.shape == (16, len(ex.classes))
    mask = np.array([True, False, True, False])
    row = int((mask * 2 ** np.arange(4)).sum())
    np.testing.assert_allclose(ex.table[row], [expected_probabilities(net, ex, mask)[c["index"]] for c in ex.classes], rtol=1e-5)
    big = nbx.SuperpixelExplorer(net, photo, "grid", n_segments=20)
    big.precompute()  # beyond 12 superpixels: the shown mask's one-toggle neighbours (and Shapley values)
    assert big.answer_tables["neighbours"].shape == (big.n_superpixels, len(big.classes))
    with pytest.raises(InputError, match="n_segments is the parameter of 'slic' and 'grid'"):
        nbx.SuperpixelExplorer(net, photo, "felzenszwalb", n_segments=5)
    with pytest.raises(InputError, match="explain_options has unknown explainers"):
        nbx.SuperpixelExplorer(net, photo, explain_options={"shap": {}})


def test_static_fallbacks(net, photo):
    ex = nbx.SuperpixelExplorer(net, photo, "grid", n_segments=6)
    ex.toggle(1)
    ex.explain("shapley")
    data, _ = ex._repr_mimebundle_()
    png = base64.b64decode(data["image/png"])
    from io import BytesIO

    from PIL import Image

    picture = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    assert picture.shape[0] > 100 and picture.std() > 10
    result = nbx.shapley_image(net, photo, segmentation="grid", n_segments=6)
    static = result.widget()
    assert static.interactive is False and static.overlay == "shapley"
    np.testing.assert_allclose(static.overlay_values, result.values.astype(np.float32))
    live = result.widget(model=net)
    assert live.interactive and live.overlay == "shapley" and live.n_superpixels == 6


def test_explorer_of_a_game_reuses_its_evaluations(net, photo):
    game = nbx.SuperpixelGame(net, photo, "grid", n_segments=6, fill="grey", target=2)
    sv = nbx.shapley_image(game)
    rows = net.rows
    ex = nbx.SuperpixelExplorer(game)
    assert net.rows == rows  # every coalition was cached: no model call
    assert ex.game._cache is game._cache and ex.target == 2 and ex.fill == "grey" and ex.seg_method == "custom"
    assert ex.table is not None and ex.table.shape == (2**game.n_players, len(ex.classes))
    np.testing.assert_allclose(ex.table[:, [c["index"] for c in ex.classes].index(2)], sv.table, rtol=1e-6)
    ex.toggle(0)
    assert net.rows == rows
    with pytest.raises(InputError, match="pass either a SuperpixelGame"):
        nbx.SuperpixelExplorer(game, photo)


def test_results_and_segmentations_open_their_widget_through_the_registry(net, photo):
    from nbexplain._registry import widget_for

    seg = nbx.segment(photo, "grid", n_segments=6)
    ex = seg.widget(net, top_k=2)
    assert isinstance(ex, nbx.SuperpixelExplorer) and ex.n_superpixels == 6 and ex.seg_method == "custom"
    curves = nbx.deletion_insertion(net, photo, order=np.arange(6), segmentation=seg)
    static = widget_for(curves)
    assert static.overlay == "ranking" and static.curve_info["auc_deletion"] == pytest.approx(curves.auc_deletion)
    assert static.overlay_info == {"title": curves.headline, "quality": curves.quality(),
                                   "limit": float(np.abs(curves.scores).max())}
    anchor = nbx.anchor_image(net, photo, segmentation=seg, max_samples=300)
    shown = anchor.widget()
    assert shown.overlay == "anchor" and shown.anchor == list(anchor.anchor)
    assert shown.overlay_info["quality"] == anchor.quality()
    with pytest.raises(InputError, match="no widget shows a int"):
        widget_for(3)
