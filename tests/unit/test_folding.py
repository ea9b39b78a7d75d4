"""Batch-norm folding (nbexplain.adapters.folding): the adapter runs a copy of the model with each eval-mode
batch-norm folded into the convolution before it. Checked against the model's own forward passes (float64, so
rounding is far below the tolerance), and that the model itself, hooks, later weight changes and Python
attributes are all respected."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import nbexplain as nbx
from nbexplain.adapters import folding
from nbexplain.adapters.folding import disabled, foldable_pairs, folded


def trained(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` in float64 and eval mode, its batch-norms given statistics and affine weights far from the
    identity (as after training), so folding them wrongly would show."""
    g = torch.Generator().manual_seed(seed)
    module = module.double().eval()
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g, dtype=torch.float64))
                m.running_var.copy_(torch.rand(m.num_features, generator=g, dtype=torch.float64) * 3 + 0.2)
                m.weight.copy_(torch.randn(m.num_features, generator=g, dtype=torch.float64))
                m.bias.copy_(torch.randn(m.num_features, generator=g, dtype=torch.float64))
    return module


class Block(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


class SmallResNet(nn.Module):
    def __init__(self, c: int = 6):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.blocks = nn.Sequential(Block(c), Block(c))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 4))
        self.scale = 1.0

    def forward(self, x):
        return self.head(self.blocks(self.stem(x))) * self.scale


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).random((7, 3, 20, 20))


def own(net: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def close(a, b, rtol=1e-10):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


def test_the_adapter_runs_the_folded_copy_and_gives_the_models_outputs(images):
    net = trained(SmallResNet())
    state = copy.deepcopy(net.state_dict())
    kinds = [type(m) for m in net.modules()]
    assert foldable_pairs(net) == [("stem.0", "stem.1"), ("blocks.0.conv1", "blocks.0.bn1"),
                                   ("blocks.0.conv2", "blocks.0.bn2"), ("blocks.1.conv1", "blocks.1.bn1"),
                                   ("blocks.1.conv2", "blocks.1.bn2")]
    got = nbx.as_model(net).predict(images)
    close(got, own(net, images))
    runnable = folded(net)
    assert runnable is not net
    assert sum(isinstance(m, nn.BatchNorm2d) for m in runnable.modules()) == 0
    assert runnable.head is net.head and runnable.blocks[0].relu is net.blocks[0].relu  # the rest is shared
    # the model itself is untouched: its layers, its weights and statistics
    assert [type(m) for m in net.modules()] == kinds
    after = net.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)
    with disabled():
        assert folded(net) is net


def test_hooks_on_other_layers_fire_and_a_hooked_pair_is_not_folded(images):
    net = trained(SmallResNet())
    seen = []
    handle = net.blocks[0].relu.register_forward_hook(lambda _m, _i, out: seen.append(out.clone()))
    nbx.as_model(net, batch_size=len(images)).predict(images)  # one batch
    handle.remove()
    assert folded(net) is not net
    with torch.no_grad():
        expected = []
        handle = net.blocks[0].relu.register_forward_hook(lambda _m, _i, out: expected.append(out.clone()))
        net(torch.from_numpy(images))
        handle.remove()
    assert len(seen) == len(expected) == 2  # (the block calls its ReLU twice)
    close(torch.cat(seen).numpy(), torch.cat(expected).numpy())

    bn_out = []
    handle = net.blocks[1].bn2.register_forward_hook(lambda _m, _i, out: bn_out.append(out.clone()))
    assert ("blocks.1.conv2", "blocks.1.bn2") not in foldable_pairs(net)  # its hook reads the batch-norm
    assert len(foldable_pairs(net)) == 4
    close(nbx.as_model(net).predict(images), own(net, images))
    handle.remove()
    with torch.no_grad():
        ref = net.blocks[1].bn2(net.blocks[1].conv2(net.blocks[1].relu(net.blocks[1].bn1(net.blocks[1].conv1(
            net.blocks[0](net.stem(torch.from_numpy(images))))))))
    close(bn_out[-1].numpy(), ref.numpy())


def test_weights_and_attributes_changed_after_a_fold_are_seen(images):
    net = trained(SmallResNet())
    model = nbx.as_model(net)
    model.predict(images)
    with torch.no_grad():
        net.blocks[0].bn1.running_mean.add_(0.5)  # a statistic written in place
        net.stem[0].weight.mul_(1.5)  # an optimiser's step
    close(model.predict(images), own(net, images))
    net.scale = 3.0  # a Python attribute the forward reads
    close(model.predict(images), own(net, images))
    net.blocks[1].bn2 = trained(nn.BatchNorm2d(6), seed=5)  # a layer replaced
    close(nbx.as_model(net).predict(images), own(net, images))


def test_a_training_model_is_folded_in_eval_mode_and_left_training(images):
    net = trained(SmallResNet()).train()
    stats = net.stem[1].running_mean.clone()
    got = nbx.as_model(net).predict(images)
    assert all(m.training for m in net.modules())
    assert torch.equal(net.stem[1].running_mean, stats)  # no statistic updated by the passes
    close(got, own(net.eval(), images))


