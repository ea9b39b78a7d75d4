"""Can we trust this explanation? Sanity checks, faithfulness, robustness and plausibility, the front door.

The survey warns that post-hoc explanations can mislead and must be evaluated (Doshi-Velez & Kim 2017).
Each function here measures one way an explanation can fail and returns a result that says it in numbers
(attributes, ``to_frame()``), in words (``summary()``, ``quality()`` lines the widgets show) and in a picture
(``plot()``):

* :func:`sanity_check` -> :class:`SanityCheck` — the model randomisation test (Adebayo et al. 2018): the
  model's layers are re-initialised top-down (cascading) or one at a time (independent) and each method's
  map recomputed; a map that barely changes shows the image more than the model. ``mode="data"`` is the
  data randomisation test: the maps of the same architecture trained on shuffled labels.
* :func:`faithfulness` -> :class:`Faithfulness` — deletion and insertion curves of a pixel map (Petsiuk
  et al. 2018), its infidelity (Yeh et al. 2019) and faithfulness correlation (Bhatt et al. 2020).
  :func:`infidelity` and :func:`sensitivity_max` are Captum's measures, computed at the best batch size.
* :func:`robustness` -> :class:`Robustness` — how much a map changes under noise that keeps the
  prediction (Ghorbani et al. 2019): top-k intersection, rank correlation, max-sensitivity.
* :func:`stability` -> :class:`Stability` — a sampled method (LIME, sampled Shapley, SmoothGrad) run with
  different seeds: do its top-k features agree?
* :func:`plausibility` -> :class:`Plausibility` — is a counterfactual like the data: its distance to the
  nearest rows and its local outlier factor.
* :func:`rank_methods` -> :class:`MethodRanking` — the methods of a comparison ranked by one of these.
* :func:`pixel_quality`, :func:`explanation_quality`, :func:`counterfactual_quality` -> :class:`QualityReport`
  — what a widget's quality panel shows for the explanation on screen.

Examples
--------
>>> check = nbx.sanity_check(model, image, ["gradient", "rectified", "gradcam"])
>>> print(check.summary()); check.plot()
>>> nbx.faithfulness(model, image, "integrated_gradients").auc_deletion
>>> nbx.stability(lambda seed: nbx.lime_image(game, seed=seed)).agreement
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import reporter
from .._types import Progress
from .._validation import (
    check_bool,
    check_callable,
    check_choice,
    check_finite_array,
    check_int,
    check_number,
    check_options,
    check_positive_int,
    check_seed,
    is_int,
)
from ..adapters.model import Model, as_model
from ..adapters.outputs import resolve_target
from ..errors import InputError, NotDifferentiableError
from ..inputs.images import ImageInput, as_image, fit_channels, model_channels
from ..methods.pixel.baselines import make_baseline
from ..methods.pixel.maps import reduce_channels
from ..methods.trust import pixels as _pixels
from ..methods.trust import plausibility as _plaus
from ..methods.trust import randomisation as _random
from ..methods.trust import robustness as _robust
from ..methods.trust import similarity as _sim
from ..plotting import trust as _draw
from .pixel import METHODS, AttributionMap, attribute, check_methods, method_options
from .result import Result, frame

#: the similarity measures of the sanity check, in words
METRICS = {
    "spearman_abs": "rank correlation of |map|",
    "spearman": "rank correlation of the signed map",
    "ssim": "SSIM",
    "hog": "HOG similarity",
}
SANITY_MODES = ("cascading", "independent", "data")
DEFAULT_SANITY_METHODS = ("gradient", "rectified", "integrated_gradients", "gradcam")
#: a method whose |map| rank correlation stays at or above this when the weights are random fails the check
FAILS_FROM = 0.5
#: ... and passes below this
PASSES_BELOW = 0.3
#: what a pixel map's faithfulness can be ranked by, and whether higher is better
RANKINGS = {"deletion": False, "insertion": True, "infidelity": False, "correlation": True, "sensitivity": False}
#: a local outlier factor above this calls a point an outlier (scikit-learn's threshold for contamination="auto")
LOF_OUTLIER = 1.5
#: a point farther from its nearest rows than this quantile of the data's own rows is far from the data
DISTANCE_QUANTILE = 0.95
#: sampled methods: the option that seeds them
SEEDED = {"smoothgrad"}


# ---------------------------------------------------------------------------------------------------------------
# shared checks
# ---------------------------------------------------------------------------------------------------------------
def _image_for(model: Model, image: Any) -> ImageInput:
    return fit_channels(as_image(image), model_channels(model))


def _torch(model: Model, what: str) -> None:
    if not model.differentiable:
        raise NotDifferentiableError(
            f"{what} re-initialises the model's layers, so it needs a torch.nn.Module; the model is a "
            f"{model.kind} ({type(model.raw).__name__})")


def _methods_and_options(model: Model, methods: Any, options: Any) -> tuple[list[str], dict[str, dict]]:
    methods = check_methods(methods)
    options = check_options(options, "options", methods)
    checked = {m: method_options(m, options.get(m)) for m in methods}
    for m in methods:
        if METHODS[m].gradient and not model.differentiable:
            raise NotDifferentiableError(f"method={m!r} needs gradients, but the model is a {model.kind}; "
                                         "use method='occlusion', which only needs predictions")
    return methods, checked


def _portable(model: Model, options: dict) -> dict:
    """Options that name a module of the model (Grad-CAM's ``layer``) by its dotted name, so they apply to
    a copy of the model too."""
    layer = options.get("layer")
    if layer is None or isinstance(layer, str):
        return options
    name = next((n for n, m in model.torch_module.named_modules() if m is layer), None)
    if name is None:
        raise InputError("options: layer must be a module inside the model (or its dotted name)")
    return {**options, "layer": name}


def _attribution(method: str, model: Model, img: ImageInput, target: int, options: dict) -> np.ndarray:
    """The (C, H, W) attribution of the method's kernel (without the details a kernel may add)."""
    out = METHODS[method].compute(model, img, target, None, **options)
    return out[0] if isinstance(out, tuple) else out


def _explained_map(method: str, attribution: np.ndarray) -> np.ndarray:
    return reduce_channels(attribution, METHODS[method].reduction).astype(np.float32)


def _check_output(output: str) -> str:
    return check_choice(output, "output", _pixels.OUTPUTS)


# ---------------------------------------------------------------------------------------------------------------
# sanity checks (Adebayo et al. 2018)
# ---------------------------------------------------------------------------------------------------------------
class _Reference:
    """One method's original map, with what every comparison needs computed once. A flat original map (one
    value everywhere, e.g. Grad-CAM's ReLU leaving nothing) orders no pixel: its similarities are NaN."""

    def __init__(self, attribution: np.ndarray, map_: np.ndarray, metrics: Sequence[str]):
        self.map = map_
        self.flat = bool(np.ptp(map_) == 0)
        self.abs_ranks = _sim.ranks(np.abs(map_))
        self.signed_ranks = _sim.ranks(attribution.sum(axis=0)) if "spearman" in metrics else None
        self.ssim = _sim.SSIMReference(map_) if "ssim" in metrics else None
        self.hog = _sim.hog_features(map_) if "hog" in metrics else None

    def compare(self, attribution: np.ndarray, map_: np.ndarray, metrics: Sequence[str]) -> dict[str, float]:
        if self.flat:
            return {k: float("nan") for k in metrics}
        out = {}
        if "spearman_abs" in metrics:
            out["spearman_abs"] = _sim.correlation(self.abs_ranks, _sim.ranks(np.abs(map_)))
        if "spearman" in metrics:
            out["spearman"] = _sim.correlation(self.signed_ranks, _sim.ranks(attribution.sum(axis=0)))
        if "ssim" in metrics:
            out["ssim"] = self.ssim.compare(map_)
        if "hog" in metrics:
            out["hog"] = _sim.correlation(self.hog, _sim.hog_features(map_))
        return out


def _display(map_: np.ndarray) -> np.ndarray:
    top = float(np.abs(map_).max())
    return (map_ / top if top > 0 else map_).astype(np.float16)


@dataclass
class SanityCheck(Result):
    """The maps of several methods as a model's weights are randomised, and how alike they stay.

    Attributes
    ----------
    methods : list of str — the methods checked (keys of :data:`nbexplain.METHODS`); ``labels`` in words.
    mode : "cascading", "independent" or "data".
    steps : list of str — what each step randomised: layer names top-down, or "shuffled labels".
    similarity : dict — metric name (:data:`METRICS`) -> (n_methods, n_steps) similarity to the original map.
    original : (n_methods, H, W) float32 — each method's map of the trained model.
    maps : (n_methods, n_steps, H, W) float16 — the maps after each step, each divided by its largest |value|.
    scores : (n_methods,) — what the verdict rests on: the |map| rank correlation with the top half of the
        layers random (cascading), its mean over the layers (independent), or with the shuffled-label model
        (data).
    target, target_name, probability : the explained class and the trained model's probability of it.
    image : (H, W, 3) uint8. ``seeds`` : the seed of each step.
    """

    methods: list[str]
    labels: list[str]
    mode: str
    steps: list[str]
    similarity: dict[str, np.ndarray]
    original: np.ndarray
    maps: np.ndarray
    scores: np.ndarray
    target: int
    target_name: str
    probability: float
    image: np.ndarray
    seeds: list[int] = field(default_factory=list)

    @property
    def final(self) -> np.ndarray:
        """(n_methods,) the |map| rank correlation after the last step (fully random, cascading)."""
        return self.similarity["spearman_abs"][:, -1] if "spearman_abs" in self.similarity else np.full(len(self.methods), np.nan)

    def passed(self, method: str) -> bool:
        """True when ``method``'s map changed with the weights (its score is below ``PASSES_BELOW``; a flat
        map, which cannot be checked, does not pass)."""
        return bool(self.scores[self._index(method)] < PASSES_BELOW)

    def _index(self, method: str) -> int:
        return self.methods.index(check_choice(method, "method", self.methods))

    def verdict(self, method: str) -> str:
        """``method``'s verdict in words."""
        i = self._index(method)
        s = float(self.scores[i])
        if not np.isfinite(s):
            return (f"{self.labels[i]} cannot be checked: its map of the trained model is flat (one value "
                    "everywhere), so there is nothing to compare")
        where = {"cascading": "with the top half of the layers random",
                 "independent": "averaged over the layers randomised one at a time",
                 "data": "for a model trained on shuffled labels"}[self.mode]
        if s >= FAILS_FROM:
            story = ("fails: barely changes when the labels are shuffled — it shows the image more than what "
                     "the model learned" if self.mode == "data" else
                     "fails: barely changes when the weights are random — it shows the image more than the model")
        elif s >= PASSES_BELOW:
            story = "unclear: changes, but keeps much of its picture"
        elif self.mode == "data":
            story = "passes: changes when the labels are shuffled, so it depends on what the model learned"
        else:
            story = "passes: changes with the weights, so it depends on what the model learned"
        return f"{self.labels[i]} {story} (rank correlation {s:.2f} {where})"

    def summary(self) -> str:
        """One line per method: its verdict."""
        head = {"cascading": "Cascading randomisation", "independent": "Independent randomisation",
                "data": "Data randomisation"}[self.mode]
        return "\n".join([f"{head} of {len(self.steps)} step(s), explaining {self.target_name!r}:"]
                         + [f"  {self.verdict(m)}" for m in self.methods])

    def quality(self) -> list[str]:
        """The verdicts, one short line per method."""
        return [self.verdict(m) for m in self.methods]

    def to_frame(self):
        """One row per method and step: ``method``, ``step`` (1..), ``layer``, and every similarity measure."""
        n_m, n_s = len(self.methods), len(self.steps)
        columns: dict[str, Any] = {"method": np.repeat(self.methods, n_s), "step": np.tile(np.arange(1, n_s + 1), n_m),
                                   "layer": np.tile(self.steps, n_m)}
        for name, values in self.similarity.items():
            columns[name] = values.reshape(-1)
        return frame(columns)

    def columns(self, max_columns: int = 6) -> list[int]:
        """The steps the figure shows (evenly spaced, always the last)."""
        n = len(self.steps)
        if n <= max_columns:
            return list(range(n))
        return sorted({int(round(v)) for v in np.linspace(0, n - 1, max_columns)})

    def _png_size(self) -> tuple[float, float]:
        return (1.5 * (len(self.columns()) + 1) + 4.2, 1.5 * len(self.methods) + 0.8)

    def plot(self, ax=None, *, metric: str = "spearman_abs", max_columns: int = 6):
        """Adebayo et al.'s figure: each method's map degrading step by step, and the similarity curves;
        returns the Axes."""
        metric = check_choice(metric, "metric", list(self.similarity))
        return _draw.draw_sanity(self, ax=ax, metric=metric, columns=self.columns(max_columns), ylabel=METRICS[metric])

    def plot_curves(self, ax=None, metric: str = "spearman_abs"):
        """Only the similarity curves (one per method) against the steps; returns the Axes."""
        metric = check_choice(metric, "metric", list(self.similarity))
        return _draw.draw_similarity(self, ax=ax, metric=metric, ylabel=METRICS[metric])


def _sanity_steps(module, mode: str, layers: Any, seed: Any) -> tuple[list, list[int]]:
    steps = _random.layer_steps(module, layers)
    if is_int(seed) or seed is None:
        base = int(np.random.default_rng().integers(2**31)) if seed is None else check_seed(seed)
        seeds = [base + k for k in range(len(steps))]
    else:
        seeds = [check_seed(s, "seed") for s in seed]
        if len(seeds) != len(steps) or any(s is None for s in seeds):
            raise InputError(f"seed must be an int or one int per step ({len(steps)} steps); got {len(seeds)}")
    return steps, seeds


def sanity_check(
    model: Any,
    image: Any,
    methods: Sequence[str] = DEFAULT_SANITY_METHODS,
    mode: str = "cascading",
    target: Any = None,
    *,
    layers: Sequence[str] | None = None,
    shuffled_model: Any = None,
    metrics: Sequence[str] = tuple(METRICS),
    seed: int | Sequence[int] = 0,
    options: dict[str, dict] | None = None,
    progress: Progress | bool = None,
) -> SanityCheck:
    """Do the maps depend on what the model learned? The randomisation tests of Adebayo et al. (2018).

    ``mode="cascading"`` re-initialises the model's layers from the output down, cumulatively, on a copy of
    the model (the model itself is untouched); ``"independent"`` one layer at a time. Each layer gets its own
    default initialiser (``reset_parameters()``), seeded. After every step each method's map is recomputed
    for the same class and compared with the original: Spearman rank correlation of |map| and of the signed
    map (channels summed), SSIM and HOG similarity. ``mode="data"`` compares with ``shuffled_model``, the
    same architecture trained on shuffled labels (the data randomisation test).

    Parameters
    ----------
    model : torch.nn.Module or Model
        The trained classifier (a torch module: its layers are re-initialised).
    image : array, PIL image or path
        As for :func:`nbexplain.attribute`.
    methods : list of str
        Keys of :data:`nbexplain.METHODS`.
    mode : {"cascading", "independent", "data"}
    target : int, str or None
        The class explained; None is the class the trained model predicts.
    layers : list of str (or of lists of str), optional
        The steps, top-down: module names whose parameterised layers are re-initialised together (e.g. the
        blocks of a ResNet); an entry that is a list of names is one step over all of them. None: every
        layer with parameters is a step.
    shuffled_model : torch.nn.Module, model or callable
        ``mode="data"`` only: the model trained on shuffled labels.
    metrics : list of str
        Which of :data:`METRICS` to compute (all by default; the rank correlation of |map| is the cheapest).
    seed : int, list of int or None
        Step k is seeded with ``seed + k`` (default 0: reproducible; None: fresh random weights); or one seed
        per step (e.g. ``[43] * n`` repeats Quantus's MPRT, which seeds every layer with its seed + 1).
    options : dict, optional
        Per-method options, e.g. ``{"integrated_gradients": {"steps": 16}}``.
    progress : None, bool or callable
        None: a bar once the work runs long; True/False: always/never; a callable gets the fraction done.

    Returns
    -------
    SanityCheck
        ``summary()`` says which methods pass; ``plot()`` draws the figure of the paper.

    Examples
    --------
    >>> check = nbx.sanity_check(model, image, ["gradient", "rectified", "gradcam"], mode="cascading")
    >>> check.similarity["spearman_abs"][:, -1]        # at full randomisation, per method
    >>> print(check.summary())
    """
    m = as_model(model)
    mode = check_choice(mode, "mode", SANITY_MODES)
    metrics = [check_choice(x, "metrics", list(METRICS)) for x in (metrics if not isinstance(metrics, str) else [metrics])]
    if not metrics:
        raise InputError(f"metrics must name at least one of {list(METRICS)}")
    methods, options = _methods_and_options(m, methods, options)
    img = _image_for(m, image)
    if mode == "data":
        if shuffled_model is None:
            raise InputError("mode='data' compares with a model trained on shuffled labels: pass shuffled_model=")
        if layers is not None:
            raise InputError("layers is for mode='cascading' or 'independent'; mode='data' has one step")
    else:
        if shuffled_model is not None:
            raise InputError(f"shuffled_model is for mode='data'; mode={mode!r} randomises the layers of model")
        _torch(m, "sanity_check")
        steps, seeds = _sanity_steps(m.torch_module, mode, layers, seed)
        options = {k: _portable(m, o) for k, o in options.items()}
    probabilities = m.predict_proba(img.tensor[None])[0]
    t = resolve_target(target, probabilities, m.class_names)
    report = reporter(progress, "sanity check")
    n_steps = 1 if mode == "data" else len(steps)
    total = len(methods) * (n_steps + 1)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if report is not None:
            report(done[0] / total)

    if report is not None:
        report(0.0)
    references, original = [], []
    for name in methods:
        attribution = _attribution(name, m, img, t, options[name])
        references.append(_Reference(attribution, _explained_map(name, attribution), metrics))
        original.append(references[-1].map)
        tick()
    h, w = img.shape
    maps = np.zeros((len(methods), n_steps, h, w), dtype=np.float16)
    similarity = {k: np.zeros((len(methods), n_steps)) for k in metrics}

    def measure(k: int, twin: Model) -> None:
        for i, name in enumerate(methods):
            attribution = _attribution(name, twin, img, t, options[name])
            map_ = _explained_map(name, attribution)
            maps[i, k] = _display(map_)
            for key, value in references[i].compare(attribution, map_, metrics).items():
                similarity[key][i, k] = value
            tick()

    if mode == "data":
        shuffled = as_model(shuffled_model, class_names=m.class_names)
        if any(METHODS[x].gradient for x in methods) and not shuffled.differentiable:
            raise NotDifferentiableError("shuffled_model must be a torch.nn.Module for gradient methods")
        measure(0, shuffled)
        names, seeds = ["shuffled labels"], []
    else:
        names = []
        for k, (name, clone) in enumerate(_random.randomised_modules(m.torch_module, steps, mode, seeds)):
            measure(k, _random.model_with_module(m, clone))
            names.append(name)
    scores = _verdict_scores(similarity.get("spearman_abs"), mode, len(methods), n_steps)
    return SanityCheck(
        methods=methods, labels=[METHODS[x].label for x in methods], mode=mode, steps=names, similarity=similarity,
        original=np.stack(original), maps=maps, scores=scores, target=t, target_name=m.class_name(t),
        probability=float(probabilities[t]), image=img.display, seeds=list(seeds))


def _verdict_scores(rank_abs: np.ndarray | None, mode: str, n_methods: int, n_steps: int) -> np.ndarray:
    """What each verdict rests on (see :class:`SanityCheck`); NaN without the |map| rank correlation."""
    if rank_abs is None:
        return np.full(n_methods, np.nan)
    if mode == "cascading":
        return rank_abs[:, : max(1, math.ceil(n_steps / 2))].mean(axis=1)
    return rank_abs.mean(axis=1)


# ---------------------------------------------------------------------------------------------------------------
# faithfulness of a pixel map
# ---------------------------------------------------------------------------------------------------------------
def _explanation(m: Model, img: ImageInput, explanation: Any, target: Any, options: dict | None
                 ) -> AttributionMap:
    """``explanation`` as an AttributionMap of ``img``: a result (checked against the image) or a method name."""
    if isinstance(explanation, AttributionMap):
        if explanation.map.shape != img.shape:
            raise InputError(f"explanation's map has shape {explanation.map.shape}; the image is {img.shape}")
        if options:
            raise InputError("options are for a method name; this explanation is already computed")
        if target is not None and resolve_target(target, explanation.probabilities, m.class_names) != explanation.target:
            raise InputError(f"target={target!r} differs from the class the explanation explains "
                             f"({explanation.target_name!r})")
        return explanation
    if isinstance(explanation, str):
        return attribute(m, img, explanation, target, progress=False, **(options or {}))
    raise InputError("explanation must be an AttributionMap (from nbx.attribute) or a method name such as "
                     f"'gradient'; got {type(explanation).__name__}")


@dataclass
class Faithfulness(Result):
    """How faithfully one pixel map ranks the pixels the model's output depends on.

    Attributes
    ----------
    method, label : the explained map's method; ``target``, ``target_name`` its class.
    output : "probability" or "score" — what the curves record.
    baseline : what removed pixels show ("blur", "mean", ...).
    fractions, deletion, insertion : (steps+1,) the curves; ``auc_deletion`` (lower is better) and
        ``auc_insertion`` (higher is better) their areas.
    infidelity : float or None — Yeh et al.'s infidelity of the attribution (lower is better; normalised).
    correlation : float or None — faithfulness correlation (Bhatt et al.; higher is better).
    image, map : the image and the map (for the picture).
    """

    method: str
    label: str
    target: int
    target_name: str
    output: str
    baseline: str
    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    auc_deletion: float
    auc_insertion: float
    infidelity: float | None
    correlation: float | None
    image: np.ndarray
    map: np.ndarray
    _png_figsize = (4.4, 3.2)

    @property
    def steps(self) -> int:
        return len(self.fractions) - 1

    def quality(self) -> list[str]:
        lines = [f"deletion AUC {self.auc_deletion:.3f} (lower is better)",
                 f"insertion AUC {self.auc_insertion:.3f} (higher is better)"]
        if self.infidelity is not None:
            lines.append(f"infidelity {self.infidelity:.3g} (lower is better)")
        if self.correlation is not None:
            lines.append(f"faithfulness correlation {self.correlation:.2f} (higher is better)")
        return lines

    def summary(self) -> str:
        return f"{self.label} for {self.target_name!r}: " + "; ".join(self.quality())

    def to_frame(self):
        """The curves: ``fraction`` of pixels moved, ``deletion``, ``insertion``."""
        return frame({"fraction": self.fractions, "deletion": self.deletion, "insertion": self.insertion})

    def plot(self, ax=None):
        """Both curves with their areas; returns the Axes."""
        return _draw.draw_pixel_curves(self, ax=ax)


def faithfulness(
    model: Any,
    image: Any,
    explanation: Any = "gradient",
    target: Any = None,
    *,
    baseline: Any = "blur",
    steps: int = 100,
    output: str = "probability",
    n_perturbations: int = 50,
    noise: float = 0.05,
    n_subsets: int | None = 100,
    subset_size: int | None = None,
    subsets: Any = None,
    seed: int | None = 0,
    options: dict | None = None,
    progress: Progress | bool = None,
) -> Faithfulness:
    """Does removing the pixels a map calls important change the output? Curves, infidelity, correlation.

    Deletion replaces the pixels by the ``baseline`` in order of decreasing attribution, in ``steps`` equal
    steps, and records the target's ``output`` after each; insertion starts from the baseline and puts them
    back (Petsiuk, Das & Saenko 2018). Infidelity (Yeh et al. 2019, normalised as Captum's ``normalize=True``)
    uses ``n_perturbations`` Gaussian perturbations of std ``noise`` x the value range; faithfulness
    correlation (Bhatt et al. 2020) ``n_subsets`` random pixel subsets of ``subset_size`` pixels (default
    2 % of the pixels) replaced by the baseline. Every perturbed image is built lazily and run at the
    model's best batch size.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable or Model
    image : array, PIL image or path
    explanation : AttributionMap or str
        A result of :func:`nbexplain.attribute` for this image, or a method name (computed here).
    target : int, str or None
        The class; None: the explanation's (or the predicted) class.
    baseline : str, number or array
        What a removed pixel shows: "blur" (default), "mean", "grey", "black", ... (see ``make_baseline``).
    steps : int
        Steps of the curves (``2 (steps + 1)`` model evaluations).
    output : {"probability", "score"}
        What the curves record (the measures use the score where it is linear: infidelity, correlation).
    n_perturbations, noise : infidelity's samples and their std (a fraction of the value range); 0: skipped.
    n_subsets, subset_size : faithfulness correlation's subsets; ``n_subsets=None`` or 0: skipped.
    subsets : (n, size) int array, optional
        Explicit pixel subsets (flat indices into H x W) instead of random ones, e.g. to repeat another tool's.
    seed : int or None
        Seeds the perturbations and subsets (default 0: reproducible).
    options : dict, optional
        Options of the method when ``explanation`` is a name.
    progress : None, bool or callable

    Examples
    --------
    >>> f = nbx.faithfulness(model, image, "integrated_gradients")
    >>> f.auc_deletion, f.auc_insertion, f.infidelity
    """
    m = as_model(model)
    img = _image_for(m, image)
    steps = check_positive_int(steps, "steps")
    output = _check_output(output)
    n_perturbations = check_int(n_perturbations, "n_perturbations", 0)
    noise = check_number(noise, "noise", minimum=0)
    n_subsets = 0 if n_subsets is None else check_int(n_subsets, "n_subsets", 0)
    if subsets is not None:
        subsets = np.asarray(subsets)
        if subsets.ndim != 2 or not np.issubdtype(subsets.dtype, np.integer):
            raise InputError(f"subsets must be an (n, size) array of pixel indices; got shape {subsets.shape}")
        n_subsets = len(subsets)
    seed = check_seed(seed)
    result = _explanation(m, img, explanation, target, options)
    fill = make_baseline(img, baseline)
    h, w = img.shape
    size = max(1, round(0.02 * h * w)) if subset_size is None else check_int(subset_size, "subset_size", 1, h * w)
    report = reporter(progress, "faithfulness")
    shares = np.array([2 * (steps + 1), n_perturbations, n_subsets], dtype=float)
    edges = np.concatenate([[0], np.cumsum(shares / shares.sum())])

    def part(i: int):
        return None if report is None else (lambda f: report(edges[i] + f * (edges[i + 1] - edges[i])))

    curves = _pixels.pixel_curves(m, img.tensor, result.map, fill, result.target, output, steps, progress=part(0))
    lo, hi = img.value_range
    infid = None
    if n_perturbations and noise > 0:
        infid = _pixels.infidelity(m, img.tensor, result.attribution, result.target, n=n_perturbations,
                                   std=noise * (hi - lo), seed=seed, normalise=True, progress=part(1))
    corr = None
    if n_subsets:
        if subsets is None:
            subsets = _pixels.random_subsets(h * w, n_subsets, size, seed)
        corr, _, _ = _pixels.faithfulness_correlation(m, img.tensor, result.map, fill, result.target, subsets,
                                                       progress=part(2))
    if report is not None:
        report(1.0)
    return Faithfulness(
        method=result.method, label=result.label, target=result.target, target_name=result.target_name,
        output=output, baseline=baseline if isinstance(baseline, str) else (
            f"{float(baseline):g}" if np.ndim(baseline) == 0 else "an image"), fractions=curves.fractions,
        deletion=curves.deletion, insertion=curves.insertion, auc_deletion=curves.auc_deletion,
        auc_insertion=curves.auc_insertion, infidelity=infid, correlation=corr, image=result.image, map=result.map)


def infidelity(model: Any, image: Any, explanation: Any = "gradient", target: Any = None, *,
               n_perturbations: int = 50, noise: float = 0.05, normalise: bool = True, output: str = "score",
               seed: int | None = 0, options: dict | None = None, progress: Progress | bool = None) -> float:
    """Infidelity of a pixel attribution (Yeh et al. 2019): equal to Captum's ``infidelity`` on the same
    perturbations, computed at the model's best batch size.

    ``mean_i (a·I_i - (f(x) - f(x - I_i)))²`` over ``n_perturbations`` seeded perturbations ``I_i`` with
    std ``noise`` x the image's value range, ``a`` the (C, H, W) attribution and ``f`` the target's
    ``output``; ``normalise`` first scales ``a`` by the factor that minimises it (Captum's
    ``normalize=True``), so methods in different units compare. Lower is better.

    Examples
    --------
    >>> nbx.infidelity(model, image, "gradient_x_input")
    """
    m = as_model(model)
    img = _image_for(m, image)
    result = _explanation(m, img, explanation, target, options)
    lo, hi = img.value_range
    return _pixels.infidelity(
        m, img.tensor, result.attribution, result.target,
        n=check_positive_int(n_perturbations, "n_perturbations"),
        std=check_number(noise, "noise", above=0) * (hi - lo), seed=check_seed(seed),
        normalise=check_bool(normalise, "normalise"), output=_check_output(output),
        progress=reporter(progress, "infidelity"))


def sensitivity_max(model: Any, image: Any, method: str = "gradient", target: Any = None, *,
                    n_perturbations: int = 10, radius: float = 0.02, seed: int | None = 0, options: dict | None = None,
                    progress: Progress | bool = None) -> float:
    """Max-sensitivity of a method (Yeh et al. 2019): the largest relative change of its (C, H, W) attribution,
    ``||a(x + δ) - a(x)|| / ||a(x)||``, over ``n_perturbations`` seeded perturbations δ uniform in
    ``[-radius, radius]`` per value (Captum's ``sensitivity_max`` with its default perturbation). Lower is
    more robust.

    Examples
    --------
    >>> nbx.sensitivity_max(model, image, "gradient", radius=0.02)
    """
    m = as_model(model)
    img = _image_for(m, image)
    n = check_positive_int(n_perturbations, "n_perturbations")
    radius = check_number(radius, "radius", above=0)
    seed = check_seed(seed)
    opts = method_options(method, options)
    probabilities = m.predict_proba(img.tensor[None])[0]
    t = resolve_target(target, probabilities, m.class_names)
    explain = _explain_copy(m, img, method, t, opts)
    report = reporter(progress, "sensitivity")
    base = explain(img.tensor)
    noisy = _robust.Noisy(img.tensor, n, radius, seed)
    worst = 0.0
    for i in range(n):
        worst = max(worst, _robust.relative_change(base, explain(noisy.copy(i))))
        if report is not None:
            report((i + 1) / n)
    return worst


def _explain_copy(m: Model, img: ImageInput, method: str, target: int, options: dict
                  ) -> Callable[[np.ndarray], np.ndarray]:
    """The method's (C, H, W) attribution of a copy ``x`` of ``img`` (same value range and display)."""
    return lambda x: _attribution(method, m, ImageInput(np.ascontiguousarray(x, dtype=np.float32), img.display,
                                                        img.value_range), target, options)


# ---------------------------------------------------------------------------------------------------------------
# robustness and stability
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Robustness(Result):
    """How much one method's map changes under noise that keeps the prediction (Ghorbani et al. 2019).

    Attributes
    ----------
    method, label, target, target_name : what was explained.
    radius : the noise: uniform in [-radius, radius] per value (in the image's units).
    top_k : the k of the top-k intersection.
    intersections : (n,) share of the original top-k pixels among each noisy copy's top-k.
    correlations : (n,) Spearman rank correlation of each copy's map with the original.
    sensitivities : (n,) relative change of the attribution, ``||a' - a|| / ||a||``.
    max_sensitivity : the largest of them (Yeh et al.'s max-sensitivity estimate).
    n_tried : noisy copies drawn; ``n`` of them kept the prediction.
    image, map, noisy_maps : the original map and the first few noisy maps (for the picture).
    """

    method: str
    label: str
    target: int
    target_name: str
    radius: float
    top_k: int
    intersections: np.ndarray
    correlations: np.ndarray
    sensitivities: np.ndarray
    n_tried: int
    image: np.ndarray
    map: np.ndarray
    noisy_maps: np.ndarray

    @property
    def n(self) -> int:
        return len(self.intersections)

    @property
    def max_sensitivity(self) -> float:
        return float(self.sensitivities.max()) if self.n else float("nan")

    @property
    def intersection(self) -> float:
        """Mean top-k intersection over the noisy copies (1: the same top pixels every time)."""
        return float(self.intersections.mean()) if self.n else float("nan")

    @property
    def correlation(self) -> float:
        """Mean rank correlation with the original map over the noisy copies."""
        return float(self.correlations.mean()) if self.n else float("nan")

    def quality(self) -> list[str]:
        if not self.n:
            return [f"robustness: none of {self.n_tried} noisy copies kept the prediction"]
        return [f"top-{self.top_k} intersection under noise {self.intersection:.2f} "
                f"(rank correlation {self.correlation:.2f}, {self.n} copies)",
                f"max-sensitivity {self.max_sensitivity:.3g} (lower is more robust)"]

    def summary(self) -> str:
        return f"{self.label} for {self.target_name!r}: " + "; ".join(self.quality())

    def to_frame(self):
        """One row per noisy copy: ``intersection``, ``correlation``, ``sensitivity``."""
        return frame({"intersection": self.intersections, "correlation": self.correlations,
                      "sensitivity": self.sensitivities})

    def _png_size(self) -> tuple[float, float]:
        return (2.0 * (1 + len(self.noisy_maps)) + 0.5, 2.6)

    def plot(self, ax=None):
        """The map and the first noisy copies' maps, with their top-k intersection; returns the Axes."""
        return _draw.draw_robustness(self, ax=ax)


def robustness(
    model: Any,
    image: Any,
    method: str = "gradient",
    target: Any = None,
    *,
    n_samples: int = 10,
    noise: float = 0.02,
    top_k: int | None = None,
    seed: int | None = 0,
    options: dict | None = None,
    progress: Progress | bool = None,
) -> Robustness:
    """How much a method's map changes under small noise that keeps the prediction (Ghorbani et al. 2019).

    ``n_samples`` copies of the image with noise uniform in ``[-noise, noise]`` x the value range per value
    (clipped to the range) are drawn; copies the model classifies differently are dropped and more drawn
    (up to 4 x ``n_samples``). For each kept copy the map is recomputed and compared with the original: the
    share of the top-k pixels they share (k: 10 % of the pixels by default), their Spearman rank
    correlation, and the relative change of the attribution, whose maximum is the max-sensitivity.

    Examples
    --------
    >>> r = nbx.robustness(model, image, "gradient", n_samples=10)
    >>> r.intersection, r.max_sensitivity
    """
    m = as_model(model)
    img = _image_for(m, image)
    n = check_positive_int(n_samples, "n_samples")
    noise = check_number(noise, "noise", above=0)
    seed = check_seed(seed)
    opts = method_options(method, options)
    report = reporter(progress, "robustness")
    original = attribute(m, img, method, target, progress=False, **opts)
    h, w = img.shape
    k = _sim.default_top_k(h * w) if top_k is None else check_int(top_k, "top_k", 1, h * w)
    lo, hi = img.value_range
    radius = noise * (hi - lo)
    label = int(np.argmax(original.probabilities))
    kept, tried = _robust.noisy_copies(m, img.tensor, label, n, radius, seed, clip=(lo, hi),
                                       progress=None if report is None else (lambda f: report(0.1 * f)))
    explain = _explain_copy(m, img, method, original.target, opts)
    ranks = _sim.ranks(original.map)
    top = _sim.top_k(original.map, k)
    inter, corr, sens, shown = [], [], [], []
    for i, copy in enumerate(kept):
        attribution = explain(copy)
        map_ = _explained_map(method, attribution)
        inter.append(len(np.intersect1d(top, _sim.top_k(map_, k), assume_unique=True)) / k)
        corr.append(_sim.correlation(ranks, _sim.ranks(map_)))
        sens.append(_robust.relative_change(original.attribution, attribution))
        if len(shown) < 3:
            shown.append(map_)
        if report is not None:
            report(0.1 + 0.9 * (i + 1) / len(kept))
    if report is not None:
        report(1.0)
    return Robustness(method=method, label=original.label, target=original.target, target_name=original.target_name,
                      radius=radius, top_k=k, intersections=np.array(inter), correlations=np.array(corr),
                      sensitivities=np.array(sens), n_tried=tried, image=original.image, map=original.map,
                      noisy_maps=np.array(shown, dtype=np.float32).reshape(len(shown), h, w))


def scores_of(result: Any) -> np.ndarray:
    """The numbers an explanation ranks things by: superpixel scores (an anchor's mask), feature values, a
    pixel map, or an array as it is."""
    for name in ("scores", "values", "map"):  # superpixel scores before the pixels they paint
        if hasattr(result, name) and not isinstance(result, np.ndarray):
            value = getattr(result, name)
            if value is not None and not callable(value):
                return np.asarray(value, dtype=np.float64)
    try:
        return np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"stability: explain returned a {type(result).__name__}, which has no map, scores or "
                         "values to compare") from exc


