"""Widgets: thin anywidget classes over the compute floor, sharing one transport (see ``base``)."""

from . import (
    counterfactual,  # noqa: F401 - registers the sliders of tabular explanations and counterfactuals
    effects,  # noqa: F401 - registers FeatureEffects for PDP, ICE, ALE, importance and surrogate results
    fairness,  # noqa: F401 - registers FairnessAudit for audits (issue 16)
    heatmap,  # noqa: F401 - registers the widgets of pixel attribution results (@shows)
    maximization,  # noqa: F401 - registers channel grids and the Maximization widget (issue 13)
    projector,  # noqa: F401 - registers the Projector for activations and their maps (issue 14)
    superpixels,  # noqa: F401 - registers the explorer of superpixel results and segmentations
    weights,  # noqa: F401 - registers WeightHistograms for WeightRecorder (issue 13)
)
