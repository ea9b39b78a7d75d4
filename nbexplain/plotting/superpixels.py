"""Static matplotlib drawings of segmentations and superpixel results (matplotlib is imported only when drawing)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .figure import DIVERGING, NEGATIVE, POSITIVE, axes, plain_text


def boundary_rgba(segmentation, colour=(1.0, 0.85, 0.1), alpha: float = 0.9, mask=None) -> np.ndarray:
    """(H, W, 4) float picture of the superpixel boundaries (only those of superpixels in ``mask``)."""
    edge = segmentation.boundaries()
    if mask is not None:
        inside = np.asarray(mask, dtype=bool)[segmentation.labels]
        edge = edge & inside | _dilate(inside) & ~inside
    rgba = np.zeros((*edge.shape, 4))
    rgba[edge] = (*colour, alpha)
    return rgba


def _dilate(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def draw_segmentation(segmentation, ax=None, *, values=None, numbers: bool = False, cmap: str = DIVERGING,
                      alpha: float = 0.6, limits=None, outline=None, title: str | None = None,
                      colorbar: bool = True, active=None) -> Any:
    """The image with superpixel boundaries; optional per-superpixel ``values`` (diverging, symmetric
    limits), an ``outline`` mask of superpixels to highlight (others dimmed), ``active`` (removed ones
    hatched grey) and the superpixel numbers. Returns the Axes."""
    ax = axes(ax)
    image = segmentation.image
    if outline is not None:
        inside = np.asarray(outline, dtype=bool)[segmentation.labels]
        image = np.where(inside[..., None], image, (image * 0.35 + 255 * 0.65 * 0.5).astype(np.uint8))
    if active is not None:
        off = ~np.asarray(active, dtype=bool)[segmentation.labels]
        image = np.where(off[..., None], np.uint8(128), image)
    ax.imshow(image, interpolation="nearest")
    if values is not None:
        v = np.asarray(values, dtype=np.float64)
        top = float(np.abs(v).max()) or 1.0
        lo, hi = limits or (-top, top)
        im = ax.imshow(segmentation.paint(v), cmap=cmap, vmin=lo, vmax=hi, alpha=alpha, interpolation="nearest")
        if colorbar:
            ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.imshow(boundary_rgba(segmentation, alpha=0.6 if outline is None else 0.25), interpolation="nearest")
    if outline is not None:
        ax.imshow(boundary_rgba(segmentation, colour=(0.1, 1.0, 0.3), alpha=1.0, mask=outline), interpolation="nearest")
    if numbers:
        for i, (r, c) in enumerate(segmentation.centroids()):
            ax.text(c, r, str(i), fontsize=6, ha="center", va="center", color="white",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "black", "alpha": 0.5, "lw": 0})
    if title:
        ax.set_title(plain_text(title), fontsize=9)
    ax.set_axis_off()
    return ax


def draw_curves(result, ax=None) -> Any:
    """Deletion and insertion curves of a :class:`PerturbationCurves`; returns the Axes."""
    ax = axes(ax, (4.2, 3))
    ax.plot(result.fractions, result.deletion, color=POSITIVE, label=f"deletion (AUC {result.auc_deletion:.3f})")
    ax.plot(result.fractions, result.insertion, color=NEGATIVE, label=f"insertion (AUC {result.auc_insertion:.3f})")
    ax.set_xlabel("fraction of superpixels removed / inserted (most important first)")
    ax.set_ylabel("probability" if result.output == "probability" else "score")
    ax.set_title(plain_text(result.target_name), fontsize=9)
    ax.legend(fontsize=8)
    return ax


__all__ = ["boundary_rgba", "draw_curves", "draw_segmentation"]
