"""Fixtures for tests/unit live in unit_kit.py (a unique module name: every folder has a conftest)."""

from unit_kit import *  # noqa: F403
