"""Can we trust this explanation? Sanity checks, faithfulness, robustness and plausibility, the front door.

The survey warns that post-hoc explanations can mislead and must be evaluated (Doshi-Velez & Kim 2017).
Each module here measures one way an explanation can fail; its function returns a result that says it in
numbers (attributes, ``to_frame()``), in words (``summary()``, ``quality()`` lines the widgets show) and in
a picture (``plot()``):

* :mod:`.sanity`: :func:`sanity_check` -> :class:`SanityCheck` — the model randomisation test (Adebayo et
  al. 2018): the model's layers are re-initialised top-down (cascading) or one at a time (independent) and
  each method's map recomputed; a map that barely changes shows the image more than the model.
  ``mode="data"`` is the data randomisation test: the maps of the same architecture trained on shuffled
  labels.
* :mod:`.faithfulness`: :func:`faithfulness` -> :class:`Faithfulness` — deletion and insertion curves of a
  pixel map (Petsiuk et al. 2018), its infidelity (Yeh et al. 2019) and faithfulness correlation (Bhatt et
  al. 2020). :func:`infidelity` and :func:`sensitivity_max` are Captum's measures, computed at the best
  batch size.
* :mod:`.robustness`: :func:`robustness` -> :class:`Robustness` — how much a map changes under noise that
  keeps the prediction (Ghorbani et al. 2019): top-k intersection, rank correlation, max-sensitivity.
* :mod:`.stability`: :func:`stability` -> :class:`Stability` — a sampled method (LIME, sampled Shapley,
  SmoothGrad) run with different seeds: do its top-k features agree?
* :mod:`.plausibility`: :func:`plausibility` -> :class:`Plausibility` — is a counterfactual like the data:
  its distance to the nearest rows and its local outlier factor.
* :mod:`.ranking`: :func:`rank_methods` -> :class:`MethodRanking` — the methods of a comparison ranked by one
  of these.
* :mod:`.report`: :func:`pixel_quality`, :func:`explanation_quality`, :func:`counterfactual_quality` ->
  :class:`QualityReport` — what a widget's quality panel shows for the explanation on screen.

What several of them share (the image fitted to the model, a method's attribution and map) is in
:mod:`._attributions`. Every public name is imported here: ``from nbexplain.explain.trust import ...``.

Examples
--------
>>> check = nbx.sanity_check(model, image, ["gradient", "rectified", "gradcam"])
>>> print(check.summary()); check.plot()
>>> nbx.faithfulness(model, image, "integrated_gradients").auc_deletion
>>> nbx.stability(lambda seed: nbx.lime_image(game, seed=seed)).agreement
"""

from __future__ import annotations

from ._attributions import DEFAULT_SANITY_METHODS
from .faithfulness import Faithfulness, faithfulness, infidelity, sensitivity_max
from .plausibility import LOF_OUTLIER, Plausibility, plausibility
from .ranking import RANKINGS, MethodRanking, rank_methods
from .report import (
           PanelPlot,
           QualityReport,
           counterfactual_quality,
           explanation_quality,
           pixel_quality,
)
from .robustness import Robustness, robustness
from .sanity import FAILS_FROM, METRICS, PASSES_BELOW, SanityCheck, sanity_check
from .stability import Stability, scores_of, stability

__all__ = ["DEFAULT_SANITY_METHODS", "FAILS_FROM", "LOF_OUTLIER", "METRICS", "PASSES_BELOW", "RANKINGS",
           "Faithfulness", "MethodRanking", "PanelPlot", "Plausibility", "QualityReport", "Robustness",
           "SanityCheck", "Stability", "counterfactual_quality", "explanation_quality", "faithfulness", "infidelity",
           "pixel_quality", "plausibility", "rank_methods", "robustness", "sanity_check", "scores_of",
           "sensitivity_max", "stability"]
