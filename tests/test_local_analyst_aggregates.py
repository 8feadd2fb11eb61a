"""The local analyst on a large file works from the aggregates of every row, not from the sample.

The same file is analysed twice: read whole (the cells run pandas on every row of ``data.csv``) and as a
large file (``data.csv`` holds a 50-row sample; the cells read ``aggregates.json``). The machine lines
the cells print, from which every insight sentence is written, must carry the same numbers.
"""

from __future__ import annotations

import ast
import math

import pytest

from shared import large_file
from shared.analysts import local as local_module
from shared.analysts.base import AnalysisRequest, PartKind
from shared.analysts.local import LocalAnalyst
from shared.csv_reader import Limits
from shared.profile import compute_profile
from shared.sandbox import SandboxLimits
from shared.settings import Settings
from tests.pipeline_inputs import table_of
from tests.test_aggregates import SAMPLE, monthly, orders

LIMITS = Limits.from_settings(Settings())
SANDBOX = SandboxLimits(cell_timeout_s=30, total_timeout_s=90)


def analyse(path, large: bool):
    """The local analyst's analysis of the CSV at ``path``, read whole or as a large file."""
    analyst = LocalAnalyst(Settings(), SANDBOX)
    if not large:
        table = table_of(path)
        request = AnalysisRequest("data", path.name, table, compute_profile(table), table.to_clean_csv())
        return analyst.analyze(request)
    result = large_file.profile_large_file(path, path.name, LIMITS, sample_rows=SAMPLE)
    table = result.table
    return analyst.analyze(
        AnalysisRequest(
            "data", path.name, table, result.profile, table.to_clean_csv(), sampled=True, aggregates=result.aggregates
        )
    )


def differences(a, b, path="") -> list[str]:
    """Where two parsed results differ (numbers compared to 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{path}: keys {list(a)} != {list(b)}"] if list(a) != list(b) else []
        return found + [d for k in a if k in b for d in differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        found = [f"{path}: {len(a)} != {len(b)} items"] if len(a) != len(b) else []
        return found + [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.mark.parametrize("make", [lambda: orders(1500), monthly], ids=["orders", "monthly"])
def test_the_cells_print_every_rows_numbers_from_the_aggregates(make, tmp_path, monkeypatch):
    parsed: list[dict] = []
    real = local_module.write_insights
    monkeypatch.setattr(local_module, "write_insights", lambda found: parsed.append(found) or real(found))
    path = tmp_path / "data.csv"
    make().to_csv(path, index=False)
    whole, large = analyse(path, large=False), analyse(path, large=True)
    assert whole.succeeded and large.succeeded and whole.warnings == large.warnings == []
    from_rows, from_aggregates = parsed
    for result in (from_rows, from_aggregates):
        # the profile lists tied values by value, pandas by first occurrence: compare the counts
        for top in result["summary"].pop("top").values():
            top[:] = sorted(count for _, count in top)
    assert set(from_aggregates) == set(from_rows)
    assert differences(from_aggregates, from_rows) == []
    assert large.insights == whole.insights


def test_the_cells_of_a_large_file_read_the_aggregates_and_never_the_rows(tmp_path):
    path = tmp_path / "data.csv"
    orders(600).to_csv(path, index=False)
    large = analyse(path, large=True)
    codes = [p.code for p in large.parts() if p.kind is PartKind.CODE]
    assert 'open("aggregates.json"' in codes[0]
    for code in codes:
        strings = {n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant)}
        assert "data.csv" not in strings and "read_csv" not in code
    texts = [p.text for p in large.steps[0].parts if p.kind is PartKind.TEXT]
    assert "DuckDB computed the aggregates over all 600 rows" in texts[0]
    assert "None of the numbers comes from the 50-row sample" in texts[0]
    assert "every one computed over all 600 rows" in large.steps[2].parts[0].text
    assert len([p for p in large.parts() if p.kind is PartKind.IMAGE]) >= 6
