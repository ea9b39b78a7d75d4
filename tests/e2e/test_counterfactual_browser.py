"""CounterfactualSliders in a real JupyterLab in Chromium: dragging a slider re-predicts and moves ``cf.value`` in
the kernel, "Find counterfactual" moves the sliders to a valid counterfactual, immutable sliders cannot be
moved, and a feature named like HTML shows as text.

Each test writes a notebook (a seeded logistic regression on seeded credit-like data), runs it with Run All,
drives the view like a user (mouse drags, clicks, keys) and checks both what the page shows and what the
kernel holds (a new cell that prints it).
"""

from __future__ import annotations

import json

import pytest

XSS = "<img src=x onerror=alert(1)>"

SETUP = f'''\
import numpy as np
import nbexplain as nbx
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(0)
n = 400
income = rng.uniform(10, 120, n)
age = rng.integers(20, 70, n).astype(float)
children = rng.integers(0, 4, n).astype(float)
other = rng.normal(size=n)
debt = rng.uniform(0, 50, n)
X = np.column_stack([income, age, children, other, debt])
y = (0.05 * income - 0.04 * debt - 0.3 * children + 0.2 * other - 1.5 + rng.normal(scale=0.5, size=n) > 0).astype(int)
clf = LogisticRegression(max_iter=2000).fit(X, y)
x = X[np.flatnonzero(clf.predict_proba(X)[:, 1] < 0.3)[0]]
NAMES = ["income", "age", "children", {XSS!r}, "debt"]'''
SHOW = ('cf = nbx.CounterfactualSliders(clf, X, x, feature_names=NAMES, class_names=["denied", "approved"],\n'
        '                               immutable=["age"], integer=["children"])\ncf')
CELLS = [SETUP, SHOW]
# a model that fails for some points: predicting a point whose income is above gate["income"] raises
GATED = SETUP + '''
gate = {"income": None}


def gated(X):
    X = np.asarray(X, dtype=float)
    if gate["income"] is not None and (X[:, 0] > gate["income"]).any():
        raise RuntimeError("income above the gate (nbx-e2e)")
    return clf.predict_proba(X)'''
GATED_SHOW = ('cf = nbx.CounterfactualSliders(gated, X, x, feature_names=NAMES, class_names=["denied", "approved"],\n'
              '                               immutable=["age"], integer=["children"], explainer="none")\ncf')


def widget_of(page):
    w = page.locator(".nbx-cf").first
    w.wait_for(timeout=60_000)
    return w


def settled(widget, state: str | None = None, timeout: float = 60) -> None:
    """Wait until the view has no request in flight (and its data-state is ``state`` when given)."""
    widget.page.wait_for_function(
        """([root, state]) => root.dataset.busy === 'false' && (state === null || root.dataset.state === state)
                              && !root.querySelector('.nbx-cf-heading.nbx-updating')""",
        arg=[widget.element_handle(), state], timeout=timeout * 1000)


def slider(widget, j: int):
    return widget.locator(f".nbx-cf-row[data-feature='{j}'] input[type=range]")


def page_point(widget) -> list[float]:
    return widget.evaluate("(root) => [...root.querySelectorAll('.nbx-cf-row[data-feature]')].map(r => Number(r.dataset.value))")


def probability(widget) -> float:
    return float(widget.locator(".nbx-cf-prediction").get_attribute("data-probability"))


def kernel_point(nb) -> list[float]:
    return json.loads(nb.kernel_value("(cf.wait(60), __import__('json').dumps(cf.value.tolist()))[1]"))


def drag(page, locator, to_fraction: float, steps: int = 12) -> None:
    """Press on the slider's thumb and drag it to ``to_fraction`` of the track with the mouse."""
    box = locator.bounding_box()
    value = float(locator.input_value())
    low, high = float(locator.get_attribute("min")), float(locator.get_attribute("max"))
    inset = 8  # about half the thumb: where the track's ends are
    def x_at(t):
        return box["x"] + inset + t * (box["width"] - 2 * inset)

    y = box["y"] + box["height"] / 2
    page.mouse.move(x_at((value - low) / (high - low)), y)
    page.mouse.down()
    start = (value - low) / (high - low)
    for k in range(1, steps + 1):
        page.mouse.move(x_at(start + (to_fraction - start) * k / steps), y)
        page.wait_for_timeout(30)
    page.mouse.up()


