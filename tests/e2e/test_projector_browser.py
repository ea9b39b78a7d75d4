"""The Projector in JupyterLab + Chromium: hovering a point shows that point's thumbnail and label (compared with
the kernel's data at that row), a box selection gives the kernel exactly the rows whose coordinates lie in the box
(computed here in Python), a lasso likewise, the layer switch redraws the next layer's map without a kernel
request (while the kernel is busy), colouring and explaining a selection.

The positions the page draws are checked against the kernel's coordinates through the frame the canvas
publishes (``data-transform``: scale and centre of the map), and the pixels under isolated points are read
back with ``getImageData``.
"""

from __future__ import annotations

import json
import re

import numpy as np
from browser_kit import canvas_pixels
from test_export_browser import offline  # noqa: F401 - the exported-page fixture (Chromium on a file, no network)

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5"]
RIGHT, WRONG = "#2ca02c", "#d62728"

DIGITS = [
    "import json, time, numpy as np, nbexplain as nbx\n"
    "data = nbx.datasets.digits('test')\n"
    "model = nbx.datasets.digits_classifier()\n"
    "w = nbx.Projector(model, data.images, data.labels, layers=['block1', 'block3', 'hidden'])\n"
    "hovered = []\nw.observe(lambda change: hovered.append(change['new']), 'hovered')\n"
    "w",
]

CREDIT = [
    "import json, numpy as np, torch, nbexplain as nbx\n"
    "from collections import OrderedDict\n"
    "data = nbx.datasets.credit()\n"
    "X = ((data.X - data.X.mean(0)) / data.X.std(0)).astype(np.float32)\n"
    "torch.manual_seed(0)\n"
    "net = torch.nn.Sequential(OrderedDict(hidden=torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU()),\n"
    "                                      out=torch.nn.Linear(16, 2)))\n"
    "opt = torch.optim.Adam(net.parameters(), lr=0.01)\n"
    "for _ in range(200):\n"
    "    opt.zero_grad(); torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(data.y)).backward(); opt.step()\n"
    "names = data.feature_names[:-1] + ['<b>$Ethnicity</b>']\n"
    "w = nbx.Projector(net.eval(), X, data.y, class_names=data.class_names, feature_names=names, layers=['input', 'hidden'])\n"
    "w",
]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def kernel_json(nb, expression: str):
    return json.loads(nb.kernel_value(f"json.dumps({expression})"))


def frame(canvas) -> dict:
    return json.loads(canvas.get_attribute("data-transform"))


def screen(xy: np.ndarray, f: dict) -> np.ndarray:
    """CSS pixels of map coordinates under the view's frame."""
    return np.column_stack([f["width"] / 2 + (xy[:, 0] - f["cx"]) * f["scale"],
                            f["height"] / 2 - (xy[:, 1] - f["cy"]) * f["scale"]])


def isolated(points: np.ndarray, f: dict, room: float = 9.0, margin: float = 12.0) -> list[int]:
    """Points with no other point within ``room`` CSS px, well inside the canvas."""
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    inside = ((points[:, 0] > margin) & (points[:, 0] < f["width"] - margin) & (points[:, 1] > margin)
              & (points[:, 1] < f["height"] - margin))
    return [int(i) for i in np.flatnonzero((d.min(axis=1) > room) & inside)]


def hover_lonely_point(nb, page, root, overlay, points: np.ndarray, f: dict, room: float = 9.0) -> int:
    """Move the mouse from the map's corner onto a point of ``points`` (screen) with no other near it, and wait
    until the hover card shows its row; returns the row."""
    i = isolated(points, f, room=room)[0]
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + 1)
    page.mouse.move(box["x"] + points[i, 0], box["y"] + points[i, 1])
    card = root.locator(".nbx-hover")
    nb.wait_until(lambda: card.get_attribute("data-row") == str(i), 10, 0.05, f"row {i} in the hover card")
    return i


