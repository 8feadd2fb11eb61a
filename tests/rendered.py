"""Render Markdown the way GitHub does (cmark-gfm: tables, autolinks, strikethrough) and take it apart.

Rendering is done with raw HTML *allowed* (``CMARK_OPT_UNSAFE``), so any HTML that slipped through our
escaping shows up as a real tag here instead of being hidden by the renderer's own filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# What a report may legitimately render to; anything else (script, iframe, div, span ...) was injected.
ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "blockquote",
    "img",
    "a",
}


@dataclass
class Html:
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)  # (h1|h2|h3, text)
    tables: list[list[list[str]]] = field(default_factory=list)  # table → rows → cell texts
    text: str = ""

    def attrs(self, tag: str, name: str) -> list[str]:
        return [a.get(name) or "" for t, a in self.tags if t == tag]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Html()
        self._heading: str | None = None
        self._buf: list[str] = []
        self._cell: list[str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.out.tags.append((tag, dict(attrs)))
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._heading, self._buf = tag, []
        elif tag == "table":
            self.out.tables.append([])
        elif tag == "tr" and self.out.tables:
            self.out.tables[-1].append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == self._heading:
            self.out.headings.append((tag, "".join(self._buf).strip()))
            self._heading = None
        elif tag in {"td", "th"} and self._cell is not None and self.out.tables:
            self.out.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self._text.append(data)
        if self._heading:
            self._buf.append(data)
        if self._cell is not None:
            self._cell.append(data)


def render(markdown: str) -> Html:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = _Parser()
    parser.feed(html)
    parser.close()
    parser.out.text = "".join(parser._text)
    return parser.out


def outside_code(markdown: str) -> str:
    """The Markdown with fenced code blocks and code spans removed (where `<` may legitimately appear)."""
    without_fences = re.sub(r"^(`{3,})[^\n]*\n.*?\n\1$", "", markdown, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", without_fences)
