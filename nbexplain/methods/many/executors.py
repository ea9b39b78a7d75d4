"""Where the chunks of a run are explained: in this process, or on a Dask cluster (``dask.distributed``).

Both adapters take the same :class:`~.rows.RowTask`, inputs (:class:`~.rows.Items`) and chunk plan, run
:func:`~.rows.run_chunk` on every chunk and hand each :class:`~.rows.ChunkResult` to ``collect`` as it
arrives (which may raise to cancel the run).

* :class:`InProcess` — chunk after chunk, row after row, in the caller's process (progress per row).
* :class:`DaskExecutor` — the task (model, reference data, options) is scattered once to every worker
  (``Client.scatter(broadcast=True)``: sent once per worker, not pickled into every task); chunks are
  submitted through a window of a few tasks per worker thread, so the scheduler holds only the inputs of
  tasks about to run and a cancel has little to drop. A worker lost in the middle of a run loses nothing:
  the scheduler runs its tasks again elsewhere, with the same rows and seeds, so with the same bits (if
  every worker holding the scattered task died, it is scattered again and the chunks resubmitted). A chunk
  whose workers kept dying (``KilledWorker``, after the scheduler's ``allowed-failures`` retries: a row
  that exhausts memory or crashes the process) is split into single rows, so only the row that kills its
  worker is reported failed.
  :meth:`DaskExecutor.task_overhead` measures the scheduler's cost per task with no-op tasks through the
  same window, once per cluster and session.

:func:`dask_executor` turns ``executor="dask"``, a scheduler address or a ``Client`` into an adapter, and says
exactly what to install when ``dask.distributed`` is missing.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from .chunks import ChunkPlan
from .rows import Chunk, ChunkResult, Items, RowFailure, RowTask, fill_value, run_chunk
from .seeds import row_seeds

#: tasks in flight per worker thread (one running, the next ones waiting on the worker)
WINDOW_PER_THREAD = 3
#: no-op tasks per worker thread used to measure the per-task overhead
PROBES_PER_THREAD = 12
#: how often a run sends the task again after every worker holding it died
MAX_RESENDS = 10
#: a single row whose worker died is tried this many times before it is reported (another row on the same
#: worker may have killed it)
SINGLE_TRIES = 3
#: seconds a run waits for a worker to come back when the cluster has none
WORKER_WAIT = 300
#: seconds a run waits for the first worker of a cluster that is starting
STARTUP_WAIT = 30.0
#: seconds between checks that the cluster still has workers while no task finishes
CHECK_EVERY = 5.0

Collect = Callable[[ChunkResult], None]

#: Dask settings for clusters that explain: Dask starts worker processes with MALLOC_TRIM_THRESHOLD_=65536,
#: which switches off glibc's adaptive mmap threshold, so every large temporary array (a batch of perturbed
#: rows) is mapped and page-faulted afresh: measured 20-25 % more CPU per exact Shapley explanation of the
#: Credit data. Unset, workers allocate as a plain Python process does.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}

_OVERHEAD: dict[str, float] = {}  # measured seconds per task, per scheduler address, for this session
_SESSION: dict[str, Any] = {}  # the LocalCluster started by executor="dask", and clients made from addresses

INSTALL = ("executor='dask' runs on dask.distributed, which is not installed: pip install 'nbexplain[dask]' "
           "(or: pip install 'dask[distributed]')")


class InProcess:
    """Explains every chunk here, in order; ``on_row(row, failure)`` is told after each row."""

    description = "in-process"
    threads = 1
    dashboard: str | None = None

    def __init__(self, on_row: Callable[[int, RowFailure | None], None] | None = None):
        self.on_row = on_row

    def task_overhead(self) -> float:
        return 0.0

    def run(self, task: RowTask, items: Items, plan: ChunkPlan, entropy: int, store: Any, collect: Collect,
            done: dict | None = None) -> None:
        for start, stop in plan.spans():
            collect(run_chunk(task, items.chunk(start, stop), entropy, store, self.on_row, done))


# ---------------------------------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------------------------------
def distributed_module():
    """``dask.distributed``, or an :class:`~nbexplain.errors.InputError` saying what to install."""
    try:
        import distributed
    except ImportError as exc:
        raise InputError(INSTALL) from exc
    return distributed


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


@contextlib.contextmanager
def environment_kept() -> Iterator[None]:
    """Undo what a Dask nanny writes into this process's environment when it spawns a worker (its
    ``pre-spawn-environ``: ``OMP_NUM_THREADS=1`` and friends, never restored by distributed), so that the
    user's kernel, and every process it starts later, keeps its own thread settings."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(before):
            os.environ.pop(key, None)
        for key, value in before.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def session_client():
    """The ``Client`` of a local cluster for this session (one worker process per core, one thread each, with
    :data:`WORKER_CONFIG`), started on first use and closed when Python exits."""
    distributed = distributed_module()
    client = _SESSION.get("local")
    if client is None or client.status not in ("running", "connecting"):
        import dask

        with dask.config.set(WORKER_CONFIG), environment_kept():
            cluster = distributed.LocalCluster(n_workers=_cores(), threads_per_worker=1, processes=True)
        client = distributed.Client(cluster)
        _SESSION["local"] = client
        atexit.register(_close, client)
    return client