@dataclass
class Stability(Result):
    """Whether a sampled method tells the same story with different seeds.

    Attributes
    ----------
    seeds : the seeds run. ``top_k`` : the k compared.
    intersections : (n_pairs,) top-k intersection of every pair of runs (by |value|).
    correlations : (n_pairs,) Spearman rank correlation of every pair of runs.
    scores : (n_seeds, n) each run's numbers. ``label`` : what was run, in words.
    """

    seeds: list[int]
    top_k: int
    intersections: np.ndarray
    correlations: np.ndarray
    scores: np.ndarray
    label: str = ""
    _png_figsize = (4.4, 3.0)

    @property
    def agreement(self) -> float:
        """Mean top-k intersection over every pair of seeds: 1 when every run names the same top k."""
        return float(self.intersections.mean())

    @property
    def rank_agreement(self) -> float:
        """Mean Spearman rank correlation over every pair of seeds."""
        return float(self.correlations.mean())

    def quality(self) -> list[str]:
        return [f"stability across {len(self.seeds)} seeds: top-{self.top_k} agreement {self.agreement:.2f} "
                f"(rank correlation {self.rank_agreement:.2f})"]

    def summary(self) -> str:
        what = f"{self.label}: " if self.label else ""
        return what + self.quality()[0]

    def to_frame(self):
        """One row per pair of seeds: ``seed_a``, ``seed_b``, ``intersection``, ``correlation``."""
        from itertools import combinations

        pairs = list(combinations(self.seeds, 2))
        return frame({"seed_a": [a for a, _ in pairs], "seed_b": [b for _, b in pairs],
                      "intersection": self.intersections, "correlation": self.correlations})

    def plot(self, ax=None):
        """How often each entry is in the top k across the seeds; returns the Axes."""
        return _draw.draw_stability(self, ax=ax)


