"""TEMPORARY test helper: a tiny stand-in for ``compute_profile`` / ``read_csv`` (being written on other
branches), filling the Table and Profile dataclasses from a DataFrame so the local analyst can be tested.
The lead replaces its uses with the real reader and profile at merge.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from shared.analysts.base import AnalysisRequest
from shared.csv_reader import Dialect, Table
from shared.profile import ColumnProfile, Correlation, Profile


def _type_of(series: pd.Series, rows: int) -> str:
    if series.dtype.kind in "b":
        return "boolean"
    if series.dtype.kind in "iuf":
        return "numeric"
    if series.dtype.kind == "M":
        return "datetime"
    values = series.dropna().astype(str)
    if values.empty:
        return "text"
    distinct = values.nunique()
    if distinct == len(values) and rows >= 5 and distinct > 20:
        return "identifier"
    if distinct == len(values) and rows >= 5 and values.str.match(r"^[\w.-]+$").all() and values.str.len().max() <= 20:
        return "identifier"
    if distinct <= max(20, rows // 10):
        return "categorical"
    return "text"


def frame_from_csv(data: bytes | str | Path) -> pd.DataFrame:
    source = Path(data) if isinstance(data, (str, Path)) else None
    frame = pd.read_csv(source) if source else pd.read_csv(__import__("io").BytesIO(data))
    for name in frame.columns:
        if frame[name].dtype == object or str(frame[name].dtype).startswith("str"):
            values = frame[name].dropna().astype(str)
            if len(values) and values.str.match(r"^\d{4}-\d{2}-\d{2}").all():
                frame[name] = pd.to_datetime(frame[name], format="ISO8601")
    return frame


def profile_frame(frame: pd.DataFrame) -> Profile:
    rows = len(frame)
    columns = []
    for name in frame.columns:
        s = frame[name]
        kind = _type_of(s, rows)
        cp = ColumnProfile(name=str(name), type=kind, count=int(s.notna().sum()), missing=int(s.isna().sum()),
                           distinct=int(s.nunique()))
        if kind == "numeric" and cp.count:
            v = s.astype(float)
            q1, q3 = v.quantile(0.25), v.quantile(0.75)
            cp.mean, cp.std, cp.min, cp.max = float(v.mean()), float(v.std()), float(v.min()), float(v.max())
            cp.q1, cp.median, cp.q3 = float(q1), float(v.median()), float(q3)
            cp.outliers = int(((v < q1 - 1.5 * (q3 - q1)) | (v > q3 + 1.5 * (q3 - q1))).sum())
        if kind == "datetime" and cp.count:
            cp.start, cp.end = s.min().isoformat(), s.max().isoformat()
            step = s.dropna().drop_duplicates().sort_values().diff().dropna().min()
            cp.granularity = "day" if step == pd.Timedelta(days=1) else "month" if step and step.days in range(28, 32) else "irregular"
        if kind in ("categorical", "boolean", "text"):
            cp.top_values = [(str(k), int(c)) for k, c in s.value_counts().head(10).items()]
        columns.append(cp)
    numeric = [c.name for c in columns if c.type == "numeric"]
    correlations = []
    if len(numeric) >= 2:
        corr = frame[numeric].corr()
        for i, a in enumerate(numeric):
            for b in numeric[i + 1:]:
                if pd.notna(corr.loc[a, b]):
                    correlations.append(Correlation(a, b, float(corr.loc[a, b])))
        correlations.sort(key=lambda c: -abs(c.r))
    return Profile(rows=rows, duplicate_rows=int(frame.duplicated().sum()), columns=columns, correlations=correlations)


def request_for(frame: pd.DataFrame, name: str = "data.csv", questions: str | None = None,
                sampled: bool = False) -> AnalysisRequest:
    """An AnalysisRequest as the pipeline would build it, for a DataFrame."""
    data_csv = frame.to_csv(index=False, date_format="%Y-%m-%d").encode()
    table = Table(frame=frame, dialect=Dialect(encoding="utf-8", delimiter=","), raw_bytes=len(data_csv),
                  sha256=hashlib.sha256(data_csv).hexdigest())
    return AnalysisRequest(dataset=Path(name).stem, source_name=name, table=table, profile=profile_frame(frame),
                           data_csv=data_csv, questions=questions, sampled=sampled)
