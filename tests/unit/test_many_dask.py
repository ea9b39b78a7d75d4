"""explain_many on a real Dask LocalCluster (2 worker processes x 1 thread, started and stopped here): the same
bits as in-process, a failing row kept apart, a worker killed mid-run losing nothing, a cancel stopping the
tasks, the model sent once per worker, results left on the cluster or streamed to Zarr."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")  # nbexplain[dask]; CI (NBX_REQUIRE_ALL=1) fails instead

import dask  # noqa: E402
import torch  # noqa: E402

import nbexplain as nbx  # noqa: E402
from nbexplain.errors import Cancelled  # noqa: E402
from nbexplain.explain import many as many_module  # noqa: E402
from nbexplain.methods.many.executors import environment_kept  # noqa: E402

pytestmark = pytest.mark.slow

LOADS = 0  # how often this process unpickled a CountingModel (read on the workers)
CALLS = 0  # how often a CountingModel predicted in this process


class CountingModel:
    """A scikit-learn model's predict_proba that counts its unpickling, optionally slowed down per call."""

    def __init__(self, clf, delay: float = 0.0):
        self.clf, self.delay = clf, delay

    def __call__(self, batch):
        global CALLS
        CALLS += 1
        if self.delay:
            time.sleep(self.delay)
        return self.clf.predict_proba(batch)

    def __setstate__(self, state):
        global LOADS
        LOADS += 1
        self.__dict__.update(state)


def loads_here() -> int:
    return LOADS


def calls_here() -> int:
    return CALLS


