"""Fairness audit with bootstrap intervals: nbexplain against fairlearn's MetricFrame, same resamples, one run.

    python benchmarks/fairness.py [--rows 10000] [--n-bootstrap 1000] [--peer-resamples 1000] [--repeats 3]
    python benchmarks/fairness.py --quick            # seconds: a smoke run

The data: nbexplain's synthetic hiring applicants (``nbx.datasets.hiring``), a GradientBoostingClassifier
trained on other rows, and ``--rows`` audited rows with two sensitive attributes (Gender, Age band).

* *floor*: the model's own ``predict_proba`` on the audited rows, the one model call an audit needs.
* *nbexplain*: ``nbx.audit`` with ``--n-bootstrap`` resamples: per group of each attribute and of their
  intersection, nine metrics (base rate, selection rate, accuracy, TPR, FPR, FNR, precision, ECE, ROC AUC)
  with their percentile intervals, and the disparities with theirs.
* *fairlearn*: the same numbers from ``MetricFrame`` (``n_boot``, ``ci_quantiles``, the same
  ``random_state``: the same resamples): one frame of the decision metrics and one of the score metrics
  (AUC, ECE) for each of Gender, Age band and their intersection. fairlearn computes every resample with
  pandas and one metric call per group, so it is slow; ``--peer-resamples N`` times it on the first N of the
  same resamples and scales to ``--n-bootstrap`` (linear in the resamples; printed as extrapolated).

The intervals of both are compared on the resamples they share (nbexplain rerun with ``N`` resamples): they
agree to rounding. The fastest of ``--repeats`` runs of nbexplain is reported, fairlearn runs once (at the
full 1,000 resamples on 10,000 rows that is about a quarter of an hour of CPU; ``--peer-resamples 20`` takes
a minute and scales). CPU times of this process are printed too (the machine may be shared).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.methods.fairness.metrics import bin_index

DECISION_METRICS = {
    "base_rate": lambda y, p: float(np.mean(y)),
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "tpr": recall_score,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
}


def ece(y, score) -> float:
    """Expected calibration error over 10 equal-width bins (nbexplain's definition)."""
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    bins = bin_index(score, 10)
    gap = np.bincount(bins, weights=y - score, minlength=10)
    return float(np.abs(gap).sum() / len(y))


SCORE_METRICS = {"roc_auc": roc_auc_score, "ece": ece}


def fairlearn_audit(y, decision, score, groups: dict, n_boot: int, seed: int) -> dict:
    """MetricFrames with intervals for each attribute and the intersection: {attribute: (decision, score)}."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, features in groups.items():
            kw = dict(sensitive_features=features, n_boot=n_boot, ci_quantiles=[0.025, 0.975], random_state=seed)
            out[name] = (MetricFrame(metrics=DECISION_METRICS, y_true=y, y_pred=decision, **kw),
                         MetricFrame(metrics=SCORE_METRICS, y_true=y, y_pred=score, **kw))
    return out


def main() -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--peer-resamples", type=int, default=None,
                        help="resamples fairlearn is timed on (default: --n-bootstrap, no extrapolation)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 50 resamples, fairlearn on 5")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.n_bootstrap, args.peer_resamples, args.repeats = 2000, 50, 5, 1
    peer = args.peer_resamples or args.n_bootstrap

    data = nbx.datasets.hiring(args.rows + 2000, seed=args.seed)
    clf = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0).fit(data.X[:2000], data.y[:2000])
    X, y = data.X[2000:], data.y[2000:]
    sensitive = {k: v[2000:] for k, v in data.sensitive.items()}
    print(f"audited rows: {len(y):,}; groups: Gender (2), Age band (2), Gender x Age band (4); "
          f"{args.n_bootstrap:,} bootstrap resamples")

    floor = np.inf
    for _ in range(max(3, args.repeats)):
        t0 = time.perf_counter()
        score = clf.predict_proba(X)[:, 1]
        floor = min(floor, time.perf_counter() - t0)

    def run(n_boot: int):
        return nbx.audit(clf, X, y, sensitive=sensitive, categories=data.groups, feature_names=data.feature_names,
                         n_bootstrap=n_boot, seed=args.seed, progress=False)

    ours = ours_cpu = np.inf
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        audit = run(args.n_bootstrap)
        ours, ours_cpu = min(ours, time.perf_counter() - t0), min(ours_cpu, time.process_time() - c0)

    decision = (score >= 0.5).astype(int)
    groups = {"Gender": pd.Series(sensitive["Gender"]), "Age band": pd.Series(sensitive["Age band"]),
              "Gender x Age band": pd.DataFrame(sensitive)}
    t0, c0 = time.perf_counter(), time.process_time()
    frames = fairlearn_audit(y, decision, score, groups, peer, args.seed)
    theirs_measured = time.perf_counter() - t0
    theirs = theirs_measured * args.n_bootstrap / peer
    theirs_cpu = (time.process_time() - c0) * args.n_bootstrap / peer

    shared = audit if peer == args.n_bootstrap else run(peer)
    worst = 0.0
    for (dec, sco), gm in zip(frames.values(), shared.groups_by, strict=True):
        low, high = dec.by_group_ci
        slow, shigh = sco.by_group_ci
        order = [list(map(str, np.atleast_1d(i))) for i in low.index]
        ours_order = [n.split(" × ") for n in gm.names]
        pick = [ours_order.index(o) for o in order]
        for metric in DECISION_METRICS:
            k = shared.metrics.index(metric)
            worst = max(worst, np.nanmax(np.abs(gm.low[pick, k] - low[metric].to_numpy())),
                        np.nanmax(np.abs(gm.high[pick, k] - high[metric].to_numpy())))
        for metric in SCORE_METRICS:
            k = shared.metrics.index(metric)
            worst = max(worst, np.nanmax(np.abs(gm.low[pick, k] - slow[metric].to_numpy())),
                        np.nanmax(np.abs(gm.high[pick, k] - shigh[metric].to_numpy())))

    print(f"\n  {'floor: predict_proba of the audited rows':<58s} {floor * 1e3:10.1f} ms")
    print(f"  {'nbexplain audit':<58s} {ours * 1e3:10.1f} ms   {ours / floor:8.1f} x floor")
    label = "fairlearn MetricFrame x6" + ("" if peer == args.n_bootstrap else
                                          f" (timed on {peer} resamples: {theirs_measured:.1f} s, scaled)")
    print(f"  {label:<58s} {theirs * 1e3:10.1f} ms   {theirs / floor:8.1f} x floor")
    print(f"\nnbexplain / fairlearn = {ours / theirs:.4f}x (nbexplain {theirs / ours:.0f}x faster)")
    print(f"CPU time (this process): nbexplain {ours_cpu:.2f} s, fairlearn {theirs_cpu:.1f} s "
          f"({theirs_cpu / ours_cpu:.0f}x)")
    print(f"max |interval difference| on the {peer} shared resamples = {worst:.3g}")


if __name__ == "__main__":
    main()
