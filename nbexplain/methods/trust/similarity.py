"""How alike two maps are, four ways (Adebayo et al. 2018), and how much many maps agree.

* :func:`spearman` — Spearman rank correlation of the flattened maps (tied values share their average
  rank). A constant map orders nothing: its correlation with any other map is 0 (with an equal constant
  map, 1), where scipy would answer NaN.
* :func:`ssim` — the structural similarity index (Wang et al. 2004) of the two maps, each scaled to [0, 1]
  by its largest |value|: scikit-image's ``structural_similarity`` (window 7, or the map's side when
  smaller; ``data_range=1``), written out here so that a sanity check computes the original map's local
  means and variances once (:class:`SSIMReference`; equal to scikit-image's up to rounding, tested).
* :func:`hog_similarity` — the Pearson correlation of the maps' histograms of oriented gradients
  (Dalal & Triggs 2005) of the scaled maps: do edges run the same way. :func:`hog_features` is
  scikit-image's ``hog`` (9 orientations, L2-Hys blocks) vectorised: scikit-image normalises the blocks in a
  Python loop, which costs more than the rest of a sanity check's step on a 224 x 224 map (equal to its
  features up to float32 rounding, tested).
* :func:`top_k_intersection` — the share of the k largest entries of one map that are among the k largest
  of the other (Ghorbani et al. 2019).

Examples
--------
>>> a = np.arange(16.0).reshape(4, 4)
>>> spearman(a, a ** 2), top_k_intersection(a, -a, 4)
(1.0, 0.0)
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ...errors import InputError


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"the maps must have the same shape; got {a.shape} and {b.shape}")
    return a, b


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two flattened arrays; 0 when one is constant (1 when both are, and equal)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    da, db = a - a.mean(), b - b.mean()
    # sums of products, not `@`: a BLAS call would start threads that fight torch's for the cores
    na, nb = float(np.sqrt(np.sum(da * da))), float(np.sqrt(np.sum(db * db)))
    if na == 0 or nb == 0:
        return 1.0 if na == nb and np.array_equal(a, b) else 0.0
    return float(np.clip(np.sum(da * db) / (na * nb), -1.0, 1.0))


def ranks(values) -> np.ndarray:
    """Ranks 0..n-1 of the flattened ``values``, ties sharing their average rank (as
    :func:`~nbexplain.methods.pixel.maps.average_ranks`, with numpy's fastest sort: ties are averaged anyway)."""
    v = np.ravel(values)
    order = np.argsort(v)
    sorted_ = v[order]
    starts_group = np.r_[True, sorted_[1:] != sorted_[:-1]]
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(v)]
    out = np.empty(len(v), dtype=np.float64)
    out[order] = ((starts + ends - 1) / 2)[np.cumsum(starts_group) - 1]
    return out


def spearman(a, b) -> float:
    """Spearman rank correlation of two maps (flattened; ties share their average rank)."""
    a, b = _pair(a, b)
    return correlation(ranks(a), ranks(b))


def scaled(map_: np.ndarray) -> np.ndarray:
    """|map| divided by its largest value (an all-zero map stays zero): the [0, 1] picture SSIM and HOG see."""
    m = np.abs(np.asarray(map_, dtype=np.float64))
    top = m.max() if m.size else 0.0
    return m / top if top > 0 else m


SSIM_K1, SSIM_K2 = 0.01, 0.03  # scikit-image's (and Wang et al.'s) constants, for data_range 1


def ssim_window(shape: tuple[int, ...]) -> int:
    """scikit-image's default window, 7, or the largest odd size that fits a smaller map."""
    side = min(shape)
    window = min(7, side if side % 2 else side - 1)
    if window < 3:
        raise InputError(f"ssim needs maps of at least 3 x 3 pixels; got {tuple(shape)}")
    return window


def box_mean(values: np.ndarray, size: int) -> np.ndarray:
    """The mean over a ``size`` x ``size`` window around each pixel, the border mirrored (d c b a | a b c d):
    ``scipy.ndimage.uniform_filter(values, size)``, by cumulative sums (no scipy needed)."""
    before = size // 2
    after = size - 1 - before
    padded = np.pad(values, ((before, after), (before, after)), mode="symmetric")
    for axis in (0, 1):
        c = np.cumsum(padded, axis=axis)
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
        n = c.shape[axis] - size
        padded = (np.take(c, np.arange(size, size + n), axis=axis) - np.take(c, np.arange(n), axis=axis)) / size
    return padded


