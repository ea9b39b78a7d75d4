"""The built wheel ships the js/ views, and a fresh install of it loads them from the installed package."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEWS = sorted(p.name for p in (ROOT / "js").iterdir() if p.suffix in (".js", ".css"))


def test_wheel_contains_every_view_and_the_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert VIEWS and {"_shared.js", "heatmap.js"} <= set(VIEWS)
    for view in VIEWS:
        assert f"nbexplain/js/{view}" in names
    assert "nbexplain/__init__.py" in names and "nbexplain/py.typed" in names
    assert not any(n.startswith(("tests/", "notebooks/", "benchmarks/")) for n in names)


def test_fresh_install_of_the_wheel_renders_views_from_the_installed_package(fresh_env, tmp_path):
    python, env_dir = fresh_env.python, fresh_env.env_dir  # nbexplain comes only from the wheel
    probe = (
        "import numpy as np, torch, nbexplain as nbx\n"
        "from nbexplain.widgets import assets\n"
        "print(nbx.__file__); print(assets.js_dir())\n"
        "m = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))\n"
        "m(torch.zeros(1, 3, 8, 8))\n"
        "hm = nbx.Heatmap(m, np.zeros((8, 8, 3), np.uint8))\n"
        "print(len(hm._esm)); print(hm._repr_mimebundle_()[0].keys())\n"
    )
    run = subprocess.run([str(python), "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True)
    package_file, js_dir, esm_length, mimetypes = run.stdout.strip().splitlines()[-4:]
    assert package_file.startswith(str(env_dir)), "nbexplain was imported from somewhere else than the wheel"
    assert js_dir.startswith(str(env_dir)) and js_dir.endswith("nbexplain/js")
    installed = Path(js_dir)
    expected = (installed / "_shared.js").read_text() + "\n" + (installed / "heatmap.js").read_text()
    assert int(esm_length) == len(expected) > 1000
    assert "application/vnd.jupyter.widget-view+json" in mimetypes and "image/png" in mimetypes
