"""One batch size and one thread per model call for a whole run, so a row gives the same bits wherever it runs.

A torch model's outputs for one input differ in the last bits with the size of the batch it is computed in
(convolution kernels block and vectorise differently: the tank CNN's logits move by ~5e-7 between batches of
1 and 16), and with the number of intra-op threads (a small CNN's occlusion maps move by ~1e-5 between one
and two threads). The model adapter's :class:`~nbexplain.adapters.batching.BatchSizer` climbs through batch
sizes on the first calls, and every process climbs on its own, so the first rows a process explains would
not be bit-identical with the same rows explained elsewhere. A run therefore measures the best batch size
once (a pilot row on a scratch copy of the model) and fixes it for every row, and runs every torch call on
one thread (:func:`torch_threads`), in-process as on a Dask worker (one worker process per core, one thread
each: the way to use several cores for many small explanations). Other models (scikit-learn, callables)
already predict in fixed chunks: nothing to fix.

``batch_size="per_worker"`` (see :func:`nbexplain.explain_many`) keeps each process's own climb and threads
instead: the fastest choice on mixed hardware, at the price of last-bit differences for torch models.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from ...adapters.model import Model

#: measured best batch size per model object and (explainer, input shape), for this session
_MEASURED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def needs_measuring(model: Model) -> bool:
    """True when the model climbs through batch sizes (a torch module without a fixed ``batch_size``)."""
    return model.kind == "torch" and model.batch_size is None


def scratch_copy(model: Model) -> Model:
    """A copy of ``model`` sharing its weights but with batch sizes not yet measured (for a pilot)."""
    return model.with_batch_size(None)


def with_batch_size(model: Model, batch_size: int) -> Model:
    """A copy of ``model`` that always predicts in batches of ``batch_size``."""
    return model.with_batch_size(int(batch_size))


def measured_batch_size(scratch: Model) -> int | None:
    """The best batch size the pilot's ``scratch`` model found (for the input shape it predicted most)."""
    return scratch.measured_batch_size


def remembered(raw: Any, key: tuple) -> int | None:
    """The batch size measured earlier in this session for model object ``raw`` and ``key``."""
    try:
        return _MEASURED.get(raw, {}).get(key)
    except TypeError:  # not weakly referenceable
        return None


def remember(raw: Any, key: tuple, batch_size: int) -> None:
    """Keep ``batch_size`` for ``raw`` and ``key``, so later runs fix the same one (and agree bit for bit)."""
    try:
        _MEASURED.setdefault(raw, {})[key] = int(batch_size)
    except TypeError:
        pass


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run torch on ``threads`` intra-op threads inside the block (None: leave it as it is); restored after."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if before != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


__all__ = ["measured_batch_size", "needs_measuring", "remember", "remembered", "scratch_copy", "torch_threads",
           "with_batch_size"]