def stability(explain: Callable[[int], Any], *, n_seeds: int = 10, seeds: Sequence[int] | None = None,
              top_k: int | None = None, label: str = "", progress: Progress | bool = None) -> Stability:
    """Run a sampled explanation with ``n_seeds`` seeds and measure how much the runs agree.

    ``explain(seed)`` returns an explanation (an AttributionMap, a superpixel or tabular result, or an
    array); its numbers are compared by |value|: the share of the top-k entries two runs share, averaged
    over every pair of seeds (k: 5 for up to 50 entries, else 10 %), and their Spearman rank correlation.
    A deterministic method scores exactly 1; LIME's score rises with its ``n_samples``.

    Examples
    --------
    >>> nbx.stability(lambda seed: nbx.lime_image(game, n_samples=500, seed=seed)).agreement
    >>> nbx.stability(lambda seed: nbx.attribute(model, image, "smoothgrad", seed=seed))
    """
    explain = check_callable(explain, "explain", "a function of the seed returning an explanation")
    if seeds is None:
        seeds = list(range(check_int(n_seeds, "n_seeds", 2)))
    else:
        seeds = [check_seed(s, "seeds") for s in seeds]
        if len(seeds) < 2 or any(s is None for s in seeds):
            raise InputError("seeds must hold at least two ints")
    report = reporter(progress, "stability")
    runs = []
    for i, s in enumerate(seeds):
        runs.append(np.abs(scores_of(explain(s))).ravel())
        if report is not None:
            report((i + 1) / len(seeds))
    sizes = {r.size for r in runs}
    if len(sizes) != 1:
        raise InputError(f"stability: the runs returned different numbers of entries {sorted(sizes)}")
    n = sizes.pop()
    k = _sim.default_top_k(n) if top_k is None else check_int(top_k, "top_k", 1, n)
    inter, corr = _sim.pairwise(runs, k)
    return Stability(seeds=list(seeds), top_k=k, intersections=inter, correlations=corr, scores=np.stack(runs),
                     label=str(label))


