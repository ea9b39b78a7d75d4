"""Per-row results streamed into a Zarr store, one task's chunk at a time, so no process holds them all.

The driver creates the arrays (one per per-row result, rows first, Zarr chunks of exactly one task's rows);
each task then writes its own rows where it runs (:meth:`ResultStore.write`): chunks are aligned with tasks,
so no two tasks touch one Zarr chunk, and a task run again after a lost worker rewrites the same bytes. At
the end the driver adds the small per-row columns (quality, targets, seeds, failures) and the run's
description as attributes. The location must be reachable from every worker: any local path for a
:class:`~distributed.LocalCluster`, a shared file system or an object-store URL (``s3://...``, through
fsspec) on a real cluster.

Examples
--------
>>> store = ResultStore.create("run.zarr", 1000, {"values": ((10,), "<f8")}, chunk=100)
>>> store.write(0, {"values": np.zeros((100, 10))})
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ...errors import InputError
from .rows import fill_value


def zarr_module():
    """The ``zarr`` package, or an error saying how to get it."""
    try:
        import zarr
    except ImportError as exc:
        raise InputError("store= writes the results to Zarr, which is not installed: pip install zarr "
                         "(or pip install 'nbexplain[dask]')") from exc
    return zarr


def location_of(store: Any) -> str:
    """``store`` (a path or a URL) as a string (a local path made absolute, so workers started elsewhere find
    it), or an error naming the argument."""
    if isinstance(store, (str, os.PathLike)):
        location = os.fspath(store)
        return location if "://" in location else os.path.abspath(location)
    raise InputError(f"store must be a path or URL of a Zarr store (e.g. 'results.zarr'); got {type(store).__name__}")


class ResultStore:
    """The Zarr group of one run at ``location``; per-row arrays chunked by ``chunk`` rows."""

    def __init__(self, location: str, chunk: int):
        self.location, self.chunk = str(location), int(chunk)

    @classmethod
    def create(cls, store: Any, n_rows: int, shapes: dict[str, tuple[tuple[int, ...], str]],
               chunk: int) -> ResultStore:
        """A new store (an existing one at the location is replaced) with an array of ``n_rows`` rows of each
        of ``shapes`` (name -> (row shape, dtype)), filled with NaN until written."""
        zarr = zarr_module()
        location = location_of(store)
        group = zarr.open_group(location, mode="w")
        for name, (shape, dtype) in shapes.items():
            dtype = np.dtype(dtype)
            if dtype.kind == "O":
                raise InputError("store= keeps arrays of one shape per row; this explainer's rows differ in "
                                 "length (e.g. one weight per token): leave store out")
            group.create_array(name, shape=(int(n_rows), *shape), chunks=(int(chunk), *shape), dtype=dtype,
                               fill_value=fill_value(dtype))
        return cls(location, chunk)

    def write(self, start: int, arrays: dict[str, np.ndarray]) -> None:
        """Write rows ``start:start + k`` of every array (``start`` is a multiple of the chunk)."""
        zarr = zarr_module()
        for name, values in arrays.items():
            zarr.open_array(self.location, path=name, mode="r+")[start:start + len(values)] = values

    def finish(self, columns: dict[str, np.ndarray], attrs: dict[str, Any]) -> None:
        """Add the small per-row ``columns`` (whole) and the run's ``attrs`` (JSON)."""
        zarr = zarr_module()
        group = zarr.open_group(self.location, mode="r+")
        for name, values in columns.items():
            values = np.asarray(values)
            group.create_array(name, data=values, chunks=values.shape or (1,), overwrite=True)
        group.attrs.update(attrs)

    def array(self, name: str) -> Any:
        """The stored array ``name``, lazily: a dask array when dask is installed, else the Zarr array."""
        try:
            import dask.array as da
        except ImportError:
            return zarr_module().open_array(self.location, path=name, mode="r")
        return da.from_zarr(self.location, component=name)

    def names(self, group: str | None = None) -> list[str]:
        """The names of the arrays in the store (or in its subgroup ``group``; none if it has no such group)."""
        root = zarr_module().open_group(self.location, mode="r")
        if group is not None:
            if group not in root:
                return []
            root = root[group]
        return sorted(name for name, _ in root.arrays())

    def attrs(self) -> dict[str, Any]:
        """The run's attributes."""
        return dict(zarr_module().open_group(self.location, mode="r").attrs)

    def column(self, name: str) -> np.ndarray:
        """A small per-row column, in memory."""
        return np.asarray(zarr_module().open_array(self.location, path=name, mode="r")[...])


__all__ = ["ResultStore", "location_of", "zarr_module"]
