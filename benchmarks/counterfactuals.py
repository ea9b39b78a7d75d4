"""Counterfactuals against DiCE, and tabular Shapley values against the floor and SHAP, measured in one run.

    python benchmarks/counterfactuals.py                 # 40 rows; a few minutes (DiCE is the slow part)
    python benchmarks/counterfactuals.py --rows 10 --repeats 1 --quick   # a smoke run

1. **Counterfactuals** on scikit-learn's breast-cancer data (569 rows, 30 features) for two scikit-learn
   models (a random forest, the black box the issue names, and a standardised logistic regression), the
   same ``--rows`` random rows for every contender, each asked for one counterfactual of the opposite class:

   * ``nbx.counterfactual`` (closest; growing spheres + line searches, refined) and with ``sparse=True``;
     for the forest also "own call": the same search calling the forest's own ``predict_proba`` (through
     joblib, ~3 ms per call) instead of nbexplain's adapter, which sums the trees itself (~0.2 ms per
     call, identical numbers; ``nbexplain/adapters/sklearn_models.py``, ``forest_forward``);
   * DiCE (``dice-ml``) ``method="random"`` and ``method="genetic"`` with their defaults
     (``total_CFs=1, desired_class="opposite"``, features free within the training ranges, as nbexplain's
     default ranges).

   Every output is scored the same way, here: **valid** when the model's predicted class is the desired
   one (nbexplain's own criterion is stricter, P ≥ 0.55); **MAD-L1** distance with the per-feature median
   absolute deviation over the training data (Wachter et al.); **changed** features (|Δ| > 1e-9 MAD);
   **time** per counterfactual. The contenders run interleaved row by row (rotating order); with
   ``--repeats`` > 1 each call is repeated and the minimum time kept (the machine is shared).

2. **Exact tabular Shapley values against the floor**: ``nbx.shapley_tabular(method="exact")`` on the ISLR
   Credit data (10 features, ``--background`` rows of ``data``) needs 2**10 × B model rows; the floor is the model's
   own ``predict_proba`` on exactly those rows, pre-built, in chunks of 8192. Interleaved, minima of
   ``--repeats`` samples.

3. **KernelSHAP at equal evaluations**: the error of ``nbx.shapley_tabular(method="kernel")`` and of SHAP's
   ``KernelExplainer`` (default ``l1_reg="auto"`` and ``l1_reg=False``) against the exact values, on the
   same model, background and rows, with the model rows each actually evaluated counted and printed.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.methods.coalitions.masks import all_coalitions
from nbexplain.methods.counterfactual.space import mad_scale

CHUNK = 8192


def missing(name: str, exc: Exception) -> None:
    print(f"  ! {name} cannot be measured here: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------------
# 1. counterfactuals
# ---------------------------------------------------------------------------------------------------
def counterfactual_contenders(model, X, names, y):
    contenders = {
        "nbexplain": lambda x: nbx.counterfactual(model, x, data=X).best.x,
        "nbexplain sparse": lambda x: nbx.counterfactual(model, x, data=X, sparse=True).best.x,
    }
    if hasattr(model, "estimators_"):  # a forest: nbexplain sums its trees itself; show the search alone too
        own = nbx.as_model(lambda A: model.predict_proba(A), output="probability")
        contenders["nbexplain, own call"] = lambda x: nbx.counterfactual(own, x, data=X).best.x
    try:
        import dice_ml
        import pandas as pd

        frame = pd.DataFrame(X, columns=names)
        frame["target"] = y
        data = dice_ml.Data(dataframe=frame, continuous_features=list(names), outcome_name="target")

        class FrameModel:  # the same estimator, fed DataFrames with DiCE's column names
            def __init__(self, est):
                self.est = est

            def predict_proba(self, df):
                return self.est.predict_proba(np.asarray(df[names], dtype=np.float64))

            def predict(self, df):
                return self.est.predict(np.asarray(df[names], dtype=np.float64))

        dice_model = dice_ml.Model(model=FrameModel(model), backend="sklearn")
        for method in ("random", "genetic"):
            explainer = dice_ml.Dice(data, dice_model, method=method)

            def run(x, explainer=explainer):
                query = pd.DataFrame(x[None], columns=names)
                try:
                    out = explainer.generate_counterfactuals(query, total_CFs=1, desired_class="opposite",
                                                             verbose=False)
                except Exception:  # noqa: BLE001 - DiCE raises when it finds no counterfactual
                    return None
                cfs = out.cf_examples_list[0].final_cfs_df
                if cfs is None or len(cfs) == 0:
                    return None
                return np.asarray(cfs[names].iloc[0], dtype=np.float64)

            contenders[f"DiCE {method}"] = run
    except Exception as exc:  # noqa: BLE001 - report and measure what can be measured
        missing("DiCE (dice-ml)", exc)
    return contenders


def bench_counterfactuals(rows: int, repeats: int, seed: int, models: list[str]) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X, y, names = data.data, data.target, [str(n) for n in data.feature_names]
    scale = mad_scale(X)
    picked = np.random.default_rng(seed).choice(len(X), rows, replace=False)
    builders = {
        "random forest": lambda: RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y),
        "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y),
    }
    warnings.filterwarnings("ignore")
    for model_name in models:
        model = builders[model_name]()
        contenders = counterfactual_contenders(model, X, names, y)
        names_c = list(contenders)
        for fn in contenders.values():  # warm-up (imports, first-call costs)
            fn(X[picked[0]])
        stats = {c: {"valid": [], "dist": [], "changed": [], "time": [], "none": 0} for c in names_c}
        for k, i in enumerate(picked):
            x = X[i]
            desired = 1 - int(model.predict(x[None])[0])
            order = names_c[k % len(names_c):] + names_c[:k % len(names_c)]
            for c in order:
                best_t, out = np.inf, None
                for r in range(repeats):
                    t0 = time.perf_counter()
                    result = contenders[c](x)
                    best_t = min(best_t, time.perf_counter() - t0)
                    if r == 0:
                        out = result
                s = stats[c]
                s["time"].append(best_t)
                if out is None:
                    s["none"] += 1
                    s["valid"].append(False)
                    continue
                valid = int(model.predict(out[None])[0]) == desired
                s["valid"].append(valid)
                if valid:
                    delta = np.abs(out - x) / scale
                    s["dist"].append(float(delta.sum()))
                    s["changed"].append(int((delta > 1e-9).sum()))
        print(f"\n[1] counterfactuals, breast cancer (30 features), {model_name}, {rows} rows, "
              f"minimum of {repeats} run(s) per call")
        print(f"  {'contender':<18}{'valid':>9}{'mean MAD-L1':>13}{'changed':>9}{'ms / cf':>10}  (means over valid ones)")
        for c in names_c:
            s = stats[c]
            v = f"{sum(s['valid'])}/{rows}"
            d = np.mean(s["dist"]) if s["dist"] else float("nan")
            ch = np.mean(s["changed"]) if s["changed"] else float("nan")
            extra = f"  ({s['none']} with no counterfactual)" if s["none"] else ""
            print(f"  {c:<18}{v:>9}{d:>13.2f}{ch:>9.1f}{1000 * np.mean(s['time']):>10.1f}{extra}")
        ours = stats["nbexplain"]
        for c in names_c:
            if c.startswith("DiCE"):
                s = stats[c]
                if s["dist"]:
                    print(f"  nbexplain vs {c}: MAD-L1 {np.mean(ours['dist']) / np.mean(s['dist']):.2f}x, "
                          f"changed {np.mean(ours['changed']):.1f} vs {np.mean(s['changed']):.1f}, "
                          f"time {np.mean(s['time']) / np.mean(ours['time']):.1f}x less")


# ---------------------------------------------------------------------------------------------------
# 2. exact Shapley against the floor
# ---------------------------------------------------------------------------------------------------
def race(contenders: dict, repeats: int, sample_seconds: float = 0.2) -> dict[str, float]:
    """Per-call time of each contender: the minimum over ``repeats`` interleaved samples, each the mean of
    enough back-to-back calls to last about ``sample_seconds``."""
    calls = {}
    for name, fn in contenders.items():
        t0 = time.perf_counter()
        fn()
        calls[name] = max(1, round(sample_seconds / max(time.perf_counter() - t0, 1e-6)))
    best = {name: np.inf for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / calls[name])
    return best


def credit_models():
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = nbx.datasets.credit()
    models = {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(data.X, data.y),
        "gradient boosting": GradientBoostingClassifier(random_state=0).fit(data.X, data.y),
    }
    return data, models


def bench_exact(background: int, repeats: int) -> None:
    data, models = credit_models()
    X = data.X
    rng = np.random.default_rng(0)
    bg = X[np.sort(rng.choice(len(X), background, replace=False))]
    # the same data with every value made distinct (tiny noise): no background value equals x's, so
    # nothing can be skipped and all 2**M x B rows must be predicted
    jittered = X + 1e-6 * (1 + np.abs(X)) * rng.standard_normal(X.shape)
    cases = {"Credit": (X[1], bg), "Credit, all values distinct": (jittered[1], jittered[-background:])}
    z = all_coalitions(X.shape[1])
    print(f"\n[2] exact Shapley values, Credit (10 features), background {background}: "
          f"floor = predict_proba on all 2**10 x {background} = {len(z) * background:,} rows, pre-built, chunks of {CHUNK}")
    for case, (x, b) in cases.items():
        table = np.where(z[:, None, :], x, b[None]).reshape(-1, X.shape[1])
        for name, model in models.items():
            def floor(model=model, table=table):
                for start in range(0, len(table), CHUNK):
                    model.predict_proba(table[start:start + CHUNK])

            def ours(model=model, x=x, b=b):
                return nbx.shapley_tabular(model, x, data=b, method="exact", n_background=None)

            rows = ours().n_evaluations
            t = race({"floor": floor, "nbexplain exact": ours}, repeats)
            print(f"  {case:<28} {name:<20} floor {1000 * t['floor']:7.1f} ms   nbexplain exact "
                  f"{1000 * t['nbexplain exact']:7.1f} ms = {t['nbexplain exact'] / t['floor']:.2f}x the floor"
                  f"   ({rows:,} distinct rows predicted)")


# ---------------------------------------------------------------------------------------------------
# 3. KernelSHAP at equal evaluations
# ---------------------------------------------------------------------------------------------------
class Counted:
    def __init__(self, fn):
        self.fn, self.rows = fn, 0

    def __call__(self, A):
        A = np.asarray(A, dtype=np.float64)
        self.rows += len(A)
        return self.fn(A)


def bench_kernel(background: int, n_rows: int, budgets: list[int]) -> None:
    data, models = credit_models()
    model = models["gradient boosting"]
    X = data.X
    rng = np.random.default_rng(1)
    bg = X[np.sort(rng.choice(len(X), background, replace=False))]
    rows = X[rng.choice(len(X), n_rows, replace=False)]

    def f(A):
        return model.predict_proba(A)[:, 1]

    exact = [nbx.shapley_tabular(f, x, data=bg, n_background=None).values for x in rows]
    scale = np.mean([np.abs(e).sum() for e in exact])
    try:
        import shap
    except Exception as exc:  # noqa: BLE001
        shap = None
        missing("SHAP", exc)
    print(f"\n[3] KernelSHAP vs exact, Credit (10 features, 1024 coalitions), gradient boosting, background "
          f"{background}, {n_rows} rows; error = mean |phi - exact| / mean sum|exact| (lower is better)")
    print(f"  {'coalitions':>10}  {'contender':<26}{'model rows / row':>18}{'error':>9}{'ms / row':>10}")
    for n in budgets:
        contenders = {"nbexplain kernel": None}
        if shap is not None:
            contenders["SHAP KernelExplainer auto"] = "auto"
            contenders["SHAP KernelExplainer l1=False"] = False
        for name, option in contenders.items():
            errors, counts, times = [], [], []
            for k, x in enumerate(rows):
                counted = Counted(f)
                t0 = time.perf_counter()
                if option is None:
                    phi = nbx.shapley_tabular(counted, x, data=bg, method="kernel", n_samples=n + 2,
                                              n_background=None, seed=k).values
                    rows_used = counted.rows  # incl. one row: x itself, predicted first to resolve the target
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        np.random.seed(k)
                        explainer = shap.KernelExplainer(counted, bg)
                        phi = np.asarray(explainer.shap_values(x[None], nsamples=n, silent=True,
                                                               l1_reg=option)).reshape(-1)
                    rows_used = counted.rows
                times.append(time.perf_counter() - t0)
                counts.append(rows_used)
                errors.append(np.abs(phi - exact[k]).mean())
            print(f"  {n:>10}  {name:<26}{np.mean(counts):>18,.0f}{np.mean(errors) / scale:>9.4f}"
                  f"{1000 * np.mean(times):>10.1f}")


def main() -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=40, help="rows explained by every counterfactual contender")
    parser.add_argument("--repeats", type=int, default=2, help="repeats per timing (minimum kept)")
    parser.add_argument("--background", type=int, default=100)
    parser.add_argument("--models", default="random forest,logistic regression")
    parser.add_argument("--quick", action="store_true", help="fewer rows and budgets (smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["counterfactuals", "exact", "kernel"], help="run one part")
    args = parser.parse_args()
    import torch

    print(f"nbexplain benchmark: counterfactuals and tabular Shapley values (torch threads {torch.get_num_threads()})")
    if args.only in (None, "counterfactuals"):
        bench_counterfactuals(args.rows, args.repeats, args.seed, [m.strip() for m in args.models.split(",")])
    if args.only in (None, "exact"):
        bench_exact(args.background, args.repeats)
    if args.only in (None, "kernel"):
        bench_kernel(args.background if not args.quick else 30, 3 if args.quick else 10,
                     [64, 256] if args.quick else [64, 128, 256, 512])


if __name__ == "__main__":
    main()
