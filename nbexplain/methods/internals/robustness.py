"""Random transformations applied to the image before each forward pass of a maximisation, so that the
picture found must work when slightly moved, scaled and rotated: "transformation robustness" (Mordvintsev,
Olah & Tyka 2015; Olah et al. 2017, "Feature Visualization"). Without them gradient ascent finds
high-frequency patterns that excite the network only at one exact position.

One affine warp per image (translation of up to ``jitter`` pixels, scale in ``[1 - scale, 1 + scale]``,
rotation of up to ``rotate`` degrees), drawn independently for each image of the batch, applied with a
single bilinear ``grid_sample``; what the warp brings in from outside the image is ``fill`` (the middle
of the valid range, as Lucid pads with grey).

Examples
--------
>>> warp = RandomWarp(jitter=8, scale=0.1, rotate=10, fill=0.5)
>>> moved = warp(images, generator)     # same shape, differentiable in images
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RandomWarp:
    """Random translation (pixels), scale (relative) and rotation (degrees); all zero is the identity."""

    jitter: float = 0.0
    scale: float = 0.0
    rotate: float = 0.0
    fill: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.jitter or self.scale or self.rotate)

    def draw(self, n: int, generator: Any):
        """(n, 2, 3) affine matrices in ``affine_grid``'s normalised coordinates (float64, CPU)."""
        import torch

        def uniform(half_width: float):
            return (torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1) * half_width

        tx, ty = uniform(self.jitter), uniform(self.jitter)
        zoom = 1.0 + uniform(self.scale)
        angle = uniform(self.rotate) * (math.pi / 180.0)
        return zoom, angle, tx, ty

    def __call__(self, images, generator: Any):
        """``images`` (n, c, h, w) warped, each by its own random transformation."""
        import torch
        import torch.nn.functional as F

        if not self.active:
            return images
        n, _, h, w = images.shape
        zoom, angle, tx, ty = self.draw(n, generator)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        # sampling position (normalised) of each output pixel: rotate and scale about the centre, then shift;
        # the aspect terms keep rotations rigid on non-square images
        theta = torch.stack([
            torch.stack([cos, -sin * (h / w), 2 * tx / w], dim=1),
            torch.stack([sin * (w / h), cos, 2 * ty / h], dim=1),
        ], dim=1).to(device=images.device, dtype=images.dtype)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(images - self.fill, grid, mode="bilinear", padding_mode="zeros",
                             align_corners=False) + self.fill


__all__ = ["RandomWarp"]
