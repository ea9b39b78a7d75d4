"""The transport survives a hostile front end: every request is answered, the view writes only what it may
(validated, else reverted and shown), and view writes never interleave with the worker's commits."""

from __future__ import annotations

import threading
import time

import pytest
import traitlets
from widgets_kit import view_sends

from nbexplain.errors import InputError
from nbexplain.widgets.base import ExplainerWidget, field, handles


class Probe(ExplainerWidget):
    """A minimal widget: `level` is view-writable (0..10), `shown` is not; `count` is committed by requests."""

    _esm = "export default { render() {} };"
    _view_writes = frozenset({"level", "checked"})
    level = traitlets.Int(0).tag(sync=True)
    checked = traitlets.Int(0).tag(sync=True)
    shown = traitlets.Unicode("kernel").tag(sync=True)
    count = traitlets.Int(0).tag(sync=True)

    @traitlets.validate("level")
    def _valid_level(self, proposal):
        if not 0 <= proposal["value"] <= 10:
            raise InputError(f"level must be in 0..10; got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("checked")
    def _checked(self, change):
        with self._compute_lock:  # an observer that waits for a running computation
            if change["new"] < 0:
                with self._applying():
                    self.checked = change["old"]
                raise InputError("checked must be >= 0")

    @handles("bump")
    def _bump(self, params, ctx):
        n = field(params, "n")
        if not isinstance(n, int):
            raise InputError(f"n must be an int; got {n!r}")
        with self._applying(ctx):
            self.count += n
        return {"count": self.count}


def responses(w):
    return [c for c, _ in w.comm.custom() if c.get("type") == "response"]


def updates_of(w, name):
    return [d["state"][name] for d, _ in w.comm.updates() if name in d.get("state", {})]


@pytest.mark.parametrize("message, id_back, says", [
    ({"type": "request", "id": "7", "action": "bump", "params": {"n": 1}}, "7", "a request id must be an integer"),
    ({"type": "request", "action": "bump", "params": {"n": 1}}, None, "a request id must be an integer; got None"),
    ({"type": "request", "id": 2.5, "action": "bump", "params": {}}, 2.5, "a request id must be an integer"),
    ({"type": "request", "id": True, "action": "bump", "params": {}}, None, "a request id must be an integer"),
    ({"type": "request", "id": 3, "action": "bump", "params": [1, 2]}, 3, "must be an object; got list"),
    ({"type": "request", "id": 4, "action": 5, "params": {}}, 4, "action must be a string"),
    ({"type": "request", "id": 5, "action": "bump", "params": {}, "buffer_paths": [["params", "x", "y"]]}, 5,
     "buffer_paths point nowhere"),
])
def test_every_malformed_request_is_answered_with_an_error_and_the_widget_keeps_working(message, id_back, says):
    w = Probe()
    view_sends(w, message, [b"\x00"] if "buffer_paths" in message else [])
    assert w.wait(10)
    answer = responses(w)[-1]
    assert answer["status"] == "error" and answer["id"] == id_back and says in answer["error"]["message"]
    assert says in w.error["message"]
    view_sends(w, {"type": "request", "id": 9, "action": "bump", "params": {"n": 2}})
    assert w.wait(10)
    assert w.count == 2 and responses(w)[-1]["status"] == "ok" and w.error == {}


def test_a_missing_or_wrong_field_is_named():
    w = Probe()
    view_sends(w, {"type": "request", "id": 1, "action": "bump", "params": {"m": 1}})
    assert w.wait(10)
    assert "the request has no field 'n'; it has ['m']" in responses(w)[-1]["error"]["message"]
    view_sends(w, {"type": "request", "id": 2, "action": "bump", "params": {"n": "x"}})
    assert w.wait(10)
    assert "n must be an int; got 'x'" in w.error["message"] and w.count == 0


def test_the_view_may_not_write_a_read_only_trait_and_gets_the_kernel_value_back():
    w = Probe()
    w.set_state({"shown": "hacked"})
    assert w.shown == "kernel"
    assert "the view may not change 'shown'" in w.error["message"] and w.error["action"] == "set shown"
    assert updates_of(w, "shown")[-1] == "kernel"


def test_a_rejected_value_is_reverted_in_the_view_and_shown():
    w = Probe()
    w.set_state({"level": 4})
    assert w.level == 4 and w.error == {}
    w.set_state({"level": 99})
    assert w.level == 4
    assert "level must be in 0..10; got 99" in w.error["message"]
    assert updates_of(w, "level")[-1] == 4
    w.set_state({"checked": -3})  # the observer refuses it and restores what it shows
    assert w.checked == 0 and "checked must be >= 0" in w.error["message"]
    assert updates_of(w, "checked")[-1] == 0


def test_view_writes_and_worker_commits_interleave_without_deadlock_or_lost_updates():
    w = Probe()
    done = threading.Event()

    def writer():
        for i in range(300):
            w.set_state({"level": i % 11, "checked": i})
        done.set()

    with w._compute_lock:  # the worker is busy computing while the view writes (observers wait for it)
        for rid in range(1, 51):
            view_sends(w, {"type": "request", "id": rid, "action": "bump", "params": {"n": 1}})
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.05)
    t.join(30)
    assert done.is_set(), "a view write deadlocked against the worker"
    assert w.wait(30)
    assert (w.level, w.checked) == (299 % 11, 299)
    assert w.count >= 1 and responses(w)[-1]["status"] == "ok"
    # the view's last word for every trait equals the kernel's
    for name in ("count", "level", "checked"):
        sent = updates_of(w, name)
        assert not sent or sent[-1] == getattr(w, name)


