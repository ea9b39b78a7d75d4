"""Explaining many rows or images with any per-row explainer, in-process or on a Dask cluster: the machinery.

Kernels only (no results, no front doors): :mod:`.seeds` (each row's seed from the run's seed and the row's
index), :mod:`.chunks` (the chunk-size rule), :mod:`.rows` (one chunk explained, failures kept per row),
:mod:`.batching` (one batch size for a whole run, so rows are bit-identical wherever they run),
:mod:`.executors` (in-process and Dask adapters), :mod:`.store` (results streamed to Zarr), :mod:`.collect`
(the driver's side), :mod:`.progress` (rows done and failed, rate, time left). The front door is
:func:`nbexplain.explain_many` (:mod:`nbexplain.explain.many`).
"""

from .chunks import ChunkPlan, estimate_seconds, plan_chunks
from .rows import ChunkResult, Items, RowFailure, RowOutput, run_chunk
from .seeds import row_seed, row_seeds, seed_entropy

__all__ = ["ChunkPlan", "ChunkResult", "Items", "RowFailure", "RowOutput", "estimate_seconds", "plan_chunks",
           "row_seed", "row_seeds", "run_chunk", "seed_entropy"]
