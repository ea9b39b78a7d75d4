"""TextExplorer: click words away and watch the prediction move; explain with LIME, Shapley values, anchors, IG.

The view owns the token mask being edited and asks "predict" for it; the kernel answers with the shown
classes' probabilities for the shortened text (or, once an answer table is built for a short text, the table
answers). Every answer and every coalition explanation comes from one :class:`~nbexplain.TokenGame`, so
clicks, LIME, Shapley values and anchors share cached model outputs. Tokens, class names and sampled texts
are user text: the view sets them with ``textContent`` only.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from .._validation import check_choice, is_int
from ..adapters.text_models import TextModel, as_text_model
from ..errors import InputError
from ..explain.text import (
    AnchorText,
    LimeText,
    ShapleyText,
    TextAttribution,
    TextResult,
    TokenGame,
    anchor_text,
    attribute_text,
    lime_text,
    shapley_text,
)
from ..methods.coalitions.masks import all_coalitions
from . import assets
from .base import DIRECT, RequestContext, field, handles
from .coalition_explorer import TABLE_MAX_PLAYERS, CoalitionExplorer
from .codec import array_serialization
from .tables import answer_tables_trait, wants_tables

EXPLAINERS = ("lime", "shapley", "anchor", "integrated_gradients")
LABELS = {"lime": "LIME", "shapley": "Shapley values", "anchor": "Anchor", "integrated_gradients": "IG"}
PERTURBATIONS = ("remove", "mask")
#: defaults sized for interactive use (options given to the widget override them)
EXPLAIN_DEFAULTS: dict[str, dict] = {"lime": {"n_samples": 2000}, "shapley": {}, "anchor": {},
                                     "integrated_gradients": {}}
TABLE_MAX_TOKENS = TABLE_MAX_PLAYERS


def _array_trait():
    return traitlets.Any(None).tag(sync=True, **array_serialization)


class TextExplorer(CoalitionExplorer):
    """A text as tokens beside the model's class probabilities: click words away, explain.

    Click a token (or focus it and press Space) to remove it — or replace it with the mask token — and the
    bars show the model's prediction for the shortened text; drag across a phrase (or extend a selection
    with Shift+arrows) to remove all of it at once. LIME, Shapley, Anchor and IG (integrated gradients, for
    torch models) colour the tokens by the explanation (red raises the class's probability, blue lowers it;
    values on hover), with the explanation's quality beside it; an anchor is shown as highlighted tokens
    with its precision, coverage and sampled texts that keep or flip the prediction.

    Parameters
    ----------
    model : scikit-learn pipeline, callable, torch.nn.Module, Model or TokenGame
        What scores texts (see :func:`nbexplain.as_text_model`); a :class:`~nbexplain.TokenGame` brings
        its text, tokens, mask, target and cached evaluations.
    text : str
        The text (omit with a game).
    target : int, str or None
        The class explained (and shown with the top-k); None is the predicted class.
    mask : str or None
        What a removed token becomes: nothing (None) or this string; the view switches between the two.
    mask_token : str
        The string used when the view chooses "replace" (default "UNK", or ``mask`` when given).
    tokens : {"word", "whitespace"}, regular expression or callable
        How the text splits into tokens (:func:`nbexplain.tokenize`).
    top_k : int
        Classes shown (plus the target).
    explain_options : dict, optional
        Options per explainer, e.g. ``{"lime": {"n_samples": 500}, "anchor": {"threshold": 0.9}}``.
    precompute : bool or None
        Build the table of all 2**T shortened texts (T <= 12 tokens) so the view answers clicks without the
        kernel; None: only when the notebook is exported.

    Examples
    --------
    >>> ex = nbx.TextExplorer(clf, "The food was cold but the dessert was great.")
    >>> ex.toggle(9); ex.current_text, ex.probabilities
    >>> lime = ex.explain("lime")
    """

    _esm = assets.view_esm("text")
    _css = assets.view_css("text")
    #: the view writes nothing directly: it asks (requests "predict", "explain", "target", "perturbation")
    _view_writes: ClassVar[frozenset[str]] = frozenset()
    _player_noun = "token"

    text = traitlets.Unicode("").tag(sync=True)
    tokens = traitlets.List([]).tag(sync=True)  # the T tokens (user text)
    gaps = traitlets.List([]).tag(sync=True)  # the T + 1 pieces between them
    active = _array_trait()  # (T,) bool: True = the token is in the text the model reads
    shown_text = traitlets.Unicode("").tag(sync=True)  # the text the model reads for `active`
    classes = traitlets.List([]).tag(sync=True)  # [{index, name, full}]
    bars = _array_trait()  # (C,) float32 probabilities of `classes` for `active`
    top = traitlets.Dict({}).tag(sync=True)  # {index, name, probability}
    target = traitlets.Int(0).tag(sync=True)
    perturbation = traitlets.Unicode("remove").tag(sync=True)  # "remove" | "mask"
    mask_token = traitlets.Unicode("UNK").tag(sync=True)
    explainers = traitlets.List([]).tag(sync=True)  # [[name, label]] the buttons this model allows
    overlay = traitlets.Unicode("").tag(sync=True)  # "", "lime", "shapley", "anchor", "gradient"
    overlay_values = _array_trait()  # (T,) float32: each token's score
    overlay_info = traitlets.Dict({}).tag(sync=True)  # {title, quality: [lines], limit, label}
    anchor = traitlets.List([]).tag(sync=True)  # token indices of the anchor
    examples = traitlets.Dict({}).tag(sync=True)  # {kept: [texts], flipped: [texts]}
    interactive = traitlets.Bool(True).tag(sync=True)
    #: {bars (2**T, C) float32, top (2**T,) int32, top_p (2**T,) float32, names {index: name}}; None until built
    answer_tables = answer_tables_trait()
    table_answers: ClassVar[dict[str, str]] = {
        "predict": "the shown classes' probabilities for every set of removed tokens (texts of at most 12 tokens)",
    }

    def __init__(self, model: Any, text: str | None = None, *, target: Any = None, mask: str | None = None,
                 mask_token: str | None = None, tokens: Any = None, class_names=None, tokenizer=None,
                 top_k: int = 5, explain_options: dict | None = None, precompute: bool | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self._take_options(top_k, explain_options, EXPLAINERS)
        self.result: TextResult | None = None
        self._games: dict[str | None, TokenGame] = {}
        self._probs: np.ndarray | None = None
        self._tables_on = wants_tables(precompute)
        if model is None:  # a static view of a result (see from_result)
            self._model = None
            self.interactive = False
            return
        if isinstance(model, TokenGame):
            if text is not None or tokens is not None:
                raise InputError("pass either a TokenGame, or a model with a text, not both")
            game = (model if target is None else model.view(target=target)).grouped("token")  # clicks are per token
            mask = game.mask
            self._games[game.mask] = game
            self._model, self._tokens_spec = game.model, game.tokens
        else:
            if not isinstance(text, str):
                raise InputError(f"text must be a str; got {type(text).__name__}")
            self._model = as_text_model(model, tokenizer=tokenizer, class_names=class_names)
            self._tokens_spec = "word" if tokens is None else tokens
        if mask_token is not None and not isinstance(mask_token, str):
            raise InputError(f"mask_token must be a string; got {type(mask_token).__name__}")
        self.mask_token = mask_token if mask_token is not None else (mask if isinstance(mask, str) else "UNK")
        self._text = text
        self._target_request = target
        self.explainers = [[name, LABELS[name]] for name in EXPLAINERS
                           if name != "integrated_gradients" or isinstance(self._model, TextModel)]
        self._switch("remove" if mask is None else "mask", DIRECT)
        if self._tables_on and (precompute or len(self.tokens) <= TABLE_MAX_TOKENS):  # exporting: short texts only
            self.precompute()

    # -- construction from results ----------------------------------------------------------------------
    @classmethod
    def from_result(cls, result: TextResult, model: Any = None, **kwargs: Any) -> TextExplorer:
        """An explorer showing ``result``; interactive with ``model``."""
        if model is not None:
            widget = cls(model, result.text, target=result.target, mask=result.mask, tokens=result.tokens, **kwargs)
        else:
            widget = cls(None, **kwargs)
            t = result.tokens
            with widget._applying():
                widget.text, widget.tokens, widget.gaps = t.text, t.tokens, t.gaps
                widget.shown_text = t.text
                widget._show_class_of(result)
        with widget._applying():
            widget._show_result(result)
        return widget

    # -- Python API -------------------------------------------------------------------------------------
    @property
    def game(self) -> TokenGame:
        """The coalition game of the text under the current perturbation (its cache is shared)."""
        return self._game

    @property
    def current_text(self) -> str:
        """The text the model reads now (the removed tokens gone, or masked)."""
        return self.shown_text

    @property
    def probabilities(self) -> np.ndarray | None:
        """(n_classes,) the model's probabilities for :attr:`current_text`."""
        return None if self._probs is None else self._probs.copy()

    def toggle(self, i: int) -> None:
        """Remove token ``i`` if present, put it back if removed."""
        n = len(self.tokens)
        if not is_int(i) or not 0 <= i < n:
            raise InputError(f"i={i!r} is not a token: expected an int in 0..{n - 1}")
        mask = np.array(self.active, dtype=bool)
        mask[i] = ~mask[i]
        self.set_active(mask)

    def remove(self, start: int, stop: int | None = None) -> None:
        """Remove tokens ``start..stop - 1`` (one token when ``stop`` is None)."""
        n = len(self.tokens)
        stop = start + 1 if stop is None else stop
        if not (is_int(start) and is_int(stop) and 0 <= start < stop <= n):
            raise InputError(f"start={start!r}, stop={stop!r} must satisfy 0 <= start < stop <= {n}")
        mask = np.array(self.active, dtype=bool)
        mask[start:stop] = False
        self.set_active(mask)

    def reset(self) -> None:
        """Every token back in the text."""
        self.set_active(np.ones(len(self.tokens), bool))

    def set_active(self, active: Any) -> None:
        """Keep exactly the tokens where ``active`` is True; the prediction follows."""
        with self._compute_lock:
            self._predict(self._check_mask(active, "active"), DIRECT)

    def explain(self, method: str = "lime", **options: Any) -> TextResult:
        """Run ``method`` ("lime", "shapley", "anchor" or "integrated_gradients") on the whole text; show and
        return the result. ``options`` go to :func:`nbexplain.lime_text`, :func:`nbexplain.shapley_text`,
        :func:`nbexplain.anchor_text` or :func:`nbexplain.attribute_text` (over ``explain_options``)."""
        with self._compute_lock:
            return self._explain(method, options, DIRECT)

    def precompute(self) -> None:
        """Evaluate all 2**T shortened texts (T <= 12 tokens), so the view answers clicks from a table."""
        n = len(self.tokens)
        if n > TABLE_MAX_TOKENS:
            raise InputError(f"precompute needs at most {TABLE_MAX_TOKENS} tokens (2**T texts); this text has {n}")
        with self._compute_lock:
            self._tables_on = True
            self._game.outputs(all_coalitions(n))
            with self._applying():
                self._publish_table()

    # -- view requests ------------------------------------------------------------------------------------
    @handles("predict")
    def _on_predict(self, params: dict, ctx: RequestContext) -> dict:
        return self._predict(self._check_mask(field(params, "active"), "active"), ctx)

    @handles("explain")
    def _on_explain(self, params: dict, ctx: RequestContext) -> dict:
        self._explain(field(params, "method"), {}, ctx)
        return {}

    @handles("target")
    def _on_target(self, params: dict, ctx: RequestContext) -> dict:
        target = field(params, "target")
        if not is_int(target):
            raise InputError(f"target must be a class index; got {target!r}")
        self._set_target(int(target), ctx)
        return {}

    @handles("perturbation")
    def _on_perturbation(self, params: dict, ctx: RequestContext) -> dict:
        self._switch(check_choice(field(params, "perturbation"), "perturbation", PERTURBATIONS), ctx)
        return {}

    # -- state -------------------------------------------------------------------------------------------
    @property
    def _n_players(self) -> int:
        return len(self.tokens)

    def _predict(self, mask: np.ndarray, ctx: RequestContext) -> dict:
        probs = self._probabilities_of(mask, ctx)
        bars = self._bars_of(probs)
        top = self._top(probs)
        text = self._game.tokens.render(mask, self._game.mask)
        with self._applying(ctx):
            self.active = mask
            self.bars = bars
            self.top = top
            self.shown_text = text
            self._probs = probs
        self.error = {}
        return {"bars": bars, "top": top, "active": mask.astype(np.uint8), "text": text}

    def _game_for(self, mask: str | None) -> TokenGame:
        if mask not in self._games:
            base = next(iter(self._games.values()), None)
            if base is not None:
                game = TokenGame(base.model, base.tokens, mask=mask, target=base.target)
            else:
                game = TokenGame(self._model, self._text, tokens=self._tokens_spec, mask=mask,
                                 target=self._target_request)
            self._games[mask] = game
        return self._games[mask]

    def _switch(self, perturbation: str, ctx: RequestContext) -> None:
        game = self._game_for(None if perturbation == "remove" else self.mask_token)
        ctx.check()
        if getattr(self, "_game", None) is not None:
            game = game.view(target=self._game.target)
        self._game = game
        full = game.probabilities
        with self._applying(ctx):
            self.text = game.text
            self.tokens = game.tokens.tokens
            self.gaps = game.tokens.gaps
            self.perturbation = perturbation
            self.shown_text = game.text
            self._show_whole_input(full)

    def _clear_overlay(self) -> None:
        self.result = None
        self.overlay = ""
        self.overlay_values = None
        self.overlay_info = {}
        self.anchor = []
        self.examples = {}

    def _publish_table(self) -> None:
        """The 2**T table of the shown classes when asked for (T <= 12) and every text is cached; else none."""
        self.answer_tables = self._all_masks_table() if self._tables_on else None

    # -- explanations -------------------------------------------------------------------------------------
    def _explain(self, method: Any, options: dict, ctx: RequestContext) -> TextResult:
        method = check_choice(method, "method", [name for name, _ in self.explainers])
        opts = {**EXPLAIN_DEFAULTS[method], **self.explain_options.get(method, {}), **options}
        game = self._game
        if method == "lime":
            result = lime_text(game, progress=ctx.progress, **opts)
        elif method == "shapley":
            result = shapley_text(game, progress=ctx.progress, **opts)
        elif method == "anchor":
            result = anchor_text(game, progress=ctx.progress, **opts)
        else:
            result = attribute_text(game.model, game.text, target=game.target, output=game.output,
                                    tokens=game.tokens, **opts)
        with self._applying(ctx):
            self._show_result(result)
        return result

    def _show_result(self, result: Any) -> None:
        """Show ``result``'s per-token scores, its headline and quality lines (and an anchor's examples)."""
        if not isinstance(result, TextResult):
            raise InputError(f"cannot show a {type(result).__name__} in a TextExplorer")
        if result.tokens.n_tokens != len(self.tokens):
            raise InputError(f"the result has {result.tokens.n_tokens} tokens; the explorer shows {len(self.tokens)}")
        self.result = result
        values = np.asarray(result.token_scores, dtype=np.float32)
        self.overlay = result.kind
        self.overlay_values = values
        self.overlay_info = {"title": result.headline, "quality": result.quality(), "label": result.label,
                             "limit": float(np.abs(values).max()) or 1.0, "output": result.outcome_label}
        if isinstance(result, AnchorText):
            self.anchor = [int(i) for i in np.flatnonzero(result.mask_of_players[result.player_of])]
            self.examples = {"kept": list(result.kept), "flipped": list(result.flipped)}
        else:
            self.anchor = []
            self.examples = {}

    # -- static fallback ----------------------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        if not self.tokens and not self.text:
            return None
        from ..plotting.figure import png_of
        from ..plotting.text import draw_tokens, rows_needed

        def draw(fig):
            ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.4, 1]})
            active = np.asarray(self.active, bool) if self.active is not None else np.ones(len(self.tokens), bool)
            shown = [t if a else f"[{t}]" for t, a in zip(self.tokens, active, strict=True)]
            title = self.overlay_info.get("title", f"{int(active.sum())}/{len(self.tokens)} tokens kept "
                                                   "([removed] in brackets)")
            if self.overlay == "anchor":
                outline = np.zeros(len(self.tokens), bool)
                outline[self.anchor] = True
                draw_tokens(shown, self.gaps, ax=ax, outline=outline, title=title, width=48)
            else:
                values = None if self.overlay_values is None else np.asarray(self.overlay_values)
                draw_tokens(shown, self.gaps, values, ax=ax, title=title, width=48)
            self._draw_bars_and_quality(fig, bx)

        return png_of(draw, figsize=(8, 0.3 * rows_needed(self.text, 48) + 1.6))


@shows(LimeText, ShapleyText, AnchorText, TextAttribution)
def _explorer_of_result(result: TextResult, model: Any = None, **options: Any) -> TextExplorer:
    """``result.widget(model=None, **options)``: the result in an explorer, interactive with a ``model``."""
    return TextExplorer.from_result(result, model=model, **options)
