"""Model cards and datasheets: the documents that report a model and its data, filled from what nbexplain knows.

* :func:`model_card` — Mitchell et al. (2019) *Model Cards for Model Reporting*: the sections filled from
  what nbexplain knows (the model, an :func:`~nbexplain.audit`, explanations), clearly marked blanks for what
  only a person can write, and harm-assessment questions as a checklist.
* :func:`datasheet` — Gebru et al. (2021) *Datasheets for Datasets*: a skeleton with the data's computed facts.

Both are a :class:`Document`: Markdown, one self-contained HTML file (no request when opened), ``.save(path)``
and ``.blanks`` (what a person still has to write). What goes into each section is written by
:mod:`nbexplain.methods.fairness.card`; the rendering is :mod:`nbexplain.methods.fairness.document`.

Examples
--------
>>> a = nbx.audit(clf, X_test, y_test, sensitive=["Gender"], feature_names=names)
>>> card = nbx.model_card(clf, audit=a, explanations=[a.proxies()], intended_use="Rank applications for a "
...                       "human recruiter.")
>>> card.blanks
['Model details', 'Factors', ...]
>>> card.save("card.html"); nbx.datasheet(nbx.datasets.hiring(), sensitive=["gender"]).save("data.md")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice
from ..errors import InputError
from ..methods.fairness import card
from ..methods.fairness import document as doc
from ..methods.fairness import metrics as mx
from ..methods.fairness.card import CARD_SECTIONS, HARM_QUESTIONS
from ..methods.fairness.groups import make_groupings, sensitive_columns
from ..plotting import fairness as draw
from ..plotting.figure import png_of_axes
from .fairness import Audit, Proxies
from .result import Result, frame


# =================================================================================================
# results
# =================================================================================================
@dataclass(repr=False)
class Document(Result):
    """A document of sections (a model card, a datasheet): ``.markdown``, ``.html`` (one self-contained
    file), ``.save(path)``, ``.blanks`` (the sections a person still has to write)."""

    title: str
    sections: list[tuple[str, list[doc.Block]]]
    _figure_result: Any = field(default=None, repr=False)

    _png_figsize = (6.0, 3.6)

    @property
    def markdown(self) -> str:
        """The document as CommonMark (GitHub-style tables; figures as embedded PNG data)."""
        return doc.markdown(self.title, self.sections)

    @property
    def html(self) -> str:
        """The document as one self-contained HTML file: styles inline, figures embedded, no external request."""
        return doc.html(self.title, self.sections)

    @property
    def blanks(self) -> list[str]:
        """Titles of the sections that still have a blank for a person to write."""
        return [title for title, blocks in self.sections if any(isinstance(b, doc.Blank) for b in blocks)]

    def section(self, title: str) -> list[doc.Block]:
        """The blocks of one section."""
        titles = [t for t, _ in self.sections]
        return self.sections[titles.index(check_choice(title, "title", titles))][1]

    def save(self, path: Any) -> Any:
        """Write ``path``: ``.html``/``.htm`` the self-contained HTML, ``.md`` the Markdown with its figures as
        PNG files in ``<name>_figures/`` beside it (linked relatively, as GitHub shows them). Returns the path."""
        from pathlib import Path

        p = Path(path)
        suffix = check_choice(p.suffix.lower(), "the file's suffix", (".html", ".htm", ".md"))
        if suffix in (".html", ".htm"):
            p.write_text(self.html, encoding="utf-8")
            return p
        folder = p.with_name(p.stem + "_figures")
        files: dict[int, str] = {}
        figures = [b for _, blocks in self.sections for b in blocks if isinstance(b, doc.Figure)]
        if figures:
            folder.mkdir(parents=True, exist_ok=True)
        for i, fig in enumerate(figures):
            name = f"figure_{i + 1}.png"
            (folder / name).write_bytes(fig.png)
            files[id(fig)] = f"{folder.name}/{name}"
        p.write_text(doc.markdown(self.title, self.sections, figure_paths=files), encoding="utf-8")
        return p

    def _repr_html_(self) -> str:
        return doc.html_fragment(self.title, self.sections)

    def __str__(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary()}>"

    def summary(self) -> str:
        blanks = self.blanks
        return (f"{self.title}: {len(self.sections)} sections"
                + (f"; to be written by a person: {', '.join(blanks)}" if blanks else "; no blanks left"))

    def plot(self, ax=None):
        """The document's main figure (the audit's bars, a datasheet's group composition); returns the Axes."""
        if self._figure_result is None:
            raise InputError("this document has no figure to plot")
        return self._figure_result(ax)


@dataclass(repr=False)
class ModelCard(Document):
    """A model card (Mitchell et al. 2019); see :func:`model_card`."""


