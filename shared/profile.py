"""The deterministic profile of a table, computed by our own code for every file.

CONTRACT (implementation pending): the dataclasses and to_dict() shape are final.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.csv_reader import Table

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
    raise NotImplementedError
