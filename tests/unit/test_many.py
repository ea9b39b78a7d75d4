"""explain_many in-process: per-row seeds, the chunk rule, stacked results against the explainers themselves
and SHAP, failures kept per row, cancel, aggregates, the Zarr store and bad input (Dask: test_many_dask.py)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from unit_kit import TinyCNN

import nbexplain as nbx
from nbexplain.errors import Cancelled, InputError, ModelError, UnknownArgumentError
from nbexplain.explain import many as many_module
from nbexplain.methods.many import chunks, seeds
from nbexplain.methods.many.batching import torch_threads
from nbexplain.methods.many.rows import RowOutput


@pytest.fixture(scope="module")
def credit():
    from sklearn.ensemble import GradientBoostingClassifier

    data = nbx.datasets.credit()
    clf = GradientBoostingClassifier(random_state=0, n_estimators=20, max_depth=2).fit(data.X, data.y)
    return data, clf


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(1)
    return rng.random((6, 16, 16, 3)).astype(np.float32)


def fresh_cnn() -> TinyCNN:
    return TinyCNN().eval()


# -- seeds and chunks ------------------------------------------------------------------------------------
def test_row_seeds_come_from_the_row_index_not_the_order():
    entropy = seeds.seed_entropy(7)
    forward = seeds.row_seeds(entropy, np.arange(50))
    backward = seeds.row_seeds(entropy, np.arange(50)[::-1])[::-1]
    assert np.array_equal(forward, backward)
    children = np.random.SeedSequence(7).spawn(50)  # the documented definition
    assert forward.tolist() == [int(c.generate_state(1, np.uint32)[0]) for c in children]
    assert len(set(forward.tolist())) == 50
    assert seeds.seed_entropy(None) != seeds.seed_entropy(None)  # fresh entropy, kept by the result
    with pytest.raises(InputError, match="seed"):
        seeds.seed_entropy(-1)


def test_chunk_rule_hides_the_overhead_and_keeps_every_thread_busy():
    plan = chunks.plan_chunks(2000, threads=2, seconds_per_row=0.011, task_overhead=0.003)
    assert plan.limited_by == "overhead"
    assert plan.overhead_share <= chunks.OVERHEAD_SHARE
    assert plan.chunk_size * plan.n_tasks >= 2000 > (plan.chunk_size - 1) * plan.n_tasks
    # a huge overhead: capped so that each of the 8 threads still gets 4 tasks
    plan = chunks.plan_chunks(1000, threads=8, seconds_per_row=0.001, task_overhead=1.0)
    assert plan.limited_by == "balance" and plan.n_tasks >= 4 * 8
    # slow rows: no task longer than MAX_TASK_SECONDS
    plan = chunks.plan_chunks(10**6, threads=4, seconds_per_row=2.0, task_overhead=5.0)
    assert plan.limited_by == "duration" and plan.chunk_size * 2.0 <= chunks.MAX_TASK_SECONDS
    spans = plan.spans()
    assert spans[0][0] == 0 and spans[-1][1] == 10**6
    assert all(b == c for (_, b), (c, _) in zip(spans, spans[1:], strict=False))
    # whole rounds: the rule's 19 rows per task would make 11 tasks on 2 threads (one thread idle for the last);
    # 10 tasks of 20 rows end together, and sooner than 11 tasks or 12 would
    plan = chunks.plan_chunks(200, threads=2, seconds_per_row=0.0322, task_overhead=0.006)
    assert chunks.even(200, 19) == 19 and plan.n_tasks == 10 and plan.chunk_size == 20
    assert all(chunks.estimate_seconds(200, 2, 0.0322, 0.006, chunk_size=plan.chunk_size)
               < chunks.estimate_seconds(200, 2, 0.0322, 0.006, chunk_size=c) for c in (17, 19))
    # the arithmetic: a million rows of 10 ms on 100 threads, 5 ms per task
    t = chunks.estimate_seconds(10**6, 100, 0.01, 0.005)
    assert 10**6 * 0.01 / 100 <= t <= 1.02 * 10**6 * 0.01 / 100 + 1


# -- results against the explainers themselves and SHAP -----------------------------------------------------
def test_exact_shapley_of_many_rows_equals_the_explainer_and_shap(credit):
    import shap

    data, clf = credit
    background = data.X[::20]  # 20 rows: used whole
    many = nbx.explain_many(clf, data.X[:12], "shapley_tabular", data=background, feature_names=data.feature_names,
                            class_names=data.class_names, progress=False)
    assert many.values.shape == (12, 10) and many.n_failed == 0
    assert many.feature_names == data.feature_names and (many.targets == 1).all()  # global view: the positive class
    for i in (0, 5, 11):
        one = nbx.shapley_tabular(clf, data.X[i], background, target=1, seed=int(many.seeds[i]), progress=False)
        assert np.array_equal(one.values, many.values[i])
        assert one.efficiency_gap == many.row_quality["efficiency_gap"][i]
        again = many.explain(i)
        assert np.array_equal(again.values, many.values[i])
    explainer = shap.explainers.Exact(lambda A: clf.predict_proba(A)[:, 1],
                                      shap.maskers.Independent(background, max_samples=len(background)))
    reference = explainer(data.X[:12]).values
    np.testing.assert_allclose(many.values, reference, atol=1e-10)
    # the same seed gives the same bits; sampled values depend on it
    assert np.array_equal(many.values, nbx.explain_many(clf, data.X[:12], "shapley_tabular", data=background,
                                                        progress=False).values)


def test_shapley_rows_share_one_background_drawn_with_the_run_seed(credit):
    data, clf = credit
    many = nbx.explain_many(clf, data.X[:5], "shapley_tabular", data=data.X, n_background=30, progress=False)
    base = many.row_quality["base_value"]
    np.testing.assert_allclose(base, base[0], rtol=1e-12)  # one background, one base value
    from nbexplain.methods.coalitions.tabular import background_sample

    bg = background_sample(data.X, 30, many.seed)
    one = nbx.shapley_tabular(clf, data.X[3], bg, n_background=None, target=1, progress=False)
    assert np.array_equal(one.values, many.values[3])


def test_sampled_and_kernel_rows_use_their_own_seeds(credit):
    data, clf = credit
    kw = dict(data=data.X[:40], n_samples=40, progress=False)
    kernel = nbx.explain_many(clf, data.X[:4], "shapley_tabular:kernel", **kw)
    assert kernel.options["method"] == "kernel" and kernel.label == "Shapley values (kernel)"
    one = nbx.shapley_tabular(clf, data.X[2], data.X[:40], method="kernel", n_samples=40, target=1,
                              seed=int(kernel.seeds[2]), progress=False)
    assert np.array_equal(one.values, kernel.values[2])
    other = nbx.explain_many(clf, data.X[:4], "shapley_tabular:kernel", seed=1, **kw)
    assert not np.array_equal(other.values, kernel.values)


def test_lime_tabular_and_per_row_targets(credit):
    data, clf = credit
    targets = [0, 1, 0, 1]
    many = nbx.explain_many(clf, data.X[:4], nbx.lime_tabular, data=data.X, target=targets, n_samples=300,
                            categorical=data.categorical, feature_names=data.feature_names, progress=False)
    assert many.method == "lime_tabular" and many.targets.tolist() == targets
    assert np.all((many.row_quality["fidelity"] > 0) & (many.row_quality["fidelity"] <= 1))
    one = nbx.lime_tabular(clf, data.X[1], data.X, target=1, n_samples=300, categorical=data.categorical,
                           feature_names=data.feature_names, seed=int(many.seeds[1]), progress=False)
    assert np.array_equal(one.values, many.values[1])


def test_counterfactuals_of_many_rows(credit):
    data, clf = credit
    rows = data.X[[3, 10, 40]]
    many = nbx.explain_many(clf, rows, "counterfactual", data=data.X, immutable=["Age", "Gender", "Ethnicity"],
                            categorical=data.categories, progress=False, feature_names=data.feature_names)
    one = nbx.counterfactual(clf, rows[1], data.X, immutable=["Age", "Gender", "Ethnicity"],
                             categorical=data.categories, seed=int(many.seeds[1]), progress=False,
                             feature_names=data.feature_names)
    assert np.array_equal(many.arrays["counterfactual"][1], one.best.x)
    assert np.array_equal(many.arrays["delta"][1], one.best.delta)
    assert many.row_quality["valid"][1] == float(one.best.valid)
    assert many.row_quality["distance"][1] == one.best.distance
    # values: the change of each feature in MADs (a category: 1), zero where nothing changed
    moves = many.values[1]
    assert np.all(moves[~one.best.changed] == 0)
    for j in np.flatnonzero(one.best.changed):
        expected = 1.0 if one.space.categorical[j] else one.best.delta[j] / one.scale[j]
        assert moves[j] == pytest.approx(expected)
    assert np.all(many.values[:, [4, 6, 9]] == 0)  # immutable


def test_pixel_attribution_and_lime_image_rows_with_the_run_batch_size(images):
    model = fresh_cnn()
    many = nbx.explain_many(model, images, "occlusion", window=4, stride=4, progress=False)
    assert many.values.shape == (6, 16, 16) and many.values.dtype == np.float32
    assert many.batch_size is not None  # measured once (a pilot) and fixed for every image
    fixed = nbx.as_model(model, batch_size=many.batch_size)
    for i in (0, 4):
        with torch_threads(1):  # a run computes every torch call on one thread (see methods/many/batching.py)
            one = nbx.attribute(fixed, images[i], "occlusion", window=4, stride=4, progress=False)
        assert np.array_equal(one.map, many.values[i])
        assert many.targets[i] == one.target and many.row_quality["probability"][i] == one.probability
    assert np.array_equal(many.explain(4).map, many.values[4])  # explain(i) runs as the run ran
    again = nbx.explain_many(model, images, "attribute:occlusion", window=4, stride=4, progress=False)
    assert again.batch_size == many.batch_size and np.array_equal(again.values, many.values)
    lime = nbx.explain_many(model, images[:3], "lime_image", segmentation="grid", n_segments=9, n_samples=60,
                            progress=False)
    with torch_threads(1):
        one = nbx.lime_image(nbx.as_model(model, batch_size=lime.batch_size), images[2], segmentation="grid",
                             n_segments=9, n_samples=60, seed=int(lime.seeds[2]), progress=False)
    assert np.array_equal(one.map, lime.values[2])
    assert lime.row_quality["fidelity"][2] == one.fidelity
    assert lime.importance().shape == (16, 16)


def test_a_row_whose_model_call_raises_is_reported_and_the_others_are_complete(credit):
    data, clf = credit
    rows = data.X[:10].copy()
    rows[4, 0] = 9999.0  # the model refuses this income

    def model(batch):
        if np.any(batch[:, 0] == 9999.0):
            raise ValueError("income out of range")
        return clf.predict_proba(batch)

    many = nbx.explain_many(model, rows, "shapley_tabular", data=data.X[:30], target=1, progress=False)
    clean = nbx.explain_many(clf, data.X[:10], "shapley_tabular", data=data.X[:30], target=1, progress=False)
    assert many.failed.tolist() == [i == 4 for i in range(10)]
    (failure,) = many.failures
    assert failure.row == 4 and failure.error == "ModelError" and "income out of range" in failure.message
    assert np.all(np.isnan(many.values[4]))
    ok = ~many.failed
    assert np.array_equal(many.values[ok], clean.values[ok])
    table = many.to_frame()
    assert table.loc[4, "error"].startswith("ModelError") and table["error"].isna().sum() == 9
    assert "1 failed" in many.quality()[0]
    assert np.allclose(many.importance(), np.abs(clean.values[ok]).mean(axis=0))


def test_a_run_whose_first_rows_all_fail_stops_with_their_error(credit):
    data, clf = credit

    def broken(batch):
        raise RuntimeError("weights not loaded")

    with pytest.raises(ModelError, match="first 10 row.*weights not loaded"):
        nbx.explain_many(broken, data.X[:10], "lime_tabular", data=data.X, target=1, progress=False)
    with pytest.raises(ModelError, match="weights not loaded"):  # the global target: the model is asked first
        nbx.explain_many(broken, data.X[:10], "lime_tabular", data=data.X, progress=False)
    calls = []

    def counted(batch):
        calls.append(len(batch))
        raise RuntimeError("weights not loaded")

    with pytest.raises(ModelError, match="first 16 row"):
        nbx.explain_many(counted, data.X[:300], "lime_tabular", data=data.X, n_samples=10, target=1, progress=False)
    assert len(calls) < 40  # stopped early, not after 300 rows


def test_cancel_stops_the_run_and_keeps_the_rows_done(credit):
    data, clf = credit
    seen = []

    def progress(fraction):
        seen.append(fraction)
        if fraction >= 0.25:
            raise Cancelled("enough")

    with pytest.raises(Cancelled) as info:
        nbx.explain_many(clf, data.X[:20], "shapley_tabular", data=data.X[:20], progress=progress, chunk_size=4)
    partial = info.value.partial
    assert partial.n_explained == 4 and partial.pending.sum() == 16  # the chunks completed before the cancel
    assert seen[-1] == 0.25
    full = nbx.explain_many(clf, data.X[:20], "shapley_tabular", data=data.X[:20], progress=False)
    assert np.array_equal(partial.values[:4], full.values[:4])  # the chunks finished before the cancel
    assert partial.to_frame()["error"].iloc[-1] == "not explained (the run was stopped)"


# -- aggregates ------------------------------------------------------------------------------------------
def test_global_importance_and_groups_with_their_intersection(credit):
    data, clf = credit
    many = nbx.explain_many(clf, data.X[:60], "shapley_tabular", data=data.X[:25],
                            feature_names=data.feature_names, progress=False)
    imp = many.importance()
    np.testing.assert_allclose(imp, np.abs(many.values).mean(axis=0))
    np.testing.assert_allclose(many.importance(signed=True), many.values.mean(axis=0))
    assert [name for name, _ in many.ranking()] == [data.feature_names[j] for j in np.argsort(-imp, kind="stable")]
    by = many.by_group("Gender", names=data.categories)
    gender = data.X[:60, data.feature_names.index("Gender")]
    assert by.group_names == ["Female", "Male"] and by.counts.tolist() == [(gender == 0).sum(), (gender == 1).sum()]
    np.testing.assert_allclose(by.mean_abs[1], np.abs(many.values[gender == 1]).mean(axis=0))
    np.testing.assert_allclose(by.mean[0], many.values[gender == 0].mean(axis=0))
    assert "largest difference" in by.summary()
    table = by.to_frame()
    assert list(table.columns) == ["feature", "Female", "Male", "all"]
    both = many.by_group(["Gender", "Student"], names=data.categories)
    assert both.attribute == "Gender × Student" and "Female × Yes" in both.group_names
    labels = np.where(data.X[:60, 0] > 50, "high income", "low income")
    assert many.by_group(labels).group_names == ["high income", "low income"]
    with pytest.raises(InputError, match="did you mean 'Gender'"):
        many.by_group("Gendr")
    with pytest.raises(InputError, match="one label per row"):
        many.by_group(np.zeros(3))


def test_summary_frame_and_pictures(credit):
    import matplotlib

    matplotlib.use("Agg")
    data, clf = credit
    names = [f"${n}" for n in data.feature_names]  # user text: drawn as written
    many = nbx.explain_many(clf, data.X[:8], "shapley_tabular", data=data.X[:20], feature_names=names,
                            progress=False)
    assert "Shapley values of 8 rows (8 explained, 0 failed) in-process" in many.summary()
    table = many.to_frame()
    assert list(table.columns[:10]) == names and {"prediction", "target", "error"} <= set(table.columns)
    assert table.index.name == "row" and len(table) == 8
    ax = many.plot()
    assert ax.get_yticklabels()[-1].get_text().startswith("\\$")
    assert many._repr_png_().startswith(b"\x89PNG")
    assert many.by_group(np.arange(8) % 2)._repr_png_().startswith(b"\x89PNG")
    image_many = nbx.explain_many(fresh_cnn(), np.random.default_rng(0).random((4, 16, 16, 3)).astype(np.float32),
                                  "gradient", progress=False)
    assert image_many._repr_png_().startswith(b"\x89PNG")
    groups = image_many.by_group(np.array(["a", "b", "a", "b"]))
    assert groups.mean_abs.shape == (2, 16, 16) and groups._repr_png_().startswith(b"\x89PNG")


# -- the store -------------------------------------------------------------------------------------------
def test_results_streamed_to_zarr_and_opened_again(credit, tmp_path):
    pytest.importorskip("zarr")
    data, clf = credit
    kw = dict(data=data.X[:20], feature_names=data.feature_names, progress=False)
    memory = nbx.explain_many(clf, data.X[:50], "shapley_tabular", **kw)
    stored = nbx.explain_many(clf, data.X[:50], "shapley_tabular", store=tmp_path / "run.zarr", chunk_size=8, **kw)
    assert not isinstance(stored.values, np.ndarray)  # lazy: read from the store
    assert np.array_equal(np.asarray(stored.values), memory.values)
    np.testing.assert_allclose(stored.importance(), memory.importance(), rtol=1e-12)
    again = nbx.ManyExplanations.from_zarr(tmp_path / "run.zarr")
    assert again.method == "shapley_tabular" and again.feature_names == data.feature_names
    assert np.array_equal(np.asarray(again.values), memory.values)
    assert np.array_equal(again.seeds, memory.seeds)
    for q in memory.row_quality:
        assert np.array_equal(again.row_quality[q], memory.row_quality[q], equal_nan=True)
    with pytest.raises(InputError, match="no model"):
        again.explain(0)


# -- bad input -------------------------------------------------------------------------------------------
def test_bad_arguments_are_named(credit, images):
    data, clf = credit
    X = data.X[:5]
    with pytest.raises(UnknownArgumentError, match="did you mean 'chunk_size'"):
        nbx.explain_many(clf, X, "shapley_tabular", data=X, chunksize=2)
    with pytest.raises(UnknownArgumentError, match="did you mean 'n_samples'"):
        nbx.explain_many(clf, X, "lime_tabular", data=X, n_sample=10)
    with pytest.raises(UnknownArgumentError, match="did you mean 'window'"):
        nbx.explain_many(fresh_cnn(), images, "occlusion", windw=4)
    with pytest.raises(InputError, match="did you mean 'shapley_tabular'"):
        nbx.explain_many(clf, X, "shapley_tabluar", data=X)
    with pytest.raises(InputError, match="has no variants"):
        nbx.explain_many(clf, X, "lime_tabular:fast", data=X)
    with pytest.raises(InputError, match="needs data="):
        nbx.explain_many(clf, X, "shapley_tabular")
    with pytest.raises(InputError, match="takes no reference rows"):
        nbx.explain_many(fresh_cnn(), images, "occlusion", data=X)
    with pytest.raises(InputError, match="inputs must be 2-D"):
        nbx.explain_many(clf, X[0], "shapley_tabular", data=X)
    with pytest.raises(InputError, match="inputs has 3 columns but data has 10"):
        nbx.explain_many(clf, X[:, :3], "shapley_tabular", data=X)
    with pytest.raises(InputError, match="target has 2 values but inputs has 5 rows"):
        nbx.explain_many(clf, X, "shapley_tabular", data=X, target=[0, 1])
    with pytest.raises(InputError, match="executor must be None"):
        nbx.explain_many(clf, X, "shapley_tabular", data=X, executor="threads")
    with pytest.raises(InputError, match="progress must be"):
        nbx.explain_many(clf, X, "shapley_tabular", data=X, progress="yes")
    with pytest.raises(InputError, match="batch_size"):
        nbx.explain_many(clf, X, "shapley_tabular", data=X, batch_size=0)


def test_a_row_with_nan_fails_alone(credit):
    data, clf = credit
    rows = data.X[:6].copy()
    rows[2, 3] = np.nan
    many = nbx.explain_many(clf, rows, "lime_tabular", data=data.X, n_samples=100, progress=False)
    assert many.failed.tolist() == [False, False, True, False, False, False]
    assert many.failures[0].error == "InputError" and "NaN" in many.failures[0].message


def test_dask_missing_says_what_to_install(credit, monkeypatch):
    data, clf = credit
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=r"pip install 'nbexplain\[dask\]'"):
        nbx.explain_many(clf, data.X[:4], "shapley_tabular", data=data.X, executor="dask")


# -- the registry: one line adds an explainer ------------------------------------------------------------
def token_weights(model, text, *, seed=0, progress=None):
    """A stand-in text explainer: one weight per token (rows differ in length)."""
    from types import SimpleNamespace

    tokens = text.split()
    rng = np.random.default_rng(seed)
    if "crash" in tokens:
        raise ModelError("the tokenizer failed")
    return SimpleNamespace(weights=rng.normal(size=len(tokens)), n_tokens=len(tokens), target=0)


def test_one_line_registers_an_explainer_with_ragged_rows(monkeypatch):
    monkeypatch.setitem(many_module.EXPLAINERS, "token_weights",
                        many_module.Explainer(token_weights, "texts", "weights", ("n_tokens",), ragged=True))
    texts = ["a b c", "d e", "crash now", "f g h i"]
    many = nbx.explain_many(lambda x: x, texts, "token_weights", progress=False)
    assert [None if v is None else len(v) for v in many.values] == [3, 2, None, 4]
    assert many.failed.tolist() == [False, False, True, False]
    assert many.row_quality["n_tokens"].tolist()[:2] == [3.0, 2.0]
    expected = np.random.default_rng(int(many.seeds[3])).normal(size=4)
    assert np.array_equal(many.values[3], expected)
    with pytest.raises(InputError, match="differ in length"):
        many.importance()
    assert isinstance(many_module.EXPLAINERS["counterfactual"].output, object)
    assert RowOutput({"values": np.zeros(2)}, {}).target == -1


def test_batch_size_is_fixed_once_per_model_so_runs_agree(images):
    model = fresh_cnn()
    first = nbx.explain_many(model, images, "occlusion", window=4, stride=2, progress=False)
    second = nbx.explain_many(model, images, "occlusion", window=4, stride=2, progress=False)
    assert first.batch_size == second.batch_size  # remembered for this model object and input shape
    assert np.array_equal(first.values, second.values)
    given = nbx.explain_many(model, images, "occlusion", window=4, stride=2, batch_size=3, progress=False)
    assert given.batch_size == 3
    own = nbx.explain_many(nbx.as_model(model), images[:2], "occlusion", window=4, stride=2,
                           batch_size="per_worker", progress=False)
    assert own.batch_size is None
    with torch.inference_mode():
        assert np.allclose(own.values, first.values[:2], atol=1e-5)


def test_the_progress_bar_counts_rows_done_and_failed_with_rate_and_estimate(capsys):
    from nbexplain.methods.many.progress import RowProgress

    bar = RowProgress(True, 10, "explained (Shapley values)")
    bar.note("Dask dashboard: http://127.0.0.1:8787/status")
    bar.update(3, 1)
    bar.update(10, 2)
    bar.close()
    out, err = capsys.readouterr()
    assert "Dask dashboard: http://127.0.0.1:8787/status" in out
    assert "explained (Shapley values): 10/10 rows" in err and "2 failed" in err and "rows/s" in err
    silent = RowProgress(False, 10, "x")
    silent.note("not shown")
    silent.update(5, 0)
    assert capsys.readouterr() == ("", "")
    seen = []
    RowProgress(seen.append, 4, "x").update(1, 0)
    assert seen == [0.25]


def test_interrupting_the_kernel_stops_the_run_like_a_cancel(credit):
    data, clf = credit

    def interrupt(fraction):
        if fraction >= 0.5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        nbx.explain_many(clf, data.X[:8], "lime_tabular", data=data.X, n_samples=50, chunk_size=2, progress=interrupt)
    assert info.value.partial.n_explained == 2 and info.value.partial.pending.sum() == 6
