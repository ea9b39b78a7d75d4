"""Feature effects: cost relative to the prediction floor, beside peer libraries, measured in one run.

    python benchmarks/effects.py [--repeats 9] [--rows 1000]

The model: scikit-learn's GradientBoostingRegressor on the hourly bike-sharing data (nbexplain's bundled
copy). For each technique the *floor* is the model's own ``predict`` on exactly the rows the technique
must evaluate, pre-built, in batches of 8192: what any implementation has to pay. Every contender runs
interleaved with the others, ``--repeats`` rounds of ~0.1 s each, every call timed on its own; the fastest
call of each is reported (the machine is shared: the minimum is the least disturbed measurement).

* PDP + ICE, 50-point grid: ``nbx.partial_dependence`` (average and the individual curves in one call)
  against ``sklearn.inspection.partial_dependence(method="brute", kind="both")``, which calls ``predict``
  once per grid value.
* ALE, 20 bins: ``nbx.ale`` against PyALE (``PyALE.ale``; another implementation of the same ALEPlot
  estimator). Alibi's ALE cannot be measured here: alibi 0.9.6 requires numpy < 2.
* Permutation importance, 5 repeats: ``nbx.permutation_importance`` against
  ``sklearn.inspection.permutation_importance`` (identical numbers for the same seed: scikit-learn's
  ``random_state``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.inspection import permutation_importance as sk_permutation_importance

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.methods.effects.ale import bin_index, quantile_edges
from nbexplain.methods.effects.importance import sklearn_permutations
from nbexplain.methods.effects.pdp import default_grid

CHUNK = 8192


def floor(est, rows: np.ndarray) -> None:
    for start in range(0, len(rows), CHUNK):
        est.predict(rows[start:start + CHUNK])


def race(contenders: dict, repeats: int, sample_seconds: float = 0.1) -> dict[str, float]:
    """Per-call time of each contender: the fastest single call, over ``repeats`` interleaved rounds in which
    each contender runs back to back for about ``sample_seconds`` (every call timed on its own: on a shared
    machine the fastest call is the one least disturbed by other processes)."""
    calls = {}
    for name, fn in contenders.items():  # warm-up, and how many calls fill one round
        t0 = time.perf_counter()
        fn()
        calls[name] = max(1, round(sample_seconds / max(time.perf_counter() - t0, 1e-6)))
    best = {name: np.inf for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            for _ in range(calls[name]):
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t0)
    return best


def report(title: str, times: dict[str, float], floor_name: str = "floor") -> None:
    print(f"\n{title}")
    base = times[floor_name]
    for name, t in times.items():
        print(f"  {name:<44s} {t * 1e3:9.1f} ms   {t / base:6.2f} x floor")


def main() -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()

    X_all, names, y_all = nbx.datasets.bikes()
    est = GradientBoostingRegressor(n_estimators=args.trees, max_depth=4, random_state=0).fit(X_all, y_all)
    rows = np.random.default_rng(0).choice(len(X_all), args.rows, replace=False)
    X, y = X_all[rows], y_all[rows]
    feature = names.index("hum")
    print(f"GradientBoostingRegressor({args.trees} trees, depth 4) on {args.rows} rows x {X.shape[1]} features "
          f"of the bike data; feature 'hum'; {args.repeats} interleaved repeats, minima")

    # ---- PDP + ICE ------------------------------------------------------------------------------
    grid = default_grid(X[:, feature], grid_resolution=50)
    perturbed = np.tile(X, (len(grid), 1))
    perturbed[:, feature] = np.repeat(grid, len(X))
    ours = nbx.partial_dependence(est, X, feature, grid_resolution=50)
    ref = sk_partial_dependence(est, X, [feature], grid_resolution=50, kind="both", method="brute")
    assert np.allclose(ours.individual, ref["individual"][0]) and np.allclose(ours.average, ref["average"][0])
    times = race({
        "floor": lambda: floor(est, perturbed),
        "nbexplain partial_dependence (PDP + ICE)": lambda: nbx.partial_dependence(est, X, feature, grid_resolution=50),
        "scikit-learn partial_dependence brute both": lambda: sk_partial_dependence(
            est, X, [feature], grid_resolution=50, kind="both", method="brute"),
    }, args.repeats)
    report(f"PDP + ICE, {len(grid)}-point grid x {len(X)} rows = {len(perturbed)} predictions", times)

    # ---- ALE ------------------------------------------------------------------------------------
    edges = quantile_edges(X[:, feature], 20)
    k = bin_index(X[:, feature], edges)
    corners = np.tile(X, (2, 1))
    corners[:, feature] = np.concatenate([edges[k], edges[k + 1]])
    contenders = {
        "floor": lambda: floor(est, corners),
        "nbexplain ale": lambda: nbx.ale(est, X, feature, bins=20),
    }
    try:
        import logging

        import pandas as pd
        from PyALE import ale as pyale

        for logger in ("PyALE", "PyALE._ALE_generic"):  # it logs every call
            logging.getLogger(logger).setLevel(logging.WARNING)

        frame = pd.DataFrame(X, columns=names)

        def run_pyale():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the estimator was fitted on arrays, PyALE predicts frames
                return pyale(frame, est, ["hum"], grid_size=20, include_CI=False, plot=False)

        contenders["PyALE ale"] = run_pyale
    except ImportError:
        print("\n(PyALE not installed: pip install PyALE to compare)")
    times = race(contenders, args.repeats)
    report(f"ALE, {len(edges) - 1} quantile bins x {len(X)} rows = {len(corners)} predictions", times)

    # ---- permutation importance --------------------------------------------------------------------
    n_repeats = 5
    # the rows to predict: X itself (the baseline) and, for every feature and repeat, X with that column
    # shuffled by scikit-learn's permutation of that repeat (real shuffled data: a tree predicts repeated
    # copies of X measurably faster than shuffled ones, so the floor must be the shuffled rows)
    perms = sklearn_permutations(len(X), n_repeats, 0)
    copies = [X]
    for j in range(X.shape[1]):
        for r in range(n_repeats):
            shuffled = X.copy()
            shuffled[:, j] = X[perms[r], j]
            copies.append(shuffled)
    permuted = np.concatenate(copies)
    ours = nbx.permutation_importance(est, X, y, n_repeats=n_repeats, seed=0)
    ref = sk_permutation_importance(est, X, y, n_repeats=n_repeats, random_state=0)
    assert np.allclose(ours.importances, ref.importances)
    times = race({
        "floor": lambda: floor(est, permuted),
        "nbexplain permutation_importance": lambda: nbx.permutation_importance(
            est, X, y, n_repeats=n_repeats, seed=0),
        "scikit-learn permutation_importance": lambda: sk_permutation_importance(
            est, X, y, n_repeats=n_repeats, random_state=0),
    }, args.repeats)
    report(f"Permutation importance, {X.shape[1]} features x {n_repeats} repeats x {len(X)} rows "
           f"= {len(permuted)} predictions", times)


if __name__ == "__main__":
    main()
