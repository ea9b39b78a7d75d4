"""Projector: every layer's map of a dataset in one canvas, with the inputs beside the points.

What travels (binary buffers, never JSON lists): every layer's 2-D map, computed up front and turned onto its
neighbour (:meth:`nbexplain.Projections.aligned`), as one (L, N, 2) float32 array, so switching layers is
answered in the page (the points move from one map to the next) without asking the kernel; the labels, the
predictions, the columns to colour by and the inputs' thumbnails. Another method (PCA, t-SNE, UMAP) and
explaining a selection are requests answered by the kernel (:mod:`.base`: ids, progress, stale results
dropped, errors shown in the widget). The view writes what the user chooses — the layer, the colouring, the
tool, the point under the pointer and the selection — and each is validated here. Every number comes from
the front door :mod:`nbexplain.explain.representations`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from .._validation import check_choice, check_int, check_keywords, check_number, check_seed
from ..adapters.model import as_model
from ..errors import InputError
from ..explain.pixel import METHODS as PIXEL_METHODS
from ..explain.pixel import attribute
from ..explain.representations import (
    Activations,
    Projection,
    Projections,
    activations,
    predicted_classes,
    project,
)
from ..explain.tabular import shapley_tabular
from ..inputs.images import model_channels
from ..methods.representations.extraction import ModelInputs
from ..methods.representations.projection import available_methods
from ..methods.representations.thumbnails import is_image_batch, thumbnails
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, field, handles
from .codec import array_serialization, decode_array
from .tables import answer_tables_trait, wants_tables

COLOR_BY = ("label", "prediction", "correct", "column", "none")
TOOLS = ("pan", "box", "lasso")
#: the methods whose maps answer tables hold (plus the method shown)
TABLE_METHODS = ("pca", "tsne")
MAX_POINTS = 50_000
RIGHT, WRONG = "#2ca02c", "#d62728"  # the view's colours of right and wrong predictions
#: selected points explained by one request of the view (each is an attribution or a Shapley computation)
MAX_EXPLAINED = 12
TRAIT_OPTIONS = ("plot_width", "plot_height", "point_size", "layout", "tool")


def _array(**kw):
    return traitlets.Any(None, **kw).tag(sync=True, **array_serialization)


class Projector(ExplainerWidget):
    """Maps of every layer of a network, linked to the inputs: what the layers learned, point by point.

    A canvas scatter of up to 50,000 inputs; a layer switch that moves the points from one layer's map to the
    next (all maps computed up front: no kernel round trip); colour by label, prediction, correct/incorrect
    or any column; hovering a point shows its thumbnail (images) or its feature values (tables) with its
    label and prediction; box and lasso selection, synced to :attr:`selected`, shown as a thumbnail grid and
    explained on request (pixel attributions for images, Shapley values for tables); zoom with the wheel,
    pan by dragging, double-click to fit.

    Parameters
    ----------
    model : torch.nn.Module or Model
        The network whose layers are read (forward hooks).
    X : array (N, ...)
        The inputs, as for :func:`nbexplain.activations` (images or table rows).
    y : (N,) labels, optional
        Colours by label and correct/incorrect.
    layers, pool
        As for :func:`nbexplain.activations` (default: the model's top-level stages, global average pooling).
    method : {"pca", "tsne", "umap"}
        The map shown first; the view offers every method installed (computed on request).
    class_names : list of str, optional
        Names of the model's classes.
    feature_names : list of str, optional
        Column names of table rows (default: a DataFrame's columns, else x0, x1, ...).
    columns : dict of name -> (N,) values, or a DataFrame, optional
        More columns to colour by (e.g. ``{"dark sky": data.dark_sky}``).
    images : (N, H, W, 3) or (N, H, W) array, optional
        The pictures shown beside the points (default: made from ``X`` when it holds images).
    color_by : {"label", "prediction", "correct", "column", "none"}, optional
        The first colouring (default: "label" with labels, else "prediction").
    max_points : int
        At most this many inputs are shown (a random sample drawn with ``seed`` beyond).
    seed : int or None
        Seed of the sample and of t-SNE / UMAP.
    perplexity, n_neighbors
        t-SNE's perplexity and UMAP's neighbourhood size.
    thumbnail_size : int
        The longer side of the thumbnails in pixels (smaller when 50,000 of them would exceed 32 MB).
    precompute : bool or None
        Compute the PCA and t-SNE maps up front (``answer_tables``), so the view switches method without the
        kernel — also in a page exported by :func:`nbexplain.export_html`. None: only when exporting.
    progress : None, bool or callable
        Bars for the work done when the widget is made (None: automatic).

    Examples
    --------
    >>> data = nbx.datasets.digits("test")
    >>> w = nbx.Projector(nbx.datasets.digits_classifier(), data.images, data.labels)
    >>> w                            # switch layers, hover, draw a box around a cluster
    >>> w.layer = "hidden"; w.color_by = "correct"
    >>> w.selected                   # rows of X inside the box
    >>> w.explain("gradcam")         # attribution maps of the selected inputs
    """

    _esm = assets.view_esm("projector")
    _css = assets.view_css("projector")
    _view_writes: ClassVar[frozenset[str]] = frozenset({"layer", "color_by", "column", "tool", "hovered",
                                                        "selected"})

    coords = _array()  # (L, N, 2) float32: every layer's map, aligned (Projections.aligned)
    layer_names = traitlets.List([]).tag(sync=True)
    layer = traitlets.Int(0).tag(sync=True)
    method = traitlets.Unicode("pca").tag(sync=True)
    methods = traitlets.List([]).tag(sync=True)  # [{name, label}] offered in the view
    quality = traitlets.List([]).tag(sync=True)  # per layer: the map's quality lines
    rows = _array()  # (N,) int32: the row of X each point is
    n_total = traitlets.Int(0).tag(sync=True)  # rows of X
    labels = _array()  # (N,) int32 codes into label_names, or None
    label_names = traitlets.List([]).tag(sync=True)
    predictions = _array()  # (N,) int32 codes into class_names, or None
    class_names = traitlets.List([]).tag(sync=True)
    correct = _array()  # (N,) uint8, or None when labels and predictions cannot be compared
    columns = _array()  # (N, C) float32, or None
    column_names = traitlets.List([]).tag(sync=True)
    thumbnails = _array()  # (N, h, w, 3) uint8, or None
    color_by = traitlets.Enum(COLOR_BY, default_value="label").tag(sync=True)
    column = traitlets.Int(0).tag(sync=True)
    tool = traitlets.Enum(TOOLS, default_value="pan").tag(sync=True)
    hovered = traitlets.Int(-1).tag(sync=True)  # row of X under the pointer (-1: none)
    selected = _array()  # (S,) rows of X, sorted and distinct
    explain_methods = traitlets.List([]).tag(sync=True)  # [{name, label}] for the selection
    note = traitlets.Unicode("").tag(sync=True)  # e.g. "a sample of 50,000 of 80,000 rows"
    interactive = traitlets.Bool(True).tag(sync=True)  # False: no activations to map again (a static view)
    #: the PCA and t-SNE maps (see :meth:`precompute`): {layers, methods: {name: {coords (L, N, 2) float32,
    #: quality}}}; None until built
    answer_tables = answer_tables_trait()
    table_answers: ClassVar[dict[str, str]] = {
        "project": "the PCA and t-SNE maps of every layer (and the shown method's), aligned as drawn, with their quality",
    }
    plot_width = traitlets.Int(560, min=200).tag(sync=True)
    plot_height = traitlets.Int(440, min=150).tag(sync=True)
    point_size = traitlets.Float(0.0, min=0.0).tag(sync=True)  # CSS px; 0: chosen from the number of points

    def __init__(self, model: Any, X: Any, y: Any = None, *, layers: Any = None, method: str = "pca",
                 pool: Any = "mean", class_names: Any = None, feature_names: Any = None, columns: Any = None,
                 images: Any = None, color_by: str | None = None, max_points: int = MAX_POINTS, seed: int | None = 0,
                 perplexity: float = 30.0, n_neighbors: int = 15, thumbnail_size: int = 32, precompute: Any = None,
                 progress: Any = None, **kwargs: Any):
        check_keywords(kwargs, TRAIT_OPTIONS, "Projector()")
        self._tables_on = wants_tables(precompute)
        self._method_arg = check_choice(method, "method", available_methods())
        self.seed = check_seed(seed)
        self.perplexity = check_number(perplexity, "perplexity", above=0)
        self.n_neighbors = check_int(n_neighbors, "n_neighbors", 2)
        self.thumbnail_size = check_int(thumbnail_size, "thumbnail_size", 2)
        max_points = check_int(max_points, "max_points", 4, MAX_POINTS)
        if color_by is not None:
            check_choice(color_by, "color_by", COLOR_BY)
        self._model = None
        self._activations: Activations | None = None
        self._projections: dict[str, Projections] = {}
        self._inputs: ModelInputs | None = None
        self._table: np.ndarray | None = None
        self._feature_names: list[str] = []
        self.explanations: list = []
        super().__init__(**kwargs)
        self.methods = [{"name": m, "label": {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[m]}
                        for m in available_methods()]
        if model is None and X is None:  # a static view, filled by a result's .widget()
            return
        if model is None or X is None:
            raise InputError("Projector needs a model and the inputs X (or use result.widget() on a Projection)")
        self._model = as_model(model, class_names=class_names)
        n = len(X) if hasattr(X, "__len__") else np.asarray(X).shape[0]
        rows = np.arange(n)
        if n > max_points:
            if not isinstance(X, np.ndarray):
                raise InputError(f"X has {n} rows and the Projector shows at most max_points={max_points}: pass "
                                 "a sample of them, or X as a numpy array (a random sample is then drawn)")
            rows = np.sort(np.random.default_rng(self.seed).choice(n, max_points, replace=False))
            X = X[rows]
            y = None if y is None else np.asarray(y)[rows]
            images = None if images is None else np.asarray(images)[rows]
            columns = _take_columns(columns, rows, n)
            self.note = f"a random sample of {max_points:,} of {n:,} rows"
        acts = activations(self._model, X, layers, pool=pool, class_names=class_names, progress=progress)
        self._activations = acts
        self._put_data(X, acts.scores, acts.class_names, y, rows, n, feature_names, columns, images)
        self._put_method(self._method_arg, DIRECT, progress)
        if self._tables_on:
            self._build_tables(progress)
        with self._applying():
            self.color_by = color_by or ("label" if self.labels is not None else "prediction")
        self.explain_methods = self._explain_choices()

    # -- data into traits ------------------------------------------------------------------------------
    def _put_data(self, X: Any, scores: np.ndarray | None, class_names: Any, y: Any, rows: np.ndarray,
                  n_total: int, feature_names: Any = None, columns: Any = None, images: Any = None) -> None:
        """The points' data into traits: labels, predictions (from ``scores``), columns, thumbnails."""
        n = len(rows)
        channels = model_channels(self._model) if self._model is not None else None
        inputs = None
        if X is not None:
            try:
                inputs = ModelInputs(X, channels if channels is not None else _guess_channels(X))
            except InputError:
                inputs = None
            if inputs is not None and len(inputs) != n:
                raise InputError(f"X has {len(inputs)} rows but the maps {n} points")
        self._inputs = inputs
        predictions, names = None, []
        if scores is not None:
            predictions = predicted_classes(scores)
            names = list(class_names or [f"class {i}" for i in range(max(2, scores.shape[1]))])
        label_codes, label_names, correct = _labels(y, n, predictions, names or class_names)
        table = None
        if inputs is not None and len(inputs.shape) == 2:
            table = np.asarray(inputs[0:n], dtype=np.float64)
            self._feature_names = _feature_names(feature_names, X, table.shape[1])
        self._table = table
        extra_names, extra = _columns(columns, n)
        all_columns = [c for c in (table, extra) if c is not None]
        thumbs = None
        if images is not None:
            thumbs = thumbnails(ModelInputs(_check_images(images, n), _guess_channels(images)),
                                size=self.thumbnail_size)
        elif inputs is not None and is_image_batch(inputs):
            thumbs = thumbnails(inputs, size=self.thumbnail_size)
        with self._applying():
            self.rows = rows.astype(np.int32)
            self.n_total = int(n_total)
            self.labels = label_codes
            self.label_names = label_names
            self.predictions = None if predictions is None else predictions.astype(np.int32)
            self.class_names = names
            self.correct = correct
            self.columns = np.hstack(all_columns).astype(np.float32) if all_columns else None
            self.column_names = (self._feature_names if table is not None else []) + extra_names
            self.thumbnails = thumbs
            self.selected = np.zeros(0, dtype=np.int64)
            self.hovered = -1

    def _maps(self, method: str, progress: Any = None) -> Projections:
        """Every layer's map by ``method`` (computed once, then cached)."""
        method = check_choice(method, "method", available_methods())
        if method not in self._projections:
            if self._activations is None:
                raise InputError("this view shows a given map and has no activations to map again; pass the "
                                 "Activations (acts.widget()) or a model and X to switch methods")
            n = self._activations.n
            perplexity = min(self.perplexity, 0.99 * (n - 1) / 3)  # few points: as many neighbours as there can be
            result = project(self._activations, method, seed=self.seed, perplexity=perplexity,
                             n_neighbors=min(self.n_neighbors, n - 1), progress=progress)
            if isinstance(result, Projection):
                result = Projections({result.layer: result})
            self._projections[method] = result
        return self._projections[method]

    def _put_method(self, method: str, ctx: RequestContext, progress: Any = None) -> Projections:
        result = self._maps(method, ctx.progress if ctx is not DIRECT else progress)
        self._put_projections(result, ctx)
        return result

    # -- answer tables (the view switches method without the kernel) ------------------------------------
    def precompute(self) -> None:
        """Compute the PCA and t-SNE maps of every layer (and UMAP's when it is the method shown), so the view
        switches method from tables: at once in a live session, and without a kernel in an exported page.

        UMAP is left to the kernel otherwise: its first run in a session compiles for a minute (numba)."""
        if self._activations is None:
            raise InputError("precompute needs the activations: this view was made from maps alone")
        with self._compute_lock:
            self._tables_on = True
            self._build_tables()

    def _build_tables(self, progress: Any = None) -> None:
        methods = {}
        for method in [m for m in available_methods() if m in TABLE_METHODS or m == self.method]:
            maps = self._maps(method, progress)
            methods[method] = {"coords": maps.aligned(), "quality": [list(p.quality()) for p in maps.projections.values()]}
        with self._applying():
            self.answer_tables = {"layers": list(self.layer_names), "methods": methods}

    def _put_projections(self, result: Projections, ctx: RequestContext = DIRECT) -> None:
        coords = result.aligned()
        with self._applying(ctx):
            self.coords = coords
            self.layer_names = list(result.layers)
            self.quality = [list(p.quality()) for p in result.projections.values()]
            self.method = result.method
            if self.layer >= len(result):
                self.layer = len(result) - 1

    def _explain_choices(self) -> list[dict]:
        if self._model is None or self._inputs is None:
            return []
        if is_image_batch(self._inputs):
            return [{"name": m.name, "label": m.label} for m in PIXEL_METHODS.values()
                    if self._model.differentiable or not m.gradient]
        if self._table is not None:
            return [{"name": "shapley", "label": "Shapley values"}]
        return []

    # -- validation of what the view (or Python) writes ---------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "layer" and isinstance(value, str) and getattr(self, "layer_names", None):
            value = check_choice(value, "layer", list(self.layer_names))
            value = list(self.layer_names).index(value)
        if name == "column" and isinstance(value, str) and getattr(self, "column_names", None):
            value = list(self.column_names).index(check_choice(value, "column", list(self.column_names)))
        super().__setattr__(name, value)

    @traitlets.validate("layer")
    def _validate_layer(self, proposal: dict) -> int:
        value = proposal["value"]
        count = len(self.layer_names)
        if count and not 0 <= value < count:
            raise InputError(f"layer={value} is out of range: there are {count} layers {list(self.layer_names)}")
        return value

    @traitlets.validate("column")
    def _validate_column(self, proposal: dict) -> int:
        value = proposal["value"]
        count = len(self.column_names)
        if count and not 0 <= value < count:
            raise InputError(f"column={value} is out of range: there are {count} columns {list(self.column_names)}")
        return value

    @traitlets.validate("color_by")
    def _validate_color_by(self, proposal: dict) -> str:
        value = proposal["value"]
        missing = {"label": self.labels is None and "labels (pass y=)",
                   "prediction": self.predictions is None and "a model's predictions",
                   "correct": self.correct is None and "labels y that name the model's classes",
                   "column": not self.column_names and "columns (table rows, or columns=)"}.get(value)
        if missing and not self._is_applying:
            raise InputError(f"color_by={value!r} needs {missing}")
        return value

    @traitlets.validate("hovered")
    def _validate_hovered(self, proposal: dict) -> int:
        value = proposal["value"]
        if value != -1 and (self.rows is None or not np.isin(value, self.rows)):
            raise InputError(f"hovered must be -1 or a row of X shown here; got {value}")
        return value

    @traitlets.validate("selected")
    def _validate_selected(self, proposal: dict) -> np.ndarray:
        return self._check_rows(proposal["value"], "selected")

    def _check_rows(self, value: Any, name: str) -> np.ndarray:
        if value is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(value, dict) and "dtype" in value:  # {dtype, shape, buffer} from the view
            value = decode_array(value)
        arr = np.asarray(value)
        if arr.dtype == bool:
            if arr.ndim != 1 or len(arr) != self.n_total:
                raise InputError(f"{name} as a mask must have one boolean per row of X ({self.n_total}); "
                                 f"got shape {arr.shape}")
            arr = np.flatnonzero(arr)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise InputError(f"{name} must be a 1-D list of row indices of X (ints) or a boolean mask; got "
                             f"shape {arr.shape}, dtype {arr.dtype}")
        arr = np.unique(arr.astype(np.int64))
        outside = arr[~np.isin(arr, self.rows)][:5].tolist() if self.rows is not None else arr[:5].tolist()
        if outside:
            what = f"0..{self.n_total - 1}" if self.rows is not None and len(self.rows) == self.n_total \
                else "the rows shown (w.rows)"
            raise InputError(f"{name} must hold row indices of X in {what}; got {outside}")
        return arr

    # -- requests from the view -------------------------------------------------------------------------
    @handles("project")
    def _on_project(self, params: dict, ctx: RequestContext) -> dict:
        method = field(params, "method")
        self._put_method(method, ctx)
        return {"method": self.method}

    @handles("explain")
    def _on_explain(self, params: dict, ctx: RequestContext) -> dict:
        method = field(params, "method")
        rows = self.selected[:MAX_EXPLAINED]
        if len(rows) == 0:
            raise InputError("select points first (box or lasso), then explain them")
        results = self._explain(method, rows, ctx.progress)
        ctx.check()
        self.explanations = results
        if self._table is not None:
            return {"rows": rows.astype(np.int32), "texts": [r.summary() for r in results]}
        return {"rows": rows.astype(np.int32),
                "maps": np.stack([r.map for r in results]).astype(np.float32),
                "images": np.stack([r.image for r in results]).astype(np.uint8),
                "limits": [list(r.limits()) for r in results], "signed": [bool(r.signed) for r in results],
                "titles": [f"{r.label}: {r.target_name}" for r in results]}

    # -- the Python side ---------------------------------------------------------------------------------
    def _explain(self, method: str, rows: np.ndarray, progress: Any, **options: Any) -> list:
        choices = [m["name"] for m in self._explain_choices()]
        if not choices:
            raise InputError("explaining needs the model and its inputs (images or table rows); this view has none")
        method = check_choice(method, "method", choices)
        position = {int(r): i for i, r in enumerate(self.rows)}
        results = []
        for k, row in enumerate(rows):
            i = position[int(row)]
            part = None if progress is None else (lambda f, k=k: progress((k + f) / len(rows)))
            if self._table is not None:
                results.append(shapley_tabular(self._model, self._table[i], self._table,
                                               feature_names=self._feature_names, seed=self.seed,
                                               progress=part or False, **options))
            else:
                image = self._inputs[i:i + 1][0]
                results.append(attribute(self._model, image, method, progress=part or False, **options))
        return results

    def explain(self, method: str | None = None, rows: Any = None, *, max_points: int = MAX_EXPLAINED,
                **options: Any) -> list:
        """Explain the selected inputs (or ``rows``) with another explainer: a pixel attribution method for
        images (``nbx.attribute``), Shapley values for table rows (``nbx.shapley_tabular``).

        Returns the list of results (at most ``max_points``); ``options`` go to the explainer.
        """
        choices = self._explain_choices()
        if method is None and choices:
            method = "gradcam" if any(c["name"] == "gradcam" for c in choices) else choices[0]["name"]
        chosen = self.selected if rows is None else self._check_rows(rows, "rows")
        check_int(max_points, "max_points", 1)
        with self._compute_lock:
            self.explanations = self._explain(method, chosen[:max_points], None, **options)
        return self.explanations

    def select(self, rows: Any) -> np.ndarray:
        """Select ``rows`` of X (indices or a boolean mask) as the view's box would; returns them."""
        self.selected = rows
        return self.selected

    @property
    def activations(self) -> Activations | None:
        """The activations the maps are of."""
        return self._activations

    @property
    def projections(self) -> Projections | None:
        """The maps shown now (one per layer), as results (unrotated coordinates, with their quality)."""
        return self._projections.get(self.method)

    @property
    def result(self) -> Projection | None:
        """The map of the layer shown now."""
        maps = self.projections
        return None if maps is None or not self.layer_names else maps[self.layer_names[self.layer]]

    # -- static fallback ---------------------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        from ..plotting.figure import png_of

        shown = self.result
        if shown is None:
            return None
        values, names, palette = None, None, None
        if self.color_by == "label" and self.labels is not None:
            values, names = self.labels, self.label_names
        elif self.color_by == "prediction" and self.predictions is not None:
            values, names = self.predictions, self.class_names
        elif self.color_by == "correct" and self.correct is not None:
            values, names, palette = self.correct.astype(np.int64), ["wrong", "right"], [WRONG, RIGHT]
        elif self.color_by == "column" and self.columns is not None:
            values = self.columns[:, self.column].astype(np.float64)

        def paint(fig):
            shown.plot(ax=fig.add_subplot(), y=values, class_names=names, palette=palette)
            fig.tight_layout()

        return png_of(paint, figsize=(5.2, 4.4))


# -- inputs -----------------------------------------------------------------------------------------------
def _guess_channels(X: Any) -> int | None:
    """For thumbnails without a model: (N, H, W) arrays are grey images (one channel)."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 3 and min(shape[1:]) >= 2:
        return 1
    return None


def _check_images(images: Any, n: int) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim not in (3, 4) or len(arr) != n:
        raise InputError(f"images must be (N, H, W, 3) or (N, H, W) pictures, one per row of X ({n}); got shape "
                         f"{arr.shape}")
    return arr


def _labels(y: Any, n: int, predictions: np.ndarray | None, class_names: Any):
    """Label codes and names, and whether each prediction is right (None when they cannot be compared)."""
    if y is None:
        return None, [], None
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"y must be 1-D with one label per row of X ({n}); got shape {arr.shape}")
    class_names = list(class_names or [])
    if arr.dtype.kind in "iub" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        ints = arr.astype(np.int64)
        if class_names and ints.min() >= 0 and ints.max() < len(class_names):
            right = None if predictions is None else (ints == predictions).astype(np.uint8)
            return ints.astype(np.int32), class_names, right
    if arr.dtype.kind == "f":
        raise InputError("y must hold class labels (ints or strings); to colour by numbers pass them in columns=")
    values, codes = np.unique(arr.astype(str), return_inverse=True)
    names = [str(v) for v in values]
    correct = None
    if predictions is not None and class_names and set(names) <= set(class_names):
        correct = (np.asarray(class_names)[predictions] == arr.astype(str)).astype(np.uint8)
    return codes.astype(np.int32), names, correct


def _feature_names(feature_names: Any, X: Any, width: int) -> list[str]:
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    if feature_names is None:
        return [f"x{i}" for i in range(width)]
    names = [str(f) for f in feature_names]
    if len(names) != width:
        raise InputError(f"feature_names must name the {width} columns of X; got {len(names)} names")
    return names


def _columns(columns: Any, n: int) -> tuple[list[str], np.ndarray | None]:
    if columns is None:
        return [], None
    if hasattr(columns, "columns") and hasattr(columns, "to_numpy"):  # a DataFrame
        columns = {str(c): columns[c].to_numpy() for c in columns.columns}
    if not isinstance(columns, Mapping) or not columns:
        raise InputError("columns must be a dict of name -> (N,) values, or a DataFrame")
    names, values = [], []
    for name, value in columns.items():
        arr = np.asarray(value)
        if arr.ndim != 1 or len(arr) != n:
            raise InputError(f"columns[{name!r}] must have one value per row of X ({n}); got shape {arr.shape}")
        if arr.dtype.kind not in "biuf":
            levels, arr = np.unique(arr.astype(str), return_inverse=True)
        names.append(str(name))
        values.append(arr.astype(np.float64))
    return names, np.column_stack(values)


def _take_columns(columns: Any, rows: np.ndarray, n: int) -> Any:
    if columns is None:
        return None
    if hasattr(columns, "iloc"):
        return columns.iloc[rows]
    if isinstance(columns, Mapping):
        return {k: np.asarray(v)[rows] if len(np.asarray(v)) == n else v for k, v in columns.items()}
    return columns


# -- result.widget(**options) -----------------------------------------------------------------------------
def _static(result: Projections, y: Any, class_names: Any, columns: Any, images: Any, X: Any,
            feature_names: Any, **options: Any) -> Projector:
    widget = Projector(None, None, **options)
    n = len(next(iter(result.projections.values())).coordinates)
    widget._put_data(X, None, class_names, y, np.arange(n), n, feature_names, columns, images)
    widget._projections[result.method] = result
    widget._put_projections(result)
    with widget._applying():
        widget.interactive = False
        widget.methods = [m for m in widget.methods if m["name"] == result.method]
        widget.color_by = "label" if widget.labels is not None else ("column" if widget.column_names else "none")
    return widget


@shows(Projections)
def projections_view(result: Projections, *, y: Any = None, class_names: Any = None, columns: Any = None,
                     images: Any = None, X: Any = None, feature_names: Any = None, **options: Any) -> Projector:
    """``maps.widget(y=...)``: the layers' maps in the Projector (no model: no other method, no explaining)."""
    return _static(result, y, class_names, columns, images, X, feature_names, **options)


@shows(Projection)
def projection_view(result: Projection, *, y: Any = None, class_names: Any = None, columns: Any = None,
                    images: Any = None, X: Any = None, feature_names: Any = None, **options: Any) -> Projector:
    """``map.widget(y=...)``: one map in the Projector."""
    return _static(Projections({result.layer: result}), y, class_names, columns, images, X, feature_names,
                   **options)


@shows(Activations)
def activations_view(result: Activations, *, y: Any = None, method: str = "pca", columns: Any = None,
                     images: Any = None, feature_names: Any = None, seed: int | None = 0, **options: Any) -> Projector:
    """``acts.widget(y=...)``: every layer mapped with ``method`` (the view can switch methods)."""
    widget = Projector(None, None, seed=seed, **options)
    widget._activations = result
    widget._put_data(result.X, result.scores, result.class_names, y, np.arange(result.n), result.n, feature_names,
                     columns, images)
    widget._put_method(check_choice(method, "method", available_methods()), DIRECT)
    if widget._tables_on:
        widget._build_tables()
    with widget._applying():
        widget.color_by = "label" if widget.labels is not None else "prediction"
    return widget


__all__ = ["COLOR_BY", "MAX_POINTS", "Projector", "TOOLS"]
