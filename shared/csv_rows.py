"""The streaming parse: records out of decoded text, limits checked as each record is read.

Rows with more fields than the header are skipped and reported by line (there is no way to know
which field is the extra one, so nothing is shifted). Rows with fewer fields keep their fields in
place and get missing values at the end, as pandas does (exports often drop trailing empty cells).
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shared.csv_columns import ColumnStore
from shared.csv_dialect import Layout, lines
from shared.errors import InvalidCsvError, LimitExceededError

# csv.field_size_limit is process-wide; the lock keeps two reads from changing it under each other.
_FIELD_LIMIT_LOCK = threading.Lock()
# Rows are held as lists only this many at a time, then moved into per-column lists.
_CHUNK_ROWS = 10_000


@dataclass
class Records:
    header: list[str]
    header_line: int
    header_index: int  # index of the header among parsed records (blank lines count, as in pandas)
    columns: list[ColumnStore | None]  # data cells by column (None: not asked for), rows padded
    row_count: int = 0
    skipped: list[tuple[int, int, str]] = field(default_factory=list)  # (line, record index, reason)
    short_lines: list[int] = field(default_factory=list)
    trailing_delimiters: int = 0  # rows whose one extra field was empty (dropped)


@contextmanager
def cell_limit(max_cell_chars: int) -> Iterator[None]:
    """csv's own field-size check, set to MAX_CELL_CHARS, so a runaway cell stops the parse at once."""
    with _FIELD_LIMIT_LOCK:
        previous = csv.field_size_limit(max_cell_chars)
        try:
            yield
        finally:
            csv.field_size_limit(previous)


def read_records(
    text: str,
    layout: Layout,
    max_columns: int,
    max_cell_chars: int,
    *,
    compact: bool = False,
    only: list[int] | None = None,
) -> Records:
    """Parse ``text`` with ``layout`` (inside ``cell_limit``); raise too_many_columns / cell_too_long early.

    ``compact`` keeps plain-number columns as numbers (see ``csv_columns``); ``only`` keeps just the
    cells of those column positions (a second pass for columns that were compacted too eagerly).
    """
    source = _Lines(text)
    reader = csv.reader(source, delimiter=layout.delimiter)
    records: Records | None = None
    chunk: list[list[str]] = []
    width = 0
    index = -1
    line_before = 0
    start = last_start = 0  # text offsets where the current and the last kept record begin
    try:
        for row in reader:
            index += 1
            first_line = line_before + 1
            line_before = reader.line_num
            start, record_start = source.consumed, start
            if index < layout.preamble_rows or _blank(row):
                continue
            if records is None:
                if len(row) > max_columns:
                    raise LimitExceededError(
                        f"the header has {len(row)} columns, over the {max_columns} limit (MAX_COLUMNS)",
                        code="too_many_columns",
                    )
                records = Records(header=row, header_line=first_line, header_index=index, columns=[])
                wanted = range(len(row)) if only is None else set(only)
                records.columns = [ColumnStore(compact) if j in wanted else None for j in range(len(row))]
                width = len(row)
                continue
            if len(row) == width + 1 and row[-1] == "":
                # a trailing delimiter (some exporters end every row with one): dropping the empty
                # field after it moves nothing
                row.pop()
                records.trailing_delimiters += 1
            if len(row) > width:
                records.skipped.append((first_line, index, f"{len(row)} fields, expected {width}"))
                continue
            if len(row) < width:
                records.short_lines.append(first_line)
                row = row + [""] * (width - len(row))
            if len(chunk) == _CHUNK_ROWS:
                _move(chunk, records)
            chunk.append(row)  # the last kept row stays in ``chunk`` until the end is checked
            last = (first_line, index)
            last_start = record_start
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise LimitExceededError(
                f"a cell on line {reader.line_num} is longer than {max_cell_chars:,} characters "
                "(MAX_CELL_CHARS); an unclosed quote can also cause this",
                code="cell_too_long",
            ) from None
        raise InvalidCsvError(
            f"line {reader.line_num} cannot be parsed as CSV: {err}", code="not_a_table"
        ) from None
    if records is None:
        raise InvalidCsvError("file has no rows (only blank or title lines)", code="empty_file")
    if chunk and last[1] == index and _quote_left_open(text[last_start:], layout.delimiter):
        chunk.pop()
        lines_left = reader.line_num - last[0] + 1
        records.skipped.append(
            (
                last[0],
                last[1],
                f"a quoted field opened here is never closed; the last {lines_left} line(s) were skipped",
            )
        )
    _move(chunk, records)
    return records


class _Lines:
    """``lines(text)`` that also counts the characters handed out (where the next record starts)."""

    def __init__(self, text: str) -> None:
        self._lines = lines(text)
        self.consumed = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.consumed += len(line)
        return line


def _quote_left_open(tail: str, delimiter: str) -> bool:
    """True when the file's last record ends inside a quoted field (csv accepts that silently,
    swallowing everything after the quote; pandas refuses the file)."""
    try:
        for _ in csv.reader(lines(tail), delimiter=delimiter, strict=True):
            pass
    except csv.Error as err:
        return "unexpected end of data" in str(err)
    return False


def _blank(row: list[str]) -> bool:
    """Blank and whitespace-only lines are not rows (pandas skips them too, keeping the loader in step).

    A line holding only ``""`` parses as [''] and, as in pandas, is a row of missing values.
    """
    return not row or (len(row) == 1 and row[0] != "" and not row[0].strip())


def _move(chunk: list[list[str]], records: Records) -> None:
    """Append a chunk of rows to the columns (a C-speed transpose) and free the row lists."""
    if chunk:
        for store, cells in zip(records.columns, zip(*chunk, strict=True), strict=True):
            if store is not None:
                store.add(cells)
        records.row_count += len(chunk)
        chunk.clear()
