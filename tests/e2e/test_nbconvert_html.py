"""nbconvert's own HTML (``jupyter nbconvert --execute --to html``, which stores widget state) shows every
nbexplain widget as its true PNG offline, never a blank box; other widgets keep their live view (#12).

The route is the command line a user types, in this environment, whose nbconvert configuration nbexplain
installs (``etc/jupyter/jupyter_nbconvert_config.json``, see nbexplain/export/pictures.py).
"""

from __future__ import annotations

import base64
import io
import json
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


def nbconvert_html(folder: Path, cells: list[str]) -> tuple[Path, nbformat.NotebookNode]:
    """Run ``jupyter nbconvert --execute --to html`` (and ``--to notebook``, to read what was stored)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = folder / "lesson.ipynb"
    nbformat.write(nb, source)
    jupyter = [sys.executable, "-m", "jupyter", "nbconvert", "--execute"]
    for to in ("html", "notebook"):
        done = subprocess.run([*jupyter, f"--to={to}", f"--output-dir={folder / to}", str(source)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    return folder / "html" / "lesson.html", nbformat.read(folder / "notebook" / "lesson.ipynb", as_version=4)


def test_nbconvert_html_shows_nbexplain_widgets_as_their_pictures_offline(tmp_path, offline):  # noqa: F811
    html, ran = nbconvert_html(tmp_path, CELLS)
    heatmap_view, slider_view = (o.data[VIEW_MIME]["model_id"] for c in ran.cells[1:] for o in c.outputs
                                 if VIEW_MIME in o.get("data", {}))
    stored = ran.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert heatmap_view in stored  # nbclient stored the Heatmap's state: nbconvert would have drawn a blank view
    png = next(o.data["image/png"] for o in ran.cells[1].outputs if "image/png" in o.get("data", {}))

    text = html.read_text(encoding="utf-8")
    assert heatmap_view not in text  # no widget view for the Heatmap ...
    assert png.replace("\n", "") in text.replace("\n", "")  # ... its own PNG instead, byte for byte
    assert slider_view in text  # another library's widget keeps its view (and its state)

    page = offline(html, javascript=False)  # what a reader sees whether or not the CDN's scripts arrive
    images = page.page.locator(f"img[src='data:image/png;base64,{png.replace(chr(10), '')}']")
    assert images.count() == 1
    box = images.first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    from PIL import Image

    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))))
    assert shown.std() > 5  # a real picture of the map, not a flat box


def test_nbconvert_html_without_other_widgets_loads_no_widget_scripts(tmp_path):
    html, ran = nbconvert_html(tmp_path, CELLS[:2])
    assert "widgets" in ran.metadata  # stored in the notebook, yet the page needs no widget manager
    text = html.read_text(encoding="utf-8")
    assert "html-manager" not in text and "widget-state+json" not in text and VIEW_MIME not in text
    png = next(o.data["image/png"] for o in ran.cells[1].outputs if "image/png" in o.get("data", {}))
    assert text.replace("\n", "").count(png.replace("\n", "")) == 1


def test_the_environment_carries_the_configuration():
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_nbconvert_config.json"
    assert json.loads(config.read_text())["HTMLExporter"]["preprocessors"] == ["nbexplain.export.pictures.ShowPictures"]
