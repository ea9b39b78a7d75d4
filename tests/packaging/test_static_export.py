"""A notebook exported without a kernel (nbconvert HTML, GitHub) still shows a true picture of each widget."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

import nbformat
import numpy as np
from PIL import Image

CELL = """import numpy as np, torch, nbexplain as nbx
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                            torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten(), torch.nn.Linear(64, 3))
image = (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)
nbx.Heatmap(model, image, method="occlusion")"""


def test_executed_notebook_and_html_export_carry_the_png_fallback(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "export.ipynb"
    nbformat.write(nb, path)
    # as JupyterLab saves by default: outputs kept, widget state not stored (then the PNG is what shows)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    "--ExecutePreprocessor.store_widget_state=False", str(path)], check=True, capture_output=True, text=True, timeout=240)
    (output,) = nbformat.read(path, as_version=4).cells[0].outputs
    assert "application/vnd.jupyter.widget-view+json" in output["data"]
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"]))).convert("RGB"))
    assert picture.std() > 10  # the heatmap drawn by matplotlib, not an empty figure
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path)],
                   check=True, capture_output=True, text=True, timeout=120)
    html = path.with_suffix(".html").read_text()
    assert "data:image/png;base64," + output["data"]["image/png"][:64] in html
