"""What a widget's quality panel shows: the checks that apply to the explanation on screen, in one report.

An explanation is shown with how far to trust it. :func:`pixel_quality` (a pixel map: faithfulness,
robustness, stability, sanity), :func:`explanation_quality` (a superpixel or tabular explanation: its own
quality lines and stability) and :func:`counterfactual_quality` (counterfactual sliders: validity, sparsity,
proximity, plausibility) each return a :class:`QualityReport`: lines of text and small :class:`PanelPlot`
curves, and the results they come from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._progress import reporter
from ..._types import Progress
from ..._validation import check_choice, check_int
from ...adapters.model import as_model
from ...plotting import trust as _draw
from ..pixel import attribute
from ..result import Result
from ._attributions import _explanation, _image_for
from .faithfulness import Faithfulness, faithfulness
from .plausibility import plausibility
from .robustness import robustness
from .sanity import SanityCheck, sanity_check
from .stability import stability

#: sampled methods: the option that seeds them
SEEDED = {"smoothgrad"}


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


__all__ = ["PanelPlot", "QualityReport", "counterfactual_quality", "explanation_quality", "pixel_quality"]