class Aside(nn.Module):
    """Calls its batch-norm through a list kept aside: replacing the registered child does not reach it."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
        self.aside = [self.bn]
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))

    def forward(self, x):
        return self.head(self.aside[0](self.conv(x)))


def test_a_forward_that_reaches_a_batch_norm_another_way_runs_unfolded(images, monkeypatch):
    net = trained(Aside())
    assert foldable_pairs(net) == [("conv", "bn")]  # the graph shows the pair...
    assert folded(net) is net  # ...but the copy's graph still calls the batch-norm: not folded
    close(nbx.as_model(net).predict(images), own(net, images))
    # the last guard: the first batch of a copy is checked against the model's own pass
    other = trained(Aside(), seed=1)
    monkeypatch.setattr(folding, "_same_calls", lambda *_: True)
    assert folded(other) is not other
    close(nbx.as_model(other).predict(images), own(other, images))
    assert folded(other) is other  # refused from then on


class BatchNormAct(nn.BatchNorm2d):
    """A batch-norm subclass whose forward adds an activation (as some libraries' layers do)."""

    def forward(self, x):
        return torch.relu(super().forward(x))


class WeightStandardised(nn.Conv2d):
    def forward(self, x):
        w = self.weight - self.weight.mean(dim=(1, 2, 3), keepdim=True)
        return nn.functional.conv2d(x, w, self.bias, self.stride, self.padding)


def test_subclasses_that_change_forward_are_not_folded(images):
    net = trained(nn.Sequential(nn.Conv2d(3, 4, 3), BatchNormAct(4), WeightStandardised(4, 4, 3),
                                nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2)))
    own(net, images)  # the lazy layer takes its shape
    assert foldable_pairs(net) == []
    close(nbx.as_model(net).predict(images), own(net, images))


class Branching(nn.Module):
    """Data-dependent control flow: torch.fx cannot trace it; its Sequential stages are still folded."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 5, 3), nn.BatchNorm2d(5), nn.ReLU(), nn.Conv2d(5, 5, 3),
                                      nn.BatchNorm2d(5))
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        h = self.features(x).mean(dim=(2, 3))
        return self.head(h) if h.sum() > -1e9 else -self.head(h)


def test_an_untraceable_model_has_its_sequential_pairs_folded(images):
    net = trained(Branching())
    assert foldable_pairs(net) == [("features.0", "features.1"), ("features.3", "features.4")]
    close(nbx.as_model(net).predict(images), own(net, images))
    assert folded(net) is not net


def test_activations_read_from_a_folded_model_equal_hooks_on_the_model(images):
    net = trained(SmallResNet())
    acts = nbx.activations(net, images, layers=["stem.2", "blocks.0.bn2", "blocks.1"], pool="flatten")
    expected = {}

    def keep(name):
        def hook(_module, _inputs, out):
            expected[name] = out.flatten(1).clone()
        return hook

    handles = [net.get_submodule(name).register_forward_hook(keep(name)) for name in ("stem.2", "blocks.1")]
    with torch.no_grad():
        scores = net(torch.from_numpy(images))
    for h in handles:
        h.remove()
    close(acts["stem.2"], expected["stem.2"].numpy())
    close(acts["blocks.1"], expected["blocks.1"].numpy())
    close(acts.scores, scores.numpy())
    assert folded(net) is not net  # (the recorder's hooks sit on layers the fold keeps)


def test_float32_models_agree_to_float_rounding():
    net = trained(SmallResNet()).float()
    x = np.random.default_rng(1).random((5, 3, 32, 32)).astype(np.float32)
    got = nbx.as_model(net).predict(x)
    assert folded(net) is not net
    close(got, own(net, x), rtol=1e-5)


def test_a_folded_copy_does_not_keep_its_model_alive(images):
    import gc
    import weakref

    net = trained(SmallResNet())
    nbx.as_model(net).predict(images)
    assert folded(net) is not net
    gone = weakref.ref(net)
    del net
    gc.collect()
    assert gone() is None


def test_a_copy_folded_inside_inference_mode_also_runs_outside_it(images):
    net = trained(SmallResNet())
    with torch.inference_mode():
        runnable = folded(net)
    assert runnable is not net
    x = torch.from_numpy(images).requires_grad_(True)
    y = runnable(x)  # weights made in inference mode could not be saved for backward
    y.sum().backward()
    close(y.detach().numpy(), own(net, images))


def test_the_gap_to_the_models_own_outputs_is_relative_to_their_scale():
    from nbexplain.adapters.agreement import relative_gap

    assert relative_gap([[10.0, -20.0]], [[10.0, -20.002]]) == pytest.approx(0.002 / 20.002)
    assert relative_gap([[0.1, 0.2]], [[0.1, 0.2001]]) == pytest.approx(1e-4)  # scale at least 1
    assert relative_gap([[1.0, np.nan]], [[1.0, 2.0]]) == np.inf
    assert relative_gap([[1.0, 2.0]], [[1.0, 2.0, 3.0]]) == np.inf
