"""Many explanations on Dask against the same run in-process, and against SHAP's own loop.

One run, one machine, ratios measured side by side (the machine may be shared and noisy: compare within a run; each
side runs ``--repeats`` times, interleaved, and its fastest run is kept):

1. **The per-task overhead** of a ``LocalCluster(2 workers x 1 thread, processes)``: no-op tasks through the same
   window of tasks in flight that a run uses (``DaskExecutor.task_overhead``), the number the chunk-size rule of
   ``nbexplain/methods/many/chunks.py`` divides by.
2. **Tabular**: exact Shapley values of 2,000 Credit rows (the 400 holders resampled, incomes jittered by 1 %) for a
   gradient-boosting classifier (100 trees), one shared background of 100 rows: ``nbx.explain_many`` in-process
   and on the cluster (the same bits, checked), and SHAP's ``Exact`` explainer over the same rows and background
   (its own per-row loop, in-process).
3. **Images**: occlusion (window 8, stride 4) of 200 tank scenes (48 x 48) on the tank CNN, in-process and on the
   cluster (the same bits, checked).
4. **Memory**: 100,000 Credit rows explained on the cluster with the results streamed to Zarr; the driver's
   resident memory is sampled every 50 ms and its growth over the run reported against the stated bound.

Per explanation, the Dask path costs ``wall x worker threads / rows`` seconds of worker time (what the cluster
spends, waiting included) and ``CPU / rows`` seconds of CPU (driver with its scheduler thread, nannies and workers);
in-process, one thread does all the work (torch runs on one thread in both, see ``nbexplain/methods/many/batching.py``).
The target: the Dask path at most 1.10x in-process per explanation.

    python benchmarks/many.py                  # all four parts: several minutes on 2 idle cores
    python benchmarks/many.py --quick          # a smoke run in seconds (tests/unit/test_benchmarks_smoke.py)
    python benchmarks/many.py --only tabular   # one part: overhead | tabular | images | memory
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

import numpy as np

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.methods.many.chunks import estimate_seconds, plan_chunks
from nbexplain.methods.many.executors import WORKER_CONFIG, DaskExecutor

MEMORY_BOUND_MB = 150  # the stated bound on the driver's resident memory growth while 100,000 rows stream to Zarr


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and every process it started (the cluster's)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def timed(fn):
    """(result, wall seconds, CPU seconds of this process tree)."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu_seconds() - c0


def fastest_of(repeats: int, local_fn, remote_fn):
    """``(local, wall, cpu), (remote, wall, cpu)``: each run ``repeats`` times, interleaved (in-process first,
    then Dask first), the fastest wall time of each kept with its CPU time (a shared machine only adds time)."""
    best = {}
    for rep in range(repeats):
        order = [("local", local_fn), ("remote", remote_fn)]
        for name, fn in (order if rep % 2 == 0 else order[::-1]):
            run = timed(fn)
            if name not in best or run[1] < best[name][1]:
                best[name] = run
    return best["local"], best["remote"]


def same(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a.values), np.asarray(b.values), equal_nan=True)
                and all(np.array_equal(a.row_quality[q], b.row_quality[q], equal_nan=True) for q in a.row_quality))


def report(name: str, n: int, local, local_wall: float, local_cpu: float, remote, wall: float, cpu: float,
           threads: int) -> None:
    per_local = local_wall / n
    worker_time = wall * threads / n
    print(f"  {name}: {n:,} explanations, bit-identical in-process and on Dask: {same(local, remote)}")
    print(f"    in-process              {local_wall:8.2f} s  {per_local * 1e3:8.2f} ms per explanation"
          f"  (CPU {local_cpu / n * 1e3:.2f} ms)")
    print(f"    dask (2 x 1 thread)     {wall:8.2f} s  {worker_time * 1e3:8.2f} worker-ms per explanation"
          f"  (CPU {cpu / n * 1e3:.2f} ms)   {remote.plan.describe()}")
    print(f"    dask / in-process per explanation: {worker_time / per_local:.2f}x worker time, "
          f"{(cpu / n) / (local_cpu / n):.2f}x CPU (target <= 1.10x); wall-clock speed-up {local_wall / wall:.2f}x")


def credit_rows(n: int, seed: int = 0):
    data = nbx.datasets.credit()
    rng = np.random.default_rng(seed)
    rows = data.X[rng.integers(0, len(data.X), n)].copy()
    rows[:, 0] *= 1 + rng.normal(0, 0.01, n)  # Income (continuous): no two rows alike
    return data, rows


def part_tabular(client, threads: int, n: int, shap_rows: int, repeats: int) -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    data, rows = credit_rows(n)
    clf = GradientBoostingClassifier(random_state=0).fit(data.X, data.y)
    kw = dict(data=data.X, feature_names=data.feature_names, n_background=100, progress=False)
    nbx.explain_many(clf, rows[:20], "shapley_tabular", **kw)  # warm-up: imports, caches
    nbx.explain_many(clf, rows[:20], "shapley_tabular", executor=client, **kw)
    (local, lw, lc), (remote, w, c) = fastest_of(
        repeats, lambda: nbx.explain_many(clf, rows, "shapley_tabular", **kw),
        lambda: nbx.explain_many(clf, rows, "shapley_tabular", executor=client, **kw))
    print(f"\n[2] exact Shapley values, Credit (10 features), gradient boosting (100 trees), background 100; "
          f"the fastest of {repeats} interleaved runs each")
    report("tabular", n, local, lw, lc, remote, w, c, threads)

    import shap

    from nbexplain.methods.coalitions.tabular import background_sample

    background = background_sample(data.X, 100, local.seed)  # the run's one background
    explainer = shap.explainers.Exact(lambda A: clf.predict_proba(A)[:, 1],
                                      shap.maskers.Independent(background, max_samples=len(background)))
    m = min(shap_rows, n)
    reference, sw, sc = timed(lambda: explainer(rows[:m], silent=True).values)
    print(f"    SHAP Exact, its own loop {sw:7.2f} s  {sw / m * 1e3:8.2f} ms per explanation over the first {m:,} rows"
          f"  (CPU {sc / m * 1e3:.2f} ms)")
    print(f"    nbexplain in-process / SHAP per explanation: {(lw / n) / (sw / m):.2f}x;  "
          f"dask worker time / SHAP: {(w * threads / n) / (sw / m):.2f}x;  "
          f"max |nbexplain - SHAP| = {np.abs(local.values[:m] - reference).max():.2e}")
    return local.seconds_per_row or lw / n


