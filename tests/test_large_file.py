"""Large files: the DuckDB path gives the profile the reader + pandas engine give, in bounded memory.

Big-file behaviour is tested with small thresholds (a tiny head, a tiny LARGE_FILE_BYTES), never big
files; `make bench` measures the real sizes.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from scripts import analyze
from shared import large_file
from shared.analysts.local_code import nice_number
from shared.csv_reader import Limits, read_csv
from shared.errors import TransientError
from shared.profile import compute_profile
from shared.settings import Settings
from shared.stream_feed import ObjectStream
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


def as_stream(path: Path, **kwargs) -> ObjectStream:
    """The file as a cloud object is read: a stream from its start on each open, never a path."""
    return ObjectStream(lambda: ChunkedReader(path.read_bytes(), **kwargs), path.stat().st_size)


class ChunkedReader(io.RawIOBase):
    """Bytes in small reads, optionally failing or ending early after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int | None = None, error: Exception | None = None) -> None:
        self._data, self._pos, self._fail_after, self._error = data, 0, fail_after, error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._fail_after is not None and self._pos >= self._fail_after:
            if self._error is not None:
                raise self._error
            return b""  # cut short without an error
        size = 65536 if size < 0 else min(size, 65536)
        block = self._data[self._pos : self._pos + size]
        self._pos += len(block)
        return block


@pytest.mark.parametrize("streamed", [False, True], ids=["file", "stream"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_duckdb_path_profiles_every_fixture_as_the_reader_and_pandas_do(path, streamed):
    try:
        table = read_csv(path, path.name, LIMITS)
    except Exception:  # files the reader refuses are refused before any profile, on either path
        pytest.skip("the reader refuses this file")
    data = as_stream(path) if streamed else path
    result = large_file.profile_large_file(data, path.name, LIMITS)
    assert_same(as_json(result.profile), as_json(compute_profile(table)), path.name)
    assert list(result.table.frame.columns) == list(table.frame.columns)
    assert [str(t) for t in result.table.frame.dtypes] == [str(t) for t in table.frame.dtypes]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.sha256 == digest if streamed else result.sha256 in (None, digest)  # a local file: if fed


@pytest.mark.parametrize(
    ("error", "code"), [(TransientError("storage read failed: 503"), "transient_error"), (None, "stream_cut")]
)
def test_a_stream_that_fails_midway_raises_instead_of_profiling_a_truncated_file(tmp_path, error, code):
    path = tmp_path / "orders.csv"
    path.write_text(orders_csv(20000))
    threads = threading.active_count()
    stream = as_stream(path, fail_after=200_000, error=error)
    with pytest.raises(TransientError) as raised:
        large_file.profile_large_file(stream, path.name, LIMITS)
    assert raised.value.code == code
    assert threading.active_count() == threads  # the feeding thread ended
    assert not list(tmp_path.glob("stream-*"))


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

@pytest.mark.parametrize("streamed", [False, True], ids=["file", "stream"])
def test_large_gzip_files_are_capped_and_corrupt_ones_refused(tmp_path, monkeypatch, streamed):
    from shared.errors import InvalidCsvError, LimitExceededError

    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress(orders_csv(20000).encode()))
    limits = dataclasses.replace(LIMITS, max_decompressed_bytes=300_000)  # the file inflates to ~700 kB
    with pytest.raises(LimitExceededError) as raised:
        large_file.profile_large_file(as_stream(path) if streamed else path, path.name, limits)
    assert raised.value.code == "decompressed_too_large"

    for corrupt in (path.read_bytes()[: len(path.read_bytes()) // 2], path.read_bytes()[:5000] + b"\x00" * 5000):
        path.write_bytes(corrupt)
        with pytest.raises(InvalidCsvError) as raised:
            large_file.profile_large_file(as_stream(path) if streamed else path, path.name, LIMITS)
        assert raised.value.code == "bad_gzip"
