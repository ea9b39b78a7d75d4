"""A steady heap for model batches: glibc's malloc set so that a freed batch's memory is reused, not faulted in again.

glibc maps each allocation above its *mmap threshold* afresh, and hands free memory at the top of its heap
back to the system once it exceeds the *trim threshold*. Both start at 128 KiB and only grow when a large
mapped block is freed (to that block's size, and twice it). A model's activations for one batch (a few MB
each) are all freed at the end of its forward pass; when together they exceed the trim threshold reached
so far, they go back to the system and the next batch touches every page anew. Measured here: 2,000
images through the tank CNN at batch 32 took 190,000 page faults and 3.4x the time of the same passes once
the thresholds had grown, and which of the two states a session is in depends on which batch sizes it ran
before. PyTorch's CPU tuning guide suggests swapping the allocator (jemalloc, tcmalloc) for this reason.

:func:`steady_heap` sets the mmap threshold where glibc's own growth ends (32 MiB, its largest) and the
trim threshold to one batch's default memory budget (1 GiB, :data:`BATCH_MEMORY`, a Model's default), once
per process, when a model is adapted: what a batch freed stays in the heap for the next batch. glibc's own
growth stops the trim threshold at 64 MiB, which a batch of activations often exceeds: a ResNet-18-shaped CNN
of width 8 at batch 64 (224 x 224) faulted 17,000 pages in per batch and took 1.6x as long there (measured
against 256 MiB and 1 GiB, where it faulted none). The price: up to 1 GiB of freed memory stays with the
process after a large batch (reused by the next one, not returned to the system). It does nothing off
glibc, when the process was started with ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (the
user's own choice), or with ``NBEXPLAIN_STEADY_HEAP=0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MMAP_THRESHOLD = 32 << 20  # glibc's largest adaptive mmap threshold on 64-bit systems
BATCH_MEMORY = 1 << 30  # the memory one model batch may take by default (Model's memory_budget)
TRIM_THRESHOLD = BATCH_MEMORY  # what a batch freed stays in the heap for the next one
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
OPT_OUT = "NBEXPLAIN_STEADY_HEAP"
_state: dict[str, bool] = {}


def steady_heap() -> bool:
    """Set glibc's thresholds for steady batch memory (once per process); True if they are set."""
    if "set" not in _state:
        _state["set"] = _set_thresholds()
    return _state["set"]


def _set_thresholds() -> bool:
    if os.environ.get(OPT_OUT, "1").strip() in ("0", "false", "no", "off"):
        return False
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl and macOS have no mallopt thresholds)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


__all__ = ["BATCH_MEMORY", "OPT_OUT", "steady_heap"]
