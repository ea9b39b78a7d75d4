"""numpy's BLAS on one thread beside torch's passes (nbexplain/adapters/blas.py)."""

from __future__ import annotations

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import nbexplain as nbx
from nbexplain.adapters.blas import one_blas_thread
from nbexplain.methods.coalitions.surrogate import fit_weighted_ridge


def blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_numpy_blas_runs_on_one_thread_inside_and_as_before_after():
    with threadpool_limits(2, user_api="blas"):  # as on a 2-core machine, whatever this one has
        assert blas_threads() and set(blas_threads()) == {2}
        with one_blas_thread():
            assert set(blas_threads()) == {1}
            with one_blas_thread():  # nested: still one, and the outer one restores
                assert set(blas_threads()) == {1}
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {2}


class SeesTheBlas(torch.nn.Module):
    """A model that notes how many threads numpy's BLAS has while it runs."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.seen: list[list[int]] = []

    def forward(self, x):
        self.seen.append(blas_threads())
        return self.fc(x)


def test_a_torch_models_batches_run_beside_one_blas_thread_and_the_users_numpy_keeps_its_threads():
    net = SeesTheBlas()
    with threadpool_limits(2, user_api="blas"):
        nbx.as_model(net, batch_size=2).predict(np.zeros((7, 3), np.float32))  # four batches
        assert len(net.seen) == 4 and all(set(s) == {1} for s in net.seen)
        assert set(blas_threads()) == {2}


def test_the_surrogate_fit_is_the_same_on_one_thread():
    rng = np.random.default_rng(0)
    z = (rng.random((400, 30)) < 0.5).astype(np.float64)
    y = z @ rng.normal(size=30) + 0.1 * rng.normal(size=400)
    w = rng.random(400)
    fit = fit_weighted_ridge(z, y, w, alpha=1.0)
    from sklearn.linear_model import Ridge

    ref = Ridge(alpha=1.0).fit(z, y, sample_weight=w)
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fit.intercept, ref.intercept_, rtol=1e-8)
