"""Shared bits of the CSV reader tests: default limits, fixture paths, running loader code."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from shared.csv_reader import Limits, Table

DATA = Path(__file__).parent / "data" / "csv"
SAMPLES = Path(__file__).parent.parent / "samples"
MiB = 1024 * 1024
LIMITS = Limits(
    max_bytes=512 * MiB, max_decompressed_bytes=2048 * MiB, max_columns=500, max_cell_chars=100_000
)


def run_loader(table: Table, path: Path) -> pd.DataFrame:
    """Execute ``table.loader_code(path)`` in a fresh namespace, with pandas warnings as errors."""
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(table.loader_code(str(path)), namespace)  # noqa: S102 - the code under test
    frame = namespace["df"]
    assert isinstance(frame, pd.DataFrame)
    return frame
