"""The wheel of this checkout, built once for the packaging tests, and fresh environments that install it."""

from __future__ import annotations

import site
import subprocess
import sys
import venv
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """``python -m build --wheel`` of the checkout (no isolation: the running environment builds it)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (found,) = out.glob("nbexplain-*.whl")
    return found


@pytest.fixture
def fresh_env(wheel, tmp_path) -> SimpleNamespace:
    """A new venv in ``tmp_path / "venv"`` with the wheel installed: ``python``, ``env_dir`` and ``site_dir``.

    The running environment's site-packages provide the dependencies (added as a plain path, so its .pth files,
    among them an editable install of nbexplain, are not processed); nbexplain comes only from the wheel.
    """
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site_dir = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                              check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(site_dir) / "_nbx_test_deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True)
    return SimpleNamespace(python=python, env_dir=env_dir, site_dir=Path(site_dir))
