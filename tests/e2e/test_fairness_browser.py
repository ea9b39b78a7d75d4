"""FairnessAudit in JupyterLab + Chromium: dragging a group's threshold changes that group's selection rate in
the page to what the kernel computes for that threshold, with no message to the kernel during the drag; group
names containing HTML show as text. And the model card's HTML: one file, shown with the network blocked."""

from __future__ import annotations

import json

import numpy as np
import pytest

EVIL = '<img src=x onerror="window.nbxOwned=1">'

CELLS = [
    "import json, time, numpy as np, nbexplain as nbx\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "data = nbx.datasets.hiring(1200, seed=4)\n"
    f"evil = {EVIL!r}\n"
    "gender = np.where(data.sensitive['Gender'][600:] == 'Female', evil, 'Male')\n"
    "clf = LogisticRegression(max_iter=2000).fit(data.X[:600], data.y[:600])\n"
    "a = nbx.audit(clf, data.X[600:], data.y[600:], sensitive={'Gender': gender}, feature_names=data.feature_names,\n"
    "              class_names=data.class_names, n_bootstrap=100)",
    "w = a.widget()\n"
    "heard = []\n"
    "w.on_msg(lambda _w, content, buffers: heard.append((time.time() * 1000, content.get('action'))))\n"
    "w.observe(lambda change: heard.append((time.time() * 1000, 'set ' + change['name'])), names=['metric'])\n"
    "w",
]


def cell(page, group: int, metric: str):
    return page.locator(f".nbx-fairness tr[data-group='{group}'] td[data-metric='{metric}']")