# ---------------------------------------------------------------------------------------------------------------
# plausibility of counterfactuals
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Plausibility(Result):
    """How much points (counterfactuals) look like the data.

    Attributes
    ----------
    points : (P, F) the points checked; ``feature_names`` their features.
    nearest : (P, k) distances to the k nearest data rows (MAD-scaled L1; a changed category counts 1).
    typical : (N',) each data row's mean distance to its k nearest other rows: what "near the data" means.
    outlier_factors : (P,) local outlier factor of each point (about 1 inside the data).
    data_factors : (N,) the data rows' own outlier factors.
    valid, n_changed, distance : per point, when the points are counterfactuals (else None).
    """

    points: np.ndarray
    feature_names: list[str]
    nearest: np.ndarray
    typical: np.ndarray
    outlier_factors: np.ndarray
    data_factors: np.ndarray
    valid: list[bool] | None = None
    n_changed: list[int] | None = None
    distance: list[float] | None = None
    _png_figsize = (4.6, 3.0)

    @property
    def nearest_mean(self) -> np.ndarray:
        """(P,) mean distance to the k nearest rows."""
        return self.nearest.mean(axis=1)

    @property
    def distance_percentile(self) -> np.ndarray:
        """(P,) the share of data rows that are closer to their own neighbours than each point is to the data."""
        return np.array([(self.typical < d).mean() for d in self.nearest_mean])

    @property
    def implausible(self) -> np.ndarray:
        """(P,) bool: an outlier (factor above ``LOF_OUTLIER``) or farther from the data than
        ``DISTANCE_QUANTILE`` of the data's rows are from theirs."""
        return (self.outlier_factors > LOF_OUTLIER) | (self.distance_percentile > DISTANCE_QUANTILE)

    def lines(self, i: int = 0) -> list[str]:
        """Point ``i``'s quality: validity, sparsity and proximity (counterfactuals), then plausibility."""
        out = []
        if self.valid is not None:
            out.append("valid: reaches the target" if self.valid[i] else "NOT valid: misses the target")
            f = len(self.feature_names)
            out.append(f"sparsity: {self.n_changed[i]} of {f} features changed")
            out.append(f"proximity: distance {self.distance[i]:.3g} MAD")
        pct = self.distance_percentile[i]
        lof = float(self.outlier_factors[i])
        verdict = "IMPLAUSIBLE" if self.implausible[i] else "plausible"
        out.append(f"plausibility: {verdict} — nearest rows {self.nearest_mean[i]:.3g} MAD away "
                   f"(farther than {pct:.0%} of the data), outlier factor {lof:.2f}")
        return out

    def quality(self) -> list[str]:
        return self.lines(0)

    def summary(self) -> str:
        n_bad = int(self.implausible.sum())
        head = f"{len(self.points)} point(s), {n_bad} implausible"
        return "\n".join([head] + [f"  #{i + 1}: " + "; ".join(self.lines(i)) for i in range(len(self.points))])

    def to_frame(self):
        """One row per point: ``nearest`` (mean distance), ``percentile``, ``outlier_factor``, ``implausible``."""
        return frame({"nearest": self.nearest_mean, "percentile": self.distance_percentile,
                      "outlier_factor": self.outlier_factors, "implausible": self.implausible},
                     index=list(range(1, len(self.points) + 1)))

    def plot(self, ax=None):
        """The data rows' outlier factors with each point's marked; returns the Axes."""
        return _draw.draw_plausibility(self, ax=ax, threshold=LOF_OUTLIER)


