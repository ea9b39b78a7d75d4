"""One document, two renderings: CommonMark (with GitHub tables) and one self-contained HTML file.

A model card or a datasheet is a list of sections, each a list of blocks: :class:`Heading`, :class:`Text`
(a person's words, or a computed sentence), :class:`Facts` (label: value), :class:`Table`, :class:`Figure`
(PNG bytes), :class:`Bullets`, :class:`Checklist` and :class:`Blank` (a clearly marked gap that only a person
can fill). Every string is text: in Markdown, every character that could start markup is backslash-escaped
(so a group named ``<b>`` or ``*x*`` shows as written, never as markup or raw HTML); in HTML it goes
through ``html.escape``.
The HTML file carries its styles inline and its figures as ``data:`` URIs, and a Content-Security-Policy that
forbids every other source, so opening it makes no request.

Examples
--------
>>> sections = [("Intended use", [Blank("Who should use the model?")])]
>>> "To be written by a person" in markdown("Model card", sections)
True
>>> html("Model card", sections).startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import html as _html
import re
from dataclasses import dataclass

#: what marks a blank, in both renderings
BLANK_MARK = "To be written by a person"
#: the characters that can start markup anywhere in a line (CommonMark, GitHub's tables, strikethrough, math)
_MARKUP = re.compile(r"([\\`*_\[\]<>&|!~#$])")
#: what starts a block at the beginning of a line: a list item, a heading, a quote, a thematic break
_LINE_START = re.compile(r"^(\s*)([-+]|\d{1,9}(?=[.)]))(?=[.)]?(\s|$))")


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Text:
    """A paragraph (or several, separated by blank lines); ``written``: a person's words, shown as such."""

    text: str
    written: bool = False


@dataclass
class Facts:
    items: list[tuple[str, str]]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    png: bytes
    alt: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Checklist:
    items: list[str]


@dataclass
class Blank:
    """A gap a person must fill: ``prompt`` says what belongs there."""

    prompt: str


Block = Heading | Text | Facts | Table | Figure | Bullets | Checklist | Blank


# -------------------------------------------------------------------------------------------------
# Markdown
# -------------------------------------------------------------------------------------------------
def md_text(text: object, *, line_start: bool = False) -> str:
    """``text`` as literal Markdown on one line: the characters that could start markup backslash-escaped
    (``\\ ` * _ [ ] < > & | ! ~ # $``), and, where the text starts a line, a leading list, quote or heading
    marker too; numbers and ordinary punctuation stay readable."""
    out = _MARKUP.sub(r"\\\1", " ".join(str(text).split()))
    if line_start:
        out = _LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2)[0].isdigit()
                                                       else m.group(2) + "\\"), out, count=1)
    return out


def _md_paragraphs(text: str) -> list[str]:
    return [md_text(p, line_start=True) for p in re.split(r"\n\s*\n", str(text)) if p.strip()]


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _md_block(block: Block, figure_paths: dict[int, str]) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + md_text(block.text)
    if isinstance(block, Text):
        paragraphs = _md_paragraphs(block.text)
        if block.written:
            return "\n>\n".join("> " + p for p in paragraphs)
        return "\n\n".join(paragraphs)
    if isinstance(block, Facts):
        return "\n".join(f"- **{md_text(k)}**: {md_text(v)}" for k, v in block.items)
    if isinstance(block, Table):
        head = "| " + " | ".join(md_text(c) for c in block.columns) + " |"
        rule = "|" + "|".join(" --- " for _ in block.columns) + "|"
        body = ["| " + " | ".join(md_text(c) for c in row) + " |" for row in block.rows]
        return "\n".join([head, rule, *body])
    if isinstance(block, Figure):
        target = figure_paths.get(id(block), _data_uri(block.png))
        return f"![{md_text(block.alt)}]({target})"
    if isinstance(block, Bullets):
        return "\n".join(f"- {md_text(item)}" for item in block.items)
    if isinstance(block, Checklist):
        return "\n".join(f"- [ ] {md_text(item)}" for item in block.items)
    if isinstance(block, Blank):
        return f"> **✍ {BLANK_MARK}:** {md_text(block.prompt)}"
    raise TypeError(f"not a document block: {type(block).__name__}")