class SSIMReference:
    """A map SSIM compares others with: its local means and variances are computed once.

    ``SSIMReference(a).compare(b)`` equals ``skimage.metrics.structural_similarity(scaled(a), scaled(b),
    data_range=1, win_size=ssim_window(a.shape))`` (uniform windows, sample covariances).
    """

    def __init__(self, map_: np.ndarray):
        m = np.asarray(map_, dtype=np.float64)
        if m.ndim != 2:
            raise InputError(f"ssim compares 2-D maps; got shape {m.shape}")
        self.window = ssim_window(m.shape)
        self._filter = lambda v: box_mean(v, self.window)
        self.x = scaled(m)
        self.ux = self._filter(self.x)
        self.vx = self._filter(self.x * self.x) - self.ux * self.ux
        self.pad = (self.window - 1) // 2

    def compare(self, other: np.ndarray) -> float:
        y = scaled(np.asarray(other, dtype=np.float64))
        if y.shape != self.x.shape:
            raise InputError(f"the maps must have the same shape; got {self.x.shape} and {y.shape}")
        n = self.window ** 2
        norm = n / (n - 1)  # sample covariance
        uy = self._filter(y)
        vy = norm * (self._filter(y * y) - uy * uy)
        vxy = norm * (self._filter(self.x * y) - self.ux * uy)
        vx = norm * self.vx
        c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
        s = ((2 * self.ux * uy + c1) * (2 * vxy + c2)) / ((self.ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
        p = self.pad
        return float(s[p:s.shape[0] - p, p:s.shape[1] - p].mean(dtype=np.float64))


def ssim(a, b) -> float:
    """Structural similarity of two 2-D maps, each scaled to [0, 1] (:func:`scaled`)."""
    a, b = _pair(a, b)
    return SSIMReference(a).compare(b)


def hog_cells(shape: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Pixels per cell and cells per block of the HOG: scikit-image's defaults (8, 3) from 64 pixels up,
    smaller cells for small maps (at least 2 x 2 blocks of 2 x 2 cells)."""
    side = min(shape)
    if side >= 64:
        return (8, 8), (3, 3)
    cell = max(1, side // 8)
    return (cell, cell), (2, 2)


HOG_ORIENTATIONS = 9


def hog_features(map_: np.ndarray) -> np.ndarray:
    """The HOG feature vector of a 2-D map scaled to [0, 1]: scikit-image's ``hog(orientations=9,
    pixels_per_cell=..., cells_per_block=..., block_norm="L2-Hys")`` (cells from :func:`hog_cells`), vectorised.

    Central differences inside the map (0 on its border); each pixel adds its gradient magnitude to the
    orientation bin (of 20°, unsigned) of its cell, divided by the cell's size; each block of cells is
    L2-normalised, clipped at 0.2 and normalised again.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    m = np.asarray(map_, dtype=np.float64)
    if m.ndim != 2 or min(m.shape) < 4:
        raise InputError(f"hog_similarity compares 2-D maps of at least 4 x 4 pixels; got shape {m.shape}")
    (cr, cc), (br, bc) = hog_cells(m.shape)
    x = scaled(m)
    g_row, g_col = np.zeros_like(x), np.zeros_like(x)
    g_row[1:-1, :] = x[2:, :] - x[:-2, :]
    g_col[:, 1:-1] = x[:, 2:] - x[:, :-2]
    n_r, n_c = x.shape[0] // cr, x.shape[1] // cc
    g_row, g_col = g_row[:n_r * cr, :n_c * cc], g_col[:n_r * cr, :n_c * cc]
    magnitude = np.hypot(g_col, g_row)
    orientation = np.rad2deg(np.arctan2(g_row, g_col)) % 180
    bins = np.minimum((orientation // (180 / HOG_ORIENTATIONS)).astype(np.int64), HOG_ORIENTATIONS - 1)
    cell = (np.arange(n_r * cr) // cr)[:, None] * n_c + (np.arange(n_c * cc) // cc)[None, :]
    hist = np.bincount((cell * HOG_ORIENTATIONS + bins).ravel(), weights=magnitude.ravel(),
                       minlength=n_r * n_c * HOG_ORIENTATIONS).reshape(n_r, n_c, HOG_ORIENTATIONS) / (cr * cc)
    if n_r < br or n_c < bc:
        raise InputError(f"the map {m.shape} is too small for HOG blocks of {br} x {bc} cells of {cr} x {cc}")
    blocks = sliding_window_view(hist, (br, bc), axis=(0, 1)).transpose(0, 1, 3, 4, 2)  # (rows, cols, br, bc, 9)
    eps = 1e-5
    out = blocks / np.sqrt(np.sum(blocks ** 2, axis=(2, 3, 4), keepdims=True) + eps ** 2)
    out = np.minimum(out, 0.2)
    out = out / np.sqrt(np.sum(out ** 2, axis=(2, 3, 4), keepdims=True) + eps ** 2)
    return out.ravel()


def hog_similarity(a, b) -> float:
    """Pearson correlation of the HOG features of two 2-D maps."""
    a, b = _pair(a, b)
    return correlation(hog_features(a), hog_features(b))


def top_k(values, k: int) -> np.ndarray:
    """Indices (into the flattened array) of the ``k`` largest values; ties go to the lower index."""
    v = np.ravel(np.asarray(values, dtype=np.float64))
    if not 1 <= k <= v.size:
        raise InputError(f"top_k must be in 1..{v.size}; got {k}")
    return np.argsort(-v, kind="stable")[:k]


def top_k_intersection(a, b, k: int) -> float:
    """Share of the ``k`` largest entries of ``a`` that are also among the ``k`` largest of ``b``."""
    a, b = _pair(a, b)
    return len(np.intersect1d(top_k(a, k), top_k(b, k), assume_unique=True)) / k


def default_top_k(n: int) -> int:
    """The k of top-k agreement for ``n`` entries: up to 50 (features, superpixels) 5, or half of them when
    fewer (so that the top k say something); beyond, 10 % (pixels)."""
    return max(1, min(5, n // 2)) if n <= 50 else int(np.ceil(0.1 * n))


def pairwise(maps: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k intersection and Spearman correlation of every pair of ``maps`` (each (n_pairs,))."""
    if len(maps) < 2:
        raise InputError("agreement needs at least two maps")
    pairs = list(combinations(range(len(maps)), 2))
    ranked = [ranks(m) for m in maps]
    tops = [top_k(m, k) for m in maps]
    inter = np.array([len(np.intersect1d(tops[i], tops[j], assume_unique=True)) / k for i, j in pairs])
    rho = np.array([correlation(ranked[i], ranked[j]) for i, j in pairs])
    return inter, rho


__all__ = ["SSIMReference", "box_mean", "correlation", "default_top_k", "hog_cells", "hog_features", "hog_similarity",
           "pairwise", "ranks", "scaled", "spearman", "ssim", "ssim_window", "top_k", "top_k_intersection"]
