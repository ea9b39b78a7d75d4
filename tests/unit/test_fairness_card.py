"""The model card and the datasheet: CommonMark with every section, one self-contained HTML file, user text
shown as text in both, blanks marked for what a person must write, and the data's facts computed right."""

from __future__ import annotations

import html.parser
import re

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from sklearn.linear_model import LogisticRegression

import nbexplain as nbx
from nbexplain.errors import InputError
from nbexplain.explain.documents import CARD_SECTIONS, HARM_QUESTIONS
from nbexplain.methods.fairness.document import BLANK_MARK

EVIL = '<img src=x onerror="window.owned=1"> *$5k* | [link](http://example.com)'


@pytest.fixture(scope="module")
def audited():
    data = nbx.datasets.hiring(1200, seed=2)
    sensitive = {"Gender": np.where(data.sensitive["Gender"][600:] == "Female", EVIL, "Male"),
                 "Age band": data.sensitive["Age band"][600:]}
    clf = LogisticRegression(max_iter=2000).fit(data.X[:600], data.y[:600])
    a = nbx.audit(clf, data.X[600:], data.y[600:], sensitive=sensitive, feature_names=data.feature_names,
                  class_names=data.class_names, n_bootstrap=50)
    return data, clf, a


@pytest.fixture(scope="module")
def card(audited):
    data, clf, a = audited
    sheet = nbx.datasheet(data, title="Hiring data")
    return nbx.model_card(clf, audit=a, explanations=[a.proxies("Gender", n_rows=5, n_background=20)],
                          datasheet=sheet, title="Screening model <v1>",
                          intended_use="Rank applications for a recruiter.\n\nNever the only judge: " + EVIL)


def headings(tokens, level):
    """The text of the headings of ``level`` (as rendered: escapes resolved)."""
    out = []
    for i, t in enumerate(tokens):
        if t.type == "heading_open" and t.tag == f"h{level}":
            out.append("".join(c.content for c in tokens[i + 1].children if c.type == "text"))
    return out


def text_of(tokens) -> str:
    return " ".join(c.content for t in tokens if t.children for c in t.children if c.type == "text")


def test_the_markdown_renders_as_commonmark_with_every_section(card):
    md = card.markdown
    tokens = MarkdownIt("commonmark").parse(md)
    assert headings(tokens, 1) == ["Screening model <v1>"]
    assert headings(tokens, 2) == [*CARD_SECTIONS, "Harm assessment"]
    assert "Disparities" in headings(tokens, 3) and "Proxy features" in headings(tokens, 3)
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert rendered.count("<table>") >= 6  # all rows, each attribute, intersection, disparities, worst, proxies
    for question in HARM_QUESTIONS:
        assert f"[ ] {question}" in text_of(tokens)
    # figures are embedded PNG, so the Markdown is self-contained too
    images = re.findall(r'<img src="([^"]+)"', rendered)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)


