"""WeightRecorder against direct computation: histograms equal numpy.histogram of the same weights on the same
bins (through growing and merged grids), statistics equal numpy's, changes equal the norms of the differences,
and the flags name what did not learn: a frozen layer, a layer left out of the optimiser, a layer that barely
learns, dead ReLUs, NaN weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.datasets import tank_network, tanks
from nbexplain.errors import InputError
from nbexplain.methods.internals.histograms import SKETCH_SIZE, BinGrid, ParameterTracks


def tank_batches(n_batches: int, batch: int = 16, seed: int = 0):
    data = tanks(batch * n_batches, seed=seed)
    x = torch.from_numpy(np.ascontiguousarray(data.images.transpose(0, 3, 1, 2))).float() / 255
    y = torch.from_numpy(data.labels)
    return [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]) for i in range(n_batches)]


def train(model, opt, batches, recorder=None, copies=None):
    """A plain training loop; ``copies`` collects the weights at every snapshot (the test may keep copies)."""
    if copies is not None:
        recorder.subscribe(lambda r: copies.append({n: p.detach().clone() for n, p in model.named_parameters()}))
    for x, y in batches:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.fixture
def trained():
    """The tank CNN trained 30 steps with layer '4' frozen by mistake; every snapshot's weights kept."""
    model = tank_network(0)
    for p in model[4].parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    first = {n: p.detach().clone() for n, p in model.named_parameters()}
    rec = nbx.WeightRecorder(model, optimizer=opt, every=5, bins=16)
    copies = [first]
    train(model, opt, tank_batches(30), rec, copies)
    return model, rec, copies


def test_every_snapshot_equals_numpy_histogram_on_the_final_bins(trained):
    _, rec, copies = trained
    assert list(rec.steps) == [0, 5, 10, 15, 20, 25, 30]
    assert len(copies) == len(rec.steps)
    grown = 0
    for name in rec.parameters:
        edges, counts = rec.edges(name), rec.counts(name)
        grown += len(edges) - 1 > 16
        for s, weights in enumerate(copies):
            expected, _ = np.histogram(weights[name].numpy(), bins=edges)
            np.testing.assert_array_equal(counts[s], expected, err_msg=f"{name} at snapshot {s}")
    assert grown >= 5  # most grids grew (values left the first bins): the exactness above covers it


def relative(a: np.ndarray, b: np.ndarray) -> float:
    """|a - b| / max(|a|, |b|), 0 when both are zero: the recorder's change, computed directly."""
    delta = np.linalg.norm(a - b)
    return 0.0 if delta == 0 else delta / max(np.linalg.norm(a), np.linalg.norm(b))


def test_statistics_equal_direct_computation(trained):
    _, rec, copies = trained
    for name in rec.parameters:
        stats = rec.stats(name)
        for s, weights in enumerate(copies):
            w = weights[name].numpy().astype(np.float64).ravel()
            np.testing.assert_allclose(stats["mean"][s], w.mean(), rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(stats["std"][s], w.std(), rtol=1e-6, atol=1e-9)
            assert stats["min"][s] == w.min() and stats["max"][s] == w.max()
            np.testing.assert_allclose(stats["norm"][s], np.linalg.norm(w), rtol=1e-9)
            w0 = copies[0][name].numpy().astype(np.float64).ravel()
            total = relative(w, w0)
            if w.size <= SKETCH_SIZE:  # small tensors: the sketch is the tensor, the change exact
                np.testing.assert_allclose(stats["change_total"][s], total, rtol=1e-9, atol=1e-12)
            else:  # a count sketch of 2048 numbers: within a few percent
                np.testing.assert_allclose(stats["change_total"][s], total, rtol=0.1, atol=1e-12)
            if s:
                prev = copies[s - 1][name].numpy().astype(np.float64).ravel()
                step = relative(w, prev)
                np.testing.assert_allclose(stats["change"][s], step, rtol=1e-9 if w.size <= SKETCH_SIZE else 0.1)
        assert np.isnan(stats["change"][0]) and stats["change_total"][0] == 0


def test_gradient_norms_are_recorded_after_the_step():
    model = tank_network(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    rec = nbx.WeightRecorder(model, optimizer=opt, every=1)
    (x, y), = tank_batches(1)
    train(model, opt, [(x, y)])
    for name, p in model.named_parameters():
        np.testing.assert_allclose(rec.stats(name)["grad_norm"][-1], p.grad.norm().item(), rtol=1e-5)
        assert np.isnan(rec.stats(name)["grad_norm"][0])  # the initial weights had no gradient yet


def test_a_frozen_layer_shows_zero_change_and_is_flagged(trained):
    _, rec, _ = trained
    for name in ("4.weight", "4.bias"):
        stats = rec.stats(name)
        assert np.all(stats["change"][1:] == 0) and np.all(stats["change_total"] == 0)
    frozen = {f.parameter: f.message for f in rec.flags() if f.kind == "frozen"}
    assert set(frozen) == {"4.weight", "4.bias"}
    assert "did not change at all from step 0 to step 30" in frozen["4.weight"]
    assert "requires_grad is False" in frozen["4.weight"]
    assert "'4.weight' did not change at all" in rec.summary()
    table = rec.to_frame()
    assert len(table) == len(rec.parameters) * len(rec.steps)
    assert set(table.loc[table.parameter == "4.weight", "flags"]) == {"frozen"}
    assert set(table.loc[table.parameter == "0.weight", "flags"]) == {""}
    assert table.loc[table.parameter == "4.weight", "layer"].iloc[0] == "Conv2d"


def test_a_layer_left_out_of_the_optimiser_is_flagged_with_that_reason():
    model = tank_network(2)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("8.")], lr=3e-3)
    with nbx.WeightRecorder(model, optimizer=opt, every=4) as rec:
        train(model, opt, tank_batches(8))
    messages = {f.parameter: f.message for f in rec.flags()}
    assert "missing from the optimiser" in messages["8.weight"]


