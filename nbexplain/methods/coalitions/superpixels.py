"""The perturbation engine every superpixel method shares: coalitions -> images -> model outputs, cached.

A coalition (M booleans, True = superpixel kept) becomes an image in which the removed superpixels show a
fill (their own mean colour, grey, black, a blur, a user image, or one of several backgrounds). A batch of
N coalitions is rendered by one vectorised gather, ``where(keep[:, labels], image, fill)``, never a loop
over samples and superpixels (the loop in which ``lime`` and Alibi spend their time), and only one model
batch at a time: the model adapter pulls rows from a lazy batch, at the batch size it measured fastest
within its memory budget, reporting progress (which may cancel). Outputs are cached per coalition, so
LIME, Shapley values, anchors, curves and the explorer's toggles reuse each other's evaluations.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ...adapters.model import Model, as_model
from ...adapters.outputs import resolve_target
from ...errors import InputError
from ...inputs.images import ImageInput, as_image
from ...inputs.segmentation import Segmentation, segment
from ..pixel.baselines import NAMED, make_baseline
from .masks import check_coalitions, pack_keys

FILLS = ("mean", "grey", "black", "white", "blur")
OUTPUTS = ("probability", "score")
DEFAULT_CACHE_BYTES = 256 << 20


def superpixel_means(image: ImageInput, labels: np.ndarray) -> np.ndarray:
    """(C, H, W) image whose every pixel shows its superpixel's mean colour (LIME's ``hide_color=None``)."""
    x = image.tensor
    lab = labels.ravel()
    m = int(labels.max()) + 1
    counts = np.maximum(np.bincount(lab, minlength=m), 1)
    means = np.stack([np.bincount(lab, x[c].ravel().astype(np.float64), m) / counts for c in range(x.shape[0])])
    return means[:, labels].astype(np.float32)


def make_fill(image: ImageInput, labels: np.ndarray, fill: Any, name: str = "fill") -> np.ndarray:
    """The (C, H, W) float32 picture removed superpixels show.

    ``fill`` is "mean" (each superpixel's own mean colour, as LIME), "grey", "black", "white", "blur"
    (see :func:`~nbexplain.methods.baselines.make_baseline`), a number, or an image of the same size: a
    uint8 (H, W, 3) picture is mapped onto the image's value range, a float one is used as is.
    """
    if isinstance(fill, str):
        if fill == "mean":
            return superpixel_means(image, labels)
        if fill in NAMED or fill == "gray":
            return make_baseline(image, fill, name)
        raise InputError(f"{name}={fill!r} is not valid: expected one of {FILLS}, a number or an image")
    if np.isscalar(fill):
        return make_baseline(image, fill, name)
    arr = np.asarray(fill) if not hasattr(fill, "convert") else fill
    other = as_image(arr, name)
    if other.shape != image.shape or other.tensor.shape[0] != image.tensor.shape[0]:
        raise InputError(f"{name} must be an image of the same size as the image, {image.tensor.shape} "
                         f"(C, H, W); got {other.tensor.shape}")
    if np.asarray(arr).dtype == np.uint8:
        lo, hi = image.value_range
        return (lo + other.tensor * (hi - lo)).astype(np.float32)
    return other.tensor.astype(np.float32)


class SuperpixelGame:
    """Superpixels as players: a coalition of kept superpixels -> the model's output on that image.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
        The classifier (anything :func:`nbexplain.as_model` accepts).
    image : array or PIL image
        The image to explain.
    segmentation : str, Segmentation, array or callable
        A method of :func:`nbexplain.segment` (with ``**segment_params``), a :class:`Segmentation`, an
        (H, W) label array, or a callable.
    fill : str, number or image
        What a removed superpixel shows (see :func:`make_fill`); "mean" is its own mean colour.
    target : int, str or None
        The class whose output is the game's value; None is the class predicted for the whole image.
    output : {"probability", "score"}
        Value = the target's probability, or the model's own output (logit or score).
    cache_bytes : int
        Memory for cached outputs (oldest entries are dropped beyond it).

    Examples
    --------
    >>> game = nbx.SuperpixelGame(model, image, "slic", n_segments=20)
    >>> game.value(np.ones((1, game.n_players), bool))  # the target's probability for the whole image
    """

    def __init__(self, model: Any, image: Any, segmentation: Any = "slic", *, fill: Any = "mean",
                 target: Any = None, output: str = "probability", class_names=None,
                 cache_bytes: int = DEFAULT_CACHE_BYTES, **segment_params: Any):
        if output not in OUTPUTS:
            raise InputError(f"output={output!r} is not valid: expected one of {OUTPUTS}")
        self.model: Model = as_model(model, class_names=class_names)
        self.image: ImageInput = as_image(image)
        self.segmentation: Segmentation = segment(self.image, segmentation, **segment_params)
        self.labels = self.segmentation.labels
        self.n_players = self.segmentation.n_segments
        self.output = output
        self.fill_spec = fill if isinstance(fill, str) else "image"
        self.fills: list[np.ndarray] = [make_fill(self.image, self.labels, fill)]
        self._fill_ids: dict[str, int] = {}
        self._fill_bits: list[tuple[np.ndarray, np.ndarray]] = []
        self.cache_bytes = int(cache_bytes)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.n_evaluations = 0  # model forward passes (images) run
        self.n_cache_hits = 0
        self.full_outputs = self.model.predict(self.image.tensor[None])[0]
        self._store([self._key_bytes(np.ones((1, self.n_players), bool), np.zeros(1, np.int64))[0]], self.full_outputs[None])
        self.probabilities = self.model.to_probabilities(self.full_outputs[None])[0]
        self.target = resolve_target(target, self.probabilities, self.model.class_names)

    # -- description ---------------------------------------------------------------------------------
    @property
    def target_name(self) -> str:
        return self.model.class_name(self.target)

    @property
    def predicted(self) -> int:
        """The class predicted for the whole image."""
        return int(np.argmax(self.probabilities))

    def __repr__(self) -> str:
        return (f"SuperpixelGame({self.n_players} superpixels by {self.segmentation.method}, fill={self.fill_spec!r}, "
                f"target={self.target} {self.target_name!r}, output={self.output!r})")

    def view(self, target: Any = None, output: str | None = None) -> SuperpixelGame:
        """The same game (sharing its cache and fills) valued by another class or output."""
        import copy

        if target is None and (output is None or output == self.output):
            return self
        if output is not None and output not in OUTPUTS:
            raise InputError(f"output={output!r} is not valid: expected one of {OUTPUTS}")
        other = copy.copy(self)
        if target is not None:
            other.target = resolve_target(target, self.probabilities, self.model.class_names)
        if output is not None:
            other.output = output
        return other

    def add_fill(self, fill: Any, name: str = "fill") -> int:
        """Add another fill (e.g. a background image); returns its index for ``fill_index``.

        The same picture always gets the same index (the list is shared by :meth:`with_target` copies),
        so cached outputs stay valid.
        """
        import hashlib

        array = make_fill(self.image, self.labels, fill, name)
        digest = hashlib.sha1(array.tobytes()).hexdigest()
        if digest not in self._fill_ids:
            self.fills.append(array)
            self._fill_ids[digest] = len(self.fills) - 1
        return self._fill_ids[digest]

    # -- rendering -----------------------------------------------------------------------------------
    def check(self, coalitions: Any, name: str = "coalitions") -> np.ndarray:
        """``coalitions`` as (N, M) bool for this game's M superpixels."""
        return check_coalitions(coalitions, name, self.n_players)

    def _fill_index(self, fill_index: Any, n: int) -> np.ndarray:
        if fill_index is None:
            return np.zeros(n, dtype=np.int64)
        fi = np.broadcast_to(np.asarray(fill_index, dtype=np.int64), (n,))
        if fi.size and (fi.min() < 0 or fi.max() >= len(self.fills)):
            raise InputError(f"fill_index must be in 0..{len(self.fills) - 1}; got values up to {fi.max()}")
        return fi

    def render(self, coalitions: Any, fill_index: Any = None) -> np.ndarray:
        """The (N, C, H, W) float32 images of N coalitions: one vectorised gather, no per-sample loop.

        Each pixel looks its superpixel up in the coalition (``keep = z[:, labels]``), then picks the
        image or the fill with bit operations on the float32 words (``fill ^ (mask & (image ^ fill))``):
        exactly ``where(keep, image, fill)``, about 3x faster, since this runs once per model batch.
        """
        z = self.check(coalitions)
        fi = self._fill_index(fill_index, len(z))
        keep = z[:, self.labels]  # (N, H, W)
        mask = np.negative(keep.view(np.uint8).astype(np.int32)).view(np.uint32)  # all ones where kept
        diff, fill = self._bits(fi)
        out = np.bitwise_and(mask[:, None], diff)
        np.bitwise_xor(out, fill, out=out)
        return out.view(np.float32)

    def _bits(self, fi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image ^ fill, fill) as uint32 words, broadcastable to (N, C, H, W), for fill indices ``fi``."""
        if len(self._fill_bits) != len(self.fills):
            x = np.ascontiguousarray(self.image.tensor, dtype=np.float32).view(np.uint32)
            self._fill_bits = [(x ^ f.view(np.uint32), f.view(np.uint32))
                               for f in (np.ascontiguousarray(f, dtype=np.float32) for f in self.fills)]
        if len(fi) == 0 or np.all(fi == fi[0]):
            diff, fill = self._fill_bits[int(fi[0]) if len(fi) else 0]
            return diff[None], fill[None]
        diffs = np.stack([d for d, _ in self._fill_bits])
        fills = np.stack([f for _, f in self._fill_bits])
        return diffs[fi], fills[fi]

    # -- evaluation ------------------------------------------------------------------------------------
    def _key_bytes(self, z: np.ndarray, fi: np.ndarray) -> list[bytes]:
        keys = pack_keys(z)
        if not np.any(fi):
            return keys
        return [k if f == 0 else k + int(f).to_bytes(4, "little") for k, f in zip(keys, fi, strict=True)]

    def _store(self, keys: list[bytes], outputs: np.ndarray) -> None:
        limit = max(1, self.cache_bytes // max(1, outputs.shape[1] * 8))
        for key, row in zip(keys, outputs, strict=True):
            self._cache[key] = row
            self._cache.move_to_end(key)
        while len(self._cache) > limit:
            self._cache.popitem(last=False)

    def cached(self, coalitions: Any, fill_index: Any = None) -> np.ndarray | None:
        """Model outputs of coalitions that are all in the cache (no model call), else None."""
        z = self.check(coalitions)
        rows = [self._cache.get(k) for k in self._key_bytes(z, self._fill_index(fill_index, len(z)))]
        return None if any(r is None for r in rows) else np.stack(rows)

    def outputs(self, coalitions: Any, fill_index: Any = None,
                progress: Callable[[float], None] | None = None) -> np.ndarray:
        """The model's own outputs (N, n_outputs) for coalitions; each distinct coalition is run once, ever."""
        z = self.check(coalitions)
        fi = self._fill_index(fill_index, len(z))
        keys = self._key_bytes(z, fi)
        missing: dict[bytes, int] = {}
        known: dict[bytes, np.ndarray] = {}  # held here: storing new rows may evict cached ones
        for i, key in enumerate(keys):
            if key in known or key in missing:
                continue
            row = self._cache.get(key)
            if row is None:
                missing[key] = i
            else:
                known[key] = row
        self.n_cache_hits += len(keys) - len(missing)
        fresh: dict[bytes, np.ndarray] = {}
        if missing:
            rows = np.fromiter(missing.values(), dtype=np.int64, count=len(missing))
            new = self.model.predict(_Perturbed(self, z[rows], fi[rows]), progress=progress)
            self.n_evaluations += len(rows)
            fresh = dict(zip(missing, new, strict=True))
            self._store(list(missing), new)
        elif progress is not None:
            progress(1.0)
        known.update(fresh)
        return np.stack([known[k] for k in keys])

    def scores(self, coalitions: Any, fill_index: Any = None,
               progress: Callable[[float], None] | None = None) -> np.ndarray:
        """(N, n_classes): probabilities (``output="probability"``) or class scores (``"score"``)."""
        return self.to_scores(self.outputs(coalitions, fill_index, progress))

    def to_scores(self, outputs: np.ndarray) -> np.ndarray:
        if self.output == "probability":
            return self.model.to_probabilities(outputs)
        return np.concatenate([-outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs

    def value(self, coalitions: Any, fill_index: Any = None,
              progress: Callable[[float], None] | None = None) -> np.ndarray:
        """(N,) the target's value for each coalition."""
        return self.scores(coalitions, fill_index, progress)[:, self.target]

    def value_fn(self, progress: Callable[[float], None] | None = None) -> Callable[[np.ndarray], np.ndarray]:
        """The game as a value function ``(N, M) bool -> (N, 1)`` for :mod:`nbexplain.methods.shapley`."""
        return lambda z: self.value(z, progress=progress)[:, None]

    def clear_cache(self) -> None:
        self._cache.clear()


class _Perturbed:
    """A lazy (N, C, H, W) batch: rows are rendered only when the model adapter asks for them."""

    def __init__(self, game: SuperpixelGame, z: np.ndarray, fi: np.ndarray):
        self.game, self.z, self.fi = game, z, fi
        self.shape = (len(z), *game.image.tensor.shape)
        self.dtype = game.image.tensor.dtype
        self.ndim = 4

    def __len__(self) -> int:
        return len(self.z)

    def __getitem__(self, span: slice) -> np.ndarray:
        return self.game.render(self.z[span], self.fi[span])


def game_for(model: Any, image: Any, segmentation: Any, fill: Any, target: Any, output: str | None,
             segment_params: dict, *, class_names=None) -> SuperpixelGame:
    """``model`` itself when it is a :class:`SuperpixelGame` (sharing its cache; ``target`` and ``output``
    may differ), else a new game (``segmentation`` None means "slic", ``fill`` None "mean")."""
    if isinstance(model, SuperpixelGame):
        if image is not None or segment_params or segmentation is not None or fill is not None:
            raise InputError("pass either a SuperpixelGame (which has its image, segmentation and fill), or a "
                             "model with an image and segmentation options, not both")
        return model.view(target=target, output=output)
    if image is None:
        raise InputError("image is required (or pass a SuperpixelGame as the model)")
    return SuperpixelGame(model, image, "slic" if segmentation is None else segmentation,
                          fill="mean" if fill is None else fill, target=target,
                          output="probability" if output is None else output, class_names=class_names,
                          **segment_params)


def check_seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))):
        raise InputError(f"seed must be an int or None; got {seed!r}")
    return seed


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


__all__ = ["FILLS", "OUTPUTS", "SuperpixelGame", "game_for", "make_fill", "superpixel_means"]