def _close(client) -> None:  # pragma: no cover - at exit
    try:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
    except Exception:
        pass


def dask_executor(executor: Any) -> DaskExecutor:
    """The adapter for ``executor``: "dask" (the current ``Client`` if there is one, else a local cluster for
    the session), a scheduler address such as ``"tcp://10.0.0.5:8786"``, or a ``distributed.Client``."""
    distributed = distributed_module()
    if isinstance(executor, distributed.Client):
        return DaskExecutor(executor)
    if executor == "dask":
        try:
            return DaskExecutor(distributed.Client.current(allow_global=True))
        except ValueError:  # no client yet
            fresh = "local" not in _SESSION or _SESSION["local"].status not in ("running", "connecting")
            run_on = DaskExecutor(session_client())
            if fresh:
                run_on.started = (f"started a local Dask cluster for this session: {run_on.workers} worker processes "
                                  "x 1 thread (reused by later calls; closed when Python exits)")
            return run_on
    if isinstance(executor, str) and "://" in executor:
        client = _SESSION.get(executor)
        if client is None or client.status not in ("running", "connecting"):
            client = distributed.Client(executor)
            _SESSION[executor] = client
        return DaskExecutor(client)
    raise InputError(f"executor must be None (in-process), 'dask', a scheduler address such as "
                     f"'tcp://host:8786', or a dask.distributed Client; got {executor!r}")


def _noop(payload: Any, i: int) -> int:
    return i


def _summary(result: ChunkResult) -> ChunkResult:
    return result.summary()


def _array_of(result: ChunkResult, name: str) -> np.ndarray:
    return result.arrays[name]


@dataclass
class _Spec:
    """A task to run: the chunk, and whether it is one row of a chunk that was split."""

    chunk: Chunk
    parent: int | None = None  # the split chunk's start
    tries: int = 1  # times this spec has been submitted after a KilledWorker (single rows)