def markdown(title: str, sections: list[tuple[str, list[Block]]], figure_paths: dict[int, str] | None = None) -> str:
    """The document as Markdown: ``# title``, one ``## section`` each (figures as data URIs unless
    ``figure_paths`` maps a figure's ``id`` to a file path)."""
    parts = [f"# {md_text(title)}"]
    for name, blocks in sections:
        parts.append(f"## {md_text(name)}")
        parts += [_md_block(b, figure_paths or {}) for b in blocks]
    return "\n\n".join(parts) + "\n"


# -------------------------------------------------------------------------------------------------
# HTML
# -------------------------------------------------------------------------------------------------
STYLE = """
.nbx-doc { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.45; color: #1f1f1f;
  max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; }
.nbx-doc h1 { font-size: 1.7rem; border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
.nbx-doc h2 { font-size: 1.3rem; margin-top: 1.8rem; border-bottom: 1px solid #eee; }
.nbx-doc h3, .nbx-doc h4 { font-size: 1.05rem; margin-top: 1.2rem; }
.nbx-doc table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; }
.nbx-doc th, .nbx-doc td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }
.nbx-doc th { background: #f3f3f3; }
.nbx-doc td { font-variant-numeric: tabular-nums; }
.nbx-doc figure { margin: .8rem 0; }
.nbx-doc img { max-width: 100%; height: auto; }
.nbx-doc figcaption { font-size: .85rem; color: #555; }
.nbx-doc blockquote { margin: .6rem 0; padding: .2rem .9rem; border-left: 4px solid #1976d2; background: #f5f9ff; }
.nbx-doc .nbx-blank { margin: .6rem 0; padding: .5rem .8rem; border: 2px dashed #d32f2f; background: #fff4f4; }
.nbx-doc .nbx-blank strong { color: #b71c1c; }
.nbx-doc ul.nbx-checklist { list-style: none; padding-left: .4rem; }
.nbx-doc ul.nbx-checklist li { margin: .3rem 0; }
"""
#: allows nothing but inline styles and data: images
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _esc(text: object) -> str:
    return _html.escape(str(text), quote=True)


def _html_paragraphs(text: str) -> str:
    return "".join(f"<p>{_esc(' '.join(p.split()))}</p>" for p in re.split(r"\n\s*\n", str(text)) if p.strip())


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(6, max(1, block.level))
        return f"<h{level}>{_esc(block.text)}</h{level}>"
    if isinstance(block, Text):
        inner = _html_paragraphs(block.text)
        return f'<blockquote class="nbx-written">{inner}</blockquote>' if block.written else inner
    if isinstance(block, Facts):
        return "<ul>" + "".join(f"<li><strong>{_esc(k)}</strong>: {_esc(v)}</li>" for k, v in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{_esc(c)}</th>" for c in block.columns)
        body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Figure):
        return (f'<figure><img src="{_data_uri(block.png)}" alt="{_esc(block.alt)}">'
                f"<figcaption>{_esc(block.alt)}</figcaption></figure>")
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Checklist):
        return ('<ul class="nbx-checklist">' + "".join(
            f'<li><label><input type="checkbox"> {_esc(i)}</label></li>' for i in block.items) + "</ul>")
    if isinstance(block, Blank):
        return f'<div class="nbx-blank"><strong>✍ {BLANK_MARK}:</strong> {_esc(block.prompt)}</div>'
    raise TypeError(f"not a document block: {type(block).__name__}")


def html_fragment(title: str, sections: list[tuple[str, list[Block]]]) -> str:
    """The document's body as an HTML fragment with its styles (for a notebook's output)."""
    parts = [f"<style>{STYLE}</style>", '<article class="nbx-doc">', f"<h1>{_esc(title)}</h1>"]
    for name, blocks in sections:
        parts.append(f"<section><h2>{_esc(name)}</h2>")
        parts += [_html_block(b) for b in blocks]
        parts.append("</section>")
    parts.append("</article>")
    return "\n".join(parts)


def html(title: str, sections: list[tuple[str, list[Block]]]) -> str:
    """The document as one self-contained HTML file (inline styles, embedded figures, no external request)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_esc(title)}</title>\n</head>\n<body>\n{html_fragment(title, sections)}\n</body>\n</html>\n")


__all__ = ["BLANK_MARK", "Blank", "Block", "Bullets", "Checklist", "Facts", "Figure", "Heading", "Table", "Text",
           "html", "html_fragment", "markdown", "md_text"]