def test_a_layer_that_barely_learns_is_flagged_as_vanishing():
    model = tank_network(3)
    slow = [p for n, p in model.named_parameters() if n.startswith("8.")]
    fast = [p for n, p in model.named_parameters() if not n.startswith("8.")]
    opt = torch.optim.Adam([{"params": fast, "lr": 3e-3}, {"params": slow, "lr": 3e-8}])
    with nbx.WeightRecorder(model, optimizer=opt, every=3) as rec:
        train(model, opt, tank_batches(9))
    slow_flags = {f.parameter for f in rec.flags() if f.kind == "slow"}
    assert {"8.weight", "8.bias"} <= slow_flags
    assert not slow_flags & {"0.weight", "13.weight"}
    assert "barely learns" in rec.summary()


def test_dead_relus_are_measured_on_the_forward_pass_before_a_snapshot_and_flagged():
    model = tank_network(4)
    with torch.no_grad():
        model[9].bias.fill_(-1e3)  # the third convolution's batch norm shifts every unit far below 0: dead ReLU
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    with nbx.WeightRecorder(model, optimizer=opt, every=2) as rec:
        train(model, opt, tank_batches(4))
    assert rec.dead[1]["10"] == 1.0 and rec.dead[1]["2"] < 0.5
    dead = [f for f in rec.flags() if f.kind == "dead"]
    assert [f.parameter for f in dead] == ["8.weight"]
    assert "100% of the units after ReLU '10'" in dead[0].message


def test_nan_weights_are_flagged_and_histogrammed_without_them():
    model = torch.nn.Linear(4, 3)
    rec = nbx.WeightRecorder(model, every=1, activations=False)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    rec.record()
    assert rec.stats("weight")["nonfinite"][-1] == 1
    assert rec.counts("weight")[-1].sum() == 11
    assert [f.kind for f in rec.flags() if f.parameter == "weight"] == ["diverged"]


def test_grids_grow_and_merge_exactly():
    tracks = ParameterTracks(bins=8)
    rng = np.random.default_rng(0)
    kept = []
    for s in range(6):
        w = torch.from_numpy((rng.standard_normal(500) * 3.0**s).astype(np.float32))  # spreads 243-fold
        kept.append(w.numpy().copy())
        tracks.snapshot([("w", w)])
    track = tracks["w"]
    assert track.grid.bins <= 32  # merged in pairs instead of growing to thousands of bins
    for s, w in enumerate(kept):
        np.testing.assert_array_equal(track.counts[s], np.histogram(w, bins=track.edges())[0])


def test_constant_and_float64_tensors():
    grid = BinGrid.around(1.0, 1.0, 10, np.float32)
    assert grid.edges()[0] < 1.0 < grid.edges()[-1]
    tracks = ParameterTracks(bins=10)
    ones, w64 = torch.ones(7), torch.randn(50, dtype=torch.float64)
    tracks.snapshot([("ones", ones), ("w64", w64)])
    tracks.snapshot([("ones", ones * 1.5), ("w64", w64 * 2)])
    assert tracks["w64"].edges().dtype == np.float64
    np.testing.assert_array_equal(tracks["w64"].counts[1], np.histogram(w64.numpy() * 2, bins=tracks["w64"].edges())[0])
    np.testing.assert_array_equal(tracks["ones"].counts[:, :].sum(1), [7, 7])


