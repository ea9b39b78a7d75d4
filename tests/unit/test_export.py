"""The exporter (issue 18): one self-contained HTML file; the widget state embedded once, with its buffers; every
widget output keeps its picture; no request leaves the page; nbconvert finds ``--to nbexplain``."""

from __future__ import annotations

import base64
import io
import json
import re

import nbformat
import numpy as np
import pytest
from PIL import Image

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.export import NbexplainExporter, embeddable_state
from nbexplain.export.state import ASSET_PREFIX, STATE_MIME, VIEW_MIME

ESM = "function render({ model, el }) { el.textContent = model.get('label'); }\nexport default { render };\n" + "//" * 200
STATE_SCRIPT = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">\s*(.*?)\s*</script>', re.S)


def png_base64(colour=(200, 30, 30)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (12, 8), colour).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def widget_output(model_id: str) -> dict:
    return nbformat.v4.new_output("display_data", data={
        VIEW_MIME: {"version_major": 2, "version_minor": 0, "model_id": model_id},
        "image/png": png_base64(), "text/plain": "Widget(...)"})


def notebook(with_state: bool = True) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print('hello')", execution_count=1)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello <b>not bold</b>\n")]
    first, second = nbformat.v4.new_code_cell("w", execution_count=2), nbformat.v4.new_code_cell("v", execution_count=3)
    first.outputs, second.outputs = [widget_output("aaa")], [widget_output("bbb")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A lesson"), code, first, second]
    if with_state:
        values = np.arange(6, dtype=np.float32)
        state = {}
        for model_id, label in (("aaa", "first"), ("bbb", "second")):
            state[model_id] = {
                "model_name": "AnyModel", "model_module": "anywidget", "model_module_version": "~0.9.*",
                "state": {"_model_module": "anywidget", "_esm": ESM, "_css": "", "label": label,
                          "values": {"dtype": "float32", "shape": [6]}, "gone": None},
                "buffers": [
                    {"path": ["values", "buffer"], "encoding": "base64",
                     "data": base64.b64encode(values.tobytes()).decode()},
                    {"path": ["gone", "buffer"], "encoding": "base64", "data": "AAAA"},  # emptied since
                ],
            }
        nb.metadata["widgets"] = {STATE_MIME: {"version_major": 2, "version_minor": 0, "state": state}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_embeddable_state_stores_each_view_module_once_and_drops_buffers_of_emptied_traits():
    doc = embeddable_state(notebook())
    (digest,) = doc["nbexplain_assets"]
    assert doc["nbexplain_assets"][digest] == ESM
    for entry in doc["state"].values():
        assert entry["state"]["_esm"] == ASSET_PREFIX + digest
        assert entry["state"]["_css"] == ""  # short texts stay where they are
        assert [b["path"] for b in entry["buffers"]] == [["values", "buffer"]]
    assert embeddable_state(notebook(with_state=False)) == {"version_major": 2, "version_minor": 0, "state": {},
                                                            "nbexplain_assets": {}}


def test_export_is_one_file_with_manager_state_and_pictures_and_no_request_off_the_page(tmp_path):
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook(), path)
    out = nbx.export_html(path, execute=False)
    assert out == tmp_path / "lesson.html"
    html = out.read_text()
    print(f"\nexport size of the two-widget test notebook: {len(html.encode()) / 1e3:.0f} kB")
    # nothing is fetched: no script, stylesheet, image or frame from anywhere but the page itself
    for attr in re.findall(r'<(?:script|link|img|iframe)[^>]*?(?:src|href)="([^"]*)"', html):
        assert attr.startswith("data:"), attr
    assert "require.min.js" not in html and "MathJax" not in html.replace("mathjax", "")
    assert "nbxOfflineManager" in html and "BSD-3-Clause" in html  # the manager, with the licences
    doc = json.loads(STATE_SCRIPT.search(html).group(1).replace("<\\/", "</"))
    assert set(doc["state"]) == {"aaa", "bbb"} and list(doc["nbexplain_assets"].values()) == [ESM]
    # every widget output: its picture first (shown until its view renders), then the view's reference
    outputs = re.findall(r'<div class="jp-OutputArea-output nbx-export-widget" data-model-id="(\w+)"[^>]*>\s*'
                         r'<img [^>]*class="nbx-export-fallback"[^>]*src="data:image/png;base64,([^"]+)"', html)
    assert [m for m, _ in outputs] == ["aaa", "bbb"] and outputs[0][1] == png_base64()
    # cells without widgets render as nbconvert renders them (text is escaped)
    assert "A lesson" in html and "hello &lt;b&gt;not bold&lt;/b&gt;" in html


def test_a_widget_without_stored_state_shows_its_picture_as_nbconvert_would(tmp_path):
    path = tmp_path / "pictures.ipynb"
    nbformat.write(notebook(with_state=False), path)
    html = nbx.export_html(path, tmp_path / "out.html", execute=False).read_text()
    assert "data-model-id" not in html and html.count(f"data:image/png;base64,{png_base64()}") == 2
    assert "nbxOfflineManager" not in html  # nothing to render: no manager


def test_nbconvert_finds_the_exporter_by_its_entry_point():
    from nbconvert.exporters import get_export_names, get_exporter

    assert get_exporter("nbexplain") is NbexplainExporter
    assert "nbexplain" in get_export_names()


def test_export_html_says_what_was_wrong(tmp_path):
    with pytest.raises(InputError, match="notebook must be an existing .ipynb file"):
        nbx.export_html(tmp_path / "missing.ipynb")
    with pytest.raises(InputError, match="notebook must be a path"):
        nbx.export_html(42)
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook(), path)
    with pytest.raises(InputError, match="execute must be True or False"):
        nbx.export_html(path, execute="yes")
    with pytest.raises(InputError, match="timeout"):
        nbx.export_html(path, timeout=0)
    with pytest.raises(InputError, match="output is required"):
        nbx.export_html(notebook())
    with pytest.raises(TypeError, match="exceute"):
        nbx.export_html(path, exceute=True)


