"""Explaining the rows of one chunk: inputs sliced into chunks, one explanation per row, failures kept per row.

* :class:`Items` — the inputs to explain (table rows, images, texts), sliced into :class:`Chunk` objects that
  travel to wherever they are explained: an in-memory array sends its slice; a lazy array (Zarr, HDF5, a
  :class:`~nbexplain.adapters.lazy.LazyRows`) sends itself and is read by the worker, so the driver never
  holds the inputs of a large run.
* :func:`run_chunk` — the task an executor runs: each row of a chunk explained by a :class:`RowTask` with its
  own seed (:mod:`.seeds`), an error in one row recorded as a :class:`RowFailure` and the other rows kept;
  the per-row arrays stacked (NaN rows where a row failed), or written straight into a store.

Everything here is plain data and module-level functions, so it pickles to Dask workers.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ...errors import InputError, UnknownArgumentError
from .batching import torch_threads
from .seeds import row_seed

#: what a per-row array is filled with where the row failed (integer arrays: -1)
MISSING = np.nan


@dataclass
class RowOutput:
    """What one row's explanation contributes: per-row ``arrays`` (``"values"`` first), ``quality`` numbers
    and the explained class ``target`` (-1 when it has none)."""

    arrays: dict[str, np.ndarray]
    quality: dict[str, float]
    target: int = -1


class RowTask(Protocol):
    """Explains one input: ``explain(item, seed, extra)`` with ``extra`` the row's own keywords (e.g. its
    target); ``shapes`` the per-row array shapes and dtypes once known (used to fill failed rows); ``ragged``
    when rows' arrays differ in length (e.g. one weight per token): they are kept as one object per row;
    ``threads`` the torch threads every model call runs on (None: as the process has it)."""

    shapes: dict[str, tuple[tuple[int, ...], str]] | None
    ragged: bool
    threads: int | None

    def explain(self, item: Any, seed: int, extra: dict[str, Any]) -> RowOutput: ...


@dataclass
class RowFailure:
    """One row that could not be explained: its index, the error's class name and message, and the last
    lines of the traceback (where in the model or the method it failed)."""

    row: int
    error: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"row {self.row}: {self.error}: {self.message}"


# ---------------------------------------------------------------------------------------------------
# inputs and chunks
# ---------------------------------------------------------------------------------------------------
def is_lazy_array(x: Any) -> bool:
    """True for an array-like read on demand (Zarr, HDF5, dask, LazyRows), not a numpy array or a list."""
    return (not isinstance(x, (np.ndarray, list, tuple)) and hasattr(x, "shape") and hasattr(x, "dtype")
            and hasattr(x, "__getitem__"))


@dataclass
class Chunk:
    """Rows ``start:stop`` of the inputs: ``items`` (an array or list, or the lazy source read by :meth:`load`)
    and ``extra``, per-row keywords (name -> one value per row of the chunk)."""

    start: int
    stop: int
    items: Any
    extra: dict[str, Any] = field(default_factory=dict)
    lazy: bool = False

    def __len__(self) -> int:
        return self.stop - self.start

    def load(self) -> Any:
        """The chunk's items in memory (a lazy source is read here, on the worker)."""
        if self.lazy:
            return np.asarray(self.items[self.start:self.stop])
        return self.items

    def row(self, items: Any, i: int) -> tuple[Any, dict[str, Any]]:
        """Row ``i`` of the chunk (0-based within it): the item and its keywords."""
        extra = {}
        for name, values in self.extra.items():
            v = values[i]
            extra[name] = v.item() if isinstance(v, np.generic) else v
        return items[i], extra


class Items:
    """The inputs of a run, ``n`` of them, sliced into chunks; ``extra`` holds per-row keywords."""

    def __init__(self, source: Any, n: int, extra: dict[str, Any] | None = None):
        self.source, self.n = source, int(n)
        self.lazy = is_lazy_array(source)
        self.extra = dict(extra or {})

    def __len__(self) -> int:
        return self.n

    def chunk(self, start: int, stop: int) -> Chunk:
        extra = {k: v[start:stop] for k, v in self.extra.items()}
        if self.lazy:
            return Chunk(start, stop, self.source, extra, lazy=True)
        return Chunk(start, stop, self.source[start:stop], extra)

    def item(self, i: int) -> tuple[Any, dict[str, Any]]:
        """Input ``i`` and its keywords (read from a lazy source as needed)."""
        c = self.chunk(i, i + 1)
        return c.row(c.load(), 0)


# ---------------------------------------------------------------------------------------------------
# one chunk
# ---------------------------------------------------------------------------------------------------
@dataclass
class ChunkResult:
    """What a task sends back for rows ``start:stop``.

    ``arrays`` name -> (k, ...) stacked per-row arrays with NaN rows where a row failed (empty when every
    row failed and their shapes are unknown, or when they were written to a store); ``quality`` name -> (k,)
    float64; ``targets`` (k,) int64; ``seeds`` (k,) uint32; ``failed`` (k,) bool with one
    :class:`RowFailure` per failed row in ``failures``; ``seconds`` (k,) per row; ``worker`` the process.
    """

    start: int
    stop: int
    arrays: dict[str, np.ndarray]
    quality: dict[str, np.ndarray]
    targets: np.ndarray
    seeds: np.ndarray
    failed: np.ndarray
    failures: list[RowFailure]
    seconds: np.ndarray
    worker: str = ""

    def summary(self) -> ChunkResult:
        """The same without the arrays (what the driver needs when the arrays stay on a worker)."""
        return ChunkResult(self.start, self.stop, {}, self.quality, self.targets, self.seeds, self.failed,
                           self.failures, self.seconds, self.worker)


