"""TEMPORARY test helper: a tiny stand-in for ``read_csv`` (being written on another branch) that builds
the Table from a DataFrame; the profile is the real ``compute_profile``. The lead replaces
``frame_from_csv``/``request_for`` with ``read_csv`` + ``Table.to_clean_csv`` at merge.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from shared.analysts.base import AnalysisRequest
from shared.csv_reader import Dialect, Table
from shared.profile import compute_profile


def frame_from_csv(data: bytes | str | Path) -> pd.DataFrame:
    source = Path(data) if isinstance(data, (str, Path)) else None
    frame = pd.read_csv(source) if source else pd.read_csv(__import__("io").BytesIO(data))
    for name in frame.columns:
        if frame[name].dtype == object or str(frame[name].dtype).startswith("str"):
            values = frame[name].dropna().astype(str)
            if len(values) and values.str.match(r"^\d{4}-\d{2}-\d{2}").all():
                frame[name] = pd.to_datetime(frame[name], format="ISO8601")
    return frame


def request_for(
    frame: pd.DataFrame, name: str = "data.csv", questions: str | None = None, sampled: bool = False
) -> AnalysisRequest:
    """An AnalysisRequest as the pipeline would build it, for a DataFrame."""
    data_csv = frame.to_csv(index=False, date_format="%Y-%m-%d").encode()
    table = Table(
        frame=frame,
        dialect=Dialect(encoding="utf-8", delimiter=","),
        raw_bytes=len(data_csv),
        sha256=hashlib.sha256(data_csv).hexdigest(),
    )
    return AnalysisRequest(
        dataset=Path(name).stem,
        source_name=name,
        table=table,
        profile=compute_profile(table),
        data_csv=data_csv,
        questions=questions,
        sampled=sampled,
    )