def test_nbconverts_own_html_shows_nbexplain_widgets_as_pictures_and_keeps_other_widgets(tmp_path):
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    from nbexplain.export.pictures import ShowPictures

    config = Config({"HTMLExporter": {"preprocessors": [ShowPictures]}})
    nb = notebook()
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    models["aaa"]["state"].update(committed_request=0, layout="IPY_MODEL_lay")  # an nbexplain widget
    models["bbb"]["state"]["layout"] = "IPY_MODEL_shared"
    models["aaa"]["state"]["style"] = "IPY_MODEL_shared"
    for child in ("lay", "shared"):
        models[child] = {"model_name": "LayoutModel", "model_module": "@jupyter-widgets/base", "state": {}}
    html, _ = HTMLExporter(config=config).from_notebook_node(nb)
    assert '"model_id": "aaa"' not in html and '"model_id": "bbb"' in html  # bbb is another library's widget
    picture = f'src="data:image/png;base64,{png_base64()}'
    assert html.count(picture) == 1  # aaa shows its picture
    assert '"lay"' not in html and '"shared"' in html  # aaa's own layout model goes, the shared one stays
    for model in ("bbb",):
        nb.metadata["widgets"][STATE_MIME]["state"][model]["state"]["committed_request"] = 0
    only_ours, _ = HTMLExporter(config=config).from_notebook_node(nb)
    assert "widget-state+json" not in only_ours and "html-manager" not in only_ours  # no widget scripts at all
    assert only_ours.count(picture) == 2
    # the nbexplain export, configured the same way (a subclass of HTMLExporter), keeps both views live
    live, resources = NbexplainExporter(config=config).from_notebook_node(nb)
    assert resources["nbexplain"]["live"] == 2
