"""Incremental inference (Krypton, Nakandala et al. 2019) equals full forward passes.

Every supported layer type, with strides, dilations, paddings, groups, pooling modes, residual blocks and
concatenations, is run on random patches at random places (corners included) of a random image, and the
outputs are compared with the model's own forward pass on the whole patched images: the largest absolute
difference must stay within 1e-5 of the output scale. Layers the engine does not know fall back to whole
maps (and everything before them stays incremental), and the engine says so."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nbexplain.methods.incremental import IncrementalModel

TOLERANCE = 1e-5


def patched(image: np.ndarray, patches: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whole images: copies of ``image`` with each patch written at its place."""
    h, w = patches.shape[-2:]
    out = np.repeat(image[None], len(patches), axis=0)
    for i in range(len(patches)):
        out[i, :, y[i]:y[i] + h, x[i]:x[i] + w] = patches[i]
    return out


def assert_equals_full(net: nn.Module, shape=(3, 24, 24), boxes=((5, 7), (1, 1), (8, 8)), n: int = 6,
                       seed: int = 0, engine: str = "incremental") -> IncrementalModel:
    """The engine's outputs equal ``net`` on the patched images, for patches of each box size."""
    net = net.eval()
    rng = np.random.default_rng(seed)
    image = rng.normal(size=shape).astype(np.float32)
    model = IncrementalModel(net, image)
    assert model.engine == engine if engine == "incremental" else model.engine.startswith(engine), model.engine
    _, height, width = shape
    for h, w in [*boxes, (height, width)]:
        y = rng.integers(0, height - h + 1, n)
        x = rng.integers(0, width - w + 1, n)
        y[:2], x[:2] = (0, height - h), (0, width - w)  # the corners: where the padding is read
        patches = rng.normal(size=(n, shape[0], h, w)).astype(np.float32)
        plan = model.plan(y, x, h, w)
        got = np.concatenate([model.run(plan, 0, n // 2, patches[:n // 2]), model.run(plan, n // 2, n, patches[n // 2:])])
        with torch.inference_mode():
            expected = net(torch.from_numpy(patched(image, patches, y, x))).double().numpy()
        scale = max(float(np.abs(expected).max()), 1e-12)
        assert np.abs(got - expected).max() <= TOLERANCE * scale, (h, w, np.abs(got - expected).max(), scale)
    return model


def head(channels: int) -> list[nn.Module]:
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 3)]


def seeded(module: nn.Module, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    for p in module.parameters():
        nn.init.normal_(p, std=0.3)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 1.5)
    return module


# -- every window layer: kernels, strides, dilations, paddings, groups ---------------------------------------
@pytest.mark.parametrize("conv", [
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=5, stride=2, padding=0),
    dict(kernel_size=1, stride=2, padding=0),           # reads every other row: patches in between change nothing
    dict(kernel_size=2, stride=3, padding=1),           # reach 1 < stride 3
    dict(kernel_size=3, stride=1, padding=2, dilation=2),
    dict(kernel_size=3, stride=2, padding=3, dilation=3),
    dict(kernel_size=(3, 5), stride=(1, 2), padding=(0, 2)),
    dict(kernel_size=4, stride=1, padding="same"),      # asymmetric: one more on the bottom and right
    dict(kernel_size=3, stride=1, padding="valid", bias=False),
    dict(kernel_size=3, stride=1, padding=1, groups=3),  # depthwise
])
def test_convolutions(conv):
    groups = conv.get("groups", 1)
    net = seeded(nn.Sequential(nn.Conv2d(3, 6 if groups == 1 else 3, **conv), nn.ReLU(),
                               nn.Conv2d(6 if groups == 1 else 3, 4, 3, padding=1), *head(4)))
    assert_equals_full(net)


@pytest.mark.parametrize("pool", [
    nn.MaxPool2d(2), nn.MaxPool2d(3, 2, 1), nn.MaxPool2d(3, 2, 1, dilation=2), nn.MaxPool2d(3, 2, ceil_mode=True),
    nn.AvgPool2d(2), nn.AvgPool2d(3, 2, 1), nn.AvgPool2d(3, 1, 1, divisor_override=5),
    nn.AdaptiveAvgPool2d(6), nn.AdaptiveMaxPool2d((12, 8)),
])
def test_pooling(pool):
    net = seeded(nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.Tanh(), pool, nn.Conv2d(5, 4, 3, padding=1),
                               *head(4)))
    assert_equals_full(net)