class SmallCNN(torch.nn.Module):
    """conv -> ReLU -> maxpool -> linear, float32, weights from a seeded generator (defined here, so the
    workers import the class from this module)."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.head = torch.nn.Linear(6 * 8 * 8, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def forward(self, x):
        return self.head(torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2).flatten(1))


def wait_for_workers(client, n: int, timeout: float = 120.0) -> None:
    """Until the scheduler counts ``n`` workers (the nanny restarts a killed one)."""
    deadline = time.monotonic() + timeout
    while len(client.nthreads()) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(client.nthreads()) >= n


def local_cluster(n_workers: int = 2, **config):
    with dask.config.set(config), environment_kept():
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
    return cluster, distributed.Client(cluster)


@pytest.fixture(scope="module")
def client():
    with environment_kept():  # a nanny restarting a killed worker writes into this process's environment
        cluster, c = local_cluster()
        try:
            yield c
        finally:
            c.close()
            cluster.close()


def test_a_session_cluster_leaves_this_processs_environment_as_it_was():
    """distributed's nanny sets OMP_NUM_THREADS=1 (and more) in the process that spawns its workers and never
    restores it: every kernel or process started later would run on one thread."""
    before = dict(os.environ)
    from nbexplain.methods.many.executors import _SESSION, session_client

    client = session_client()
    try:
        assert len(client.nthreads()) >= 1
        assert dict(os.environ) == before
    finally:
        _SESSION.pop("local", None)
        cluster = client.cluster
        client.close()
        cluster.close()
    assert dict(os.environ) == before


@pytest.fixture(scope="module")
def credit():
    from sklearn.ensemble import GradientBoostingClassifier

    data = nbx.datasets.credit()
    clf = GradientBoostingClassifier(random_state=0, n_estimators=20, max_depth=2).fit(data.X, data.y)
    return data, clf


def same(a, b) -> None:
    """Two runs agree to the last bit: values, other arrays, quality, targets, seeds, failures."""
    assert np.array_equal(np.asarray(a.values), np.asarray(b.values), equal_nan=True)
    assert a.arrays.keys() == b.arrays.keys()
    for name in a.arrays:
        assert np.array_equal(np.asarray(a.arrays[name]), np.asarray(b.arrays[name]), equal_nan=True)
    assert a.row_quality.keys() == b.row_quality.keys()
    for q in a.row_quality:
        assert np.array_equal(a.row_quality[q], b.row_quality[q], equal_nan=True), q
    assert np.array_equal(a.targets, b.targets) and np.array_equal(a.seeds, b.seeds)
    assert np.array_equal(a.failed, b.failed)
    assert [(f.row, f.error, f.message) for f in a.failures] == [(f.row, f.error, f.message) for f in b.failures]


def test_tabular_shapley_exact_and_kernel_equal_in_process(client, credit):
    data, clf = credit
    kw = dict(data=data.X, feature_names=data.feature_names, n_background=25, progress=False)
    local = nbx.explain_many(clf, data.X[:60], "shapley_tabular", **kw)
    remote = nbx.explain_many(clf, data.X[:60], "shapley_tabular", executor=client, **kw)
    same(local, remote)
    assert remote.executor.startswith("dask: 2 worker(s), 2 thread(s)")
    assert remote.plan.task_overhead > 0 and remote.plan.n_tasks >= 8  # 4 tasks per thread at least
    if "dashboard" in client.scheduler_info()["services"]:
        assert remote.dashboard == client.dashboard_link
    kernel = dict(kw, n_samples=48)
    local = nbx.explain_many(clf, data.X[:30], "shapley_tabular:kernel", seed=3, **kernel)
    remote = nbx.explain_many(clf, data.X[:30], "shapley_tabular:kernel", seed=3, executor=client, chunk_size=4,
                              **kernel)
    same(local, remote)


def test_counterfactuals_equal_in_process(client, credit):
    data, clf = credit
    kw = dict(data=data.X, feature_names=data.feature_names, immutable=["Age", "Gender", "Ethnicity"],
              categorical=data.categories, progress=False)
    local = nbx.explain_many(clf, data.X[:8], "counterfactual", **kw)
    remote = nbx.explain_many(clf, data.X[:8], "counterfactual", executor=client, chunk_size=2, **kw)
    same(local, remote)
    assert local.row_quality["valid"].sum() >= 6


def test_occlusion_and_lime_image_equal_in_process(client):
    model = SmallCNN().eval()
    images = np.random.default_rng(2).random((8, 16, 16, 3)).astype(np.float32)
    remote = nbx.explain_many(model, images, "occlusion", executor=client, window=4, stride=2, progress=False)
    local = nbx.explain_many(model, images, "occlusion", window=4, stride=2, progress=False)
    assert remote.batch_size == local.batch_size is not None  # measured once for this model, fixed for the run
    same(local, remote)
    kw = dict(segmentation="grid", n_segments=9, n_samples=80, seed=5, progress=False)
    local = nbx.explain_many(model, images[:6], "lime_image", **kw)
    remote = nbx.explain_many(model, images[:6], "lime_image", executor=client, chunk_size=2, **kw)
    same(local, remote)


def test_a_row_whose_model_raises_is_reported_and_every_other_row_is_complete(client, credit):
    data, clf = credit
    rows = data.X[:40].copy()
    rows[[7, 23], 0] = 9999.0

    def model(batch):  # defined here: sent to the workers by value
        if np.any(batch[:, 0] == 9999.0):
            raise ValueError("income out of range")
        return clf.predict_proba(batch)

    kw = dict(data=data.X[:30], target=1, progress=False)
    remote = nbx.explain_many(model, rows, "shapley_tabular", executor=client, chunk_size=5, **kw)
    assert np.flatnonzero(remote.failed).tolist() == [7, 23]
    assert all(f.error == "ModelError" and "income out of range" in f.message for f in remote.failures)
    clean = nbx.explain_many(clf, data.X[:40], "shapley_tabular", **kw)
    ok = ~remote.failed
    assert np.array_equal(remote.values[ok], clean.values[ok])
    same(nbx.explain_many(model, rows, "shapley_tabular", **kw), remote)


def test_a_worker_killed_mid_run_loses_no_row(client, credit):
    data, clf = credit
    slow = CountingModel(clf, delay=0.01)
    kw = dict(data=data.X[:20], target=1, progress=False)
    local = nbx.explain_many(slow, data.X[:48], "shapley_tabular", **kw)
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(fraction: float) -> None:
        if not killed:  # the first chunk is back: the others are running or waiting
            os.kill(pids[0], signal.SIGKILL)
            killed.append(fraction)

    remote = nbx.explain_many(slow, data.X[:48], "shapley_tabular", executor=client, chunk_size=2,
                              **dict(kw, progress=kill_one))
    assert killed and killed[0] < 0.5
    same(local, remote)
    assert remote.n_failed == 0
    wait_for_workers(client, 2)
    assert pids[0] not in client.run(os.getpid).values()  # the killed process is gone, its rows were redone


def test_a_row_that_kills_its_worker_fails_alone(credit):
    data, clf = credit
    rows = data.X[:12].copy()
    rows[5, 0] = -1.0

    def model(batch):
        if np.any(batch[:, 0] == -1.0):
            os._exit(1)  # a crash inside the model: the worker process dies
        return clf.predict_proba(batch)

    # its own cluster: three workers, and a task given up after one death (Dask's default: three), so the
    # test needs no worker to come back
    cluster, client = local_cluster(3, **{"distributed.scheduler.allowed-failures": 0})
    try:
        kw = dict(data=data.X[:20], target=1, progress=False)
        remote = nbx.explain_many(model, rows, "shapley_tabular", executor=client, chunk_size=4, **kw)
    finally:
        client.close()
        cluster.close()
    assert np.flatnonzero(remote.failed).tolist() == [5]
    assert remote.failures[0].error == "KilledWorker"
    clean = nbx.explain_many(clf, data.X[:12], "shapley_tabular", **kw)
    ok = ~remote.failed
    assert np.array_equal(remote.values[ok], clean.values[ok])
    assert np.array_equal(remote.seeds, clean.seeds)


def test_cancel_stops_the_tasks(client, credit):
    data, clf = credit
    slow = CountingModel(clf, delay=0.05)
    before = sum(client.run(calls_here).values())

    def cancel(fraction: float) -> None:
        raise Cancelled("stop")

    with pytest.raises(Cancelled) as info:
        nbx.explain_many(slow, data.X[:200], "shapley_tabular", data=data.X[:20], target=1, executor=client,
                         chunk_size=2, progress=cancel)
    partial = info.value.partial
    assert partial.n_explained == 2 and partial.pending.sum() == 198
    deadline = time.time() + 30
    while time.time() < deadline:
        left = client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks
                                                               if str(k).startswith("nbx-explain")])
        if not left and not any(client.processing().values()):
            break
        time.sleep(0.2)
    assert not left, left  # nothing of the run is left on the cluster
    # a worker thread may still be inside the model call it was making when its task was released: let it
    # finish (the count still for 1 s, at most 10 s), then nothing may run any more
    calls, still_since = sum(client.run(calls_here).values()) - before, time.time()
    deadline = time.time() + 10
    while time.time() - still_since < 1.0 and time.time() < deadline:
        time.sleep(0.1)
        now = sum(client.run(calls_here).values()) - before
        if now != calls:
            calls, still_since = now, time.time()
    time.sleep(1.0)
    assert sum(client.run(calls_here).values()) - before == calls  # and nothing runs any more
    # each row calls the model at least twice (its prediction, the coalitions): the 100 tasks did not run
    assert calls < 2 * 40, calls


def test_the_model_is_sent_once_per_worker(client, credit):
    data, clf = credit
    before = client.run(loads_here)
    many = nbx.explain_many(CountingModel(clf), data.X[:40], "shapley_tabular", data=data.X[:10], target=1,
                            executor=client, chunk_size=2, progress=False)
    assert many.plan.n_tasks == 20
    after = client.run(loads_here)
    loads = {w: after[w] - before.get(w, 0) for w in after}
    # scattered to every worker before the first task; not pickled into the 20 tasks (a worker may, rarely,
    # be sent a second copy by a peer when the scheduler rebalances, hence the one spare)
    assert all(k >= 1 for k in loads.values()) and sum(loads.values()) <= len(loads) + 1, loads


def test_results_left_on_the_cluster_or_streamed_to_zarr(client, credit, tmp_path, monkeypatch):
    pytest.importorskip("zarr")
    data, clf = credit
    kw = dict(data=data.X[:20], feature_names=data.feature_names, progress=False)
    local = nbx.explain_many(clf, data.X[:30], "shapley_tabular", **kw)
    monkeypatch.setattr(many_module, "MEMORY_SHARE", 0.0)  # as if the results did not fit here
    kept = nbx.explain_many(clf, data.X[:30], "shapley_tabular", executor=client, chunk_size=4, **kw)
    assert isinstance(kept.values, dask.array.Array)
    same(local, kept)
    np.testing.assert_allclose(kept.importance(), local.importance(), rtol=1e-12)
    monkeypatch.undo()
    stored = nbx.explain_many(clf, data.X[:30], "shapley_tabular", executor=client, store=tmp_path / "r.zarr", **kw)
    same(local, stored)
    same(local, nbx.ManyExplanations.from_zarr(tmp_path / "r.zarr"))


def test_executor_dask_uses_the_current_client(client, credit):
    data, clf = credit
    with client.as_current():
        many = nbx.explain_many(clf, data.X[:10], "lime_tabular", data=data.X, n_samples=200, executor="dask",
                                progress=False)
    assert many.executor.endswith(client.scheduler.address)
    assert np.array_equal(many.values, nbx.explain_many(clf, data.X[:10], "lime_tabular", data=data.X,
                                                        n_samples=200, progress=False).values)


def test_executor_as_a_scheduler_address(client, credit):
    from nbexplain.methods.many import executors

    data, clf = credit
    address = client.scheduler.address
    try:
        many = nbx.explain_many(clf, data.X[:6], "shapley_tabular", data=data.X[:20], executor=address,
                                progress=False)
        assert many.executor.endswith(address) and many.n_explained == 6
    finally:
        own = executors._SESSION.pop(address, None)
        if own is not None:
            own.close()