def plausibility(points: Any, data: Any = None, *, categorical: Sequence | None = None, n_neighbors: int = 20,
                 k: int = 5, feature_names: Sequence[str] | None = None, scale: Any = None,
                 valid: Sequence[bool] | None = None, n_changed: Sequence[int] | None = None,
                 distance: Sequence[float] | None = None) -> Plausibility:
    """How far points (counterfactuals) lie from the data: nearest-row distances and a local outlier factor.

    Distances are the counterfactual search's (L1 with each numeric feature divided by its median absolute
    deviation over ``data``; a changed category counts 1). A point is called implausible when its local
    outlier factor (Breunig et al. 2000; scikit-learn's ``LocalOutlierFactor(novelty=True)`` with
    ``n_neighbors``) is above 1.5, or when it is farther from its ``k`` nearest rows than 95 % of the data's
    rows are from theirs.

    Parameters
    ----------
    points : CounterfactualResult or (P, F) array
        A result of :func:`nbexplain.counterfactual` (its data, scale and categories are used, and its
        validity, sparsity and proximity reported), or rows.
    data : (N, F) array or DataFrame
        The reference rows (default: the counterfactual result's).
    categorical : list of features, optional
        Categorical columns (default: the counterfactual result's).
    n_neighbors, k : the outlier factor's neighbours, and the nearest rows whose distance is reported.
    scale : (F,) array, optional
        The distance's unit per numeric feature (default: the result's, else the MAD over ``data``).
    valid, n_changed, distance : optional, one per point
        For plain points that are counterfactuals: reported as validity, sparsity and proximity.

    Examples
    --------
    >>> cf = nbx.counterfactual(clf, x, data.X)
    >>> nbx.plausibility(cf).implausible
    array([False])
    """
    from ..inputs.tables import as_table, feature_set

    if hasattr(points, "counterfactuals") and hasattr(points, "space"):
        result = points
        data = result._data if data is None else data
        if data is None:
            raise InputError("plausibility: this counterfactual result holds no data; pass data=")
        table = as_table(data, result.feature_names, "data")
        cat = result.space.categorical if categorical is None else None
        scale = result.scale if scale is None else scale
        X = np.array([c.x for c in result.counterfactuals])
        valid = [c.valid for c in result.counterfactuals]
        n_changed = [c.n_changed for c in result.counterfactuals]
        distance = [c.distance for c in result.counterfactuals]
        names = list(result.feature_names)
    else:
        if data is None:
            raise InputError("plausibility needs data= (the reference rows) for plain points")
        table = as_table(data, feature_names, "data")
        X = np.atleast_2d(np.asarray(points, dtype=np.float64))
        if X.ndim != 2 or X.shape[1] != table.n_features:
            raise InputError(f"points must have {table.n_features} features (one row each); got shape {np.shape(points)}")
        cat = None
        names = list(table.feature_names)
    if cat is None:
        cat = np.zeros(table.n_features, bool)
        if categorical is not None:
            cat[feature_set(table, categorical, "categorical")] = True
    if not np.all(np.isfinite(X)):
        raise InputError("points contain NaN or infinite values")
    for name, given in (("valid", valid), ("n_changed", n_changed), ("distance", distance)):
        if given is not None and len(given) != len(X):
            raise InputError(f"{name} must give one value per point ({len(X)}); got {len(given)}")
    if (valid is None) != (n_changed is None) or (valid is None) != (distance is None):
        raise InputError("give all of valid, n_changed and distance (for counterfactuals), or none")
    if scale is not None:
        scale = check_finite_array(scale, "scale", ndim=1)
        if scale.shape != (table.n_features,):
            raise InputError(f"scale must give one number per feature ({table.n_features}); got {scale.shape}")
    n_neighbors = check_int(n_neighbors, "n_neighbors", 1)
    k = check_int(k, "k", 1)
    geometry = _plaus.Geometry.fit(table.values, cat, scale)
    nearest = _plaus.nearest_distances(geometry, X, k)
    typical = _plaus.typical_distances(geometry, k)
    factors, data_factors = _plaus.outlier_factors(geometry, X, n_neighbors)
    return Plausibility(points=X, feature_names=names, nearest=nearest, typical=typical, outlier_factors=factors,
                        data_factors=data_factors, valid=None if valid is None else [bool(v) for v in valid],
                        n_changed=None if n_changed is None else [int(v) for v in n_changed],
                        distance=None if distance is None else [float(v) for v in distance])