def test_user_text_is_text_in_the_markdown_and_the_html(card):
    rendered = MarkdownIt("commonmark").enable("table").render(card.markdown)
    assert "<img src=x" not in rendered and "&lt;img src=x" in rendered
    assert "<em>" not in rendered and 'href="http://example.com"' not in rendered
    tokens = MarkdownIt("commonmark").enable("table").parse(card.markdown)
    assert EVIL in text_of(tokens)  # shown exactly as written (the groups' names and the person's words)
    page = card.html
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;window.owned=1&quot;&gt;" in page
    assert "Never the only judge" in page


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_html_is_one_file_with_no_external_reference(card):
    page = card.html
    assert page.startswith("<!DOCTYPE html>")
    parser = Tags()
    parser.feed(page)
    names = {t for t, _ in parser.tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}
    urls = [v for _, attrs in parser.tags for k, v in attrs.items() if k in ("src", "href", "srcset", "action")]
    assert urls and all(u.startswith("data:image/png;base64,") for u in urls)
    csp = [a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == ["default-src 'none'; img-src data:; style-src 'unsafe-inline'"]
    assert "url(" not in page and "@import" not in page
    assert [a for t, a in parser.tags if t == "h2"] and page.count("<h2>") == len(CARD_SECTIONS) + 1


def test_blanks_are_marked_for_what_a_person_must_write(audited, card):
    assert "Intended use" in card.blanks  # out-of-scope uses are still blank
    assert card.blanks == ["Model details", "Intended use", "Factors", "Evaluation data", "Training data",
                           "Ethical considerations", "Caveats and recommendations"]
    assert card.markdown.count(BLANK_MARK) == len(card.blanks)  # intended use: only out-of-scope is blank
    assert card.html.count('class="nbx-blank"') == len(card.blanks)
    data, clf, a = audited
    full = nbx.model_card(clf, audit=a, model_details="Team A, v1.", intended_use="x", out_of_scope="y",
                          factors="z", evaluation_data="e", training_data="t", ethical_considerations="c",
                          caveats="k", figures=False)
    assert full.blanks == [] and BLANK_MARK not in full.markdown and "data:image" not in full.markdown
    assert "no blanks left" in full.summary()


def test_the_card_carries_the_audit(audited, card):
    _, _, a = audited
    text = text_of(MarkdownIt("commonmark").enable("table").parse(card.markdown))
    d = a.disparity("disparate_impact", "Gender")
    assert f"{d.value:.3f} [{d.low:.3f}, {d.high:.3f}]" in text
    assert "four-fifths rule" in text and "sklearn.linear_model" in text
    assert "career_gap" in text  # the proxy found
    assert "From the datasheet Hiring data" in text
    sel = a.groups("Age band").values[:, a.metrics.index("selection_rate")]
    assert all(f"{v:.3f}" in text for v in sel)


def test_save_writes_html_and_markdown_with_figure_files(card, tmp_path):
    out = card.save(tmp_path / "card.html")
    assert out.read_text(encoding="utf-8") == card.html
    md_path = card.save(tmp_path / "card.md")
    text = md_path.read_text(encoding="utf-8")
    figures = sorted((tmp_path / "card_figures").glob("*.png"))
    assert figures and "data:image" not in text
    assert all(f"card_figures/{f.name}" in text for f in figures)
    assert figures[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="suffix"):
        card.save(tmp_path / "card.pdf")


def test_card_arguments_are_checked(audited):
    _, clf, a = audited
    with pytest.raises(InputError, match="intended_use must be text"):
        nbx.model_card(clf, audit=a, intended_use=["a"])
    with pytest.raises(InputError, match="audit must be the Audit"):
        nbx.model_card(clf, audit="a")
    with pytest.raises(InputError, match="explanations must be nbexplain results"):
        nbx.model_card(clf, explanations=[1])
    bare = nbx.model_card(title="Nothing known")
    assert bare.blanks and "No audit was given" in bare.markdown


def test_datasheet_counts_missing_values_groups_and_labels():
    df = pd.DataFrame({"age": [30, np.nan, 45, 52, np.nan, 23], "city": ["a", "b", None, "a", "a", "b"],
                       "group": ["x", "y", "x", "x", "y", "<b>z</b>"], "score": [0.1, 0.5, 0.3, 0.9, 0.2, 0.4]})
    y = np.array([1, 0, 1, 1, 0, 0])
    sheet = nbx.datasheet(df, y=y, sensitive=["group"], title="Tiny")
    facts = sheet.to_frame().set_index("column")
    assert facts.loc["age", "missing"] == 2 and facts.loc["city", "missing"] == 1
    assert facts.loc["group", "kind"] == "categorical" and facts.loc["score", "kind"] == "numeric"
    md = sheet.markdown
    tokens = MarkdownIt("commonmark").parse(md)
    assert headings(tokens, 2) == ["Motivation", "Composition", "Collection process",
                                   "Preprocessing, cleaning and labelling", "Uses", "Distribution", "Maintenance"]
    assert "3 in 2 column(s)" in md
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "&lt;b&gt;z&lt;/b&gt;" in rendered and "<b>z</b>" not in rendered
    # the label balance per group: x has 3 rows, all labelled 1
    assert re.search(r"\| x \| 3 \| 50\.0% \| 0\.0% \| 100\.0% \|", md.replace("\\", ""))
    assert len(sheet.blanks) == 7


def test_datasheet_of_a_packaged_dataset():
    sheet = nbx.datasheet(nbx.datasets.credit(), sensitive=["Gender", "Ethnicity"])
    md = sheet.markdown.replace("\\", "")
    assert "| Female | 207 | 51.7% |" in md and "Composition by Gender × Ethnicity" in md
    assert "Female 52%" in md  # category labels, not codes
    ax = sheet.plot()
    assert ax.get_title() == "rows by Gender"
