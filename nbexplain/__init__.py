"""nbexplain: see why a model decides what it decides, inline in Jupyter, and poke it.

Floors, each importable without the ones above it: ``adapters`` (any model -> batched predict) ->
computations returning plain results (``attribute``...) -> ``widgets`` -> ``js/`` views.
"""

from __future__ import annotations

from . import _registry
from ._progress import progress_bars
from .adapters.model import Model, as_model
from .adapters.text_models import TextModel, as_text_model  # issue 15
from .errors import (
    InputError,
    ModelError,
    NbexplainError,
    NotDifferentiableError,
    UnknownArgumentError,
)
from .explain.counterfactual import Counterfactual, CounterfactualResult, counterfactual  # issue 4
from .explain.documents import Datasheet, ModelCard, datasheet, model_card  # issue 16
from .explain.effects import (  # issue 5: feature effects and global views
    ALE,
    ICE,
    GlobalSurrogate,
    PartialDependence,
    PermutationImportance,
    ale,
    global_surrogate,
    ice,
    partial_dependence,
    permutation_importance,
)
from .explain.fairness import Audit, audit  # issue 16
from .explain.internals import (  # issue 13: inside the network
    ChannelGallery,
    DatasetExamples,
    FeatureMaps,
    Filters,
    MaximizedImage,
    dataset_examples,
    feature_maps,
    filters,
    maximize,
    maximize_channels,
)
from .explain.many import (  # issue 19: many rows, on Dask
    GroupImportance,
    ManyExplanations,
    explain_many,
)
from .explain.pixel import METHODS, AttributionMap, Comparison, attribute, attribute_many
from .explain.representations import (  # issue 14: what the layers learned
    Activations,
    LinearProbes,
    Projection,
    Projections,
    activations,
    linear_probes,
    project,
)
from .explain.superpixels import (  # issue 3: superpixel explanations
    Anchor,
    LimeImage,
    PerturbationCurves,
    ShapleyImage,
    SuperpixelGame,
    anchor_image,
    deletion_insertion,
    lime_image,
    shapley_image,
)
from .explain.tabular import (  # issue 4; anchors: issue 15
    TabularAnchor,
    TabularExplanation,
    anchor_tabular,
    lime_tabular,
    shapley_tabular,
)
from .explain.text import (  # issue 15: text
    AnchorText,
    LimeText,
    ShapleyText,
    TextAttribution,
    TokenGame,
    anchor_text,
    attribute_text,
    lime_text,
    shapley_text,
)
from .explain.trust import (  # issue 17: can we trust this explanation?
    Faithfulness,
    MethodRanking,
    Plausibility,
    QualityReport,
    Robustness,
    SanityCheck,
    Stability,
    counterfactual_quality,
    explanation_quality,
    faithfulness,
    infidelity,
    pixel_quality,
    plausibility,
    rank_methods,
    robustness,
    sanity_check,
    sensitivity_max,
    stability,
)
from .explain.weights import WeightRecorder  # issue 13: weight histograms across training
from .inputs.images import as_image
from .inputs.segmentation import Segmentation, segment  # issue 3
from .inputs.tables import Table, as_table
from .inputs.text import TokenizedText, Vocabulary, tokenize  # issue 15

__version__ = "0.1.0"


def _load_widgets() -> None:
    import importlib

    importlib.import_module(".widgets", __name__)  # each widget module registers the results it shows


_registry.load_with(_load_widgets)  # results find their widget without importing the floor above them

_WIDGETS = {"Heatmap": "heatmap", "compare": "heatmap", "FeatureEffects": "effects",
            "CounterfactualSliders": "counterfactual", "SuperpixelExplorer": "superpixels",
            "WeightHistograms": "weights", "Maximization": "maximization", "ChannelGrid": "maximization",
            "FairnessAudit": "fairness", "Projector": "projector",
            "TextExplorer": "text"}


def __getattr__(name: str):
    # Widgets load lazily so the compute floors import without ipywidgets/anywidget machinery.
    if name in _WIDGETS:
        import importlib

        return getattr(importlib.import_module(f".widgets.{_WIDGETS[name]}", __name__), name)
    if name == "export_html":  # issue 18: nbconvert is imported only when exporting
        from .export import export_html

        return export_html
    if name == "datasets":
        import importlib

        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module 'nbexplain' has no attribute {name!r}")


__all__ = [
    "ChannelGallery", "ChannelGrid", "DatasetExamples", "FeatureMaps", "Filters", "Maximization", "MaximizedImage",
    "WeightHistograms", "WeightRecorder", "dataset_examples", "feature_maps", "filters", "maximize",
    "maximize_channels",
    "export_html",
    "METHODS", "AttributionMap", "Comparison", "Heatmap", "InputError", "Model", "ModelError",
    "NbexplainError", "NotDifferentiableError", "UnknownArgumentError", "progress_bars", "as_image", "as_model", "attribute", "attribute_many",
    "compare", "datasets",
    "ALE", "FeatureEffects", "GlobalSurrogate", "ICE", "PartialDependence", "PermutationImportance", "Table",
    "ale", "as_table", "global_surrogate", "ice", "partial_dependence", "permutation_importance",
    "Counterfactual", "CounterfactualResult", "CounterfactualSliders", "TabularExplanation", "counterfactual",
    "lime_tabular", "shapley_tabular",
    "AnchorText", "LimeText", "ShapleyText", "TabularAnchor", "TextAttribution", "TextExplorer", "TextModel",
    "TokenGame", "TokenizedText", "Vocabulary", "anchor_tabular", "anchor_text", "as_text_model", "attribute_text",
    "lime_text", "shapley_text", "tokenize",
    "Anchor", "LimeImage", "PerturbationCurves", "Segmentation", "ShapleyImage", "SuperpixelExplorer",
    "SuperpixelGame", "anchor_image", "deletion_insertion", "lime_image", "segment", "shapley_image",
    "Audit", "Datasheet", "FairnessAudit", "ModelCard", "audit", "datasheet", "model_card",
    "GroupImportance", "ManyExplanations", "explain_many",
    "Activations", "LinearProbes", "Projection", "Projections", "Projector", "activations", "linear_probes", "project",
    "Faithfulness", "MethodRanking", "Plausibility", "QualityReport", "Robustness", "SanityCheck", "Stability",
    "counterfactual_quality", "explanation_quality", "faithfulness", "infidelity", "pixel_quality", "plausibility",
    "rank_methods", "robustness", "sanity_check", "sensitivity_max", "stability",
]
