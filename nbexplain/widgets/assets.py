"""Where the ``js/`` views come from: the checkout first (live edits), then the installed wheel.

anywidget loads a view from a blob URL, so a view cannot import a sibling file. The shared helpers in
``js/_shared.js`` are therefore prepended to each view here, once, when the widget class is defined.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
SHARED = "_shared"


def js_dir() -> Path:
    """The folder holding the views: ``<checkout>/js`` in a source checkout, else ``nbexplain/js``."""
    checkout = _PACKAGE.parent / "js"
    if (checkout / f"{SHARED}.js").is_file() and (_PACKAGE.parent / "pyproject.toml").is_file():
        return checkout
    installed = _PACKAGE / "js"
    if (installed / f"{SHARED}.js").is_file():
        return installed
    raise FileNotFoundError(f"nbexplain's js/ views are missing (looked in {checkout} and {installed})")


@cache
def view_esm(name: str) -> str:
    """The ES module of view ``name``: shared helpers followed by ``js/<name>.js``."""
    folder = js_dir()
    return (folder / f"{SHARED}.js").read_text(encoding="utf-8") + "\n" + (folder / f"{name}.js").read_text(encoding="utf-8")


@cache
def view_css(name: str) -> str:
    """Shared CSS followed by ``js/<name>.css`` when it exists."""
    folder = js_dir()
    own = folder / f"{name}.css"
    return (folder / f"{SHARED}.css").read_text(encoding="utf-8") + ("\n" + own.read_text(encoding="utf-8") if own.is_file() else "")