def failure_of(row: int, exc: BaseException) -> RowFailure:
    """A :class:`RowFailure` for ``exc`` raised while explaining ``row`` (the traceback's last 8 lines)."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-8:])
    return RowFailure(int(row), type(exc).__name__, str(exc), tb)


def fill_value(dtype: Any) -> Any:
    """What a row with no result holds: NaN (floats), -1 (integers), None (objects), else 0."""
    kind = np.dtype(dtype).kind
    return MISSING if kind in "fc" else -1 if kind in "iu" else None if kind == "O" else 0


def stack_rows(outputs: Sequence[RowOutput | None], shapes: dict[str, tuple[tuple[int, ...], str]] | None,
               rows: Sequence[int], ragged: bool = False) -> tuple[dict[str, np.ndarray], list[RowFailure]]:
    """Stack per-row arrays (None = a failed row: filled with NaN). A row whose arrays do not have the shapes
    of the others (``shapes``, else the first row's) becomes a failure instead of breaking the stack.
    ``ragged``: each row's arrays are kept whole, one object per row."""
    failures = []
    if ragged:
        names = shapes or next(({k: ((), "|O") for k in o.arrays} for o in outputs if o is not None), {})
        stacked = {name: np.full(len(outputs), None, dtype=object) for name in names}
        for i, out in enumerate(outputs):
            for name in stacked if out is not None else ():
                stacked[name][i] = np.asarray(out.arrays[name])
        return stacked, failures
    if shapes is None:
        first = next((o for o in outputs if o is not None), None)
        if first is None:
            return {}, failures
        shapes = {k: (tuple(np.shape(v)), np.asarray(v).dtype.str) for k, v in first.arrays.items()}
    stacked = {}
    for name, (shape, dtype) in shapes.items():
        stacked[name] = np.full((len(outputs), *shape), fill_value(dtype), dtype=np.dtype(dtype))
    for i, out in enumerate(outputs):
        if out is None:
            continue
        got = {k: tuple(np.shape(v)) for k, v in out.arrays.items()}
        want = {k: s for k, (s, _) in shapes.items()}
        if got != want:
            failures.append(RowFailure(int(rows[i]), "InputError", f"the explanation has shapes {got}, but the "
                                       f"other rows' are {want} (explain inputs of one size together)"))
            continue
        for name in shapes:
            stacked[name][i] = out.arrays[name]
    return stacked, failures


def run_chunk(task: RowTask, chunk: Chunk, entropy: int, store: Any = None,
              on_row: Callable[[int, RowFailure | None], None] | None = None,
              done: dict[int, RowOutput] | None = None) -> ChunkResult:
    """Explain every row of ``chunk`` with ``task``: row ``r`` with seed ``row_seed(entropy, r)``.

    An exception in one row is recorded (:class:`RowFailure`) and the next row goes on, except an
    :class:`~nbexplain.errors.UnknownArgumentError` (a misspelt option fails every row alike: it is raised).
    ``store`` (a :class:`~.store.ResultStore`) receives the stacked arrays of the chunk, which are then left
    out of the result. ``on_row(row, failure)`` is called after each row, with its :class:`RowFailure` or
    None (in-process progress; it may raise to cancel). ``done`` holds rows already explained (their outputs are used as they are).
    """
    with torch_threads(getattr(task, "threads", None)):
        return _run_chunk(task, chunk, entropy, store, on_row, done)


def _run_chunk(task: RowTask, chunk: Chunk, entropy: int, store: Any, on_row: Any, done: Any) -> ChunkResult:
    items = chunk.load()
    k = len(chunk)
    outputs: list[RowOutput | None] = [None] * k
    failures: list[RowFailure] = []
    seeds = np.zeros(k, dtype=np.uint32)
    seconds = np.zeros(k)
    for i in range(k):
        row = chunk.start + i
        seeds[i] = row_seed(entropy, row)
        t0 = time.perf_counter()
        if done and row in done:
            outputs[i] = done[row]
        else:
            try:
                item, extra = chunk.row(items, i)
                outputs[i] = task.explain(item, int(seeds[i]), extra)
            except UnknownArgumentError:
                raise
            except Exception as exc:  # one bad row never loses the others
                failures.append(failure_of(row, exc))
        seconds[i] = time.perf_counter() - t0
        if on_row is not None:
            on_row(row, None if outputs[i] is not None else failures[-1])
    rows = list(range(chunk.start, chunk.stop))
    arrays, mismatched = stack_rows(outputs, task.shapes, rows, getattr(task, "ragged", False))
    for f in mismatched:
        outputs[f.row - chunk.start] = None
    failures = sorted(failures + mismatched, key=lambda f: f.row)
    names = sorted({q for o in outputs if o is not None for q in o.quality})
    quality = {q: np.array([np.nan if o is None or o.quality.get(q) is None else float(o.quality[q])
                            for o in outputs]) for q in names}
    targets = np.array([-1 if o is None else int(o.target) for o in outputs], dtype=np.int64)
    failed = np.array([o is None for o in outputs], dtype=bool)
    result = ChunkResult(chunk.start, chunk.stop, arrays, quality, targets, seeds, failed, failures, seconds,
                         worker=f"{socket.gethostname()}:{os.getpid()}")
    if store is not None:
        if not arrays:
            raise InputError("the rows' shapes must be known to write them to a store")
        store.write(chunk.start, arrays)
        result.arrays = {}
    return result


__all__ = ["Chunk", "ChunkResult", "Items", "RowFailure", "RowOutput", "RowTask", "failure_of", "fill_value",
           "is_lazy_array", "run_chunk", "stack_rows"]