def test_from_checkpoints_files_state_dicts_and_modules(tmp_path):
    model = tank_network(5)
    states = []
    for _ in range(3):
        with torch.no_grad():
            model[0].weight.mul_(1.1)
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    path = tmp_path / "epoch2.pt"
    torch.save({"model_state_dict": states[1]}, path)
    rec = nbx.WeightRecorder.from_checkpoints([states[0], str(path), {k: v.numpy() for k, v in states[2].items()}],
                                             steps=[10, 20, 30])
    assert list(rec.steps) == [10, 20, 30]
    assert not any(n.endswith(("running_mean", "running_var")) for n in rec.parameters)
    for s, state in enumerate(states):
        np.testing.assert_array_equal(rec.counts("0.weight")[s],
                                      np.histogram(state["0.weight"].numpy(), bins=rec.edges("0.weight"))[0])
    np.testing.assert_allclose(rec.stats("0.weight")["change"][1], 0.1 / 1.1, rtol=1e-6)
    assert {f.parameter for f in rec.flags() if f.kind == "frozen"} >= {"4.weight", "13.bias"}
    with_model = nbx.WeightRecorder.from_checkpoints(states, model=model)
    assert with_model.parameters == [n for n, _ in model.named_parameters()]
    with pytest.raises(InputError, match="steps must increase"):
        nbx.WeightRecorder.from_checkpoints(states, steps=[0, 2, 1])
    with pytest.raises(InputError, match="checkpoint 1 has no '0.weight'"):
        nbx.WeightRecorder.from_checkpoints([states[0], {"other": torch.ones(2)}])
    with pytest.raises(InputError, match="no model to snapshot"):
        rec.snapshot()


def test_bad_arguments_are_named():
    model = tank_network(0)
    with pytest.raises(InputError, match="every must be a positive int"):
        nbx.WeightRecorder(model, every=0)
    with pytest.raises(InputError, match="parameters='0.weigth' is not valid.*did you mean '0.weight'"):
        nbx.WeightRecorder(model, parameters=["0.weigth"])
    with pytest.raises(InputError, match="model must be a torch.nn.Module"):
        nbx.WeightRecorder(lambda x: x)
    with pytest.raises(InputError, match="optimizer must be a torch.optim.Optimizer"):
        nbx.WeightRecorder(model, optimizer="adam")
    with pytest.raises(TypeError):
        nbx.WeightRecorder(model, evry=3)  # a misspelt keyword is an error
    rec = nbx.WeightRecorder(model, parameters=["0.weight"], every=1)
    rec.close()
    with pytest.raises(InputError, match="was closed"):
        rec.record()
    with pytest.raises(InputError, match="snapshot must be an int"):
        rec.histogram("0.weight", 5)
    with pytest.raises(TypeError):
        rec.plot(colour="red")


def test_plot_draws_a_ridgeline_per_parameter(trained):
    _, rec, _ = trained
    axes = rec.plot(parameters=["0.weight", "4.weight"], log=True)
    assert len(axes) == 2
    assert "(frozen)" in axes[1].get_title() and "(frozen)" not in axes[0].get_title()
    assert rec._repr_png_().startswith(b"\x89PNG")


def test_tensors_recorded_together_equal_tensors_recorded_one_by_one():
    """Small tensors share one batch of torch operations; large ones (and NaN ones) are recorded alone: same rows."""
    together, alone = ParameterTracks(bins=8), ParameterTracks(bins=8)
    alone.BATCH_TENSOR = 0
    rng = np.random.default_rng(1)
    named = {"a": rng.standard_normal((6, 5)), "b": np.full(3, 0.5), "c": rng.standard_normal(SKETCH_SIZE + 100),
             "d": rng.standard_normal(40) * 1e-3}
    for s in range(5):
        tensors = [(n, torch.from_numpy((w * 1.7**s + 0.01 * s).astype(np.float32))) for n, w in named.items()]
        if s == 2:
            tensors[3][1][0] = float("nan")
        together.snapshot(tensors)
        alone.snapshot(tensors)
    for name in named:
        assert together[name].grid == alone[name].grid
        np.testing.assert_array_equal(together[name].counts, alone[name].counts)
        np.testing.assert_allclose(together[name].stats, alone[name].stats, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert together["d"].stat("nonfinite").tolist() == [0, 0, 1, 0, 0]
    assert np.isnan(together["d"].stat("change")[[2, 3]]).all()  # no sketch of a NaN snapshot, nor a change from it


def test_dead_share_counts_channels_that_never_fire():
    from nbexplain.methods.internals.activations import _dead_share

    x = torch.relu(torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(0)))
    x[:, 1] = 0
    assert _dead_share(x) == pytest.approx(1 / 3)
    x[0, 0, 0, 0], x[0, 1, 0, 0] = float("nan"), float("nan")  # NaN: channel 0 still fired, channel 1 did not
    assert _dead_share(x) == pytest.approx(1 / 3)
    assert _dead_share(torch.tensor([[0.0, 1.0], [0.0, 0.0]])) == 0.5
