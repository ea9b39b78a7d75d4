"""What every result of a front door shares: a static picture, a widget, a table.

* ``.plot(ax=None)`` draws the result with matplotlib and returns the Axes (each result defines it, through
  :mod:`nbexplain.plotting`); notebooks store the PNG of it (:class:`~nbexplain.plotting.figure.ShownAsPNG`), so
  an exported notebook still shows something true.
* ``.widget(**options)`` is the interactive view of the result (the widget registered for its type).
* ``.to_frame()`` on tabular results: a pandas DataFrame (pandas is optional; :func:`frame` says what to install).
* ``.summary()`` where a result has a one-line story.
"""

from __future__ import annotations

from typing import Any

from .._registry import widget_for
from ..errors import InputError
from ..plotting.figure import ShownAsPNG


class Result(ShownAsPNG):
    """Base class of the results of nbexplain's front doors."""

    def plot(self, ax=None, **options: Any):  # pragma: no cover - every result overrides it
        raise NotImplementedError

    def widget(self, **options: Any):
        """The interactive widget showing this result (``options`` go to the widget, e.g. ``model=``)."""
        return widget_for(self, **options)


def frame(columns: dict[str, Any], index: Any = None):
    """A pandas DataFrame of ``columns`` (pandas is an optional dependency: say how to get it)."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is in the tabular extra
        raise InputError("to_frame() needs pandas: pip install pandas (or nbexplain[tabular])") from exc
    return pd.DataFrame(columns, index=index)


__all__ = ["Result", "frame"]