def part_images(client, threads: int, n: int, repeats: int, quick: bool = False) -> None:
    # --quick: the untrained network (the same architecture and cost; training takes seconds to a minute)
    model = nbx.datasets.tank_network(0).eval() if quick else nbx.datasets.tank_classifier(biased=True)
    images = nbx.datasets.tanks(n, seed=11).images
    kw = dict(window=8, stride=4, progress=False)
    nbx.explain_many(model, images[:4], "occlusion", **kw)  # warm-up, and the batch size measured once
    nbx.explain_many(model, images[:4], "occlusion", executor=client, **kw)
    (local, lw, lc), (remote, w, c) = fastest_of(
        repeats, lambda: nbx.explain_many(model, images, "occlusion", **kw),
        lambda: nbx.explain_many(model, images, "occlusion", executor=client, **kw))
    print(f"\n[3] occlusion (window 8, stride 4: 122 passes per image), tank CNN, 48 x 48 scenes, "
          f"batch size {local.batch_size} (measured once, fixed); the fastest of {repeats} interleaved runs each")
    report("images", n, local, lw, lc, remote, w, c, threads)


def part_memory(client, n: int) -> None:
    import psutil
    from sklearn.linear_model import LogisticRegression

    data, rows = credit_rows(n, seed=1)
    clf = LogisticRegression(max_iter=5000).fit((data.X - data.X.mean(0)) / data.X.std(0), data.y)
    mean, sd = data.X.mean(0), data.X.std(0)

    def model(batch):  # the scaling folded into the model
        return clf.predict_proba((batch - mean) / sd)

    kw = dict(data=data.X, n_background=10, target=1, progress=False, executor=client)
    me = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        nbx.explain_many(model, rows[:2000], "shapley_tabular", store=os.path.join(tmp, "warm.zarr"), **kw)
        baseline = me.memory_info().rss
        peak = [baseline]
        running = [True]

        def sample():
            while running[0]:
                peak[0] = max(peak[0], me.memory_info().rss)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        many, wall, _ = timed(lambda: nbx.explain_many(model, rows, "shapley_tabular",
                                                       store=os.path.join(tmp, "run.zarr"), **kw))
        running[0] = False
        sampler.join()
        growth = (peak[0] - baseline) / 2**20
        held = n * many.values.shape[1] * 8 / 2**20
        print(f"\n[4] memory: {n:,} rows, exact Shapley (background 10, logistic regression), streamed to Zarr on the "
              f"cluster in {wall:.1f} s ({many.plan.describe()})")
        print(f"    driver resident memory {baseline / 2**20:.0f} MB before, peak {peak[0] / 2**20:.0f} MB: growth "
              f"{growth:.1f} MB (bound {MEMORY_BOUND_MB} MB: {'met' if growth <= MEMORY_BOUND_MB else 'NOT met'}); "
              f"the values alone are {held:.1f} MB, {many.n_explained:,} rows explained, "
              f"{many.n_failed} failed")


def main() -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", choices=["overhead", "tabular", "images", "memory"])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--shap-rows", type=int, default=2000, help="rows SHAP explains (per-explanation time)")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--memory-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of each side; the fastest is kept")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.shap_rows, args.images, args.memory_rows, args.repeats = 120, 20, 8, 3000, 1
    import dask
    import distributed

    t0 = time.perf_counter()
    with dask.config.set(WORKER_CONFIG):  # what executor="dask" starts (see WORKER_CONFIG)
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    threads = sum(client.nthreads().values())
    print(f"LocalCluster: {len(client.nthreads())} workers x 1 thread, started in {time.perf_counter() - t0:.1f} s, "
          f"{WORKER_CONFIG}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    try:
        overhead = DaskExecutor(client).task_overhead()
        print(f"\n[1] per-task scheduler overhead (no-op tasks through the window): {overhead * 1e3:.2f} ms per task")
        per_row = None
        if args.only in (None, "tabular"):
            per_row = part_tabular(client, threads, args.rows, args.shap_rows, args.repeats)
        if args.only in (None, "images"):
            part_images(client, threads, args.images, args.repeats, args.quick)
        if args.only in (None, "memory"):
            part_memory(client, args.memory_rows)
        t = per_row or 0.011
        print(f"\nthe chunk-size rule with the measured {overhead * 1e3:.2f} ms per task and {t * 1e3:.2f} ms per row:")
        for workers in (2, 16, 64, 256):
            plan = plan_chunks(10**6, workers, t, overhead)
            print(f"  a million rows on {workers:3d} worker threads: {plan.chunk_size:,} rows per task, "
                  f"{plan.n_tasks:,} tasks, about {estimate_seconds(10**6, workers, t, overhead) / 60:.1f} min")
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
