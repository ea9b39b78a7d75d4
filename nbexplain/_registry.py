"""Which widget shows which result: widgets register themselves here, results look themselves up.

Results sit on a lower floor than widgets and never import them. A widget module declares what it shows with
``@shows(ResultType)`` on a function ``(result, **options) -> widget``; ``result.widget(**options)`` calls
:func:`widget_for`, which imports the widgets package (so every widget has registered) and picks the entry of
the result's class or its nearest base class.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .errors import InputError

_SHOWN_BY: dict[type, Callable[..., Any]] = {}


def shows(*result_types: type):
    """Register the decorated function ``(result, **options) -> widget`` for ``result_types``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for t in result_types:
            _SHOWN_BY[t] = fn
        return fn

    return register


def widget_for(result: Any, **options: Any) -> Any:
    """The interactive widget showing ``result`` (its ``options`` go to the widget)."""
    importlib.import_module("nbexplain.widgets")  # every widget module registers on import
    for klass in type(result).__mro__:
        if klass in _SHOWN_BY:
            return _SHOWN_BY[klass](result, **options)
    raise InputError(f"no widget shows a {type(result).__name__}; use .plot() for a static picture")


__all__ = ["shows", "widget_for"]
