"""Synthetic CSVs of a given size for `make bench`: a date column, 2 categorical, 10 numeric.

The shape of the issue's reference benchmark. Written in blocks with numpy (a 1 GB file in seconds),
seeded, so the same size gives the same file every time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BLOCK_ROWS = 200_000
REGIONS = np.array(["north", "south", "east", "west", "central"])
CHANNELS = np.array(["web", "store", "phone", "partner"])


def write_synthetic_in_subprocess(path: Path, target_bytes: int) -> Path:
    """The same, in a child process: the caller's RSS stays small (children inherit its peak RSS figure)."""
    import subprocess
    import sys

    code = f"from pathlib import Path; from scripts.bench_data import write_synthetic; write_synthetic(Path({str(path)!r}), {target_bytes})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
    return path


def write_synthetic(path: Path, target_bytes: int, seed: int = 1) -> Path:
    """Write at least ``target_bytes`` of CSV to ``path`` (skipped if it already has that size)."""
    if path.exists() and path.stat().st_size >= target_bytes:
        return path
    rng = np.random.default_rng(seed)
    start = np.datetime64("2020-01-01")
    written, row = 0, 0
    with path.open("w", encoding="utf-8", newline="") as out:
        header = "date,region,channel," + ",".join(f"m{i}" for i in range(10)) + "\n"
        out.write(header)
        written += len(header)
        while written < target_bytes:
            n = int(min(BLOCK_ROWS, max(1000, (target_bytes - written) / 88)))  # ~88 bytes a row
            days = (start + ((row + np.arange(n)) // 5000).astype("timedelta64[D]")).astype(str)
            columns = [days, REGIONS[rng.integers(0, len(REGIONS), n)], CHANNELS[rng.integers(0, len(CHANNELS), n)]]
            base = rng.normal(size=n)
            for i in range(10):
                values = base * (i % 3) + rng.normal(loc=100 * i, scale=10 + i, size=n)
                if i % 4 == 3:
                    values = np.round(values).astype(np.int64).astype(str)
                else:
                    values = np.char.mod("%.3f", values)
                if i == 5:  # some missing values
                    values = np.where(rng.random(n) < 0.02, "", values)
                columns.append(values)
            lines = columns[0]
            for column in columns[1:]:
                lines = np.char.add(np.char.add(lines, ","), column)
            block = "\n".join(lines.tolist()) + "\n"
            out.write(block)
            written += len(block.encode())
            row += n
    return path
