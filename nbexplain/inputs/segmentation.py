"""Superpixels: ``nbx.segment(image, method=...)`` splits an image into M regions labelled 0..M-1.

Methods: scikit-image's SLIC (Achanta et al. 2012), Felzenszwalb-Huttenlocher graph segmentation (2004)
and quickshift (Vedaldi & Soatto 2008; LIME's default), a regular grid, or the user's own label array or
callable. Every result is relabelled to contiguous int32 labels 0..M-1, so superpixel ``i`` is player
``i`` of the coalition games in :mod:`nbexplain.methods.coalitions.superpixels`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._registry import widget_for
from .._validation import check_int, check_positive
from ..errors import InputError
from ..plotting.figure import ShownAsPNG
from .images import as_image


@dataclass(frozen=True)
class MethodSpec:
    """A segmentation method: its defaults, and the main parameter a slider changes (with its range)."""

    name: str
    defaults: dict
    main: str
    low: float
    high: float
    step: float
    label: str


SEGMENTATION_METHODS: dict[str, MethodSpec] = {
    "slic": MethodSpec("slic", {"n_segments": 50, "compactness": 10.0, "sigma": 1.0}, "n_segments", 2, 300, 1,
                       "SLIC (approximate number of superpixels)"),
    "felzenszwalb": MethodSpec("felzenszwalb", {"scale": 100.0, "sigma": 0.5, "min_size": 50}, "scale",
                               10, 2000, 10, "Felzenszwalb (scale: larger = fewer superpixels)"),
    "quickshift": MethodSpec("quickshift", {"kernel_size": 4.0, "max_dist": 200.0, "ratio": 0.2}, "kernel_size",
                             1, 20, 0.5, "quickshift (kernel size: larger = fewer superpixels)"),
    "grid": MethodSpec("grid", {"n_segments": 49}, "n_segments", 1, 400, 1, "regular grid (number of cells)"),
}


@dataclass
class Segmentation(ShownAsPNG):
    """An image split into M superpixels.

    Attributes
    ----------
    labels : (H, W) int32 - superpixel of each pixel, contiguous 0..M-1.
    image : (H, W, 3) uint8 - the image as displayed.
    method : str - "slic", "felzenszwalb", "quickshift", "grid" or "custom".
    params : dict - the parameters used (defaults filled in).
    """

    labels: np.ndarray
    image: np.ndarray
    method: str = "custom"
    params: dict = field(default_factory=dict)

    @property
    def n_segments(self) -> int:
        """M, the number of superpixels."""
        return int(self.labels.max()) + 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    def sizes(self) -> np.ndarray:
        """Pixels per superpixel, (M,)."""
        return np.bincount(self.labels.ravel(), minlength=self.n_segments)

    def centroids(self) -> np.ndarray:
        """(M, 2) mean (row, column) of each superpixel's pixels."""
        rows, cols = np.indices(self.labels.shape)
        n = np.maximum(self.sizes(), 1)
        lab = self.labels.ravel()
        return np.stack([np.bincount(lab, rows.ravel(), self.n_segments) / n,
                         np.bincount(lab, cols.ravel(), self.n_segments) / n], axis=1)

    def boundaries(self) -> np.ndarray:
        """(H, W) bool: pixels whose right or lower neighbour lies in another superpixel."""
        lab = self.labels
        edge = np.zeros(lab.shape, dtype=bool)
        edge[:, :-1] |= lab[:, :-1] != lab[:, 1:]
        edge[:-1, :] |= lab[:-1, :] != lab[1:, :]
        return edge

    def paint(self, values) -> np.ndarray:
        """(H, W) float map giving every pixel its superpixel's value (``values`` has length M)."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (self.n_segments,):
            raise InputError(f"values must have one value per superpixel, shape ({self.n_segments},); got {v.shape}")
        return v[self.labels]

    def plot(self, ax=None, *, values=None, numbers: bool = False, cmap: str = "RdBu_r", alpha: float = 0.6):
        """The image with superpixel boundaries (and ``values`` per superpixel on a diverging scale); returns the Axes."""
        from ..plotting.superpixels import draw_segmentation

        return draw_segmentation(self, ax=ax, values=values, numbers=numbers, cmap=cmap, alpha=alpha)

    def widget(self, model: Any, **options: Any):
        """A :class:`~nbexplain.SuperpixelExplorer` of ``model`` on this segmentation (``options`` go to it)."""
        return widget_for(self, model=model, **options)


def relabel(labels: np.ndarray) -> np.ndarray:
    """Labels mapped onto contiguous 0..M-1 (in increasing order of the original labels), int32."""
    _, inverse = np.unique(labels, return_inverse=True)
    return inverse.reshape(labels.shape).astype(np.int32)


def _grid(h: int, w: int, n_segments: int = 49, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    if rows is None or cols is None:
        rows = max(1, min(h, int(round(np.sqrt(n_segments * h / w)))))
        cols = max(1, min(w, int(round(n_segments / rows))))
    r = (np.arange(h) * rows) // h
    c = (np.arange(w) * cols) // w
    return (r[:, None] * cols + c[None, :]).astype(np.int32)


def _check_params(method: str, params: dict, accepted: set) -> None:
    unknown = set(params) - accepted
    if unknown:
        raise InputError(f"segmentation method {method!r} does not take {sorted(unknown)}; it takes {sorted(accepted)}")


def _check_method(method: str) -> MethodSpec:
    if method not in SEGMENTATION_METHODS:
        raise InputError(f"method={method!r} is not valid: expected one of {list(SEGMENTATION_METHODS)}, "
                         "an (H, W) label array or a callable")
    return SEGMENTATION_METHODS[method]


def segment_parameters(method: str | None = None) -> set[str]:
    """The parameters :func:`segment` takes for ``method`` (every method's with None): the defaults of
    :data:`SEGMENTATION_METHODS` and the options of the scikit-image function behind it."""
    if method is None:
        return set().union(*(segment_parameters(m) for m in SEGMENTATION_METHODS))
    spec = _check_method(method)
    if method == "grid":
        return {"n_segments", "rows", "cols"}
    try:
        import skimage.segmentation as sks
    except ImportError:  # pragma: no cover - scikit-image is in the imagenet/notebooks extras
        return set(spec.defaults)
    hidden = {"image", "channel_axis", "mask", "return_tree", "start_label"}
    return set(inspect.signature(getattr(sks, method)).parameters) - hidden


def segment(image: Any, method: str | np.ndarray | Callable = "slic", **params: Any) -> Segmentation:
    """Split ``image`` into superpixels.

    Parameters
    ----------
    image : array or PIL image
        Anything :func:`nbexplain.as_image` accepts.
    method : str, array or callable
        "slic" (``n_segments``=50, ``compactness``=10, ``sigma``=1), "felzenszwalb" (``scale``=100,
        ``sigma``=0.5, ``min_size``=50), "quickshift" (``kernel_size``=4, ``max_dist``=200, ``ratio``=0.2,
        as LIME), "grid" (``n_segments``=49, or ``rows`` and ``cols``); an (H, W) integer label array; or a
        callable taking the (H, W, 3) uint8 image (and ``params``) and returning such an array.
    **params
        Parameters of the method (scikit-image's names; other scikit-image options pass through).

    Returns
    -------
    Segmentation
        Contiguous int32 labels 0..M-1.

    Examples
    --------
    >>> seg = nbx.segment(image, "slic", n_segments=50)
    >>> seg.labels.shape, seg.n_segments
    ((224, 224), 48)
    """
    img = as_image(image)
    h, w = img.shape
    display = img.display
    if isinstance(method, Segmentation):
        if params:
            raise InputError("a Segmentation takes no parameters")
        if method.labels.shape != (h, w):
            raise InputError(f"segmentation has shape {method.labels.shape} but the image is {(h, w)}")
        return method
    if callable(method) and not isinstance(method, str):
        try:
            labels = method(display, **params)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"the segmentation callable raised {type(exc).__name__}: {exc}") from exc
        return Segmentation(_check_labels(labels, (h, w), "the segmentation callable's result"), display,
                            "custom", dict(params))
    if not isinstance(method, str):
        if params:
            raise InputError("a label array takes no parameters")
        return Segmentation(_check_labels(method, (h, w), "segmentation"), display, "custom", {})
    spec = _check_method(method)
    _check_params(method, params, segment_parameters(method))
    full = {**spec.defaults, **params}
    if method == "grid":
        n = check_int(full["n_segments"], "n_segments", minimum=1)
        rows, cols = full.get("rows"), full.get("cols")
        if (rows is None) != (cols is None):
            raise InputError("rows and cols must be given together")
        if rows is not None:
            rows = check_int(rows, "rows", minimum=1)
            cols = check_int(cols, "cols", minimum=1)
            if rows > h or cols > w:
                raise InputError(f"rows={rows}, cols={cols} do not fit an image of {h}x{w} pixels")
        labels = _grid(h, w, n, rows, cols)
        return Segmentation(relabel(labels), display, method, full)
    try:
        import skimage.segmentation as sks
    except ImportError as exc:  # pragma: no cover - scikit-image is in the imagenet/notebooks extras
        raise InputError(f"method={method!r} needs scikit-image (pip install scikit-image); "
                         "method='grid' or a label array work without it") from exc
    fn = getattr(sks, method)
    if method == "slic":
        full["n_segments"] = check_int(full["n_segments"], "n_segments", minimum=1)
        full["compactness"] = check_positive(full["compactness"], "compactness")
        labels = fn(display, start_label=0, channel_axis=-1, **full)
    elif method == "felzenszwalb":
        full["scale"] = check_positive(full["scale"], "scale")
        full["min_size"] = check_int(full["min_size"], "min_size", minimum=1)
        labels = fn(display, channel_axis=-1, **full)
    else:
        full["kernel_size"] = check_positive(full["kernel_size"], "kernel_size")
        full["max_dist"] = check_positive(full["max_dist"], "max_dist")
        labels = fn(display, channel_axis=-1, **full)
    return Segmentation(relabel(labels), display, method, full)


def _check_labels(labels: Any, shape: tuple[int, int], name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.shape != shape:
        raise InputError(f"{name} must be an integer label array of the image's shape {shape}; got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{name} must hold integer labels; got dtype {arr.dtype}")
    return relabel(arr)


__all__ = ["SEGMENTATION_METHODS", "MethodSpec", "Segmentation", "relabel", "segment", "segment_parameters"]
