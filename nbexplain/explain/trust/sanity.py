"""Sanity checks (Adebayo et al. 2018): do the maps depend on what the model learned?

A map that barely changes when the model's layers are re-initialised (cascading, top-down, or one at a time)
or when the model is trained on shuffled labels shows the image more than the model, however convincing it
looks. :func:`sanity_check` recomputes each method's map after every step and measures how alike it stays
(rank correlation, SSIM, HOG similarity); :class:`SanityCheck` gives the verdicts and the paper's figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._progress import reporter
from ..._types import Progress
from ..._validation import check_choice, check_seed, is_int
from ...adapters.model import Model, as_model
from ...adapters.outputs import resolve_target
from ...errors import InputError, NotDifferentiableError
from ...methods.trust import randomisation as _random
from ...methods.trust import similarity as _sim
from ...plotting import trust as _draw
from ..pixel import METHODS
from ..result import Result, frame
from ._attributions import (
    DEFAULT_SANITY_METHODS,
    _attribution,
    _explained_map,
    _image_for,
    _methods_and_options,
)

#: the similarity measures of the sanity check, in words
METRICS = {
    "spearman_abs": "rank correlation of |map|",
    "spearman": "rank correlation of the signed map",
    "ssim": "SSIM",
    "hog": "HOG similarity",
}
SANITY_MODES = ("cascading", "independent", "data")
#: a method whose |map| rank correlation stays at or above this when the weights are random fails the check
FAILS_FROM = 0.5
#: ... and passes below this
PASSES_BELOW = 0.3


def _torch(model: Model, what: str) -> None:
    if not model.differentiable:
        raise NotDifferentiableError(
            f"{what} re-initialises the model's layers, so it needs a torch.nn.Module; the model is a "
            f"{model.kind} ({type(model.raw).__name__})")


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


class _Reference:
    """One method's original map, with what every comparison needs computed once (its ranks, SSIM's local
    means and variances, its HOG features). A flat original map (one value everywhere, e.g. Grad-CAM's ReLU
    leaving nothing) orders no pixel: its similarities are NaN."""

    def __init__(self, attribution: np.ndarray, map_: np.ndarray, metrics: Sequence[str]):
        self.map = map_
        self.flat = bool(np.ptp(map_) == 0)
        self.abs_ranks = _sim.Correlated(_sim.ranks(np.abs(map_)))
        self.signed_ranks = _sim.Correlated(_sim.ranks(attribution.sum(axis=0))) if "spearman" in metrics else None
        self.ssim = _sim.SSIMReference(map_) if "ssim" in metrics else None
        self.hog_of = _sim.HOG(map_.shape) if "hog" in metrics else None
        self.hog = _sim.Correlated(self.hog_of(map_)) if "hog" in metrics else None

    def compare(self, attribution: np.ndarray, map_: np.ndarray, metrics: Sequence[str]) -> dict[str, float]:
        if self.flat:
            return {k: float("nan") for k in metrics}
        out = {}
        if "spearman_abs" in metrics:
            out["spearman_abs"] = self.abs_ranks.correlation(_sim.ranks(np.abs(map_)))
        if "spearman" in metrics:
            out["spearman"] = self.signed_ranks.correlation(_sim.ranks(attribution.sum(axis=0)))
        if "ssim" in metrics or "hog" in metrics:
            picture = _sim.scaled(map_)  # what SSIM and HOG see, scaled once for both
            if "ssim" in metrics:
                out["ssim"] = self.ssim.compare(picture, already_scaled=True)
            if "hog" in metrics:
                out["hog"] = self.hog.correlation(self.hog_of(picture, already_scaled=True))
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


__all__ = ["FAILS_FROM", "METRICS", "PASSES_BELOW", "SANITY_MODES", "SanityCheck", "sanity_check"]