class DaskExecutor:
    """Runs chunks on the cluster of ``client`` (see the module docstring)."""

    def __init__(self, client: Any):
        self.client = client
        self.distributed = distributed_module()
        nthreads = client.nthreads()  # asked of the scheduler (the client's own picture can lag)
        deadline = time.monotonic() + STARTUP_WAIT
        while not nthreads and time.monotonic() < deadline:  # a cluster still starting its workers
            time.sleep(0.2)
            nthreads = client.nthreads()
        if not nthreads:
            raise InputError(f"the Dask cluster at {client.scheduler.address} has no workers; start some, or "
                             "wait for them with client.wait_for_workers(n)")
        self.workers = len(nthreads)
        self.threads = max(1, sum(nthreads.values()))
        services = client.scheduler_info().get("services", {})
        self.dashboard = client.dashboard_link if "dashboard" in services else None
        self.window = max(2, WINDOW_PER_THREAD * self.threads)
        self.kept: list = []  # futures whose results stay on the cluster (keep=True)
        self.started: str | None = None  # what was started for this run (said above the progress bar)

    @property
    def description(self) -> str:
        return f"dask: {self.workers} worker(s), {self.threads} thread(s) at {self.client.scheduler.address}"

    # -- the window ----------------------------------------------------------------------------------
    def _drive(self, specs: deque, submit: Callable[[Any], Any], on_done: Callable[[Any, Any], None]) -> None:
        """Keep at most ``window`` tasks in flight: submit from ``specs`` as tasks finish; ``on_done(future,
        spec)`` may add specs. A cluster left without workers for :data:`WORKER_WAIT` seconds ends the run
        with a ``TimeoutError`` instead of waiting for ever. Whatever goes wrong (a cancel included), the
        tasks in flight are cancelled."""
        live: dict[str, tuple[Any, Any]] = {}
        alone_since: float | None = None

        def top_up() -> None:
            while specs and len(live) < self.window:
                spec = specs.popleft()
                future = submit(spec)
                live[future.key] = (future, spec)

        top_up()
        try:
            while live:
                try:
                    self.distributed.wait([f for f, _ in live.values()], timeout=CHECK_EVERY,
                                          return_when="FIRST_COMPLETED")
                except (TimeoutError, asyncio.TimeoutError, CancelledError):
                    pass  # nothing finished yet, or a future was cancelled (lost): on_done sees its status
                done = [key for key, (f, _) in live.items() if f.status != "pending"]
                if not done:
                    if self.client.nthreads():
                        alone_since = None
                    elif alone_since is None:
                        alone_since = time.monotonic()
                    elif time.monotonic() - alone_since > WORKER_WAIT:
                        raise TimeoutError(f"the Dask cluster has had no worker for {WORKER_WAIT} s; the rows not "
                                           "explained yet are lost")
                    continue
                for key in done:
                    future, spec = live.pop(key)
                    on_done(future, spec)
                top_up()
        except BaseException:
            self.client.cancel([f for f, _ in live.values()], force=True)
            specs.clear()
            raise

    def task_overhead(self) -> float:
        """Seconds of worker time the scheduler costs per task: no-op tasks (depending on a scattered
        object, like real ones) through the window, ``elapsed * threads / tasks``; measured once per cluster."""
        address = self.client.scheduler.address
        if address not in _OVERHEAD:
            payload = self.client.scatter(np.zeros(1), broadcast=True, hash=False)
            tag = uuid.uuid4().hex[:8]

            def submit(i: int):
                return self.client.submit(_noop, payload, i, key=f"nbx-overhead-{tag}-{i}", pure=False)

            warm = deque(range(self.threads))
            self._drive(warm, submit, lambda f, s: f.release())
            n = PROBES_PER_THREAD * self.threads
            t0 = time.perf_counter()
            self._drive(deque(range(self.threads, self.threads + n)), submit, lambda f, s: f.release())
            _OVERHEAD[address] = (time.perf_counter() - t0) * self.threads / n
            payload.release()
        return _OVERHEAD[address]

    def _scatter_again(self, task: Any) -> Any:
        """Scatter ``task`` to every worker once some are back (their nannies restart dead workers), trying
        again for up to :data:`WORKER_WAIT` seconds while none can take it."""
        deadline = time.monotonic() + WORKER_WAIT
        while True:
            try:
                if self.client.nthreads():  # asked of the scheduler (a cluster object's own count can lag)
                    return self.client.scatter(task, broadcast=True, hash=False, timeout=30)
            except Exception:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Dask worker came back within {WORKER_WAIT} s to run the rest of the rows")
            time.sleep(0.5)

    # -- a run ------------------------------------------------------------------------------------------
    def run(self, task: RowTask, items: Items, plan: ChunkPlan, entropy: int, store: Any, collect: Collect,
            keep: bool = False) -> dict[int, Any]:
        """Explain every chunk of ``plan`` on the cluster. With ``keep`` the per-row arrays stay on the
        workers: the driver gets summaries, and the futures holding the arrays are returned (chunk start ->
        future) and kept alive in :attr:`kept`."""
        with environment_kept():  # a worker restarted by its nanny during the run
            return self._run(task, items, plan, entropy, store, collect, keep)

    def _run(self, task: RowTask, items: Items, plan: ChunkPlan, entropy: int, store: Any, collect: Collect,
             keep: bool) -> dict[int, Any]:
        client = self.client
        tag = uuid.uuid4().hex[:10]
        payload = [client.scatter(task, broadcast=True, hash=False)]
        resent = [0]
        attempt = [0]
        specs = deque(_Spec(items.chunk(a, b)) for a, b in plan.spans())
        sizes = {a: b - a for a, b in plan.spans()}
        split: dict[int, dict[int, ChunkResult]] = {}
        held: dict[int, Any] = {}

        def submit(spec: _Spec):
            c = spec.chunk
            single = spec.parent is not None
            attempt[0] += 1  # a fresh key every time: a key still held (erred, lost) would give its old future back
            key = f"nbx-explain-{tag}-{c.start}" + ("-row" if single else "") + f"-{attempt[0]}"
            future = client.submit(run_chunk, payload[0], c, entropy, None if single else store, key=key,
                                   pure=False, retries=0)
            if keep and not single:
                held[c.start] = future
                return client.submit(_summary, future, key=f"{key}-summary", pure=False)
            return future

        def resend(spec: _Spec) -> None:
            """Run a chunk again whose result was lost with its worker (and send the task again if every
            worker holding it died)."""
            if payload[0].status != "finished":
                resent[0] += 1
                if resent[0] > MAX_RESENDS:
                    raise RuntimeError(f"the Dask workers lost the model {MAX_RESENDS} times; is the cluster "
                                       "running out of memory?")
                payload[0] = self._scatter_again(task)
            if spec.parent is None:
                held.pop(spec.chunk.start, None)
            specs.appendleft(spec)

        def on_done(future, spec: _Spec) -> None:
            c = spec.chunk
            try:
                if future.status == "error":
                    exc = future.exception()
                    if not isinstance(exc, self.distributed.KilledWorker):
                        raise exc
                    held.pop(c.start, None)
                    if spec.parent is not None and spec.tries < SINGLE_TRIES:  # maybe only a bystander
                        specs.appendleft(_Spec(c, spec.parent, spec.tries + 1))
                        return
                    if spec.parent is None and len(c) > 1:  # find the row that kills its worker: one row a task
                        split[c.start] = {}
                        for r in range(c.start, c.stop):
                            one = Chunk(r, r + 1, c.items if c.lazy else c.items[r - c.start:r - c.start + 1],
                                        {k: v[r - c.start:r - c.start + 1] for k, v in c.extra.items()}, c.lazy)
                            specs.appendleft(_Spec(one, c.start))
                        return
                    result = _killed(c, task, entropy)
                else:
                    result = future.result()
            except CancelledError:  # lost with its worker (or with the scattered task): run it again
                resend(spec)
                return
            future.release()
            if spec.parent is None:
                collect(result)
                return
            parts = split[spec.parent]
            parts[c.start] = result
            if len(parts) == sizes[spec.parent]:
                merged = merge([parts[r] for r in sorted(parts)])
                del split[spec.parent]
                if store is not None and merged.arrays:
                    store.write(merged.start, merged.arrays)
                    merged.arrays = {}
                if keep:
                    held[merged.start] = client.scatter(merged)
                    merged = merged.summary()
                collect(merged)

        try:
            self._drive(specs, submit, on_done)
        except BaseException:
            client.cancel(list(held.values()), force=True)
            raise
        finally:
            payload[0].release()
        self.kept.extend(held.values())
        return held

    def array(self, held: dict[int, Any], name: str, n_rows: int, shape: tuple[int, ...], dtype: str):
        """The arrays ``name`` of ``held`` chunk results (left on the workers) as one dask array."""
        import dask
        import dask.array as da

        starts = sorted(held)
        stops = starts[1:] + [n_rows]
        parts = [da.from_delayed(dask.delayed(_array_of)(held[a], name), (b - a, *shape), dtype=np.dtype(dtype))
                 for a, b in zip(starts, stops, strict=True)]
        return da.concatenate(parts, axis=0)


