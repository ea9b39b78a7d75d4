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
            counts = np.zeros((len(self._counts), stop - start), np.int64)  # np.pad, without its overhead
            counts[:, self.grid.start - start:self.grid.stop - start] = self._counts
            self._counts = counts
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


def _draws(n: int, seed: int, device: Any) -> list:
    """The count sketch's random draws for the ``n`` values of a tensor, chunk by chunk (the same at every
    snapshot): a value's bucket is ``draw % SKETCH_SIZE``, its sign the draw's top bit."""
    import torch

    g = torch.Generator(device=device).manual_seed(seed)
    return [torch.randint(2 * SKETCH_SIZE, (min(CHUNK, n - start),), generator=g, device=device)
            for start in range(0, n, CHUNK)]


def _sketch(flat, seed: int):
    """A count sketch (float64 tensor) of the 1-D tensor ``flat``; the tensor itself when it is small."""
    import torch

    if flat.numel() <= SKETCH_SIZE:
        return flat.to(torch.float64)
    out = torch.zeros(SKETCH_SIZE, dtype=torch.float64, device=flat.device)
    for start, draw in zip(range(0, flat.numel(), CHUNK), _draws(flat.numel(), seed, flat.device), strict=True):
        part = flat[start:start + CHUNK].to(torch.float64)
        out.index_add_(0, draw.remainder(SKETCH_SIZE), torch.where(draw < SKETCH_SIZE, part, -part))
    return out


def _bin_index(flat, low, scale, top, edges, first, last):
    """Per value, the index in ``edges`` of its bin's left edge, as ``numpy.histogram`` bins it (every value
    lies within its edges). ``low`` (first edge), ``scale`` (bins / span), ``top`` (bins - 1), ``first`` (index
    of the first edge in ``edges``) and ``last`` (of the last bin's left edge) are numbers, or tensors with one
    entry per value when several tensors are binned together.

    The bin is found as numpy finds it for uniform bins: by arithmetic, then corrected by one where rounding
    put it on the wrong side of an edge (an exact comparison with the edges themselves). Clamping before the
    integer conversion floors (the values are >= 0) and ``index_select`` reads the edges: both stay on one
    thread for small tensors, where ``floor`` and advanced indexing wake the thread pool training keeps busy.
    """
    index = (flat - low).mul_(scale).clamp_min_(0).clamp_max_(top).long()
    index += first
    index -= (flat < edges.index_select(0, index)).long()
    index += ((flat >= edges.index_select(0, index + 1)) & (index < last)).long()
    return index


class _Batch:
    """Small tensors of one dtype and device recorded together: their values side by side in one vector, the
    tensor of each value, where each value goes in the count sketches, and (rebuilt when a grid changes) each
    value's bin arithmetic. Built once for a set of tensors: a snapshot then costs a few dozen torch
    operations, whatever the number of tensors."""

    def __init__(self, seeds: list[int], sizes: list[int], sketch_at: list[int], device: Any):
        import torch

        self.key: list | None = None
        self.lengths = torch.tensor(sizes, device=device)
        self.seg = torch.repeat_interleave(torch.arange(len(sizes), device=device), self.lengths)
        dest, sign, local = [], [], 0
        for seed, n in zip(seeds, sizes, strict=True):
            if n <= SKETCH_SIZE:  # the tensor itself
                dest.append(torch.arange(local, local + n, device=device))
                sign.append(torch.ones(n, dtype=torch.float64, device=device))
            else:  # the same buckets and signs as _sketch
                (draw,) = _draws(n, seed, device)
                dest.append(draw.remainder(SKETCH_SIZE) + local)
                sign.append(torch.where(draw < SKETCH_SIZE, 1.0, -1.0).to(torch.float64))
            local += min(n, SKETCH_SIZE)
        self.dest, self.sign, self.sketch_size = torch.cat(dest), torch.cat(sign), local
        self.sketch_at = torch.cat([torch.arange(at, at + min(n, SKETCH_SIZE))
                                    for at, n in zip(sketch_at, sizes, strict=True)])

    def layout(self, tracks: list[ParameterTrack], dtype: Any) -> None:
        """Each value's bin arithmetic on its tensor's current grid (redone only when a grid changed)."""
        import torch

        key = [(t.grid.origin, t.grid.width, t.grid.start, t.grid.stop) for t in tracks]
        if key == self.key:
            return
        self.key = key
        device = self.seg.device
        edges = [t.edges() for t in tracks]
        bins = np.array([len(e) - 1 for e in edges])
        first = np.concatenate([[0], np.cumsum(bins + 1)[:-1]])

        def per_value(values, kind):
            return torch.tensor(values, dtype=kind, device=device).repeat_interleave(self.lengths)

        self.edges = torch.from_numpy(np.concatenate(edges)).to(device)
        self.low = per_value([float(e[0]) for e in edges], dtype)
        # as _count_one computes them: the span in the weights' dtype, then bins / span
        self.scale = per_value([int(b) / float(e[-1] - e[0]) for b, e in zip(bins, edges, strict=True)], dtype)
        self.top = per_value((bins - 1).astype(float).tolist(), dtype)
        self.first = per_value(first.tolist(), torch.int64)
        self.last = per_value((first + bins - 1).tolist(), torch.int64)
        self.rows = np.cumsum(bins)[:-1]  # where each tensor's counts start (the first's at 0 left out)
        self.bins = int(bins.sum())


