"""Fixtures for every test folder (each folder's own fixtures live in its ``*_kit.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the matplotlib figures a test opened (a .plot() call makes one), so none piles up."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
