"""Which widget shows which result: widgets register themselves here, results look themselves up.

Results sit on a lower floor than widgets and never import them. A widget module declares what it shows with
``@shows(ResultType)`` on a function ``(result, **options) -> widget``; ``result.widget(**options)`` calls
:func:`widget_for`, which first runs the loaders the package's top floor handed in with :func:`load_with`
(``nbexplain/__init__.py`` hands in "import the widgets package", so every widget has registered), then picks
the entry of the result's class or of its nearest base class. This floor knows no widget module by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import InputError

_SHOWN_BY: dict[type, Callable[..., Any]] = {}
_LOADERS: list[Callable[[], Any]] = []


def shows(*result_types: type):
    """Register the decorated function ``(result, **options) -> widget`` for ``result_types``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for t in result_types:
            _SHOWN_BY[t] = fn
        return fn

    return register


def load_with(loader: Callable[[], Any]) -> None:
    """Run ``loader`` (once) before the first look-up: it imports the modules that register widgets."""
    _LOADERS.append(loader)


def widget_for(result: Any, **options: Any) -> Any:
    """The interactive widget showing ``result`` (its ``options`` go to the widget)."""
    while _LOADERS:
        _LOADERS.pop(0)()
    for klass in type(result).__mro__:
        if klass in _SHOWN_BY:
            return _SHOWN_BY[klass](result, **options)
    raise InputError(f"no widget shows a {type(result).__name__}; use .plot() for a static picture")


__all__ = ["load_with", "shows", "widget_for"]
