"""Seeded random messy files: read_csv returns a table or raises a PipelineError, never anything else."""

from __future__ import annotations

import random

import pytest

from shared.csv_reader import read_csv
from shared.errors import PipelineError
from tests.csv_helpers import LIMITS

ATOMS = [
    "1", "2.5", "-3", "$4", "5%", "1,234", '"a,b"', '"x\ny"', "NA", "", "-", "abc", "2025-01-05", "05/01/2025",
    "Jan 5, 2025", "yes", "no", "0123", " ", '"', '""', "=cmd", "é", "€9", "1.234,5", "1e5", "inf", "true",
    "\t", ";", "|", "\x00", "9999-12-31",
]  # fmt: skip


def _messy_file(rng: random.Random) -> bytes:
    sep = rng.choice([",", ";", "\t", "|"])
    width = rng.randint(1, 5)
    lines = []
    for r in range(rng.randint(0, 30)):
        n = width + (rng.choice([0] * 8 + [-1, 1]) if r else 0)
        lines.append(sep.join(rng.choice(ATOMS) for _ in range(max(n, 0))))
    text = rng.choice(["\n", "\r\n", "\r"]).join(lines) + rng.choice(["", "\n"])
    encoding = rng.choice(["utf-8", "utf-8-sig", "utf-16", "cp1252"])
    return text.encode(encoding, errors="replace")


@pytest.mark.parametrize("seed", range(8))
def test_messy_files_give_a_table_or_a_pipeline_error(seed):
    rng = random.Random(seed)
    tables = errors = 0
    for _ in range(60):
        data = _messy_file(rng)
        try:
            table = read_csv(data, "messy.csv", LIMITS)
        except PipelineError as err:
            assert err.code != "pipeline_error" and err.message
            errors += 1
            continue
        tables += 1
        assert len(table.frame.columns) == len(set(table.frame.columns))
        assert all(1 <= s.line <= data.count(b"\n") + data.count(b"\r") + 1 for s in table.skipped_rows)
        table.to_clean_csv()
    assert tables > 0  # the generator makes mostly readable files; all errors would mean a bug
