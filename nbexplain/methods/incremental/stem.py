"""Superposition through a CNN's linear stem: masked images without rendering them or running the stem.

The first layers of most CNNs (a convolution, its batch-norm in eval mode, constant padding, the input's
normalisation) are affine in the input, up to the first non-linearity. A coalition's image is the fill plus
the kept players' differences, ``fill + sum_j z_j 1_{S_j} (image - fill)``, so the stem's output is
``stem(fill) + sum_j z_j D_j`` with ``D_j = stem(fill + 1_{S_j} (image - fill)) - stem(fill)``: the
response of player ``j`` alone, which is zero outside its box grown by the stem's reach. :class:`Responses`
computes every ``D_j`` once, by incremental inference on the player's box (:mod:`.engine`), and then builds
a batch of coalitions' stem outputs as matrix products, one per band of a few rows of the map: the band of
``B`` coalitions is ``[1, z] @ [stem(fill); D_j ...]`` over the players whose box meets the band (each output
written once, by BLAS, into a buffer reused from batch to batch); the model's layers after the stem run as
usual. No image is rendered and the stem — often the largest single layer of a small CNN, on the largest
map — is not run; the numbers equal full forward passes up to float rounding (the sums are taken in another
order).

Examples
--------
>>> responses = Responses(fill_engine, image, fill, labels, boxes)
>>> outputs = fill_engine.run_from(responses.cut, responses.assemble(coalitions))
"""

from __future__ import annotations

import weakref

import numpy as np
import torch

from ...adapters.lazy import ReusedBuffer
from .engine import ELEMENT_COST, IncrementalModel
from .patches import array_key, most_recent

#: rows of the stem's output map per band (one matrix product each): fewer rows waste less on players that
#: meet the band in only a few of them, more rows make fewer calls (4 and 8 measured equal at 112 rows)
BAND_ROWS = 4
#: cost of one multiply-add of the assembly, in multiply-adds of a convolution: a product with a dozen inner
#: terms per output is bound by writing the output (calibrated on the ResNet-18 shape at width 16: 32
#: coalitions assembled in 2.2 ms against 6.2 ms for the stem's convolution and batch-norm)
ASSEMBLY_COST = 5.0


