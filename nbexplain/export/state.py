"""The widget state an export embeds: what the kernel last sent for each widget, ready for the offline manager.

The state comes from the notebook's metadata (``application/vnd.jupyter.widget-state+json``), as stored by
nbclient when the notebook is run (``jupyter nbconvert --execute``, :func:`nbexplain.export_html`) or by
JupyterLab's "save widget state". Each model keeps its traits and its binary buffers (base64 at their
paths: arrays and answer tables); a buffer whose trait was emptied after it was sent is dropped, and the
view modules and styles (``_esm``, ``_css``), the same text for every widget of a class, are stored once
under ``nbexplain_assets`` and referred to as ``nbx-asset:<hash>``.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from nbconvert.preprocessors import Preprocessor

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
ASSETS = "nbexplain_assets"
ASSET_PREFIX = "nbx-asset:"


def widget_views(nb: Any) -> list[str]:
    """The model ids of every widget view in the notebook's outputs, in order."""
    ids = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            view = (output.get("data") or {}).get(VIEW_MIME)
            if isinstance(view, dict) and view.get("model_id"):
                ids.append(str(view["model_id"]))
    return ids


def stored_state(nb: Any) -> dict:
    """``{model_id: {model_name, model_module, state, buffers?}}`` stored in the notebook ({} when none)."""
    doc = (nb.get("metadata", {}).get("widgets") or {}).get(STATE_MIME) or {}
    return dict(doc.get("state") or {})


def _has_parent(state: dict, path: list) -> bool:
    node: Any = state
    for key in path[:-1]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return False
    return isinstance(node, (dict, list))


def embeddable_state(nb: Any) -> dict:
    """The state document the exported page embeds (see the module docstring)."""
    assets: dict[str, str] = {}
    models = {}
    for model_id, entry in stored_state(nb).items():
        entry = copy.deepcopy(dict(entry))
        state = dict(entry.get("state") or {})
        for key in ("_esm", "_css"):
            text = state.get(key)
            if isinstance(text, str) and len(text) > 256:
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
                assets[digest] = text
                state[key] = ASSET_PREFIX + digest
        buffers = [b for b in entry.get("buffers") or [] if _has_parent(state, list(b.get("path") or []))]
        entry["state"] = state
        if buffers:
            entry["buffers"] = buffers
        else:
            entry.pop("buffers", None)
        models[model_id] = entry
    return {"version_major": 2, "version_minor": 0, "state": models, ASSETS: assets}


class EmbedWidgets(Preprocessor):
    """Put the embeddable widget state into the notebook (after it was run) and say what the page will show.

    ``resources["nbexplain"]``: ``views`` (widget outputs), ``live`` (those whose state is in the page),
    ``pictures`` (the others: they show their static picture). The page's own scripts are added by the
    exporter.
    """

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        views = widget_views(nb)
        state = embeddable_state(nb)
        live = [v for v in views if v in state["state"]]
        if state["state"]:
            nb.metadata.setdefault("widgets", {})[STATE_MIME] = state
        info = resources.setdefault("nbexplain", {})
        info.update(views=len(views), live=len(live), pictures=len(views) - len(live))
        if views and not live:
            self.log.warning("nbexplain: the notebook holds no widget state, so its %d widget(s) show their "
                             "pictures only; run it while exporting (execute=True, or nbconvert's --execute) "
                             "to make them interactive", len(views))
        return nb, resources
