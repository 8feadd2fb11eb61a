"""Markdown building blocks that keep untrusted text inert.

Everything that comes from a file or an analyst (headers, cell values, object names, model prose) goes
through one of these before it lands in a report or notebook, so it can never become HTML, a link, an
image, a heading, a list, a table row or a code fence. Only paths we produced ourselves (chart files,
the report a ``latest.md`` points to) become link or image targets, and only after ``safe_target``.

Checked against GitHub's renderer (cmark-gfm with the autolink and table extensions): besides the
CommonMark specials, GFM turns ``http://``, ``www.`` and e-mail addresses in plain text into links, so
those are broken up too.
"""

from __future__ import annotations

import re
import unicodedata

# Punctuation that can make Markdown structure inside a line: emphasis, code, links (no `[`, so no link,
# image or footnote; `(`, `)` and `!` are then inert and stay readable), table pipes, strikethrough,
# GitHub math, headings. `<`, `>` and `&` become entities (a backslash before `<` is not honoured by
# every renderer). `_` between two letters or digits cannot emphasise and stays as it is.
_SPECIALS = set("\\`*[]#|~$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Invisible characters that reorder or hide text (Trojan Source style spoofing).
_INVISIBLE = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0xFEFF)}
# Word joiner: invisible, and not a character an e-mail autolink accepts, so `a@b.com` stays text.
_WORD_JOINER = "\u2060"
_SAFE_TARGET = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:png|md)$")
_LIST_START = re.compile(r"^(\d{1,9})([.)])")


def clean_line(text: object) -> str:
    """One line of plain text: control and bidi characters removed, runs of whitespace collapsed."""
    out = []
    for ch in str(text):
        if ch in _INVISIBLE:
            continue
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f" or cat in {"Zl", "Zp"}:
            out.append(" ")
        elif cat != "Cc":
            out.append(ch)
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def escape(text: object) -> str:
    """Inline text safe anywhere in a Markdown line: no structure, HTML, links or autolinks."""
    return _escape_chars(clean_line(text), line_start=True)


def _escape_chars(line: str, *, line_start: bool) -> str:
    out: list[str] = []
    n = len(line)
    for i, ch in enumerate(line):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _SPECIALS:
            out.append("\\" + ch)
        elif ch == "_":
            inside_word = 0 < i < n - 1 and line[i - 1].isalnum() and line[i + 1].isalnum()
            out.append("_" if inside_word else "\\_")
        elif ch == ":" and line.startswith("//", i + 1):
            out.append("\\:")  # breaks GFM's http:// autolink
        elif ch == "." and i >= 3 and line[i - 3 : i].lower() == "www":
            out.append("\\.")  # breaks GFM's www. autolink
        elif ch == "@" and i + 1 < n and line[i + 1].isalnum():
            out.append("@" + _WORD_JOINER)  # breaks GFM's e-mail autolink
        else:
            out.append(ch)
    escaped = "".join(out)
    if not line_start:
        return escaped
    # Block markers only count at the start of a line; text may start one (a bullet, a table cell).
    if escaped[:1] in {"-", "+", "="}:
        escaped = "\\" + escaped
    escaped = _LIST_START.sub(r"\1\\\2", escaped)
    return escaped


def cell(text: object) -> str:
    """Text for a table cell (one line, pipes escaped); empty values render as an en dash."""
    value = escape(text)
    return value if value else "–"


def code_span(text: object, *, in_table: bool = False) -> str:
    """Inline code: literal text on one line, delimited by a backtick run longer than any inside it."""
    line = clean_line(text)
    if not line:
        return ""
    run = max((len(m) for m in re.findall(r"`+", line)), default=0) + 1
    fence = "`" * run
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    body = line.replace("|", "\\|") if in_table else line
    return f"{fence}{pad}{body}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside, so content cannot close it."""
    body = _strip_controls_keep_lines(text).rstrip("\n")
    run = max((len(m) for m in re.findall(r"`{3,}", body)), default=2) + 1
    fence = "`" * max(3, run)
    lang = re.sub(r"[^a-z0-9_+-]", "", language.lower())[:20]
    return f"{fence}{lang}\n{body}\n{fence}"


def heading(level: int, text: object) -> str:
    """A heading on one line; the text cannot add a second heading or close this one early."""
    return f"{'#' * level} {escape(text) or 'Untitled'}"


def safe_target(path: str) -> bool:
    """True for a relative path we generated (chart PNG or report): no scheme, no '..', no odd chars."""
    return bool(_SAFE_TARGET.match(path)) and ".." not in path.split("/")


def image(alt: object, path: str) -> str:
    """An embedded image of one of our own files; ValueError for any other target."""
    if not safe_target(path) or not path.endswith(".png"):
        raise ValueError(f"refusing to embed a non-chart path: {path!r}")
    return f"![{escape(alt)}]({path})"


def link(text: object, path: str) -> str:
    """A link to one of our own files; ValueError for any other target."""
    if not safe_target(path):
        raise ValueError(f"refusing to link a non-report path: {path!r}")
    return f"[{escape(text)}]({path})"


def table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    """A GFM table from already-escaped cells (use ``cell``/``code_span(in_table=True)``)."""
    align = align or ["l"] * len(header)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# --- prose: model-written text keeps a little formatting, never structure that could inject --------

_BOLD = re.compile(r"\\\*\\\*(?=\S)(.+?)(?<=\S)\\\*\\\*")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BULLET = re.compile(r"^\s*(?:[-*+]|(\d{1,3})[.)])\s+(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)")


def inline_prose(text: object) -> str:
    """One line of model prose: ``**bold**`` and `code` survive, everything else is escaped."""
    line = clean_line(text)
    pieces: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(line):
        pieces.append(_BOLD.sub(r"**\1**", _escape_chars(line[pos : m.start()], line_start=pos == 0)))
        pieces.append(code_span(m.group(1)))
        pos = m.end()
    pieces.append(_BOLD.sub(r"**\1**", _escape_chars(line[pos:], line_start=pos == 0)))
    return "".join(pieces)


def prose(text: str) -> str:
    """Model-written Markdown made safe: paragraphs, bullet and numbered lists, bold, inline code and
    fenced code survive; headings become bold lines; HTML, links, images, tables and rules become text."""
    lines = _strip_controls_keep_lines(text).split("\n")
    blocks: list[str] = []
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            blocks.append("\n".join(para))
            para.clear()

    while i < len(lines):
        raw = lines[i]
        fence = _FENCE.match(raw)
        if fence:
            flush()
            marker = fence.group(1)
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            blocks.append(code_block("\n".join(body), fence.group(2)))
            i += 1
            continue
        if not raw.strip():
            flush()
        elif m := _HEADING.match(raw):
            flush()
            blocks.append(f"**{inline_prose(m.group(1))}**" if m.group(1).strip() else "")
        elif m := _BULLET.match(raw):
            if para and not _is_item(para[-1]):
                flush()
            marker = f"{m.group(1)}." if m.group(1) else "-"
            para.append(f"{marker} {inline_prose(m.group(2))}")
        else:
            para.append(inline_prose(raw))
        i += 1
    flush()
    return "\n\n".join(b for b in blocks if b)


def _is_item(line: str) -> bool:
    return line.startswith("- ") or bool(re.match(r"^\d{1,3}\. ", line))


def _strip_controls_keep_lines(text: str) -> str:
    """Text with newlines kept (CRLF normalised) and other control/bidi characters removed."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE)
    ).expandtabs(4)
