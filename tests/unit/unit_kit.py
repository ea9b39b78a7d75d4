"""Small models and images shared by the unit tests: float64 torch modules (tight tolerances), fitted
scikit-learn estimators and plain callables, all small enough that the whole suite runs in seconds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kit_models import TinyCNN  # noqa: F401 - the one small CNN of every test folder

H = W = 16  # image side used by most tests
N_CLASSES = 3


class Linear(torch.nn.Module):
    """Scores z = W x + b over the flattened (C, H, W) image."""

    def __init__(self, shape=(3, H, W), n_classes: int = N_CLASSES, seed: int = 1):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(
            torch.randn((n_classes, *shape), generator=g, dtype=torch.float64)
        )
        self.bias = torch.nn.Parameter(torch.randn(n_classes, generator=g, dtype=torch.float64))

    def forward(self, x):
        return x.flatten(1) @ self.weight.flatten(1).T + self.bias


class ViewingCNN(torch.nn.Module):
    """A convolution whose map is flattened with ``.view()``, which needs contiguous memory: the adapter's
    channels-last pass fails on it and runs the batch again contiguous. ``side``: the input images' side."""

    def __init__(self, side: int = H):
        super().__init__()
        self.conv, self.fc = torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4 * (side - 2) ** 2, 2)

    def forward(self, x):
        y = self.conv(x)
        return self.fc(y.view(y.shape[0], -1))


@pytest.fixture
def cnn() -> TinyCNN:
    return TinyCNN().double().eval()


@pytest.fixture
def linear() -> Linear:
    return Linear()


@pytest.fixture
def image() -> np.ndarray:
    """A (H, W, 3) float image in [0, 1] (exactly representable in float32)."""
    rng = np.random.default_rng(0)
    return rng.random((H, W, 3)).astype(np.float32)


def chw64(image: np.ndarray) -> torch.Tensor:
    """The (1, C, H, W) float64 tensor a reference implementation gets for ``image`` (H, W, 3)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float64)[None])


@pytest.fixture
def tabular():
    """Four-class blobs: (X, y) with 120 rows and 5 features."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 30)
    X = rng.normal(size=(120, 5)) + y[:, None] * np.array([1.0, -0.5, 0.3, 0.0, 2.0])
    return X, y