def bump(rid, n, view="a"):
    return {"type": "request", "id": rid, "view": view, "action": "bump", "params": {"n": n}}


def test_a_request_that_arrives_after_a_newer_one_of_its_view_is_superseded_and_never_runs():
    """ipykernel 7 handles a comm message that arrives while another is being handled concurrently with it, so
    a burst of a view's messages can reach the widget out of order (seen in the browser: the kernel's mask
    ended on an older click than the view's)."""
    w = Probe()
    with w._compute_lock:  # the worker is busy with 10: what arrives waits
        view_sends(w, bump(10, 1))
        time.sleep(0.05)
        view_sends(w, bump(12, 100))
        view_sends(w, bump(11, 10))  # late: its view sent 12 already
    assert w.wait(10)
    assert w.count == 100  # 10 gave way to 12 at its commit; 11 never ran
    assert {c["id"]: c["status"] for c in responses(w)} == {10: "superseded", 11: "superseded", 12: "ok"}


def test_requests_of_different_views_do_not_make_each_other_late():
    w = Probe()
    with w._compute_lock:
        view_sends(w, bump(10, 1, view="a"))
        time.sleep(0.05)
        view_sends(w, bump(12, 100, view="a"))
        view_sends(w, bump(11, 10, view="b"))  # another view's newest: it replaces 12 (newest of the action)
    assert w.wait(10)
    assert w.count == 10
    assert {c["id"]: c["status"] for c in responses(w)} == {10: "superseded", 12: "superseded", 11: "ok"}


def test_a_request_whose_view_is_not_a_token_is_an_error():
    w = Probe()
    view_sends(w, {**bump(1, 1), "view": 7})
    assert w.wait(10)
    assert "a request's view must be a string" in responses(w)[-1]["error"]["message"] and w.count == 0


def test_a_write_that_arrives_after_a_newer_one_of_its_view_keeps_each_traits_newest_value():
    w = Probe()
    w.set_state({"level": 7, "_nbx_write": ["a", 2]})
    w.set_state({"level": 3, "checked": 5, "_nbx_write": ["a", 1]})  # late for level; checked was not written since
    assert (w.level, w.checked, w.error) == (7, 5, {})
    w.set_state({"level": 2, "_nbx_write": ["b", 1]})  # another view's count is its own
    assert w.level == 2
    w.set_state({"level": 9})  # unstamped (Python code, old views): applied as it comes
    assert w.level == 9


@pytest.mark.parametrize("stamp", ["a1", ["a"], [1, 2], ["a", 1.5], ["a", True]])
def test_a_malformed_write_stamp_refuses_the_write_and_says_why(stamp):
    w = Probe()
    w.set_state({"level": 4, "_nbx_write": stamp})
    assert w.level == 0
    assert "write stamp _nbx_write must be [token, count]" in w.error["message"]
    assert updates_of(w, "level")[-1] == 0
