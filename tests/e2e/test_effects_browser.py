"""FeatureEffects in JupyterLab + Chromium: switching kinds redraws (and agrees with the kernel), hovering an
ICE line shows that row, picking a feature and a pair asks the kernel and shows the 2-D view."""

from __future__ import annotations

import json

CELLS = [
    "import json, numpy as np, nbexplain as nbx\n"
    "from sklearn.ensemble import GradientBoostingRegressor\n"
    "rng = np.random.default_rng(0)\n"
    "X = np.column_stack([rng.normal(15, 8, 400), rng.uniform(20, 100, 400), rng.gamma(2, 5, 400), rng.integers(1, 5, 400)])\n"
    "y = 10 * X[:, 0] - 0.05 * (X[:, 1] - 60) ** 2 - X[:, 2] * (X[:, 0] > 15) + 20 * (X[:, 3] == 3) + rng.normal(0, 5, 400)\n"
    "names = ['temp', 'hum', 'wind', '<img src=x onerror=\"window.nbxOwned=1\">']\n"
    "model = GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0).fit(X, y)",
    "fe = nbx.FeatureEffects(model, X, feature_names=names, max_rows=80, n_repeats=2)\n"
    "hovered = []\nfe.observe(lambda change: hovered.append(change['new']), 'highlighted')\nfe",
]


def summary(plot) -> dict:
    return json.loads(plot.get_attribute("data-summary") or "{}")


def wait_summary(nb, plot, predicate, message):
    return nb.wait_until(lambda: (lambda s: s if predicate(s) else None)(summary(plot)), 30, 0.1, message)


