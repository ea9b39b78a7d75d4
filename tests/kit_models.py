"""The one small CNN every test folder uses (unit, widgets, e2e notebooks via :func:`source`).

conv -> ReLU -> maxpool -> conv -> ReLU -> adaptive avgpool -> linear: the ReLUs make guided backpropagation and
deconvolution differ from the plain gradient, and the last conv is the Grad-CAM layer. Its weights come from its
own seeded generator (never the global RNG). ``fail`` makes every forward raise and ``delay`` makes each forward
sleep, so tests can check error display and overlapping requests.
"""

from __future__ import annotations

import inspect
import time

import torch


class TinyCNN(torch.nn.Module):
    def __init__(self, n_classes: int = 3, channels: int = 3, seed: int = 0, width: int = 6, scale: float = 0.5):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv1 = torch.nn.Conv2d(channels, width, 3, padding=1)
        self.relu1 = torch.nn.ReLU()
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(width, 8, 3, padding=1)
        self.relu2 = torch.nn.ReLU()
        self.head = torch.nn.Linear(8 * 4 * 4, n_classes)
        self.fail = False
        self.delay = 0.0
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * scale)

    def forward(self, x):
        if self.fail:
            raise ValueError("the model is broken on purpose")
        if self.delay:
            time.sleep(self.delay)
        h = self.pool(self.relu1(self.conv1(x)))
        h = torch.nn.functional.adaptive_avg_pool2d(self.relu2(self.conv2(h)), 4)
        return self.head(h.flatten(1))


def source() -> str:
    """This module's code, for a notebook cell that needs the same model in a kernel."""
    import sys

    return inspect.getsource(sys.modules[__name__])
