"""How many rows one task explains: enough model work to hide the scheduler's per-task overhead, few enough
that every worker gets several tasks.

A distributed scheduler spends a roughly fixed time ``o`` on every task (sending it, starting it, reporting
back; measured by :func:`nbexplain.methods.many.executors.DaskExecutor.task_overhead`, typically 1-5 ms on
an idle machine). A task of ``c`` rows that take ``t`` seconds each loses the share ``o / (c t)`` of its
time to it. The rule (:func:`plan_chunks`) takes the smallest ``c`` that keeps that share under
:data:`OVERHEAD_SHARE` (1 %), then caps it so that

* every worker thread gets at least :data:`TASKS_PER_THREAD` tasks (balance at the end of the run, a
  progress bar that moves, little work redone when a worker is lost), and
* no task runs longer than :data:`MAX_TASK_SECONDS` (a cancel or a lost worker costs at most that much).

Rows are then spread evenly over the resulting number of tasks, and that number is moved to a whole number of
rounds (a multiple of the threads, up or down, whichever :func:`estimate_seconds` expects to end first): 11
tasks on 2 threads end with one thread idle for a whole task (5-8 % of a 200-image occlusion run's worker
time on 2 threads); 10 slightly larger tasks end together. :func:`estimate_seconds` is the arithmetic for
planning a run (e.g. a million rows on N workers).

Examples
--------
>>> plan = plan_chunks(2000, threads=2, seconds_per_row=0.011, task_overhead=0.003)
>>> plan.chunk_size, plan.n_tasks, round(plan.overhead_share, 4)
(28, 72, 0.0096)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: the largest share of a task's time the per-task overhead may take when the other caps allow it
OVERHEAD_SHARE = 0.01
#: at least this many tasks per worker thread
TASKS_PER_THREAD = 4
#: no task longer than this many seconds of model work
MAX_TASK_SECONDS = 30.0


@dataclass(frozen=True)
class ChunkPlan:
    """The chunk size chosen for a run and the numbers behind it.

    Attributes
    ----------
    n_rows, threads : the rows to explain and the worker threads explaining them.
    seconds_per_row : measured time of one row (None: unknown, e.g. a chunk size given by the caller).
    task_overhead : measured seconds the scheduler spends per task (None: in-process, or not measured).
    chunk_size : rows per task; ``n_tasks`` tasks in all.
    limited_by : "overhead" (the rule's first term), "balance", "duration", "given" or "in-process".
    """

    n_rows: int
    threads: int
    seconds_per_row: float | None
    task_overhead: float | None
    chunk_size: int
    limited_by: str

    @property
    def n_tasks(self) -> int:
        return math.ceil(self.n_rows / self.chunk_size)

    @property
    def overhead_share(self) -> float | None:
        """The expected share of each task's time lost to the scheduler, ``o / (o + c t)``."""
        if not self.seconds_per_row or self.task_overhead is None:
            return None
        work = self.chunk_size * self.seconds_per_row
        return self.task_overhead / (self.task_overhead + work)

    def spans(self) -> list[tuple[int, int]]:
        """The ``(start, stop)`` rows of every task, in order."""
        return [(a, min(a + self.chunk_size, self.n_rows)) for a in range(0, self.n_rows, self.chunk_size)]

    def describe(self) -> str:
        """One line: chunk size, tasks, and why."""
        line = f"{self.chunk_size:,} rows per task, {self.n_tasks:,} tasks on {self.threads} thread(s)"
        if self.task_overhead is not None and self.seconds_per_row:
            line += (f" (overhead {self.task_overhead * 1e3:.1f} ms per task against "
                     f"{self.seconds_per_row * 1e3:.2f} ms per row: {self.overhead_share:.1%}; limited by "
                     f"{self.limited_by})")
        return line


def even(n_rows: int, chunk: int) -> int:
    """``chunk`` adjusted so that the ``ceil(n_rows / chunk)`` tasks hold nearly equal numbers of rows."""
    chunk = max(1, min(int(chunk), n_rows))
    return math.ceil(n_rows / math.ceil(n_rows / chunk))


def plan_chunks(n_rows: int, threads: int, seconds_per_row: float, task_overhead: float) -> ChunkPlan:
    """The chunk size for ``n_rows`` rows of ``seconds_per_row`` each on ``threads`` worker threads whose
    scheduler spends ``task_overhead`` seconds per task (see the module docstring for the rule)."""
    n_rows, threads = max(1, int(n_rows)), max(1, int(threads))
    t = max(float(seconds_per_row), 1e-9)
    terms = {
        "overhead": math.ceil(max(task_overhead, 0.0) / (OVERHEAD_SHARE * t)),
        "balance": math.ceil(n_rows / (TASKS_PER_THREAD * threads)),
        "duration": max(1, math.floor(MAX_TASK_SECONDS / t)),
    }
    limited_by = min(terms, key=terms.get)
    chunk = whole_rounds(n_rows, threads, even(n_rows, max(1, terms[limited_by])), t, max(task_overhead, 0.0),
                         longest=terms["duration"])
    return ChunkPlan(n_rows, threads, float(seconds_per_row), float(task_overhead), chunk, limited_by)


def whole_rounds(n_rows: int, threads: int, chunk: int, seconds_per_row: float, task_overhead: float,
                 longest: int) -> int:
    """``chunk``, or the chunk size that makes the number of tasks the multiple of ``threads`` just below or
    above, whichever run :func:`estimate_seconds` expects to end first (no chunk above ``longest`` rows)."""
    tasks = math.ceil(n_rows / chunk)
    if tasks <= threads or tasks % threads == 0:
        return chunk
    options = {chunk}
    for k in (tasks // threads * threads, math.ceil(tasks / threads) * threads):
        c = math.ceil(n_rows / k)
        if c <= longest:
            options.add(c)

    def seconds(c: int) -> float:
        return math.ceil(math.ceil(n_rows / c) / threads) * (task_overhead + c * seconds_per_row)

    return min(sorted(options), key=seconds)


def fixed_plan(n_rows: int, threads: int, chunk_size: int, limited_by: str = "given", *,
               seconds_per_row: float | None = None, task_overhead: float | None = None) -> ChunkPlan:
    """A plan with a chunk size set from outside the rule (by the caller, or in-process)."""
    n_rows = max(1, int(n_rows))
    return ChunkPlan(n_rows, max(1, int(threads)), seconds_per_row, task_overhead,
                     max(1, min(int(chunk_size), n_rows)), limited_by)


def estimate_seconds(n_rows: int, threads: int, seconds_per_row: float, task_overhead: float,
                     chunk_size: int | None = None) -> float:
    """Wall seconds to explain ``n_rows`` on ``threads`` worker threads: the model work shared out, plus the
    per-task overhead of the chunks (:func:`plan_chunks`'s when ``chunk_size`` is None), plus the last
    task's tail. A planning estimate: it ignores start-up and assumes equal rows."""
    plan = (plan_chunks(n_rows, threads, seconds_per_row, task_overhead) if chunk_size is None
            else fixed_plan(n_rows, threads, chunk_size, seconds_per_row=seconds_per_row,
                            task_overhead=task_overhead))
    per_task = task_overhead + plan.chunk_size * seconds_per_row
    return math.ceil(plan.n_tasks / plan.threads) * per_task


__all__ = ["MAX_TASK_SECONDS", "OVERHEAD_SHARE", "TASKS_PER_THREAD", "ChunkPlan", "estimate_seconds", "even",
           "fixed_plan", "plan_chunks", "whole_rounds"]