def start_cell(nb, code: str):
    """Type ``code`` into a new cell and run it without waiting for it (the kernel stays busy); its prompt."""
    page = nb.page
    cells = page.locator(".jp-Notebook .jp-Cell")
    n = cells.count()
    cells.nth(n - 1).locator(".jp-InputArea-prompt").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    cells.nth(n).wait_for()
    cells.nth(n).locator(".cm-content").click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    return cells.nth(n).locator(".jp-InputArea-prompt")


def open_projector(open_notebook, page, cells):
    nb = open_notebook(cells)
    nb.run_all()
    nb.wait_all_run(timeout=180)
    root = page.locator(".nbx-projector")
    root.wait_for()
    nb.wait_until(lambda: int(root.get_attribute("data-draws") or 0) > 0, 30, message="the first drawing")
    return nb, root


def test_digits_projector(open_notebook, page, screenshot_dir):
    nb, root = open_projector(open_notebook, page, DIGITS)
    canvas = root.locator("canvas.nbx-scatter")
    overlay = root.locator("canvas.nbx-overlay")
    k = kernel_json(nb, "{'coords': w.coords.tolist(), 'labels': w.labels.tolist(), 'names': w.label_names, "
                        "'preds': w.predictions.tolist(), 'classes': w.class_names, 'correct': w.correct.tolist(), "
                        "'layer': w.layer, 'thumb_shape': list(w.thumbnails.shape)}")
    coords = np.asarray(k["coords"], dtype=np.float32)
    assert coords.shape == (3, 797, 2) and k["layer"] == 0
    assert root.locator("button.nbx-layer").all_inner_texts() == ["block1", "block3", "hidden"]

    # -- hover: the card shows that point's thumbnail, label and prediction (the kernel's, at that row) ------
    f = frame(canvas)
    i = hover_lonely_point(nb, page, root, overlay, screen(coords[0].astype(np.float64), f), f)
    assert root.locator(".nbx-hover-label").text_content() == f"label: {k['names'][k['labels'][i]]}"
    assert root.locator(".nbx-hover-prediction").text_content().startswith(f"prediction: {k['classes'][k['preds'][i]]}")
    thumb = nb.canvas_pixels(root.locator("canvas.nbx-hover-thumb"))
    h, w_, _ = k["thumb_shape"][1:]
    assert (thumb.height, thumb.width) == (h, w_)
    expected = kernel_json(nb, f"w.thumbnails[{i}].tolist()")
    drawn = np.asarray(thumb.pixels, dtype=np.int64).reshape(h, w_, 4)[..., :3]
    np.testing.assert_array_equal(drawn, np.asarray(expected))
    assert i in kernel_json(nb, "hovered")  # the kernel heard which row (run_cell's click then left the map)

    # -- box selection: exactly the rows whose coordinates lie in the box ------------------------------------
    root.locator("button.nbx-tool-box").click()
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    x0, y0, x1, y1 = f["width"] * 0.25, f["height"] * 0.3, f["width"] * 0.55, f["height"] * 0.62
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    page.mouse.move(box["x"] + (x0 + x1) / 2, box["y"] + (y0 + y1) / 2, steps=3)
    page.mouse.move(box["x"] + x1, box["y"] + y1, steps=3)
    page.mouse.up()
    nb.wait_until(lambda: overlay.get_attribute("data-box"), 10, 0.05, "the box in map coordinates")
    bx0, bx1, by0, by1 = json.loads(overlay.get_attribute("data-box"))
    # the box is where the mouse went, under the published frame (within a pixel)
    tolerance = 1.5 / f["scale"]
    assert abs(bx0 - (f["cx"] + (x0 - f["width"] / 2) / f["scale"])) < tolerance
    assert abs(bx1 - (f["cx"] + (x1 - f["width"] / 2) / f["scale"])) < tolerance
    assert abs(by1 - (f["cy"] - (y0 - f["height"] / 2) / f["scale"])) < tolerance
    assert abs(by0 - (f["cy"] - (y1 - f["height"] / 2) / f["scale"])) < tolerance
    xy = coords[0].astype(np.float64)
    inside = np.flatnonzero((xy[:, 0] >= bx0) & (xy[:, 0] <= bx1) & (xy[:, 1] >= by0) & (xy[:, 1] <= by1))
    assert 5 < len(inside) < 797
    assert kernel_json(nb, "w.selected.tolist()") == inside.tolist()
    assert int(root.locator(".nbx-selection").get_attribute("data-count")) == len(inside)
    assert root.locator(".nbx-selection-grid button.nbx-cell").count() == min(60, len(inside))

    # -- colour by right / wrong: the legend counts are the kernel's --------------------------------------------
    root.locator("select.nbx-color-by").select_option("correct")
    right = sum(k["correct"])
    nb.wait_until(lambda: f"right ({right})" in root.locator(".nbx-legend").text_content(), 10, 0.05, "the legend")
    assert nb.kernel_value("w.color_by") == "correct"

    # -- explain the selection in the kernel -------------------------------------------------------------------
    root.locator("select.nbx-explain-method").select_option("gradcam")
    root.locator("button.nbx-explain").click()
    figures = root.locator(".nbx-explanation")
    nb.wait_until(lambda: figures.count() == min(12, len(inside)), 60, 0.1, "the explanations of the selection")
    assert [int(r) for r in figures.evaluate_all("(fs) => fs.map((f) => f.dataset.row)")] == inside[:12].tolist()
    assert nb.kernel_value("(len(w.explanations), w.explanations[0].method)") == f"({min(12, len(inside))}, 'gradcam')"
    if screenshot_dir:
        root.screenshot(path=str(screenshot_dir / "projector-digits.png"))

    # -- the layer switch redraws in the page, with no kernel request, while the kernel is busy -----------------
    root.locator("button.nbx-clear").click()  # every point in full colour
    nb.wait_until(lambda: root.locator(".nbx-selection").get_attribute("data-count") == "0", 5, 0.05, "no selection")
    requests = root.get_attribute("data-requests")
    sleeper = start_cell(nb, "time.sleep(20)")
    nb.wait_until(lambda: "*" in sleeper.text_content(), 10, 0.05, "the sleeping cell running")
    root.locator("button.nbx-layer[data-layer='2']").click()
    nb.wait_until(lambda: root.get_attribute("data-layer") == "2", 5, 0.02, "the hidden layer drawn")
    assert "*" in sleeper.text_content(), "the kernel answered: the switch waited for it"
    assert root.get_attribute("data-requests") == requests
    assert root.locator("button.nbx-layer[data-layer='2']").get_attribute("aria-pressed") == "true"
    f2 = frame(canvas)
    points2 = screen(coords[2].astype(np.float64), f2)
    pixels = nb.canvas_pixels(canvas)
    grid = np.asarray(pixels.pixels, dtype=np.int64).reshape(pixels.height, pixels.width, 4)
    lonely = isolated(points2, f2)[:25]
    assert len(lonely) >= 5
    for j in lonely:  # the hidden layer's map is drawn: each isolated point's colour at its place
        px, py = int(round(points2[j, 0])), int(round(points2[j, 1]))
        assert tuple(grid[py, px, :3]) == rgb(RIGHT if k["correct"][j] else WRONG), j
    nb.wait_until(lambda: re.fullmatch(r"\[\d+\]:?", sleeper.text_content().strip()), 60, 0.2, "the sleep done")
    assert nb.kernel_value("w.layer") == "2"
    assert not [m for m in page.console_messages if m.startswith(("pageerror", "error")) and "nbx" in m.lower()]


