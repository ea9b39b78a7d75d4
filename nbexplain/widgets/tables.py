"""Answer tables: what a view answers without the kernel, shipped in exports and with ``precompute=True``.

A widget declares what its view can answer from tables (``table_answers``: request action -> what the
tables hold) and builds them when asked (``precompute=True``) or when its notebook is run by the exporter
(:func:`nbexplain.export_html` sets ``NBEXPLAIN_EXPORT=1`` for the kernel), into one synced trait,
``answer_tables``, whose arrays travel as binary buffers. The view's ``answer(action, params)`` (see
``nbxRequester`` in ``js/_shared.js``) answers from them; what they cannot answer goes to the kernel, or, in
an exported page without one, is marked "needs a running kernel".

Example
-------
>>> ex = nbx.FeatureEffects(model, X, precompute=True)   # every feature's PDP / ICE / ALE in the page
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import traitlets

from .._validation import check_bool
from .codec import encode_array

#: set (to "1") in the kernel of a notebook that the exporter runs: widgets then build their tables
EXPORT_ENV = "NBEXPLAIN_EXPORT"


def exporting() -> bool:
    """True in a kernel run by the exporter (``NBEXPLAIN_EXPORT`` set and not "0")."""
    return os.environ.get(EXPORT_ENV, "") not in ("", "0")


def wants_tables(precompute: Any) -> bool:
    """``precompute`` as a bool; None means "when exporting"."""
    return exporting() if precompute is None else check_bool(precompute, "precompute")


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return encode_array(value)
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _tables_to_json(value: Any, widget: Any) -> Any:
    return None if value is None else _encode(value)


def _tables_from_json(value: Any, widget: Any) -> Any:
    return value  # never written by the view (read-only), kept for symmetry


def answer_tables_trait() -> traitlets.Any:
    """The ``answer_tables`` trait: a dict of arrays (binary buffers), numbers and names; None when not built."""
    return traitlets.Any(None).tag(sync=True, to_json=_tables_to_json, from_json=_tables_from_json)


def half(values: Any) -> np.ndarray:
    """IEEE half-precision bits (uint16) of ``values``: exact to ~3 significant digits in 2 bytes
    (decoded by ``nbxHalfToFloat``)."""
    return np.asarray(values, dtype=np.float16).view(np.uint16)


def colour_index(values: Any, low: float, high: float) -> np.ndarray:
    """The 0..255 colour-map index of each value, exactly as ``nbxScalarImage`` computes it in the page
    (``Math.round(((v - low) / span) * 255)`` clipped; span 1 when ``high <= low``)."""
    v = np.asarray(values, dtype=np.float32).astype(np.float64)
    span = high - low if high > low else 1.0
    return np.clip(np.floor((v - low) / span * 255 + 0.5), 0, 255).astype(np.uint8)
