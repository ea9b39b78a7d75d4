"""nbconvert's own HTML (``jupyter nbconvert --execute --to html``, which stores widget state) shows every
nbexplain widget as its true PNG offline, never a blank box; other widgets keep their live view (#12).

The route is the command line a user types, in this environment, whose nbconvert configuration nbexplain
installs (``etc/jupyter/jupyter_nbconvert_config.json``, see nbexplain/export/pictures.py).
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
from test_export_browser import offline  # noqa: F401 - the exported-page fixture (Chromium on a file, no network)

CELLS = [
    "import numpy as np, torch\nimport nbexplain as nbx\ntorch.manual_seed(0)\n"
    "net = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(4),\n"
    "                          torch.nn.Flatten(), torch.nn.Linear(96, 3)).eval()\n"
    "image = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)",
    'hm = nbx.Heatmap(net, image, method="gradient")\nhm',
    "import ipywidgets\nslider = ipywidgets.IntSlider(value=7)\nslider",
]
VIEW_MIME = "application/vnd.jupyter.widget-view+json"


IMG = re.compile(r'<img[^>]*src="data:image/png;base64,([^"]+)"')
VIEW_SCRIPT = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">\s*(.*?)\s*</script>', re.S)


def lesson(folder: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = folder / "lesson.ipynb"
    nbformat.write(nb, source)
    return source


def nbconvert(source: Path, to: str) -> Path:
    """``jupyter nbconvert --execute --to <to>``, the command a user types, in this environment."""
    out = source.parent / to
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", f"--to={to}",
                           f"--output-dir={out}", str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / (source.stem + (".html" if to == "html" else ".ipynb"))


def test_executing_stores_the_widgets_state_which_would_make_nbconverts_page_blank(tmp_path):
    ran = nbformat.read(nbconvert(lesson(tmp_path, CELLS), "notebook"), as_version=4)
    heatmap_view = next(o.data[VIEW_MIME]["model_id"] for o in ran.cells[1].outputs if VIEW_MIME in o.get("data", {}))
    stored = ran.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert "committed_request" in stored[heatmap_view]["state"]  # the premise: without nbexplain's help, a view


def test_nbconvert_html_shows_nbexplain_widgets_as_their_pictures_offline(tmp_path, offline):  # noqa: F811
    html = nbconvert(lesson(tmp_path, CELLS), "html")
    text = html.read_text(encoding="utf-8")
    views = [json.loads(v) for v in VIEW_SCRIPT.findall(text)]
    assert len(views) == 1  # the IntSlider's view only: another library's widget keeps its view ...
    assert '"value": 7' in text  # ... and its state
    pictures = IMG.findall(text)
    assert len(pictures) == 1  # the Heatmap shows its PNG instead of a view

    page = offline(html, javascript=False)  # what a reader sees whether or not the CDN's scripts arrive
    shown = page.page.locator("img[src^='data:image/png']")
    assert shown.count() == 1
    box = shown.first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    from PIL import Image

    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(pictures[0]))))
    assert picture.std() > 5  # a real picture of the map, not a flat box


def test_nbconvert_html_without_other_widgets_loads_no_widget_scripts(tmp_path):
    text = nbconvert(lesson(tmp_path, CELLS[:2]), "html").read_text(encoding="utf-8")
    assert "html-manager" not in text and "widget-state+json" not in text and VIEW_MIME not in text
    assert len(IMG.findall(text)) == 1


def test_the_environment_carries_the_configuration():
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_nbconvert_config.json"
    assert json.loads(config.read_text())["HTMLExporter"]["preprocessors"] == ["nbexplain.export.pictures.ShowPictures"]
