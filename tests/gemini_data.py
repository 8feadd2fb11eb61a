"""Test data for the Gemini analyst tests: a small sales table, its profile, a real matplotlib PNG.

compute_profile is written on another branch; the profile here is computed with pandas directly, so the
numbers scripted into Gemini's answers are the table's real numbers.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pandas as pd

from shared.analysts.base import AnalysisRequest
from shared.csv_reader import Dialect, Table
from shared.profile import ColumnProfile, Profile


def sales_frame(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    products = np.array(["widget", "gadget", "doohickey"])
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=rows, freq="D"),
            "product": products[np.arange(rows) % 3],
            "units": rng.integers(1, 20, rows),
            "revenue": np.round(rng.gamma(4.0, 25.0, rows), 2),
        }
    )


def profile_of(df: pd.DataFrame) -> Profile:
    columns = []
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_numeric_dtype(s):
            q1, med, q3 = (float(s.quantile(q)) for q in (0.25, 0.5, 0.75))
            iqr = q3 - q1
            columns.append(
                ColumnProfile(
                    name,
                    "numeric",
                    int(s.count()),
                    int(s.isna().sum()),
                    int(s.nunique()),
                    mean=float(s.mean()),
                    std=float(s.std()),
                    min=float(s.min()),
                    q1=q1,
                    median=med,
                    q3=q3,
                    max=float(s.max()),
                    outliers=int(((s < q1 - 1.5 * iqr) | (s > q3 + 1.5 * iqr)).sum()),
                )
            )
        elif pd.api.types.is_datetime64_any_dtype(s):
            columns.append(
                ColumnProfile(
                    name,
                    "datetime",
                    int(s.count()),
                    int(s.isna().sum()),
                    int(s.nunique()),
                    start=s.min().isoformat(),
                    end=s.max().isoformat(),
                    granularity="day",
                )
            )
        else:
            top = [(str(k), int(v)) for k, v in s.value_counts().head(10).items()]
            columns.append(
                ColumnProfile(
                    name, "categorical", int(s.count()), int(s.isna().sum()), int(s.nunique()), top_values=top
                )
            )
    return Profile(rows=len(df), duplicate_rows=int(df.duplicated().sum()), columns=columns)


def request_for(df: pd.DataFrame, name: str = "sales.csv", questions: str | None = None) -> AnalysisRequest:
    data = df.to_csv(index=False, date_format="%Y-%m-%d").encode()
    table = Table(
        frame=df, dialect=Dialect(encoding="utf-8", delimiter=","), raw_bytes=len(data), sha256="0" * 64
    )
    return AnalysisRequest(
        dataset="sales",
        source_name=name,
        table=table,
        profile=profile_of(df),
        data_csv=data,
        questions=questions,
    )


@cache
def chart_png(title: str = "Revenue distribution") -> bytes:
    """A real PNG drawn by matplotlib (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.hist(sales_frame()["revenue"], bins=10)
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
