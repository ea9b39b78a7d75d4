"""Faithfulness of a pixel map: does removing the pixels it calls important change the model's output?

A map can look right and still not say what the model relies on. :func:`faithfulness` measures it with the
deletion and insertion curves (Petsiuk et al. 2018), infidelity (Yeh et al. 2019) and faithfulness
correlation (Bhatt et al. 2020), returned as a :class:`Faithfulness`; :func:`infidelity` and
:func:`sensitivity_max` are Captum's measures, computed at the model's best batch size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._progress import reporter
from ..._types import Progress
from ..._validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_positive_int,
    check_seed,
)
from ...adapters.model import as_model
from ...adapters.outputs import resolve_target
from ...errors import InputError
from ...methods.pixel.baselines import make_baseline
from ...methods.trust import pixels as _pixels
from ...methods.trust import robustness as _robust
from ...plotting import trust as _draw
from ..pixel import method_options
from ..result import Result, frame
from ._attributions import _explain_copy, _explanation, _image_for


def _check_output(output: str) -> str:
    return check_choice(output, "output", _pixels.OUTPUTS)


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


__all__ = ["Faithfulness", "faithfulness", "infidelity", "sensitivity_max"]
