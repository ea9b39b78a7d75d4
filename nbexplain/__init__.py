"""nbexplain: see why a model decides what it decides, inline in Jupyter, and poke it.

Floors, each importable without the ones above it: ``adapters`` (any model -> batched predict) ->
computations returning plain results (``attribute``...) -> ``widgets`` -> ``js/`` views.
"""

from __future__ import annotations

from .adapters import Model, as_model
from .attribution import METHODS, AttributionMap, Comparison, attribute, attribute_many
from .errors import InputError, ModelError, NbexplainError, NotDifferentiableError
from .images import as_image

__version__ = "0.1.0"

_WIDGETS = {"Heatmap": "heatmap", "Comparison": "heatmap", "compare": "heatmap"}


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
]
