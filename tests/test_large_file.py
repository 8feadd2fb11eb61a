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


LATE_VALUES = [
    # (column, value far below the head, whether the SQL converters still type the whole file)
    ("order_date", "2024-03-05T10:30", True),
    ("order_date", " 2024-03-05 10:30:15 ", True),
    ("order_date", "2024-03-05T10:30:15.123456", True),
    ("order_date", "9999-12-31", True),  # outside datetime64[ns]: missing, as the reader makes it
    ("order_date", "2024-03-05T10:30:15Z", False),  # a zone: the reader converts to UTC
    ("order_date", "2024-03-05T10:30:15+02:00", False),
    ("order_date", "2024-3-5", False),
    ("order_date", "2024-02-30", False),
    ("order_date", "2024-03-05 10:30:15 extra", False),
    ("amount", " 2.5 ", True),
    ("amount", "-0", True),
    ("amount", "1e3", True),
    ("amount", "NaN", True),  # a missing-value token
    ("amount", "inf", False),
    ("units", "1e3", True),
    ("units", "2.0", True),
    ("units", "2.5", True),  # the integer column the head saw becomes float64, as the reader makes it
]


def orders_with_late_value(tmp_path, column: str, value: str) -> Path:
    lines = orders_csv(600).splitlines()
    header = lines[0].split(",")
    row = lines[-5].split(",")
    row[header.index(column)] = f'"{value}"'
    lines[-5] = ",".join(row)
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("column", "value", "exact_sql"), LATE_VALUES, ids=lambda v: repr(v))
def test_sql_converters_type_late_values_as_the_reader_does(tmp_path, monkeypatch, column, value, exact_sql):
    path = orders_with_late_value(tmp_path, column, value)
    monkeypatch.setattr(large_file, "HEAD_BYTES", 2000)  # the reader decides the types on ~50 rows
    result = large_file.profile_large_file(path, path.name, LIMITS)
    assert result.exact_sql is exact_sql
    assert_same(as_json(result.profile), as_json(compute_profile(read_csv(path, path.name, LIMITS))))
    if value == "2.5":
        assert str(result.table.frame["units"].dtype) == "float64"
        units = next(r for r in result.table.read_spec.recipes if r.name == "units")
        assert units.kwargs["integer"] is False  # the loader code the report shows reads floats too


@pytest.mark.parametrize(("value", "number"), [("1_000", 1000.0), ("+-5", -5.0)])
def test_duckdb_reads_the_numbers_the_reader_makes_missing(tmp_path, monkeypatch, value, number):
    """The documented difference of the fast load: DuckDB's number parser reads these, pandas' does not."""
    path = orders_with_late_value(tmp_path, "amount", value)
    monkeypatch.setattr(large_file, "HEAD_BYTES", 2000)
    result = large_file.profile_large_file(path, path.name, LIMITS)
    ours = result.profile.column("amount")
    reader = compute_profile(read_csv(path, path.name, LIMITS)).column("amount")
    assert result.exact_sql
    assert (ours.count, ours.missing) == (reader.count + 1, reader.missing - 1)
    assert number in (ours.min, ours.max)


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


def test_a_large_file_goes_through_the_pipeline_as_profile_plus_sample(tmp_path, monkeypatch, capsys):
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
    assert any("sample of 500 rows" in w for w in result["warnings"])
    texts = [p.get("text") or "" for s in result["steps"] for p in s["parts"]]
    assert any("representative sample" in t for t in texts)  # the local analyst says so in the report
    expected = compute_profile(read_csv(data, data.name, LIMITS))
    assert_same(result["profile"], as_json(expected))
