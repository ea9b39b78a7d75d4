"""The ImageNet classifier's wrapper module: its own file so that torch loads only when a model is asked
for, and so that the model pickles (``torch.save``) by a module-level class."""

from __future__ import annotations

import torch

# EfficientNet-Lite was trained on pixels scaled by (x - 127) / 128 (the "inception-style" mean and
# std that Google's TensorFlow Lite models use for better post-quantisation; see MEAN_RGB / STDDEV_RGB
# in tensorflow/tpu models/official/efficientnet/lite/efficientnet_lite_builder.py), not the ImageNet
# mean/std of the original EfficientNet-PyTorch README. On an image in [0, 1]: (255 x - 127) / 128.
MEAN_255 = 127.0
STD_255 = 128.0


class ImageNetClassifier(torch.nn.Module):
    """EfficientNet-Lite0 on images in [0, 1]: applies the model's own (255 x - 127) / 128 first."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x * 255.0 - MEAN_255) / STD_255)