def point_in_polygon(x: float, y: float, xs: list[float], ys: list[float]) -> bool:
    inside = False
    j = len(xs) - 1
    for i in range(len(xs)):
        if (ys[i] > y) != (ys[j] > y) and x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]:
            inside = not inside
        j = i
    return inside


def test_credit_projector_table_rows(open_notebook, page):
    nb, root = open_projector(open_notebook, page, CREDIT)
    canvas = root.locator("canvas.nbx-scatter")
    overlay = root.locator("canvas.nbx-overlay")
    k = kernel_json(nb, "{'coords': w.coords.tolist(), 'columns': w.columns.tolist(), 'names': w.column_names}")
    coords = np.asarray(k["coords"], dtype=np.float32)
    assert k["names"][-1] == "<b>$Ethnicity</b>"

    # hover shows the row's feature values (user text as text)
    f = frame(canvas)
    root.locator("button.nbx-layer[data-layer='1']").click()
    nb.wait_until(lambda: root.get_attribute("data-layer") == "1", 5, 0.02, "the hidden layer")
    f = frame(canvas)
    i = hover_lonely_point(nb, page, root, overlay, screen(coords[1].astype(np.float64), f), f, room=7.0)
    terms = root.locator(".nbx-hover-values dt").all_text_contents()
    values = root.locator(".nbx-hover-values dd").all_text_contents()
    assert terms == k["names"]
    for text, value in zip(values, k["columns"][i], strict=True):
        assert abs(float(text) - value) <= 5e-3 * max(1.0, abs(value)), (text, value)
    assert root.locator(".nbx-hover-values b").count() == 0

    # a lasso selects exactly the rows inside the polygon
    root.locator("button.nbx-tool-lasso").click()
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    w, h = f["width"], f["height"]
    path = [(0.2 * w, 0.2 * h), (0.8 * w, 0.25 * h), (0.7 * w, 0.8 * h), (0.3 * w, 0.7 * h)]
    page.mouse.move(box["x"] + path[0][0], box["y"] + path[0][1])
    page.mouse.down()
    for x, y in path[1:] + path[:1]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()
    nb.wait_until(lambda: overlay.get_attribute("data-lasso"), 10, 0.05, "the lasso in map coordinates")
    polygon = json.loads(overlay.get_attribute("data-lasso"))
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    xy = coords[1].astype(np.float64)
    inside = [j for j in range(len(xy)) if point_in_polygon(xy[j, 0], xy[j, 1], xs, ys)]
    assert 3 < len(inside) < len(xy)
    assert kernel_json(nb, "w.selected.tolist()") == inside
    assert root.locator(".nbx-selection-table tr[data-row]").count() == min(30, len(inside))
    # zoom and pan: the wheel zooms about the pointer, a drag with the pan tool moves the map, keys on the focused
    # map zoom and fit; what is under the pointer stays under it
    fit = frame(canvas)
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    page.mouse.move(box["x"] + w / 3, box["y"] + h / 3)
    under = (fit["cx"] + (w / 3 - w / 2) / fit["scale"], fit["cy"] - (h / 3 - h / 2) / fit["scale"])
    page.mouse.wheel(0, -300)
    nb.wait_until(lambda: frame(canvas)["scale"] > fit["scale"] * 1.2, 5, 0.05, "a zoom")
    zoomed = frame(canvas)
    # (within a pixel: the page's mouse coordinates are whole pixels)
    assert abs(zoomed["cx"] + (w / 3 - w / 2) / zoomed["scale"] - under[0]) < 1.0 / zoomed["scale"]
    assert abs(zoomed["cy"] - (h / 3 - h / 2) / zoomed["scale"] - under[1]) < 1.0 / zoomed["scale"]
    root.locator("button.nbx-tool-pan").click()
    overlay.scroll_into_view_if_needed()
    box = overlay.bounding_box()
    page.mouse.move(box["x"] + w / 2, box["y"] + h / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + w / 2 + 50, box["y"] + h / 2 - 20, steps=4)
    page.mouse.up()
    panned = frame(canvas)
    assert panned["scale"] == zoomed["scale"]
    assert abs((zoomed["cx"] - panned["cx"]) * panned["scale"] - 50) < 1.5
    assert abs((zoomed["cy"] - panned["cy"]) * panned["scale"] - 20) < 1.5
    assert kernel_json(nb, "w.selected.tolist()") == inside  # panning selects nothing
    overlay.focus()
    page.keyboard.press("0")
    nb.wait_until(lambda: frame(canvas)["scale"] == fit["scale"], 5, 0.05, "the map fitted again")

    # explaining rows: Shapley values in one line each
    root.locator("button.nbx-explain").click()
    lines = root.locator(".nbx-explanation-text")
    nb.wait_until(lambda: lines.count() == min(12, len(inside)), 90, 0.2, "Shapley values of the selected rows")
    assert lines.first.text_content().startswith(f"row {inside[0]}: ")
    assert not [m for m in page.console_messages if m.startswith(("pageerror", "error")) and "nbx" in m.lower()]


