"""Analyst and alert inputs built exactly as ``shared.pipeline`` builds them.

read_csv with the default Settings' Limits → Table; compute_profile → Profile; AnalysisRequest with
``data_csv = table.to_clean_csv()``. A DataFrame is first written to CSV bytes and read back through
read_csv, so tests see the reader's types (Int64, string, datetime64, boolean), not pandas' defaults.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from shared.analysts.base import AnalysisRequest
from shared.csv_reader import Limits, Table, read_csv
from shared.messages import Source
from shared.naming import dataset_slug
from shared.profile import Profile, compute_profile
from shared.settings import Settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
LIMITS = Limits.from_settings(Settings())

CsvInput = bytes | str | Path | pd.DataFrame


def csv_bytes(data: CsvInput) -> bytes:
    """The bytes of a CSV given as bytes, text, a file path, or a DataFrame (written without its index)."""
    if isinstance(data, pd.DataFrame):
        return data.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if isinstance(data, Path):
        return data.read_bytes()
    if isinstance(data, str):
        return data.encode("utf-8")
    return data


def object_name(data: CsvInput, name: str | None) -> str:
    """The uploaded object's name: ``name``, else a path's own file name, else ``data.csv``."""
    if name is not None:
        return name
    return data.name if isinstance(data, Path) else "data.csv"


def table_of(data: CsvInput, name: str | None = None) -> Table:
    """The Table read_csv makes of ``data`` uploaded as ``name`` (the suffix decides gzip/tsv)."""
    return read_csv(csv_bytes(data), object_name(data, name), LIMITS)


def profile_of(table: Table) -> Profile:
    """The pipeline's deterministic profile of ``table``."""
    return compute_profile(table)


def request_for(
    data: CsvInput, name: str | None = None, questions: str | None = None, sampled: bool = False
) -> AnalysisRequest:
    """The AnalysisRequest the pipeline would send to an analyst for ``data`` uploaded as ``name``."""
    name = object_name(data, name)
    table = table_of(data, name)
    return AnalysisRequest(
        dataset=dataset_slug(name),
        source_name=name,
        table=table,
        profile=compute_profile(table),
        data_csv=table.to_clean_csv(),
        questions=questions,
        sampled=sampled,
    )


def source_of(name: str, generation: str = "1", bucket: str = "input", size: int = 0) -> Source:
    """A Source for the uploaded object ``name``."""
    return Source(bucket=bucket, name=name, generation=generation, size=size)
