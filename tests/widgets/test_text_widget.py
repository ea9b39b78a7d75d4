"""TextExplorer from Python and through the request protocol (a recording comm, no browser): tokens and gaps as
text, masks as binary buffers, predictions equal to the model run on the shortened text built by hand, stale
requests, the error channel (a failing model shows in the widget, which keeps working), explanations equal to
the headless functions, the answer table, the static picture; and the counterfactual sliders' anchor menu."""

from __future__ import annotations

import re

import numpy as np
import pytest
from widgets_kit import view_sends

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.methods.coalitions.masks import all_coalitions
from nbexplain.widgets.codec import decode_array

TEXT = "The soup was <b>cold</b> & bland, but the bread was great 😀."
NAMES = ["<i>negative</i>", "positive"]


class Scorer:
    """A word-list model: positive words raise class 1; ``fail`` makes it raise; ``calls`` counts texts."""

    GOOD = {"great": 2.0, "good": 1.0, "bread": 0.3}
    BAD = {"cold": -1.5, "bland": -1.0, "soup": -0.2}

    def __init__(self):
        self.fail, self.calls = False, 0

    def __call__(self, texts):
        if self.fail:
            raise ValueError("the model is broken on purpose")
        assert isinstance(texts, list) and all(isinstance(t, str) for t in texts)
        self.calls += len(texts)
        z = np.array([sum({**self.GOOD, **self.BAD}.get(w, 0.0) for w in re.findall(r"\w+", t.lower())) for t in texts])
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)


@pytest.fixture
def scorer():
    return Scorer()


def predict_request(widget, rid: int, mask) -> None:
    mask = np.asarray(mask, dtype=np.uint8)
    view_sends(widget, {"type": "request", "id": rid, "action": "predict", "params": {"active": None},
                        "buffer_paths": [["params", "active"]]}, [memoryview(mask.tobytes())])


def responses(widget) -> dict:
    return {c["id"]: (c, b) for c, b in widget.comm.custom() if c.get("type") == "response"}


def by_hand(text: str, tokens, keep) -> str:
    """The text with the dropped tokens cut out, from the tokens' positions found by hand."""
    out, pos = [], 0
    for token, k in zip(tokens, keep, strict=True):
        start = text.index(token, pos)
        out.append(text[pos:start] + (token if k else ""))
        pos = start + len(token)
    return "".join(out) + text[pos:]


def test_initial_state_is_text_and_buffers(scorer):
    ex = nbx.TextExplorer(scorer, TEXT, class_names=NAMES)
    assert "".join(g + t for g, t in zip(ex.gaps, [*ex.tokens, ""], strict=True)) == TEXT
    assert ex.tokens[3] == "b" and ex.tokens[-1] == "😀"
    state = ex.get_state()
    assert set(state["active"]) == {"dtype", "shape", "buffer"} and state["active"]["dtype"] == "uint8"
    assert [c["name"] for c in ex.classes] == NAMES[::-1] or [c["name"] for c in ex.classes] == NAMES
    np.testing.assert_allclose(ex.bars, [scorer([TEXT])[0][c["index"]] for c in ex.classes], rtol=1e-6)
    assert ex.explainers == [["lime", "LIME"], ["shapley", "Shapley values"], ["anchor", "Anchor"]]
    assert ex._view_writes == frozenset()


def test_a_predict_request_removes_tokens_and_answers_the_models_prediction(scorer):
    ex = nbx.TextExplorer(scorer, TEXT, class_names=NAMES)
    keep = np.ones(len(ex.tokens), bool)
    keep[[4, 6]] = False  # "cold", "bland"
    predict_request(ex, 7, keep)
    assert ex.wait(30)
    content, buffers = responses(ex)[7]
    assert content["status"] == "ok"
    expected_text = by_hand(TEXT, ex.tokens, keep)
    assert ex.current_text == expected_text == content["data"]["text"]
    assert "cold" not in ex.current_text and "<b></b>" in ex.current_text
    np.testing.assert_array_equal(np.asarray(ex.active), keep)
    probs = scorer([expected_text])[0]
    np.testing.assert_allclose(ex.probabilities, probs)
    np.testing.assert_allclose(ex.bars, [probs[c["index"]] for c in ex.classes], rtol=1e-6)
    assert ex.committed_request == 7
    with pytest.raises(InputError, match=r"one boolean per token, shape \(13,\)"):
        ex.set_active(np.ones(3, bool))


def test_python_api_toggles_removes_and_masks(scorer):
    ex = nbx.TextExplorer(scorer, TEXT, class_names=NAMES, mask_token="[MASK]")
    ex.toggle(11)  # "great"
    assert "great" not in ex.current_text
    ex.remove(0, 3)
    assert ex.current_text.startswith("   <b>cold")
    ex.reset()
    assert ex.current_text == TEXT
    view_sends(ex, {"type": "request", "id": 3, "action": "perturbation", "params": {"perturbation": "mask"}})
    assert ex.wait(30) and ex.perturbation == "mask"
    ex.toggle(4)
    assert ex.current_text == TEXT.replace("cold", "[MASK]")
    with pytest.raises(InputError, match="i=99 is not a token"):
        ex.toggle(99)


