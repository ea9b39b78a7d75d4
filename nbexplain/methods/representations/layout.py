"""Several layers' maps on one stage: centred, scaled alike and turned onto each other.

A t-SNE or PCA map is defined up to rotation, reflection and scale (PCA's signs and t-SNE's orientation are
arbitrary), so two layers' maps drawn as they come look unrelated even where they agree. Each map is centred
and scaled to a root-mean-square radius of 1, and then rotated (or reflected) onto the next deeper layer's map
by orthogonal Procrustes (Schönemann 1966): the rotation that moves the points least. A view can then move
the points from one layer's map to the next and only what changed moves. A similarity keeps every distance
ratio, so neighbours (and trustworthiness) are unchanged.
"""

from __future__ import annotations

import numpy as np


def normalised(Y: np.ndarray) -> np.ndarray:
    """``Y`` centred with a root-mean-square distance of 1 from the centre (a single point stays at 0)."""
    Y = np.asarray(Y, dtype=np.float64)
    centred = Y - Y.mean(axis=0)
    radius = np.sqrt((centred ** 2).sum(axis=1).mean())
    return centred / radius if radius > 0 else centred


def rotation_onto(Y: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The orthogonal matrix R minimising ||Y R - reference|| (both centred)."""
    u, _, vt = np.linalg.svd(Y.T @ reference)
    return u @ vt


def aligned(maps: list[np.ndarray]) -> list[np.ndarray]:
    """``maps`` (one per layer, same rows) normalised, each rotated onto the next; the last one only normalised."""
    out = [normalised(m) for m in maps]
    for i in range(len(out) - 2, -1, -1):
        out[i] = out[i] @ rotation_onto(out[i], out[i + 1])
    return out


__all__ = ["aligned", "normalised", "rotation_onto"]