def _count_one(flat, edges_np: np.ndarray) -> np.ndarray:
    """``numpy.histogram(flat, edges)[0]`` computed in torch, chunk by chunk (every value lies within the edges)."""
    import torch

    bins = len(edges_np) - 1
    edges = torch.from_numpy(edges_np).to(flat.device)
    scale = bins / float(edges_np[-1] - edges_np[0])
    total = torch.zeros(bins, dtype=torch.int64, device=flat.device)
    for start in range(0, flat.numel(), CHUNK):
        index = _bin_index(flat[start:start + CHUNK], edges[0], scale, bins - 1, edges, 0, bins - 1)
        total += torch.bincount(index, minlength=bins)
    return total.cpu().numpy()


def _relative(delta_squared: float, norm_a: float, norm_b: float) -> float:
    """``|A - B| / max(|A|, |B|)`` from the squared norm of the difference of sketches (0 when both are zero)."""
    if not delta_squared:
        return 0.0
    scale = max(norm_a, norm_b)
    return math.sqrt(delta_squared) / scale if scale > 0 else float("inf")


class ParameterTracks:
    """Histograms and statistics of named tensors, snapshot after snapshot (see the module docstring).

    ``bins`` is the number of bins of each tensor's first snapshot. Small tensors (up to ``BATCH_TENSOR``
    values) of one dtype and device are recorded together, in one batch of torch operations: a network's
    many biases and norms cost little more than one tensor.
    """

    #: tensors of at most this many values are recorded together
    BATCH_TENSOR = 1 << 16
    #: values in one batch at most
    BATCH_VALUES = 1 << 20

    def __init__(self, bins: int = 64):
        self.bins = int(bins)
        self.tracks: dict[str, ParameterTrack] = {}
        self.n_snapshots = 0
        self._batches: dict[tuple[int, ...], _Batch] = {}
        self._sketch_at: list[int] = []  # where each tensor's count sketch starts in the vector of all sketches
        self._sketch_of = None  # the tensor of each entry of that vector
        self._first = self._last = None  # the first valid and the last sketch of every tensor
        self._first_ok: list[bool] = []
        self._last_ok: list[bool] = []

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
            flats = [self._flat(name, tensor) for name, tensor in named]
            if not self.n_snapshots:
                sizes = [min(f.numel(), SKETCH_SIZE) for f in flats]
                self._sketch_at = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
                self._sketch_of = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
                self._first_ok = [False] * len(flats)
                self._last_ok = [False] * len(flats)
            sketch = torch.zeros(self._sketch_of.numel(), dtype=torch.float64)
            valid = [False] * len(flats)  # whose sketch was taken (no NaN or infinite values)
            rows: list = [None] * len(flats)
            for group in self._groups(flats):
                self._record(group, named, flats, sketch, valid, rows)
            self.tracks = {name: self.tracks[name] for name, _ in named}  # in the order given (groups are not)
            self._finish(named, sketch, valid, rows)
        self.n_snapshots += 1

    # -- one snapshot, in steps ------------------------------------------------------------------------
    def _flat(self, name: str, tensor: Any):
        """The values of ``tensor`` as a 1-D float32 or float64 tensor (checked against its track)."""
        import torch

        t = tensor.detach()
        if not t.is_floating_point():
            raise ValueError(f"{name} is not a floating-point tensor (dtype {t.dtype})")
        if t.dtype not in (torch.float32, torch.float64):  # half, bfloat16: histogram them in float32
            t = t.float()
        if t.numel() == 0:
            raise ValueError(f"{name} is an empty tensor")
        track = self.tracks.get(name)
        if track is None and self.n_snapshots:
            raise ValueError(f"{name} was not in the first snapshot")
        if track is not None and tuple(tensor.shape) != track.shape:
            raise ValueError(f"{name} changed shape from {track.shape} to {tuple(tensor.shape)}")
        return t.reshape(-1)

    def _groups(self, flats: list) -> list[list[int]]:
        """Indices of the tensors recorded together: small ones by dtype and device, each large one alone."""
        groups: dict[tuple, list[list[int]]] = {}
        alone = []
        for i, flat in enumerate(flats):
            if flat.numel() > self.BATCH_TENSOR:
                alone.append([i])
                continue
            batches = groups.setdefault((flat.dtype, str(flat.device)), [[]])
            if batches[-1] and sum(flats[j].numel() for j in batches[-1]) + flat.numel() > self.BATCH_VALUES:
                batches.append([])
            batches[-1].append(i)
        return [b for batches in groups.values() for b in batches] + alone

    def _track(self, index: int, name: str, tensor: Any, lo: float, hi: float, dtype: Any) -> ParameterTrack:
        """The track of ``name`` (made at the first snapshot), its grid grown to cover ``[lo, hi]``."""
        track = self.tracks.get(name)
        if track is None:
            grid = BinGrid.around(lo, hi, self.bins, dtype)
            track = ParameterTrack(name, tuple(tensor.shape), dtype, grid, MAX_BINS_FACTOR * self.bins,
                                   seed=1000 + index, _counts=np.zeros((4, grid.bins), np.int64))
            self.tracks[name] = track
        track.cover(lo, hi)
        return track

    def _record(self, group: list[int], named: list, flats: list, sketch, valid: list, rows: list) -> None:
        """Histograms, statistics and count sketches of the tensors ``group`` (indices), together."""
        import torch

        one = len(group) == 1
        flat = flats[group[0]] if one else torch.cat([flats[i] for i in group])
        wide = flat.to(torch.float64)  # sums in float64: exact enough for any mean/spread ratio
        if one:
            lo, hi = torch.aminmax(flat)
            summary = torch.stack([lo.double(), hi.double(), wide.sum(), torch.dot(wide, wide)])[:, None]
        else:
            key = tuple(group)
            if key not in self._batches:
                self._batches[key] = _Batch([1000 + i for i in group], [flats[i].numel() for i in group],
                                            [self._sketch_at[i] for i in group], flat.device)
            batch = self._batches[key]
            k, seg = len(group), batch.seg
            summary = torch.stack([
                flat.new_zeros(k).scatter_reduce_(0, seg, flat, "amin", include_self=False).double(),
                flat.new_zeros(k).scatter_reduce_(0, seg, flat, "amax", include_self=False).double(),
                wide.new_zeros(k).index_add_(0, seg, wide), wide.new_zeros(k).index_add_(0, seg, wide * wide)])
        summary = summary.cpu().tolist()
        bad = [j for j in range(len(group)) if not all(math.isfinite(s[j]) for s in summary)]
        if bad and not one:  # NaN or infinite values: those tensors one by one, the others together
            rest = [i for j, i in enumerate(group) if j not in bad]
            for part in [[group[j]] for j in bad] + ([rest] if rest else []):
                self._record(part, named, flats, sketch, valid, rows)
            return
        nonfinite = 0
        if bad:  # histogram and statistics of the finite values
            finite = torch.isfinite(flat)
            nonfinite = int((~finite).sum())
            flat = flat[finite]
            wide = flat.to(torch.float64)
            summary = [[0.0], [0.0], [math.nan], [math.nan]]
            if flat.numel():
                lo, hi = torch.aminmax(flat)
                summary = [[float(lo)], [float(hi)], [float(wide.sum())], [float(torch.dot(wide, wide))]]
        dtype = np.float64 if flat.dtype == torch.float64 else np.float32
        tracks = [self._track(i, named[i][0], named[i][1], summary[0][j], summary[1][j], dtype)
                  for j, i in enumerate(group)]
        if one:
            counts = [_count_one(flat, tracks[0].edges()) if flat.numel() else np.zeros(tracks[0].grid.bins, np.int64)]
        else:
            batch.layout(tracks, flat.dtype)
            index = _bin_index(flat, batch.low, batch.scale, batch.top, batch.edges, batch.first, batch.last)
            index -= batch.seg  # edge index less the tensor's number: the bin's index among all the tensors' bins
            counts = np.split(torch.bincount(index, minlength=batch.bins).cpu().numpy(), batch.rows)
        for j, i in enumerate(group):
            n = flats[i].numel() - nonfinite
            lo, hi, total, square = (s[j] for s in summary)
            mean = total / n if n else math.nan
            std = math.sqrt(max(square / n - mean * mean, 0.0)) if n else math.nan
            rows[i] = (tracks[j], counts[j], [mean, std, lo, hi, math.sqrt(square) if n else math.nan,
                                              float(nonfinite)])
        if nonfinite:
            return
        if one:
            at = self._sketch_at[group[0]]
            part = _sketch(flat, tracks[0].seed)
            sketch[at:at + part.numel()] = part.cpu()
        else:
            local = torch.zeros(batch.sketch_size, dtype=torch.float64, device=flat.device)
            local.index_add_(0, batch.dest, wide * batch.sign)
            sketch.index_copy_(0, batch.sketch_at, local.cpu())
        for i in group:
            valid[i] = True

    def _finish(self, named: list, sketch, valid: list[bool], rows: list) -> None:
        """Gradient norms and changes of every tensor; one row appended to each track."""
        import torch

        grads = [(i, t.grad) for i, (_, t) in enumerate(named) if getattr(t, "grad", None) is not None]
        grad_norms = [math.nan] * len(named)
        if grads:
            norms = torch._foreach_norm([g.detach().float() for _, g in grads])
            for (i, _), norm in zip(grads, [float(n) for n in norms], strict=True):
                grad_norms[i] = norm
        if self._last is None:  # the first snapshot
            self._first, self._last = sketch.clone(), sketch
            changes = [(math.nan, 0.0)] * len(named)
        else:
            k = len(named)
            zeros = torch.zeros(k, dtype=torch.float64)
            last = zeros.clone().index_add_(0, self._sketch_of, (sketch - self._last).square_())
            first = zeros.index_add_(0, self._sketch_of, (sketch - self._first).square_())
            changes = []
            for i, (d_last, d_first) in enumerate(zip(last.tolist(), first.tolist(), strict=True)):
                norms = rows[i][0].stat("norm")
                norm = rows[i][2][4]
                changes.append((_relative(d_last, norm, float(norms[-1])) if valid[i] and self._last_ok[i] else math.nan,
                                _relative(d_first, norm, float(norms[0])) if valid[i] and self._first_ok[i] else math.nan))
            self._last = sketch
        for i, (track, counts, stats) in enumerate(rows):
            if valid[i] and not self._first_ok[i]:
                at = self._sketch_at[i]
                size = min(math.prod(track.shape), SKETCH_SIZE)
                self._first[at:at + size] = sketch[at:at + size]
                self._first_ok[i] = True
            mean, std, lo, hi, norm, nonfinite = stats
            track.append(counts, [mean, std, lo, hi, norm, grad_norms[i], *changes[i], nonfinite])
        self._last_ok = list(valid)


__all__ = ["CHUNK", "MAX_BINS_FACTOR", "SKETCH_SIZE", "STATS", "BinGrid", "ParameterTrack", "ParameterTracks"]
