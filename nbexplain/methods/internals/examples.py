"""Dataset examples: the image patches that excite a channel most, beside its synthetic exemplar.

For each channel of a layer, the top-k activations over a pool of images (the layer's feature map, every
image and position) and the receptive-field crops of the input they see (Zeiler & Fergus 2014; Olah et
al. 2017 show them next to feature visualisations: "dataset examples"). By default each image gives at
most one patch (the position where the channel fires most), so the k examples are k different images.

The receptive field of a unit is measured, not derived from the architecture: from the gradient of the
layer's centre unit over a few random inputs (so ReLUs that happen to be off for one input do not shrink
it). The theoretical field is every pixel with a non-zero gradient; deep layers' fields are wider than the
image, and most of them barely matters (Luo et al. 2016, "Understanding the Effective Receptive Field"), so
the crops show the effective field by default: the centred box holding 90 % of the gradient's mass. A unit
at feature-map position (y, x) sees that box moved by the layer's stride (input size / feature-map size).

Examples
--------
>>> field = receptive_field(module, layer, (3, 96, 96))
>>> top = top_activations(module, layer, pool_batches, channels=[0, 5], k=6)
>>> top.values.shape, top.image.shape     # (2, 6) each
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from .activations import activations_at, forward_to, layer_name


@dataclass(frozen=True)
class ReceptiveField:
    """The input box a layer's unit sees: unit (y, x) covers rows ``top + y * stride_y`` .. ``+ height``.

    ``top``/``left`` may be negative (the box reaches into the padding); ``size`` is the layer's feature
    map (h, w) for inputs of ``input_size`` (H, W); ``kind`` is "theoretical" (every pixel that can move
    the unit) or "effective" (the centred box holding ``mass`` of the unit's mean absolute gradient: the
    pixels it mostly sees, Luo et al. 2016), and ``full`` the theoretical (height, width).
    """

    top: int
    left: int
    height: int
    width: int
    stride_y: float
    stride_x: float
    size: tuple[int, int]
    input_size: tuple[int, int]
    kind: str = "theoretical"
    full: tuple[int, int] = (0, 0)

    def box(self, y: int, x: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) in input pixels of the unit at (y, x)."""
        return (self.top + int(round(y * self.stride_y)), self.left + int(round(x * self.stride_x)),
                self.height, self.width)


