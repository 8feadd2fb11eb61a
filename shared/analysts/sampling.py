"""A representative, deterministic sample of a clean CSV that fits a byte budget.

Files over the prompt budget go to Gemini as the deterministic profile (every row) plus this sample:
the first rows (so the model sees the file's start and order) and rows drawn uniformly at random with a
fixed seed (reservoir sampling, one streaming pass), written back in file order.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

HEAD_ROWS = 20


@dataclass(frozen=True)
class Sample:
    csv: bytes
    rows: int  # data rows in the sample (header excluded)
    total_rows: int  # data rows in the file


def representative_sample(data_csv: bytes, budget: int, *, seed: int = 0) -> Sample:
    """At most ``budget`` bytes of ``data_csv`` (UTF-8 CSV with a header): head + random rows."""
    newlines = data_csv.count(b"\n") or 1
    avg_row = max(1.0, len(data_csv) / newlines)
    target = max(HEAD_ROWS + 1, int(budget / avg_row * 0.95))
    rng = random.Random(seed)

    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data_csv), encoding="utf-8", newline=""))
    header = next(reader, None)
    if header is None:
        return Sample(b"", 0, 0)
    head: list[tuple[int, list[str]]] = []
    reservoir: list[tuple[int, list[str]]] = []
    k = max(1, target - HEAD_ROWS)
    seen = 0
    for index, row in enumerate(reader):
        if index < HEAD_ROWS:
            head.append((index, row))
            continue
        seen += 1
        if len(reservoir) < k:
            reservoir.append((index, row))
        else:
            j = rng.randrange(seen)
            if j < k:
                reservoir[j] = (index, row)
    total = len(head) + seen

    chosen = reservoir
    while True:
        encoded = _write(header, sorted(head + chosen))
        if len(encoded) <= budget or not chosen:
            break
        # Dropping a random subset of a uniform sample keeps it uniform.
        keep = int(len(chosen) * min(0.9, budget / len(encoded)))
        chosen = rng.sample(chosen, keep)
    while len(encoded) > budget and head:  # a budget smaller than the head itself
        head = head[:-1]
        encoded = _write(header, head)
    return Sample(encoded, len(head) + len(chosen), total)


def _write(header: list[str], rows: list[tuple[int, list[str]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(row for _, row in rows)
    return out.getvalue().encode("utf-8")