# ---------------------------------------------------------------------------------------------------------------
# ranking the methods of a comparison
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class MethodRanking(Result):
    """Pixel attribution methods ranked by a faithfulness or robustness measure, best first.

    Attributes
    ----------
    methods : list of str — best first by ``by``; ``labels`` in words.
    by : the measure ranked by (a key of :data:`RANKINGS`).
    values : dict — measure -> (n_methods,) values in the order of ``methods`` (every measure computed).
    target_name : the explained class.
    """

    methods: list[str]
    labels: list[str]
    by: str
    values: dict[str, np.ndarray]
    target_name: str
    _png_figsize = (4.6, 3.0)

    @property
    def higher_is_better(self) -> bool:
        return RANKINGS[self.by]

    def value(self, method: str) -> float:
        return float(self.values[self.by][self.methods.index(method)])

    def quality(self) -> list[str]:
        better = "higher" if self.higher_is_better else "lower"
        return [f"{i + 1}. {label}: {self.by} {v:.3g}" for i, (label, v)
                in enumerate(zip(self.labels, self.values[self.by], strict=True))] + [f"({better} is better)"]

    def summary(self) -> str:
        return (f"Ranked by {self.by} ({'higher' if self.higher_is_better else 'lower'} is better) for "
                f"{self.target_name!r}: " + ", ".join(self.labels))

    def to_frame(self):
        """One row per method, best first: ``method`` and every measure computed."""
        return frame({"method": self.methods, **{k: v for k, v in self.values.items()}},
                     index=list(range(1, len(self.methods) + 1)))

    def plot(self, ax=None):
        """Bars of the ranked measure, best on top; returns the Axes."""
        return _draw.draw_ranking(self, ax=ax)


