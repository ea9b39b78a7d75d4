"""nbexplain: see why a model decides what it decides, inline in Jupyter, and poke it.

Floors, each importable without the ones above it: ``adapters`` (any model -> batched predict) ->
computations returning plain results (``attribute``...) -> ``widgets`` -> ``js/`` views.
"""

from __future__ import annotations

from .adapters.model import Model, as_model
from .errors import InputError, ModelError, NbexplainError, NotDifferentiableError
from .explain.counterfactual import Counterfactual, CounterfactualResult, counterfactual  # issue 4
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
from .explain.pixel import METHODS, AttributionMap, Comparison, attribute, attribute_many
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
from .explain.tabular import TabularExplanation  # issue 4
from .explain.tabular_lime import lime_tabular  # issue 4
from .explain.tabular_shapley import shapley_tabular  # issue 4
from .inputs.images import as_image
from .inputs.segmentation import Segmentation, segment  # issue 3
from .inputs.tables import Table, as_table

__version__ = "0.1.0"

_WIDGETS = {"Heatmap": "heatmap", "compare": "heatmap", "FeatureEffects": "effects",
            "CounterfactualSliders": "counterfactual", "SuperpixelExplorer": "superpixels"}


def __getattr__(name: str):
    # Widgets load lazily so the compute floors import without ipywidgets/anywidget machinery.
    if name in _WIDGETS:
        import importlib

        return getattr(importlib.import_module(f".widgets.{_WIDGETS[name]}", __name__), name)
    if name == "datasets":
        import importlib

        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module 'nbexplain' has no attribute {name!r}")


__all__ = [
    "METHODS", "AttributionMap", "Comparison", "Heatmap", "InputError", "Model", "ModelError",
    "NbexplainError", "NotDifferentiableError", "as_image", "as_model", "attribute", "attribute_many",
    "compare", "datasets",
    "ALE", "FeatureEffects", "GlobalSurrogate", "ICE", "PartialDependence", "PermutationImportance", "Table",
    "ale", "as_table", "global_surrogate", "ice", "partial_dependence", "permutation_importance",
    "Counterfactual", "CounterfactualResult", "CounterfactualSliders", "TabularExplanation", "counterfactual",
    "lime_tabular", "shapley_tabular",
    "Anchor", "LimeImage", "PerturbationCurves", "Segmentation", "ShapleyImage", "SuperpixelExplorer",
    "SuperpixelGame", "anchor_image", "deletion_insertion", "lime_image", "segment", "shapley_image",
]
