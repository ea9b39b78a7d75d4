"""TextExplorer in a real JupyterLab in Chromium: clicking a token removes it in the kernel's state and the bars
show the kernel's prediction for the shortened text; a text with ``<img src=x onerror=...>`` and ``<b>bold</b>``
is shown literally and the handler never runs; dragging across three tokens masks exactly those three;
keys move between tokens and toggle; an explanation colours the tokens."""

from __future__ import annotations

import json

XSS_TEXT = "Great view <img src=x onerror=window.__xss=1> but <b>bold</b> rude staff, cold soup."

SETUP = '''\
import json, re
import numpy as np
import nbexplain as nbx

WEIGHTS = {"great": 2.0, "view": 0.4, "rude": -1.8, "cold": -1.2, "soup": -0.2, "bold": 0.3, "staff": -0.1}


def model(texts):
    z = np.array([sum(WEIGHTS.get(w, 0.0) for w in re.findall(r"\\w+", t.lower())) for t in texts])
    p = 1 / (1 + np.exp(-z))
    return np.stack([1 - p, p], axis=1)
'''
SHOW = ('ex = nbx.TextExplorer(model, ' + repr(XSS_TEXT) + ', class_names=["<img src=y onerror=window.__xss=2>", '
        '"positive"], explain_options={"lime": {"n_samples": 300}})\nex')

JS_MASK = """(root) => [...root.querySelectorAll('.nbx-tx-tok')]
    .map((t) => (t.getAttribute('aria-pressed') === 'true' ? '1' : '0')).join('')"""
JS_SETTLED = """(root) => {
    const mask = [...root.querySelectorAll('.nbx-tx-tok')]
        .map((t) => (t.getAttribute('aria-pressed') === 'true' ? '1' : '0')).join('');
    return root.dataset.barsFor === mask && root.querySelector('.nbx-tx-bars').getAttribute('aria-busy') === 'false';
}"""
KERNEL_MASK = "(ex.wait(60), ''.join('01'[int(a)] for a in ex.active))[1]"
KERNEL_BARS = ("(ex.wait(60), json.dumps([float(model([ex.current_text])[0][c['index']]) for c in ex.classes]))[1]")


def open_explorer(open_notebook, page):
    nb = open_notebook([SETUP, SHOW])
    nb.run_all()
    nb.wait_all_run()
    widget = page.locator(".nbx-text").first
    widget.locator(".nbx-tx-tok").first.wait_for()
    settle(widget)
    return nb, widget


def settle(widget, timeout: float = 60) -> str:
    widget.page.wait_for_function(JS_SETTLED, arg=widget.element_handle(), timeout=timeout * 1000)
    return widget.evaluate(JS_MASK)


def shown_bars(widget) -> list[float]:
    return widget.evaluate("(root) => [...root.querySelectorAll('.nbx-tx-bar')].map((r) => Number(r.dataset.probability))")


def token(widget, i: int):
    return widget.locator(f".nbx-tx-tok[data-index='{i}']")


def test_clicking_a_token_removes_it_in_the_kernel_and_the_bars_show_its_prediction(open_notebook, page):
    nb, widget = open_explorer(open_notebook, page)
    n = widget.locator(".nbx-tx-tok").count()
    words = widget.locator(".nbx-tx-tok").all_inner_texts()
    assert settle(widget) == "1" * n
    first = shown_bars(widget)
    rude = words.index("rude")
    token(widget, rude).click()
    mask = settle(widget)
    assert mask == "".join("0" if i == rude else "1" for i in range(n))
    assert nb.kernel_value(KERNEL_MASK) == mask
    assert "rude" not in nb.kernel_value("ex.current_text")
    shown = shown_bars(widget)
    assert shown != first
    for value, expected in zip(shown, json.loads(nb.kernel_value(KERNEL_BARS)), strict=True):
        assert abs(value - expected) < 1e-6
    # keys: focus a token, arrows move, space toggles; the token's accessible name says what it is
    great = words.index("Great")
    token(widget, great).focus()
    page.keyboard.press("Space")
    mask = settle(widget)
    assert mask[great] == "0" and token(widget, great).get_attribute("aria-pressed") == "false"
    assert "removed" in token(widget, great).get_attribute("aria-label")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.index") == str(great + 1)
    page.keyboard.press("Enter")
    mask = settle(widget)
    assert mask[great + 1] == "0" and nb.kernel_value(KERNEL_MASK) == mask
    # an explanation colours the tokens and says its quality
    widget.locator("button.nbx-explain-lime").click()
    widget.locator(".nbx-tx-info:not([hidden])").wait_for()
    assert "fidelity" in widget.locator(".nbx-tx-quality").inner_text()
    colours = widget.evaluate("(root) => [...root.querySelectorAll('.nbx-tx-tok')].map((t) => t.style.backgroundColor)")
    assert sum(bool(c) for c in colours) == n
    assert "LIME" in token(widget, rude).get_attribute("aria-label")
    assert not [m for m in page.console_messages if m.startswith("pageerror")]


