"""Binary array codec shared by every widget: numpy arrays travel as ``{dtype, shape, buffer}``.

The buffer is a raw memoryview that ipywidgets sends as a binary websocket frame, never as a JSON list.
The JavaScript twin is ``nbxDecodeArray`` in ``js/_shared.js`` (it honours ``DataView.byteOffset``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ipywidgets.widgets.widget import _remove_buffers

from ..errors import InputError

# dtypes with a JavaScript typed-array counterpart
JS_DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}


def encode_array(array: Any) -> dict | None:
    """``{dtype, shape, buffer}`` for a numpy array (None stays None). int64 -> int32, bool -> uint8."""
    if array is None:
        return None
    arr = np.asarray(array)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    elif arr.dtype == np.int64:
        arr = arr.astype(np.int32)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    if arr.dtype.name not in JS_DTYPES:
        raise TypeError(f"cannot send dtype {arr.dtype} to the browser; expected one of {sorted(JS_DTYPES)}")
    arr = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape), "buffer": memoryview(arr.reshape(-1)).cast("B")}


def decode_array(obj: dict | None) -> np.ndarray | None:
    """Inverse of :func:`encode_array` (for arrays the view sends back)."""
    if obj is None:
        return None
    if not isinstance(obj, dict) or obj.get("dtype") not in JS_DTYPES or "buffer" not in obj:
        raise InputError(f"an array from the view must be {{dtype, shape, buffer}} with dtype one of "
                         f"{sorted(JS_DTYPES)}; got {obj!r:.80}")
    raw = obj["buffer"]
    data = np.frombuffer(bytes(raw) if not isinstance(raw, (bytes, memoryview)) else raw, dtype=np.dtype(obj["dtype"]).newbyteorder("<"))
    try:
        return data.reshape(obj["shape"]).copy()
    except (TypeError, ValueError) as exc:
        raise InputError(f"an array from the view has {data.size} values but shape {obj.get('shape')!r}") from exc


def _to_json(value: Any, widget: Any) -> dict | None:
    return encode_array(value)


def _from_json(value: Any, widget: Any) -> np.ndarray | None:
    return decode_array(value)


#: ``trait.tag(sync=True, **array_serialization)`` makes a trait travel as a binary array.
array_serialization = {"to_json": _to_json, "from_json": _from_json}


def pack_message(content: dict) -> tuple[dict, list]:
    """Encode numpy arrays anywhere in ``content`` and lift every buffer out (paths in ``buffer_paths``)."""

    def walk(value):
        if isinstance(value, np.ndarray):
            return encode_array(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    state, paths, buffers = _remove_buffers(walk(content))
    state["buffer_paths"] = paths
    return state, buffers


def unpack_message(content: dict, buffers: list) -> dict:
    """Put ``buffers`` back at ``content['buffer_paths']`` (the view's side of :func:`pack_message`)."""
    content = dict(content)
    for path, buf in zip(content.pop("buffer_paths", []) or [], buffers or [], strict=False):
        node = content
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = buf
    return content
