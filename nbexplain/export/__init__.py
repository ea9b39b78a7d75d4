"""Exports: one self-contained HTML file per notebook whose widgets answer clicks offline (issue 18).

The top floor: it runs notebooks and reads the widgets' state, above ``widgets``. ``nbconvert`` is imported
here, so ``import nbexplain`` does not need it; ``nbexplain.export_html`` loads this module on first use.
"""

from .html import NbexplainExporter, export_html
from .state import EmbedWidgets, embeddable_state

__all__ = ["EmbedWidgets", "NbexplainExporter", "embeddable_state", "export_html"]
