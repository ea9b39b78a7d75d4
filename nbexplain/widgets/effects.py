"""FeatureEffects: a feature picker ranked by permutation importance, one effect plot (PDP, ICE, c-ICE,
d-ICE, ALE) with a rug, 2-D PDP / ALE for a pair, and a global-surrogate panel.

What travels: the ICE table of the chosen feature (rows x grid, float32) and its ALE curve are traits, so
the view switches between PDP, ICE, c-ICE (any grid anchor) and d-ICE from that table alone, without a
kernel round trip (and still does in a static HTML export). Choosing another feature, a pair, a target
class or a surrogate is a request answered by the kernel (:mod:`.base` transport: ids, progress,
stale-result suppression, errors shown in the widget). Every number comes from the front door
:mod:`nbexplain.explain.effects`; ``result.widget(**options)`` opens this view on any of its results.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._deprecation import REMOVED_IN, renamed
from .._registry import shows
from .._validation import check_choice, check_int, check_keywords, check_seed
from ..adapters.outputs import tabular_output
from ..errors import InputError
from ..explain.effects import (
    ALE,
    ICE,
    GlobalSurrogate,
    PartialDependence,
    PermutationImportance,
    ale,
    global_surrogate,
    ice,
    partial_dependence,
    permutation_importance,
)
from ..inputs.tables import as_table, feature_index, sample_rows, tabular_model
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, handles
from .codec import array_serialization
from .tables import answer_tables_trait, wants_tables

KINDS = ("pdp", "ice", "centred", "derivative", "ale")
PAIR_KINDS = ("pdp", "ale")
RUG_MAX = 5000
KIND_OF_ICE = {"ice": "plain", "centred": "centred", "derivative": "derivative", "pdp": "plain"}
VIEW_KIND = {"plain": "ice", "centred": "centred", "derivative": "derivative"}
#: keywords the widget passes to its traits (everything else is an argument above, or a typo)
TRAIT_OPTIONS = ("interactive", "plot_width", "plot_height", "layout")


def _array(**kw):
    return traitlets.Any(None, **kw).tag(sync=True, **array_serialization)


def _rug(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    return (values if len(values) <= RUG_MAX else values[sample_rows(len(values), RUG_MAX, 0)]).astype(np.float32)


class FeatureEffects(ExplainerWidget):
    """Global feature effects of a tabular model, interactive in the notebook.

    A feature picker ranked by permutation importance (bars with ±1 sd over repeats); for the chosen
    feature one plot that switches between PDP, ICE, centred ICE (anchored at the minimum or any grid
    value), derivative ICE and ALE, with a rug of the data; hovering an ICE line highlights that row
    and shows its values; pairing two features shows the 2-D PDP or the 2-D (interaction) ALE as a
    heatmap; categorical features get bars. A panel fits a global surrogate (a shallow tree or a sparse
    linear model) to the model's predictions and reports its fidelity.

    Parameters
    ----------
    model : estimator, torch module, callable or Model
    X : (N, F) array or DataFrame
        The data; effects average over a sample of ``max_rows`` rows, ALE and the surrogate use all rows.
    y : array, optional
        Labels for the importance; without them the importance is the model's reliance on each
        feature (the drop in fidelity to its own predictions).
    feature_names, categorical, target
        As for :func:`nbexplain.partial_dependence`.
    feature : int or str, optional
        The feature shown first (default: the most important).
    kind : {"pdp", "ice", "centred", "derivative", "ale"}
    grid_resolution, ale_bins, pair_resolution : int
        Grid sizes for ICE/PDP, ALE bins, and the per-axis grid for pairs.
    max_rows : int
        Rows in the ICE table (and the PDP average); also the rows of a 2-D PDP.
    n_repeats : int
        Permutation-importance repeats.
    importance_rows : int or None
        Rows (a random sample) the importance is computed on; None for all.
    surrogate : {"tree", "linear"}; max_depth, n_terms : int
        The surrogate shown first.
    seed : int or None
        Seed of the row samples, the shuffles and the tree (``random_state`` is its old name).
    precompute : bool or None
        Build the answer tables (:meth:`precompute`: every feature's ICE and ALE) so the view switches
        features without the kernel; None: only when the notebook is exported (:func:`nbexplain.export_html`).

    Examples
    --------
    >>> fe = nbx.FeatureEffects(gbr, X, feature_names=names)
    >>> fe.feature = "temp"; fe.kind = "centred"
    >>> fe.pair = "hum"                       # 2-D partial dependence of temp x hum
    >>> fe.result                             # the ICE / PartialDependence / ALE shown now
    >>> nbx.ice(gbr, X, "temp").widget()      # any effect result opens this view
    """

    _esm = assets.view_esm("effects")
    _css = assets.view_css("effects")
    _view_writes: ClassVar[frozenset[str]] = frozenset({"kind", "anchor_index", "pair", "highlighted"})

    feature_names = traitlets.List([]).tag(sync=True)
    categorical = traitlets.List([]).tag(sync=True)
    importance = _array()
    importance_std = _array()
    importance_label = traitlets.Unicode("").tag(sync=True)
    output_label = traitlets.Unicode("prediction").tag(sync=True)
    classes = traitlets.List([]).tag(sync=True)  # [{index, name}] for classifiers, [] for regression
    target = traitlets.Int(0).tag(sync=True)

    feature = traitlets.Int(0).tag(sync=True)
    kind = traitlets.Enum(KINDS, default_value="pdp").tag(sync=True)
    anchor_index = traitlets.Int(0, min=0).tag(sync=True)  # c-ICE anchor: an index into ``grid``
    grid = _array()  # (G,) float64
    ice_table = _array()  # (N, G) float32: f(row with feature := grid value)
    row_ids = _array()  # (N,) int32: rows of X in the table
    row_values = _array()  # (N, F) float32: those rows' feature values (for the hover readout)
    row_x = _array()  # (N,) float64: each row's own value of the feature
    rug = _array()  # (<= 5000,) float32: the feature's data
    ale_x = _array()  # (K+1,) edges, or levels of a categorical feature
    ale_y = _array()  # (K+1,) float32
    highlighted = traitlets.Int(-1).tag(sync=True)  # row of X under the pointer (set by the view)

    pair = traitlets.Int(-1).tag(sync=True)  # second feature, -1 for none
    pair_kind = traitlets.Enum(PAIR_KINDS, default_value="pdp").tag(sync=True)
    surface = _array()  # (G1, G2) float32
    surface_x = _array()
    surface_y = _array()
    surface_features = traitlets.List([]).tag(sync=True)  # [i, j, kind] the surface shows

    # {kind, fidelity, fidelity_name, text, terms, max_depth, n_terms, output_label, summary, quality}
    surrogate = traitlets.Dict({}).tag(sync=True)
    interactive = traitlets.Bool(True).tag(sync=True)
    plot_width = traitlets.Int(520, min=200).tag(sync=True)
    plot_height = traitlets.Int(320, min=150).tag(sync=True)
    #: every feature's curves (see :meth:`precompute`): {target, row_ids, row_values, features: [{grid,
    #: ice_table, row_x, rug, ale_x, ale_y, anchor_index, output_label}]}; None until built
    answer_tables = answer_tables_trait()
    table_answers: ClassVar[dict[str, str]] = {
        "feature": "every feature's ICE table (hence its PDP, c-ICE and d-ICE) and its ALE, for the class shown",
    }

    @renamed(random_state="seed")
    def __init__(self, model: Any, X: Any, y: Any = None, *, feature_names: Any = None, categorical: Any = None,
                 target: Any = None, feature: Any = None, kind: str = "pdp", grid_resolution: int = 50,
                 ale_bins: int = 20, pair_resolution: int = 20, max_rows: int = 500, n_repeats: int = 5,
                 importance_rows: int | None = 2000, surrogate: str = "tree", max_depth: int = 3, n_terms: int = 5,
                 seed: int | None = 0, precompute: bool | None = None, **kwargs: Any):
        parameters = [p for p in inspect.signature(FeatureEffects.__init__).parameters if p not in ("self", "kwargs")]
        check_keywords(kwargs, [*parameters, *TRAIT_OPTIONS], "FeatureEffects()")  # typos named, never ignored
        kind = check_choice(kind, "kind", KINDS)
        self.grid_resolution = check_int(grid_resolution, "grid_resolution", 2)
        self.ale_bins = check_int(ale_bins, "ale_bins", 1)
        self.pair_resolution = check_int(pair_resolution, "pair_resolution", 2)
        self.max_rows = check_int(max_rows, "max_rows", 1)
        self.n_repeats = check_int(n_repeats, "n_repeats", 1)
        self.importance_rows = None if importance_rows is None else check_int(importance_rows, "importance_rows", 1)
        self.max_depth = check_int(max_depth, "max_depth", 1)
        self.n_terms = check_int(n_terms, "n_terms", 1)
        self.seed = check_seed(seed)
        self._tables_on = wants_tables(precompute)
        self._every_feature: dict = {}  # (feature, target) -> (ICE, ALE) once the tables are built
        self._y = None if y is None else np.asarray(y)
        self._table = None if X is None else as_table(X, feature_names, categorical=categorical)
        self._model = None if model is None or self._table is None else tabular_model(model, self._table)
        self._cache: dict = {}
        self._ice: ICE | None = None
        self._ale: ALE | None = None
        self._importance: PermutationImportance | None = None
        self._surrogate: GlobalSurrogate | None = None
        self._surface_result: PartialDependence | ALE | None = None
        super().__init__(**kwargs)
        if self._model is None:
            return
        t = self._table
        self._rows = sample_rows(t.n_rows, self.max_rows, self.seed)  # the rows of the ICE table and 2-D PDP
        self._sample = t.take(self._rows)
        if self._y is not None and len(self._y) != t.n_rows:
            raise InputError(f"y must have one value per row of X ({t.n_rows}); got {len(self._y)}")
        output = tabular_output(self._model, t, target)
        with self._applying():
            self.feature_names = list(t.feature_names)
            self.categorical = [bool(c) for c in t.categorical]
            self.kind = kind
            if output.kind == "probability":
                self.classes = [{"index": i, "name": self._model.class_name(i)} for i in range(output.n_classes)]
            self.target = output.target
        self._compute_importance(DIRECT)
        first = int(np.argmax(self._importance.mean)) if feature is None else feature_index(t, feature)
        self._show_feature(first, DIRECT)
        self._fit_surrogate(surrogate, self.max_depth, self.n_terms, DIRECT)
        if self._tables_on:
            self.precompute()

    # -- computing (every number from the front door) ------------------------------------------------
    def _target_arg(self) -> int | None:
        return self.target if self.classes else None

    def _compute_importance(self, ctx: RequestContext) -> None:
        imp = permutation_importance(self._model, self._table, self._y, n_repeats=self.n_repeats, seed=self.seed,
                                     target=self._target_arg(), max_rows=self.importance_rows, progress=ctx.progress)
        with self._applying(ctx):
            self._put_importance(imp)

    def _feature_results(self, j: int, ctx: RequestContext, anchor: float | None = None) -> tuple[ICE, ALE]:
        """The ICE and ALE of feature ``j`` for the shown class (from the tables' store when built)."""
        if anchor is None and (j, self.target) in self._every_feature:
            return self._every_feature[(j, self.target)]
        key = ("feature", j, self.target, anchor)
        if key not in self._cache:
            curves = ice(self._model, self._sample, j, anchor=anchor, target=self._target_arg(),
                         grid_resolution=self.grid_resolution, progress=lambda f: ctx.progress(0.8 * f))
            curves = self._of_every_row(curves, [j])
            effect = ale(self._model, self._table, j, bins=self.ale_bins, target=self._target_arg(),
                         progress=lambda f: ctx.progress(0.8 + 0.2 * f))
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "feature"}  # keep one feature
            self._cache[key] = (curves, effect)
        return self._cache[key]

    def _show_feature(self, j: int, ctx: RequestContext, anchor: float | None = None) -> None:
        t = self._table
        curves, effect = self._feature_results(j, ctx, anchor)
        with self._applying(ctx):
            self._put_ice(curves, row_values=t.values[curves.rows])
            self._put_ale(effect)
            self.feature = j
            self.highlighted = -1
            if self.kind == "derivative" and t.categorical[j]:
                self.kind = "ice"

    def _show_pair(self, j: int, k: int, kind: str, ctx: RequestContext) -> None:
        kind = check_choice(kind, "pair_kind", PAIR_KINDS)
        t = self._table
        if j == k:
            raise InputError(f"pair must be another feature than {t.feature_names[j]!r}")
        key = ("pair", j, k, kind, self.target)
        if key not in self._cache:
            if kind == "pdp":
                result = partial_dependence(self._model, self._sample, [j, k], target=self._target_arg(),
                                            grid_resolution=self.pair_resolution, progress=ctx.progress)
                result = self._of_every_row(result, [j, k])
            else:
                categorical = [t.feature_names[c] for c in (j, k) if t.categorical[c]]
                if categorical:
                    raise InputError(f"2-D ALE needs numeric features; {categorical} categorical: use the 2-D PDP")
                result = ale(self._model, t, [j, k], bins=max(2, self.pair_resolution // 2),
                             target=self._target_arg(), progress=ctx.progress)
            self._cache = {kk: v for kk, v in self._cache.items() if kk[0] != "pair" or len(self._cache) < 8}
            self._cache[key] = result
        with self._applying(ctx):
            self._put_surface(self._cache[key], j, k)

    def _fit_surrogate(self, kind: str, max_depth: int, n_terms: int, ctx: RequestContext) -> None:
        sur = global_surrogate(self._model, self._table, kind=kind, max_depth=check_int(max_depth, "max_depth", 1),
                               n_terms=check_int(n_terms, "n_terms", 1), target=self._target_arg(), seed=self.seed,
                               progress=ctx.progress)
        with self._applying(ctx):
            self._put_surrogate(sur, max_depth, n_terms)

    def _of_every_row(self, result: ICE | PartialDependence, columns: list[int]) -> ICE | PartialDependence:
        """A result computed on the sampled rows, told which rows of X they are (and given every row's rug)."""
        values = self._table.values[:, columns[0] if isinstance(result, ICE) else columns].copy()
        return replace(result, rows=self._rows, values=values)

    # -- results into traits (live and static views alike; inside ``_applying``) ---------------------
    def _put_ice(self, result: ICE, row_values: np.ndarray | None = None) -> None:
        self._ice = result
        self.grid = result.grid.astype(np.float64)
        self.ice_table = result.predictions.astype(np.float32)
        self.row_ids = np.asarray(result.rows, dtype=np.int32)
        self.row_values = np.asarray(result.x[:, None] if row_values is None else row_values, dtype=np.float32)
        self.row_x = np.asarray(result.x, dtype=np.float64)
        self.rug = _rug(result.values)
        self.output_label = result.output_label
        self.anchor_index = int(np.argmin(np.abs(result.grid - result.anchor)))

    def _put_ale(self, result: ALE) -> None:
        self._ale = result
        self.ale_x = result.edges[0].astype(np.float64)
        self.ale_y = result.effect.astype(np.float32)

    def _put_surface(self, result: PartialDependence | ALE, j: int, k: int) -> None:
        self._surface_result = result
        kind = "pdp" if isinstance(result, PartialDependence) else "ale"
        self.surface_x, self.surface_y = result.grid if kind == "pdp" else result.edges
        self.surface = (result.average if kind == "pdp" else result.effect).astype(np.float32)
        self.pair, self.pair_kind = k, kind
        self.surface_features = [j, k, kind]
        self.output_label = result.output_label

    def _put_importance(self, result: PermutationImportance) -> None:
        self._importance = result
        self.importance = result.mean.astype(np.float64)
        self.importance_std = result.std.astype(np.float64)
        self.importance_label = "; ".join(result.quality())

    def _put_surrogate(self, result: GlobalSurrogate, max_depth: int | None = None, n_terms: int | None = None) -> None:
        self._surrogate = result
        self.surrogate = {
            "kind": result.kind, "fidelity": result.fidelity, "fidelity_name": result.fidelity_name,
            "text": result.rules, "terms": [{"name": n, "coef": c} for n, c in result.terms()],
            "max_depth": result.max_depth or max_depth or self.max_depth,
            "n_terms": result.n_terms or n_terms or self.n_terms,
            "output_label": result.output_label, "summary": result.summary(), "quality": result.quality(),
        }

    def _put_names(self, names: list[str], categorical: list[bool], feature: int = 0) -> None:
        self.feature_names = list(names)
        self.categorical = [bool(c) for c in categorical]
        self.feature = feature

    # -- requests from the view -----------------------------------------------------------------
    @handles("feature")
    def _on_feature(self, params: dict, ctx: RequestContext) -> dict:
        self._require_model()
        j = feature_index(self._table, params.get("feature", self.feature))
        self._show_feature(j, ctx)
        if self.pair >= 0:
            with self._applying(ctx):
                self.pair = -1
        return {"feature": j}

    @handles("pair")
    def _on_pair(self, params: dict, ctx: RequestContext) -> dict:
        self._require_model()
        k = params.get("pair", self.pair)
        if k is None or k == -1:
            with self._applying(ctx):
                self.pair = -1
            return {"pair": -1}
        j = feature_index(self._table, params.get("feature", self.feature))
        k = feature_index(self._table, k, "pair")
        if j != self.feature:
            self._show_feature(j, ctx)
        self._show_pair(j, k, params.get("kind", self.pair_kind), ctx)
        return {"pair": k}

    @handles("target")
    def _on_target(self, params: dict, ctx: RequestContext) -> dict:
        self._require_model()
        self._set_target(params.get("target"), ctx)
        return {"target": self.target}

    @handles("surrogate")
    def _on_surrogate(self, params: dict, ctx: RequestContext) -> dict:
        self._require_model()
        self._fit_surrogate(params.get("kind", self.surrogate.get("kind", "tree")),
                            params.get("max_depth", self.max_depth), params.get("n_terms", self.n_terms), ctx)
        return {}

    def _set_target(self, target: Any, ctx: RequestContext) -> None:
        if not self.classes:
            raise InputError("target applies to classifiers; this model is a regression")
        output = tabular_output(self._model, self._table, target)
        with self._applying(ctx):
            self.target = output.target
        self._compute_importance(ctx)
        self._show_feature(self.feature, ctx)
        if self.pair >= 0:
            self._show_pair(self.feature, self.pair, self.pair_kind, ctx)
        info = self.surrogate
        if info:
            self._fit_surrogate(info["kind"], info["max_depth"], info["n_terms"], ctx)
        if self._tables_on:
            self._build_tables(ctx)

    # -- answer tables (the view switches features without the kernel) -------------------------------
    def precompute(self) -> None:
        """Compute every feature's ICE table and ALE for the shown class, so the view draws any feature's PDP,
        ICE, c-ICE, d-ICE and ALE from tables: at once in a live session, and without a kernel in an exported
        page. Rebuilt when the class changes."""
        self._require_model()
        with self._compute_lock:
            self._tables_on = True
            self._build_tables(DIRECT)

    def _build_tables(self, ctx: RequestContext) -> None:
        n = self._table.n_features
        entries = []
        for j in range(n):
            curves, effect = self._feature_results(j, ctx)
            self._every_feature[(j, self.target)] = (curves, effect)
            entries.append({
                "grid": curves.grid.astype(np.float64), "ice_table": curves.predictions.astype(np.float32),
                "row_x": np.asarray(curves.x, dtype=np.float64), "rug": _rug(curves.values),
                "ale_x": effect.edges[0].astype(np.float64), "ale_y": effect.effect.astype(np.float32),
                "anchor_index": int(np.argmin(np.abs(curves.grid - curves.anchor))), "output_label": curves.output_label,
            })
            ctx.progress((j + 1) / n)
        first = self._every_feature[(0, self.target)][0]
        with self._applying(ctx):
            self.answer_tables = {"target": self.target, "row_ids": np.asarray(first.rows, dtype=np.int32),
                                  "row_values": self._table.values[first.rows].astype(np.float32), "features": entries}

    def _require_model(self) -> None:
        if self._model is None or self._table is None:
            raise InputError("this view was made from a result without a model; pass model= and X= to explore")

    # -- changes made from Python (or written by the view) ---------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        # features may be given by name from Python: fe.feature = "temp"; fe.pair = "hum" / None
        if name in ("feature", "pair") and getattr(self, "_table", None) is not None and not isinstance(value, bool):
            if value is None and name == "pair":
                value = -1
            elif isinstance(value, str) or (isinstance(value, (int, np.integer)) and not (name == "pair" and value == -1)):
                value = feature_index(self._table, value, name)
        super().__setattr__(name, value)

    @traitlets.observe("feature", "pair", "pair_kind", "target", "anchor_index")
    def _python_changed(self, change: dict) -> None:
        if self._is_applying or self._model is None or self._ice is None:
            return
        name = change["name"]
        if name == "anchor_index":
            if not 0 <= self.anchor_index < len(self._ice.grid):
                with self._applying():
                    self.anchor_index = change["old"]
                raise InputError(f"anchor_index={change['new']} is out of range: the grid has "
                                 f"{len(self._ice.grid)} values")
            return
        if name in ("pair", "pair_kind") and self.pair < 0:
            return
        request = {"feature": ("feature", {"feature": self.feature}), "target": ("target", {"target": self.target})}.get(
            name, ("pair", {"feature": self.feature, "pair": self.pair, "kind": self.pair_kind}))
        if self._compute_or_queue(*request):  # written by the view: the worker computes
            return
        with self._compute_lock:
            try:
                if name == "feature":
                    self._show_feature(self.feature, DIRECT)
                    if self.pair >= 0:
                        with self._applying():
                            self.pair = -1
                elif name == "target":
                    self._set_target(self.target, DIRECT)
                else:
                    self._show_pair(self.feature, self.pair, self.pair_kind, DIRECT)
            except Exception:
                with self._applying():  # keep the traits true to what is shown
                    self.feature = feature_index(self._table, self._ice.feature)
                    if name == "target":
                        self.target = change["old"]
                    elif name in ("pair", "pair_kind"):
                        shown = self.surface_features
                        self.pair = shown[1] if shown and self.pair >= 0 and shown[0] == self.feature else -1
                        self.pair_kind = shown[2] if shown else "pdp"
                raise

    def set_anchor(self, value: float) -> None:
        """Anchor the centred ICE at ``value`` of the feature (added to the grid when it is not on it)."""
        self._require_model()
        with self._compute_lock:
            self._show_feature(self.feature, DIRECT, anchor=value)
            with self._applying():
                self.kind = "centred"

    def show_surrogate(self, kind: str = "tree", *, max_depth: int | None = None, n_terms: int | None = None) -> GlobalSurrogate:
        """Refit the surrogate panel's model; returns the :class:`~nbexplain.GlobalSurrogate`."""
        self._require_model()
        with self._compute_lock:
            self._fit_surrogate(kind, max_depth or self.max_depth, n_terms or self.n_terms, DIRECT)
        return self._surrogate

    # -- what is shown, as results ----------------------------------------------------------------
    @property
    def result(self) -> ICE | PartialDependence | ALE | None:
        """The result shown now: the 2-D surface when a pair is chosen, else the chosen kind of effect."""
        if self.pair >= 0 and self._surface_result is not None:
            return self._surface_result
        if self.kind == "ale":
            return self._ale
        if self._ice is None:
            return None
        if self.kind == "pdp":
            return self._ice.partial_dependence()
        anchor = float(self._ice.grid[min(self.anchor_index, len(self._ice.grid) - 1)])
        return self._ice.with_kind(KIND_OF_ICE[self.kind], anchor if self.kind == "centred" else None)

    @property
    def importances(self) -> PermutationImportance | None:
        """The permutation importance the picker is ranked by."""
        return self._importance

    @property
    def surrogate_result(self) -> GlobalSurrogate | None:
        """The global surrogate the panel shows."""
        return self._surrogate

    @classmethod
    def from_result(cls, result: Any, model: Any = None, X: Any = None, **options: Any) -> FeatureEffects:
        """Deprecated: ``result.widget(model=..., X=..., **options)``."""
        warnings.warn(f"FeatureEffects.from_result(result) is now result.widget(); from_result stops working in "
                      f"nbexplain {REMOVED_IN}", FutureWarning, stacklevel=2)
        return result.widget(model=model, X=X, **options)

    # -- static fallback ------------------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        from ..plotting.figure import png_of

        shown = self.result
        panels = [p for p in (self._importance, shown) if p is not None]
        if not panels and self._surrogate is not None:
            panels = [self._surrogate]
        if not panels:
            return None

        def draw(fig):
            axes = fig.subplots(1, len(panels), squeeze=False)[0]
            for ax, p in zip(axes, panels, strict=True):
                p.plot(ax=ax)
            fig.tight_layout()

        return png_of(draw, figsize=(5.2 * len(panels), 3.8))


# -- result.widget(**options): one function per result type ---------------------------------------------
def _live(model: Any, X: Any) -> bool:
    """True for a live view (``model`` and ``X`` given), False for a static view of the result alone."""
    if (model is None) != (X is None):
        raise InputError("a live view needs both model= and X= (the data); pass both, or neither for a static view")
    return model is not None


def _static(**options: Any) -> FeatureEffects:
    return FeatureEffects(None, None, interactive=False, **options)


@shows(ICE)
def ice_view(result: ICE, *, model: Any = None, X: Any = None, **options: Any) -> FeatureEffects:
    """``ice.widget()``: the curves, switchable to PDP, c-ICE and d-ICE (live on ``model`` and ``X``)."""
    if _live(model, X):
        widget = FeatureEffects(model, X, **{"feature": result.feature, "target": result.target,
                                             "kind": VIEW_KIND[result.kind], **options})
        if result.kind == "centred" and not np.isclose(widget.grid, result.anchor).any():
            widget.set_anchor(result.anchor)
        return widget
    widget = _static(**options)
    with widget._applying():
        widget._put_names([result.feature], [result.categorical])
        widget._put_ice(result)
        widget.kind = VIEW_KIND[result.kind]
    return widget


@shows(PartialDependence)
def partial_dependence_view(result: PartialDependence, *, model: Any = None, X: Any = None,
                            **options: Any) -> FeatureEffects:
    """``pd.widget()``: the curve with its ICE table, or a pair's surface (live on ``model`` and ``X``)."""
    if _live(model, X):
        widget = FeatureEffects(model, X, **{"feature": result.features[0], "target": result.target, "kind": "pdp",
                                             **options})
        if len(result.features) == 2:
            widget.pair = result.features[1]
        return widget
    widget = _static(**options)
    with widget._applying():
        widget._put_names(result.features, result.categorical)
        if len(result.features) == 2:
            widget._put_surface(result, 0, 1)
        else:
            widget._put_ice(result.ice())
            widget.kind = "pdp"
    return widget


@shows(ALE)
def ale_view(result: ALE, *, model: Any = None, X: Any = None, **options: Any) -> FeatureEffects:
    """``ale.widget()``: the curve (or a pair's interaction surface; live on ``model`` and ``X``)."""
    if _live(model, X):
        widget = FeatureEffects(model, X, **{"feature": result.features[0], "target": result.target, "kind": "ale",
                                             **options})
        if result.order == 2:
            widget.pair_kind = "ale"
            widget.pair = result.features[1]
        return widget
    widget = _static(**options)
    with widget._applying():
        widget._put_names(result.features, [result.categorical] * result.order)
        widget.output_label = result.output_label
        if result.order == 2:
            widget._put_surface(result, 0, 1)
        else:
            widget._put_ale(result)
            widget.rug = _rug(result.values[:, 0])
            widget.kind = "ale"
    return widget


@shows(PermutationImportance)
def importance_view(result: PermutationImportance, *, model: Any = None, X: Any = None,
                    **options: Any) -> FeatureEffects:
    """``importance.widget()``: the ranked features (live on ``model`` and ``X``: with their effects)."""
    if _live(model, X):
        return FeatureEffects(model, X, **{"n_repeats": result.importances.shape[1], **options})
    widget = _static(**options)
    with widget._applying():
        widget._put_names(result.feature_names, [False] * len(result.feature_names), feature=-1)
        widget._put_importance(result)
    return widget


@shows(GlobalSurrogate)
def surrogate_view(result: GlobalSurrogate, *, model: Any = None, X: Any = None, **options: Any) -> FeatureEffects:
    """``surrogate.widget()``: the surrogate's rules or terms with its fidelity (live on ``model`` and ``X``)."""
    if _live(model, X):
        size = {"max_depth": result.max_depth} if result.kind == "tree" else {"n_terms": result.n_terms}
        return FeatureEffects(model, X, **{"surrogate": result.kind, **{k: v for k, v in size.items() if v},
                                           **options})
    widget = _static(**options)
    with widget._applying():
        widget._put_names(result.feature_names, [False] * len(result.feature_names), feature=-1)
        widget._put_surrogate(result)
    return widget


__all__ = ["FeatureEffects", "KINDS", "PAIR_KINDS"]
