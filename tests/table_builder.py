"""Tables and profiles for alert tests.

Tables are built with plain pandas (the pipeline's reader is written on another branch), profiles with
the pipeline's own compute_profile, so the rules see the numbers the pipeline computes.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd

from shared.csv_reader import Dialect, Table
from shared.messages import Source
from shared.profile import Profile, compute_profile

DATA = Path(__file__).parent / "data" / "alerts"


def table_of(csv: str | Path) -> Table:
    """A Table from CSV text or a path (comma-separated, header row)."""
    raw = Path(csv).read_bytes() if isinstance(csv, Path) else csv.encode()
    frame = pd.read_csv(io.BytesIO(raw))
    return Table(
        frame=frame, dialect=Dialect("utf-8", ","), raw_bytes=len(raw), sha256=hashlib.sha256(raw).hexdigest()
    )


def profile_of(table: Table) -> Profile:
    """The pipeline's own deterministic profile of ``table``."""
    return compute_profile(table)


def source_of(name: str, generation: str = "1", bucket: str = "input") -> Source:
    return Source(bucket=bucket, name=name, generation=generation, size=0)
