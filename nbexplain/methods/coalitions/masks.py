"""Coalitions of players as boolean masks: the common currency of Shapley values, LIME, anchors and curves.

A coalition of ``M`` players is a row of ``M`` booleans (True = the player is present). Row ``b`` of
:func:`all_coalitions` is the bitmask ``b``: bit ``i`` set means player ``i`` is present, so a value table
``values[b]`` can be indexed by the bitmask of a coalition (:func:`coalition_index`).
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_positive_int
from ...errors import InputError

#: Largest number of players :func:`all_coalitions` enumerates (2**24 rows = 16.8 million).
MAX_ENUMERATED_PLAYERS = 24


def check_n_players(n_players, name: str = "n_players", maximum: int | None = None) -> int:
    """``n_players`` as a positive int (at most ``maximum`` when enumerated), or :class:`InputError` naming ``name``."""
    n_players = check_positive_int(n_players, name)
    if maximum is not None and n_players > maximum:
        raise InputError(f"{name}={int(n_players)} is too large: at most {maximum} players can be enumerated "
                         f"(2**{int(n_players)} coalitions); use sampling instead")
    return int(n_players)


def all_coalitions(n_players: int) -> np.ndarray:
    """Every coalition of ``n_players`` players, ``(2**M, M)`` bool; row ``b`` is the bitmask ``b``.

    Examples
    --------
    >>> all_coalitions(2).astype(int)
    array([[0, 0],
           [1, 0],
           [0, 1],
           [1, 1]])
    """
    m = check_n_players(n_players, maximum=MAX_ENUMERATED_PLAYERS)
    b = np.arange(2**m, dtype=np.int64)
    return ((b[:, None] >> np.arange(m, dtype=np.int64)[None, :]) & 1).astype(bool)


def coalition_index(coalitions: np.ndarray) -> np.ndarray:
    """The bitmask of each coalition ``(N, M)`` bool -> ``(N,)`` int64 (row index into :func:`all_coalitions`)."""
    z = check_coalitions(coalitions, "coalitions")
    if z.shape[1] > 62:
        raise InputError(f"coalitions has {z.shape[1]} players; bitmask indices need at most 62")
    return z.astype(np.int64) @ (np.int64(1) << np.arange(z.shape[1], dtype=np.int64))


def popcount(index: np.ndarray) -> np.ndarray:
    """Number of set bits of each non-negative int64 bitmask (the coalition size)."""
    x = np.asarray(index, dtype=np.int64)
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(x).astype(np.int64)
    x = x.copy()
    count = np.zeros(x.shape, dtype=np.int64)
    while np.any(x):
        count += x & 1
        x >>= 1
    return count


def check_coalitions(coalitions, name: str = "coalitions", n_players: int | None = None) -> np.ndarray:
    """``coalitions`` as an ``(N, M)`` bool array (0/1 ints accepted), or :class:`InputError` naming ``name``."""
    z = np.asarray(coalitions)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2:
        raise InputError(f"{name} must be an (N, M) boolean array of coalitions; got shape {z.shape}")
    if z.dtype != bool:
        if not (np.issubdtype(z.dtype, np.integer) or np.issubdtype(z.dtype, np.floating)) or not np.isin(z, (0, 1)).all():
            raise InputError(f"{name} must hold booleans (or 0/1); got dtype {z.dtype}")
        z = z.astype(bool)
    if n_players is not None and z.shape[1] != n_players:
        raise InputError(f"{name} must have {n_players} columns (one per player); got shape {z.shape}")
    return z


def pack_keys(coalitions: np.ndarray) -> list[bytes]:
    """A hashable key per coalition row (its bits packed into bytes), for caching values per coalition."""
    packed = np.ascontiguousarray(np.packbits(np.asarray(coalitions, dtype=bool), axis=1, bitorder="little"))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel().tolist()  # one bytes per row


__all__ = ["all_coalitions", "check_coalitions", "check_n_players", "coalition_index", "pack_keys", "popcount"]
