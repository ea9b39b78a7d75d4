"""What a model card and a datasheet say: the sections nbexplain can fill in, and the blanks only a person can write.

A model card (Mitchell et al. 2019) has nine sections; a datasheet (Gebru et al. 2021) seven. This module
writes their computed parts as blocks of :mod:`.document`: the model's type and parameters, an audit's groups,
metrics with intervals, disparities and worst-off groups, a summary of each explanation given, every column's
facts and the composition of the groups. Whatever a person has to say (intended use, where the data come
from, ethical considerations...) is their text when given, else a :class:`~.document.Blank` with the question.
Figures are drawn by the caller and passed in as blocks.

Examples
--------
>>> found = audit_sections(audit, figures=[])                       # {"Factors": [...], "Metrics": [...], ...}
>>> words_or_blank(None, CARD_BLANKS["Intended use"])
[Blank(prompt='The primary intended uses and users: ...')]
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...adapters.model import Model
from ...errors import InputError
from . import document as doc
from . import metrics as mx
from .disparities import FOUR_FIFTHS_RULE
from .groups import Grouping, label_name

#: Mitchell et al. (2019), section 4: the sections of a model card, in order
CARD_SECTIONS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                 "Quantitative analyses", "Ethical considerations", "Caveats and recommendations")
#: harm-assessment questions asked before a model is used on people (after the essay's audit questions,
#: Mitchell et al. 2019 and Madaio et al. 2020's co-designed fairness checklist)
HARM_QUESTIONS = (
    "Who is affected by the model's decisions, and who was not consulted about them?",
    "Which harms can a wrong decision cause: a lost opportunity or resource (allocation), worse service "
    "(quality of service), a stereotype reinforced, or people made invisible?",
    "Does any group receive the favourable decision less often (disparate impact), and is the gap larger "
    "than its uncertainty?",
    "Do error rates (false negatives, false positives) differ between groups or their intersections, and "
    "which error costs the people affected most?",
    "Were the groups large enough to say anything? Which groups were too small or not recorded at all?",
    "Could the labels themselves encode past discrimination (historical decisions as ground truth)?",
    "Does a feature act as a proxy for a sensitive attribute, and is its use justified by the task?",
    "Which fairness definition fits this decision (equal selection, equal opportunity, equal error rates), "
    "and who chose it?",
    "Can a person affected see why they were decided about, contest the decision, and reach a human?",
    "How will the model be monitored after deployment, by whom, and what would make you stop using it?",
)
CARD_BLANKS = {
    "Model details": "Who developed the model, when, which version; licence; where to send questions; how to cite.",
    "Intended use": "The primary intended uses and users: which decisions the model supports, and for whom.",
    "Out-of-scope uses": "Uses the model must not be put to, and people or settings it was not built for.",
    "Factors": "Why these groups? Which other factors (groups, instruments, environments) matter for this "
               "task but were not evaluated?",
    "Evaluation data": "Where the evaluation data come from, why they were chosen, and how they were prepared.",
    "Training data": "The training data: source, time span, how labels were made, what they may encode.",
    "Ethical considerations": "Sensitive data used, risks and harms to people, mitigations taken, and uses "
                              "that would be fraught.",
    "Caveats and recommendations": "What a user of the model must know: further testing needed, groups not "
                                   "represented, recommended thresholds or human oversight.",
}
#: Gebru et al. (2021): the questions of each section of a datasheet
DATASHEET_BLANKS = {
    "Motivation": "For what purpose was the dataset created? Who created it, on whose behalf, and who funded it?",
    "Composition": "What do the instances represent? Is anything missing, confidential, or identifying? "
                   "Which subpopulations does it contain, and how were they identified?",
    "Collection process": "How, when and by whom were the data collected or generated? Did the people "
                          "concerned consent, and could they withdraw?",
    "Preprocessing, cleaning and labelling": "What was done to the raw data, and how were the labels made?",
    "Uses": "What has the dataset been used for? What should it not be used for?",
    "Distribution": "How is the dataset shared, under which licence, and with whom?",
    "Maintenance": "Who maintains the dataset, how are errors reported and corrected, and will it be updated?",
}
#: the section title of each kind of explanation in a model card
EXPLANATION_TITLES = {"Proxies": "Proxy features", "ShapleyByGroup": "Feature importance by group",
                      "PermutationImportance": "Feature importance", "EffectByGroup": "Feature effect by group",
                      "GroupCounterfactuals": "What would have to change",
                      "TradeOff": "Accuracy and disparity as thresholds move"}


# -- a person's words ---------------------------------------------------------------------------------------
def written(value: Any, name: str) -> str | None:
    """A person's text for one section (None or blank: not written), or :class:`InputError` for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be text (a str) written by a person; got {type(value).__name__}")
    return value.strip() or None


