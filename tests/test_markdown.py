"""Escaping of untrusted text (shared/markdown.py), checked against GitHub's renderer."""

from __future__ import annotations

import pytest

from shared import markdown as md
from tests.rendered import ALLOWED_TAGS, render

HOSTILE = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "![](http://evil/x.png)",
    "# heading",
    "| a | b |",
    "``` code",
    "line one\nline two\r\n# not a heading",
    "<img src=x onerror=alert(1)>",
    "http://evil.example/path?q=1",
    "www.evil.example",
    "mail me: victim@evil.example",
    "<http://evil.example>",
    "&lt;script&gt;",
    "**bold** _em_ ~~strike~~ $x^2$",
    "- list item",
    "+ list item",
    "1. numbered",
    "2) numbered",
    "> quote",
    "===",
    "[^1]: footnote",
    "\\",
    "tab\there",
    "bidi \u202ereversed\u202c text",
    "nul\x00byte\x1b[31mansi",
    "    indented code",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_the_same_plain_text(text):
    html = render(f"before {md.escape(text)} after")
    assert [t for t, _ in html.tags] == ["p"], html
    # The only change a reader can see is none: a word joiner (invisible) may sit after an "@".
    assert html.text.strip().replace("\u2060", "") == f"before {md.clean_line(text)} after"


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_alone_on_a_line_makes_a_plain_paragraph(text):
    html = render(md.escape(text) + "\n")
    assert {t for t, _ in html.tags} <= {"p"}, html.tags
    assert html.text.replace("\u2060", "").strip() == md.clean_line(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_table_cells_hold_hostile_text_without_adding_rows_or_columns(text):
    table = md.table(["name", "value"], [[md.cell(text), md.cell(text)], [md.cell("ok"), md.cell("2")]])
    html = render(table)
    assert len(html.tables) == 1
    rows = html.tables[0]
    assert len(rows) == 3 and all(len(r) == 2 for r in rows)
    assert rows[1][0].replace("\u2060", "") == md.clean_line(text) or (
        not md.clean_line(text) and rows[1][0] == "–"
    )
    assert rows[2] == ["ok", "2"]
    assert {t for t, _ in html.tags} <= ALLOWED_TAGS - {"a", "img"}


def test_clean_line_drops_control_and_bidi_characters_and_joins_lines():
    assert md.clean_line("a\nb\r\nc\td\x00e\x07f\u202eg\u2066h") == "a b c defgh"


def test_underscores_inside_words_stay_readable():
    assert md.escape("unit_price") == "unit_price"
    assert md.escape("_private_") == "\\_private\\_"
    assert render(md.escape("_em_ and __strong__")).text.strip() == "_em_ and __strong__"


@pytest.mark.parametrize(
    "content",
    ["plain", "has ``` inside", "has ```` four", "```\nclosing fence inside\n```", "~~~\ntilde\n~~~"],
)
def test_code_block_fence_is_longer_than_any_backtick_run_inside(content):
    block = md.code_block(content, "python")
    html = render(block + "\n\n# after")
    assert html.headings == [("h1", "after")]
    assert [t for t, _ in html.tags].count("pre") == 1
    assert content in html.text


def test_code_block_language_is_sanitised():
    assert md.code_block("x", 'python"><script>').startswith("```pythonscript\n")


@pytest.mark.parametrize("content", ["a`b", "`start", "end`", "a``b|c"])
def test_code_span_survives_backticks_and_table_pipes(content):
    html = render(md.table(["h"], [[md.code_span(content, in_table=True)]]))
    assert html.tables[0][1] == [content]


def test_heading_stays_one_heading():
    html = render(md.heading(2, "# one\n## two\n<b>three</b>"))
    assert html.headings == [("h2", "# one ## two <b>three</b>")]


@pytest.mark.parametrize(
    "path,ok",
    [
        ("charts/01-revenue-by-product.png", True),
        ("3f9a1c07d2b84e65/report.md", True),
        ("report.md", True),
        ("http://evil/x.png", False),
        ("//evil/x.png", False),
        ("javascript:alert(1)//x.png", False),
        ("../charts/x.png", False),
        ("charts/../../x.png", False),
        ("/abs/x.png", False),
        ("charts/x y.png", False),
        ("charts/x.png)![](http://evil", False),
        ("charts/x.svg", False),
        ("", False),
    ],
)
def test_only_our_own_relative_paths_are_link_targets(path, ok):
    assert md.safe_target(path) is ok
    if ok and path.endswith(".png"):
        assert md.image("t", path) == f"![t]({path})"
    elif not ok:
        with pytest.raises(ValueError):
            md.image("t", path)
        with pytest.raises(ValueError):
            md.link("t", path)


def test_image_alt_text_cannot_break_out_of_the_image():
    html = render(md.image("x](http://evil/y.png) ![z", "charts/01-a.png"))
    assert html.attrs("img", "src") == ["charts/01-a.png"]
    assert html.attrs("a", "href") == []


def test_prose_keeps_lists_bold_and_code_but_not_structure_or_links():
    text = (
        "### Findings\n"
        'Revenue **grew 12%**; see `df.groupby("region")`.\n'
        "* one [click](javascript:alert(1))\n"
        "* two <b>bold</b> ![x](http://evil/x.png)\n"
        "1. first\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\nprint('<script>')\n```\n"
        "<script>alert(1)</script>\n"
        "---\n"
        "visit www.evil.example or http://evil.example"
    )
    html = render(md.prose(text))
    tags = [t for t, _ in html.tags]
    assert set(tags) <= {"p", "strong", "code", "ul", "ol", "li", "pre"}
    assert html.headings == []
    assert html.tables == []
    assert tags.count("li") == 3 and tags.count("pre") == 1
    assert "Findings" in html.text and "<script>alert(1)</script>" in html.text
    assert "print('<script>')" in html.text


def test_prose_of_empty_text_is_empty():
    assert md.prose("") == ""
    assert md.prose("\n\n  \n") == ""