def rank_methods(model: Any, image: Any, methods: Sequence[str] | None = None, by: str = "insertion",
                 target: Any = None, *, results: Sequence[AttributionMap] | None = None,
                 options: dict[str, dict] | None = None, steps: int = 50, baseline: Any = "blur",
                 n_perturbations: int = 20, n_samples: int = 5, seed: int | None = 0,
                 progress: Progress | bool = None) -> MethodRanking:
    """Rank pixel attribution methods by how faithful (or robust) their maps are, best first.

    ``by`` is "deletion" (area, lower is better), "insertion" (higher), "infidelity" (lower),
    "correlation" (faithfulness correlation, higher) or "sensitivity" (max-sensitivity, lower: each method
    is recomputed on ``n_samples`` noisy copies). Pass ``results`` (e.g. ``comparison.results``) to rank
    maps already computed. The deletion and insertion curves take ``steps`` steps.

    Examples
    --------
    >>> nbx.rank_methods(model, image, ["gradient", "integrated_gradients", "gradcam"], by="deletion")
    """
    by = check_choice(by, "by", list(RANKINGS))
    m = as_model(model)
    img = _image_for(m, image)
    if results is None:
        methods, opts = _methods_and_options(m, methods if methods is not None else DEFAULT_SANITY_METHODS, options)
        results = []
        for name in methods:
            results.append(attribute(m, img, name, target if not results else results[0].target, progress=False,
                                     **opts[name]))
    else:
        results = list(results)
        if not results or not all(isinstance(r, AttributionMap) for r in results):
            raise InputError("results must be a non-empty list of AttributionMap (e.g. comparison.results)")
        opts = {r.method: r.options for r in results}
    report = reporter(progress, "ranking methods")
    values: dict[str, list] = {k: [] for k in ("deletion", "insertion", "infidelity", "correlation")}
    if by == "sensitivity":
        values["sensitivity"] = []
    for i, r in enumerate(results):
        f = faithfulness(m, img, r, baseline=baseline, steps=steps, n_perturbations=n_perturbations, seed=seed,
                         progress=False)
        values["deletion"].append(f.auc_deletion)
        values["insertion"].append(f.auc_insertion)
        values["infidelity"].append(f.infidelity)
        values["correlation"].append(f.correlation)
        if by == "sensitivity":
            values["sensitivity"].append(sensitivity_max(m, img, r.method, r.target, n_perturbations=n_samples,
                                                         seed=seed, options=opts.get(r.method), progress=False))
        if report is not None:
            report((i + 1) / len(results))
    arrays = {k: np.array(v, dtype=np.float64) for k, v in values.items()}
    key = arrays[by] if RANKINGS[by] else -arrays[by]
    order = np.argsort(-np.nan_to_num(key, nan=-np.inf), kind="stable")
    return MethodRanking(methods=[results[i].method for i in order], labels=[results[i].label for i in order], by=by,
                         values={k: v[order] for k, v in arrays.items()}, target_name=results[0].target_name)


# ---------------------------------------------------------------------------------------------------------------
# what a widget's quality panel shows
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class PanelPlot:
    """One small line plot of a quality panel: curves ``ys`` (k, N) over ``x`` (N,), labelled."""

    title: str
    x: np.ndarray
    ys: np.ndarray
    labels: list[str]
    x_label: str = ""
    y_label: str = ""


@dataclass
class QualityReport(Result):
    """What a quality panel shows for one explanation: lines of text and small plots, and the results
    they come from (``parts``: e.g. "faithfulness", "robustness", "sanity", "stability", "plausibility")."""

    title: str
    lines: list[str]
    plots: list[PanelPlot] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)
    _png_figsize = (4.4, 3.0)

    def quality(self) -> list[str]:
        return list(self.lines)

    def summary(self) -> str:
        return f"{self.title}: " + "; ".join(self.lines)

    def _png_size(self) -> tuple[float, float]:
        return (4.2 * max(1, len(self.plots)) + 0.4, 3.2 + 0.18 * len(self.lines))

    def plot(self, ax=None):
        """The panel's plots side by side, its lines underneath; returns the Axes."""
        return _draw.draw_report(self, ax=ax)


