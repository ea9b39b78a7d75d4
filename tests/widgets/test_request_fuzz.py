"""A hostile front end: every request handler of every widget answers malformed params with an error that
names the field and what it expected, never a raw Python message, and the widget keeps working (#12)."""

from __future__ import annotations

import numpy as np
from widgets_kit import view_sends

import nbexplain as nbx

GARBAGE = [None, "zzz", [1, 2], {"a": 1}, 1e9, -1, True, 2.5]
RAW = ("object has no attribute", "KeyError", "cannot reshape", "could not convert", "unhashable",
       "not subscriptable", "invalid literal", "argument must be", "object is not iterable", "'NoneType'")
NAMED_ERRORS = {"InputError", "UnknownArgumentError", "ModelError", "NotDifferentiableError"}


def widgets(tiny_cnn, image):
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(80, 3))
    clf = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    return {
        "heatmap": nbx.Heatmap(tiny_cnn, image, method="gradient"),
        "compare": nbx.compare(tiny_cnn, image, methods=["gradient", "occlusion"]),
        "superpixels": nbx.SuperpixelExplorer(tiny_cnn, image, segmentation="grid", n_segments=4),
        "sliders": nbx.CounterfactualSliders(clf, X, X[0], explainer="none"),
        "effects": nbx.FeatureEffects(clf, X, max_rows=40, grid_resolution=5),
    }


def cases(widget):
    for action in sorted(widget._handlers):
        yield action, {}
        yield action, {"unknown_field": 1}
        for field in ("method", "target", "active", "value", "selected", "n", "sparse", "explainer", "feature",
                      "pair", "kind", "param", "fill", "max_depth", "n_terms", "anchor"):
            for bad in GARBAGE:
                yield action, {field: bad}


def ask(widget, rid, action, params):
    view_sends(widget, {"type": "request", "id": rid, "action": action, "params": params})
    assert widget.wait(60), (action, params)
    return [c for c, _ in widget.comm.custom() if c.get("type") == "response" and c.get("id") == rid][-1]


def test_no_raw_python_message_reaches_the_banner(tiny_cnn, image):
    for name, w in widgets(tiny_cnn, image).items():
        rid, answered_before = 0, {}
        for action, params in cases(w):
            if action in ("neighbours",):
                continue
            rid += 1
            answer = ask(w, rid, action, params)
            if params == {}:
                answered_before[action] = answer["status"]
            if answer["status"] == "error":
                err = answer["error"]
                assert err["type"] in NAMED_ERRORS, (name, action, params, err["type"], err["message"])
                assert not any(r in err["message"] for r in RAW), (name, action, params, err["message"])
        # and it still works: every request that was answered before the garbage is answered the same way now
        assert "ok" in answered_before.values(), (name, answered_before)
        for action, status in answered_before.items():
            rid += 1
            assert ask(w, rid, action, {})["status"] == status, (name, action)
