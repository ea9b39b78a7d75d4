"""One self-contained HTML file per notebook whose nbexplain widgets keep answering clicks offline.

:func:`export_html` and the nbconvert exporter ``--to nbexplain`` (:class:`NbexplainExporter`) render the
notebook as nbconvert's "lab" HTML does, and put inside the page what its widgets need: nbexplain's offline
widget manager (``js/_manager.js``, which runs anywidget modules and answers nothing from a kernel), the
views (in the widget state) and the widget state with every widget's answer tables as binary buffers. No
request leaves the file: require.js, MathJax and Mermaid, which nbconvert loads from CDNs, are left out.
When the notebook is run while exporting, its kernel has ``NBEXPLAIN_EXPORT=1`` and every nbexplain widget
builds its answer tables (what its view can then answer without a kernel: see each widget's
``table_answers``). A widget whose state is not in the notebook, or whose view cannot run, shows its static
picture (the PNG in its output).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from traitlets import default

from .._validation import check_bool, check_positive
from ..errors import InputError
from .state import stored_state, widget_views

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: the licences of what the page inlines (nbexplain's own scripts, and the theme CSS nbconvert inlines)
LICENCES = """\
Scripts inlined in this page:
* nbexplain's offline widget manager and views (js/_manager.js, js/_shared.js, js/<view>.js):
  BSD-3-Clause. Copyright (c) the nbexplain contributors. Redistribution and use in source and binary forms,
  with or without modification, are permitted provided that the following conditions are met: (1) source
  code must retain this copyright notice, this list of conditions and the following disclaimer; (2) binary
  forms must reproduce them in the documentation and/or other materials provided with the distribution;
  (3) neither the name of the copyright holder nor the names of its contributors may be used to endorse or
  promote products derived from this software without specific prior written permission. THIS SOFTWARE IS
  PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES ARE
  DISCLAIMED; IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DAMAGES ARISING IN ANY
  WAY OUT OF THE USE OF THIS SOFTWARE.
* The page's styles come from nbconvert's "lab" template and JupyterLab's theme:
  BSD-3-Clause, Copyright (c) Jupyter Development Team."""


def manager_script() -> str:
    """The offline widget manager's source (``js/_manager.js``), safe inside a ``<script>`` element."""
    # the views' folder: the checkout's js/, or the wheel's nbexplain/js
    from ..widgets.assets import js_dir

    return (js_dir() / "_manager.js").read_text(encoding="utf-8").replace("</script", "<\\/script")


@contextlib.contextmanager
def exporting_kernel() -> Iterator[None]:
    """Kernels started inside this block build their widgets' answer tables (``NBEXPLAIN_EXPORT=1``)."""
    from ..widgets.tables import EXPORT_ENV

    before = os.environ.get(EXPORT_ENV)
    os.environ[EXPORT_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(EXPORT_ENV, None)
        else:
            os.environ[EXPORT_ENV] = before


class NbexplainExporter(HTMLExporter):
    """``jupyter nbconvert --to nbexplain lesson.ipynb``: one HTML file whose widgets work offline.

    nbconvert's own ``--execute`` runs the notebook first (its kernel then builds the answer tables); without
    it the widget state stored in the notebook is used, and widgets without one show their pictures.
    """

    export_from_notebook = "HTML, widgets working offline (nbexplain)"

    @default("template_name")
    def _template_name_default(self) -> str:
        return "nbexplain"

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self) -> list[str]:
        return [*super()._default_extra_template_basedirs(), str(TEMPLATES)]

    def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
        resources = dict(resources or {})
        resources["nbexplain"] = {"manager": manager_script(), "licences": LICENCES}
        with exporting_kernel():
            return super().from_notebook_node(nb, resources, **kw)


def export_html(notebook: str | os.PathLike | Any, output: str | os.PathLike | None = None, *,
                execute: bool | None = None, timeout: float = 600, kernel_name: str | None = None) -> Path:
    """Write a notebook as one self-contained HTML file whose nbexplain widgets answer clicks offline.

    The page holds the notebook as nbconvert renders it, nbexplain's offline widget manager and views, and
    the widget state with every widget's answer tables (binary buffers): a superpixel toggle, a slider
    move, another attribution method or another feature's effect is answered in the page, with no kernel
    and no network; what needs the model itself says "needs a running kernel". The same export is
    ``jupyter nbconvert --to nbexplain [--execute] lesson.ipynb``.

    Parameters
    ----------
    notebook : path or NotebookNode
        The notebook (``.ipynb``).
    output : path, optional
        The HTML file to write; default: the notebook's name with ``.html``, beside it.
    execute : bool or None
        Run the notebook first (its widgets then build their answer tables). None: run it when it holds no
        widget state (as JupyterLab saves notebooks by default), since without one its widgets could only
        show their pictures.
    timeout : float
        Seconds one cell may run when executing.
    kernel_name : str, optional
        The kernel to run it with (default: the notebook's own).

    Returns
    -------
    Path
        The HTML file written.

    Examples
    --------
    >>> nbx.export_html("02_superpixels.ipynb", "superpixels.html")   # open it anywhere, offline
    """
    if isinstance(notebook, (str, os.PathLike)):
        source = Path(notebook)
        if not source.is_file():
            raise InputError(f"notebook must be an existing .ipynb file; {str(source)!r} does not exist")
        nb = nbformat.read(source, as_version=4)
        name, folder = source.stem, source.resolve().parent
    elif isinstance(notebook, dict) and "cells" in notebook:
        nb, name, folder, source = nbformat.from_dict(notebook), "notebook", Path.cwd(), None
    else:
        raise InputError(f"notebook must be a path to an .ipynb file or a NotebookNode; got {type(notebook).__name__}")
    if output is None:
        if source is None:
            raise InputError("output is required when notebook is a NotebookNode")
        output = source.with_suffix(".html")
    timeout = check_positive(timeout, "timeout")
    if execute is None:  # never run, or run without keeping its widgets' state: run it
        ran = any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
        execute = not ran or (bool(widget_views(nb)) and not stored_state(nb))
    execute = check_bool(execute, "execute")
    config: dict[str, Any] = {"ExecutePreprocessor": {"enabled": execute, "timeout": int(timeout)}}
    if kernel_name is not None:
        config["ExecutePreprocessor"]["kernel_name"] = str(kernel_name)
    from traitlets.config import Config

    exporter = NbexplainExporter(config=Config(config))
    resources = {"metadata": {"name": name, "path": str(folder)}}
    body, _ = exporter.from_notebook_node(nb, resources)
    out = Path(output)
    out.write_text(body, encoding="utf-8")
    return out