@pytest.mark.parametrize("layer", [
    nn.BatchNorm2d(5), nn.ReLU(), nn.ReLU(inplace=True), nn.ReLU6(), nn.LeakyReLU(0.1), nn.PReLU(5), nn.ELU(),
    nn.GELU(), nn.SiLU(), nn.Hardswish(), nn.Hardsigmoid(), nn.Sigmoid(), nn.Softplus(), nn.Mish(),
    nn.Hardtanh(-0.5, 0.5), nn.Dropout(0.3), nn.Dropout2d(0.3), nn.Identity(),
])
def test_pointwise_layers(layer):
    net = seeded(nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), layer, nn.Conv2d(5, 4, 3, stride=2, padding=1),
                               *head(4)))
    assert_equals_full(net)


@pytest.mark.parametrize("pad", [nn.ZeroPad2d((1, 2, 0, 3)), nn.ConstantPad2d(2, 0.7), nn.ZeroPad2d((0, 1, 0, 1))])
def test_constant_padding(pad):
    net = seeded(nn.Sequential(pad, nn.Conv2d(3, 5, 3, stride=2), nn.ReLU(), nn.Conv2d(5, 4, 3), *head(4)))
    assert_equals_full(net)


class Functional(nn.Module):
    """Functions instead of modules: F.conv2d with constant weights, F.pad, F.max_pool2d, arithmetic,
    shape queries (``x.size(0)``, ``x.shape``)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 3, 3, 3) * 0.3)
        self.bias = nn.Parameter(torch.randn(6) * 0.1)
        self.scale = nn.Parameter(torch.rand(1, 6, 1, 1) + 0.5)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = (x * 255.0 - 127.0) / 128.0
        x = F.pad(x, (0, 1, 0, 1))
        x = F.conv2d(x, self.weight, self.bias, stride=2)
        x = F.relu6(x * self.scale, inplace=False)
        x = torch.sigmoid(x) - 0.5 + F.max_pool2d(x, 3, 1, 1)
        n = x.size(0)
        return self.fc(x.mean((2, 3)).view(n, -1) + x.shape[1])


def test_functions_constants_and_shape_queries():
    torch.manual_seed(0)
    assert_equals_full(Functional())


# -- residual blocks, products of maps, concatenation ------------------------------------------------------------
class Block(nn.Module):
    """ResNet's basic block, torchvision's way: in-place ReLUs and ``out += identity``."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else None)

    def forward(self, x):
        identity = x if self.down is None else self.down(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


def small_resnet(width: int = 4) -> nn.Module:
    layers = [nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = width
    for cout, stride in [(width, 1), (2 * width, 2), (4 * width, 2)]:
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    return seeded(nn.Sequential(*layers, *head(cin)))


def test_residual_blocks_of_a_resnet():
    assert_equals_full(small_resnet(), shape=(3, 64, 64), boxes=((16, 16), (5, 11), (40, 3)))


class Gate(nn.Module):
    """A map times a map computed from it (spatial attention), and a concatenation over channels."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 1, 5, padding=2)
        self.c = nn.Conv2d(3, 2, 1)
        self.d = nn.Conv2d(6, 4, 3, stride=2, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        a = torch.relu(self.a(x))
        gated = a * torch.sigmoid(self.b(a))
        both = torch.cat([gated, self.c(x)], dim=1)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.d(both), 1), 1))


def test_products_of_maps_and_concatenation():
    torch.manual_seed(0)
    assert_equals_full(Gate())


class SqueezeExcite(nn.Module):
    """A squeeze-and-excitation block (EfficientNet-B0, MobileNet-V3): a channel scale computed from the whole
    map. Everything before it runs incrementally, the scale and what follows on whole maps, exactly."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.reduce = nn.Conv2d(6, 2, 1)
        self.expand = nn.Conv2d(2, 6, 1)
        self.after = nn.Conv2d(6, 4, 3, stride=2, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        a = F.silu(self.conv(x))
        scale = torch.sigmoid(self.expand(F.silu(self.reduce(F.adaptive_avg_pool2d(a, 1)))))
        return self.fc(self.after(a * scale).mean((2, 3)))


def test_squeeze_and_excitation_runs_incrementally_up_to_its_scale():
    torch.manual_seed(0)
    model = assert_equals_full(SqueezeExcite(), engine="incremental up to")
    assert model.engine == "incremental up to 'mul' (it combines maps of different sizes), full maps after it"


def test_tank_cnn():
    from nbexplain.datasets.tanks import tank_network

    assert_equals_full(seeded(tank_network(seed=0)), shape=(3, 48, 48), boxes=((6, 6), (12, 5)))


def test_efficientnet_lite0_runs_incrementally_and_exactly():
    """Depthwise convolutions, ReLU6, the static "same" padding (ZeroPad2d) and residual additions: all of
    EfficientNet-Lite0 (it has no squeeze-and-excitation blocks) runs incrementally."""
    pytest.importorskip("efficientnet_lite_pytorch")
    from nbexplain.datasets import imagenet_classifier

    model = assert_equals_full(imagenet_classifier(), shape=(3, 224, 224), boxes=((16, 16),), n=4)
    assert model.plan([0], [0], 16, 16).fraction < 0.6


# -- what the engine does not know: whole maps from there on, said ---------------------------------------------
def test_an_unknown_layer_runs_on_whole_maps_and_is_named():
    net = seeded(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.GroupNorm(2, 4),
                               nn.Conv2d(4, 4, 3, padding=1), *head(4)))
    model = assert_equals_full(net, engine="incremental up to")
    assert model.engine == ("incremental up to layer '2' (GroupNorm) (GroupNorm is not a layer incremental "
                            "inference knows), full maps after it")


def test_a_model_it_cannot_use_runs_full_forward_passes_and_says_why():
    circular = seeded(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), *head(4)))
    model = IncrementalModel(circular.eval(), np.zeros((3, 8, 8), np.float32))
    assert not model.supported
    assert model.engine == ("full (layer '0' (Conv2d) is not supported: padding_mode='circular' (only zero "
                            "padding is local))")

    class Branching(nn.Module):  # control flow on values: torch.fx cannot trace it
        def forward(self, x):
            return x.mean((2, 3)) if x.sum() > 0 else -x.mean((2, 3))

    model = IncrementalModel(Branching(), np.ones((3, 8, 8), np.float32))
    assert model.engine.startswith("full (torch.fx cannot trace the model (TraceError")


