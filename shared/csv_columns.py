"""Keeping a column's parsed cells compactly while the file is read.

A parsed cell is a Python string (~60 bytes each), so a table of numbers held as text costs many
times the file's size. Two savings, both exact:

- a column whose every value so far is a plain number ("12", "-3.5", "1e3") keeps float64 values
  instead of strings, the same values ``csv_values.to_number`` would produce from the strings;
- a text column with few distinct values (categories, repeated dates) keeps one string object per
  distinct value.

If a compacted column later meets a value that is not a plain number, it gives up its numbers and
is marked ``demoted``: the reader parses the text again for that column's strings (rare, and
correct by construction because the same parser produces them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.csv_values import MISSING_TOKENS, plain_numbers

_INTERN_LIMIT = 20_000  # distinct strings remembered per column before interning stops paying
_BOOLEAN_DISTINCT = 8  # columns this small may be flags: keep their text for the boolean check


class ColumnStore:
    """The cells of one column, appended a chunk at a time."""

    def __init__(self, compact_numbers: bool) -> None:
        self.state = "new" if compact_numbers else "text"  # new | numeric | text | demoted
        self.integer = True  # numeric: every value so far written as an integer
        self._numbers: list[np.ndarray] = []
        self._strings: list[str] = []
        self._interned: dict[str, str] | None = {}

    def add(self, cells: tuple[str, ...]) -> None:
        if self.state in ("new", "numeric"):
            numbers = chunk_numbers(cells)
            if self.state == "new":
                distinct = len(set(cells))
                self.state = "numeric" if numbers is not None and distinct > _BOOLEAN_DISTINCT else "text"
            elif numbers is None:
                self.state, self._numbers = "demoted", []
            if self.state == "numeric" and numbers is not None:
                values, integer = numbers
                self._numbers.append(values)
                self.integer = self.integer and integer
                return
        if self.state == "text":
            self._add_strings(cells)

    def _add_strings(self, cells: tuple[str, ...]) -> None:
        interned = self._interned
        if interned is None:
            self._strings.extend(cells)
            return
        self._strings.extend([interned.setdefault(c, c) for c in cells])
        if len(interned) > _INTERN_LIMIT:
            self._interned = None

    def peek(self, n: int) -> list[str]:
        return self._strings[:n]

    def strings(self) -> list[str]:
        """The cells as parsed (text columns); hands the list over and forgets it."""
        strings, self._strings = self._strings, []
        return strings

    def numbers(self) -> pd.Series:
        """The values of a numeric column: Int64 when every value was an integer, else float64."""
        values = np.concatenate(self._numbers) if self._numbers else np.array([], dtype="float64")
        self._numbers = []
        series = pd.Series(values, dtype="float64")
        return series.astype("Int64") if self.integer else series


def chunk_numbers(cells: tuple[str, ...]) -> tuple[np.ndarray, bool] | None:
    """(float64 values with NaN for missing cells, all integers?) when every present cell is a plain
    number that ``csv_values`` would keep as a number; else None.

    Mirrors the plain-number path of ``csv_values._as_number``: finite values only, and integers
    with leading zeros or 16+ digits are identifiers, not numbers.
    """
    column = pd.Series(cells, dtype=object)
    missing = column.isin(MISSING_TOKENS).to_numpy()
    present = column[~missing].astype("string")
    parsed = plain_numbers(present)
    if parsed is None:
        return None
    integer = pd.api.types.is_integer_dtype(parsed.dtype) or parsed.empty
    if integer and not parsed.empty:
        zero_led = present[present.str.startswith(("0", "+0", "-0"))]
        if parsed.abs().max() >= 10**15 or zero_led.str.match(r"[+-]?0\d").any():
            return None
    values = np.full(len(column), np.nan)
    values[~missing] = parsed.astype("float64").to_numpy()
    return values, bool(integer)
