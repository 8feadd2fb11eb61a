"""Reading real-world CSV exports into a typed table.

CONTRACT (implementation pending): see the docstrings; the dataclasses are final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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

    def to_clean_csv(self) -> bytes:
        """The table as UTF-8 CSV: comma, header, ISO dates, plain numbers (what analyst code reads)."""
        raise NotImplementedError

    def loader_code(self, path: str) -> str:
        """pandas code that rebuilds ``frame`` (as variable ``df``) from the original file at ``path``."""
        raise NotImplementedError


def read_csv(source: bytes | Path, name: str, limits: Limits) -> Table:
    """Read ``source`` (the object's bytes or a local path). ``name`` decides gzip/tsv by suffix.

    Raises InvalidCsvError / LimitExceededError with a specific, human-readable message.
    """
    raise NotImplementedError