# -- an exported page, without a kernel (issue 18): layers, colours, selection and the tables' maps work ----------
EXPORT_CELLS = [
    "import numpy as np, nbexplain as nbx\n"
    "data = nbx.datasets.digits('test')\n"
    "w = nbx.Projector(nbx.datasets.digits_classifier(), data.images, data.labels, layers=['block1', 'hidden'])\n"
    "w",
]
EXPORT_PROBE = """import pickle
pickle.dump({"coords": w.coords, "tsne": w.answer_tables["methods"]["tsne"]["coords"], "correct": w.correct,
             "labels": w.labels}, open(PROBE / "projector.pickle", "wb"))"""


def drawn_colours(nb_pixels, points: np.ndarray, rows: list[int]) -> list[tuple[int, int, int]]:
    grid = np.asarray(nb_pixels.pixels, dtype=np.int64).reshape(nb_pixels.height, nb_pixels.width, 4)
    return [tuple(grid[int(round(points[j, 1])), int(round(points[j, 0])), :3]) for j in rows]


def test_exported_projector_switches_layers_and_maps_without_a_kernel(tmp_path, offline):  # noqa: F811
    import pickle

    from test_export_browser import export_cells, needs_kernel

    html, probe = export_cells(EXPORT_CELLS, "projector.ipynb", EXPORT_PROBE, tmp_path)
    kernel = pickle.load(open(probe / "projector.pickle", "rb"))
    page = offline(html)
    assert page.live_widgets() == 1
    root = page.page.locator(".nbx-projector")
    canvas = root.locator("canvas.nbx-scatter")
    assert "needs a running kernel" in root.locator(".nbx-offline-note").text_content()
    labels = np.asarray(kernel["labels"])

    def check_drawn(xy: np.ndarray) -> None:  # isolated points have their label's colour at their place
        f = frame(canvas)
        points = screen(xy.astype(np.float64), f)
        lonely = isolated(points, f, room=6.0)[:20]  # squares of 5 px: no other square reaches the centre
        assert len(lonely) >= 5
        expected = [rgb(PALETTE[labels[j]]) for j in lonely]
        assert drawn_colours(canvas_pixels(canvas), points, lonely) == expected

    check_drawn(kernel["coords"][0])
    root.locator("button.nbx-layer[data-layer='1']").click()
    page.page.wait_for_function("(r) => r.dataset.layer === '1'", arg=root.element_handle())
    check_drawn(kernel["coords"][1])
    root.locator("select.nbx-method").select_option("tsne")  # from the answer tables
    page.page.wait_for_function("(r) => r.querySelector('.nbx-quality').textContent.startsWith('t-SNE of hidden')",
                                arg=root.element_handle())
    page.page.wait_for_timeout(800)  # the points move to the t-SNE map
    check_drawn(kernel["tsne"][1])
    assert root.get_attribute("data-requests") == "0"
    # a selection works offline; explaining it needs a kernel, and says so
    root.locator("button.nbx-tool-box").click()
    box = root.locator("canvas.nbx-overlay").bounding_box()
    page.page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + 300, box["y"] + 300, steps=4)
    page.page.mouse.up()
    assert int(root.locator(".nbx-selection").get_attribute("data-count")) > 0
    assert needs_kernel(root.locator("button.nbx-explain"))
    page.check_clean()
