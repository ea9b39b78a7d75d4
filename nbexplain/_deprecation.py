"""Old names keep working for one release, with a :class:`FutureWarning` naming the new one.

``@renamed(X_train="data")`` lets callers still write ``f(..., X_train=...)``: the value goes to ``data`` and
a FutureWarning says so; giving both is an error. :func:`renamed_value` does the same for a value of an
argument (``output="probabilities"`` -> ``"probability"``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .errors import UnknownArgumentError

#: the release in which the old names stop working
REMOVED_IN = "0.3"


def renamed(**old_to_new: str) -> Callable:
    """Decorator: accept each old keyword (with a FutureWarning) as its new name."""

    def wrap(fn: Callable) -> Callable:
        where = f"{fn.__qualname__}()"

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **renamed_keys(kwargs, old_to_new, where, stacklevel=3))

        call.__renamed__ = dict(old_to_new)  # type: ignore[attr-defined]
        return call

    return wrap


def renamed_keys(options: dict[str, Any], old_to_new: dict[str, str], where: str, stacklevel: int = 3) -> dict[str, Any]:
    """``options`` with each old key under its new name (and a FutureWarning); both given is an error.

    For keywords that travel in a dict or ``**options`` (e.g. a method's options checked by its front door).
    """
    options = dict(options)
    for old, new in old_to_new.items():
        if old in options:
            if new in options:
                raise UnknownArgumentError(f"{where} got both {old!r} and its new name {new!r}; pass only {new!r}")
            warnings.warn(f"{where}: {old!r} is now called {new!r}; {old!r} stops working in nbexplain "
                          f"{REMOVED_IN}", FutureWarning, stacklevel=stacklevel)
            options[new] = options.pop(old)
    return options


def renamed_value(value: Any, name: str, old_to_new: dict[Any, Any], stacklevel: int = 3) -> Any:
    """``value`` with an old spelling replaced by the new one (and a FutureWarning)."""
    if isinstance(value, str) and value in old_to_new:
        new = old_to_new[value]
        warnings.warn(f"{name}={value!r} is now spelled {name}={new!r}; {value!r} stops working in nbexplain "
                      f"{REMOVED_IN}", FutureWarning, stacklevel=stacklevel)
        return new
    return value


__all__ = ["REMOVED_IN", "renamed", "renamed_keys", "renamed_value"]