def _gradient_map(module, layer, shape: tuple[int, int, int], value_range, trials: int, seed: int):
    """Mean |gradient| (H, W) of the layer's centre unit (all channels) over random inputs, and that unit."""
    import torch

    first = next((p for p in module.parameters() if p.is_floating_point()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None else torch.float32
    g = torch.Generator().manual_seed(seed)
    low, high = value_range
    x = (low + (high - low) * torch.rand((trials, *shape), generator=g, dtype=torch.float64)).to(device, dtype)
    x.requires_grad_(True)
    with torch.enable_grad():
        _, store = forward_to(module, x, [layer])
        act = store[id(layer)]
        if act.dim() != 4:
            raise InputError(f"dataset examples need a layer with a feature map (N, C, H, W); layer "
                             f"{layer_name(module, layer)!r} returns shape {tuple(act.shape)}")
        fh, fw = act.shape[2:]
        cy, cx = fh // 2, fw // 2
        (grad,) = torch.autograd.grad(act[:, :, cy, cx].sum(), x)
    return grad.abs().sum((0, 1)).double().cpu().numpy(), (int(fh), int(fw)), (cy, cx)


def receptive_field(module, layer, input_shape: tuple[int, int, int], *, mass: float | None = 0.9,
                    value_range=(0.0, 1.0), trials: int = 4, seed: int = 0, largest: int = 1024) -> ReceptiveField:
    """Measure the receptive field of ``layer``'s units for inputs of ``input_shape`` (C, H, W).

    The gradient of the layer's centre unit is taken on random inputs; when every pixel moves it, the field
    is wider than the input and the input is enlarged (doubled, up to ``largest`` pixels) until it is not.
    ``mass`` None gives the theoretical field; a share (0.9) the effective one (see :class:`ReceptiveField`).
    """
    c, h, w = input_shape
    grad, (fh, fw), (cy, cx) = _gradient_map(module, layer, input_shape, value_range, trials, seed)
    sy, sx = h / fh, w / fw
    size, (bh, bw) = (h, w), (fh, fw)
    while True:
        rows, cols = np.nonzero(grad > 0)
        if len(rows) == 0:  # a unit that no input moves (dead everywhere): the stride cell only
            cell = (max(1, round(sy)), max(1, round(sx)))
            return ReceptiveField(0, 0, *cell, sy, sx, (fh, fw), (h, w), "theoretical", cell)
        touches = rows.min() == 0 and rows.max() == size[0] - 1 or cols.min() == 0 and cols.max() == size[1] - 1
        if not touches or max(size) * 2 > largest:
            break
        size = (size[0] * 2, size[1] * 2)
        grad, (bh, bw), (cy, cx) = _gradient_map(module, layer, (c, *size), value_range, trials, seed)
    uy, ux = int(round(cy * size[0] / bh)), int(round(cx * size[1] / bw))  # the centre unit's pixel
    full = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
    if mass is None:
        return ReceptiveField(int(rows.min()) - uy, int(cols.min()) - ux, *full, sy, sx, (fh, fw), (h, w),
                              "theoretical", full)
    total = grad.sum()
    for r in range(0, max(size)):
        y0, y1 = max(0, uy - r), min(size[0], uy + r + 1)
        x0, x1 = max(0, ux - r), min(size[1], ux + r + 1)
        if grad[y0:y1, x0:x1].sum() >= mass * total:
            break
    return ReceptiveField(-r, -r, 2 * r + 1, 2 * r + 1, sy, sx, (fh, fw), (h, w), "effective", full)


@dataclass
class TopActivations:
    """The k strongest activations of each channel over a pool: ``values``, ``image`` (index into the
    pool), ``y``/``x`` (feature-map position), all (channels, k); fewer than k candidates leave -inf/-1."""

    channels: list[int]
    values: np.ndarray
    image: np.ndarray
    y: np.ndarray
    x: np.ndarray


def top_activations(module, layer, batches: Iterable[Any], channels: Sequence[int], k: int, *,
                    per_image: bool = True, total: int | None = None,
                    progress: Callable[[float], None] | None = None) -> TopActivations:
    """Stream ``batches`` of pool images (tensors (B, C, H, W) on the model's device) through ``module`` up to
    ``layer`` and keep each channel's top ``k`` activations (with ``per_image`` at most one per image).

    ``total`` (the pool size) lets ``progress`` report the fraction done.
    """
    import torch

    chan = torch.as_tensor(list(channels), dtype=torch.long)
    m = len(chan)
    best_v = best_i = best_y = best_x = None
    seen = 0
    for batch in batches:
        act = activations_at(module, batch, [layer])[layer]
        if act.dim() != 4:
            raise InputError(f"dataset examples need a layer with a feature map (N, C, H, W); layer "
                             f"{layer_name(module, layer)!r} returns shape {tuple(act.shape)}")
        b, c, fh, fw = act.shape
        if int(chan.max()) >= c or int(chan.min()) < 0:
            bad = int(chan[(chan >= c) | (chan < 0)][0])
            raise InputError(f"channel {bad} is out of range: layer {layer_name(module, layer)!r} has {c} channels")
        sel = act[:, chan.to(act.device)].detach().double().cpu()  # (B, m, fh, fw)
        flat = sel.reshape(b, m, fh * fw)
        if per_image:
            v, pos = flat.max(2)  # (B, m): each image's strongest position
            v, pos = v.T, pos.T  # (m, B)
            img = torch.arange(seen, seen + b).expand(m, b)
        else:
            v = flat.permute(1, 0, 2).reshape(m, b * fh * fw)
            index = torch.arange(b * fh * fw)
            img = (seen + index // (fh * fw)).expand(m, -1)
            pos = (index % (fh * fw)).expand(m, -1)
        ys, xs = pos // fw, pos % fw
        if best_v is not None:
            v, img = torch.cat([best_v, v], 1), torch.cat([best_i, img], 1)
            ys, xs = torch.cat([best_y, ys], 1), torch.cat([best_x, xs], 1)
        keep = min(k, v.shape[1])
        # stable: among equal activations the earlier image (and position) wins, as a sorted brute force
        order = torch.sort(v, dim=1, descending=True, stable=True).indices[:, :keep]
        best_v, best_i = v.gather(1, order), img.gather(1, order)
        best_y, best_x = ys.gather(1, order), xs.gather(1, order)
        seen += b
        if progress is not None and total:
            progress(min(1.0, seen / total))
    if best_v is None:
        raise InputError("the pool of images is empty")
    out = [np.full((m, k), fill, dtype) for fill, dtype in ((-np.inf, np.float64), (-1, np.int64),
                                                          (-1, np.int64), (-1, np.int64))]
    have = best_v.shape[1]
    for arr, t in zip(out, (best_v, best_i, best_y, best_x), strict=True):
        arr[:, :have] = t.numpy()
    return TopActivations([int(c) for c in chan], *out)


def crop(image: np.ndarray, box: tuple[int, int, int, int], fill: int = 128) -> np.ndarray:
    """The (height, width, 3) patch of an (H, W, 3) uint8 ``image`` in ``box``; outside is ``fill``."""
    top, left, height, width = box
    patch = np.full((height, width, image.shape[2]), fill, dtype=image.dtype)
    h, w = image.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, h), min(left + width, w)
    if y1 > y0 and x1 > x0:
        patch[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return patch


__all__ = ["ReceptiveField", "TopActivations", "crop", "receptive_field", "top_activations"]
