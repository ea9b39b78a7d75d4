"""The exporter from a plain install of the wheel (issue 18): the offline manager, the template and the views ship
inside it, nbconvert finds ``--to nbexplain`` through the entry point, and one run-and-export works in a fresh
environment whose nbexplain comes only from the wheel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

SHIPPED = ["nbexplain/js/_manager.js", "nbexplain/js/_shared.js", "nbexplain/export/__init__.py",
           "nbexplain/export/html.py", "nbexplain/export/state.py", "nbexplain/widgets/tables.py",
           "nbexplain/export/templates/nbexplain/conf.json", "nbexplain/export/templates/nbexplain/index.html.j2"]
CELL = """import numpy as np
from sklearn.linear_model import LogisticRegression
import nbexplain as nbx
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)); y = (X[:, 0] - X[:, 1] > 0).astype(int)
cf = nbx.CounterfactualSliders(LogisticRegression().fit(X, y), X, X[0], explainer="none")
cf"""


def test_wheel_ships_the_exporter_its_template_the_manager_and_the_entry_point(wheel):
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for name in SHIPPED:
        assert name in names, name
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[nbconvert.exporters]" in text and "nbexplain = nbexplain.export:NbexplainExporter" in text
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    requires = archive.read(metadata).decode()
    assert "Requires-Dist: nbconvert" in requires and "Requires-Dist: ipykernel" in requires


def test_a_fresh_install_exports_a_run_notebook_with_nbconvert(fresh_env, tmp_path):
    python, env_dir, site_dir = fresh_env.python, fresh_env.env_dir, fresh_env.site_dir
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Sliders, offline"), nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "lesson.ipynb")
    # the kernel is this environment's python (ipykernel's own spec), so the widgets come from the wheel too
    # nbconvert's own templates are data files of the dependency, in its prefix (a real install shares one)
    env = dict(os.environ, JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))
    run = subprocess.run([str(python), "-m", "nbconvert", "--to", "nbexplain", "--execute", "lesson.ipynb"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    html = (tmp_path / "lesson.html").read_text()
    print(f"\n[nbx-export] lesson.ipynb from the wheel: {len(html.encode()) / 1e6:.2f} MB")
    installed = Path(site_dir) / "nbexplain" / "js" / "_manager.js"
    assert installed.read_text().splitlines()[0] in html  # the manager, inlined from the installed package
    state = json.loads(re.search(r'<script type="application/vnd.jupyter.widget-state\+json">\s*(.*?)\s*</script>',
                                 html, re.S).group(1).replace("<\\/", "</"))
    (sliders,) = [m for m in state["state"].values() if m["state"].get("_anywidget_id", "").endswith("CounterfactualSliders")]
    paths = {tuple(b["path"]) for b in sliders["buffers"]}
    assert ("answer_tables", "predictions", "buffer") in paths  # the kernel built its tables: it was exporting
    assert not re.search(r'<(?:script|link)[^>]*(?:src|href)="https?:', html)
    probe = subprocess.run([str(python), "-c", "import nbexplain, nbexplain.export; print(nbexplain.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert probe.stdout.strip().startswith(str(env_dir))