@dataclass(repr=False)
class Datasheet(Document):
    """A datasheet for a dataset (Gebru et al. 2021); see :func:`datasheet`.

    ``facts``: one dict per column (name, kind, missing, distinct, summary), also as :meth:`to_frame`.
    """

    facts: list[dict] = field(default_factory=list)

    def to_frame(self):
        """One row per column of the data: kind, missing values, distinct values and a summary."""
        keys = ("column", "kind", "missing", "distinct", "summary")
        return frame({k: [f[k] for f in self.facts] for k in keys})


# =================================================================================================
# the model card
# =================================================================================================
def model_card(
    model: Any = None,
    *,
    audit: Audit | None = None,
    explanations: Sequence[Any] | Any = (),
    datasheet: Datasheet | None = None,
    title: str = "Model card",
    model_details: str | None = None,
    intended_use: str | None = None,
    out_of_scope: str | None = None,
    factors: str | None = None,
    evaluation_data: str | None = None,
    training_data: str | None = None,
    ethical_considerations: str | None = None,
    caveats: str | None = None,
    figures: bool = True,
) -> ModelCard:
    """A model card (Mitchell et al. 2019): Markdown and one self-contained HTML file.

    The sections (model details, intended use, factors, metrics, evaluation data, training data, quantitative
    analyses, ethical considerations, caveats and recommendations) are filled from what nbexplain knows: the
    model's type and parameters, the audit's groups, metrics with intervals, disparities and worst-off groups,
    the explanations given (feature importance, proxies, effects by group) with their figures, a datasheet's
    facts. What only a person can write (intended and out-of-scope uses, the reasons for the chosen factors,
    where the data come from, ethical considerations) is a clearly marked blank unless given here. A
    harm-assessment checklist closes the card.

    Parameters
    ----------
    model : the model (its type and parameters are recorded), optional.
    audit : :class:`~nbexplain.Audit`, optional — the disaggregated evaluation.
    explanations : result or list of results — e.g. ``audit.proxies()``, ``audit.shapley_by_group()``,
        ``nbx.permutation_importance(...)``.
    datasheet : :class:`Datasheet`, optional — the training data's datasheet (its facts go to "Training data").
    title : str
    model_details, intended_use, out_of_scope, factors, evaluation_data, training_data,
    ethical_considerations, caveats : str, optional — a person's words for those sections (plain text; blank
        lines separate paragraphs).
    figures : bool — embed the figures (PNG).

    Returns
    -------
    ModelCard

    Examples
    --------
    >>> card = nbx.model_card(clf, audit=a, explanations=[a.proxies()], intended_use="Shortlisting support.")
    >>> card.blanks
    ['Model details', 'Intended use', ...]
    >>> card.save("model_card.html"); card.save("model_card.md")
    """
    figures = check_bool(figures, "figures")
    if audit is not None and not isinstance(audit, Audit):
        raise InputError(f"audit must be the Audit of nbx.audit(...); got {type(audit).__name__}")
    if datasheet is not None and not isinstance(datasheet, Datasheet):
        raise InputError(f"datasheet must be the Datasheet of nbx.datasheet(...); got {type(datasheet).__name__}")
    if isinstance(explanations, Result):
        explanations = [explanations]
    explanations = list(explanations or [])
    for e in explanations:
        if not isinstance(e, Result):
            raise InputError(f"explanations must be nbexplain results (importance, Shapley values, proxies...); got "
                             f"{type(e).__name__}")
    words = {k: card.written(v, k) for k, v in dict(
        model_details=model_details, intended_use=intended_use, out_of_scope=out_of_scope, factors=factors,
        evaluation_data=evaluation_data, training_data=training_data,
        ethical_considerations=ethical_considerations, caveats=caveats).items()}
    if model is None and audit is not None:
        model = audit._model
    found = card.audit_sections(audit, _audit_figures(audit) if figures else []) if audit is not None else {}
    explained: list[doc.Block] = []
    for e in explanations:
        heading, blocks = card.explanation_blocks(e)
        explained += blocks + (_figure(e, heading) if figures else [])
    training: list[doc.Block] = []
    if datasheet is not None:
        training.append(doc.Text(f"From the datasheet {datasheet.title!s}:"))
        training += [b for b in datasheet.section("Composition") if not isinstance(b, doc.Blank)]
    concerns = [e.summary() for e in explanations if isinstance(e, Proxies)]
    sections = card.card_sections(model, found, explained, training, concerns, words)
    plot = (lambda ax: audit.plot(ax=ax)) if audit is not None else None
    return ModelCard(title=str(title), sections=sections, _figure_result=plot)


