"""Every argument checker, once: each returns the clean value or raises :class:`~nbexplain.errors.InputError`.

Messages share one style, so users learn to read them: the argument's name, what was expected, what was
given — ``"n_samples must be an int >= 2; got 1"``, ``"method='x' is not valid: expected one of [...]"``.
Unknown keywords are never ignored: :func:`check_keywords` names the nearest valid one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .errors import InputError, UnknownArgumentError


def is_int(value: Any) -> bool:
    """True for Python and numpy integers, but not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """True for real Python and numpy numbers, but not for bools."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int within ``[minimum, maximum]``."""
    if not is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if minimum is not None and maximum is not None:
            expected = f"an int in {minimum}..{maximum}"
        elif minimum == 1 and maximum is None:
            expected = "an int >= 1"
        elif minimum is not None:
            expected = f"an int >= {minimum}"
        elif maximum is not None:
            expected = f"an int <= {maximum}"
        else:
            expected = "an int"
        raise InputError(f"{name} must be {expected}; got {value!r}")
    return int(value)


def check_number(value: Any, name: str, minimum: float | None = None, maximum: float | None = None, *,
                 above: float | None = None, below: float | None = None, expected: str | None = None) -> float:
    """``value`` as a finite float; ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` strict.

    ``expected`` replaces the words the message uses for what was expected (by default made from the bounds),
    e.g. to say what the number means.
    """
    ok = is_number(value) and bool(np.isfinite(value))
    if ok:
        v = float(value)
        ok = ((minimum is None or v >= minimum) and (maximum is None or v <= maximum)
              and (above is None or v > above) and (below is None or v < below))
    if not ok:
        if expected is not None:
            pass  # the caller's own words
        elif above == 0 and below is None and minimum is None and maximum is None:
            expected = "a positive number"
        elif minimum == 0 and maximum is None and above is None and below is None:
            expected = "a non-negative number"
        else:
            parts = []
            if minimum is not None:
                parts.append(f">= {minimum:g}")
            if above is not None:
                parts.append(f"> {above:g}")
            if maximum is not None:
                parts.append(f"<= {maximum:g}")
            if below is not None:
                parts.append(f"< {below:g}")
            expected = "a finite number" + (" " + " and ".join(parts) if parts else "")
        raise InputError(f"{name} must be {expected}; got {value!r}")
    return float(value)


def check_positive(value: Any, name: str) -> float:
    """``value`` as a finite float > 0."""
    return check_number(value, name, above=0)


def check_probability(value: Any, name: str, *, strict: bool = False) -> float:
    """``value`` as a float in [0, 1] (in (0, 1) when ``strict``)."""
    if strict:
        if not (is_number(value) and 0 < value < 1):
            raise InputError(f"{name} must be a number strictly between 0 and 1; got {value!r}")
        return float(value)
    return check_number(value, name, 0.0, 1.0)


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool (Python or numpy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1 (a count, a size, a number of steps)."""
    if not is_int(value) or value < 1:
        raise InputError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def check_int_pair(value: Any, name: str, minimum: int = 1, pair_name: str = "a pair") -> tuple[int, int]:
    """``value`` — an int >= ``minimum`` or a pair of them — as a ``(rows, columns)`` pair (a window, a stride,
    an image's size); ``pair_name`` says what the pair is in the message."""
    pair = (value, value) if is_int(value) else value
    try:
        ok = len(pair) == 2 and all(is_int(v) and v >= minimum for v in pair)
    except TypeError:  # no len(): not a pair
        ok = False
    if not ok or isinstance(pair, (str, bytes)):
        one = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise InputError(f"{name} must be {one} or {pair_name} of them; got {value!r}")
    return int(pair[0]), int(pair[1])


def check_range(value: Any, name: str) -> tuple[float, float]:
    """``value`` as a ``(low, high)`` pair of finite numbers with low < high (a colour scale, a value range)."""
    try:
        low, high = value
        ok = is_number(low) and is_number(high)
    except (TypeError, ValueError):  # not a pair
        ok = False
    if not ok:
        raise InputError(f"{name} must be a (low, high) pair of numbers; got {value!r}")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InputError(f"{name} must have low < high, both finite; got {value!r}")
    return float(low), float(high)


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """``seed`` as a non-negative int, or None (fresh randomness: not reproducible)."""
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:
        raise InputError(f"{name} must be a non-negative int or None; got {seed!r}")
    return int(seed)


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (a likely typo), or None when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return close[0] if close else None


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    near = nearest(word, candidates)
    return f"; did you mean {near!r}?" if near else ""


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``, else an error listing them (and the nearest one)."""
    options = list(choices)
    try:
        ok = value in options
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        hint = _suggestion(value, [o for o in options if isinstance(o, str)]) if isinstance(value, str) else ""
        raise InputError(f"{name}={value!r} is not valid: expected one of {options}{hint}")
    return value


def check_keywords(given: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Raise :class:`UnknownArgumentError` for a keyword ``where`` does not take, naming the nearest valid one.

    Examples
    --------
    >>> check_keywords(["methd"], ["method", "target"], "Heatmap()")
    Traceback (most recent call last):
    UnknownArgumentError: Heatmap() got an unexpected keyword argument 'methd'; did you mean 'method'?
    """
    allowed = list(allowed)
    for key in given:
        if key not in allowed:
            raise UnknownArgumentError(f"{where} got an unexpected keyword argument {key!r}"
                                       f"{_suggestion(key, allowed)}")


def check_options(options: Any, name: str, allowed: Iterable[str]) -> dict:
    """``options`` as a dict whose keys are all in ``allowed`` (None is an empty dict)."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InputError(f"{name} must be a dict of options; got {type(options).__name__}")
    allowed = list(allowed)
    for key in options:
        if key not in allowed:
            raise UnknownArgumentError(f"{name} has an unknown option {key!r}{_suggestion(key, allowed)}; "
                                       f"it takes {sorted(allowed)}")
    return dict(options)


def check_callable(value: Any, name: str, expected: str) -> Callable:
    """``value`` if callable, else an error saying what it should compute (``expected``)."""
    if not callable(value):
        raise InputError(f"{name} must be callable ({expected}); got {type(value).__name__}")
    return value


def check_finite_array(value: Any, name: str, *, ndim: int | None = None, dtype=np.float64) -> np.ndarray:
    """``value`` as a numeric array of ``dtype`` with no NaN or inf (and ``ndim`` dimensions when given)."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be an array of numbers; got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name} must have {ndim} dimension(s); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return arr


__all__ = [
    "check_bool", "check_callable", "check_choice", "check_finite_array", "check_int", "check_int_pair",
    "check_keywords", "check_number", "check_options", "check_positive", "check_positive_int", "check_probability",
    "check_range", "check_seed", "is_int", "is_number",
    "nearest",
]