def _curve_plot(f: Faithfulness) -> PanelPlot:
    return PanelPlot("deletion and insertion", f.fractions, np.stack([f.deletion, f.insertion]),
                     [f"deletion (AUC {f.auc_deletion:.3f})", f"insertion (AUC {f.auc_insertion:.3f})"],
                     "fraction of pixels removed / inserted", f.output)


def _sanity_plot(check: SanityCheck, methods: Sequence[str] | None = None) -> PanelPlot:
    idx = [check.methods.index(x) for x in (methods or check.methods)]
    ys = check.similarity["spearman_abs"][idx]
    x = np.arange(1, len(check.steps) + 1, dtype=np.float64)
    return PanelPlot("sanity check: rank correlation as layers are randomised", x, ys,
                     [check.labels[i] for i in idx], "layers randomised (top-down)", "rank correlation of |map|")


def pixel_quality(
    model: Any,
    image: Any,
    explanation: Any = "gradient",
    target: Any = None,
    *,
    checks: Sequence[str] = ("faithfulness", "robustness"),
    sanity: SanityCheck | None = None,
    steps: int = 50,
    baseline: Any = "blur",
    n_samples: int = 5,
    n_seeds: int = 10,
    seed: int | None = 0,
    options: dict | None = None,
    progress: Progress | bool = None,
) -> QualityReport:
    """The quality panel of a pixel map: faithfulness, robustness, stability (sampled methods) and sanity.

    ``checks`` chooses among "faithfulness" (deletion/insertion areas over ``steps`` steps and infidelity),
    "robustness" (``n_samples`` noisy copies), "stability" (``n_seeds`` seeds; SmoothGrad only) and
    "sanity" (a cascading sanity check of this method). A ``sanity`` check computed before adds its verdict.

    Examples
    --------
    >>> print("\\n".join(nbx.pixel_quality(model, image, "gradient").quality()))
    """
    allowed = ("faithfulness", "robustness", "stability", "sanity")
    checks = [check_choice(c, "checks", allowed) for c in ([checks] if isinstance(checks, str) else checks)]
    m = as_model(model)
    img = _image_for(m, image)
    result = _explanation(m, img, explanation, target, options)
    opts = dict(result.options)
    report = reporter(progress, "quality")
    weights = {"faithfulness": 1.0, "robustness": float(n_samples), "stability": float(n_seeds), "sanity": 8.0}
    todo = [c for c in checks if c != "stability" or result.method in SEEDED]
    total = sum(weights[c] for c in todo) or 1.0
    start = [0.0]

    def part(name: str):
        if report is None:
            return False
        lo, span = start[0] / total, weights[name] / total
        start[0] += weights[name]
        return lambda f: report(lo + span * f)

    lines: list[str] = []
    plots: list[PanelPlot] = []
    parts: dict[str, Any] = {}
    if "faithfulness" in todo:
        f = faithfulness(m, img, result, baseline=baseline, steps=steps, n_perturbations=20, n_subsets=0, seed=seed,
                         progress=part("faithfulness"))
        parts["faithfulness"] = f
        lines += f.quality()
        plots.append(_curve_plot(f))
    if "robustness" in todo:
        r = robustness(m, img, result.method, result.target, n_samples=n_samples, seed=seed, options=opts,
                       progress=part("robustness"))
        parts["robustness"] = r
        lines += r.quality()
    if "stability" in todo:
        s = stability(lambda sd: attribute(m, img, result.method, result.target, progress=False,
                                           **{**opts, "seed": sd}), n_seeds=n_seeds, label=result.label,
                      progress=part("stability"))
        parts["stability"] = s
        lines += s.quality()
    elif "stability" in checks:
        lines.append(f"stability across seeds: exactly 1 ({result.label} is deterministic: nothing is sampled)")
    if "sanity" in todo:
        sanity = sanity_check(m, img, [result.method], "cascading", result.target, options={result.method: opts},
                              metrics=("spearman_abs", "spearman"), seed=seed, progress=part("sanity"))
    if sanity is not None and result.method in sanity.methods:
        parts["sanity"] = sanity
        lines.append("sanity: " + sanity.verdict(result.method))
        plots.append(_sanity_plot(sanity, [result.method]))
    if report is not None:
        report(1.0)
    return QualityReport(title=f"quality of {result.label} for {result.target_name}", lines=lines, plots=plots,
                         parts=parts)


def explanation_quality(result: Any, rerun: Callable[[int], Any] | None = None, *, n_seeds: int = 10,
                        top_k: int | None = None, deterministic: bool = False,
                        progress: Progress | bool = None) -> QualityReport:
    """The quality panel of a superpixel or tabular explanation: its own quality lines (fidelity, efficiency
    gap, precision...) and its stability across ``n_seeds`` seeds, rerun with ``rerun(seed)`` (a
    ``deterministic`` method is not rerun: it scores exactly 1).

    Examples
    --------
    >>> nbx.explanation_quality(lime, rerun=lambda seed: nbx.lime_image(game, seed=seed)).quality()
    """
    lines = list(result.quality()) if hasattr(result, "quality") else []
    parts: dict[str, Any] = {}
    label = getattr(result, "label", "") or type(result).__name__
    if deterministic:
        lines.append(f"stability across seeds: exactly 1 ({label} is deterministic: nothing is sampled)")
    elif rerun is not None:
        s = stability(rerun, n_seeds=n_seeds, top_k=top_k, label=label, progress=progress)
        parts["stability"] = s
        lines += s.quality()
    title = getattr(result, "headline", None) or label
    return QualityReport(title=f"quality of {title}", lines=lines, parts=parts)


def counterfactual_quality(points: Any, data: Any = None, *, index: int = 0, explanation: Any = None,
                           rerun: Callable[[int], Any] | None = None, deterministic: bool = False,
                           n_seeds: int = 10, top_k: int | None = None, progress: Progress | bool = None,
                           **plausible: Any) -> QualityReport:
    """The quality panel of counterfactual sliders: point ``index``'s validity, sparsity, proximity and
    plausibility (:func:`plausibility` of ``points`` — a counterfactual result or rows — with ``data`` and
    its other keywords), then the local ``explanation``'s own lines and stability (:func:`explanation_quality`).

    Examples
    --------
    >>> print("\\n".join(nbx.counterfactual_quality(cf).quality()))
    """
    p = plausibility(points, data, **plausible)
    index = check_int(index, "index", 0, len(p.points) - 1)
    lines = p.lines(index)
    parts: dict[str, Any] = {"plausibility": p}
    if explanation is not None:
        e = explanation_quality(explanation, rerun, n_seeds=n_seeds, top_k=top_k, deterministic=deterministic,
                                progress=progress)
        parts.update(e.parts)
        label = getattr(explanation, "label", "explanation")
        own = len(explanation.quality()) if hasattr(explanation, "quality") else 0
        lines += [f"{label}: {line}" for line in e.lines[:own]] + e.lines[own:]
    return QualityReport(title="quality of the counterfactual and its explanation", lines=lines, parts=parts)


__all__ = ["DEFAULT_SANITY_METHODS", "FAILS_FROM", "LOF_OUTLIER", "METRICS", "PASSES_BELOW", "RANKINGS",
           "Faithfulness", "MethodRanking", "PanelPlot", "Plausibility", "QualityReport", "Robustness",
           "SanityCheck", "Stability", "counterfactual_quality", "explanation_quality", "faithfulness", "infidelity",
           "pixel_quality", "plausibility", "rank_methods", "robustness", "sanity_check", "scores_of",
           "sensitivity_max", "stability"]
