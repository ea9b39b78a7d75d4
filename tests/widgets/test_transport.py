"""The shared transport: binary codec, request protocol (ids, stale suppression) and error channel."""

from __future__ import annotations

import numpy as np
import pytest
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.widgets.codec import decode_array, encode_array, pack_message, unpack_message


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "int32", "uint32", "float32", "float64"])
def test_codec_round_trip_keeps_dtype_shape_and_bytes(dtype):
    arr = (np.arange(24) * 3 - 5).astype(dtype).reshape(2, 3, 4)
    enc = encode_array(arr)
    assert enc["dtype"] == dtype and enc["shape"] == [2, 3, 4]
    assert bytes(enc["buffer"]) == arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    np.testing.assert_array_equal(decode_array(enc), arr)


def test_codec_converts_types_javascript_lacks():
    assert encode_array(np.array([1, 2], dtype=np.int64))["dtype"] == "int32"
    assert encode_array(np.array([True, False]))["dtype"] == "uint8"
    with pytest.raises(TypeError, match="cannot send dtype complex128"):
        encode_array(np.array([1j]))


def test_codec_handles_non_contiguous_arrays():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4).T
    np.testing.assert_array_equal(decode_array(encode_array(arr)), arr)


def test_pack_message_lifts_nested_arrays_into_buffers():
    content = {"type": "response", "data": {"maps": [np.ones((2, 2), np.float32), np.zeros(3, np.uint8)]}}
    state, buffers = pack_message(content)
    assert len(buffers) == 2
    assert state["buffer_paths"] == [["data", "maps", 0, "buffer"], ["data", "maps", 1, "buffer"]]
    assert "buffer" not in state["data"]["maps"][0]  # no array data left in the JSON part
    restored = unpack_message(state, buffers)
    np.testing.assert_array_equal(decode_array(restored["data"]["maps"][0]), np.ones((2, 2), np.float32))


def test_heatmap_traits_travel_as_binary_buffers(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    state = hm.get_state()
    for name, dtype, shape in [("image", "uint8", [16, 16, 3]), ("maps", "float32", [1, 16, 16])]:
        assert state[name]["dtype"] == dtype and state[name]["shape"] == shape
        assert isinstance(state[name]["buffer"], memoryview)
    assert bytes(state["maps"]["buffer"]) == hm.result.map.astype(np.float32).tobytes()
    assert bytes(state["image"]["buffer"]) == image.tobytes()
    # the opening message carried them as buffers, not as JSON lists
    opened = [d for t, d, b in hm.comm.sent if t == "comm_open"] if hasattr(hm.comm, "sent") else []
    assert not opened or all(not isinstance(d.get("state", {}).get("maps"), list) for d in opened)


def _responses(widget):
    return [c for c, _ in widget.comm.custom() if c.get("type") == "response"]


def test_request_commits_result_and_answers_with_its_id(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image, method="gradient")
    view_sends(hm, {"type": "request", "id": 7, "action": "attribute", "params": {"method": "occlusion", "target": 1}})
    assert hm.wait(30)
    assert (hm.method, hm.target, hm.committed_request) == ("occlusion", 1, 7)
    expected = nbx.attribute(tiny_cnn, image, "occlusion", 1).map
    np.testing.assert_allclose(hm.maps[0], expected, rtol=1e-5, atol=1e-7)
    assert _responses(hm)[-1] == {"type": "response", "id": 7, "status": "ok", "data": {}, "buffer_paths": []}


def test_superseded_requests_never_reach_the_traits(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image, method="gradient")
    seen = []
    hm.observe(lambda ch: seen.append(hm.method), names="maps")
    with hm._compute_lock:  # hold the worker so all three requests queue up behind the first
        for rid, method in [(1, "integrated_gradients"), (2, "occlusion"), (3, "gradient_x_input")]:
            view_sends(hm, {"type": "request", "id": rid, "action": "attribute", "params": {"method": method}})
    assert hm.wait(60)
    assert hm.method == "gradient_x_input" and hm.committed_request == 3
    statuses = {c["id"]: c["status"] for c in _responses(hm)}
    assert statuses[3] == "ok"
    assert statuses[2] == "superseded"  # replaced while waiting: never computed
    assert "occlusion" not in seen


def test_model_error_reaches_error_trait_and_widget_keeps_working(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image, method="gradient")
    tiny_cnn.fail = True
    view_sends(hm, {"type": "request", "id": 1, "action": "attribute", "params": {"method": "occlusion"}})
    assert hm.wait(30)
    assert hm.error["type"] == "ModelError"
    assert "the model is broken on purpose" in hm.error["message"]
    assert "Traceback" in hm.error["traceback"]
    assert hm.method == "gradient"  # the failed request changed nothing
    response = _responses(hm)[-1]
    assert response["status"] == "error" and response["error"]["type"] == "ModelError"
    tiny_cnn.fail = False
    view_sends(hm, {"type": "request", "id": 2, "action": "attribute", "params": {"method": "occlusion"}})
    assert hm.wait(30)
    assert hm.error == {} and hm.method == "occlusion" and hm.committed_request == 2


def test_unknown_action_is_reported_not_swallowed(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image)
    view_sends(hm, {"type": "request", "id": 3, "action": "explode", "params": {}})
    assert hm.wait(10)
    assert "no action 'explode'" in hm.error["message"]


def test_progress_messages_carry_the_request_id(tiny_cnn, image):
    hm = nbx.Heatmap(tiny_cnn, image, options={"occlusion": {"window": 2, "stride": 1}})
    view_sends(hm, {"type": "request", "id": 11, "action": "attribute", "params": {"method": "occlusion"}})
    assert hm.wait(30)
    progress = [c for c, _ in hm.comm.custom() if c.get("type") == "progress"]
    assert progress and all(c["id"] == 11 for c in progress)
    assert progress[-1]["fraction"] == pytest.approx(1.0)


def test_a_request_submitted_while_the_worker_stops_is_still_run():
    """The worker that found the queue empty stays alive for a moment after deciding to stop; a request
    submitted then used to wait forever (seen in the browser: the kernel's mask one click behind the view's).
    With a tiny thread switch interval the window opens often: nothing may be left waiting."""
    import sys

    from nbexplain.widgets.base import Dispatcher, Request

    class Widget:
        def _run_request(self, request, ctx):
            pass

        def send(self, *args):
            pass

    dispatcher = Dispatcher(Widget())
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for i in range(40_000):
            dispatcher.submit(Request(2 * i, "sync", {}))
            assert dispatcher.idle.wait(5)  # the worker found the queue empty and is on its way out
            dispatcher.submit(Request(2 * i + 1, "sync", {}))
            assert dispatcher.idle.wait(5), f"request {2 * i + 1} was left waiting"
    finally:
        sys.setswitchinterval(before)
