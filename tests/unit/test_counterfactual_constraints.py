"""Constraints of nbx.counterfactual are hard, checked property-based (hypothesis) on random problems: immutable
features never change, ranges hold, integers stay integers, categoricals take only their categories, and the
reported validity agrees with the model itself — for the black-box search and the torch gradient search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


class RandomNet(torch.nn.Module):
    def __init__(self, n_features, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w1 = torch.nn.Parameter(torch.randn(n_features, 8, generator=g, dtype=torch.float64))
        self.w2 = torch.nn.Parameter(torch.randn(8, 3, generator=g, dtype=torch.float64))

    def forward(self, x):
        return torch.tanh(x @ self.w1) @ self.w2 * 3


@st.composite
def problems(draw):
    seed = draw(st.integers(0, 10_000))
    f = draw(st.integers(3, 6))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, f))
    kinds = draw(st.lists(st.sampled_from(["num", "int", "cat"]), min_size=f, max_size=f))
    categories = {}
    for j, kind in enumerate(kinds):
        if kind == "int":
            X[:, j] = np.round(X[:, j] * 3)
        elif kind == "cat":
            k = draw(st.integers(2, 4))
            X[:, j] = rng.integers(0, k, size=len(X))
            categories[j] = sorted(set(X[:, j].tolist()))
    x = X[draw(st.integers(0, len(X) - 1))].copy()
    immutable = [j for j in range(f) if draw(st.booleans()) and draw(st.booleans())]
    ranges = {}
    for j, kind in enumerate(kinds):
        if kind != "cat" and draw(st.booleans()):
            lo = x[j] - draw(st.floats(0, 3))
            hi = x[j] + draw(st.floats(0, 3))
            ranges[j] = (lo, hi)
    integer = [j for j, k in enumerate(kinds) if k == "int"]
    return seed, X, x, immutable, ranges, integer, list(categories), categories


@settings(max_examples=25, deadline=None, database=None)
@given(problems(), st.sampled_from(["black box", "torch"]), st.booleans())
def test_constraints_always_hold(problem, kind, sparse):
    seed, X, x, immutable, ranges, integer, categorical, categories = problem
    net = RandomNet(X.shape[1], seed)
    model = net if kind == "torch" else nbx.as_model(net).predict_proba
    result = nbx.counterfactual(model, x, X, immutable=immutable, ranges=ranges, integer=integer,
                                categorical=categorical, n=2, sparse=sparse, seed=seed)
    assert len(result) >= 1
    lo, hi = X.min(0), X.max(0)
    for cf in result:
        xp = cf.x
        assert np.all(xp[immutable] == x[immutable])
        for j in range(X.shape[1]):
            low, high = ranges.get(j, (min(lo[j], x[j]), max(hi[j], x[j])))
            assert low - 1e-12 <= xp[j] <= high + 1e-12
        assert np.all(xp[integer] == np.round(xp[integer]))
        for j, cats in categories.items():
            assert xp[j] in cats
        p = nbx.as_model(net).predict_proba(xp[None])[0]
        assert cf.valid == bool(p[result.target] >= 0.55 - 1e-12)


