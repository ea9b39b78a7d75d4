"""The ImageNet classifier's wrapper module: its own file so that torch loads only when a model is asked
for, and so that the model pickles (``torch.save``) by a module-level class."""

from __future__ import annotations

import torch

from .imagenet import MEAN_255, STD_255


class ImageNetClassifier(torch.nn.Module):
    """EfficientNet-Lite0 on images in [0, 1]: applies the model's own (255 x - 127) / 128 first."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x * 255.0 - MEAN_255) / STD_255)
