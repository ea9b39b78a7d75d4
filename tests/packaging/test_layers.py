"""The house stands: each floor imports only the floors below it (import-linter's contracts in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    if not LINT.exists():
        pytest.fail(f"lint-imports is not installed next to {sys.executable} (pip install import-linter)")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_imports_only_go_down():
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 2 kept, 0 broken" in run.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "nbexplain", tmp_path / "nbexplain", ignore=shutil.ignore_patterns("__pycache__", "js", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    kernel = tmp_path / "nbexplain" / "methods" / "pixel" / "occlusion.py"
    kernel.write_text(kernel.read_text() + "\n\ndef _peek():\n    from ...widgets import base  # noqa: F401 - upward on purpose\n")
    run = lint(tmp_path)
    assert run.returncode != 0
    assert "nbexplain.methods is not allowed to import nbexplain.widgets" in run.stdout
    assert "nbexplain.methods.pixel.occlusion -> nbexplain.widgets.base" in run.stdout