def words_or_blank(value: str | None, prompt: str) -> list[doc.Block]:
    """The person's words when given, else a blank asking ``prompt``."""
    return [doc.Text(value, written=True)] if value else [doc.Blank(prompt)]


# -- the model card -----------------------------------------------------------------------------------------
def model_facts(model: Any) -> list[tuple[str, str]]:
    """What can be read off a model: its type, an estimator's parameters, a network's trainable parameters."""
    if model is None:
        return []
    raw = model.raw if isinstance(model, Model) else model
    facts = [("Type", f"{type(raw).__module__}.{type(raw).__qualname__}")]
    if hasattr(raw, "get_params"):
        try:
            params = raw.get_params(deep=False)
            shown = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()) if not callable(v))
            facts.append(("Parameters", shown[:600] + ("…" if len(shown) > 600 else "")))
        except Exception:  # an estimator whose get_params fails still gets a card
            pass
    if hasattr(raw, "parameters") and callable(raw.parameters):
        try:
            facts.append(("Trainable parameters", f"{sum(p.numel() for p in raw.parameters()):,}"))
        except Exception:
            pass
    n_features = getattr(raw, "n_features_in_", None)
    if n_features is not None:
        facts.append(("Input features", str(n_features)))
    return facts


def interval_text(v: float, lo: float, hi: float, small: bool, with_ci: bool) -> str:
    """``0.712 [0.650, 0.770]``, with ⚠ when the number rests on too few rows (— when undefined)."""
    if not np.isfinite(v):
        return "—"
    text = f"{v:.3f}"
    if with_ci and np.isfinite(lo) and np.isfinite(hi):
        text += f" [{lo:.3f}, {hi:.3f}]"
    return text + (" ⚠" if small else "")


def group_table(gm: Any, audited: Sequence[str], shown: Sequence[str], with_ci: bool) -> doc.Table:
    """One row per group of ``gm`` (a :class:`~.evaluation.GroupMetrics` of the ``audited`` metrics): its size
    and each ``shown`` metric with its interval."""
    columns = ["group", "n", *[mx.SHORT[m] for m in shown]]
    rows = []
    for g, name in enumerate(gm.names):
        cells = [name, f"{int(gm.sizes[g]):,}"]
        for m in shown:
            k = list(audited).index(m)
            cells.append(interval_text(gm.values[g, k], gm.low[g, k], gm.high[g, k], bool(gm.too_small[g, k]),
                                       with_ci))
        rows.append(cells)
    return doc.Table(columns, rows)


