"""Large files: the DuckDB path gives the profile the reader + pandas engine give, in bounded memory.

Big-file behaviour is tested with small thresholds (a tiny head, a tiny LARGE_FILE_BYTES), never big
files; `make bench` measures the real sizes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scripts import analyze
from shared import large_file
from shared.analysts.local_code import nice_number
from shared.csv_reader import Limits, read_csv
from shared.profile import compute_profile
from shared.settings import Settings
from tests.test_profile import assert_same

REPO = Path(__file__).resolve().parent.parent
FILES = sorted(
    p
    for p in [*(REPO / "samples").glob("*.csv"), *(REPO / "tests" / "data" / "csv").iterdir()]
    if p.suffix != ".py"
)
LIMITS = Limits.from_settings(Settings())


def as_json(profile) -> dict:
    return json.loads(json.dumps(profile.to_dict(), allow_nan=False))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_duckdb_path_profiles_every_fixture_as_the_reader_and_pandas_do(path):
    try:
        table = read_csv(path, path.name, LIMITS)
    except Exception:  # files the reader refuses are refused before any profile, on either path
        pytest.skip("the reader refuses this file")
    result = large_file.profile_large_file(path, path.name, LIMITS)
    assert_same(as_json(result.profile), as_json(compute_profile(table)), path.name)
    assert list(result.table.frame.columns) == list(table.frame.columns)
    assert [str(t) for t in result.table.frame.dtypes] == [str(t) for t in table.frame.dtypes]


def orders_csv(rows: int, *, late_currency: bool = False) -> str:
    lines = ["order_date,region,amount,units,paid"]
    for i in range(rows):
        amount = f"{(i * 37) % 1000 / 10:.2f}"
        if late_currency and i == rows - 3:
            amount = "$1234.50"  # far below the head the reader sees: needs the reader's converter
        day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
        lines.append(f"{day},{['north', 'south', 'east'][i % 3]},{amount},{i % 7},{'yes' if i % 2 else 'no'}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("late_currency", [False, True])
def test_types_decided_on_the_head_hold_for_the_whole_file(tmp_path, monkeypatch, late_currency):
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(3000, late_currency=late_currency))
    monkeypatch.setattr(large_file, "HEAD_BYTES", 2000)  # the reader sees ~50 of 3000 rows
    result = large_file.profile_large_file(path, path.name, LIMITS)
    expected = compute_profile(read_csv(path, path.name, LIMITS))
    assert result.exact_sql is not late_currency  # a currency sign sends the load to the reader's converters
    assert_same(as_json(result.profile), as_json(expected))
    assert expected.column("amount").max == 1234.5 if late_currency else True


def test_the_sample_is_bounded_deterministic_in_file_order_and_named_in_a_warning(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(5000))
    first = large_file.profile_large_file(path, path.name, LIMITS, sample_rows=300)
    again = large_file.profile_large_file(path, path.name, LIMITS, sample_rows=300)
    frame = first.table.frame
    assert len(frame) == first.sample_rows == 300 and first.profile.rows == 5000
    pd.testing.assert_frame_equal(frame, again.table.frame)
    full = read_csv(path, path.name, LIMITS).frame
    # every sampled row is a row of the file, and they come in file order
    keys = full.astype(str).agg("|".join, axis=1)
    positions = [keys[keys == k].index[0] for k in frame.astype(str).agg("|".join, axis=1)]
    assert positions == sorted(positions)
    assert any("sample of 300 rows" in w and "5,000 rows" in w for w in first.table.warnings)
    assert first.table.read_spec.rows == 5000


def test_a_large_file_is_analysed_from_aggregates_of_every_row_not_the_sample(tmp_path, monkeypatch, capsys):
    data = tmp_path / "orders.csv"
    data.write_text(orders_csv(4000))
    monkeypatch.setenv("LARGE_FILE_BYTES", "10000")
    monkeypatch.setenv("ANALYST", "local")
    monkeypatch.setattr(large_file, "SAMPLE_ROWS", 500)
    assert analyze.main([str(data), "--out", str(tmp_path / "out")]) == 0
    (result_path,) = (tmp_path / "out").rglob("analysis.json")
    result = json.loads(result_path.read_text())
    assert result["status"] == "succeeded", result.get("error")
    assert result["profile"]["rows"] == result["dataset"]["rows"] == 4000
    assert any("sample of 500 rows" in w and "aggregates" in w and "cover every row" in w for w in result["warnings"])
    assert result["timings"]["aggregates_s"] > 0
    expected = compute_profile(read_csv(data, data.name, LIMITS))
    assert_same(result["profile"], as_json(expected))

    # the totals per region in the report are every row's, and the sample's would read differently
    full = read_csv(data, data.name, LIMITS).frame
    totals = full.groupby("region")["amount"].sum()
    sample = large_file.profile_large_file(data, data.name, LIMITS, sample_rows=500, aggregates=False).table.frame
    sample_totals = sample.groupby("region")["amount"].sum()
    assert nice_number(sample_totals["north"]) != nice_number(totals["north"])
    (groups,) = [s for s in result["insights"] if s.startswith("Totals by region")]
    shares = totals / totals.sum() * 100
    listed = ", ".join(
        f"{region} {nice_number(total)} ({shares[region]:.1f}%)"
        for region, total in totals.sort_values(ascending=False).items()
    )
    assert f"amount {listed};" in groups
    report = (result_path.parent / "report.md").read_text()
    assert groups in report

    # the cells read the aggregates, never the rows; the charts exist
    codes = [p["code"] for s in result["steps"] for p in s["parts"] if p["kind"] == "code"]
    assert 'open("aggregates.json"' in codes[0] and not any("read_csv" in c for c in codes)
    charts = sorted((result_path.parent / "charts").glob("*.png"))
    assert len(charts) >= 6 and all(c.read_bytes().startswith(b"\x89PNG") for c in charts)
    # and the report says what covers every row and what the sample was for
    assert "DuckDB computed the aggregates over all 4,000 rows" in report
    assert "None of the numbers comes from the 500-row sample" in report
    assert "The cells read `aggregates.json`" in report
    notebook = json.loads((result_path.parent / "analysis.ipynb").read_text())
    assert "do not re-run as they are" in "".join(notebook["cells"][0]["source"])
