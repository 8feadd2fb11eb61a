"""Tables and profiles for alert tests, built with plain pandas.

The pipeline's own reader and profiler are written on other branches; these builders produce the same
final dataclasses (shared.csv_reader.Table, shared.profile.Profile) from a DataFrame, computing every
number from the data, so the alert tests do not depend on those branches.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd

from shared.csv_reader import Dialect, Table
from shared.messages import Source
from shared.profile import ColumnProfile, Profile

DATA = Path(__file__).parent / "data" / "alerts"


def table_of(csv: str | Path) -> Table:
    """A Table from CSV text or a path (comma-separated, header row)."""
    raw = Path(csv).read_bytes() if isinstance(csv, Path) else csv.encode()
    frame = pd.read_csv(io.BytesIO(raw))
    return Table(
        frame=frame, dialect=Dialect("utf-8", ","), raw_bytes=len(raw), sha256=hashlib.sha256(raw).hexdigest()
    )


def profile_of(table: Table) -> Profile:
    """The deterministic profile of ``table.frame`` (types, counts, quartiles, IQR outliers)."""
    frame = table.frame
    columns = []
    for name in frame.columns:
        col = frame[name]
        non_null = col.dropna()
        cp = ColumnProfile(
            name=str(name),
            type="text",
            count=int(non_null.size),
            missing=int(col.isna().sum()),
            distinct=int(non_null.nunique()),
        )
        if pd.api.types.is_bool_dtype(col.dtype):
            cp.type = "boolean"
        elif pd.api.types.is_numeric_dtype(col.dtype):
            cp.type = "numeric"
            if non_null.size:
                q1, med, q3 = (float(non_null.quantile(q)) for q in (0.25, 0.5, 0.75))
                iqr = q3 - q1
                cp.mean, cp.min, cp.max = float(non_null.mean()), float(non_null.min()), float(non_null.max())
                cp.std = float(non_null.std()) if non_null.size > 1 else None
                cp.q1, cp.median, cp.q3 = q1, med, q3
                cp.outliers = int(((non_null < q1 - 1.5 * iqr) | (non_null > q3 + 1.5 * iqr)).sum())
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            cp.type = "datetime"
        else:
            cp.type = "identifier" if cp.distinct == cp.count and cp.count > 1 else "categorical"
            cp.top_values = [
                (str(k), int(v)) for k, v in non_null.astype(str).value_counts().head(10).items()
            ]
        columns.append(cp)
    return Profile(rows=len(frame), duplicate_rows=int(frame.duplicated().sum()), columns=columns)


def source_of(name: str, generation: str = "1", bucket: str = "input") -> Source:
    return Source(bucket=bucket, name=name, generation=generation, size=0)
