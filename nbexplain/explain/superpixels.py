"""Superpixel explanations, the front door: LIME, Shapley values, anchors and deletion/insertion curves.

Each function validates its arguments, builds (or reuses) the image's coalition game
(:class:`SuperpixelGame`: superpixels are the players, a removed one shows a fill), runs the generic engine of
:mod:`nbexplain.methods.coalitions` on it and wraps the answer in a result that knows its image:

* :func:`lime_image` -> :class:`LimeImage` (Ribeiro, Singh & Guestrin 2016), fidelity = weighted R²;
* :func:`shapley_image` -> :class:`ShapleyImage` (Shapley 1953): exact up to 16 superpixels, else sampled;
* :func:`anchor_image` -> :class:`Anchor` (Ribeiro, Singh & Guestrin 2018): KL-LUCB beam search;
* :func:`deletion_insertion` -> :class:`PerturbationCurves` (Petsiuk, Das & Saenko 2018) of any ranking.

Pass a :class:`SuperpixelGame` as the model to share its cached evaluations between them (and with the
:class:`~nbexplain.SuperpixelExplorer`). Every result draws itself (``.plot()``), opens in the explorer
(``.widget(model=...)``) and states its quality as numbers and as ``quality()`` lines.

Examples
--------
>>> game = nbx.SuperpixelGame(model, image, "slic", n_segments=30)
>>> lime = nbx.lime_image(game, n_samples=1000)
>>> nbx.deletion_insertion(game, scores=lime).auc_deletion < nbx.deletion_insertion(game, scores=-lime.weights).auc_deletion
True
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._progress import reporter
from .._types import Progress
from .._validation import check_choice, check_keywords
from ..errors import InputError
from ..inputs.segmentation import Segmentation, segment_parameters
from ..methods.coalitions.anchors import CoalitionSampler, anchor_search
from ..methods.coalitions.curves import Curves, perturbation_curves, ranking_order
from ..methods.coalitions.lime import lime
from ..methods.coalitions.shapley import SHAPLEY_METHODS, shapley
from ..methods.coalitions.superpixels import SuperpixelGame, game_for
from ..plotting.superpixels import draw_curves, draw_segmentation
from .coalition_results import AnchorScores, LimeScores, PlayerScores, ShapleyScores


# -- results ----------------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class SuperpixelResult(PlayerScores):
    """What the superpixel results share: their game's context, one score per superpixel, their quality.

    Attributes
    ----------
    target : int - the explained class; ``target_name`` its name.
    segmentation : Segmentation - the superpixels (and the image).
    output : str - "probability" or "score": what the game's values are.
    engine : str - how the model evaluations ran (incremental inference, or full forward passes and why).

    Subclasses say ``kind`` (the explorer's name of the overlay), ``label`` (what the scores are), which
    field holds the ``scores`` (M numbers drawn on a diverging scale; or they override ``scores``), and
    ``quality()`` (how far to trust them, in lines).
    """

    segmentation: Segmentation
    #: how the game's model evaluations ran: "incremental", "incremental up to ...", or "full (why)"
    engine: str = field(default="", kw_only=True)

    @staticmethod
    def fields_of(game: SuperpixelGame) -> dict:
        """The fields every superpixel result takes from its game."""
        return {"target": game.target, "target_name": game.target_name, "segmentation": game.segmentation,
                "output": game.output, "engine": str(getattr(game, "engine", "") or "")}

    def summary(self) -> str:
        """The result in one line: what it is and its first two quality lines."""
        return f"{self.headline}: " + "; ".join(self.quality()[:2])

    @property
    def outline(self) -> tuple[int, ...]:
        """Superpixels a view outlines (an anchor's); none by default."""
        return ()

    @property
    def image(self) -> np.ndarray:
        """(H, W, 3) uint8: the explained image as displayed."""
        return self.segmentation.image

    @property
    def map(self) -> np.ndarray:
        """(H, W) float32: each pixel shows its superpixel's score."""
        return self.segmentation.paint(self.scores).astype(np.float32)

    def plot(self, ax=None, *, numbers: bool = False, alpha: float = 0.6):
        """The scores over the image on a diverging scale (symmetric around 0), with boundaries; returns the Axes."""
        title = "\n".join([self.headline, *self.quality()[:1]])
        return draw_segmentation(self.segmentation, ax=ax, values=self.scores, numbers=numbers, alpha=alpha,
                                 title=title)


@dataclass
class LimeImage(LimeScores, SuperpixelResult):
    """A LIME explanation of one image and class: a weight per superpixel and the surrogate's fidelity (the
    fields of :class:`~nbexplain.explain.coalition_results.LimeScores`), with its image."""

    def quality(self) -> list[str]:
        return [f"fidelity (weighted R²) {self.score:.3f}",
                f"local prediction {self.local_prediction:.3f} vs model {self.prediction:.3f} ({self.output})",
                f"{len(self.coalitions)} samples, kernel width {self.kernel_width:g}"]


@dataclass
class ShapleyImage(ShapleyScores, SuperpixelResult):
    """Shapley values of the superpixels of one image for one class (the fields of
    :class:`~nbexplain.explain.coalition_results.ShapleyScores`; ``base_value`` is the output on the fill
    alone), with its image."""

    def quality(self) -> list[str]:
        std = "" if self.std is None else f", max std error {float(np.max(self.std)):.2g}"
        return [f"Σφ = {self.values.sum():.4f} = f(all) − f(none) = {self.full_value:.4f} − {self.base_value:.4f}",
                f"efficiency gap {self.efficiency_gap:.2g}{std}",
                f"{self.n_evaluations} coalitions evaluated"]


@dataclass
class Anchor(AnchorScores, SuperpixelResult):
    """An anchor: superpixels that, kept, hold the prediction with high precision (the fields of
    :class:`~nbexplain.explain.coalition_results.AnchorScores`: ``anchor``, ``precision``,
    ``precision_lower``, ``coverage`` = ``p_present ** len(anchor)``, ``meets_threshold``...), with its image."""

    @property
    def mask(self) -> np.ndarray:
        """(M,) bool: True for the anchor's superpixels."""
        return self._anchor_mask(self.segmentation.n_segments)

    @property
    def scores(self) -> np.ndarray:
        return self.mask.astype(np.float64)

    @property
    def outline(self) -> tuple[int, ...]:
        return tuple(int(i) for i in self.anchor)

    @property
    def headline(self) -> str:
        return f"anchor for {self.target_name}: superpixels {list(self.anchor)}"

    def quality(self) -> list[str]:
        verdict = "≥" if self.meets_threshold else "below"
        return [f"precision {self.precision:.3f} ({verdict} threshold {self.threshold:g}; "
                f"lower bound {self.precision_lower:.3f})",
                f"coverage {self.coverage:.3g}",
                f"{self.n_samples} perturbed images evaluated"]

    def plot(self, ax=None, *, numbers: bool = False, alpha: float = 0.6):
        """The anchor's superpixels outlined, the rest dimmed; returns the Axes."""
        return draw_segmentation(self.segmentation, ax=ax, outline=self.mask, numbers=numbers,
                                 title="\n".join([self.headline, *self.quality()[:1]]))


@dataclass
class PerturbationCurves(Curves, SuperpixelResult):
    """Deletion and insertion curves of one ranking of superpixels (the fields of
    :class:`~nbexplain.methods.coalitions.curves.Curves`: ``order``, ``fractions``, ``deletion``,
    ``insertion``, ``auc_deletion``, ``auc_insertion``), with the image."""

    kind: ClassVar[str] = "ranking"
    label: ClassVar[str] = "ranking"
    _png_figsize: ClassVar[tuple[float, float]] = (4.2, 3)

    @property
    def scores(self) -> np.ndarray:
        """Rank as a score: M for the first of ``order`` down to 1 for the last."""
        s = np.empty(len(self.order))
        s[self.order] = np.arange(len(self.order), 0, -1)
        return s


    def quality(self) -> list[str]:
        return [f"deletion AUC {self.auc_deletion:.3f} (lower is better)",
                f"insertion AUC {self.auc_insertion:.3f} (higher is better)"]

    def plot(self, ax=None, **_: Any):
        """Both curves with their AUCs; returns the Axes."""
        return draw_curves(self, ax=ax)

    def plot_ranking(self, ax=None):
        """The ranking over the image (bright = removed first); returns the Axes."""
        return draw_segmentation(self.segmentation, ax=ax, values=self.scores, cmap="magma",
                                 title=f"{self.headline} (bright = first)")


def _game(door, model: Any, image: Any, segmentation: Any, fill: Any, target: Any, output: str | None,
          segment_params: dict) -> SuperpixelGame:
    """The game ``door`` explains (see :func:`~nbexplain.methods.coalitions.superpixels.game_for`); a keyword
    that neither ``door`` nor the segmentation method takes is an error naming the nearest valid one."""
    method = "slic" if segmentation is None else segmentation
    if segment_params and (isinstance(model, SuperpixelGame) or isinstance(method, str)):
        # with a game, any method's parameter is known (game_for then says a game has its segmentation)
        known = segment_parameters(None if isinstance(model, SuperpixelGame) else method)
        own = [p for p in inspect.signature(door).parameters if p not in ("model", "image", "segment_params")]
        check_keywords(segment_params, own + sorted(known), f"{door.__name__}()")
    return game_for(model, image, segmentation, fill, target, output, segment_params)


# -- front doors ----------------------------------------------------------------------------------------------------
def lime_image(
    model: Any,
    image: Any = None,
    *,
    segmentation: Any = None, fill: Any = None, target: Any = None, output: str | None = None,
    n_samples: int = 1000,
    kernel_width: float = 0.25,
    alpha: float = 1.0,
    coalitions: np.ndarray | None = None,
    seed: int | None = 0,
    progress: Progress | bool = None,
    **segment_params: Any,
) -> LimeImage:
    """Explain an image classification with LIME on superpixels (Ribeiro, Singh & Guestrin 2016).

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable, Model or SuperpixelGame
        The classifier; a :class:`SuperpixelGame` brings its image, segmentation, fill and cache.
    image : array or PIL image
        The image (omit when ``model`` is a game).
    segmentation : str, Segmentation, array or callable
        As :func:`nbexplain.segment` (its parameters as ``**segment_params``, e.g. ``n_segments=50``);
        default "slic". Not with a game.
    fill : str, number or image
        What removed superpixels show; default "mean", their own mean colour (LIME's). Not with a game.
    target : int, str or None
        Class to explain; None is the predicted class.
    output : {"probability", "score"}
        Explain the class probability (default) or the model's own output (logit or score).
    n_samples : int
        Coalitions sampled (uniformly, each superpixel kept with probability 1/2; the first is the image).
    kernel_width : float
        Width of the exponential kernel on the cosine distance (LIME's image default 0.25).
    alpha : float
        Ridge penalty of the surrogate (LIME's default 1).
    coalitions : (N, M) bool, optional
        Use these coalitions instead of sampling (e.g. to compare with another implementation).
    seed : int or None
        For reproducible samples (default 0); None draws fresh ones.
    progress : None, bool or callable
        None: a bar once the work runs long; True/False: always/never; a callable gets the fraction done
        (and may raise to cancel).

    Returns
    -------
    LimeImage
        Weights, intercept, local prediction and fidelity; ``.plot()`` colours the superpixels.

    Examples
    --------
    >>> lime = nbx.lime_image(model, image, n_segments=50, n_samples=1000)
    >>> lime.weights.shape, round(lime.score, 2)
    ((48,), 0.71)
    """
    game = _game(lime_image, model, image, segmentation, fill, target, output, segment_params)
    fit = lime(game, n_samples, kernel_width=kernel_width, alpha=alpha, coalitions=coalitions, seed=seed,
               progress=reporter(progress, "LIME"))
    return LimeImage.of(fit, **SuperpixelResult.fields_of(game))


def shapley_image(
    model: Any,
    image: Any = None,
    *,
    segmentation: Any = None, fill: Any = None, target: Any = None, output: str | None = None,
    method: str = "auto",
    max_exact: int = 16,
    n_permutations: int = 50,
    n_samples: int = 2048,
    antithetic: bool = True,
    seed: int | None = 0,
    progress: Progress | bool = None,
    **segment_params: Any,
) -> ShapleyImage:
    """Shapley values of an image's superpixels for one class (Shapley 1953).

    The value of a coalition is the model's output for the target on the image in which only the
    coalition's superpixels are kept. With M <= ``max_exact`` superpixels the whole 2**M value table is
    evaluated (in model batches, cached) and the exact values computed from it in one vectorised pass;
    beyond, permutation sampling with antithetic pairs; KernelSHAP is the third option.

    Parameters
    ----------
    model, image
        The classifier and the image, or a :class:`SuperpixelGame` alone (as :func:`nbexplain.lime_image`).
    segmentation, fill, target, output, **segment_params
        As :func:`nbexplain.lime_image`.
    method : {"auto", "exact", "sampled", "kernel"}
        "auto" is "exact" when M <= ``max_exact`` (2**M model evaluations), else "sampled".
    n_permutations : int
        Permutations for "sampled" (each costs M - 1 evaluations).
    n_samples : int
        Coalitions for "kernel" (KernelSHAP).
    antithetic : bool
        Pair each sampled permutation with its reverse.
    seed : int or None
        For reproducible sampling (default 0); None draws fresh permutations.
    progress : None, bool or callable
        As :func:`nbexplain.lime_image`.

    Examples
    --------
    >>> sv = nbx.shapley_image(model, image, segmentation="grid", n_segments=12)
    >>> sv.method, abs(sv.efficiency_gap) < 1e-9
    ('exact', True)
    """
    check_choice(method, "method", SHAPLEY_METHODS)  # before segmenting: a typo should not cost a segmentation
    game = _game(shapley_image, model, image, segmentation, fill, target, output, segment_params)
    sv = shapley(game, method, max_exact=max_exact, n_permutations=n_permutations, n_samples=n_samples,
                 antithetic=antithetic, seed=seed, progress=reporter(progress, "Shapley values"))
    return ShapleyImage.of(sv, **SuperpixelResult.fields_of(game))


def anchor_image(
    model: Any,
    image: Any = None,
    *,
    segmentation: Any = None, fill: Any = None, target: Any = None,
    backgrounds: Any = None,
    threshold: float = 0.95,
    p_present: float = 0.5,
    max_samples: int = 5000,
    delta: float = 0.1, tau: float = 0.15, tolerance: float = 0.05, batch_size: int = 100, beam_size: int = 1,
    max_anchor_size: int | None = None, min_samples_start: int = 100,
    seed: int | None = 0,
    progress: Progress | bool = None,
    **segment_params: Any,
) -> Anchor:
    """Find an anchor: superpixels that keep the model's prediction whatever happens to the rest
    (Ribeiro, Singh & Guestrin 2018).

    An anchor is a set A of superpixels with precision ``P(f(z) = f(x) | A kept) >= threshold`` when every
    other superpixel is kept with probability ``p_present`` (removed ones showing the fill or one of the
    ``backgrounds``); the smallest one — the largest coverage ``p_present**|A|`` — is searched with the
    KL-LUCB bandit (:func:`~nbexplain.methods.coalitions.anchors.anchor_search`).

    Parameters
    ----------
    model, image, segmentation, fill, **segment_params
        As :func:`nbexplain.lime_image`: the classifier and the image, or a :class:`SuperpixelGame` alone.
    target : int, str or None
        The label to keep; None is the class predicted for the whole image.
    backgrounds : sequence of images, optional
        Removed superpixels show one of these pictures (chosen at random per sample) instead of ``fill``:
        the anchor then holds the prediction on other backgrounds.
    threshold : float
        The precision an anchor must reach (its KL lower bound within ``tolerance`` of it).
    p_present : float
        Probability that a non-anchor superpixel is kept in a sample.
    max_samples : int
        Budget of perturbed images; when it runs out the most precise candidate so far is returned.
    delta, tau, tolerance, batch_size, beam_size, max_anchor_size, min_samples_start
        The bandit's confidence, its tolerances, samples per step, candidates per size, the largest
        anchor and the first samples, as :func:`~nbexplain.methods.coalitions.anchors.anchor_search`.
    seed : int or None
        For reproducible samples (default 0); None draws fresh ones.
    progress : None, bool or callable
        As :func:`nbexplain.lime_image` (the fraction of the budget used).

    Examples
    --------
    >>> a = nbx.anchor_image(model, image, n_segments=20)
    >>> a.anchor, round(a.precision, 2), a.coverage
    ((3, 11), 0.97, 0.25)
    """
    game = _game(anchor_image, model, image, segmentation, fill, target, None, segment_params)
    fills = None
    if backgrounds is not None:
        if isinstance(backgrounds, np.ndarray) and backgrounds.ndim == 3:
            backgrounds = [backgrounds]
        if len(backgrounds) == 0:
            raise InputError("backgrounds must hold at least one image")
        fills = [game.add_fill(b, f"backgrounds[{i}]") for i, b in enumerate(backgrounds)]
    sampler = CoalitionSampler(game, p_present, fills, seed)
    found = anchor_search(sampler, threshold=threshold, delta=delta, tau=tau, tolerance=tolerance,
                          batch_size=batch_size, beam_size=beam_size, max_anchor_size=max_anchor_size,
                          min_samples_start=min_samples_start, max_samples=max_samples,
                          progress=reporter(progress, "anchor search"))
    return Anchor(**vars(found), p_present=sampler.p, **SuperpixelResult.fields_of(game))


def deletion_insertion(
    model: Any,
    image: Any = None,
    scores: Any = None,
    *,
    order: Any = None,
    segmentation: Any = None, fill: Any = None, target: Any = None, output: str | None = None,
    progress: Progress | bool = None,
    **segment_params: Any,
) -> PerturbationCurves:
    """Deletion and insertion curves (and their AUCs) of a ranking of superpixels (Petsiuk, Das & Saenko 2018).

    Deletion removes the superpixels from the image most important first and records the target's output
    after each step; insertion starts from the fill and adds them back in the same order. A good ranking
    makes the deletion curve fall fast (small area) and the insertion curve rise fast (large area).

    Parameters
    ----------
    model, image
        The classifier and the image, or a :class:`SuperpixelGame` alone (as :func:`nbexplain.lime_image`).
    scores : (M,) array or result
        Importance per superpixel (larger first), e.g. ``lime.weights`` or a LIME/Shapley result (whose
        ``target`` is then the default).
    order : (M,) int array, optional
        An explicit ranking (a permutation of 0..M-1) instead of ``scores``.
    segmentation, fill, target, output, **segment_params
        As :func:`nbexplain.lime_image`.
    progress : None, bool or callable
        As :func:`nbexplain.lime_image`.

    Examples
    --------
    >>> game = nbx.SuperpixelGame(model, image, n_segments=30)
    >>> curves = nbx.deletion_insertion(game, scores=nbx.lime_image(game))
    >>> curves.auc_deletion < curves.auc_insertion
    True
    """
    if target is None and hasattr(scores, "target"):
        target = scores.target  # the class the ranking explains
    game = _game(deletion_insertion, model, image, segmentation, fill, target, output, segment_params)
    if (scores is None) == (order is None):
        raise InputError("give exactly one of scores (one per superpixel) or order (a permutation)")
    if order is None:
        order = ranking_order(scores, game.n_players)
    curves = perturbation_curves(game, order, progress=reporter(progress, "deletion and insertion curves"))
    return PerturbationCurves(**vars(curves), **SuperpixelResult.fields_of(game))


__all__ = ["Anchor", "LimeImage", "PerturbationCurves", "ShapleyImage", "SuperpixelGame", "SuperpixelResult",
           "anchor_image", "deletion_insertion", "lime_image", "shapley_image"]
