"""Superposition through a CNN's linear stem: masked images without rendering them or running the stem.

The first layers of most CNNs (a convolution, its batch-norm in eval mode, constant padding, the input's
normalisation) are affine in the input, up to the first non-linearity. A coalition's image is the fill plus
the kept players' differences, ``fill + sum_j z_j 1_{S_j} (image - fill)``, so the stem's output is
``stem(fill) + sum_j z_j D_j`` with ``D_j = stem(fill + 1_{S_j} (image - fill)) - stem(fill)``: the
response of player ``j`` alone, which is zero outside its box grown by the stem's reach. :class:`Responses`
computes every ``D_j`` once, by incremental inference on the player's box (:mod:`.engine`), and then builds
a batch of coalitions' stem outputs by adding the kept players' responses to the fill's (or subtracting the
removed players' from the image's, whichever is fewer); the model's layers after the stem run as usual. No
image is rendered and the stem — often the largest single layer of a small CNN, on the largest map — is not
run; the numbers equal full forward passes up to float rounding (the sums are taken in another order).

Examples
--------
>>> responses = Responses(image_engine, fill_engine, image, fill, labels, n_players)
>>> outputs = image_engine.run_from(responses.cut, responses.assemble(coalitions))
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import COPY_COST, ELEMENT_COST, IncrementalModel


class Responses:
    """Each player's response through the stem of ``engine`` (the engines of the image and of the fill).

    Parameters
    ----------
    image_engine, fill_engine : IncrementalModel
        The model's engines for the image and for the fill (the same module).
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

    def __init__(self, image_engine: IncrementalModel, fill_engine: IncrementalModel, image: np.ndarray,
                 fill: np.ndarray, labels: np.ndarray, boxes: tuple[np.ndarray, ...]):
        cut = fill_engine.stem()
        if cut is None:
            raise ValueError("the model has no linear stem")
        self.cut = cut
        node = next(n for n in image_engine.nodes if n.name == cut.name)
        self.image_base = image_engine.refs[node][0].numpy()
        self.fill_base = fill_engine.refs[cut][0].numpy()
        # both as (h, w, C) tensors: the assembled maps keep their channels last
        self.bases = tuple(torch.from_numpy(np.ascontiguousarray(a.transpose(1, 2, 0)))
                           for a in (self.image_base, self.fill_base))
        top, bottom, left, right = boxes
        self.patches: list[tuple[int, int, torch.Tensor]] = []  # (row, column, (h, w, C) response)
        for j in range(len(top)):
            y, x, h, w = int(top[j]), int(left[j]), int(bottom[j] - top[j]), int(right[j] - left[j])
            keep = labels[y:y + h, x:x + w] == j
            patch = np.where(keep, image[:, y:y + h, x:x + w], fill[:, y:y + h, x:x + w])[None]
            plan = fill_engine.plan([y], [x], h, w, until=cut)
            out, box = fill_engine.run_until(plan, 0, 1, patch, cut)
            oy, ox = int(box.y[0]), int(box.x[0])
            response = out[0].numpy() - self.fill_base[:, oy:oy + box.h, ox:ox + box.w]
            self.patches.append((oy, ox, torch.from_numpy(np.ascontiguousarray(response.transpose(1, 2, 0)))))
        total = sum(fill_engine.costs.values())
        size = self.fill_base.size
        mean_response = np.mean([p.numel() for _, _, p in self.patches])
        self.n_players = len(top)
        # per coalition: copy the base and add every player's response with its coefficient (see assemble),
        # instead of rendering the image (an element-wise pass over it) and running the stem
        self.fraction = (total - fill_engine.stem_cost - ELEMENT_COST * image.size
                         + COPY_COST * (size + self.n_players * mean_response)) / total
        self.dtype = fill_engine.dtype

    def assemble(self, coalitions: np.ndarray) -> torch.Tensor:
        """The stem's output maps (B, C, h, w) of coalitions (B, M) bool, with their channels last in memory
        (as the layers after the stem run): the fill's plus the kept players' responses, or the image's minus
        the removed players', whichever adds fewer. Each player's response is added to every row at once
        with its coefficient (+1 kept on the fill, -1 removed from the image, 0 else): one multithreaded pass
        over the player's region, no gathered copies."""
        z = np.asarray(coalitions, dtype=bool)
        from_image = z.sum(axis=1) * 2 > self.n_players
        coefficients = np.where(from_image[:, None], -(~z).astype(np.float32), z.astype(np.float32))
        coefficients = torch.from_numpy(coefficients).to(self.bases[0].dtype)
        out = torch.where(torch.from_numpy(from_image)[:, None, None, None], *self.bases)  # (B, h, w, C)
        for j, (y, x, response) in enumerate(self.patches):
            h, w = response.shape[:2]
            coefficient = coefficients[:, j]
            if coefficient.any():
                out[:, y:y + h, x:x + w].addcmul_(coefficient[:, None, None, None], response)
        return out.permute(0, 3, 1, 2)


__all__ = ["Responses"]
