"""SuperpixelExplorer: click superpixels off and on, watch the prediction, explain with LIME, Shapley, anchors.

The view owns the mask being edited and asks "predict" for it; the kernel (or, once the whole 2**M table
of a small segmentation is known, the table the view holds) answers with the shown classes'
probabilities. Every answer and every explanation comes from one :class:`~nbexplain.SuperpixelGame`, so
toggles, LIME, Shapley values, anchors and curves share cached model outputs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from .._validation import check_bool, check_number, check_positive_int, is_int
from ..adapters.model import as_model
from ..errors import Cancelled, InputError
from ..explain.superpixels import (
    Anchor,
    LimeImage,
    PerturbationCurves,
    ShapleyImage,
    SuperpixelGame,
    SuperpixelResult,
    anchor_image,
    deletion_insertion,
    lime_image,
    shapley_image,
)
from ..inputs.images import as_image, to_display
from ..inputs.segmentation import SEGMENTATION_METHODS, Segmentation
from ..methods.coalitions.masks import all_coalitions
from ..methods.coalitions.superpixels import FILLS
from . import assets
from .base import DIRECT, Request, RequestContext, handles
from .coalition_explorer import TABLE_MAX_PLAYERS, CoalitionExplorer
from .codec import array_serialization
from .display import page_image, page_labels
from .quality import SuperpixelQualityPanel  # issue 17: the quality panel
from .tables import answer_tables_trait, wants_tables

EXPLAINERS = ("lime", "shapley", "anchor")
GAMES_KEPT = 4
#: one-toggle neighbours evaluated per model call while speculating: each chunk is cached as it comes, and a
#: newer request stops the work at the next model batch (so it waits for at most one small batch)
NEIGHBOURS_CHUNK = 8
#: permutations of the Shapley values behind the additive approximation in an export (M > 12)
APPROXIMATION_PERMUTATIONS = 8


def _array_trait():
    return traitlets.Any(None).tag(sync=True, **array_serialization)


class SuperpixelExplorer(SuperpixelQualityPanel, CoalitionExplorer):
    """An image split into superpixels beside the model's class probabilities; toggle superpixels, explain.

    Click a superpixel (or focus one and press space) to hide it, filled with its mean colour, grey,
    black, a blur or your image; the bars follow. Re-segment live (slic, felzenszwalb, quickshift, a grid,
    or your labels). LIME, Shapley and Anchor buttons colour the superpixels (or outline the anchor) with
    the explanation's quality beside it; a slider keeps or removes the top-k superpixels of the ranking
    (the deletion/insertion curves).

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable, Model or SuperpixelGame
        The classifier; a :class:`~nbexplain.SuperpixelGame` brings its image, segmentation, fill, target
        and cached evaluations (e.g. the 2**M table exact Shapley values computed).
    image : array or PIL image
        The image (as :func:`nbexplain.as_image` accepts); omit with a game.
    segmentation : str, Segmentation, array or callable
        "slic", "felzenszwalb", "quickshift", "grid", a :class:`Segmentation`, labels or a callable.
    n_segments : int, optional
        Main parameter of "slic" and "grid".
    fill : str, number or image
        What a hidden superpixel shows: "mean" (its own mean colour), "grey", "black", "white", "blur",
        a number or an image.
    target : int, str or None
        The class shown with the top-k and explained; None is the predicted class.
    top_k : int
        Classes shown (plus the target).
    segment_params : dict, optional
        Further parameters of the segmentation method (e.g. ``{"compactness": 20}``).
    explain_options : dict, optional
        Options per explainer, e.g. ``{"lime": {"n_samples": 500}, "anchor": {"threshold": 0.9}}``.
    precompute : bool or None
        Build the answer tables (:meth:`precompute`) so the view answers toggles without the kernel; None:
        only when the notebook is exported (:func:`nbexplain.export_html`).
    speculate : bool
        With M > 12, after each toggle the kernel evaluates every one-toggle neighbour of the shown mask in
        the background (cancelled by the next request) and sends them, so the next toggle is answered in
        the page at once; the kernel confirms it after.

    Examples
    --------
    >>> ex = nbx.SuperpixelExplorer(model, image, segmentation="slic", n_segments=50, fill="mean")
    >>> ex.toggle(3); ex.probabilities[ex.target]
    >>> lime = ex.explain("lime")
    """

    _esm = assets.view_esm("superpixels")
    _css = assets.view_css("superpixels")
    _player_noun = "superpixel"

    image = _array_trait()  # (H, W, 3) uint8
    fill_image = _array_trait()  # (H, W, 3) uint8: what hidden superpixels show
    labels = _array_trait()  # (H, W) int32
    n_superpixels = traitlets.Int(0).tag(sync=True)
    active = _array_trait()  # (M,) bool: True = shown
    classes = traitlets.List([]).tag(sync=True)  # [{index, name, full}] the classes with bars
    bars = _array_trait()  # (T,) float32 probabilities of `classes` for `active`
    top = traitlets.Dict({}).tag(sync=True)  # {index, name, probability}: the predicted class for `active`
    target = traitlets.Int(0).tag(sync=True)
    seg_method = traitlets.Unicode("slic").tag(sync=True)
    seg_param = traitlets.Float(None, allow_none=True).tag(sync=True)
    seg_options = traitlets.List([]).tag(sync=True)  # [{name, label, param, low, high, step}]
    fill = traitlets.Unicode("mean").tag(sync=True)
    fill_options = traitlets.List([]).tag(sync=True)
    overlay = traitlets.Unicode("").tag(sync=True)  # "", "lime", "shapley", "anchor"
    overlay_values = _array_trait()  # (M,) float32
    overlay_info = traitlets.Dict({}).tag(sync=True)  # {title, quality: [lines], limit}
    anchor = traitlets.List([]).tag(sync=True)
    curve_order = _array_trait()  # (M,) int32, most important first
    curve_deletion = _array_trait()  # (M+1,) float32
    curve_insertion = _array_trait()
    curve_info = traitlets.Dict({}).tag(sync=True)  # {auc_deletion, auc_insertion, label}
    table = _array_trait()  # (2**M, T) float32 probabilities of `classes`, when known
    table_top = _array_trait()  # (2**M,) int32 predicted class
    table_top_p = _array_trait()  # (2**M,) float32 its probability
    table_names = traitlets.Dict({}).tag(sync=True)  # {str(class index): name} for table_top
    display_size = traitlets.Int(360, min=64).tag(sync=True)
    interactive = traitlets.Bool(True).tag(sync=True)
    #: M > 12 (see :meth:`precompute`): {base, bars, top_index, top_p, neighbours (M,T), neighbour_top,
    #: neighbour_top_p, names, classes, shapley (T,M), shapley_label}; None until built
    answer_tables = answer_tables_trait()
    table_answers: ClassVar[dict[str, str]] = {
        "predict": "M <= 12: every mask (the 2**M table); beyond: the shown mask and its one-toggle neighbours "
                   "exactly, any other mask by the additive (Shapley) approximation, labelled approximate",
    }

    def __init__(self, model: Any, image: Any = None, segmentation: Any = "slic", n_segments: int | None = None,
                 fill: Any = "mean", target: Any = None, *, class_names=None, top_k: int = 5,
                 segment_params: dict | None = None, explain_options: dict | None = None,
                 precompute: bool | None = None, speculate: bool = True, **kwargs: Any):
        tables_on = wants_tables(precompute)
        super().__init__(**kwargs)
        self._tables_on = False  # set by precompute(): the tables then follow the shown state
        self.speculate = check_bool(speculate, "speculate")
        self._stop_speculating = threading.Event()
        self._take_options(top_k, explain_options, EXPLAINERS)
        self.result: LimeImage | ShapleyImage | Anchor | None = None
        self.curves: PerturbationCurves | None = None
        self._games: OrderedDict[tuple, SuperpixelGame] = OrderedDict()
        self._probs: np.ndarray | None = None
        if model is None:  # a static view of a result (see from_result)
            self._model = None
            self.interactive = False
            return
        given_game = model if isinstance(model, SuperpixelGame) else None
        if given_game is not None:  # explore this game: its image, segmentation, fill, target and cache
            if image is not None:
                raise InputError("pass either a SuperpixelGame, or a model with an image, not both")
            model, image, segmentation = given_game.model, given_game.image, given_game.segmentation
            fill = given_game.fill_spec if given_game.fill_spec != "image" else given_game.fills[0]
            target = given_game.target if target is None else target
            n_segments, segment_params = None, None
        self._model = as_model(model, class_names=class_names)
        self._image = as_image(image)
        self._user_fill = None if isinstance(fill, str) else fill
        self._user_segmentation = None if isinstance(segmentation, str) else segmentation
        if given_game is not None:
            self._games[("custom", (), given_game.fill_spec)] = given_game
        params = dict(segment_params or {})
        method = segmentation if isinstance(segmentation, str) else "custom"
        if n_segments is not None:
            if method not in ("slic", "grid"):
                raise InputError(f"n_segments is the parameter of 'slic' and 'grid'; for {method!r} pass "
                                 "segment_params (e.g. {'scale': 200} for felzenszwalb)")
            params["n_segments"] = n_segments
        self._seg_params: dict[str, dict] = {m: dict(s.defaults) for m, s in SEGMENTATION_METHODS.items()}
        self._seg_params[method] = {**self._seg_params.get(method, {}), **params}
        fills = list(FILLS) + (["image"] if self._user_fill is not None else [])
        self.fill_options = fills
        self.seg_options = [{"name": s.name, "label": s.label, "param": s.main, "low": s.low, "high": s.high,
                             "step": s.step} for s in SEGMENTATION_METHODS.values()] + (
            [{"name": "custom", "label": "your segmentation", "param": None}] if self._user_segmentation is not None else [])
        self._target_request = target
        self._switch(method, "image" if self._user_fill is not None else fill, params, DIRECT)
        if tables_on:
            self.precompute()

    # -- construction from results ----------------------------------------------------------------------
    @classmethod
    def from_result(cls, result: Any, model: Any = None, **kwargs: Any) -> SuperpixelExplorer:
        """An explorer showing ``result`` (LIME, Shapley, anchor or curves); interactive with ``model``."""
        seg: Segmentation = result.segmentation
        if model is not None:
            widget = cls(model, seg.image, segmentation=seg.labels, target=result.target, **kwargs)
        else:
            widget = cls(None, None, **kwargs)
            with widget._applying():
                widget.image, widget.labels = page_image(seg.image), page_labels(seg.labels)
                widget.fill_image = widget.image
                widget.n_superpixels = seg.n_segments
                widget.seg_method = seg.method
                widget._show_class_of(result)
        with widget._applying():
            widget._show_result(result)
        return widget

    # -- Python API -------------------------------------------------------------------------------------
    @property
    def game(self) -> SuperpixelGame:
        """The perturbation engine of the current segmentation and fill (its cache is shared)."""
        return self._game

    @property
    def segmentation(self) -> Segmentation:
        return self._game.segmentation

    @property
    def probabilities(self) -> np.ndarray:
        """(n_classes,) the model's probabilities for the image with the current superpixels shown."""
        return None if self._probs is None else self._probs.copy()

    def toggle(self, i: int) -> None:
        """Hide superpixel ``i`` if shown, show it if hidden."""
        m = self.n_superpixels
        if not is_int(i) or not 0 <= i < m:
            raise InputError(f"i={i!r} is not a superpixel: expected an int in 0..{m - 1}")
        mask = np.array(self.active, dtype=bool)
        mask[i] = ~mask[i]
        self.active = mask

    def reset(self) -> None:
        """Show every superpixel."""
        self.active = np.ones(self.n_superpixels, bool)

    def invert(self) -> None:
        """Show the hidden superpixels and hide the shown ones."""
        self.active = ~np.asarray(self.active, dtype=bool)

    def explain(self, method: str = "lime", **options: Any):
        """Run ``method`` ("lime", "shapley" or "anchor") on the current segmentation; show and return the result.

        ``options`` go to :func:`nbexplain.lime_image`, :func:`nbexplain.shapley_image` or
        :func:`nbexplain.anchor_image` (over the widget's ``explain_options``).
        """
        self._stop_speculating.set()
        with self._compute_lock:
            self._stop_speculating.clear()
            return self._explain(method, options, DIRECT)

    def resegment(self, method: str | None = None, param: float | None = None, fill: Any = None) -> None:
        """Segment again (method and its main parameter) and/or change the fill; resets the mask."""
        self._stop_speculating.set()
        with self._compute_lock:
            self._stop_speculating.clear()
            self._switch(method or self.seg_method, fill if fill is not None else self.fill,
                         self._params_for(method or self.seg_method, param), DIRECT)

    def precompute(self, n_permutations: int = APPROXIMATION_PERMUTATIONS) -> None:
        """Build the tables the view answers toggles from, without the kernel (and kept up to date after).

        M <= 12: every one of the 2**M coalitions (exact). Beyond: the shown mask and its M one-toggle
        neighbours (exact), and sampled Shapley values of every shown class (``n_permutations``
        permutations) for any other mask, which the view labels "approximate — no kernel": the nearest
        exact mask plus the Shapley values of the superpixels toggled from it.
        """
        n_permutations = check_positive_int(n_permutations, "n_permutations")
        self._stop_speculating.set()
        with self._compute_lock:
            self._stop_speculating.clear()
            self._tables_on = True
            self._permutations = n_permutations
            self._build_tables(DIRECT)

    def _build_tables(self, ctx: RequestContext) -> None:
        m = self.n_superpixels
        if m <= TABLE_MAX_PLAYERS:
            self._game.outputs(all_coalitions(m), progress=ctx.progress)
            with self._applying(ctx):
                self._publish_table()
                self.answer_tables = None
            return
        tables = self._neighbourhood(np.asarray(self.active, dtype=bool), ctx.progress)
        key = (self.seg_method, self.seg_param, self.fill, tuple(tables["classes"]), self._permutations)
        if getattr(self, "_shapley_key", None) != key:  # they do not depend on the mask: once per game and classes
            values = []
            for c in self.classes:  # one permutation sample (same seed): the classes share its evaluations
                result = shapley_image(self._game.view(target=c["index"], output="probability"), method="sampled",
                                       n_permutations=self._permutations, seed=0, progress=ctx.progress)
                values.append(result.values)
            self._shapley_key, self._shapley_values = key, np.array(values, dtype=np.float32)
        tables["shapley"] = self._shapley_values
        tables["shapley_label"] = (f"Shapley values ({self._permutations} sampled permutations) of each shown "
                                   "class's probability, added up from the nearest mask the table holds")
        with self._applying(ctx):
            self.answer_tables = tables

    def _refresh_tables(self, ctx: RequestContext = DIRECT) -> None:
        if self._tables_on and self._model is not None:
            self._build_tables(ctx)

    def _neighbourhood(self, mask: np.ndarray, progress: Any = None) -> dict:
        """The bars of ``mask`` and of its M one-toggle neighbours (exact, from the game's cache or the model)."""
        m = len(mask)
        coalitions = np.repeat(mask[None], m + 1, axis=0)
        coalitions[np.arange(1, m + 1), np.arange(m)] ^= True  # row 0: the mask; row 1 + i: superpixel i toggled
        chunks = []
        for start in range(0, m + 1, NEIGHBOURS_CHUNK):
            if progress is not None:
                progress(start / (m + 1))
            chunks.append(self._game.outputs(coalitions[start:start + NEIGHBOURS_CHUNK], progress=progress))
        probs = self._game.model.to_probabilities(np.concatenate(chunks))
        shown = [c["index"] for c in self.classes]
        top = probs.argmax(1)
        return {
            "base": mask.astype(np.uint8), "classes": shown,
            "bars": probs[0, shown].astype(np.float32), "top_index": int(top[0]), "top_p": float(probs[0, top[0]]),
            "neighbours": probs[1:, shown].astype(np.float32), "neighbour_top": top[1:].astype(np.int32),
            "neighbour_top_p": probs[np.arange(1, m + 1), top[1:]].astype(np.float32),
            "names": {str(int(i)): self._model.class_name(int(i)) for i in np.unique(top)},
        }

    def _speculate(self, mask: np.ndarray) -> None:
        """Queue the one-toggle neighbourhood of ``mask`` (M > 12, no table): computed in the background."""
        if self.speculate and self.n_superpixels > TABLE_MAX_PLAYERS and self.table is None:
            self._dispatcher.submit(Request(-1, "neighbours", {"active": mask.astype(np.uint8)}))

    @handles("neighbours")
    def _on_neighbours(self, params: dict, ctx: RequestContext) -> dict:
        """Evaluate the neighbours of a mask and send them (``{type: "neighbours", tables}``); any newer
        request, or a change from Python, stops it (what was evaluated stays cached)."""
        mask = self._check_mask(params.get("active"), "active")
        others = [Request(-1, action, {}) for action in self._handlers if action != "neighbours"]

        def yield_to_others(fraction: float) -> None:
            if self._stop_speculating.is_set() or any(self._dispatcher.superseded(r) for r in others):
                raise Cancelled("a newer request is waiting")
            ctx.check()

        tables = self._neighbourhood(mask, yield_to_others)
        self._dispatcher.send({"type": "neighbours", "tables": tables})
        return {}

    # -- view requests ------------------------------------------------------------------------------------
    @handles("predict")
    def _on_predict(self, params: dict, ctx: RequestContext) -> dict:
        mask = self._check_mask(params.get("active"), "active")
        answer = self._predict(mask, ctx)
        self._speculate(mask)
        return answer

    @handles("sync")  # the view answered from a table; the kernel's state follows (and confirms it)
    def _on_sync(self, params: dict, ctx: RequestContext) -> dict:
        mask = self._check_mask(params.get("active"), "active")
        answer = self._predict(mask, ctx)
        self._speculate(mask)
        return answer

    @handles("explain")
    def _on_explain(self, params: dict, ctx: RequestContext) -> dict:
        self._explain(str(params.get("method", "")), {}, ctx)
        return {}

    @handles("segment")
    def _on_segment(self, params: dict, ctx: RequestContext) -> dict:
        method = str(params.get("method", self.seg_method))
        param = params.get("param")
        fill = params.get("fill", self.fill)
        self._switch(method, fill, self._params_for(method, param), ctx)
        return {}

    @handles("target")
    def _on_target(self, params: dict, ctx: RequestContext) -> dict:
        self._set_target(params.get("target"), ctx)
        return {}

    # -- state -------------------------------------------------------------------------------------------
    @property
    def _n_players(self) -> int:
        return self.n_superpixels

    @traitlets.validate("active")
    def _validate_active(self, proposal: dict) -> np.ndarray:
        if proposal["value"] is None:
            return None
        return self._check_mask(proposal["value"], "active")

    @traitlets.observe("active")
    def _active_changed(self, change: dict) -> None:
        if self._is_applying or self._model is None or change["new"] is None:
            return
        from_view = "active" in getattr(self, "_property_lock", {})
        self._stop_speculating.set()  # a neighbourhood being computed gives way
        with self._compute_lock:
            self._stop_speculating.clear()
            try:
                self._predict(change["new"], DIRECT)
                self._refresh_tables()
            except Exception as exc:
                old = change["old"]
                with self._applying():  # keep the traits true to what the probabilities describe
                    self.active = old
                if not from_view:
                    raise
                from .base import error_payload

                self.error = error_payload(exc, "predict")

    def _predict(self, mask: np.ndarray, ctx: RequestContext) -> dict:
        probs = self._probabilities_of(mask, ctx)
        bars = self._bars_of(probs)
        top = self._top(probs)
        with self._applying(ctx):
            self.active = mask
            self.bars = bars
            self.top = top
            self._probs = probs
        self.error = {}
        return {"bars": bars, "top": top, "active": mask.astype(np.uint8)}

    def _params_for(self, method: str, param: Any) -> dict:
        if method not in SEGMENTATION_METHODS:
            if method == "custom" and self._user_segmentation is not None:
                return {}
            raise InputError(f"segmentation method={method!r} is not valid: expected one of "
                             f"{[o['name'] for o in self.seg_options]}")
        params = dict(self._seg_params[method])
        if param is not None:
            spec = SEGMENTATION_METHODS[method]
            param = check_number(param, spec.main, spec.low, spec.high,
                                 expected=f"a number in [{spec.low:g}, {spec.high:g}] for {method}")
            params[spec.main] = int(param) if spec.main == "n_segments" else param
        return params

    def _game_for(self, method: str, fill: Any, params: dict) -> SuperpixelGame:
        if fill not in self.fill_options and fill != "gray":
            raise InputError(f"fill={fill!r} is not valid: expected one of {self.fill_options}")
        key = (method, tuple(sorted(params.items())), fill)
        if key in self._games:
            self._games.move_to_end(key)
            return self._games[key]
        segmentation = self._user_segmentation if method == "custom" else method
        game = SuperpixelGame(self._model, self._image, segmentation, fill=self._user_fill if fill == "image" else fill,
                              target=self._target_request, **params)
        self._games[key] = game
        while len(self._games) > GAMES_KEPT:
            self._games.popitem(last=False)
        return game

    def _switch(self, method: str, fill: Any, params: dict, ctx: RequestContext) -> None:
        game = self._game_for(method, fill, params)
        ctx.check()
        if getattr(self, "_game", None) is not None:
            game = game.view(target=self._game.target)  # keep the explained class
        m = game.n_players
        full = game.probabilities
        self._game = game
        if method in SEGMENTATION_METHODS:
            self._seg_params[method] = dict(params)
        with self._applying(ctx):
            self.image = page_image(game.segmentation.image)  # display-sized copies: full size stays here
            self.labels = page_labels(game.segmentation.labels)
            self.fill_image = page_image(to_display(game.fills[0], self._image.value_range))
            self.n_superpixels = m
            self.seg_method = method
            spec = SEGMENTATION_METHODS.get(method)
            self.seg_param = None if spec is None else float(params.get(spec.main, spec.defaults.get(spec.main)))
            self.fill = fill
            self._show_whole_input(full)
        self._refresh_tables(ctx)

    def _set_target(self, target: Any, ctx: RequestContext) -> None:
        super()._set_target(target, ctx)
        self._target_request = self._game.target  # new segmentations and fills explain it too
        self._refresh_tables(ctx)

    @traitlets.observe("target")
    def _target_changed(self, change: dict) -> None:
        if self._is_applying or self._model is None:
            return
        with self._compute_lock:
            try:
                self._set_target(change["new"], DIRECT)
            except Exception:
                with self._applying():
                    self.target = change["old"]
                raise

    def _clear_overlay(self) -> None:
        self.result = None
        self.curves = None
        self.overlay = ""
        self.overlay_values = None
        self.overlay_info = {}
        self.anchor = []
        self.curve_order = self.curve_deletion = self.curve_insertion = None
        self.curve_info = {}

    def _publish_table(self) -> None:
        """Send the 2**M table of the shown classes when every coalition is cached (M <= 12); else clear it."""
        tables = self._all_masks_table()
        if tables is None:
            self.table = self.table_top = self.table_top_p = None
            self.table_names = {}
            return
        self.table, self.table_top = tables["bars"], tables["top"]
        self.table_top_p, self.table_names = tables["top_p"], tables["names"]

    # -- explanations -------------------------------------------------------------------------------------
    def _explain(self, method: str, options: dict, ctx: RequestContext):
        if method not in EXPLAINERS:
            raise InputError(f"method={method!r} is not valid: expected one of {list(EXPLAINERS)}")
        opts = {**self.explain_options.get(method, {}), **options}
        game = self._game
        span = 0.85 if method != "anchor" else 1.0

        def progress(f: float) -> None:
            ctx.progress(f * span)

        if method == "lime":
            result = lime_image(game, progress=progress, **opts)
        elif method == "shapley":
            result = shapley_image(game, progress=progress, **opts)
        else:
            result = anchor_image(game, progress=progress, **opts)
        curves = None
        if method != "anchor":
            curves = deletion_insertion(game, scores=result, progress=lambda f: ctx.progress(span + (1 - span) * f))
        with self._applying(ctx):
            self._show_result(result, curves)
            self._publish_table()
        return result

    def _show_result(self, result: Any, curves: PerturbationCurves | None = None) -> None:
        """Show ``result``'s scores as the overlay with its headline and quality lines (and curves, if any)."""
        if not isinstance(result, SuperpixelResult):
            raise InputError(f"cannot show a {type(result).__name__} in a SuperpixelExplorer")
        self.result = result
        if isinstance(result, PerturbationCurves):
            curves = result
        values = np.asarray(result.scores, dtype=np.float32)
        self.overlay = result.kind
        self.overlay_values = values
        self.overlay_info = {"title": result.headline, "quality": result.quality(),
                             "limit": float(np.abs(values).max()) or 1.0}
        self.anchor = list(result.outline)
        self.curves = curves
        if curves is not None:
            self.curve_order = curves.order.astype(np.int32)
            self.curve_deletion = curves.deletion.astype(np.float32)
            self.curve_insertion = curves.insertion.astype(np.float32)
            self.curve_info = {"auc_deletion": curves.auc_deletion, "auc_insertion": curves.auc_insertion,
                               "label": f"{curves.output} of {curves.target_name}"}
        else:
            self.curve_order = self.curve_deletion = self.curve_insertion = None
            self.curve_info = {}

    # -- static fallback ----------------------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        if self.labels is None:
            return None
        from ..plotting.figure import png_of
        from ..plotting.superpixels import draw_segmentation

        seg = Segmentation(np.asarray(self.labels), np.asarray(self.image))

        def draw(fig):
            ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
            active = np.asarray(self.active, bool)
            shown = np.where(active[seg.labels][..., None], np.asarray(self.image), np.asarray(self.fill_image))
            shown_seg = Segmentation(seg.labels, shown.astype(np.uint8))
            if self.overlay == "anchor":
                outline = np.zeros(seg.n_segments, bool)
                outline[self.anchor] = True
                draw_segmentation(shown_seg, ax=ax, outline=outline, title=self.overlay_info.get("title"))
            else:
                values = None if self.overlay_values is None else np.asarray(self.overlay_values)
                draw_segmentation(shown_seg, ax=ax, values=values, colorbar=False,
                                  title=self.overlay_info.get("title", f"{int(active.sum())}/{seg.n_segments} superpixels shown"))
            self._draw_bars_and_quality(fig, bx)

        return png_of(draw, figsize=(7.5, 3.6))


@shows(LimeImage, ShapleyImage, Anchor, PerturbationCurves)
def _explorer_of_result(result: SuperpixelResult, model: Any = None, **options: Any) -> SuperpixelExplorer:
    """``result.widget(model=None, **options)``: the result in an explorer, interactive with a ``model``."""
    return SuperpixelExplorer.from_result(result, model=model, **options)


@shows(Segmentation)
def _explorer_of_segmentation(segmentation: Segmentation, model: Any = None, **options: Any) -> SuperpixelExplorer:
    """``segmentation.widget(model, **options)``: an explorer of ``model`` on this segmentation."""
    return SuperpixelExplorer(model, segmentation.image, segmentation=segmentation, **options)
