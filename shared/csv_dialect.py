"""Guessing how a CSV is laid out: delimiter, title lines above the header, decimal separator."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_CHARS = 256 * 1024
MAX_PREAMBLE_ROWS = 10
_SEP_DIRECTIVE = re.compile(r"\A\ufeff?sep=(.)\r?\n")  # Excel's "sep=;" first line
_STRIP_UNITS = re.compile(r"[\s\u00a0\u202f$€£¥₹%]")
_COMMA_DECIMAL = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")
_DOT_DECIMAL = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d+")
_DOT_GROUPING_ONLY = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+")


@dataclass(frozen=True)
class Layout:
    delimiter: str
    preamble_lines: int  # physical lines above the header (title lines, "# source", "sep=;")
    preamble_rows: int  # the same, counted as parsed rows
    expected_fields: int
    decimal: str


def lines(text: str) -> Iterator[str]:
    """Physical lines with their endings, without copying the text into another buffer."""
    newline = "\n" if "\n" in text else "\r"  # old Mac exports end lines with CR only
    start = 0
    size = len(text)
    while start < size:
        end = text.find(newline, start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def sample_of(text: str) -> tuple[str, bool]:
    """The first SAMPLE_CHARS characters cut at a line end, and whether that is the whole text."""
    if len(text) <= SAMPLE_CHARS:
        return text, True
    cut = text.rfind("\n", 0, SAMPLE_CHARS)
    return (text[: cut + 1] if cut > 0 else text[:SAMPLE_CHARS]), False


def sniff(text: str, name: str) -> Layout:
    """Delimiter, preamble and decimal separator from a sample of the text.

    The delimiter is the candidate that splits the most rows into the same number (> 1) of fields;
    ties go to the earlier candidate, except that a ``.tsv`` name prefers tab.
    """
    directive = _SEP_DIRECTIVE.match(text)
    sample, whole = sample_of(text)
    if directive:
        delimiter = directive.group(1)
    else:
        delimiter = _best_delimiter(sample, whole, prefer_tab=_is_tsv(name))
    rows = _rows(sample, delimiter, whole)
    expected = _mode(rows)
    preamble_rows = 0
    preamble_lines = 1 if directive else 0
    reader = csv.reader(lines(sample[directive.end() :] if directive else sample), delimiter=delimiter)
    try:
        for row in reader:
            if preamble_rows >= MAX_PREAMBLE_ROWS or expected <= 1 or not _is_title(row, expected):
                break
            preamble_rows += 1
            preamble_lines = reader.line_num + (1 if directive else 0)
    except csv.Error:
        pass  # the full parse reports what is wrong with the line, with its number
    if directive:
        preamble_rows += 1
    decimal = _decimal(rows, delimiter)
    return Layout(delimiter, preamble_lines, preamble_rows, expected, decimal)


def _is_tsv(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith((".tsv", ".tsv.gz", ".tab"))


def _rows(sample: str, delimiter: str, whole: bool) -> list[list[str]]:
    try:
        rows = [r for r in csv.reader(lines(sample), delimiter=delimiter) if r]
    except csv.Error:
        return []
    if not whole and rows:
        rows.pop()  # the last row of a cut sample may be cut inside a quoted field
    return rows


def _mode(rows: list[list[str]]) -> int:
    counts = Counter(len(r) for r in rows)
    if not counts:
        return 0
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _best_delimiter(sample: str, whole: bool, prefer_tab: bool) -> str:
    best, best_key = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        rows = _rows(sample, delimiter, whole)
        if not rows:
            continue
        fields = _mode(rows)
        if fields <= 1:
            continue
        consistency = sum(len(r) == fields for r in rows) / len(rows)
        key = (consistency, fields)
        if prefer_tab and delimiter == "\t" and consistency >= 0.5:
            return delimiter
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _is_title(row: list[str], expected: int) -> bool:
    """A line above the header: one non-empty field ("# Data source: ...", "Sales report Q1")."""
    return len(row) != expected and sum(1 for cell in row if cell.strip()) <= 1


def _decimal(rows: list[list[str]], delimiter: str) -> str:
    """',' when numbers in a non-comma file are written with a decimal comma more often than a dot."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in rows[1:]:
        for cell in row:
            value = _STRIP_UNITS.sub("", cell)
            if _COMMA_DECIMAL.fullmatch(value):
                comma += 1
            elif _DOT_DECIMAL.fullmatch(value) and not _DOT_GROUPING_ONLY.fullmatch(value):
                dot += 1
    return "," if comma > dot else "."
