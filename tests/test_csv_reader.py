"""read_csv on small fixture files that each pin one trait of real exports (tests/data/csv)."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import pytest

from shared.csv_reader import SkippedRow, read_csv
from tests.csv_helpers import DATA, LIMITS, run_loader

NA = pd.NA


def read(name: str):
    return read_csv(DATA / name, name, LIMITS)


def values(table, column):
    """A column as plain Python values with missing as None (so lists compare simply)."""
    return [None if pd.isna(v) else v for v in table.frame[column].tolist()]


def dates(*texts):
    return [datetime.fromisoformat(t) for t in texts]


# (file, dialect fields, {column: dtype}, {column: values})
CASES = [
    (
        "utf8_bom_crlf.csv",
        {"encoding": "utf-8-sig", "delimiter": ","},
        {"name": "string", "amount": "Int64", "joined": "datetime64[ns]"},
        {
            "name": ["Zoë", "José", "Åsa"],
            "amount": [1, 2, 3],
            "joined": dates("2025-01-05", "2025-01-06", "2025-01-07"),
        },
    ),
    (
        "utf16_bom_semicolon.csv",
        {"encoding": "utf-16", "delimiter": ";", "decimal": ","},
        {"city": "string", "temp": "float64", "when": "datetime64[ns]"},
        {
            "city": ["München", "Köln", "Zürich"],
            "temp": [3.5, 4.25, -1.75],
            "when": dates("2025-01-05", "2025-01-06", "2025-01-13"),
        },
    ),
    (
        "utf16le_no_bom.csv",
        {"encoding": "utf-16-le"},
        {"name": "string", "amount": "Int64"},
        {"name": ["Zoë", "José"], "amount": [1, 2]},
    ),
    ("blank_and_space_lines.csv", {}, {"a": "Int64", "b": "Int64"}, {"a": [1, 3, 5], "b": [2, 4, 6]}),
    (
        "cp1252.csv",
        {"encoding": "cp1252"},
        {"name": "string", "price": "float64"},
        {"name": ["Café", "Crème brûlée", "Naïve “quote”"], "price": [12.0, 8.5, 3.0]},
    ),
    (
        "semicolon_decimal_comma.csv",
        {"delimiter": ";", "decimal": ",", "thousands": "."},
        {"Datum": "datetime64[ns]", "Umsatz": "float64", "Anteil": "float64", "Menge": "Int64"},
        {
            "Datum": dates("2025-01-05", "2025-01-06", "2025-01-13"),
            "Umsatz": [1234.5, 987.0, 12000.75],
            "Anteil": [12.5, 7.25, 80.25],
            "Menge": [1200, 950, 2050],
        },
    ),
    (
        "tab.tsv",
        {"delimiter": "\t"},
        {"region": "string", "sales": "Int64", "share": "float64"},
        {"sales": [1200, 900, 900], "share": [0.4, 0.3, 0.3]},
    ),
    (
        "pipe.csv",
        {"delimiter": "|"},
        {"id": "Int64", "name": "string", "score": "float64"},
        {"score": [9.5, 7.25, 8.0]},
    ),
    (
        "quoted_newlines.csv",
        {"delimiter": ","},
        {"id": "Int64", "comment": "string", "amount": "Int64"},
        {"comment": ["hello, world", "line one\nline two", 'she said "hi"'], "amount": [5, 6, 7]},
    ),
    (
        "no_header.csv",
        {"has_header": False},
        {"column_1": "datetime64[ns]", "column_2": "Int64", "column_3": "float64"},
        {"column_2": [10, 12, 9, 15], "column_3": [3.5, 4.0, 2.75, 5.5]},
    ),
    (
        "money.csv",
        {"thousands": ","},
        {"item": "string", "price": "float64", "growth": "float64", "units": "Int64", "fee": "float64"},
        {
            "price": [1234.56, 99.99, 10000.0, 5.0],
            "growth": [12.5, -3.0, 0.5, 100.0],
            "units": [1200, 850, 12000, 1],
            "fee": [12.0, 7.5, None, 3.0],
        },
    ),
    (
        "dates.csv",
        {},
        dict.fromkeys(["dmy", "mdy", "text_date", "abbrev", "stamp", "iso_z", "ambiguous"], "datetime64[ns]"),
        {
            "dmy": dates("2025-01-13", "2025-02-02", "2024-12-28"),
            "mdy": dates("2025-01-13", "2025-02-02", "2024-12-28"),
            "text_date": dates("2025-01-05", "2025-02-17", "2024-12-28"),
            "abbrev": dates("2025-01-05", "2025-02-17", "2024-12-28"),
            "stamp": dates("2025-01-05 14:30:00", "2025-02-17 08:05:10", "2024-12-28 23:59:59"),
            # offsets are converted to UTC: 08:05:10+01:00 is 07:05:10Z
            "iso_z": dates("2025-01-05 14:30:00", "2025-02-17 07:05:10", "2024-12-28 23:59:59"),
            "ambiguous": dates("2025-01-02", "2025-03-04", "2025-05-06"),
        },
    ),
    ("month_names.csv", {}, {"Month": "string", "Revenue": "Int64"}, {"Month": ["Jan", "Feb", "Mar", "Apr"]}),
    (
        "booleans.csv",
        {},
        {"active": "boolean", "is_member": "boolean", "answer": "boolean", "code": "Int64", "yn": "boolean"},
        {
            "active": [True, False, True, None],
            "is_member": [True, False, True, False],
            "answer": [True, False, True, None],
            "code": [1, 0, 1, 0],
            "yn": [True, False, False, True],
        },
    ),
    ("title_lines.csv", {}, {"date": "datetime64[ns]", "amount": "Int64"}, {"amount": [10, 20]}),
    ("cr_only.csv", {}, {"x": "Int64", "y": "Int64"}, {"x": [1, 3, 5], "y": [2, 4, 6]}),
    (
        "excel_sep.csv",
        {"delimiter": ";", "decimal": ","},
        {"a": "float64", "b": "float64"},
        {"a": [1.5, 3.0], "b": [2.0, 4.25]},
    ),
    (
        "missing_tokens.csv",
        {},
        {"label": "string", "value": "float64", "note": "string"},
        {"value": [1.5, None, None, None, 2.5, None], "note": [None, None, None, "ok", None, "-"]},
    ),
    (
        "identifiers.csv",
        {},
        {"zip": "string", "card": "string", "qty": "Int64"},
        {
            "zip": ["02134", "10001", "94105"],
            "card": ["1234567890123456", "1234567890123457", "1234567890123458"],
        },
    ),
    (
        "sales.csv.gz",
        {"compression": "gzip", "delimiter": ","},
        {"date": "datetime64[ns]", "quantity": "Int64"},
        {"product": ["Widget A", "Widget B"], "quantity": [40, 25]},
    ),
    (
        "sales.tsv.gz",
        {"compression": "gzip", "delimiter": "\t"},
        {"product": "string", "quantity": "Int64"},
        {"quantity": [40]},
    ),
]
FIXTURES = sorted(p.name for p in DATA.iterdir() if p.name.endswith((".csv", ".tsv", ".gz")))


def test_every_fixture_file_has_a_case_or_a_dedicated_test():
    dedicated = {
        "duplicate_empty_headers.csv",
        "ragged.csv",
        "formulas.csv",
        "mostly_numeric.csv",
        "trailing_delimiter.csv",
        "unclosed_quote.csv",
    }
    assert set(FIXTURES) == {c[0] for c in CASES} | dedicated


@pytest.mark.parametrize(("name", "dialect", "dtypes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reads_fixture_with_dialect_types_and_values(name, dialect, dtypes, expected):
    table = read(name)
    for key, value in dialect.items():
        assert getattr(table.dialect, key) == value, key
    for column, dtype in dtypes.items():
        assert str(table.frame[column].dtype) == dtype, column
    for column, want in expected.items():
        assert values(table, column) == want, column


@pytest.mark.parametrize("name", FIXTURES)
def test_loader_code_rebuilds_the_same_frame_from_the_original_file(name):
    table = read(name)
    pd.testing.assert_frame_equal(run_loader(table, DATA / name), table.frame)


def test_loader_code_embeds_untrusted_names_and_paths_as_literals(tmp_path):
    nasty = 'x"]; import os; os.system("echo pwned") #'
    path = tmp_path / 'we\'ird "name".csv'
    path.write_text(f"{nasty},b\n1,2\n3,4\n", encoding="utf-8")
    table = read_csv(path, path.name, LIMITS)
    code = table.loader_code(str(path))
    assert repr(nasty) in code
    assert repr(str(path)) in code
    frame = run_loader(table, path)
    assert list(frame.columns) == [nasty, "b"]
    pd.testing.assert_frame_equal(frame, table.frame)


def test_bytes_and_path_sources_give_the_same_table_and_hash():
    raw = (DATA / "money.csv").read_bytes()
    from_bytes = read_csv(raw, "money.csv", LIMITS)
    from_path = read("money.csv")
    pd.testing.assert_frame_equal(from_bytes.frame, from_path.frame)
    import hashlib

    assert from_bytes.sha256 == from_path.sha256 == hashlib.sha256(raw).hexdigest()
    assert from_bytes.raw_bytes == len(raw)


def test_gzip_hash_and_size_are_of_the_stored_object():
    raw = (DATA / "sales.csv.gz").read_bytes()
    import hashlib

    table = read("sales.csv.gz")
    assert table.raw_bytes == len(raw)
    assert table.sha256 == hashlib.sha256(raw).hexdigest()


def test_gzip_content_is_recognised_by_signature_even_without_gz_suffix():
    table = read_csv((DATA / "sales.csv.gz").read_bytes(), "sales.csv", LIMITS)
    assert table.dialect.compression == "gzip"
    assert len(table.frame) == 2


def test_ragged_rows_are_skipped_with_physical_line_numbers_and_short_rows_kept_in_place():
    table = read("ragged.csv")
    # line 4-5 hold one record with an embedded newline, so the 5-field row is on line 6
    assert table.skipped_rows == [
        SkippedRow(3, "4 fields, expected 3"),
        SkippedRow(6, "5 fields, expected 3"),
    ]
    assert values(table, "a") == [1, 8, 15, 17]
    assert values(table, "b") == ["2", "multi\nline", "16", "18"]
    assert values(table, "c") == [3, 9, None, 19]
    assert any("skipped 2 row(s)" in w and "lines 3, 6" in w for w in table.warnings)
    assert any("fewer fields" in w and "lines 7" in w for w in table.warnings)


def test_a_trailing_delimiter_is_dropped_but_a_real_extra_field_skips_the_row():
    table = read("trailing_delimiter.csv")
    assert values(table, "amount") == [10, 20, 30]
    assert table.skipped_rows == [SkippedRow(5, "4 fields, expected 3")]
    assert any("extra delimiter" in w for w in table.warnings)


def test_a_quote_left_open_at_the_end_skips_only_its_row():
    table = read("unclosed_quote.csv")
    assert values(table, "id") == [1, 2]
    assert table.skipped_rows == [
        SkippedRow(4, "a quoted field opened here is never closed; the last 3 line(s) were skipped")
    ]


def test_loader_code_says_when_its_row_count_differs(tmp_path):
    table = read("pipe.csv")
    path = tmp_path / "p.csv"
    path.write_bytes((DATA / "pipe.csv").read_bytes() + b"4|Di|1\n")  # the file changed since
    import contextlib

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_loader(table, path)
    assert "the pipeline read 3 rows from this file; this read gives 4" in out.getvalue()


def test_duplicate_and_empty_column_names_are_made_unique_and_recorded():
    table = read("duplicate_empty_headers.csv")
    assert list(table.frame.columns) == ["name", "value", "value_3", "column_4", "total", "value_2"]
    assert table.renamed_columns == {"value_3": "value", "column_4": ""}
    assert any("renamed" in w for w in table.warnings)


def test_first_line_that_is_data_is_kept_as_a_row_with_a_warning():
    table = read("no_header.csv")
    assert list(table.frame.columns) == ["column_1", "column_2", "column_3"]
    assert len(table.frame) == 4
    assert any("looks like data" in w for w in table.warnings)


def test_a_header_over_typed_columns_is_kept():
    table = read_csv(b"year,amount\n2020,1.5\n2021,2.5\n", "t.csv", LIMITS)
    assert table.dialect.has_header
    assert list(table.frame.columns) == ["year", "amount"]


def test_title_lines_above_the_header_are_skipped_and_reported():
    table = read("title_lines.csv")
    assert list(table.frame.columns) == ["date", "amount"]
    assert any("skipped 3 title line(s)" in w for w in table.warnings)


@pytest.mark.parametrize(
    ("name", "column", "kinds"),
    [
        ("money.csv", "price", {"currency", "thousands"}),
        ("money.csv", "growth", {"percent"}),
        ("money.csv", "units", {"thousands"}),
        ("money.csv", "fee", {"currency"}),
        ("cp1252.csv", "price", {"currency"}),
        ("semicolon_decimal_comma.csv", "Umsatz", {"currency", "thousands", "decimal_comma"}),
        ("semicolon_decimal_comma.csv", "Anteil", {"percent", "decimal_comma"}),
        ("utf16_bom_semicolon.csv", "temp", {"decimal_comma"}),
        ("semicolon_decimal_comma.csv", "Datum", {"date"}),
        ("dates.csv", "stamp", {"datetime"}),
        ("dates.csv", "dmy", {"date"}),
        ("booleans.csv", "active", {"boolean"}),
        ("mostly_numeric.csv", "reading", {"numeric"}),
    ],
)
def test_coercions_name_what_was_changed(name, column, kinds):
    table = read(name)
    assert {c.kind for c in table.coercions if c.column == column} == kinds


def test_a_column_converts_when_nearly_all_values_parse_and_counts_the_failures():
    table = read("mostly_numeric.csv")
    assert str(table.frame["reading"].dtype) == "float64"
    assert pd.isna(table.frame["reading"].iloc[-1])
    (coercion,) = [c for c in table.coercions if c.column == "reading"]
    assert coercion.failed == 1


def test_a_column_with_too_many_non_numbers_stays_text():
    body = "".join(f"{i}\n" for i in range(10)) + "n/a-ish\nsoon\n"
    table = read_csv(("v\n" + body).encode(), "t.csv", LIMITS)
    assert str(table.frame["v"].dtype) == "string"


def test_dash_is_missing_only_in_numeric_columns():
    table = read("missing_tokens.csv")
    assert values(table, "value")[2] is None  # "-" among numbers
    assert values(table, "note")[5] == "-"  # "-" among words stays text


def test_ambiguous_day_month_order_is_reported_and_follows_the_file_convention():
    us = read("dates.csv")
    assert any("'ambiguous'" in w and "month/day" in w for w in us.warnings)
    eu = read_csv(b"d;v\n01/02/2025;1\n03/04/2025;2\n", "eu.csv", LIMITS)
    assert values(eu, "d") == dates("2025-02-01", "2025-04-03")
    assert any("day/month" in w for w in eu.warnings)


def test_flag_named_columns_read_one_and_zero_as_booleans_others_stay_numbers():
    table = read("booleans.csv")
    assert str(table.frame["is_member"].dtype) == "boolean"
    assert str(table.frame["code"].dtype) == "Int64"


def test_clean_csv_is_utf8_comma_iso_dates_plain_numbers():
    table = read("semicolon_decimal_comma.csv")
    assert table.to_clean_csv() == (
        b"Datum,Umsatz,Anteil,Menge\n"
        b"2025-01-05,1234.5,12.5,1200\n"
        b"2025-01-06,987.0,7.25,950\n"
        b"2025-01-13,12000.75,80.25,2050\n"
    )


def test_clean_csv_keeps_times_and_round_trips_through_pandas():
    table = read("dates.csv")
    clean = table.to_clean_csv().decode("utf-8")
    assert "2025-01-05 14:30:00" in clean
    back = pd.read_csv(io.StringIO(clean))
    assert list(back.columns) == list(table.frame.columns)
    assert len(back) == len(table.frame)


def test_clean_csv_neutralises_formula_prefixes_in_text_but_never_numbers():
    table = read("formulas.csv")
    rows = table.to_clean_csv().decode("utf-8").splitlines()
    assert rows == [
        "name,note,amount",
        "A,'=1+2,-5",
        "B,'+cmd,3",
        "C,'@SUM(A1),4",
        "D,'-minus,5",
        "E,plain,6",
    ]
    assert values(table, "note")[0] == "=1+2"  # the frame itself keeps the data as it was


def test_clean_csv_of_non_utf8_input_is_utf8():
    table = read("cp1252.csv")
    assert "Crème brûlée,8.5" in table.to_clean_csv().decode("utf-8")


def test_whitespace_around_header_names_is_stripped():
    table = read_csv(b" a , b\n1,2\n", "t.csv", LIMITS)
    assert list(table.frame.columns) == ["a", "b"]


def test_a_single_column_of_sentences_under_a_short_header_is_a_table():
    body = b"".join(
        b"This product was great and I would happily buy it again for the family %d.\n" % i for i in range(5)
    )
    table = read_csv(b"comment\n" + body, "reviews.csv", LIMITS)
    assert table.frame.shape == (5, 1)
    assert any("single column" in w for w in table.warnings)


@pytest.mark.parametrize("name", FIXTURES)
def test_tiny_chunks_give_the_same_table(name, monkeypatch):
    """Rows move into column stores in chunks; chunk borders must not change any value or type."""
    whole = read(name)
    monkeypatch.setattr("shared.csv_rows._CHUNK_ROWS", 2)
    chunked = read(name)
    pd.testing.assert_frame_equal(chunked.frame, whole.frame)
    assert chunked.coercions == whole.coercions


def _numbers_then(tail: str, rows: int = 30) -> bytes:
    body = "".join(f"{i},{i * 7 + 100}\n" for i in range(rows))
    return ("k,v\n" + body + tail).encode()


@pytest.mark.parametrize(
    ("tail", "dtype", "last", "again"),
    [
        ("30,$5\n", "Int64", 5, True),  # a currency value after plain numbers: cleaned, not lost
        ("30,0123\n", "string", "0123", True),  # a leading zero turns the column into identifiers
        ("30,12.5\n", "float64", 12.5, False),  # integers, then a plain decimal: still numbers
        ("30,n/a\n", "Int64", None, False),  # a missing token keeps the column integer
    ],
)
def test_a_compacted_number_column_that_meets_other_values_later_is_read_from_text_again(
    tail, dtype, last, again, monkeypatch, tmp_path
):
    import shared.csv_rows

    monkeypatch.setattr("shared.csv_rows._CHUNK_ROWS", 10)  # the first chunk has 10 distinct numbers
    second_passes = []
    first_pass = shared.csv_rows.read_records

    def counting(*args, **kwargs):
        if kwargs.get("only") is not None:
            second_passes.append(kwargs["only"])
        return first_pass(*args, **kwargs)

    monkeypatch.setattr("shared.csv_rows.read_records", counting)
    path = tmp_path / "late.csv"
    path.write_bytes(_numbers_then(tail))
    table = read_csv(path, path.name, LIMITS)
    # "k" stays compacted; "v" gives up its numbers when a later value is not a plain number
    assert second_passes == ([[1]] if again else [])
    assert str(table.frame["v"].dtype) == dtype
    assert values(table, "v")[-1] == last
    assert values(table, "v")[0] in (100, "100")
    pd.testing.assert_frame_equal(run_loader(table, path), table.frame)


def test_a_headerless_file_of_numbers_keeps_its_first_row(monkeypatch):
    monkeypatch.setattr("shared.csv_rows._CHUNK_ROWS", 10)
    data = "".join(f"{i},{i * 1.5}\n" for i in range(1, 30)).encode()
    table = read_csv(data, "n.csv", LIMITS)
    assert not table.dialect.has_header
    assert len(table.frame) == 29
    assert values(table, "column_1")[:2] == [1, 2]
    assert str(table.frame["column_2"].dtype) == "float64"


def test_repeated_text_is_stored_once_per_distinct_value():
    table = read_csv(b"city,n\n" + b"Paris,1\nLyon,2\n" * 500, "c.csv", LIMITS)
    cities = table.frame["city"]
    # the same object behind every "Paris": interning, not 500 copies
    assert len({id(v) for v in cities.array._ndarray if v == "Paris"}) == 1
