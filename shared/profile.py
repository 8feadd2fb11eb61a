"""The deterministic profile of a table, computed by our own code for every file.

``compute_profile(table)`` is the only entry point. It decides what to compute; the numbers come from
an engine (``shared.profile_engine``) so that a streaming engine can replace the in-memory one for
files larger than memory without any caller changing.

What is computed
- Table: rows, column count, duplicate rows (rows identical to an earlier row).
- Every column: type, count (non-missing), missing, distinct (non-missing distinct values).
- numeric: mean, std (sample, ddof=1), min, q1, median, q3, max (quantiles with linear
  interpolation), outliers = values below q1 - 1.5 IQR or above q3 + 1.5 IQR.
- categorical, boolean, text: top_values, up to 10 (value as text, count), count descending, ties by
  value ascending. Booleans read "true"/"false"; text values are cut to 200 characters.
- datetime: start and end (ISO 8601; a bare date when no value has a time of day) and granularity.
- correlations: Pearson r between numeric columns (not identifiers, not constant), each pair over
  the rows where both are present; pairs with a defined r, strongest |r| first, at most 10.
Numbers that are undefined (NaN, infinite) become None, so ``to_dict()`` is strict JSON.

Column types (the first rule that matches)
1. boolean / datetime: the reader typed the column so.
2. Numeric columns: "identifier" when every value is a whole number, all values are distinct and the
   name looks like an id (id, uuid, guid, key, code, number, no, nr, alone or as a suffix such as
   customer_id, "Order No", customerId); otherwise "numeric".
3. Text columns:
   - "identifier" when all values are distinct and the name looks like an id, or the values look
     like ids: single tokens (letters, digits, _-.:, no spaces) that, when there are no more of
     them than a categorical column may have, also share one length and each hold a digit (UUIDs,
     hashes, codes such as A00123); more of them than that need only be tokens of at most 40
     characters (airport codes, SKUs, user names);
   - "categorical" when distinct <= max(20, 5% of count), unless every value is unique and long
     (mean length above 40 characters: that is free text);
   - "text" otherwise (high cardinality or long free text).
   A text column with no values at all is "categorical" (nothing suggests anything else).

Datetime granularity: g = the lower median of the gaps between consecutive distinct values. year,
quarter, month when g is 365-366, 89-92, 28-31 days; otherwise the largest of week, day, hour, minute,
second that divides g exactly. "irregular" when g fits none, or when fewer than half of the gaps match
g (the same calendar unit, or exactly g for fixed units). None with fewer than two distinct values.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from shared.csv_reader import Table
    from shared.profile_engine import Lengths, ProfileEngine

logger = logging.getLogger(__name__)

TOP_VALUES = 10
TOP_VALUE_CHARS = 200
MAX_CORRELATIONS = 10

COLUMN_TYPES = ("numeric", "categorical", "datetime", "boolean", "text", "identifier")


@dataclass
class ColumnProfile:
    name: str
    type: str  # one of COLUMN_TYPES
    count: int  # non-missing values
    missing: int
    distinct: int
    mean: float | None = None
    std: float | None = None  # sample standard deviation (ddof=1), like pandas
    min: float | None = None
    q1: float | None = None  # quantiles with linear interpolation, like pandas
    median: float | None = None
    q3: float | None = None
    max: float | None = None
    outliers: int | None = None  # values outside [q1 - 1.5 IQR, q3 + 1.5 IQR]
    top_values: list[tuple[str, int]] | None = None  # categorical/boolean/text: up to 10, most frequent
    start: str | None = None  # datetime: ISO first and last
    end: str | None = None
    granularity: str | None = None  # datetime: second|minute|hour|day|week|month|quarter|year|irregular


@dataclass
class Correlation:
    a: str
    b: str
    r: float  # Pearson, pairwise complete observations


@dataclass
class Profile:
    rows: int
    duplicate_rows: int
    columns: list[ColumnProfile]
    correlations: list[Correlation] = field(default_factory=list)  # strongest first, |r| descending

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def of_type(self, kind: str) -> list[ColumnProfile]:
        return [c for c in self.columns if c.type == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "column_count": len(self.columns),
            "duplicate_rows": self.duplicate_rows,
            "columns": [asdict(c) for c in self.columns],
            "correlations": [asdict(c) for c in self.correlations],
        }


def compute_profile(table: Table) -> Profile:
    """Profile ``table``: shape, duplicates, per-column type and statistics, strongest correlations.

    Deterministic: the same table always gives the same profile, independent of any analyst.
    """
    from shared.profile_engine import engine_for  # pandas is heavy; callers that only read profiles skip it

    started = time.perf_counter()
    profile = profile_with(engine_for(table))
    logger.info(
        "profiled %d rows x %d columns in %.3f s",
        profile.rows,
        len(profile.columns),
        time.perf_counter() - started,
    )
    return profile


def profile_with(engine: ProfileEngine) -> Profile:
    """The profile from any engine's answers (the seam a streaming engine plugs into)."""
    columns = [_column_profile(engine, name) for name in engine.columns()]
    return Profile(
        rows=engine.rows(),
        duplicate_rows=engine.duplicate_rows(),
        columns=columns,
        correlations=_correlations(engine, columns),
    )


