"""How alike two maps are, four ways (Adebayo et al. 2018), and how much many maps agree.

* :func:`spearman` — Spearman rank correlation of the flattened maps (tied values share their average
  rank). A constant map orders nothing: its correlation with any other map is 0 (with an equal constant
  map, 1), where scipy would answer NaN. :func:`ranks` sorts a float32 map as 64-bit keys (its values' bits
  above their index), about 3x faster than ``np.argsort``; :class:`Correlated` centres one side once.
* :func:`ssim` — the structural similarity index (Wang et al. 2004) of the two maps, each scaled to [0, 1]
  by its largest |value|: scikit-image's ``structural_similarity`` (window 7, or the map's side when
  smaller; ``data_range=1``), written out here so that a sanity check computes the original map's local
  means and variances once (:class:`SSIMReference`, with running window sums into kept buffers; equal to
  scikit-image's up to rounding, tested).
* :func:`hog_similarity` — the Pearson correlation of the maps' histograms of oriented gradients
  (Dalal & Triggs 2005) of the scaled maps: do edges run the same way. :func:`hog_features` is
  scikit-image's ``hog`` (9 orientations, L2-Hys blocks) vectorised (:class:`HOG`, into kept buffers):
  scikit-image normalises the blocks in a Python loop, which costs more than the rest of a sanity check's
  step on a 224 x 224 map (equal to its features up to float32 rounding, tested).
* :func:`top_k_intersection` — the share of the k largest entries of one map that are among the k largest
  of the other (Ghorbani et al. 2019).

Examples
--------
>>> a = np.arange(16.0).reshape(4, 4)
>>> spearman(a, a ** 2), top_k_intersection(a, -a, 4)
(1.0, 0.0)
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...errors import InputError


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"the maps must have the same shape; got {a.shape} and {b.shape}")
    return a, b


class Correlated:
    """A vector that many others are correlated with (:func:`correlation`): its centred values and norm are
    computed once."""

    def __init__(self, a):
        self.values = np.ravel(a).astype(np.float64)
        self.centred = self.values - self.values.mean()
        # sums of products, not `@`: a BLAS call would start threads that fight torch's for the cores
        self.norm = float(np.sqrt(np.sum(self.centred * self.centred)))

    def correlation(self, b) -> float:
        """Pearson correlation with ``b`` (flattened); 0 when one is constant (1 when both are, and equal)."""
        b = np.ravel(np.asarray(b, dtype=np.float64))
        db = b - b.mean()
        nb = float(np.sqrt(np.sum(db * db)))
        if self.norm == 0 or nb == 0:
            return 1.0 if self.norm == nb and np.array_equal(self.values, b) else 0.0
        return float(np.clip(np.sum(self.centred * db) / (self.norm * nb), -1.0, 1.0))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two flattened arrays; 0 when one is constant (1 when both are, and equal)."""
    return Correlated(a).correlation(b)


def ranks(values) -> np.ndarray:
    """Ranks 0..n-1 of the flattened ``values``, ties sharing their average rank (as
    :func:`~nbexplain.methods.pixel.maps.average_ranks`, with the fastest sort at hand: ties are averaged anyway)."""
    v = np.ravel(values)
    n = len(v)
    order = _order(v)
    sorted_ = v[order]
    starts_group = np.empty(n, dtype=bool)
    starts_group[:1] = True
    np.not_equal(sorted_[1:], sorted_[:-1], out=starts_group[1:])
    starts = np.flatnonzero(starts_group)
    out = np.empty(n, dtype=np.float64)
    if len(starts) == n:  # no ties
        out[order] = np.arange(n, dtype=np.float64)
        return out
    ends = np.append(starts[1:], n)
    out[order] = np.repeat((starts + ends - 1) / 2, ends - starts)
    return out


def _order(v: np.ndarray) -> np.ndarray:
    """An order that sorts the 1-D ``v`` (``np.argsort``). float32 values (a map) are sorted as 64-bit keys, an
    order-preserving transform of their bits above their index, which numpy sorts about 3x faster."""
    if v.dtype != np.float32 or not 0 < len(v) < 2 ** 32 or np.dtype(np.intp).itemsize != 8 or np.isnan(v).any():
        return np.argsort(v)
    bits = np.ascontiguousarray(v).view(np.uint32)
    flip = (bits.view(np.int32) >> 31).view(np.uint32)  # all ones for negative values
    flip |= np.uint32(0x80000000)
    flip ^= bits  # negative values: every bit flipped; others: the sign bit set
    keys = flip.astype(np.uint64)
    keys <<= np.uint64(32)
    keys |= _indices(len(v))
    keys.sort()
    keys &= np.uint64(0xFFFFFFFF)
    return keys.view(np.intp)


@lru_cache(maxsize=4)
def _indices(n: int) -> np.ndarray:
    out = np.arange(n, dtype=np.uint64)
    out.flags.writeable = False
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