def test_feature_effects_in_the_browser(open_notebook, page, screenshot_dir):
    nb = open_notebook(CELLS)
    nb.run_all()
    nb.wait_all_run()
    plot = page.locator("canvas.nbx-plot")
    plot.wait_for()
    first = wait_summary(nb, plot, lambda s: s.get("mode") == "1d", "the first effect plot")
    assert first["kind"] == "pdp" and first["feature"] == "temp"
    pdp_pixels = nb.canvas_pixels(plot)
    assert pdp_pixels.drawn

    # user text is text: the odd feature name is shown literally and never runs
    picker = page.locator("button.nbx-feature")
    assert picker.count() == 4
    assert page.get_by_text('<img src=x onerror="window.nbxOwned=1">').count() >= 1
    assert page.evaluate("() => window.nbxOwned") is None

    # switching kinds redraws from the table, and the view's numbers are the kernel's
    kinds = {}
    for kind in ("ice", "centred", "derivative", "ale"):
        page.locator(f"button.nbx-kind[data-kind='{kind}']").click()
        kinds[kind] = wait_summary(nb, plot, lambda s, k=kind: s.get("kind") == k, f"the {kind} plot")
        assert page.locator(f"button.nbx-kind[data-kind='{kind}']").get_attribute("aria-pressed") == "true"
    assert nb.kernel_value("fe.kind") == "ale"
    kernel_ale = json.loads(nb.kernel_value("json.dumps(fe.result.effect.tolist())"))
    assert all(abs(a - b) < 1e-4 * (1 + abs(b)) for a, b in zip(kinds["ale"]["mean"], kernel_ale, strict=True))
    page.locator("button.nbx-kind[data-kind='derivative']").click()
    wait_summary(nb, plot, lambda s: s.get("kind") == "derivative", "d-ICE again")
    kernel_d = json.loads(nb.kernel_value("json.dumps(fe.result.pdp.tolist())"))
    view_d = kinds["derivative"]["mean"]
    scale = max(abs(v) for v in kernel_d)
    assert max(abs(a - b) for a, b in zip(view_d, kernel_d, strict=True)) < 1e-3 * scale  # float32 table
    assert nb.canvas_pixels(plot).differs(pdp_pixels) > 0.01

    # hovering an ICE line highlights that row and shows its values
    page.locator("button.nbx-kind[data-kind='ice']").click()
    wait_summary(nb, plot, lambda s: s.get("kind") == "ice", "ICE")
    target = json.loads(nb.kernel_value(
        "json.dumps((lambda j: (lambda i: [int(fe.row_ids[i]), float(fe.grid[j]), float(fe.ice_table[i, j]), "
        "[float(v) for v in X[fe.row_ids[i]]]])(int(np.argmax(fe.ice_table[:, j]))))(len(fe.grid) // 2))"))
    row, gx, gy, values = target
    plot.scroll_into_view_if_needed()
    frame = json.loads(plot.get_attribute("data-frame"))
    box = plot.bounding_box()
    px = frame["left"] + (gx - frame["xlo"]) / (frame["xhi"] - frame["xlo"]) * frame["pw"]
    py = frame["top"] + frame["ph"] - (gy - frame["ylo"]) / (frame["yhi"] - frame["ylo"]) * frame["ph"]
    before = nb.canvas_pixels(plot)
    page.mouse.move(box["x"] + px - 30, box["y"] + py + 60)
    page.mouse.move(box["x"] + px, box["y"] + py)
    readout = page.locator(".nbx-effects .nbx-readout")
    nb.wait_until(lambda: readout.get_attribute("data-row") == str(row), 10, 0.05,
                  f"row {row} in the readout (shows {readout.inner_text()!r})")
    text = readout.inner_text()
    fmt = [page.evaluate("(v) => v.toPrecision(3)", v) for v in values[:2]]  # the view's nbxFormat here
    assert text.startswith(f"row {row}: temp = {fmt[0]}, hum = {fmt[1]}, "), text
    highlighted = nb.canvas_pixels(plot)
    orange = sum(1 for i in range(0, len(highlighted.pixels), 4)
                 if abs(highlighted.pixels[i] - 255) < 30 and abs(highlighted.pixels[i + 1] - 127) < 40
                 and highlighted.pixels[i + 2] < 60)
    assert orange > 30 and highlighted.differs(before) > 0.001
    assert str(row) in nb.kernel_value("hovered")  # the kernel heard which row (run_cell's click then left it)
    if screenshot_dir:
        page.locator(".nbx-effects").screenshot(path=str(screenshot_dir / "effects-ice-hover.png"))

    # picking a feature asks the kernel
    page.locator("button.nbx-feature[data-feature='1']").click()
    wait_summary(nb, plot, lambda s: s.get("feature") == "hum" and s.get("kind") == "ice", "the hum ICE plot")
    assert nb.kernel_value("fe.feature") == "1"
    assert page.locator("button.nbx-feature[data-feature='1']").get_attribute("aria-pressed") == "true"

    # picking two features shows the 2-D view: PDP, then ALE
    page.locator("select.nbx-pair").select_option("0")
    two = wait_summary(nb, plot, lambda s: s.get("mode") == "2d", "the 2-D plot")
    assert two["kind"] == "pdp" and two["features"] == ["hum", "temp"] and two["shape"] == [20, 20]
    assert nb.kernel_value("fe.surface_features") == "[1, 0, 'pdp']"
    heat = nb.canvas_pixels(plot)
    assert heat.colours > 50
    page.locator("button.nbx-pair-kind[data-kind='ale']").click()
    ale2 = wait_summary(nb, plot, lambda s: s.get("mode") == "2d" and s.get("kind") == "ale", "the 2-D ALE")
    assert ale2["shape"] == [11, 11] and nb.kernel_value("fe.pair_kind") == "ale"
    assert nb.canvas_pixels(plot).differs(heat) > 0.05
    if screenshot_dir:
        page.locator(".nbx-effects").screenshot(path=str(screenshot_dir / "effects-2d-ale.png"))

    # back to one feature
    page.locator("select.nbx-pair").select_option("-1")
    wait_summary(nb, plot, lambda s: s.get("mode") == "1d", "one feature again")
    assert nb.kernel_value("fe.pair") == "-1"
    assert not [m for m in page.console_messages if m.startswith(("pageerror", "error")) and "nbx" in m.lower()]