def _column_profile(engine: ProfileEngine, name: str) -> ColumnProfile:
    counts = engine.counts(name)
    storage = engine.storage(name)
    column = ColumnProfile(
        name=name,
        type=_column_type(engine, name, storage, counts.count, counts.distinct),
        count=counts.count,
        missing=counts.missing,
        distinct=counts.distinct,
    )
    if column.type == "numeric":
        summary = engine.numeric_summary(name)
        if summary is not None:
            column.mean = _finite(summary.mean)
            column.std = _finite(summary.std)
            column.min = _finite(summary.min)
            column.q1 = _finite(summary.q1)
            column.median = _finite(summary.median)
            column.q3 = _finite(summary.q3)
            column.max = _finite(summary.max)
            column.outliers = summary.outliers
    elif column.type in ("categorical", "boolean", "text"):
        column.top_values = [(_clip(value), n) for value, n in engine.top_values(name, TOP_VALUES)]
    elif column.type == "datetime":
        span = engine.time_range(name)
        if span is not None:
            column.start = _iso(span.start, span.all_midnight)
            column.end = _iso(span.end, span.all_midnight)
            column.granularity = granularity(span.gaps_s)
    return column


# id, uuid, ... as the whole name or after a separator (customer_id, "Order No"), case-insensitive
_ID_WORDS = r"(?:id|uuid|guid|key|code|number|no|nr)"
_ID_NAME = re.compile(rf"(?:^|[_\s.\-]){_ID_WORDS}$", re.IGNORECASE)
# camelCase suffix (customerId, orderNo): the capital marks the word boundary
_ID_CAMEL = re.compile(r"[a-z0-9](?:Id|ID|Uuid|UUID|Guid|GUID|Key|Code|Number|No|Nr)$")
# one token: letters, digits and a few separators, no spaces (codes, hashes, UUIDs, IATA codes)
TOKEN_PATTERN = r"[A-Za-z0-9_.:\-]+"
# one token with a digit in it: A00123, 3f2c9a..., 123e4567-e89b-12d3-a456-426614174000
ID_VALUE_PATTERN = r"[A-Za-z0-9_.:\-]*[0-9][A-Za-z0-9_.:\-]*"


def looks_like_id_name(name: str) -> bool:
    """True for column names such as id, customer_id, "Order No", customerId, uuid, key, code."""
    name = name.strip()
    return bool(_ID_NAME.search(name) or _ID_CAMEL.search(name))


def _column_type(engine: ProfileEngine, name: str, storage: str, count: int, distinct: int) -> str:
    if storage in ("boolean", "datetime"):
        return storage
    unique = count > 0 and distinct == count
    if storage == "numeric":
        if unique and looks_like_id_name(name) and engine.integral(name):
            return "identifier"
        return "numeric"
    lengths = engine.lengths(name)
    if lengths is None:
        return "categorical"
    categorical_limit = max(20, 0.05 * count)
    many = distinct > categorical_limit
    if unique and (looks_like_id_name(name) or _values_look_like_ids(engine, name, lengths, many)):
        return "identifier"
    if distinct <= categorical_limit and not (unique and lengths.mean > 40):
        return "categorical"
    return "text"


def _values_look_like_ids(engine: ProfileEngine, name: str, lengths: Lengths, many: bool) -> bool:
    # many unique single words are keys whatever their shape; a few need the look of a code
    if many:
        return lengths.max <= 40 and engine.all_match(name, TOKEN_PATTERN)
    return lengths.min == lengths.max and engine.all_match(name, ID_VALUE_PATTERN)


_DAY = 86_400.0
_CALENDAR_UNITS = (
    ("year", 365 * _DAY, 366 * _DAY),
    ("quarter", 89 * _DAY, 92 * _DAY),
    ("month", 28 * _DAY, 31 * _DAY),
)
_FIXED_UNITS = (("week", 7 * _DAY), ("day", _DAY), ("hour", 3600.0), ("minute", 60.0), ("second", 1.0))


def granularity(gaps_s: np.ndarray) -> str | None:
    """Name the spacing of a datetime column from the gaps (seconds) between its sorted distinct values."""
    import numpy as np

    gaps = np.sort(np.asarray(gaps_s, dtype="float64"))
    if gaps.size == 0:
        return None
    typical = float(gaps[(gaps.size - 1) // 2])  # lower median: a gap that really occurs
    for unit, low, high in _CALENDAR_UNITS:
        if low <= typical <= high:
            matching = np.count_nonzero((gaps >= low) & (gaps <= high))
            return unit if matching * 2 >= gaps.size else "irregular"
    for unit, seconds in _FIXED_UNITS:
        if typical >= seconds and math.fmod(typical, seconds) == 0:
            matching = np.count_nonzero(gaps == typical)
            return unit if matching * 2 >= gaps.size else "irregular"
    return "irregular"


def _correlations(engine: ProfileEngine, columns: list[ColumnProfile]) -> list[Correlation]:
    # a constant column has no defined r; judged by distinct values, as a float std of a constant
    # column can come out a hair above zero
    usable = [c.name for c in columns if c.type == "numeric" and c.distinct > 1 and c.std is not None]
    found = []
    for i, a in enumerate(usable):
        for b in usable[i + 1 :]:
            r = _finite(engine.pearson(a, b))
            if r is not None:
                found.append(Correlation(a=a, b=b, r=r))
    found.sort(key=lambda c: -abs(c.r))  # stable: equal strengths keep column order
    return found[:MAX_CORRELATIONS]


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _clip(text: str) -> str:
    return text if len(text) <= TOP_VALUE_CHARS else text[: TOP_VALUE_CHARS - 1] + "\u2026"


def _iso(moment: Any, date_only: bool) -> str:
    return moment.date().isoformat() if date_only else moment.isoformat()