def audit_sections(a: Any, figures: Sequence[doc.Block] = ()) -> dict[str, list[doc.Block]]:
    """What an audit (:class:`~nbexplain.Audit`) writes into a model card: "Factors", "Metrics", "Evaluation
    data" and "Quantitative analyses" (its tables, then ``figures``), and the "findings" and "caveats" that
    the ethical considerations and the caveats quote."""
    with_ci = bool(a.n_bootstrap)
    overall = a.overall
    thresholds = (f"Decisions select a row when its score {a.output_label} is at least {a.threshold:g}"
                  if a.kind == "classification" else "The model's predictions are compared with the truth")
    if a.thresholds:
        thresholds += (f"; per-group thresholds for {a.threshold_attribute}: "
                       + ", ".join(f"{n} {t:.3f}" for n, t in a.thresholds.items()))
    metrics_text = [
        doc.Text(f"{thresholds}. Reported per group: " + ", ".join(mx.LABELS[m] for m in a.metrics) + "."),
        doc.Text((f"Intervals: {a.ci:.0%} percentile bootstrap intervals over {a.n_bootstrap:,} resamples of the "
                  f"evaluation rows (seed {a.seed})." if with_ci else "No intervals were computed.")
                 + f" A number computed from fewer than {a.min_group_size} rows is marked ⚠ (too small to mean much)."),
    ]
    if a.kind == "classification":
        metrics_text.append(doc.Text("Disparities between groups: the disparate-impact ratio (lowest selection rate "
                                     "over the highest), the demographic-parity difference, the equal-opportunity "
                                     "difference (TPR) and the equalised-odds difference (the larger of the TPR "
                                     "and FPR differences). " + FOUR_FIFTHS_RULE))
    factors = [doc.Facts([(gm.attribute, ", ".join(f"{n} ({s:,})" for n, s in zip(gm.names, gm.sizes, strict=True)))
                          for gm in a.groups_by])]
    small = a.small_groups()
    evaluation = [doc.Facts([("Rows", f"{a.n_rows:,}")]
                            + ([("Base rate", f"{overall.values[0, 0]:.3f} ({a.target_name})")]
                               if a.kind == "classification" else []))]
    shown = (("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "precision", "ece", "roc_auc")
             if a.kind == "classification" else ("mean_truth", "mae", "rmse", "mean_error", "r2"))
    quantitative: list[doc.Block] = [doc.Heading(3, "All rows"), group_table(overall, a.metrics, shown, with_ci)]
    for gm in a.groups_by:
        quantitative += [doc.Heading(3, f"By {gm.attribute}"), group_table(gm, a.metrics, shown, with_ci)]
    disp_rows = [[d.attribute, d.label, interval_text(d.value, d.low, d.high, d.too_small, with_ci),
                  str(d.worst), str(d.best), "" if d.passes is None else ("passes" if d.passes else "fails")]
                 for gm in a.groups_by for d in gm.disparities.values()]
    quantitative += [doc.Heading(3, "Disparities"),
                     doc.Table(["attribute", "measure", "value", "worst-off", "best-off", "four-fifths rule"],
                               disp_rows)]
    worst_rows = [[gm.attribute, mx.LABELS[m], str(w)] for gm in a.groups_by for m, w in gm.worst.items() if w]
    quantitative += [doc.Heading(3, "Worst-off group per metric"), doc.Table(["attribute", "metric", "group"],
                                                                              worst_rows)]
    quantitative += list(figures)
    caveats = []
    if small:
        caveats.append(f"Groups with fewer than {a.min_group_size} rows, whose numbers mean little: "
                       + ", ".join(small) + ".")
    wide = [f"{gm.attribute}: {n}" for gm in a.groups_by for g, n in enumerate(gm.names)
            if with_ci and a.kind == "classification"
            and gm.high[g, 1] - gm.low[g, 1] > 0.2]
    if wide:
        caveats.append("Selection-rate intervals wider than 0.2 (more data needed): " + ", ".join(wide) + ".")
    return {"Factors": factors, "Metrics": metrics_text, "Evaluation data": evaluation,
            "Quantitative analyses": quantitative, "findings": [doc.Bullets(a.findings())] if a.findings() else [],
            "caveats": [doc.Bullets(caveats)] if caveats else []}


def explanation_blocks(e: Any) -> tuple[str, list[doc.Block]]:
    """The title of one explanation (a result) in a model card, and its blocks: a heading, its one-line
    summary and, for proxies, the likeliest ones as a table (its figure is the caller's)."""
    title = EXPLANATION_TITLES.get(type(e).__name__, type(e).__name__)
    blocks: list[doc.Block] = [doc.Heading(3, title)]
    if hasattr(e, "summary"):
        try:
            blocks.append(doc.Text(e.summary()))
        except Exception as exc:  # a result without a one-line story still shows its figure
            blocks.append(doc.Text(f"(no summary: {type(exc).__name__})"))
    if type(e).__name__ == "Proxies":
        rows = [[n, f"{e.association[j]:.2f}", e.kinds[j], f"{e.share[j]:.1%}", f"{e.score[j]:.3f}"]
                for j, n in ((e.feature_names.index(n), n) for n in e.ranking()[:8])]
        blocks.append(doc.Table(["feature", "association", "measure", "share of explanation", "proxy score"], rows))
    return title, blocks


def card_sections(model: Any, found: Mapping[str, list[doc.Block]], explained: list[doc.Block],
                  training_facts: list[doc.Block], concerns: list[str],
                  words: Mapping[str, str | None]) -> list[tuple[str, list[doc.Block]]]:
    """The sections of a model card, in order, then the harm-assessment checklist: ``found`` is what an audit
    wrote (:func:`audit_sections`; empty without one), ``explained`` the explanations' blocks,
    ``training_facts`` a datasheet's, ``concerns`` sentences for the ethical considerations (the proxies'
    summaries) and ``words`` a person's text for each section (keyword -> text or None)."""
    today = datetime.date.today().isoformat()
    details: list[doc.Block] = [doc.Facts(model_facts(model) + [("Card generated", f"{today} by nbexplain")])]
    details += words_or_blank(words["model_details"], CARD_BLANKS["Model details"])
    intended = ([doc.Heading(3, "Primary intended uses")]
                + words_or_blank(words["intended_use"], CARD_BLANKS["Intended use"])
                + [doc.Heading(3, "Out-of-scope uses")]
                + words_or_blank(words["out_of_scope"], CARD_BLANKS["Out-of-scope uses"]))
    factors = (found.get("Factors", [doc.Text("No groups were audited.")])
               + words_or_blank(words["factors"], CARD_BLANKS["Factors"]))
    metrics = found.get("Metrics", [doc.Text("No audit was given: no metrics are reported.")])
    evaluation = found.get("Evaluation data", []) + words_or_blank(words["evaluation_data"],
                                                                   CARD_BLANKS["Evaluation data"])
    training = list(training_facts) + words_or_blank(words["training_data"], CARD_BLANKS["Training data"])
    quantitative = found.get("Quantitative analyses", [doc.Text("No audit was given.")]) + list(explained)
    ethics: list[doc.Block] = []
    if found.get("findings"):
        ethics += [doc.Text("What the audit found, to weigh here:")] + found["findings"]
    ethics += [doc.Text(c) for c in concerns]
    ethics += words_or_blank(words["ethical_considerations"], CARD_BLANKS["Ethical considerations"])
    caveats = found.get("caveats", []) + words_or_blank(words["caveats"], CARD_BLANKS["Caveats and recommendations"])
    return [("Model details", details), ("Intended use", intended), ("Factors", factors),
            ("Metrics", metrics), ("Evaluation data", evaluation), ("Training data", training),
            ("Quantitative analyses", quantitative), ("Ethical considerations", ethics),
            ("Caveats and recommendations", caveats),
            ("Harm assessment", [doc.Text("Questions to answer, with the people affected, before this model is "
                                          "used on them:"), doc.Checklist(list(HARM_QUESTIONS))])]


# -- the datasheet ------------------------------------------------------------------------------------------
def data_columns(data: Any, feature_names: Sequence[str] | None) -> tuple[list[str], list[np.ndarray]]:
    """The names and the values of the columns of a 2-D array or a DataFrame."""
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        names = [str(c) for c in data.columns]
        return names, [np.asarray(data[c].to_numpy()) for c in data.columns]
    arr = np.asarray(data)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InputError(f"data must be a 2-D array or a DataFrame with at least one row; got shape {arr.shape}")
    names = [str(n) for n in feature_names] if feature_names is not None else [f"x{j}" for j in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise InputError(f"feature_names has {len(names)} names but data has {arr.shape[1]} columns")
    return names, [arr[:, j] for j in range(arr.shape[1])]


def missing(values: np.ndarray) -> np.ndarray:
    """(N,) bool: the missing values of a column (NaN, None)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype == object:
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


def column_fact(name: str, values: np.ndarray, labels: Any) -> dict:
    """One column's facts: its kind (categorical or numeric), missing and distinct values, and a summary (the
    commonest levels with their shares, or the minimum, median and maximum)."""
    absent = missing(values)
    present = values[~absent]
    numeric = values.dtype.kind in "biuf"
    distinct = len(np.unique(present.astype(str) if not numeric else present))
    if labels is not None or not numeric or (distinct <= 10 and np.all(present == np.round(present))):
        kind = "categorical"
        levels, counts = np.unique(present.astype(str) if not numeric else present, return_counts=True)
        order = np.argsort(-counts, kind="stable")[:4]
        summary = ", ".join(f"{label_name(levels[i].item() if hasattr(levels[i], 'item') else levels[i], labels)} "
                            f"{counts[i] / max(1, len(present)):.0%}" for i in order)
    else:
        kind = "numeric"
        p = present.astype(np.float64)
        summary = (f"min {np.min(p):.4g}, median {np.median(p):.4g}, max {np.max(p):.4g}" if len(p) else "no values")
    return {"column": name, "kind": kind, "missing": int(absent.sum()), "distinct": int(distinct), "summary": summary}


def composition(names: list[str], values: list[np.ndarray], facts: list[dict], y: np.ndarray | None,
                groupings: Sequence[Grouping]) -> list[doc.Block]:
    """A datasheet's computed composition: size, duplicates and missing values, a table of the columns'
    ``facts``, the label balance (``y``, optional) and each grouping's share of the rows and its label balance."""
    n = len(values[0])
    rows = np.column_stack([v.astype(str) for v in values])
    duplicates = int(n - len(np.unique(rows, axis=0)))
    blocks: list[doc.Block] = [
        doc.Facts([("Rows", f"{n:,}"), ("Columns", str(len(names))), ("Exact duplicate rows", f"{duplicates:,}"),
                   ("Missing values", f"{sum(f['missing'] for f in facts):,} in "
                                      f"{sum(1 for f in facts if f['missing'])} column(s)")]),
        doc.Heading(3, "Columns"),
        doc.Table(["column", "kind", "missing", "distinct", "summary"],
                  [[f["column"], f["kind"], str(f["missing"]), str(f["distinct"]), f["summary"]] for f in facts]),
    ]
    label_levels: Any = []
    if y is not None:
        label_levels, counts = np.unique(y.astype(str), return_counts=True)
        blocks += [doc.Heading(3, "Labels"),
                   doc.Table(["label", "rows", "share"],
                             [[lv, f"{c:,}", f"{c / n:.1%}"] for lv, c in zip(label_levels, counts, strict=True)])]
    for g in groupings:
        sizes = g.sizes
        header = ["group", "rows", "share"] + [f"share labelled {lv}" for lv in label_levels]
        table_rows = []
        for k, name in enumerate(g.names):
            cells = [name, f"{int(sizes[k]):,}", f"{sizes[k] / n:.1%}"]
            for lv in label_levels:
                cells.append(f"{np.mean(y[g.codes == k].astype(str) == lv):.1%}")
            table_rows.append(cells)
        blocks += [doc.Heading(3, f"Composition by {g.attribute}"), doc.Table(header, table_rows)]
    return blocks


def datasheet_sections(composition_blocks: list[doc.Block],
                       words: Mapping[str, str | None]) -> list[tuple[str, list[doc.Block]]]:
    """The sections of a datasheet, in order: the computed composition, and a person's ``words`` (keyword ->
    text or None) or a blank with Gebru et al.'s questions for each."""
    def section(title: str, key: str) -> tuple[str, list[doc.Block]]:
        return title, words_or_blank(words[key], DATASHEET_BLANKS[title])

    return [section("Motivation", "motivation"),
            ("Composition", composition_blocks + words_or_blank(words["composition"], DATASHEET_BLANKS["Composition"])),
            section("Collection process", "collection"),
            section("Preprocessing, cleaning and labelling", "preprocessing"),
            section("Uses", "uses"), section("Distribution", "distribution"), section("Maintenance", "maintenance")]


__all__ = ["CARD_BLANKS", "CARD_SECTIONS", "DATASHEET_BLANKS", "EXPLANATION_TITLES", "HARM_QUESTIONS",
           "audit_sections", "card_sections", "column_fact", "composition", "data_columns", "datasheet_sections",
           "explanation_blocks", "group_table", "interval_text", "missing", "model_facts", "words_or_blank",
           "written"]