class WindowSums:
    """The sums over every ``size`` x ``size`` window that fits inside the last two axes of arrays of one
    ``shape`` (..., H, W): shifted rows added in place, then, transposed so that the additions run along
    memory, shifted columns. The work goes to buffers kept between calls: on a 224 x 224 map, fresh arrays
    cost more in page faults than the additions themselves."""

    def __init__(self, shape: tuple[int, ...], size: int):
        *lead, h, w = shape
        self.size = size
        self._rows = np.empty((*lead, h - size + 1, w))
        self._columns = np.empty((*lead, w, h - size + 1))
        self._out = np.empty((*lead, w - size + 1, h - size + 1))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The window sums of ``values``, transposed ((..., W - size + 1, H - size + 1)), in a buffer that the
        next call overwrites."""
        n, m = self._rows.shape[-2], self._out.shape[-2]
        np.copyto(self._rows, values[..., :n, :])
        for i in range(1, self.size):
            self._rows += values[..., i:i + n, :]
        np.copyto(self._columns, np.swapaxes(self._rows, -1, -2))
        np.copyto(self._out, self._columns[..., :m, :])
        for i in range(1, self.size):
            self._out += self._columns[..., i:i + m, :]
        return self._out


class SSIMReference:
    """A map SSIM compares others with: its local means and variances are computed once.

    ``SSIMReference(a).compare(b)`` equals ``skimage.metrics.structural_similarity(scaled(a), scaled(b),
    data_range=1, win_size=ssim_window(a.shape))`` (uniform windows, sample covariances; the mean over the
    pixels at least half a window from the border, so only their windows are summed, and no padding). The
    comparisons reuse buffers: one at a time.
    """

    def __init__(self, map_: np.ndarray):
        m = np.asarray(map_, dtype=np.float64)
        if m.ndim != 2:
            raise InputError(f"ssim compares 2-D maps; got shape {m.shape}")
        self.window = ssim_window(m.shape)
        self.x = scaled(m)
        n = self.window ** 2
        self._n, self._norm = n, n / (n - 1)  # sample covariance
        self._sums = WindowSums((3, *m.shape), self.window)
        self._stack = np.empty((3, *m.shape))
        self._stack[0], self._stack[1], self._stack[2] = self.x, self.x * self.x, 0.0
        ux, xx = self._sums(self._stack)[:2] / n  # transposed, as every comparison's sums are
        self._ux = ux
        self._ux2_c1 = ux * ux + SSIM_K1 ** 2
        self._vx_c2 = self._norm * (xx - ux * ux) + SSIM_K2 ** 2
        self._a, self._b = np.empty_like(ux), np.empty_like(ux)

    def compare(self, other: np.ndarray, *, already_scaled: bool = False) -> float:
        """SSIM of ``other`` (scaled here unless ``already_scaled``) with the reference."""
        y = np.asarray(other, dtype=np.float64) if already_scaled else scaled(other)
        if y.shape != self.x.shape:
            raise InputError(f"the maps must have the same shape; got {self.x.shape} and {y.shape}")
        stack, a, b = self._stack, self._a, self._b
        np.copyto(stack[0], y)
        np.multiply(y, y, out=stack[1])
        np.multiply(self.x, y, out=stack[2])
        sums = self._sums(stack)
        sums /= self._n
        uy, yy, xy = sums
        # ((2 ux uy + c1) (2 vxy + c2)) / ((ux² + uy² + c1) (vx + vy + c2)), in place
        np.multiply(self._ux, uy, out=a)
        np.subtract(xy, a, out=b)
        b *= 2 * self._norm
        b += SSIM_K2 ** 2
        a *= 2
        a += SSIM_K1 ** 2
        a *= b
        np.multiply(uy, uy, out=b)
        yy -= b
        yy *= self._norm
        yy += self._vx_c2
        b += self._ux2_c1
        b *= yy
        a /= b
        return float(a.mean(dtype=np.float64))


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


class HOG:
    """The HOG feature vectors of 2-D maps of one ``shape``, each scaled to [0, 1]: scikit-image's
    ``hog(orientations=9, pixels_per_cell=..., cells_per_block=..., block_norm="L2-Hys")`` (cells from
    :func:`hog_cells`), vectorised, into buffers kept between calls (one call at a time).

    Central differences inside the map (0 on its border); each pixel adds its gradient magnitude to the
    orientation bin (of 20°, unsigned) of its cell, divided by the cell's size; each block of cells is
    L2-normalised, clipped at 0.2 and normalised again.
    """

    def __init__(self, shape: tuple[int, ...]):
        if len(shape) != 2 or min(shape) < 4:
            raise InputError(f"hog_similarity compares 2-D maps of at least 4 x 4 pixels; got shape {tuple(shape)}")
        self.shape = tuple(shape)
        self._cells, self._block = hog_cells(self.shape)
        (cr, cc), (br, bc) = self._cells, self._block
        n_r, n_c = self.shape[0] // cr, self.shape[1] // cc
        if n_r < br or n_c < bc:
            raise InputError(f"the map {self.shape} is too small for HOG blocks of {br} x {bc} cells of {cr} x {cc}")
        self._n = n_r, n_c
        r, c = n_r * cr, n_c * cc
        # rows (columns) with a central difference: 1 .. end - 1, inside the map and the cells
        self._ends = min(r, self.shape[0] - 1), min(c, self.shape[1] - 1)
        self._g_row, self._g_col = np.zeros((r, c)), np.zeros((r, c))
        self._magnitude, self._degrees = np.empty((r, c)), np.empty((r, c))
        self._negative, self._half_turn = np.empty((r, c), dtype=bool), np.empty((r, c), dtype=bool)
        cells = (np.arange(r) // cr)[:, None] * n_c + (np.arange(c) // cc)[None, :]
        self._first_bins = cells * HOG_ORIENTATIONS  # each pixel's cell's first bin
        self._bins = np.empty((r, c), dtype=np.intp)
        self._blocks = np.empty((n_r - br + 1, n_c - bc + 1, br * bc * HOG_ORIENTATIONS))
        self._norms = np.empty((n_r - br + 1, n_c - bc + 1, 1))

    def __call__(self, map_: np.ndarray, *, already_scaled: bool = False) -> np.ndarray:
        """The feature vector of ``map_`` (scaled here unless ``already_scaled``), in a buffer that the next
        call overwrites."""
        m = np.asarray(map_, dtype=np.float64)
        if m.shape != self.shape:
            raise InputError(f"the maps must have the same shape; got {self.shape} and {m.shape}")
        x = m if already_scaled else scaled(m)
        (cr, cc), (br, bc), (n_r, n_c) = self._cells, self._block, self._n
        g_row, g_col, magnitude, degrees = self._g_row, self._g_col, self._magnitude, self._degrees
        (r, c), (end_r, end_c) = g_row.shape, self._ends
        np.subtract(x[2:end_r + 1, :c], x[:end_r - 1, :c], out=g_row[1:end_r])
        np.subtract(x[:r, 2:end_c + 1], x[:r, :end_c - 1], out=g_col[:, 1:end_c])
        np.multiply(g_row, g_row, out=magnitude)
        np.multiply(g_col, g_col, out=degrees)
        magnitude += degrees
        np.sqrt(magnitude, out=magnitude)  # np.hypot's value to the last bit or so, 20x faster
        # degrees as np.rad2deg (the same product), folded into [0, 180) as `% 180` does, without its slow divmod
        np.arctan2(g_row, g_col, out=degrees)
        degrees *= 180 / np.pi
        np.equal(degrees, 180.0, out=self._half_turn)
        np.less(degrees, 0.0, out=self._negative)
        np.add(degrees, 180.0, out=degrees, where=self._negative)
        np.copyto(degrees, 0.0, where=self._half_turn)
        # truncation is floor here: o / 20 never rounds up to the next integer below 180
        degrees /= 180 / HOG_ORIENTATIONS
        np.copyto(self._bins, degrees, casting="unsafe")
        np.minimum(self._bins, HOG_ORIENTATIONS - 1, out=self._bins)
        self._bins += self._first_bins
        hist = np.bincount(self._bins.ravel(), weights=magnitude.ravel(), minlength=n_r * n_c * HOG_ORIENTATIONS)
        hist = hist.reshape(n_r, n_c, HOG_ORIENTATIONS) / (cr * cc)
        out, norms = self._blocks, self._norms
        np.copyto(out.reshape(n_r - br + 1, n_c - bc + 1, br, bc, HOG_ORIENTATIONS),  # each block's features in a row
                  sliding_window_view(hist, (br, bc), axis=(0, 1)).transpose(0, 1, 3, 4, 2))
        for clip in (True, False):
            np.einsum("ijk,ijk->ij", out, out, out=norms[..., 0])
            norms += 1e-5 ** 2
            np.sqrt(norms, out=norms)
            out /= norms
            if clip:
                np.minimum(out, 0.2, out=out)
        return out.ravel()


def hog_features(map_: np.ndarray, *, already_scaled: bool = False) -> np.ndarray:
    """The HOG feature vector of a 2-D map (:class:`HOG`)."""
    m = np.asarray(map_, dtype=np.float64)
    return HOG(m.shape)(m, already_scaled=already_scaled)


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


__all__ = ["HOG", "Correlated", "SSIMReference", "WindowSums", "correlation", "default_top_k", "hog_cells", "hog_features", "hog_similarity",
           "pairwise", "ranks", "scaled", "spearman", "ssim", "ssim_window", "top_k", "top_k_intersection"]
