"""Fixtures for tests/widgets live in widgets_kit.py (a unique module name: every folder has a conftest)."""

from widgets_kit import *  # noqa: F403
