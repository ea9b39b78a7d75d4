"""nbconvert's own HTML shows each nbexplain widget's true picture, never a blank box.

nbconvert's HTML (``jupyter nbconvert --to html``, and the slides and webpdf exporters built on it) renders
a widget's live view only when the notebook holds that widget's state — which ``--execute`` stores by
default — and then loads the widget scripts from a CDN. Offline that view stays blank, and an nbexplain view
(an anywidget module) needs nbexplain's own manager anyway. :class:`ShowPictures` takes nbexplain's widgets
out of the stored state, so nbconvert shows the PNG that every nbexplain widget output carries; other
widgets keep theirs. For pages whose widgets stay interactive offline use ``--to nbexplain``
(:class:`~nbexplain.export.html.NbexplainExporter`), which embeds nbexplain's manager and is left alone.

nbexplain installs it as nbconvert configuration of its environment (``etc/jupyter/jupyter_nbconvert_config.json``
in the wheel: ``HTMLExporter.preprocessors``); a user's own ``~/.jupyter`` configuration of that list wins.
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor

from .state import STATE_MIME, stored_state, widget_views

#: the trait every nbexplain widget has (its request protocol), and no other widget library's model
NBEXPLAIN_TRAIT = "committed_request"
REFERENCE = "IPY_MODEL_"


def is_nbexplain_model(entry: dict) -> bool:
    """Whether a stored widget model (``{model_name, model_module, state}``) is an nbexplain widget."""
    state = entry.get("state") or {}
    return entry.get("model_module") == "anywidget" and NBEXPLAIN_TRAIT in state


def references(models: dict) -> set[str]:
    """The model ids that these stored models refer to (``"IPY_MODEL_<id>"`` anywhere in their state)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str) and node.startswith(REFERENCE):
            found.add(node[len(REFERENCE):])
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for entry in models.values():
        walk(dict(entry).get("state"))
    return found


class ShowPictures(Preprocessor):
    """Drop nbexplain's widgets from the notebook's stored widget state, so their outputs show their PNG."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        if "manager" in (resources.get("nbexplain") or {}):  # an nbexplain export embeds the views itself
            return nb, resources
        state = stored_state(nb)
        ours = [model_id for model_id, entry in state.items() if is_nbexplain_model(dict(entry))]
        if not ours:
            return nb, resources
        kept = {k: v for k, v in state.items() if k not in ours}
        # and what only they used (their layout models): referenced by a removed model, by no kept one
        removed = {k: v for k, v in state.items() if k in ours}
        while orphans := (references(removed) - references(kept)) & (set(kept) - set(widget_views(nb))):
            removed.update({k: kept.pop(k) for k in orphans})
        document = nb.metadata["widgets"][STATE_MIME]
        document["state"] = kept
        if not document["state"]:  # nothing left to show live: no widget scripts from a CDN either
            del nb.metadata["widgets"]
        self.log.info("nbexplain: %d widget(s) shown as their pictures (for interactive pages offline: "
                      "--to nbexplain)", len(ours))
        return nb, resources