def _audit_figures(a: Audit) -> list[doc.Block]:
    """The audit's main metric by each attribute (and a classifier's TPR by the first), as figures."""
    main = "selection_rate" if a.kind == "classification" else "mae"
    shown = [(gm, main) for gm in a.groups_by] + ([(a.groups_by[0], "tpr")] if a.kind == "classification" else [])
    return [doc.Figure(png_of_axes(lambda ax, gm=gm, m=m: a.plot(ax=ax, metric=m, attribute=gm.attribute),
                                   (6.0, 0.35 * len(gm.names) + 1.6)),
                       f"{mx.LABELS[m]} by {gm.attribute} with intervals") for gm, m in shown]


def _figure(result: Result, alt: str) -> list[doc.Block]:
    """A result's picture as a figure (a line saying why, when it cannot be drawn)."""
    try:
        png = result._repr_png_()
    except Exception as exc:  # a figure that cannot be drawn must not lose the card
        return [doc.Text(f"(figure not drawn: {type(exc).__name__}: {exc})")]
    return [doc.Figure(png, alt)]


# =================================================================================================
# the datasheet
# =================================================================================================
def datasheet(
    data: Any,
    *,
    y: Any = None,
    sensitive: Any = None,
    feature_names: Sequence[str] | None = None,
    categories: Mapping | None = None,
    title: str = "Datasheet",
    motivation: str | None = None,
    composition: str | None = None,
    collection: str | None = None,
    preprocessing: str | None = None,
    uses: str | None = None,
    distribution: str | None = None,
    maintenance: str | None = None,
    figures: bool = True,
) -> Datasheet:
    """A datasheet skeleton for a dataset (Gebru et al. 2021) with the data's computed facts.

    Computed: the size, every column's kind, missing values, distinct values and a summary, exact duplicate
    rows, the label balance, the composition of each sensitive group and intersection and the label balance
    per group. Gebru et al.'s questions (motivation, composition, collection, preprocessing, uses,
    distribution, maintenance) are marked blanks unless written here.

    Parameters
    ----------
    data : (N, F) array, DataFrame, or a data set of :mod:`nbexplain.datasets` (its ``X``, ``y``,
        ``feature_names``, ``categories`` and ``sensitive`` are used). Missing values (NaN, None) are counted.
    y : (N,) labels, optional.
    sensitive : as for :func:`~nbexplain.audit` (column names, or ``{name: values}``), optional.
    feature_names, categories : as for :func:`~nbexplain.audit`.
    title, motivation, composition, collection, preprocessing, uses, distribution, maintenance : str, optional
        A person's words for those sections.
    figures : bool — embed the group-composition figure.

    Returns
    -------
    Datasheet

    Examples
    --------
    >>> sheet = nbx.datasheet(nbx.datasets.credit(), sensitive=["Gender", "Ethnicity"])
    >>> sheet.to_frame(); sheet.save("credit_datasheet.html")
    """
    figures = check_bool(figures, "figures")
    if hasattr(data, "X") and hasattr(data, "feature_names"):  # one of nbexplain's data sets
        y = getattr(data, "y", None) if y is None else y
        if categories is None:
            categories = {**(getattr(data, "categories", None) or {}), **(getattr(data, "groups", None) or {})}
        sensitive = getattr(data, "sensitive", None) if sensitive is None else sensitive
        feature_names = data.feature_names if feature_names is None else feature_names
        data = data.X
    names, values = card.data_columns(data, feature_names)
    n = len(values[0])
    categories = dict(categories or {})
    facts = [card.column_fact(nm, v, categories.get(nm)) for nm, v in zip(names, values, strict=True)]
    words = {k: card.written(v, k) for k, v in dict(motivation=motivation, composition=composition, collection=collection,
                                                      preprocessing=preprocessing, uses=uses, distribution=distribution,
                                                      maintenance=maintenance).items()}
    y_arr = None
    if y is not None:
        y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if y_arr.shape != (n,):
            raise InputError(f"y must have one label per row ({n}); got shape {y_arr.shape}")
    groupings = []
    if sensitive is not None:
        columns, _ = sensitive_columns(sensitive, n, columns=dict(zip(names, values, strict=True)))
        groupings = make_groupings(columns, categories, True)
    composition_blocks = card.composition(names, values, facts, y_arr, groupings)
    plot = None
    if groupings:
        first = groupings[0]

        def plot(ax, first=first):
            return draw.group_bars(first.sizes.astype(float), None, None, first.names,
                                   first.sizes < 30, title=f"rows by {first.attribute}", xlabel="rows", ax=ax)

        if figures:
            composition_blocks.append(doc.Figure(png_of_axes(plot, (5.0, 0.35 * first.n_groups + 1.4)),
                                                 f"rows by {first.attribute}"))
    sections = card.datasheet_sections(composition_blocks, words)
    return Datasheet(title=str(title), sections=sections, _figure_result=plot, facts=facts)


__all__ = ["CARD_SECTIONS", "HARM_QUESTIONS", "Datasheet", "Document", "ModelCard", "datasheet", "model_card"]
