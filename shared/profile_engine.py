"""Where the profile's numbers come from: the engine seam and the in-memory pandas engine.

``shared.profile`` decides *what* to compute (type rules, which statistics for which type, ordering,
JSON safety); an engine only answers narrow questions about one column or one pair of columns. A
streaming engine (DuckDB over the CSV, for files larger than memory) implements the same
``ProfileEngine`` protocol and ``compute_profile`` stays unchanged for its callers.

Every answer is plain data (ints, floats, strings, numpy arrays of floats) so that engines can be
compared number by number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from shared.csv_reader import Table


@dataclass(frozen=True)
class Counts:
    count: int  # non-missing values
    missing: int
    distinct: int  # distinct non-missing values


@dataclass(frozen=True)
class NumericSummary:
    mean: float
    std: float  # ddof=1; NaN below two values
    min: float
    q1: float
    median: float
    q3: float
    max: float
    outliers: int  # values outside [q1 - 1.5 IQR, q3 + 1.5 IQR]


@dataclass(frozen=True)
class Lengths:
    min: int
    max: int
    mean: float


@dataclass(frozen=True)
class TimeRange:
    start: pd.Timestamp
    end: pd.Timestamp
    all_midnight: bool  # every value is a date without a time of day
    gaps_s: np.ndarray  # seconds between consecutive distinct values, ascending by time


class ProfileEngine(Protocol):
    """The questions ``compute_profile`` asks. Column arguments are column names (unique per table)."""

    def rows(self) -> int: ...

    def duplicate_rows(self) -> int:
        """Rows identical to an earlier row."""
        ...

    def columns(self) -> list[str]: ...

    def storage(self, column: str) -> str:
        """How the reader typed the column: numeric | boolean | datetime | string."""
        ...

    def counts(self, column: str) -> Counts: ...

    def integral(self, column: str) -> bool:
        """True when every non-missing (finite) value of a numeric column is a whole number."""
        ...

    def numeric_summary(self, column: str) -> NumericSummary | None:
        """None when the column has no non-missing value."""
        ...

    def top_values(self, column: str, limit: int) -> list[tuple[str, int]]:
        """Most frequent values as text, count descending, ties by value ascending (code points)."""
        ...

    def lengths(self, column: str) -> Lengths | None:
        """Character lengths of a string column's values; None when all are missing."""
        ...

    def all_match(self, column: str, pattern: str) -> bool:
        """True when every non-missing value of a string column fully matches the regex ``pattern``."""
        ...

    def time_range(self, column: str) -> TimeRange | None:
        """None when the column has no non-missing value."""
        ...

    def pearson(self, a: str, b: str) -> float:
        """Pearson r over rows where both are present; NaN when undefined."""
        ...


class PandasEngine:
    """Answers from an in-memory, typed DataFrame (what ``read_csv`` returns)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        if frame.columns.has_duplicates:
            raise ValueError("column names must be unique")
        self._frame = frame
        # cache on the instance, not the class, so frames are freed with their engine
        self._floats = cache(self._floats_uncached)
        self._value_counts = cache(self._value_counts_uncached)

    def rows(self) -> int:
        return len(self._frame)

    def duplicate_rows(self) -> int:
        if self._frame.shape[1] == 0:
            return 0
        return int(self._frame.duplicated().sum())

    def columns(self) -> list[str]:
        return [str(c) for c in self._frame.columns]

    def storage(self, column: str) -> str:
        dtype = self._frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            return "boolean"
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return "datetime"
        if pd.api.types.is_numeric_dtype(dtype):
            return "numeric"
        return "string"

    def counts(self, column: str) -> Counts:
        series = self._frame[column]
        count = int(series.count())
        return Counts(count=count, missing=len(series) - count, distinct=len(self._value_counts(column)))

    def integral(self, column: str) -> bool:
        if pd.api.types.is_integer_dtype(self._frame[column].dtype):
            return True
        values = self._floats(column)
        values = values[np.isfinite(values)]
        return bool(np.all(values == np.floor(values)))

    def numeric_summary(self, column: str) -> NumericSummary | None:
        values = self._floats(column)
        values = values[~np.isnan(values)]
        if values.size == 0:
            return None
        with np.errstate(invalid="ignore", over="ignore"):  # inf values give NaN, which is the answer
            q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])  # linear interpolation, as pandas
            iqr = q3 - q1
            outliers = int(np.count_nonzero((values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr)))
            std = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
            mean = float(np.mean(values))
        return NumericSummary(
            mean=mean,
            std=std,
            min=float(values.min()),
            q1=float(q1),
            median=float(median),
            q3=float(q3),
            max=float(values.max()),
            outliers=outliers,
        )

    def top_values(self, column: str, limit: int) -> list[tuple[str, int]]:
        counts = self._value_counts(column)
        if counts.empty:
            return []
        threshold = counts.nlargest(limit).iloc[-1]
        # only the candidates go through the tie-breaking sort, a free-text column can have 100k values
        candidates = counts[counts >= threshold]
        pairs = ((_as_text(value), int(n)) for value, n in candidates.items())
        ranked = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
        return ranked[:limit]

    def lengths(self, column: str) -> Lengths | None:
        lengths = self._frame[column].dropna().astype("string").str.len()
        if lengths.empty:
            return None
        return Lengths(min=int(lengths.min()), max=int(lengths.max()), mean=float(lengths.mean()))

    def all_match(self, column: str, pattern: str) -> bool:
        values = self._frame[column].dropna().astype("string")
        return bool(values.str.fullmatch(pattern).all())

    def time_range(self, column: str) -> TimeRange | None:
        series = self._frame[column].dropna()
        if series.empty:
            return None
        instants = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz is not None else series
        distinct = np.unique(instants.to_numpy())
        return TimeRange(
            start=series.min(),
            end=series.max(),
            all_midnight=bool((series == series.dt.normalize()).all()),
            gaps_s=np.diff(distinct) / np.timedelta64(1, "s"),
        )

    def pearson(self, a: str, b: str) -> float:
        x, y = self._floats(a), self._floats(b)
        both = ~(np.isnan(x) | np.isnan(y))
        x, y = x[both], y[both]
        if x.size < 2:
            return float("nan")
        dx, dy = x - x.mean(), y - y.mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            r = float(np.dot(dx, dy) / np.sqrt(np.dot(dx, dx) * np.dot(dy, dy)))
        return float(np.clip(r, -1.0, 1.0)) if np.isfinite(r) else float("nan")

    def _floats_uncached(self, column: str) -> np.ndarray:
        return self._frame[column].to_numpy(dtype="float64", na_value=np.nan)

    def _value_counts_uncached(self, column: str) -> pd.Series:
        return self._frame[column].value_counts(dropna=True, sort=False)


def _as_text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def engine_for(table: Table) -> ProfileEngine:
    """The engine that answers for ``table``: its in-memory frame today.

    A table too large for memory will carry its source instead, and this is the one place that then
    picks a streaming engine.
    """
    return PandasEngine(table.frame)