def _killed(chunk: Chunk, task: RowTask, entropy: int) -> ChunkResult:
    """The result of a one-row chunk whose worker kept dying: the row failed, with the reason."""
    k = len(chunk)
    failures = [RowFailure(r, "KilledWorker", "the worker explaining this row died every time it ran it (out of "
                           "memory? a crash inside the model?); the other rows are not affected")
                for r in range(chunk.start, chunk.stop)]
    arrays = {}
    if task.shapes:
        for name, (shape, dtype) in task.shapes.items():
            arrays[name] = np.full((k, *shape), fill_value(dtype), dtype=np.dtype(dtype))
    return ChunkResult(chunk.start, chunk.stop, arrays, {}, np.full(k, -1, dtype=np.int64),
                       row_seeds(entropy, np.arange(chunk.start, chunk.stop)), np.ones(k, dtype=bool), failures,
                       np.zeros(k))


def merge(parts: list[ChunkResult]) -> ChunkResult:
    """Consecutive chunk results as one (arrays of parts that have none are filled with NaN rows)."""
    shapes = next(({k: (v.shape[1:], v.dtype) for k, v in p.arrays.items()} for p in parts if p.arrays), None)
    arrays = {}
    if shapes:
        for name, (shape, dtype) in shapes.items():
            pieces = [p.arrays[name] if name in p.arrays else
                      np.full((p.stop - p.start, *shape), fill_value(dtype), dtype=dtype) for p in parts]
            arrays[name] = np.concatenate(pieces)
    names = sorted({q for p in parts for q in p.quality})
    quality = {q: np.concatenate([p.quality.get(q, np.full(p.stop - p.start, np.nan)) for p in parts])
               for q in names}
    return ChunkResult(parts[0].start, parts[-1].stop, arrays, quality,
                       np.concatenate([p.targets for p in parts]), np.concatenate([p.seeds for p in parts]),
                       np.concatenate([p.failed for p in parts]), [f for p in parts for f in p.failures],
                       np.concatenate([p.seconds for p in parts]), worker=parts[0].worker)


__all__ = ["INSTALL", "WORKER_CONFIG", "DaskExecutor", "InProcess", "dask_executor", "distributed_module", "merge", "session_client"]
