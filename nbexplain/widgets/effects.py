"""FeatureEffects: a feature picker ranked by permutation importance, one effect plot (PDP, ICE, c-ICE,
d-ICE, ALE) with a rug, 2-D PDP / ALE for a pair, and a global-surrogate panel.

What travels: the ICE table of the chosen feature (rows x grid, float32) and its ALE curve are traits, so
the view switches between PDP, ICE, c-ICE (any grid anchor) and d-ICE from that table alone, without a
kernel round trip (and still does in a static HTML export). Choosing another feature, a pair, a target
class or a surrogate is a request answered by the kernel (:mod:`.base` transport: ids, progress,
stale-result suppression, errors shown in the widget).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from .._validation import check_int
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
from ..inputs.tables import (
    as_table,
    feature_index,
    sample_rows,
    tabular_model,
)
from . import assets
from .base import DIRECT, ExplainerWidget, RequestContext, handles
from .codec import array_serialization

KINDS = ("pdp", "ice", "centred", "derivative", "ale")
PAIR_KINDS = ("pdp", "ale")
RUG_MAX = 5000
KIND_OF_ICE = {"ice": "plain", "centred": "centred", "derivative": "derivative", "pdp": "plain"}


def _array(**kw):
    return traitlets.Any(None, **kw).tag(sync=True, **array_serialization)


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
        The data; effects average over a sample of ``max_rows`` rows, ALE and importance use all rows.
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

    Examples
    --------
    >>> fe = nbx.FeatureEffects(gbr, X, feature_names=names)
    >>> fe.feature = "temp"; fe.kind = "centred"
    >>> fe.pair = "hum"                       # 2-D partial dependence of temp x hum
    >>> fe.result                             # the ICE / PartialDependence / ALE shown now
    """

    _esm = assets.view_esm("effects")
    _css = assets.view_css("effects")

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

    surrogate = traitlets.Dict({}).tag(sync=True)  # {kind, fidelity, fidelity_name, text, terms, max_depth, n_terms}
    interactive = traitlets.Bool(True).tag(sync=True)
    plot_width = traitlets.Int(520, min=200).tag(sync=True)
    plot_height = traitlets.Int(320, min=150).tag(sync=True)

    def __init__(self, model: Any, X: Any, y: Any = None, *, feature_names: Any = None, categorical: Any = None,
                 target: Any = None, feature: Any = None, kind: str = "pdp", grid_resolution: int = 50,
                 ale_bins: int = 20, pair_resolution: int = 20, max_rows: int = 500, n_repeats: int = 5,
                 importance_rows: int | None = 2000,
                 surrogate: str = "tree", max_depth: int = 3, n_terms: int = 5, random_state: int = 0,
                 **kwargs: Any):
        if kind not in KINDS:
            raise InputError(f"kind={kind!r} is not valid: expected one of {list(KINDS)}")
        self.grid_resolution = check_int(grid_resolution, "grid_resolution", 2)
        self.ale_bins = check_int(ale_bins, "ale_bins", 1)
        self.pair_resolution = check_int(pair_resolution, "pair_resolution", 2)
        self.n_repeats = check_int(n_repeats, "n_repeats", 1)
        self.max_depth = check_int(max_depth, "max_depth", 1)
        self.n_terms = check_int(n_terms, "n_terms", 1)
        self.random_state = random_state
        self._y = None if y is None else np.asarray(y)
        self._table = None if X is None else as_table(X, feature_names, categorical=categorical)
        self._model = None if model is None else tabular_model(model, self._table)
        self._cache: dict = {}
        self._ice: ICE | None = None
        self._ale: ALE | None = None
        self._importance: PermutationImportance | None = None
        self._surrogate: GlobalSurrogate | None = None
        self._surface_result: PartialDependence | ALE | None = None
        super().__init__(**kwargs)
        if self._model is None or self._table is None:
            return
        t = self._table
        self._rows = sample_rows(t.n_rows, check_int(max_rows, "max_rows", 1), random_state)
        self._importance_rows = sample_rows(t.n_rows, importance_rows, random_state + 1)
        if self._y is not None and len(self._y) != t.n_rows:
            raise InputError(f"y must have one value per row of X ({t.n_rows}); got {len(self._y)}")
        output = tabular_output(self._model, t, target)
        with self._applying():
            self.feature_names = list(t.feature_names)
            self.categorical = [bool(c) for c in t.categorical]
            self.row_ids = self._rows.astype(np.int32)
            self.row_values = t.values[self._rows].astype(np.float32)
            self.kind = kind
            if output.kind == "probability":
                self.classes = [{"index": i, "name": self._model.class_name(i)} for i in range(output.n_classes)]
            self.target = output.target
        self._compute_importance(DIRECT)
        first = int(np.argmax(self._importance.mean)) if feature is None else feature_index(t, feature)
        self._show_feature(first, DIRECT)
        self._fit_surrogate(surrogate, self.max_depth, self.n_terms, DIRECT)

    # -- computing --------------------------------------------------------------------------------
    def _target_arg(self) -> int | None:
        return self.target if self.classes else None

    def _compute_importance(self, ctx: RequestContext) -> None:
        rows = self._importance_rows
        imp = permutation_importance(self._model, self._table.take(rows), None if self._y is None else self._y[rows],
                                     n_repeats=self.n_repeats,
                                     random_state=self.random_state, target=self._target_arg(), progress=ctx.progress)
        ref = "its own predictions" if imp.against == "model" else "the labels"
        with self._applying(ctx):
            self._importance = imp
            self.importance = imp.mean.astype(np.float64)
            self.importance_std = imp.std.astype(np.float64)
            self.importance_label = (f"drop in {imp.scoring} vs {ref} when shuffled "
                                     f"({self.n_repeats} repeats, {len(rows)} rows)")

    def _show_feature(self, j: int, ctx: RequestContext, anchor: float | None = None) -> None:
        t = self._table
        key = ("feature", j, self.target, anchor)
        if key not in self._cache:
            def half(f: float) -> None:
                ctx.progress(0.8 * f)

            curves = ice(self._model, t.values[self._rows], j, feature_names=t.feature_names,
                         categorical=t.categorical, target=self._target_arg(), grid_resolution=self.grid_resolution,
                         grid=self._grid_for(j, anchor), progress=half)
            curves = ICE(**{**curves.__dict__, "rows": self._rows, "values": t.values[:, j].copy()})
            effect = ale(self._model, t, j, bins=self.ale_bins, target=self._target_arg(),
                         progress=lambda f: ctx.progress(0.8 + 0.2 * f))
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "feature"}  # keep one feature
            self._cache[key] = (curves, effect)
        curves, effect = self._cache[key]
        column = t.values[:, j]
        rug = column if len(column) <= RUG_MAX else column[sample_rows(len(column), RUG_MAX, 0)]
        with self._applying(ctx):
            self._ice, self._ale = curves, effect
            self.output_label = curves.output_label
            self.feature = j
            self.grid = curves.grid.astype(np.float64)
            self.ice_table = curves.predictions.astype(np.float32)
            self.row_x = curves.x.astype(np.float64)
            self.rug = rug.astype(np.float32)
            self.ale_x = effect.edges[0].astype(np.float64)
            self.ale_y = effect.effect.astype(np.float32)
            self.anchor_index = 0 if anchor is None else int(np.argmin(np.abs(curves.grid - anchor)))
            self.highlighted = -1
            if self.kind == "derivative" and t.categorical[j]:
                self.kind = "ice"

    def _grid_for(self, j: int, anchor: float | None):
        if anchor is None:
            return None
        from ..methods.effects.pdp import default_grid

        t = self._table
        g = default_grid(t.values[:, j], categorical=bool(t.categorical[j]), grid_resolution=self.grid_resolution)
        return np.sort(np.unique(np.append(g, anchor)))

    def _show_pair(self, j: int, k: int, kind: str, ctx: RequestContext) -> None:
        if kind not in PAIR_KINDS:
            raise InputError(f"pair_kind={kind!r} is not valid: expected one of {list(PAIR_KINDS)}")
        t = self._table
        if j == k:
            raise InputError(f"pair must be another feature than {t.feature_names[j]!r}")
        key = ("pair", j, k, kind, self.target)
        if key not in self._cache:
            if kind == "pdp":
                result = partial_dependence(self._model, t.values[self._rows], [j, k], feature_names=t.feature_names,
                                            categorical=t.categorical, target=self._target_arg(),
                                            grid_resolution=self.pair_resolution, progress=ctx.progress)
                result = PartialDependence(**{**result.__dict__, "values": t.values[:, [j, k]].copy()})
            else:
                cat = [t.feature_names[c] for c in (j, k) if t.categorical[c]]
                if cat:
                    raise InputError(f"2-D ALE needs numeric features; {cat} categorical: use the 2-D PDP")
                result = ale(self._model, t, [j, k], bins=max(2, self.pair_resolution // 2),
                             target=self._target_arg(), progress=ctx.progress)
            self._cache = {kk: v for kk, v in self._cache.items() if kk[0] != "pair" or len(self._cache) < 8}
            self._cache[key] = result
        result = self._cache[key]
        with self._applying(ctx):
            self._surface_result = result
            self.pair, self.pair_kind = k, kind
            if kind == "pdp":
                self.surface_x, self.surface_y = result.grid[0], result.grid[1]
                self.surface = result.average.astype(np.float32)
            else:
                self.surface_x, self.surface_y = result.edges[0], result.edges[1]
                self.surface = result.effect.astype(np.float32)
            self.surface_features = [j, k, kind]

    def _fit_surrogate(self, kind: str, max_depth: int, n_terms: int, ctx: RequestContext) -> None:
        max_depth = check_int(max_depth, "max_depth", 1)
        n_terms = check_int(n_terms, "n_terms", 1)
        sur = global_surrogate(self._model, self._table, kind=kind, max_depth=max_depth, n_terms=n_terms,
                               target=self._target_arg(), random_state=self.random_state, progress=ctx.progress)
        with self._applying(ctx):
            self._surrogate = sur
            self.surrogate = {
                "kind": sur.kind, "fidelity": sur.fidelity, "fidelity_name": sur.fidelity_name,
                "text": sur.rules, "terms": [{"name": n, "coef": c} for n, c in sur.terms()],
                "max_depth": max_depth, "n_terms": n_terms, "output_label": sur.output_label,
            }

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

    def _require_model(self) -> None:
        if self._model is None or self._table is None:
            raise InputError("this view was made from a result without a model; pass model= and X= to explore")

    # -- changes made from Python -----------------------------------------------------------------
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
        with self._compute_lock:
            try:
                if name == "feature":
                    self._show_feature(self.feature, DIRECT)
                    if self.pair >= 0:
                        with self._applying():
                            self.pair = -1
                elif name in ("pair", "pair_kind") and self.pair >= 0:
                    self._show_pair(self.feature, self.pair, self.pair_kind, DIRECT)
                elif name == "target":
                    self._set_target(self.target, DIRECT)
                elif name == "anchor_index" and not 0 <= self.anchor_index < len(self._ice.grid):
                    raise InputError(f"anchor_index={self.anchor_index} is out of range: the grid has {len(self._ice.grid)} values")
            except Exception:
                with self._applying():  # keep the traits true to what is shown
                    self.feature = feature_index(self._table, self._ice.feature)
                    if name == "anchor_index":
                        self.anchor_index = 0
                    elif name == "target":
                        self.target = self._ice.target
                    elif name in ("pair", "pair_kind"):
                        shown = self.surface_features
                        self.pair = shown[1] if shown and self.pair >= 0 and shown[0] == self.feature else -1
                        self.pair_kind = shown[2] if shown else "pdp"
                raise

    def set_anchor(self, value: float) -> None:
        """Anchor the centred ICE at ``value`` of the feature (added to the grid when it is not on it)."""
        try:
            value = float(value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"anchor must be a number; got {value!r}") from exc
        with self._compute_lock:
            self._show_feature(self.feature, DIRECT, anchor=value)
            with self._applying():
                self.kind = "centred"

    def show_surrogate(self, kind: str = "tree", *, max_depth: int | None = None, n_terms: int | None = None) -> GlobalSurrogate:
        """Refit the surrogate panel's model; returns the :class:`~nbexplain.effects.GlobalSurrogate`."""
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
            c = self._ice
            return PartialDependence(features=[c.feature], grid=[c.grid], average=c.predictions.mean(axis=0),
                                     individual=c.predictions, values=c.values[:, None], categorical=[c.categorical],
                                     output_label=c.output_label, target=c.target)
        anchor = float(self._ice.grid[min(self.anchor_index, len(self._ice.grid) - 1)])
        return self._ice.with_kind(KIND_OF_ICE[self.kind], anchor if self.kind == "centred" else None)

    @property
    def importances(self) -> PermutationImportance | None:
        return self._importance

    @property
    def surrogate_result(self) -> GlobalSurrogate | None:
        return self._surrogate

    # -- from results -------------------------------------------------------------------------------
    @classmethod
    def from_result(cls, result: Any, model: Any = None, X: Any = None, **kwargs: Any) -> FeatureEffects:
        """A view of ``result``; live (other features, pairs) only when ``model`` and ``X`` are given."""
        if model is not None and X is not None:
            names = getattr(result, "features", None) or [getattr(result, "feature", None)]
            kind = {"plain": "ice", "centred": "centred", "derivative": "derivative"}.get(getattr(result, "kind", ""), "pdp")
            kind = "ale" if isinstance(result, ALE) else kind
            widget = cls(model, X, feature=names[0] if names[0] is not None else None, kind=kind, **kwargs)
            return widget
        widget = cls(None, None, interactive=False, **kwargs)
        with widget._applying():
            if isinstance(result, ICE):
                widget._static_ice(result)
                widget.kind = {"plain": "ice", "centred": "centred", "derivative": "derivative"}[result.kind]
                if result.kind == "centred":
                    widget.anchor_index = int(np.argmin(np.abs(result.grid - result.anchor)))
            elif isinstance(result, PartialDependence) and len(result.features) == 1:
                n = len(result.values)
                fake = ICE(feature=result.features[0], grid=result.grid[0],
                           predictions=result.individual if result.individual is not None else result.average[None],
                           curves=result.average[None], kind="plain", anchor=float(result.grid[0][0]),
                           rows=np.arange(n), x=result.values[:, 0], values=result.values[:, 0],
                           categorical=result.categorical[0], output_label=result.output_label)
                widget._static_ice(fake)
                widget.kind = "pdp"
            elif isinstance(result, ALE) and result.order == 1:
                widget.feature_names = list(result.features)
                widget.categorical = [bool(result.categorical)]
                widget._ale = result
                widget.ale_x, widget.ale_y = result.edges[0], result.effect.astype(np.float32)
                widget.rug = result.values[:, 0].astype(np.float32)
                widget.output_label = result.output_label
                widget.kind = "ale"
            elif isinstance(result, (PartialDependence, ALE)):
                widget.feature_names = list(result.features)
                widget.categorical = [False, False]
                widget._surface_result = result
                is_pd = isinstance(result, PartialDependence)
                grids = result.grid if is_pd else result.edges
                widget.surface_x, widget.surface_y = grids[0], grids[1]
                widget.surface = (result.average if is_pd else result.effect).astype(np.float32)
                widget.pair, widget.pair_kind = 1, "pdp" if is_pd else "ale"
                widget.surface_features = [0, 1, widget.pair_kind]
                widget.output_label = result.output_label
            elif isinstance(result, PermutationImportance):
                widget._importance = result
                widget.feature_names = list(result.feature_names)
                widget.categorical = [False] * len(result.feature_names)
                widget.importance, widget.importance_std = result.mean, result.std
                widget.importance_label = f"drop in {result.scoring} when shuffled"
                widget.feature = -1
            elif isinstance(result, GlobalSurrogate):
                widget._surrogate = result
                widget.feature_names = list(result.feature_names)
                widget.feature = -1
                widget.surrogate = {"kind": result.kind, "fidelity": result.fidelity,
                                    "fidelity_name": result.fidelity_name, "text": result.rules,
                                    "terms": [{"name": n, "coef": c} for n, c in result.terms()],
                                    "output_label": result.output_label}
            else:
                raise InputError(f"cannot show a {type(result).__name__}; expected an ICE, PartialDependence, ALE, "
                                 "PermutationImportance or GlobalSurrogate")
        return widget

    def _static_ice(self, result: ICE) -> None:
        self._ice = result
        self.feature_names = [result.feature]
        self.categorical = [bool(result.categorical)]
        self.feature = 0
        self.grid = result.grid.astype(np.float64)
        self.ice_table = result.predictions.astype(np.float32)
        self.row_ids = np.asarray(result.rows, dtype=np.int32)
        self.row_values = np.asarray(result.x, dtype=np.float32)[:, None]
        self.row_x = np.asarray(result.x, dtype=np.float64)
        self.rug = np.asarray(result.values, dtype=np.float32)
        self.output_label = result.output_label

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


__all__ = ["FeatureEffects", "KINDS", "PAIR_KINDS"]