def test_a_training_mode_batch_norm_is_not_local():
    from nbexplain.methods.incremental.rules import module_rule

    bn = nn.BatchNorm2d(3)
    assert "batch's statistics" in module_rule(bn.train())
    assert module_rule(nn.BatchNorm2d(3, track_running_stats=False).eval()).startswith("batch-norm that normalises")


def test_in_place_change_of_a_shared_tensor_is_refused():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            z = y * 2
            y.relu_()  # z was computed before: the order matters, and the engine would not keep it
            return (y + z).mean((2, 3))

    model = IncrementalModel(Shared().eval(), np.ones((3, 8, 8), np.float32))
    assert model.engine == "full ('relu_' changes a tensor in place that other layers read)"


def test_plans_keep_boxes_inside_every_map_and_estimate_the_cost():
    model = IncrementalModel(small_resnet().eval(), np.zeros((3, 64, 64), np.float32))
    small, large = model.plan([0, 48], [60, 0], 4, 4), model.plan([0], [0], 64, 64)
    for node, box in small.boxes.items():
        _, _, h, w = model.refs[node].shape
        assert 0 < box.h <= h and 0 < box.w <= w
        assert np.all(box.y >= 0) and np.all(box.y + box.h <= h) and np.all(box.x + box.w <= w)
    assert 0 < small.fraction < 0.6 and large.fraction > 1.0  # a whole-image box costs more than a forward pass
    with pytest.raises(ValueError, match="every box must lie inside the input"):
        model.plan([61], [0], 4, 4)