def open_widget(open_notebook, page, cells=CELLS):
    nb = open_notebook(cells)
    nb.run_all()
    nb.wait_all_run()
    widget = widget_of(page)
    settled(widget)
    return nb, widget


def page_errors(page) -> list[str]:
    return [m for m in page.console_messages if m.startswith("pageerror")]


def test_dragging_a_slider_repredicts_and_moves_the_kernel_value(open_notebook, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    nb, widget = open_widget(open_notebook, page)
    before = probability(widget)
    original = page_point(widget)
    assert before < 0.3 and widget.locator(".nbx-cf-prediction").get_attribute("data-predicted") == "denied"

    income = slider(widget, 0)
    drag(page, income, 0.97)
    settled(widget)
    after = probability(widget)
    shown = page_point(widget)
    assert shown[0] > original[0] + 30, f"the drag did not move the income slider: {original[0]} -> {shown[0]}"
    assert after > before + 0.2, f"the prediction shown did not follow the drag: {before} -> {after}"
    assert widget.locator(".nbx-cf-row[data-feature='0']").get_attribute("class").count("nbx-changed") == 1

    # the kernel holds the point and the prediction the page shows
    assert kernel_point(nb) == pytest.approx(shown, rel=1e-12)
    assert float(nb.kernel_value("float(cf.prediction[1])")) == pytest.approx(after, rel=1e-9)
    assert float(nb.kernel_value("float(clf.predict_proba(cf.value[None])[0, 1])")) == pytest.approx(after, rel=1e-9)

    # keys move a slider too (integer feature: one child per key press)
    children = slider(widget, 2)
    start = float(children.input_value())
    children.press("ArrowRight" if start < float(children.get_attribute("max")) else "ArrowLeft")
    settled(widget)
    moved = page_point(widget)[2]
    assert abs(moved - start) == 1
    assert kernel_point(nb)[2] == moved

    # a feature named like HTML is text
    label = widget.locator(".nbx-cf-row[data-feature='3'] .nbx-cf-name-text")
    assert label.inner_text() == XSS
    assert widget.locator("img").count() == 0 and page.locator("img[src='x']").count() == 0
    assert slider(widget, 3).get_attribute("aria-label") == XSS
    assert dialogs == [], f"a dialog fired: {dialogs}"
    assert page_errors(page) == [], "\n".join(page_errors(page))


def test_find_counterfactual_moves_the_sliders_to_a_valid_counterfactual(open_notebook, page):
    nb, widget = open_widget(open_notebook, page)
    original = page_point(widget)
    widget.locator("button.nbx-cf-find").click()
    settled(widget, "found", timeout=90)
    shown = page_point(widget)
    assert shown != original
    assert kernel_point(nb) == pytest.approx(shown, rel=1e-12)
    p = float(nb.kernel_value("float(clf.predict_proba(cf.value[None])[0, 1])"))
    assert p >= 0.55, f"the kernel's point is not a valid counterfactual: P(approved) = {p}"
    assert probability(widget) == pytest.approx(p, rel=1e-9)
    assert widget.locator(".nbx-cf-prediction").get_attribute("data-predicted") == "approved"
    assert shown[1] == original[1]  # age is immutable
    assert float(shown[2]).is_integer()
    changed = widget.locator(".nbx-cf-row.nbx-changed").count()
    assert changed >= 1 and "valid" in widget.locator(".nbx-cf-info").inner_text()
    assert "target reached" in widget.locator(".nbx-live").inner_text()
    # the thumbs really moved: each slider sits on its step grid next to the counterfactual's value
    for j in range(5):
        s = slider(widget, j)
        step = 0.0 if s.get_attribute("step") == "any" else float(s.get_attribute("step"))
        assert abs(float(s.input_value()) - shown[j]) <= step / 2 + 1e-9, j

    # step to the next counterfactual and back to the original
    n_found = int(nb.kernel_value("len(cf.counterfactual_info)"))
    if n_found > 1:
        widget.locator("button.nbx-cf-next").click()
        settled(widget)
        assert nb.kernel_value("(cf.wait(60), cf.selected)[1]") == "1"
        assert kernel_point(nb) == pytest.approx(page_point(widget), rel=1e-12)
    widget.locator("button.nbx-cf-reset").click()
    settled(widget)
    assert page_point(widget) == original
    assert kernel_point(nb) == pytest.approx(original, rel=1e-12)
    assert page_errors(page) == [], "\n".join(page_errors(page))


def test_immutable_sliders_cannot_be_moved(open_notebook, page):
    nb, widget = open_widget(open_notebook, page)
    age = slider(widget, 1)
    row = widget.locator(".nbx-cf-row[data-feature='1']")
    assert age.is_disabled()
    assert row.locator(".nbx-cf-lock").count() == 1 and "immutable" in row.inner_text()
    original = page_point(widget)

    drag(page, age, 0.05)  # the mouse, on a disabled slider
    page.mouse.click(*(lambda b: (b["x"] + b["width"] * 0.9, b["y"] + b["height"] / 2))(age.bounding_box()))
    page.keyboard.press("ArrowRight")
    # even a value forced into the element by script is put back
    age.evaluate("(el) => { el.value = el.max; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.wait_for_timeout(300)
    settled(widget)
    assert page_point(widget)[1] == original[1]
    assert float(age.input_value()) == original[1]
    assert kernel_point(nb)[1] == original[1]
    # and a search never moves it
    widget.locator("button.nbx-cf-find").click()
    settled(widget, "found", timeout=90)
    assert page_point(widget)[1] == original[1] and kernel_point(nb)[1] == original[1]


def test_a_failed_prediction_puts_the_slider_back_and_shows_the_error(open_notebook, page):
    nb, widget = open_widget(open_notebook, page, [GATED, GATED_SHOW])
    banner = widget.locator(".nbx-error")
    assert banner.is_hidden()
    original, before = page_point(widget), probability(widget)
    nb.run_cell('gate["income"] = 100.0  # from now on the model fails above an income of 100')

    income = slider(widget, 0)
    income.press("End")  # the top of the range: about 120, where the model raises
    banner.wait_for(state="visible", timeout=60_000)
    assert "income above the gate (nbx-e2e)" in banner.inner_text()
    settled(widget)
    # the view is back where the kernel is: the slider, the row, the prediction
    assert kernel_point(nb) == pytest.approx(original, rel=1e-12)
    assert page_point(widget) == pytest.approx(original, rel=1e-12)
    assert abs(float(income.input_value()) - original[0]) <= float(income.get_attribute("step")) / 2  # its step grid
    assert "nbx-changed" not in widget.locator(".nbx-cf-row[data-feature='0']").get_attribute("class")
    assert probability(widget) == pytest.approx(before, rel=1e-12)
    assert "failed" in widget.locator(".nbx-live").inner_text()
    assert "income above the gate" in nb.kernel_value("cf.error.get('message')")

    # and the widget keeps working: a point the model can predict
    income.press("Home")
    settled(widget, "predicted")
    banner.wait_for(state="hidden", timeout=30_000)
    shown = page_point(widget)
    assert shown[0] < original[0]
    assert kernel_point(nb) == pytest.approx(shown, rel=1e-12)
    assert float(nb.kernel_value("float(cf.prediction[1])")) == pytest.approx(probability(widget), rel=1e-9)
    assert page_errors(page) == [], "\n".join(page_errors(page))


@pytest.mark.slow
def test_counterfactual_notebook_runs_and_its_widget_finds(open_notebook, page, jupyter_server, screenshot_dir):
    from pathlib import Path

    source = Path(__file__).resolve().parents[2] / "notebooks" / "03_counterfactuals.ipynb"
    nb = open_notebook(jupyter_server.copy_notebook(source))
    nb.run_all()
    nb.wait_all_run(timeout=300)
    assert nb.output_errors() == []
    widget = widget_of(page)
    settled(widget)
    assert widget.locator(".nbx-cf-row[data-feature]").count() == 10
    assert widget.locator(".nbx-cf-lock").count() == 3  # Age, Gender, Ethnicity
    widget.locator("button.nbx-cf-find").click()
    settled(widget, "found", timeout=120)
    assert widget.locator(".nbx-cf-prediction").get_attribute("data-predicted") == "low balance"
    assert float(nb.kernel_value("(cf.wait(60), float(model.predict_proba(cf.value[None])[0, 0]))[1]")) >= 0.55
    assert page_errors(page) == [], "\n".join(page_errors(page))
    if screenshot_dir is not None:
        widget.scroll_into_view_if_needed()
        widget.screenshot(path=str(screenshot_dir / "counterfactual.png"))
