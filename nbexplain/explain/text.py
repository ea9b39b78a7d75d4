"""Text explanations, the front door: LIME, Shapley values and anchors on tokens, gradients on embeddings.

Each function validates its arguments, builds (or reuses) the text's coalition game (:class:`TokenGame`:
tokens, or phrases and sentences, are the players; a removed token is gone from the user's own text, or
replaced by a mask string), runs the generic engine of :mod:`nbexplain.methods.coalitions` on it and wraps the
answer in a result that knows its text:

* :func:`lime_text` -> :class:`LimeText` (Ribeiro, Singh & Guestrin 2016), fidelity = weighted R²;
* :func:`shapley_text` -> :class:`ShapleyText` (Shapley 1953): exact up to 14 players, else sampled;
* :func:`anchor_text` -> :class:`AnchorText` (Ribeiro, Singh & Guestrin 2018): KL-LUCB, with sampled texts
  that keep or flip the prediction;
* :func:`attribute_text` -> :class:`TextAttribution`: integrated gradients (Sundararajan et al. 2017) or
  gradient x input on a torch model's embedding layer, through Captum.

The model is a scikit-learn pipeline on strings, any callable ``list[str] -> scores``, or a torch module with
a ``tokenizer`` (see :func:`~nbexplain.adapters.text_models.as_text_model`). Pass a :class:`TokenGame` as the
model to share its cached evaluations between explanations (and with :class:`~nbexplain.TextExplorer`).

Examples
--------
>>> clf = nbx.datasets.review_classifier()
>>> text = "The food was cold and the waiter was rude, but the dessert was great."
>>> nbx.lime_text(clf, text).plot()
>>> nbx.shapley_text(clf, text, groups="phrase").to_frame()
>>> nbx.anchor_text(clf, text).summary()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._progress import reporter
from .._types import Progress
from .._validation import check_choice, check_int, check_seed
from ..adapters.outputs import resolve_target
from ..adapters.text_models import TextModel, as_text_model
from ..errors import InputError, NotDifferentiableError
from ..inputs.text import TokenizedText, tokenize
from ..methods.coalitions.anchors import CoalitionSampler
from ..methods.coalitions.confident import confident_anchor_search
from ..methods.coalitions.game import check_output
from ..methods.coalitions.lime import lime
from ..methods.coalitions.masks import all_coalitions
from ..methods.coalitions.shapley import SHAPLEY_METHODS, exact_shapley, shapley
from ..methods.coalitions.tokens import TokenGame, covered_examples, game_for, lime_text_coalitions
from ..methods.text.gradients import METHODS as GRADIENT_METHODS
from ..methods.text.gradients import baseline_id, embedding_attributions, token_positions
from ..plotting.text import draw_tokens, rows_needed
from .coalition_results import (
    AnchorScores,
    LimeScores,
    PlayerScores,
    ShapleyScores,
    confirmed_precision,
)
from .result import frame

#: most players for which ``method="auto"`` enumerates every coalition (2**14 = 16,384 texts)
MAX_EXACT = 14


# -- results ----------------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class TextResult(PlayerScores):
    """What text results share: the text and its players, the explained class, one score per player.

    Attributes
    ----------
    tokens : TokenizedText - the text and its tokens (with their character spans).
    groups : list of (k,) int arrays - the players: the tokens of each (one token each by default).
    target : int - the explained class; ``target_name`` its name.
    output : str - "probability" or "score": what is explained.
    mask : str or None - what absent tokens became (None: removed).

    Subclasses say ``kind`` (the explorer's name of the overlay), ``label`` and which field holds the
    ``scores`` (one per player), and ``quality()``.
    """

    tokens: TokenizedText
    groups: list
    mask: str | None = None

    @staticmethod
    def fields_of(game: TokenGame) -> dict:
        """The fields every text result takes from its game."""
        return {"tokens": game.tokens, "groups": list(game.groups), "target": game.target,
                "target_name": game.target_name, "output": game.output, "mask": game.mask}

    @property
    def text(self) -> str:
        return self.tokens.text

    @property
    def token_scores(self) -> np.ndarray:
        """(T,) each token's player's score (what the text is coloured by)."""
        return self.scores[self.player_of]

    @property
    def player_of(self) -> np.ndarray:
        out = np.empty(self.tokens.n_tokens, dtype=np.int64)
        for k, members in enumerate(self.groups):
            out[members] = k
        return out

    @property
    def player_names(self) -> list[str]:
        """Each player as it reads in the text (a phrase with its spaces and commas)."""
        t = self.tokens
        return [t.text[int(t.starts[g[0]]):int(t.stops[g[-1]])] for g in self.groups]

    @property
    def outcome_label(self) -> str:
        return f"P({self.target_name})" if self.output == "probability" else f"score of {self.target_name}"

    def summary(self) -> str:
        """One line: what it is, the players that push most, and its first quality line."""
        order = np.argsort(-np.abs(self.scores), kind="stable")[:3]
        names = self.player_names
        top = ", ".join(f"{names[i]!r} ({self.scores[i]:+.3g})" for i in order)
        return f"{self.headline} ({self.outcome_label}): {top}; " + "; ".join(self.quality()[:1])

    def __str__(self) -> str:
        return self.summary()

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` players with the largest |score|, as (text, score)."""
        order = np.argsort(-np.abs(self.scores), kind="stable")[:k]
        return [(self.player_names[i], float(self.scores[i])) for i in order]

    def to_frame(self):
        """A pandas DataFrame with one row per token in text order: ``token``, ``start``, ``stop`` (its
        characters), ``player`` (its player's index) and ``score`` (its player's score)."""
        t = self.tokens
        return frame({"token": t.tokens, "start": t.starts.copy(), "stop": t.stops.copy(),
                      "player": self.player_of, "score": self.token_scores})

    def _png_size(self) -> tuple[float, float]:
        return (7.0, 0.25 * rows_needed(self.text) + 1.3)

    def plot(self, ax=None, *, limit: float | None = None, width: int = 72):
        """The text with each token on its score's colour (red raises the output, blue lowers it, the scale
        symmetric around 0); returns the Axes."""
        return draw_tokens(self.tokens.tokens, self.tokens.gaps, self.token_scores, ax=ax, limit=limit,
                           title="\n".join([f"{self.headline} ({self.outcome_label})", *self.quality()[:1]]),
                           colorbar_label=f"{self.label}", width=width)


@dataclass
class LimeText(LimeScores, TextResult):
    """A LIME explanation of one text and class: a weight per player (token, phrase...) and the surrogate's
    fidelity (the fields of :class:`~nbexplain.explain.coalition_results.LimeScores`), with its text."""

    def quality(self) -> list[str]:
        return [f"fidelity (weighted R²) {self.score:.3f}",
                f"local prediction {self.local_prediction:.3f} vs model {self.prediction:.3f}",
                f"{len(self.coalitions)} perturbed texts ({self.n_evaluations} run through the model)"]


@dataclass
class ShapleyText(ShapleyScores, TextResult):
    """Shapley values of the players of one text for one class (the fields of
    :class:`~nbexplain.explain.coalition_results.ShapleyScores`; ``base_value`` is the output on the text with
    every token removed, or masked), with its text."""

    def quality(self) -> list[str]:
        std = "" if self.std is None else f", largest standard error {float(np.max(self.std)):.2g}"
        return [f"efficiency gap {self.efficiency_gap:.2g}{std}",
                f"Σφ = {self.values.sum():.4f} = f(text) − f(empty) = {self.full_value:.4f} − {self.base_value:.4f}",
                f"{self.n_evaluations} coalitions evaluated"]


@dataclass
class AnchorText(AnchorScores, TextResult):
    """An anchor: tokens that, kept, hold the prediction with high precision (the fields of
    :class:`~nbexplain.explain.coalition_results.AnchorScores`: ``anchor`` (players, in the order found),
    ``precision``, ``precision_lower``, ``coverage`` = ``p_present ** len(anchor)``, ``meets_threshold``...),
    with its text and a few sampled texts in which the anchor holds: ``kept`` (the prediction stayed) and
    ``flipped`` (it changed)."""

    kept: list = field(default_factory=list)
    flipped: list = field(default_factory=list)
    label: ClassVar[str] = "anchor"

    @property
    def mask_of_players(self) -> np.ndarray:
        return self._anchor_mask(len(self.groups))

    @property
    def scores(self) -> np.ndarray:
        """1 for the anchor's players, 0 for the others."""
        return self.mask_of_players.astype(np.float64)

    @property
    def words(self) -> list[str]:
        """The anchor's players as text, in the order found."""
        names = self.player_names
        return [names[i] for i in self.anchor]

    @property
    def headline(self) -> str:
        words = " AND ".join(repr(w) for w in self.words) or "(nothing: the prediction holds anyway)"
        return f"anchor for {self.target_name}: {words}"

    def quality(self) -> list[str]:
        return [confirmed_precision(self.precision, self.precision_lower, self.threshold, self.meets_threshold),
                f"coverage {self.coverage:.3g}",
                f"{self.n_samples} perturbed texts evaluated"]

    def summary(self) -> str:
        return f"{self.headline}; " + "; ".join(self.quality()[:2])

    def to_frame(self):
        """One row per token: ``token``, ``start``, ``stop``, ``player`` and ``in_anchor``."""
        t = self.tokens
        return frame({"token": t.tokens, "start": t.starts.copy(), "stop": t.stops.copy(),
                      "player": self.player_of, "in_anchor": self.mask_of_players[self.player_of]})

    def _png_size(self) -> tuple[float, float]:
        return (7.0, 0.25 * (rows_needed(self.text) + len(self.kept) + len(self.flipped) + 3) + 1.0)

    def plot(self, ax=None, *, width: int = 72, **_: Any):
        """The anchor's tokens on green, the rest greyed, and the sampled texts under it; returns the Axes."""
        notes = [f"keeps {self.target_name}: {t}" for t in self.kept] + [f"flips: {t}" for t in self.flipped]
        return draw_tokens(self.tokens.tokens, self.tokens.gaps, ax=ax, outline=self.mask_of_players[self.player_of],
                           title="\n".join([self.headline, "; ".join(self.quality()[:2])]), notes=notes, width=width)


@dataclass
class TextAttribution(TextResult):
    """Gradient attributions of one text's tokens on a torch model's embedding layer.

    Attributes
    ----------
    values : (T,) - each token's attribution (the sum over its id positions and embedding dimensions).
    method : str - "integrated_gradients" or "gradient_x_input".
    prediction : float - f(text): the explained output.
    baseline_prediction : float or None - f(baseline) (integrated gradients).
    convergence_delta : float or None - Captum's ``Σ attributions − (f(text) − f(baseline))``.
    unassigned : float - attribution of id positions that sit on no token (padding); 0 for padding the
        baseline shares.
    """

    values: np.ndarray
    method: str
    prediction: float
    baseline_prediction: float | None
    convergence_delta: float | None
    unassigned: float = 0.0
    scored: ClassVar[str] = "values"
    kind: ClassVar[str] = "gradient"

    @property
    def label(self) -> str:  # type: ignore[override]
        return "integrated gradients" if self.method == "integrated_gradients" else "gradient × input"

    def quality(self) -> list[str]:
        if self.method == "integrated_gradients":
            total = float(self.values.sum() + self.unassigned)
            return [f"Σ attributions = {total:.4f} = f(text) − f(baseline) = {self.prediction:.4f} − "
                    f"{self.baseline_prediction:.4f} (convergence delta {self.convergence_delta:.2g})"]
        return [f"f(text) = {self.prediction:.4f}; gradient × embedding at the text (no completeness)"]


# -- front doors ----------------------------------------------------------------------------------------------------
def lime_text(
    model: Any,
    text: str | None = None,
    *,
    target: Any = None,
    output: str | None = None,
    tokens: Any = None,
    groups: Any = None,
    mask: str | None = None,
    n_samples: int = 5000,
    kernel_width: float = 0.25,
    alpha: float = 1.0,
    coalitions: np.ndarray | None = None,
    class_names: Any = None,
    tokenizer: Any = None,
    seed: int | None = 0,
    progress: Progress | bool = None,
) -> LimeText:
    """Explain a text classification with LIME on its tokens (Ribeiro, Singh & Guestrin 2016).

    As the ``lime`` package's ``LimeTextExplainer`` (positions as features, ``bow=False``): each sample
    removes a number of players drawn uniformly from 1..M (the first sample is the whole text), samples are
    weighted by the exponential kernel of their cosine distance to the text (width 0.25 on distances in
    0..1, the package's 25 on 0..100), and a weighted ridge regression is fitted; its weighted R² is the
    fidelity.

    Parameters
    ----------
    model : scikit-learn pipeline, callable, torch.nn.Module, Model or TokenGame
        What scores texts (see :func:`~nbexplain.adapters.text_models.as_text_model`); a :class:`TokenGame`
        brings its text, tokens, mask and cached evaluations.
    text : str
        The text (omit with a game).
    target : int, str or None
        Class to explain; None is the class predicted for the text.
    output : {"probability", "score"}
        Explain the class probability (default) or the model's own output for it.
    tokens : {"word", "whitespace"}, regular expression or callable
        How the text splits into tokens (:func:`nbexplain.tokenize`); default "word". Not with a game.
    groups : {"token", "phrase", "sentence"} or lists of token indices
        The players; default one per token.
    mask : str or None
        Absent tokens are removed (None, the default) or replaced by this string (e.g. "UNK").
    n_samples : int
        Perturbed texts (the ``lime`` package's default 5000); ignored with ``coalitions``.
    kernel_width, alpha : float
        Width of the exponential kernel on the cosine distance; ridge penalty.
    coalitions : (N, M) bool, optional
        Use these coalitions instead of sampling.
    class_names : sequence of str, optional
        Names of the model's classes.
    tokenizer : callable, optional
        For a torch module: ``list[str] -> (N, L)`` ids (default: the module's ``tokenizer``).
    seed : int or None
        For reproducible samples (default 0); None draws fresh ones.
    progress : None, bool or callable
        None: a bar once the work runs long; True/False: always/never; a callable gets the fraction done.

    Examples
    --------
    >>> lime = nbx.lime_text(clf, "a dull, lifeless film", class_names=["negative", "positive"])
    >>> lime.top(2), round(lime.fidelity, 2)
    """
    game = game_for(model, text, tokens, groups, mask, target, output, class_names, tokenizer)
    if coalitions is None:
        n = check_int(n_samples, "n_samples", minimum=2)
        coalitions = lime_text_coalitions(n, game.n_players, np.random.default_rng(check_seed(seed)))
    fit = lime(game, kernel_width=kernel_width, alpha=alpha, coalitions=coalitions,
               progress=reporter(progress, f"LIME ({len(coalitions):,} texts)"))
    return LimeText.of(fit, **TextResult.fields_of(game))


def shapley_text(
    model: Any,
    text: str | None = None,
    *,
    target: Any = None,
    output: str | None = None,
    tokens: Any = None,
    groups: Any = None,
    mask: str | None = None,
    method: str = "auto",
    max_exact: int = MAX_EXACT,
    n_permutations: int = 50,
    n_samples: int = 2048,
    antithetic: bool = True,
    class_names: Any = None,
    tokenizer: Any = None,
    seed: int | None = 0,
    progress: Progress | bool = None,
) -> ShapleyText:
    """Shapley values of a text's tokens (or phrases, or sentences) for one class (Shapley 1953).

    The value of a coalition is the model's output for the target on the text that keeps only the
    coalition's tokens (the others removed, or replaced by ``mask``). Up to ``max_exact`` players all
    ``2**M`` texts are evaluated (in model batches, cached) and the exact values computed in one pass;
    beyond, antithetic permutation sampling, or KernelSHAP. Long texts: group the tokens (``groups="phrase"``
    or ``"sentence"``) to keep M small.

    Parameters
    ----------
    model, text, target, output, tokens, groups, mask, class_names, tokenizer
        As :func:`nbexplain.lime_text`.
    method : {"auto", "exact", "sampled", "kernel"}
        "auto" is "exact" when M <= ``max_exact`` (default 14: 16,384 texts), else "sampled".
    n_permutations : int
        Permutations for "sampled" (each costs M - 1 evaluations).
    n_samples : int
        Coalitions for "kernel" (KernelSHAP).
    antithetic : bool
        Pair each sampled permutation with its reverse.
    seed, progress
        As :func:`nbexplain.lime_text`.

    Examples
    --------
    >>> sv = nbx.shapley_text(clf, "not good, not bad")
    >>> sv.method, abs(sv.efficiency_gap) < 1e-9
    ('exact', True)
    """
    check_choice(method, "method", SHAPLEY_METHODS)
    max_exact = check_int(max_exact, "max_exact", minimum=1)
    game = game_for(model, text, tokens, groups, mask, target, output, class_names, tokenizer)
    report = reporter(progress, f"Shapley values ({game.n_players} players)")
    if method == "exact" or (method == "auto" and game.n_players <= max_exact):
        # the 2**M texts as one lazy batch, run at the model's own batch sizes (one call for a pipeline); a game
        # made here is played once, so its outputs are not cached (a TokenGame given as the model keeps them)
        sv = exact_shapley(game.value(all_coalitions(game.n_players), progress=report,
                                      remember=isinstance(model, TokenGame)))
    else:
        sv = shapley(game, method, n_permutations=n_permutations, n_samples=n_samples, antithetic=antithetic,
                     seed=seed, progress=report)
    return ShapleyText.of(sv, **TextResult.fields_of(game))


def anchor_text(
    model: Any,
    text: str | None = None,
    *,
    target: Any = None,
    tokens: Any = None,
    groups: Any = None,
    mask: str | None = None,
    threshold: float = 0.95,
    p_present: float = 0.5,
    max_samples: int = 5000,
    delta: float = 0.1, tau: float = 0.15, tolerance: float = 0.02, batch_size: int = 100, beam_size: int = 1,
    max_anchor_size: int | None = None, min_samples_start: int = 100,
    n_examples: int = 3,
    class_names: Any = None,
    tokenizer: Any = None,
    seed: int | None = 0,
    progress: Progress | bool = None,
) -> AnchorText:
    """Find an anchor: words that keep the model's prediction whatever happens to the rest of the text
    (Ribeiro, Singh & Guestrin 2018).

    An anchor is a set A of players with precision ``P(f(z) = f(text) | A kept) >= threshold`` when every other
    player is kept with probability ``p_present`` (the others removed, or replaced by ``mask`` — "UNK" is the
    authors' unknown-word distribution; nothing to download); the one with the largest coverage
    ``p_present**|A|`` is searched with the KL-LUCB bandit
    (:func:`~nbexplain.methods.coalitions.anchors.anchor_search`). A few sampled texts in which the anchor
    holds are returned too: ``kept`` (the prediction stayed) and ``flipped`` (it changed).

    Parameters
    ----------
    model, text, tokens, groups, mask, class_names, tokenizer
        As :func:`nbexplain.lime_text`.
    target : int, str or None
        The label to keep; None is the class predicted for the text.
    threshold : float
        The precision an anchor must have: the lower bound of its KL confidence interval must exceed it (the
        paper's definition; see :func:`~nbexplain.methods.coalitions.confident.confident_anchor_search`), so a
        returned anchor keeps it on fresh samples. ``tolerance`` is how close above it the bandit decides.
    p_present : float
        Probability that a player outside the anchor is kept in a sample.
    max_samples : int
        Budget of perturbed texts; when it runs out the most precise candidate so far is returned.
    delta, tau, tolerance, batch_size, beam_size, max_anchor_size, min_samples_start
        The bandit's settings, as :func:`~nbexplain.methods.coalitions.anchors.anchor_search`.
    n_examples : int
        Sampled texts returned in ``kept`` and in ``flipped`` (at most this many each).
    seed, progress
        As :func:`nbexplain.lime_text`.

    Examples
    --------
    >>> a = nbx.anchor_text(clf, "The pasta was superb and the staff friendly.")
    >>> a.words, round(a.precision, 2)
    (['superb'], 1.0)
    """
    game = game_for(model, text, tokens, groups, mask, target, None, class_names, tokenizer)
    n_examples = check_int(n_examples, "n_examples", minimum=0)
    sampler = CoalitionSampler(game, p_present, None, seed)
    found = confident_anchor_search(sampler, threshold=threshold, delta=delta, tau=tau, tolerance=tolerance,
                          batch_size=batch_size, beam_size=beam_size, max_anchor_size=max_anchor_size,
                          min_samples_start=min_samples_start, max_samples=max_samples,
                          progress=reporter(progress, "anchor search"))
    kept, flipped = covered_examples(game, found.anchor, sampler.p, sampler.rng, keep=n_examples)
    return AnchorText(**vars(found), p_present=sampler.p, kept=game.texts(kept) if len(kept) else [],
                      flipped=game.texts(flipped) if len(flipped) else [], **TextResult.fields_of(game))


def attribute_text(
    model: Any,
    text: str,
    *,
    method: str = "integrated_gradients",
    target: Any = None,
    output: str = "probability",
    baseline: Any = "pad",
    n_steps: int = 50,
    tokens: Any = None,
    tokenizer: Any = None,
    embedding: Any = None,
    class_names: Any = None,
) -> TextAttribution:
    """Attribute a torch text model's decision to the tokens, through its embedding layer (Captum).

    ``method="integrated_gradients"`` (Sundararajan, Taly & Yan 2017) integrates the gradient along the
    straight path from the baseline's embeddings (every position the ``baseline`` token) to the text's; the
    attributions add up to ``f(text) - f(baseline)`` up to Captum's convergence delta.
    ``"gradient_x_input"`` multiplies the gradient by the embedding at the text. Each token's attribution is
    the sum over its embedding dimensions (and over its id positions, when the tokenizer's ``spans`` puts
    several on one token).

    Parameters
    ----------
    model : torch.nn.Module or TextModel
        A torch module reading ``(N, L)`` ids, with ``tokenizer`` (or a ``tokenizer`` attribute).
    text : str
        The text.
    method : {"integrated_gradients", "gradient_x_input"}
    target : int, str or None
        Class to explain; None is the predicted class.
    output : {"probability", "score"}
        Explain the class probability (softmax) or the model's own output (logit).
    baseline : "pad", "unk" or int
        The id every position of the baseline text takes: the embedding's padding id (or the tokenizer's
        ``PAD``, else 0), the tokenizer's ``UNKNOWN`` (else 1), or an id.
    n_steps : int
        Steps of the integral (integrated gradients).
    tokens : {"word", "whitespace"}, regular expression or callable
        The displayed tokens (default: the tokenizer's own ``tokenizer`` attribute, else "word"). Without a
        tokenizer ``spans(text)``, the model's ids must be one per displayed token.
    tokenizer, embedding, class_names
        As :func:`~nbexplain.adapters.text_models.as_text_model`.

    Examples
    --------
    >>> net = nbx.datasets.review_network()
    >>> ig = nbx.attribute_text(net, "a dull, lifeless film")
    >>> ig.values.sum(), ig.prediction - ig.baseline_prediction  # equal up to ig.convergence_delta
    """
    method = check_choice(method, "method", GRADIENT_METHODS)
    output = check_output(output)
    n_steps = check_int(n_steps, "n_steps", minimum=2)
    m = as_text_model(model, tokenizer=tokenizer, embedding=embedding, class_names=class_names)
    if not isinstance(m, TextModel):
        raise NotDifferentiableError(f"attribute_text needs a torch module with a tokenizer; the model is a {m.kind} "
                                     f"({type(m.raw).__name__}): use lime_text or shapley_text")
    if not isinstance(text, str):
        raise InputError(f"text must be a str; got {type(text).__name__}")
    probabilities = m.predict_proba(np.array([text], dtype=object))[0]
    target = resolve_target(target, probabilities, m.class_names)
    toks = tokenize(text, tokens if tokens is not None else getattr(m.tokenizer, "tokenizer", "word"))
    if toks.n_tokens == 0:
        raise InputError(f"text has no tokens to explain: {text[:60]!r}")
    found = embedding_attributions(m, text, target, output, method, baseline_id(m, baseline), n_steps)
    position_token = token_positions(m.tokenizer, toks, text, len(found.values))
    assigned = position_token >= 0
    values = np.bincount(position_token[assigned], weights=found.values[assigned], minlength=toks.n_tokens)
    return TextAttribution(values=values, method=method, prediction=found.prediction,
                           baseline_prediction=found.baseline_prediction, convergence_delta=found.convergence_delta,
                           unassigned=float(found.values[~assigned].sum()), tokens=toks,
                           groups=[np.array([i]) for i in range(toks.n_tokens)], target=target,
                           target_name=m.class_name(target), output=output)


__all__ = ["MAX_EXACT", "AnchorText", "LimeText", "ShapleyText", "TextAttribution", "TextResult", "TokenGame",
           "anchor_text", "attribute_text", "lime_text", "shapley_text"]