def test_html_in_the_text_and_the_class_names_is_shown_literally_and_never_runs(open_notebook, page):
    nb, widget = open_explorer(open_notebook, page)
    page.wait_for_timeout(500)  # an onerror handler would have fired by now
    assert page.evaluate("window.__xss === undefined")
    box = widget.locator(".nbx-tx-text")
    assert box.evaluate("(el) => el.textContent") == XSS_TEXT
    assert box.locator("img, b").count() == 0 and widget.locator("img").count() == 0
    assert widget.locator(".nbx-tx-bars").get_by_text("<img src=y onerror=window.__xss=2>").count() == 1
    words = widget.locator(".nbx-tx-tok").all_inner_texts()
    assert "img" in words and "onerror" in words and "bold" in words
    token(widget, words.index("bold")).click()
    settle(widget)
    assert nb.kernel_value("ex.current_text") == XSS_TEXT.replace("<b>bold</b>", "<b></b>")
    assert page.evaluate("window.__xss === undefined")


def test_dragging_across_three_tokens_masks_exactly_those_three(open_notebook, page):
    nb, widget = open_explorer(open_notebook, page)
    n = widget.locator(".nbx-tx-tok").count()
    words = widget.locator(".nbx-tx-tok").all_inner_texts()
    start = words.index("rude")  # "rude staff, cold": three tokens in a row
    boxes = [token(widget, i).bounding_box() for i in range(start, start + 3)]
    page.mouse.move(boxes[0]["x"] + 3, boxes[0]["y"] + boxes[0]["height"] / 2)
    page.mouse.down()
    for b in boxes[1:]:
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=4)
    page.mouse.up()
    mask = settle(widget)
    assert mask == "".join("0" if start <= i < start + 3 else "1" for i in range(n))
    assert nb.kernel_value(KERNEL_MASK) == mask
    assert nb.kernel_value("ex.current_text") == XSS_TEXT.replace("rude staff, cold", " , ")
    for value, expected in zip(shown_bars(widget), json.loads(nb.kernel_value(KERNEL_BARS)), strict=True):
        assert abs(value - expected) < 1e-6


def test_the_counterfactual_sliders_show_an_anchor_rule(open_notebook, page):
    setup = '''\
import nbexplain as nbx
from sklearn.ensemble import GradientBoostingClassifier
credit = nbx.datasets.credit()
model = GradientBoostingClassifier(random_state=0).fit(credit.X, credit.y)
cf = nbx.CounterfactualSliders(model, credit.X, credit.X[15], feature_names=credit.feature_names,
                               class_names=credit.class_names, categorical=credit.categories, explainer="anchor")
cf'''
    nb = open_notebook([setup])
    nb.run_all()
    nb.wait_all_run()
    widget = page.locator(".nbx-cf").first
    widget.locator(".nbx-cf-explain-heading").get_by_text("anchor: keeps low balance").wait_for()
    rule = nb.kernel_value("cf.explanation_result.rule")
    assert f"IF {rule}" in widget.locator(".nbx-cf-explain-info").inner_text()
    terms = widget.locator(".nbx-cf-in-anchor .nbx-cf-contrib-text").all_inner_texts()
    assert terms and " AND ".join(sorted(terms)) == " AND ".join(sorted(rule.split(" AND ")))
    assert widget.locator(".nbx-cf-explainer").input_value() == "anchor"
