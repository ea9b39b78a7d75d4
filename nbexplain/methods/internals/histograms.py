"""Weight histograms and statistics of a network's parameters, snapshot after snapshot, computed in torch.

TensorBoard's histogram dashboard, kept in memory: each snapshot of a parameter tensor becomes one row of
counts over bins that are fixed per tensor (uniform, chosen from its first snapshot) and grow when values
leave them — whole bins are added at either end, and when a tensor would need more than ``MAX_BINS_FACTOR``
times its first number of bins, neighbouring bins are merged in pairs (width doubled). The edges of a
grid are always ``origin + width * i``, so earlier rows stay exact on the grown grid: each row equals
``numpy.histogram(weights, bins=edges)`` of the weights it was taken from.

No copy of the weights is kept. The change between snapshots, ``|W_t - W_s| / max(|W_t|, |W_s|)``,
is measured on a count sketch (Charikar, Chen & Farach-Colton 2002) of ``SKETCH_SIZE`` numbers per
tensor: a fixed random signed bucketing, so the sketch of a difference is the difference of sketches
and its norm estimates the norm of the difference (to about 2 % for tensors above ``SKETCH_SIZE``
values; exact for smaller tensors, whose sketch is the tensor itself; exactly zero for a tensor that did
not change).

Examples
--------
>>> tracks = ParameterTracks(bins=32)
>>> tracks.snapshot(model.named_parameters())     # after each chosen training step
>>> tracks["0.weight"].counts.shape               # (snapshots, bins)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: numbers in the count sketch of a tensor (tensors this small are kept exactly)
SKETCH_SIZE = 2048
#: a grid may grow to this many times its first number of bins before bins are merged in pairs
MAX_BINS_FACTOR = 4
#: values processed at once for large tensors (bounds the temporary memory of bucketing)
CHUNK = 1 << 22
#: the statistics recorded per snapshot, in this order (columns of ``ParameterTrack.stats``)
STATS = ("mean", "std", "min", "max", "norm", "grad_norm", "change", "change_total", "nonfinite")


@dataclass
class BinGrid:
    """Uniform bins ``[origin + width * i, origin + width * (i + 1))`` for ``start <= i < stop``."""

    origin: float
    width: float
    start: int
    stop: int

    @property
    def bins(self) -> int:
        return self.stop - self.start

    def edges(self, dtype: Any = np.float32) -> np.ndarray:
        """The ``bins + 1`` edges in ``dtype`` (the dtype of the weights: numpy compares in it)."""
        return (self.origin + self.width * np.arange(self.start, self.stop + 1, dtype=np.float64)).astype(dtype)

    @classmethod
    def around(cls, lo: float, hi: float, bins: int, dtype: Any) -> BinGrid:
        """``bins`` bins spanning ``[lo, hi]`` (a small span around a constant tensor)."""
        tiny = 64 * float(np.finfo(dtype).eps) * max(abs(lo), abs(hi), 1e-30)
        if hi - lo <= tiny:  # a constant tensor (zeros, ones): a span of 10 % of its value, or 0.01
            span = 0.1 * abs(lo) if lo != 0 else 0.01
            lo, hi = lo - span / 2, hi + span / 2
        return cls(origin=float(lo), width=(float(hi) - float(lo)) / bins, start=0, stop=bins)

    def needed(self, lo: float, hi: float, dtype: Any, max_bins: int) -> tuple[int, int] | None:
        """The smallest ``(start, stop)`` whose edges (in ``dtype``) cover ``[lo, hi]`` with ``hi`` below the
        last edge, or None when that would take more than ``max_bins`` bins."""
        start = min(self.start, math.floor((lo - self.origin) / self.width))
        stop = max(self.stop, math.ceil((hi - self.origin) / self.width))
        if stop - start > max_bins:
            return None
        cast = np.dtype(dtype).type
        while cast(self.origin + self.width * start) > cast(lo):
            start -= 1
        while cast(self.origin + self.width * stop) <= cast(hi):  # strictly inside: numpy's last bin is
            stop += 1  # closed on the right, so a value on the last edge would change bins when the grid grows
        return (start, stop) if stop - start <= max_bins else None


@dataclass
class ParameterTrack:
    """What was recorded of one parameter tensor: counts per snapshot on its grid, and statistics.

    ``counts`` is (snapshots, bins) int64 on the current ``grid``; ``stats`` (snapshots, len(STATS))
    float64 with NaN where a statistic is unknown (no gradient, no previous snapshot). Rows are kept in
    arrays that grow by doubling, so a snapshot costs the same at the first step and the thousandth.
    """

    name: str
    shape: tuple[int, ...]
    dtype: Any
    grid: BinGrid
    max_bins: int
    seed: int
    n: int = 0
    _counts: np.ndarray = field(default_factory=lambda: np.zeros((4, 0), np.int64))
    _stats: np.ndarray = field(default_factory=lambda: np.zeros((4, len(STATS))))
    first_sketch: np.ndarray | None = None
    last_sketch: np.ndarray | None = None

    @property
    def counts(self) -> np.ndarray:
        return self._counts[: self.n]

    @property
    def stats(self) -> np.ndarray:
        return self._stats[: self.n]

    def edges(self) -> np.ndarray:
        return self.grid.edges(self.dtype)

    def stat(self, name: str) -> np.ndarray:
        """One statistic over the snapshots."""
        return self.stats[:, STATS.index(name)]

    def append(self, counts: np.ndarray, stats: list[float]) -> None:
        """Add one snapshot's row of counts (on the current grid) and statistics."""
        if self.n == len(self._counts):
            self._counts = np.concatenate([self._counts, np.zeros_like(self._counts)])
            self._stats = np.concatenate([self._stats, np.zeros_like(self._stats)])
        self._counts[self.n] = counts
        self._stats[self.n] = stats
        self.n += 1

    # -- growing the grid ------------------------------------------------------------------------------
    def cover(self, lo: float, hi: float) -> None:
        """Grow the grid (and re-express earlier counts on it) so that ``[lo, hi]`` is inside."""
        span = self.grid.needed(lo, hi, self.dtype, self.max_bins)
        while span is None:  # too many bins of this width: merge pairs (width doubled) and try again
            self._merge_pairs()
            span = self.grid.needed(lo, hi, self.dtype, self.max_bins)
        start, stop = span
        if (start, stop) != (self.grid.start, self.grid.stop):
            self._counts = np.pad(self._counts, ((0, 0), (self.grid.start - start, stop - self.grid.stop)))
            self.grid = BinGrid(self.grid.origin, self.grid.width, start, stop)

    def _merge_pairs(self) -> None:
        g, counts = self.grid, self._counts
        if g.start % 2:  # align to even bin numbers so pairs (2j, 2j + 1) merge exactly
            counts = np.pad(counts, ((0, 0), (1, 0)))
            g = BinGrid(g.origin, g.width, g.start - 1, g.stop)
        if g.stop % 2:
            counts = np.pad(counts, ((0, 0), (0, 1)))
            g = BinGrid(g.origin, g.width, g.start, g.stop + 1)
        self._counts = counts.reshape(len(counts), counts.shape[1] // 2, 2).sum(axis=2)
        # edges of the coarse grid are every other edge of the fine one: 2w * j == w * 2j exactly
        self.grid = BinGrid(g.origin, g.width * 2, g.start // 2, g.stop // 2)


def _sketch(flat, seed: int) -> np.ndarray:
    """A count sketch of the 1-D tensor ``flat`` (float64); the tensor itself when it is small."""
    import torch

    n = flat.numel()
    if n <= SKETCH_SIZE:
        return flat.detach().to(torch.float64).cpu().numpy().copy()
    g = torch.Generator(device=flat.device).manual_seed(seed)
    out = torch.zeros(SKETCH_SIZE, dtype=torch.float64, device=flat.device)
    for start in range(0, n, CHUNK):
        part = flat[start:start + CHUNK]
        draw = torch.randint(2 * SKETCH_SIZE, part.shape, generator=g, device=flat.device)
        bucket = draw.remainder(SKETCH_SIZE)  # the bucket, and the sign from the draw's top bit
        signed = torch.where(draw < SKETCH_SIZE, part.to(torch.float64), -part.to(torch.float64))
        out.index_add_(0, bucket, signed)
    return out.cpu().numpy()


def _count(flat, edges) -> np.ndarray:
    """``numpy.histogram(flat, edges)[0]`` computed in torch (every value lies within the edges).

    The bin of a value is found as numpy finds it for uniform bins: by arithmetic, then corrected by one
    where rounding put it on the wrong side of an edge (an exact comparison with the edges themselves).
    """
    import torch

    bins = len(edges) - 1
    low = edges[0]
    scale = bins / float(edges[-1] - edges[0])
    total = torch.zeros(bins, dtype=torch.int64, device=flat.device)
    for start in range(0, flat.numel(), CHUNK):
        part = flat[start:start + CHUNK]
        index = (part - low).mul_(scale).floor_().clamp_(0, bins - 1).long()
        index -= (part < edges[index]).long()
        index += ((part >= edges[index + 1]) & (index < bins - 1)).long()
        total += torch.bincount(index, minlength=bins)
    return total.cpu().numpy()


def _relative(a: np.ndarray | None, b: np.ndarray | None, norm_a: float, norm_b: float) -> float:
    """``|A - B| / max(|A|, |B|)`` from sketches (0 when both are zero)."""
    if a is None or b is None:
        return float("nan")
    delta = float(np.linalg.norm(a - b))
    if delta == 0.0:
        return 0.0
    scale = max(norm_a, norm_b)
    return delta / scale if scale > 0 else float("inf")


class ParameterTracks:
    """Histograms and statistics of named tensors, snapshot after snapshot (see the module docstring).

    ``bins`` is the number of bins of each tensor's first snapshot.
    """

    def __init__(self, bins: int = 64):
        self.bins = int(bins)
        self.tracks: dict[str, ParameterTrack] = {}
        self.n_snapshots = 0

    def __getitem__(self, name: str) -> ParameterTrack:
        return self.tracks[name]

    def __iter__(self):
        return iter(self.tracks.values())

    def __len__(self) -> int:
        return len(self.tracks)

    def snapshot(self, named: Iterable[tuple[str, Any]]) -> None:
        """Record one snapshot of ``named`` ``(name, tensor)`` pairs (a tensor's ``.grad`` is read if set).

        Every snapshot must name the same tensors with the same shapes (a new name or shape is an error:
        the rows of a track would no longer describe one tensor).
        """
        import torch

        named = list(named)
        if self.n_snapshots and [n for n, _ in named] != list(self.tracks):
            missing = sorted(set(self.tracks) - {n for n, _ in named})
            extra = sorted({n for n, _ in named} - set(self.tracks))
            raise ValueError(f"the snapshot's tensors differ from the first snapshot's (missing {missing[:5]}, "
                             f"new {extra[:5]})")
        with torch.no_grad():
            for index, (name, tensor) in enumerate(named):
                self._record(index, name, tensor)
        self.n_snapshots += 1

    def _record(self, index: int, name: str, tensor: Any) -> None:
        import torch

        t = tensor.detach()
        if not t.is_floating_point():
            raise ValueError(f"{name} is not a floating-point tensor (dtype {t.dtype})")
        if t.dtype not in (torch.float32, torch.float64):  # half, bfloat16: histogram them in float32
            t = t.float()
        flat = t.reshape(-1)
        np_dtype = np.float64 if t.dtype == torch.float64 else np.float32
        nonfinite = 0
        if flat.numel() == 0:
            raise ValueError(f"{name} is an empty tensor")
        lo_t, hi_t = torch.aminmax(flat)
        lo, hi = float(lo_t), float(hi_t)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            finite = torch.isfinite(flat)
            nonfinite = int((~finite).sum())
            flat = flat[finite]
            if flat.numel() == 0:
                lo = hi = 0.0
            else:
                lo_t, hi_t = torch.aminmax(flat)
                lo, hi = float(lo_t), float(hi_t)
        track = self.tracks.get(name)
        if track is None:
            if self.n_snapshots:
                raise ValueError(f"{name} was not in the first snapshot")
            grid = BinGrid.around(lo, hi, self.bins, np_dtype)
            track = ParameterTrack(name, tuple(tensor.shape), np_dtype, grid, MAX_BINS_FACTOR * self.bins,
                                   seed=1000 + index, _counts=np.zeros((4, grid.bins), np.int64))
            self.tracks[name] = track
        elif tuple(tensor.shape) != track.shape:
            raise ValueError(f"{name} changed shape from {track.shape} to {tuple(tensor.shape)}")
        track.cover(lo, hi)
        edges = torch.from_numpy(track.edges()).to(flat.device)
        n = flat.numel()
        if n:
            row = _count(flat, edges)
            wide = flat.to(torch.float64)  # sums in float64: exact enough for any mean/spread ratio
            mean = float(wide.sum()) / n
            square = float(torch.dot(wide, wide))
            norm = math.sqrt(square)
            std = math.sqrt(max(square / n - mean * mean, 0.0))
        else:
            row = np.zeros(track.grid.bins, np.int64)
            mean = std = norm = float("nan")
        grad = getattr(tensor, "grad", None)
        grad_norm = float(torch.linalg.vector_norm(grad.detach().float())) if grad is not None else float("nan")
        sketch = _sketch(flat, track.seed) if nonfinite == 0 else None
        norms = track.stat("norm")
        change = _relative(sketch, track.last_sketch, norm, float(norms[-1])) if len(norms) else float("nan")
        change_total = _relative(sketch, track.first_sketch, norm, float(norms[0])) if len(norms) else 0.0
        if track.first_sketch is None:
            track.first_sketch = sketch
        track.last_sketch = sketch
        track.append(row, [mean, std, lo, hi, norm, grad_norm, change, change_total, float(nonfinite)])


__all__ = ["CHUNK", "MAX_BINS_FACTOR", "SKETCH_SIZE", "STATS", "BinGrid", "ParameterTrack", "ParameterTracks"]
