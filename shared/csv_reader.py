"""Reading real-world CSV exports into a typed table.

``read_csv`` is the single entry point. The steps live in small modules: ``csv_source`` (bytes,
limits, gzip), ``csv_encoding`` (text), ``csv_dialect`` (delimiter, title lines, decimal mark),
``csv_rows`` (the streaming parse with ragged-row handling), ``csv_columns`` (compact cell
storage), ``csv_values`` (column types), ``csv_header`` (header or data, column names) and
``csv_loader_code`` (the pandas cell that repeats the read).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from shared.settings import Settings


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_decompressed_bytes: int
    max_columns: int
    max_cell_chars: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_bytes=settings.max_file_bytes,
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_columns=settings.max_columns,
            max_cell_chars=settings.max_cell_chars,
        )


@dataclass(frozen=True)
class Dialect:
    encoding: str  # python codec name, e.g. "utf-8-sig", "utf-16", "cp1252"
    delimiter: str
    decimal: str = "."
    thousands: str | None = None
    has_header: bool = True
    compression: str | None = None  # "gzip" or None


@dataclass(frozen=True)
class SkippedRow:
    line: int  # 1-based physical line number in the decoded file
    reason: str  # e.g. "5 fields, expected 4"


@dataclass(frozen=True)
class Coercion:
    column: str
    kind: str  # numeric | currency | percent | thousands | decimal_comma | datetime | date | boolean
    detail: str  # human sentence, e.g. "removed '$' and ',' from 120 values"
    failed: int = 0  # values that could not be converted and became missing


@dataclass(frozen=True)
class ColumnRecipe:
    """How one column of ``Table.frame`` was made: a converter of ``shared.csv_values`` and its arguments."""

    name: str
    converter: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadSpec:
    """What ``Table.loader_code`` needs to redo the read with pandas on the original file."""

    skiprows: list[int]  # parsed-record indices (blank lines count) of title lines, header, ragged rows
    names: list[str]
    recipes: list[ColumnRecipe]
    missing_tokens: tuple[str, ...]
    drop_extra_fields: bool = False  # rows ended with a trailing delimiter: read only the named columns
    rows: int = 0  # rows the pipeline read, so the loader can say when its own read differs


@dataclass
class Table:
    frame: pd.DataFrame  # typed columns: float64/Int64 numeric, datetime64, boolean, string
    dialect: Dialect
    raw_bytes: int
    sha256: str
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    coercions: list[Coercion] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)  # new name -> original header text
    warnings: list[str] = field(default_factory=list)
    read_spec: ReadSpec | None = field(default=None, repr=False)

    def to_clean_csv(self) -> bytes:
        """The table as UTF-8 CSV: comma, header, ISO dates, plain numbers (what analyst code reads).

        Text cells that a spreadsheet would run as a formula (starting with = + - @ tab CR) get a
        leading apostrophe (``shared.spreadsheet.neutralize``); numbers, dates and flags are typed
        columns and never altered.
        """
        import pandas as pd

        from shared.spreadsheet import FORMULA_STARTS, neutralize

        frame = self.frame.copy()
        for name in frame.columns:
            column = frame[name]
            if isinstance(column.dtype, pd.StringDtype):
                risky = column.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
                if risky.any():
                    frame[name] = column.where(~risky, column[risky].map(neutralize))
        return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")

    def loader_code(self, path: str) -> str:
        """pandas code that rebuilds ``frame`` (as variable ``df``) from the original file at ``path``."""
        from shared.csv_loader_code import render

        if self.read_spec is None:
            raise ValueError("this Table was not made by read_csv, so there is no read to repeat")
        return render(self.dialect, self.read_spec, path)


def read_csv(source: bytes | Path, name: str, limits: Limits) -> Table:
    """Read ``source`` (the object's bytes or a local path). ``name`` decides gzip/tsv by suffix.

    Raises InvalidCsvError / LimitExceededError with a specific, human-readable message.
    """
    # Imported here so that importing the contract stays cheap for modules that only need the types.
    import pandas as pd

    from shared import csv_values
    from shared.csv_dialect import sniff
    from shared.csv_encoding import decode
    from shared.csv_rows import cell_limit, read_records
    from shared.csv_source import load
    from shared.errors import InvalidCsvError

    raw = load(source, name, limits.max_bytes, limits.max_decompressed_bytes)
    if not raw.data:
        raise InvalidCsvError("file is empty (0 bytes)", code="empty_file")
    text, encoding = decode(raw.data)
    raw = raw.without_data()  # the text is all we need now; let the bytes go
    if not _NON_SPACE.search(text):  # (text.strip() would copy the whole text)
        raise InvalidCsvError(
            f"file contains only whitespace ({raw.raw_bytes} bytes), no rows", code="empty_file"
        )
    _refuse_markup(text)
    with cell_limit(limits.max_cell_chars):
        layout = sniff(text, name)
        records = read_records(
            text, layout, limits.max_columns, limits.max_cell_chars, compact=layout.decimal == "."
        )

    def strings_of(positions: list[int]) -> list[list[str]]:
        """The cells of these columns as text, from a second parse (only for compacted columns)."""
        with cell_limit(limits.max_cell_chars):
            again = read_records(text, layout, limits.max_columns, limits.max_cell_chars, only=positions)
        return [again.columns[j].strings() for j in positions]

    _refuse_rowless(records)
    warnings = (
        [f"skipped {layout.preamble_lines} title line(s) above the header"] if layout.preamble_lines else []
    )

    typed = _type_columns(records, layout, strings_of)
    frame = pd.DataFrame({n: p.result for n, p in zip(typed.names, typed.plans, strict=True)})
    coercions = [c for plan in typed.plans for c in plan.coercions]
    warnings += typed.warnings + [w for plan in typed.plans for w in plan.warnings] + _row_warnings(records)

    thousands = None
    if any(c.kind == "thousands" for c in coercions):
        thousands = "." if layout.decimal == "," else ","
    dialect = Dialect(
        encoding=encoding,
        delimiter=layout.delimiter,
        decimal=layout.decimal,
        thousands=thousands,
        has_header=typed.has_header,
        compression=raw.compression,
    )
    first_data = records.header_index + 1 if typed.has_header else records.header_index
    spec = ReadSpec(
        skiprows=list(range(first_data)) + [index for _, index, _ in records.skipped],
        names=typed.names,
        recipes=[
            ColumnRecipe(n, p.converter, dict(p.kwargs))
            for n, p in zip(typed.names, typed.plans, strict=True)
        ],
        missing_tokens=csv_values.MISSING_TOKENS,
        drop_extra_fields=bool(records.trailing_delimiters),
        rows=len(frame),
    )
    return Table(
        frame=frame,
        dialect=dialect,
        raw_bytes=raw.raw_bytes,
        sha256=raw.sha256,
        skipped_rows=[SkippedRow(line, reason) for line, _, reason in records.skipped],
        coercions=coercions,
        renamed_columns=typed.renamed,
        warnings=warnings,
        read_spec=spec,
    )


@dataclass
class _Typed:
    names: list[str]
    plans: list[Any]  # csv_values.Plan, each with its converted column in .result
    renamed: dict[str, str]
    has_header: bool
    warnings: list[str]


def _type_columns(records: Any, layout: Any, strings_of: Callable[[list[int]], list[list[str]]]) -> _Typed:
    """Infer each column's type, decide whether the first line is a header, and name the columns."""
    import pandas as pd

    from shared import csv_values
    from shared.csv_header import header_is_data, unique_names

    dayfirst = layout.decimal == "," or layout.delimiter == ";"  # European conventions travel together
    header = [cell.strip() for cell in records.header]

    def raw_column(cells: list[str]) -> pd.Series:
        column = pd.Series(cells, dtype=object)
        return column.where(~column.isin(csv_values.MISSING_TOKENS), None)

    def typed(columns: list[pd.Series | csv_values.Plan], names: list[str]) -> list[Any]:
        plans = []
        for column, name in zip(columns, names, strict=True):
            if isinstance(column, csv_values.Plan):  # a compacted number column: already typed
                plans.append(column)
                continue
            plan = csv_values.infer(column, name, layout.decimal, dayfirst)
            if plan.result is None:
                plan.result = plan.apply(column)
            plans.append(plan)
        return plans

    stores = records.columns
    demoted = [j for j, store in enumerate(stores) if store.state == "demoted"]
    redone = dict(zip(demoted, strings_of(demoted), strict=True)) if demoted else {}
    columns: list[Any] = []
    for j, store in enumerate(stores):
        if store.state == "numeric":
            kwargs = {"decimal": layout.decimal, "integer": store.integer}
            columns.append(csv_values.Plan("to_number", kwargs, result=store.numbers()))
        else:
            columns.append(raw_column(redone.pop(j) if j in redone else store.strings()))
    records.columns = []
    plans = typed(columns, [h or f"column_{i}" for i, h in enumerate(header, 1)])
    warnings = []
    if len(header) == 1:
        warnings.append(
            "found a single column; if the file uses a delimiter other than ',' ';' tab or '|' "
            "(spaces, for example), it was not recognised"
        )
    if not header_is_data(header, plans):
        names, renamed = unique_names(header)
        if renamed:
            shown = ", ".join(f"{new!r} (was {old!r})" for new, old in renamed.items())
            warnings.append(f"renamed empty or duplicate column names: {shown}")
        return _Typed(names, plans, renamed, True, warnings)
    compacted = [j for j, c in enumerate(columns) if isinstance(c, csv_values.Plan)]
    for j, cells in zip(compacted, strings_of(compacted) if compacted else [], strict=True):
        columns[j] = raw_column(cells)  # the header row joins the data, so type these from text again
    first = raw_column(records.header)
    columns = [pd.concat([first.iloc[[i]], c], ignore_index=True) for i, c in enumerate(columns)]
    names = [f"column_{i}" for i in range(1, len(columns) + 1)]
    warnings.append(
        f"the first line looks like data, not a header; columns are named column_1..column_{len(names)}"
    )
    return _Typed(names, typed(columns, names), {}, False, warnings)


def _refuse_rowless(records: Any) -> None:
    from shared.errors import InvalidCsvError

    if records.row_count:
        if len(records.header) == 1 and records.columns[0].state == "text":
            _refuse_prose(records.header[0], records.columns[0].peek(200))
        return
    if records.skipped:
        line, _, reason = records.skipped[0]
        raise InvalidCsvError(
            f"no row could be read under the header's {len(records.header)} columns: all "
            f"{len(records.skipped)} rows were skipped (line {line}: {reason}); the delimiter may be wrong",
            code="not_a_table",
        )
    raise InvalidCsvError(
        f"file has a header ({len(records.header)} columns, line {records.header_line}) but no data rows",
        code="header_only",
    )


def _row_warnings(records: Any) -> list[str]:
    warnings = []
    if records.skipped:
        lines = [line for line, _, _ in records.skipped]
        warnings.append(
            f"skipped {len(lines)} row(s) with more fields than the header's {len(records.header)} "
            f"(lines {_some(lines)})"
        )
    if records.trailing_delimiters:
        warnings.append(
            f"{records.trailing_delimiters} row(s) ended with an extra delimiter; the empty field after it "
            "was dropped"
        )
    if records.short_lines:
        warnings.append(
            f"{len(records.short_lines)} row(s) had fewer fields than the header; their last cells are missing "
            f"(lines {_some(records.short_lines)})"
        )
    return warnings


def _some(lines: list[int], shown: int = 10) -> str:
    return ", ".join(map(str, lines[:shown])) + (", ..." if len(lines) > shown else "")


_NON_SPACE = re.compile(r"\S")
_MARKUP = {
    "HTML or XML": re.compile(r"\A\s*<(?:!DOCTYPE|\?xml|!--|[A-Za-z][\w:-]*[\s/>])", re.IGNORECASE),
    # '[id],[name]' is a SQL Server header, so only JSON's own openings count: {"  [{  ["  [[
    "JSON": re.compile(r'\A\s*(?:\{\s*(?:"|$)|\[\s*[\[{"])'),
}


def _refuse_markup(text: str) -> None:
    """Web pages, XML and JSON saved under a .csv name are not tables, whatever they split into."""
    from shared.errors import InvalidCsvError

    head = text[:4096]
    for kind, pattern in _MARKUP.items():
        if pattern.match(head):
            raise InvalidCsvError(f"file looks like {kind}, not a delimited table", code="not_a_table")


def _refuse_prose(header: str, cells: list[str]) -> None:
    """A single 'column' of sentences under a sentence is text saved as .csv, not a table.

    A one-column table of comments under a short header ("comment") is still a table.
    """
    from shared.errors import InvalidCsvError

    def sentence(text: str) -> bool:
        return len(text) > 60 and text.count(" ") >= 8

    cells = cells[:200]
    prose = sum(1 for c in cells if sentence(c))
    if sentence(header) and prose > len(cells) / 2:
        raise InvalidCsvError(
            "file looks like prose, not a table: one column whose lines are long sentences "
            "(no ',', ';', tab or '|' delimiter found)",
            code="not_a_table",
        )