def test_dragging_a_threshold_updates_the_page_without_the_kernel(open_notebook, page, screenshot_dir):
    nb = open_notebook(CELLS)
    nb.run_all()
    nb.wait_all_run()
    rows = page.locator(".nbx-fairness table.nbx-fa-table tr[data-group]")
    nb.wait_until(lambda: rows.count() == 2, 30, 0.1, "the two groups in the table")

    # a group name containing HTML is text: shown literally, never run
    assert page.locator(".nbx-fairness th.nbx-fa-name").first.inner_text().startswith(EVIL)
    assert page.get_by_text(EVIL).count() >= 2  # the table and the bars
    assert page.evaluate("() => window.nbxOwned") is None

    before = float(cell(page, 0, "selection_rate").get_attribute("data-value"))
    kernel_before = float(nb.kernel_value("a.groups().values[0, 1]"))
    assert before == pytest.approx(kernel_before, abs=1e-12)

    slider = page.locator(".nbx-fairness input.nbx-fa-slider[data-index='0']")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    start = page.evaluate("() => Date.now()")
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    seen = []
    for fraction in (0.45, 0.38, 0.31, 0.27):
        page.mouse.move(box["x"] + box["width"] * fraction, y, steps=3)
        seen.append(page.evaluate("""() => {
            const row = document.querySelector(".nbx-fairness tr[data-group='0']");
            return {t: Number(row.querySelector("input.nbx-fa-slider").value),
                    shown: Number(row.querySelector("td[data-metric='selection_rate']").dataset.value),
                    text: row.querySelector("td[data-metric='selection_rate']").textContent,
                    other: Number(document.querySelector(".nbx-fairness tr[data-group='1'] td[data-metric='selection_rate']").dataset.value)};
        }"""))
    end = page.evaluate("() => Date.now()")
    page.mouse.up()

    assert len({s["t"] for s in seen}) >= 3 and seen[-1]["t"] < 0.45  # the thumb moved
    assert seen[-1]["shown"] > before  # a lower threshold selects more
    # during the drag the kernel heard nothing
    nb.wait_until(lambda: "thresholds" in nb.kernel_value("[h[1] for h in heard]"), 30, 0.5, "the release's request")
    heard = json.loads(nb.kernel_value("json.dumps(heard)"))
    assert [h for h in heard if start <= h[0] <= end] == [], heard
    assert [h[1] for h in heard] == ["thresholds"]  # one request, on letting go
    # what the page showed is what the kernel computes for those thresholds
    for s in seen:
        expected = json.loads(nb.kernel_value(
            f"json.dumps(a.rates_at({{evil: {s['t']!r}}}, 'Gender')['selection_rate'].tolist())"))
        assert s["shown"] == pytest.approx(expected[0], abs=1e-12)
        assert s["other"] == pytest.approx(expected[1], abs=1e-12)  # the other group kept its threshold
        assert s["text"] == f"{expected[0]:.3f}"
    # after the release the kernel recounts the audit at the slider's threshold, with intervals
    final = seen[-1]["t"]
    nb.wait_until(lambda: json.loads(nb.kernel_value("json.dumps(w.thresholds.tolist())"))[0] == final, 30, 0.3,
                  "the kernel's thresholds")
    assert float(nb.kernel_value("w.audit.thresholds[evil]")) == final
    nb.wait_until(lambda: "[" in page.locator(".nbx-fairness .nbx-fa-bar-value").first.inner_text(), 30, 0.2,
                  "the intervals back on the bars")
    kernel_after = float(nb.kernel_value("w.values[0, 1]"))
    assert float(cell(page, 0, "selection_rate").get_attribute("data-value")) == pytest.approx(kernel_after, abs=1e-12)
    assert kernel_after == pytest.approx(seen[-1]["shown"], abs=1e-12)
    disparity = page.locator(".nbx-fairness li[data-measure='disparate_impact']")
    assert float(disparity.get_attribute("data-value")) == pytest.approx(
        float(nb.kernel_value("w.audit.disparity('disparate_impact').value")), abs=1e-12)

    # the equal-opportunity button asks the kernel for thresholds that equalise the TPRs
    page.locator(".nbx-fairness button.nbx-fa-fair[data-criterion='equal_opportunity']").click()
    nb.wait_until(lambda: float(nb.kernel_value("w.audit.disparity('equal_opportunity_difference').value")) <= 0.02,
                  30, 0.3, "equal opportunity")
    nb.wait_until(lambda: abs(float(cell(page, 0, "tpr").get_attribute("data-value"))
                              - float(cell(page, 1, "tpr").get_attribute("data-value"))) <= 0.02, 30, 0.2,
                  "equal TPRs in the page")
    if screenshot_dir:
        page.locator(".nbx-fairness").screenshot(path=str(screenshot_dir / "fairness-audit.png"))
    assert not [m for m in page.console_messages if m.startswith(("pageerror", "error")) and "nbx" in m.lower()]


def test_the_model_card_html_needs_no_network(page, tmp_path):
    from sklearn.linear_model import LogisticRegression

    import nbexplain as nbx

    data = nbx.datasets.hiring(800, seed=5)
    gender = np.where(data.sensitive["Gender"][400:] == "Female", EVIL, "Male")
    clf = LogisticRegression(max_iter=2000).fit(data.X[:400], data.y[:400])
    a = nbx.audit(clf, data.X[400:], data.y[400:], sensitive={"Gender": gender}, feature_names=data.feature_names,
                  n_bootstrap=50)
    card = nbx.model_card(clf, audit=a, intended_use="Shortlisting support " + EVIL)
    path = card.save(tmp_path / "card.html")

    requests = []

    def block(route):  # the network is blocked: only the file itself and data: URIs may load
        requests.append(route.request.url)
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            route.abort()

    page.context.route("**/*", block)
    page.context.set_offline(True)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert requests and [u for u in requests if not u.startswith(("file://", "data:"))] == []
    sections = page.locator("h2").all_inner_texts()
    assert sections == [*nbx.explain.documents.CARD_SECTIONS, "Harm assessment"]
    images = page.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth])")
    assert len(images) >= 2 and all(done and width > 0 for done, width in images)  # the figures, drawn offline
    assert page.get_by_text(EVIL).count() >= 2 and page.evaluate("() => window.nbxOwned") is None
    assert page.locator(".nbx-blank").count() == len(card.blanks)