class Responses:
    """Each player's response through the stem of the model of ``fill_engine``, and their assembly.

    Parameters
    ----------
    fill_engine : IncrementalModel
        The model's engine for the fill (a removed player's picture).
    image, fill : (C, H, W) arrays
        What a kept and a removed player shows.
    labels : (H, W) int array
        The player of each pixel (0..n_players-1).
    boxes : (top, bottom, left, right) arrays of the players' bounding boxes.

    Attributes
    ----------
    cut : the stem's last layer (where the assembled maps enter the model).
    fraction : estimated cost of a coalition through the stem's superposition against a full forward pass.
    """

    def __init__(self, fill_engine: IncrementalModel, image: np.ndarray, fill: np.ndarray, labels: np.ndarray,
                 boxes: tuple[np.ndarray, ...]):
        cut = fill_engine.stem()
        if cut is None:
            raise ValueError("the model has no linear stem")
        self.cut = cut
        self.dtype = fill_engine.dtype
        fill_base = fill_engine.refs[cut][0].numpy().transpose(1, 2, 0)  # (h, w, C): channels last, as run
        self.shape = fill_base.shape
        top, bottom, left, right = boxes
        self.n_players = len(top)
        patches: list[tuple[int, int, np.ndarray]] = []  # (row, column, (h, w, C) response)
        for j in range(self.n_players):
            y, x, h, w = int(top[j]), int(left[j]), int(bottom[j] - top[j]), int(right[j] - left[j])
            keep = labels[y:y + h, x:x + w] == j
            patch = np.where(keep, image[:, y:y + h, x:x + w], fill[:, y:y + h, x:x + w])[None]
            plan = fill_engine.plan([y], [x], h, w, until=cut)
            out, box = fill_engine.run_until(plan, 0, 1, patch, cut)
            oy, ox = int(box.y[0]), int(box.x[0])
            response = out[0].numpy().transpose(1, 2, 0) - fill_base[oy:oy + box.h, ox:ox + box.w]
            patches.append((oy, ox, response))
        self.bands = _bands(fill_base, patches)
        # per coalition: the bands' products (each output written once, with a dozen multiply-adds), instead
        # of rendering the image (an element-wise pass over it) and running the stem
        total = sum(fill_engine.costs.values())
        assembly = ASSEMBLY_COST * sum(len(players) * matrix.shape[1] for _, _, players, matrix in self.bands)
        self.fraction = (total - fill_engine.stem_cost - ELEMENT_COST * image.size + assembly) / total

    def assemble(self, coalitions: np.ndarray, buffer: ReusedBuffer | None = None) -> torch.Tensor:
        """The stem's output maps (B, C, h, w) of coalitions (B, M) bool, with their channels last in memory
        (as the layers after the stem run): per band of rows, ``[1, z] @ [stem(fill); responses]`` over the
        players whose box meets the band, written straight into the band's rows of the output; into the
        front of ``buffer`` when given (one per caller: overwritten by the caller's next batch)."""
        z = torch.from_numpy(np.asarray(coalitions, dtype=bool))
        n = len(z)
        weights = torch.ones((n, self.n_players + 1), dtype=self.dtype)  # column 0: the fill's map
        weights[:, 1:] = z
        if buffer is None:
            out = torch.empty((n, *self.shape), dtype=self.dtype)
        else:
            out, _ = buffer.take(n, self.shape, lambda rows: torch.empty((rows, *self.shape), dtype=self.dtype))
        for top, bottom, players, matrix in self.bands:
            torch.mm(weights[:, players], matrix, out=out[:, top:bottom].view(n, -1))
        return out.permute(0, 3, 1, 2)


#: superpositions kept per engine (of a fill), most recent first: LIME, then Shapley values, then anchors of one
#: image reuse one (the responses take ~20 ms to compute, ~3% of LIME's 1,000 passes at width 16)
KEPT_PER_ENGINE = 2
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # {fill engine: {(image, labels) key: Responses}}


def responses_for(fill_engine: IncrementalModel, image: np.ndarray, fill: np.ndarray, labels: np.ndarray,
                  boxes: tuple[np.ndarray, ...]) -> Responses:
    """:class:`Responses` of the players ``labels`` of ``image`` over the fill of ``fill_engine``, made once
    per image and segmentation and kept with the engine (which is made again when the weights change)."""
    return most_recent(_KEPT, fill_engine, array_key(image, labels),
                       lambda: Responses(fill_engine, image, fill, labels, boxes), KEPT_PER_ENGINE)


def _bands(base: np.ndarray, patches: list[tuple[int, int, np.ndarray]]) -> list[tuple[int, int, torch.Tensor,
                                                                                         torch.Tensor]]:
    """The map cut into bands of :data:`BAND_ROWS` rows: (top, bottom, the columns of ``[1, z]`` it reads, and
    the matrix whose rows are the fill's band and each player's response over it, zero outside its box)."""
    height, width, channels = base.shape
    bands = []
    for top in range(0, height, BAND_ROWS):
        bottom = min(height, top + BAND_ROWS)
        meet = [j for j, (y, _, r) in enumerate(patches) if y < bottom and y + r.shape[0] > top]
        matrix = np.zeros((len(meet) + 1, bottom - top, width, channels), dtype=base.dtype)
        matrix[0] = base[top:bottom]
        for row, j in enumerate(meet, start=1):
            y, x, r = patches[j]
            a, b = max(y, top), min(y + r.shape[0], bottom)
            matrix[row, a - top:b - top, x:x + r.shape[1]] = r[a - y:b - y]
        players = torch.tensor([0] + [j + 1 for j in meet])
        bands.append((top, bottom, players, torch.from_numpy(matrix.reshape(len(meet) + 1, -1))))
    return bands


__all__ = ["Responses", "responses_for"]
