"""What the layers learned: the activations of any layer, maps of them (PCA, t-SNE, UMAP), linear probes.

The survey closes its list of techniques with dimensionality reduction of learned representations and the
idea that hidden layers make the data linearly separable. Three steps, each a result with ``.plot()``,
``.to_frame()`` and ``.widget()``:

* :func:`activations` runs the model once over a dataset ``X`` (images or table rows) at its best batch size
  and keeps, through forward hooks, each named layer's output pooled to one vector per input;
* :func:`project` maps a layer's vectors to 2-D or 3-D: PCA (exact), t-SNE (van der Maaten & Hinton 2008,
  through openTSNE) or UMAP (McInnes et al. 2018, optional), with the method's own quality and the map's
  trustworthiness (Venna & Kaski 2001);
* :func:`linear_probes` scores a linear classifier on each layer by cross-validation (Alain & Bengio 2016):
  one accuracy per layer, the separability claim made measurable.

:class:`nbexplain.Projector` shows the maps of every layer with the inputs beside the points.

Examples
--------
>>> data = nbx.datasets.digits("test")
>>> model = nbx.datasets.digits_classifier()
>>> acts = nbx.activations(model, data.images, layers=["block1", "block3", "hidden"])
>>> maps = nbx.project(acts, "tsne")               # one map per layer
>>> maps["hidden"].trustworthiness
0.97
>>> nbx.linear_probes(acts, data.labels).plot()   # accuracy rises with depth
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import reporter
from .._validation import check_choice, check_int, check_seed, is_int
from ..adapters.model import as_model, check_class_names
from ..errors import InputError
from ..inputs.images import model_channels
from ..methods.representations import layout
from ..methods.representations import projection as maps
from ..methods.representations.extraction import (
    ModelInputs,
    check_pool,
    extract,
    resolve_layers,
    torch_module_of,
)
from ..methods.representations.probes import cross_validated_accuracy, default_probe, folds
from ..methods.representations.quality import trustworthiness
from ..plotting import representations as draw
from .result import Result, frame

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


# =================================================================================================
# results
# =================================================================================================
@dataclass(eq=False)
class Activations(Result):
    """The pooled outputs of a model's layers for every input of a dataset.

    Attributes
    ----------
    values : dict of str to (N, D) arrays
        Each layer's output, pooled to one row per input (float32; float64 for a float64 model), in the
        order the layers were asked for.
    shapes : dict of str to tuple
        Each layer's output shape per input before pooling, e.g. ``(16, 4, 4)``.
    pool : str
        How the outputs were pooled: "mean", "max", "flatten" or the function's name.
    scores : (N, n_outputs) array
        The model's own outputs for the same inputs (the forward pass computes them anyway).
    class_names : list of str or None
        The model's class names, when it has them.
    X : the data the activations are of (the caller's object, not a copy; used for thumbnails).
    """

    _png_figsize = (6.4, 3.8)

    values: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, ...]]
    pool: str
    scores: np.ndarray
    class_names: list[str] | None = None
    X: Any = field(default=None, repr=False)

    @property
    def layers(self) -> list[str]:
        """The layer names, in order."""
        return list(self.values)

    @property
    def n(self) -> int:
        """The number of inputs."""
        return int(self.scores.shape[0])

    @property
    def predictions(self) -> np.ndarray:
        """The predicted class of each input (argmax of the scores; a single score > 0 for a binary logit)."""
        return predicted_classes(self.scores)

    def layer_name(self, layer: int | str) -> str:
        """A layer's name from its name or position."""
        return layer_name(self.layers, layer)

    def __getitem__(self, layer: int | str) -> np.ndarray:
        return self.values[self.layer_name(layer)]

    def __repr__(self) -> str:
        dims = {name: v.shape[1] for name, v in self.values.items()}
        return f"Activations(n={self.n}, pool={self.pool!r}, dimensions={dims})"

    def plot(self, ax=None, *, layer: int | str = -1, y: Any = None, max_units: int = 64):
        """A layer's activations as a heatmap: the mean of each unit per class of ``y`` (or, without labels,
        the first 100 inputs), units ordered by their variance; the Axes."""
        return draw.plot_activations(self, ax=ax, layer=self.layer_name(layer), y=y, max_units=max_units)

    def to_frame(self):
        """One row per layer: its output shape, pooled dimensions, mean activation and dead units (units
        that are zero for every input, e.g. ReLUs that never fire)."""
        rows = [layer_stats(name, self.shapes[name], v) for name, v in self.values.items()]
        return frame({key: [r[key] for r in rows] for key in rows[0]})

    def summary(self) -> str:
        """The layers and their sizes in one line."""
        parts = ", ".join(f"{name} {self.shapes[name]} -> {v.shape[1]}" for name, v in self.values.items())
        return f"Activations of {self.n} inputs ({self.pool} pooling): {parts}"


def layer_stats(name: str, shape: tuple[int, ...], values: np.ndarray) -> dict:
    dead = int(np.all(values == 0, axis=0).sum())
    return {"layer": name, "shape": str(tuple(shape)), "dimensions": int(values.shape[1]),
            "mean": float(values.mean()), "zero share": float((values == 0).mean()), "dead units": dead}


@dataclass(eq=False)
class Projection(Result):
    """A map of one layer's activations (or any rows) in 2-D or 3-D.

    Attributes
    ----------
    coordinates : (N, k) float64
        The map.
    method : {"pca", "tsne", "umap"}
    layer : str
        What was mapped (a layer name, or "X" for rows given directly).
    explained_variance_ratio : (k,) array or None
        PCA: the share of the variance each component explains.
    kl_divergence : float or None
        t-SNE: the final Kullback-Leibler divergence between the neighbour distributions (lower is better;
        comparable between maps of the same rows and perplexity).
    trustworthiness : float or None
        Venna & Kaski's trustworthiness at ``trustworthiness_at`` neighbours (1: the map invents no
        neighbours), exact up to 2,000 rows, else estimated over 2,000 query points.
    trustworthiness_at : int or None
    seed : int or None
    params : dict
        The method's settings (perplexity, n_neighbors, min_dist, n_components).
    """

    _png_figsize = (4.6, 4.2)

    coordinates: np.ndarray
    method: str
    layer: str = "X"
    explained_variance_ratio: np.ndarray | None = None
    kl_divergence: float | None = None
    trustworthiness: float | None = None
    trustworthiness_at: int | None = 10
    seed: int | None = 0
    params: dict = field(default_factory=dict)
    fitted: Any = field(default=None, repr=False)

    @property
    def n_components(self) -> int:
        return int(self.coordinates.shape[1])

    def __repr__(self) -> str:
        return (f"Projection(method={self.method!r}, layer={self.layer!r}, n={len(self.coordinates)}, "
                f"n_components={self.n_components}, {'; '.join(self.quality())})")

    def quality(self) -> list[str]:
        """The method's own quality and the map's trustworthiness, in words (for views)."""
        lines = []
        if self.explained_variance_ratio is not None:
            share = float(np.sum(self.explained_variance_ratio))
            lines.append(f"{self.n_components} components explain {100 * share:.1f} % of the variance")
        if self.kl_divergence is not None:
            lines.append(f"KL divergence {self.kl_divergence:.3f} (perplexity {self.params.get('perplexity', 30):g})")
        if self.trustworthiness is not None:
            lines.append(f"trustworthiness {self.trustworthiness:.3f} at {self.trustworthiness_at} neighbours")
        return lines

    def summary(self) -> str:
        """What was mapped and how well, in one line."""
        return f"{METHOD_NAMES[self.method]} of {self.layer}: " + "; ".join(self.quality())

    def plot(self, ax=None, *, y: Any = None, class_names: Any = None, size: float | None = None,
             palette: Any = None):
        """The map (the first two coordinates), coloured by ``y`` (classes, or numbers on a colour scale)
        when given, one colour of ``palette`` per class (default: tab10, then tab20's light tones); the Axes."""
        return draw.plot_projection(self, ax=ax, y=y, class_names=class_names, size=size, palette=palette)

    def to_frame(self):
        """One row per point: its coordinates ("x", "y"[, "z"])."""
        names = ("x", "y", "z")[: self.n_components] if self.n_components <= 3 else \
            [f"c{i + 1}" for i in range(self.n_components)]
        return frame({name: self.coordinates[:, i] for i, name in enumerate(names)})

    def transform(self, X: Any) -> np.ndarray:
        """Place new rows into this map without moving it (PCA's projection; openTSNE's and UMAP's transform).

        ``X`` is an (M, D) array of the same features, or an :class:`Activations` with this layer.
        """
        if self.fitted is None:
            raise InputError("this map has no fitted model to place new rows with")
        values = X[self.layer] if isinstance(X, Activations) else X
        values = _as_rows(values, "X")
        expected = _n_features(self.fitted)
        if expected is not None and values.shape[1] != expected:
            raise InputError(f"X must have {expected} columns (as the mapped rows); got {values.shape[1]}")
        return maps.place(self.method, self.fitted, values, self.n_components)


@dataclass(eq=False)
class Projections(Result):
    """Maps of several layers of the same inputs by the same method: a mapping of layer name -> Projection."""

    projections: dict[str, Projection]

    @property
    def layers(self) -> list[str]:
        return list(self.projections)

    @property
    def method(self) -> str:
        return next(iter(self.projections.values())).method

    def __getitem__(self, layer: int | str) -> Projection:
        return self.projections[layer_name(self.layers, layer)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.projections)

    def __len__(self) -> int:
        return len(self.projections)

    def items(self):
        return self.projections.items()

    def __repr__(self) -> str:
        return f"Projections(method={self.method!r}, layers={self.layers})"

    def aligned(self) -> np.ndarray:
        """(L, N, 2) float32: every layer's map centred, scaled alike and rotated onto the next deeper one
        (orthogonal Procrustes), so points can move smoothly between layers; neighbours are unchanged."""
        planes = [p.coordinates[:, :2] for p in self.projections.values()]
        return np.stack(layout.aligned(planes)).astype(np.float32)

    def quality(self) -> list[str]:
        return [p.summary() for p in self.projections.values()]

    def summary(self) -> str:
        return "; ".join(f"{name}: " + ", ".join(p.quality()) for name, p in self.projections.items())

    def plot(self, ax=None, *, y: Any = None, class_names: Any = None, ncols: int | None = None,
             size: float | None = None, palette: Any = None):
        """One map per layer side by side (``ax``: a sequence of Axes, one per layer); the array of Axes."""
        return draw.plot_projections(self, axes=ax, y=y, class_names=class_names, ncols=ncols, size=size,
                                     palette=palette)

    def _png_size(self) -> tuple[float, float]:
        cols = min(len(self), 4)
        return (3.2 * cols, 3.3 * -(-len(self) // cols))

    def _repr_png_(self) -> bytes:
        from ..plotting.figure import png_of

        def paint(fig):
            cols = min(len(self), 4)
            rows = -(-len(self) // cols)
            self.plot(ax=[fig.add_subplot(rows, cols, i + 1) for i in range(len(self))])
            fig.tight_layout()

        return png_of(paint, figsize=self._png_size())

    def to_frame(self):
        """One row per layer: the method and its quality numbers."""
        rows = list(self.projections.values())
        return frame({
            "layer": [p.layer for p in rows],
            "method": [p.method for p in rows],
            "explained variance": [np.nan if p.explained_variance_ratio is None
                                   else float(np.sum(p.explained_variance_ratio)) for p in rows],
            "KL divergence": [np.nan if p.kl_divergence is None else p.kl_divergence for p in rows],
            "trustworthiness": [np.nan if p.trustworthiness is None else p.trustworthiness for p in rows],
        })


@dataclass(eq=False)
class LinearProbes(Result):
    """Cross-validated accuracy of a linear classifier on each layer's activations.

    Attributes
    ----------
    layers : list of str
    scores : (L, F) float — the accuracy on each held-out fold, per layer (the same folds for every layer).
    dimensions : list of int — each layer's number of features.
    chance : float — the accuracy of always guessing the most frequent class.
    probe : str — the classifier (its repr).
    """

    _png_figsize = (5.2, 3.6)

    layers: list[str]
    scores: np.ndarray
    dimensions: list[int]
    chance: float
    probe: str = ""

    @property
    def accuracy(self) -> np.ndarray:
        """(L,) mean accuracy over the folds."""
        return self.scores.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        """(L,) standard deviation of the accuracy over the folds."""
        return self.scores.std(axis=1)

    def __getitem__(self, layer: int | str) -> float:
        return float(self.accuracy[self.layers.index(layer_name(self.layers, layer))])

    def quality(self) -> list[str]:
        return [f"{self.scores.shape[1]}-fold cross-validated accuracy of {self.probe or 'a linear probe'}; "
                f"chance {self.chance:.3f}"]

    def summary(self) -> str:
        """The accuracy layer by layer in one line."""
        parts = ", ".join(f"{name} {acc:.3f}" for name, acc in zip(self.layers, self.accuracy, strict=True))
        return f"Linear probe accuracy ({self.scores.shape[1]}-fold, chance {self.chance:.3f}): {parts}"

    def plot(self, ax=None):
        """One bar per layer (mean ± sd over the folds) with the chance level; the Axes."""
        return draw.plot_probes(self, ax=ax)

    def to_frame(self):
        """One row per layer: dimensions, mean accuracy, its sd, and each fold's accuracy."""
        columns = {"layer": list(self.layers), "dimensions": list(self.dimensions),
                   "accuracy": self.accuracy, "sd": self.std}
        for f in range(self.scores.shape[1]):
            columns[f"fold {f + 1}"] = self.scores[:, f]
        return frame(columns)


# =================================================================================================
# helpers
# =================================================================================================
def predicted_classes(scores: np.ndarray) -> np.ndarray:
    """The class of each row of model outputs: the argmax, or ``score > 0`` for a single binary logit."""
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] == 1:
        return (scores[:, 0] > 0).astype(np.int64)
    return np.argmax(scores, axis=1).astype(np.int64)


def layer_name(layers: list[str], layer: int | str) -> str:
    """``layer`` (a name or a position, negative from the end) as one of ``layers``."""
    if is_int(layer):
        if not -len(layers) <= layer < len(layers):
            raise InputError(f"layer={layer} is out of range: there are {len(layers)} layers {layers}")
        return layers[int(layer)]
    return check_choice(layer, "layer", layers)


def _as_rows(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if arr.dtype.kind not in "biuf" or arr.dtype == bool:
        raise InputError(f"{name} must be an (N, D) array of numbers; got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        arr = arr.reshape(len(arr), -1)
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return arr


def _n_features(fitted: Any) -> int | None:
    if hasattr(fitted, "n_features_in_"):
        return int(fitted.n_features_in_)
    index = getattr(getattr(fitted, "affinities", None), "knn_index", None)  # openTSNE: the mapped rows
    data = getattr(index, "data", None)
    if data is not None and hasattr(data, "shape"):
        return int(data.shape[1])
    return None


def _layer_values(X: Any, layer: Any, name: str = "X") -> dict[str, np.ndarray]:
    """The rows to map or probe, per layer: an Activations (one layer or all), a dict, or one array."""
    if isinstance(X, Activations):
        if layer is None:
            return dict(X.values)
        chosen = layer if isinstance(layer, (list, tuple)) else [layer]
        return {X.layer_name(c): X[c] for c in chosen}
    if isinstance(X, Mapping):
        if not X:
            raise InputError(f"{name} is an empty dict; expected layer name -> (N, D) array")
        values = {str(k): _as_rows(v, f"{name}[{k!r}]") for k, v in X.items()}
        if layer is not None:
            chosen = layer if isinstance(layer, (list, tuple)) else [layer]
            values = {layer_name(list(values), c): values[layer_name(list(values), c)] for c in chosen}
        return values
    if layer is not None:
        raise InputError(f"layer= needs {name} to be an Activations (or a dict of layers); got an array")
    return {"X": _as_rows(X, name)}


def _check_same_rows(values: dict[str, np.ndarray], name: str) -> int:
    sizes = {k: v.shape[0] for k, v in values.items()}
    if len(set(sizes.values())) != 1:
        raise InputError(f"the layers of {name} must have the same rows; got {sizes}")
    return next(iter(sizes.values()))


# =================================================================================================
# front door
# =================================================================================================
def activations(model: Any, X: Any, layers: Any = None, *, pool: str | Callable = "mean", class_names: Any = None,
                batch_size: int | None = None, progress: Any = None) -> Activations:
    """The outputs of a model's layers for every input of ``X``, pooled to one vector per input.

    Forward hooks read the named layers while the model runs over ``X`` at the batch size its adapter
    measures fastest (so extraction costs what prediction costs); the inputs are converted one batch at a
    time and each layer's output is pooled as it comes, so memory holds one batch plus the pooled rows.

    Parameters
    ----------
    model : torch.nn.Module or Model
        The network (forward hooks need a torch module).
    X : array (N, ...), tensor, DataFrame or lazy batch
        The inputs: images — (N, H, W, 3) or (N, H, W) uint8 are scaled to [0, 1] and moved to the channels
        the model's first convolution takes, (N, C, H, W) floats pass as they are — or table rows (N, F).
    layers : list of str or modules, or dict, optional
        Dotted names from ``model.named_modules()`` (or the modules), and ``"input"`` for the input itself;
        a dict gives them the names its keys say (``{"conv1": "2", "logits": "13"}``). None: the model's
        top-level stages (``named_children``).
    pool : {"mean", "max", "flatten"} or callable
        How a layer's output becomes a vector: the mean (global average pooling of a conv map; vectors stay
        as they are), the maximum over every axis after the channels, every value, or a function mapping
        the output tensor (N, ...) to (N, D).
    class_names : list of str, optional
        Names of the model's outputs (default: the model's own ``class_names``).
    batch_size : int, optional
        Fix the batch size instead of measuring the fastest.
    progress : None, bool or callable
        A bar for long work (None: automatic), or a callable given the fraction done.

    Returns
    -------
    Activations

    Examples
    --------
    >>> acts = nbx.activations(model, data.images, layers=["block1", "hidden"])
    >>> acts["hidden"].shape, acts.shapes["block1"]
    ((797, 32), (8, 8, 8))
    """
    pool = check_pool(pool)
    m = as_model(model, class_names=class_names)
    if batch_size is not None and check_int(batch_size, "batch_size", 1) != m.batch_size:
        # a Model of the same module with this batch size (the caller's keeps its own, and what it measured)
        m = as_model(m.raw, class_names=m.class_names, output=m.output, batch_size=int(batch_size),
                     memory_budget=m.memory_budget)
    resolved = resolve_layers(torch_module_of(m), layers)
    inputs = ModelInputs(X, model_channels(m))
    values, shapes, scores = extract(m, inputs, resolved, pool, reporter(progress, "activations"))
    names = m.class_names or check_class_names(class_names)
    pool_name = pool if isinstance(pool, str) else getattr(pool, "__name__", "function")
    return Activations(values, shapes, pool_name, scores, names, X)


def project(X: Any, method: str = "pca", *, layer: Any = None, n_components: int = 2, seed: int | None = 0,
            perplexity: float = 30.0, n_neighbors: int = 15, min_dist: float = 0.1,
            trustworthiness_at: int | None = 10, n_jobs: int = 1, progress: Any = None) -> Projection | Projections:
    """Map activations (or any rows) to 2-D or 3-D with PCA, t-SNE or UMAP.

    Parameters
    ----------
    X : Activations, dict of layer -> (N, D) arrays, or an (N, D) array
        What to map. An :class:`Activations` of several layers gives one map per layer (unless ``layer``
        picks one).
    method : {"pca", "tsne", "umap"}
        PCA (scikit-learn, exact), t-SNE (openTSNE; PCA initialisation) or UMAP (umap-learn, optional).
    layer : str, int or list, optional
        The layer(s) to map, by name or position.
    n_components : int
        2 or 3.
    seed : int or None
        Seed of t-SNE's and UMAP's randomness (and of the trustworthiness sample): the same seed gives the
        same map.
    perplexity : float
        t-SNE: about the number of neighbours each point keeps (below (N - 1) / 3).
    n_neighbors, min_dist
        UMAP's neighbourhood size and how tightly it packs points.
    trustworthiness_at : int or None
        Neighbours of the trustworthiness score (None: not computed).
    n_jobs : int
        Threads for t-SNE (the map depends on it only through rounding; 1 is fastest on a busy machine).
    progress : None, bool or callable

    Returns
    -------
    Projection, or Projections (one map per layer) when ``X`` has several layers and ``layer`` is None or a list.

    Examples
    --------
    >>> pca = nbx.project(acts, "pca", layer="hidden")
    >>> pca.explained_variance_ratio, pca.trustworthiness
    >>> tsne = nbx.project(acts, "tsne", seed=0)       # every layer
    >>> tsne.plot(y=labels)
    """
    method = check_choice(method, "method", maps.METHODS)
    n_components = check_int(n_components, "n_components", 2, 3)
    seed = check_seed(seed)
    n_jobs = check_int(n_jobs, "n_jobs", 1)
    n_neighbors = check_int(n_neighbors, "n_neighbors", 2)
    if trustworthiness_at is not None:
        trustworthiness_at = check_int(trustworthiness_at, "trustworthiness_at", 1)
    values = _layer_values(X, layer)
    n = _check_same_rows(values, "X")
    if n < 4:
        raise InputError(f"X must have at least 4 rows to map; got {n}")
    if method == "tsne":
        maps.check_perplexity(perplexity, n)
    report = reporter(progress, f"{METHOD_NAMES[method]} maps")
    results: dict[str, Projection] = {}
    for i, (name, rows) in enumerate(values.items()):
        rows = _as_rows(rows, f"X[{name!r}]")  # float64, one layer at a time: PCA exact, no NaN
        part = None if report is None else (lambda f, i=i: report((i + 0.95 * f) / len(values)))
        coordinates, quality, fitted = maps.run(method, rows, n_components, seed=seed, perplexity=perplexity,
                                                n_neighbors=n_neighbors, min_dist=min_dist, n_jobs=n_jobs,
                                                progress=part)
        trust = None
        if trustworthiness_at is not None and trustworthiness_at < n / 2:
            trust = trustworthiness(rows, coordinates, trustworthiness_at, seed=0 if seed is None else seed)
        params = {"n_components": n_components}
        if method == "tsne":
            params["perplexity"] = float(perplexity)
        elif method == "umap":
            params.update(n_neighbors=n_neighbors, min_dist=float(min_dist))
        results[name] = Projection(coordinates, method, name, quality.get("explained_variance_ratio"),
                                   quality.get("kl_divergence"), trust, trustworthiness_at, seed, params, fitted)
        if report is not None:
            report((i + 1) / len(values))
    several = len(results) > 1 or isinstance(layer, (list, tuple))
    return Projections(results) if several else next(iter(results.values()))


def linear_probes(X: Any, y: Any, *, layer: Any = None, cv: Any = 5, probe: Any = None, seed: int | None = 0,
                  progress: Any = None) -> LinearProbes:
    """Cross-validated accuracy of a linear classifier on each layer's activations.

    Parameters
    ----------
    X : Activations, dict of layer -> (N, D) arrays, or an (N, D) array
    y : (N,) labels
        The classes to separate (ints or strings): the model's classes, or anything else the layers might
        encode (the tank scenes' sky, a group).
    layer : str, int or list, optional
        The layers to probe (default: all).
    cv : int, splitter or list of (train, test) index pairs
        Folds: an int gives that many stratified folds, shuffled with ``seed``; every layer uses the same.
    probe : scikit-learn classifier, optional
        Default: standardisation followed by logistic regression (``max_iter=2000``). Cloned per fold.
    seed : int or None
        Seed of the fold shuffle (None: folds in order, no shuffle).
    progress : None, bool or callable

    Returns
    -------
    LinearProbes
        ``accuracy`` per layer (equal to ``sklearn.model_selection.cross_val_score`` with the same folds
        and classifier), the fold scores and the chance level.

    Examples
    --------
    >>> probes = nbx.linear_probes(acts, labels)
    >>> probes.summary()
    'Linear probe accuracy (5-fold, chance 0.102): block1 0.412, block3 0.871, hidden 0.965'
    """
    seed = check_seed(seed)
    values = _layer_values(X, layer)
    n = _check_same_rows(values, "X")
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or len(labels) != n:
        raise InputError(f"y must be 1-D with one label per row of X ({n}); got shape {labels.shape}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise InputError("y contains NaN or infinite values")
    if labels.dtype == object:
        labels = labels.astype(str)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise InputError(f"y must hold at least two classes to separate; got only {classes.tolist()}")
    splits = folds(labels, cv, seed)
    estimator = default_probe(seed) if probe is None else probe
    if not (hasattr(estimator, "fit") and hasattr(estimator, "score")):
        raise InputError(f"probe must be a scikit-learn classifier (fit and score); got {type(estimator).__name__}")
    report = reporter(progress, "linear probes")
    scores = np.empty((len(values), len(splits)))
    for i, rows in enumerate(values.values()):
        part = None if report is None else (lambda f, i=i: report((i + f) / len(values)))
        scores[i] = cross_validated_accuracy(rows, labels, estimator, splits, part)
    return LinearProbes(list(values), scores, [int(v.shape[1]) for v in values.values()],
                        float(counts.max() / n), _describe(estimator))


def _describe(estimator: Any) -> str:
    steps = getattr(estimator, "steps", None)
    if steps:
        return " + ".join(type(step).__name__ for _, step in steps)
    return type(estimator).__name__


__all__ = ["Activations", "LinearProbes", "Projection", "Projections", "activations", "linear_probes",
           "predicted_classes", "project"]