def test_a_failing_model_shows_its_error_and_the_widget_keeps_working(scorer):
    ex = nbx.TextExplorer(scorer, TEXT, class_names=NAMES)
    scorer.fail = True
    predict_request(ex, 11, np.r_[0, np.ones(len(ex.tokens) - 1)])
    assert ex.wait(30)
    content, _ = responses(ex)[11]
    assert content["status"] == "error" and "broken on purpose" in ex.error["message"]
    assert np.asarray(ex.active).all()  # the kernel's state still describes its bars
    scorer.fail = False
    predict_request(ex, 12, np.r_[0, np.ones(len(ex.tokens) - 1)])
    assert ex.wait(30)
    assert responses(ex)[12][0]["status"] == "ok" and ex.error == {}
    assert not np.asarray(ex.active)[0]


def test_malformed_and_refused_requests_are_answered(scorer):
    ex = nbx.TextExplorer(scorer, TEXT, class_names=NAMES)
    view_sends(ex, {"type": "request", "id": 5, "action": "explain", "params": {}})
    assert ex.wait(30)
    view_sends(ex, {"type": "request", "id": 6, "action": "explain", "params": {"method": "integrated_gradients"}})
    assert ex.wait(30)
    assert "no field 'method'" in responses(ex)[5][0]["error"]["message"]
    assert "method='integrated_gradients' is not valid" in responses(ex)[6][0]["error"]["message"]
    ex.set_state({"text": "changed"})
    assert ex.text == TEXT and "may not change 'text'" in ex.error["message"]


def test_explanations_are_the_headless_functions_and_share_the_game(scorer):
    ex = nbx.TextExplorer(scorer, TEXT, class_names=NAMES, explain_options={"lime": {"n_samples": 400}})
    sv = ex.explain("shapley")
    headless = nbx.shapley_text(scorer, TEXT, class_names=NAMES, target=ex.target)
    np.testing.assert_allclose(sv.values, headless.values, atol=1e-12)
    np.testing.assert_allclose(decode_array(ex.get_state()["overlay_values"]), sv.values.astype(np.float32))
    assert ex.overlay == "shapley" and ex.overlay_info["quality"] == sv.quality()
    calls = scorer.calls
    lime = ex.explain("lime")
    assert scorer.calls == calls and lime.n_evaluations == 0  # every coalition was cached by Shapley's table
    anchor = ex.explain("anchor")
    assert ex.overlay == "anchor" and ex.anchor == sorted(anchor.anchor)
    assert set(ex.examples) == {"kept", "flipped"}
    view_sends(ex, {"type": "request", "id": 9, "action": "target", "params": {"target": 0}})
    assert ex.wait(30) and ex.target == 0 and ex.overlay == ""


def test_the_answer_table_holds_every_shortened_text(scorer):
    ex = nbx.TextExplorer(scorer, "cold soup, great bread", class_names=NAMES, precompute=True)
    table = ex.answer_tables
    assert table["bars"].shape == (16, 2)
    for row, keep in enumerate(all_coalitions(4)):
        probs = scorer([by_hand(ex.text, ex.tokens, keep)])[0]
        np.testing.assert_allclose(table["bars"][row], [probs[c["index"]] for c in ex.classes], rtol=1e-6)
    with pytest.raises(InputError, match="at most 12 tokens"):
        nbx.TextExplorer(scorer, TEXT, precompute=True)


def test_results_open_in_the_explorer_and_draw_a_picture(scorer):
    sv = nbx.shapley_text(scorer, TEXT, class_names=NAMES)
    static = sv.widget()
    assert isinstance(static, nbx.TextExplorer) and not static.interactive and static.overlay == "shapley"
    live = sv.widget(model=scorer)
    assert live.interactive and live.overlay == "shapley" and live.tokens == static.tokens
    png = live._static_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = live._repr_mimebundle_()
    assert "image/png" in (bundle[0] if isinstance(bundle, tuple) else bundle)


def test_integrated_gradients_button_only_for_torch_models():
    net = nbx.datasets.review_network()
    ex = nbx.TextExplorer(net, "The staff were rude.")
    assert ["integrated_gradients", "IG"] in ex.explainers
    ig = ex.explain("integrated_gradients")
    assert ex.overlay == "gradient" and len(ex.overlay_values) == len(ex.tokens)
    np.testing.assert_allclose(ig.values, nbx.attribute_text(net, "The staff were rude.", target=ex.target).values)


def test_counterfactual_sliders_show_an_anchor_in_their_explanation_menu():
    from sklearn.ensemble import GradientBoostingClassifier

    data = nbx.datasets.credit()
    clf = GradientBoostingClassifier(random_state=0).fit(data.X, data.y)
    cf = nbx.CounterfactualSliders(clf, data.X, data.X[15], feature_names=data.feature_names,
                                   class_names=data.class_names, categorical=data.categories, explainer="anchor")
    info = cf.explanation
    assert info["method"] == "anchor" and info["rule"] == cf.explanation_result.rule
    assert set(info["terms"]) == {str(j) for j in cf.explanation_result.features}
    assert cf.explanation_values.sum() == len(cf.explanation_result.features)
    anchor = nbx.anchor_tabular(clf, data.X[15], data.X, categorical=data.categories, feature_names=data.feature_names,
                                class_names=data.class_names)
    sliders = anchor.widget()
    assert sliders.explainer == "anchor" and sliders.explanation["rule"]
    with pytest.raises(InputError, match="'shapley', 'lime' or 'anchor'"):
        nbx.CounterfactualSliders(clf, data.X, data.X[15], explainer_options={"tree": {}})
