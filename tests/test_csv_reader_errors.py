"""Every way read_csv refuses a file: a specific code and a message that says what and which limit."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from shared.csv_reader import Limits, read_csv
from shared.csv_source import inflate_capped
from shared.errors import InvalidCsvError, LimitExceededError, PermanentError
from tests.csv_helpers import LIMITS, MiB


def refuse(data, name="f.csv", limits=LIMITS, kind=InvalidCsvError):
    with pytest.raises(kind) as caught:
        read_csv(data, name, limits)
    err = caught.value
    assert isinstance(err, PermanentError) and err.permanent
    assert "Traceback" not in err.message and "\n" not in err.message
    return err


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty_file", "empty (0 bytes)"),
        (b"  \r\n\n \n", "empty_file", "only whitespace"),
        (b"\xef\xbb\xbf", "empty_file", "only whitespace"),
        (b"a,b,c\n", "header_only", "no data rows"),
        (b"a,b,c\r\n\r\n\r\n", "header_only", "3 columns"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary_data", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary_data", "ZIP archive"),
        (b"a,b\n1,\x00\x00\x002\n", "binary_data", "NUL byte at offset 6"),
        (bytes(range(1, 32)) * 20, "binary_data", "control bytes"),
        (b"a,b\n1,\x81\n", "undecodable", "byte 0x81 at offset 6"),
        (b"\xef\xbb\xbfa,b\n\xff\xfe,1\n", "undecodable", "UTF-8 byte order mark"),
        (b"\xff\xfea\x00,\x00b", "undecodable", "UTF-16 byte order mark"),
        (b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n", "not_a_table", "HTML or XML"),
        (b'{"rows": [1, 2, 3]}\n', "not_a_table", "JSON"),
        (
            b"a,b\n1,2,3\n4,5,6\n7,8,9\n",
            "not_a_table",
            "all 3 rows were skipped (line 2: 3 fields, expected 2)",
        ),
        (
            b"This text was saved with a .csv name by mistake and is not a table at all sadly.\n"
            + b"This is a paragraph of prose that someone saved with a csv name by mistake today.\n" * 5,
            "not_a_table",
            "prose",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_unreadable_files_raise_invalid_csv_with_a_specific_code(data, code, words):
    err = refuse(data)
    assert err.code == code
    assert words in err.message


def test_too_large_bytes_names_size_limit_and_setting():
    err = refuse(b"a,b\n" + b"1,2\n" * (MiB // 2), limits=Limits(MiB, MiB, 10, 100), kind=LimitExceededError)
    assert err.code == "too_large"
    assert err.message == "file is 2.0 MiB, over the 1 MiB limit (MAX_FILE_BYTES)"


def test_too_large_path_is_refused_from_its_size_before_reading(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:  # sparse: 3 GiB on paper, nothing on disk
        fh.truncate(3 * 1024 * MiB)
    tracemalloc.start()
    try:
        err = refuse(path, limits=Limits(512 * MiB, MiB, 10, 100), kind=LimitExceededError)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.code == "too_large"
    assert "3072.0 MiB, over the 512 MiB limit (MAX_FILE_BYTES)" in err.message
    assert peak < MiB


def test_gzip_bomb_fails_fast_without_inflating_it_whole():
    bomb = gzip.compress(b"0" * (64 * MiB), compresslevel=9)
    assert len(bomb) < 100_000  # a small object ...
    limits = Limits(max_bytes=MiB, max_decompressed_bytes=2 * MiB, max_columns=10, max_cell_chars=100)
    tracemalloc.start()
    try:
        err = refuse(bomb, name="bomb.csv.gz", limits=limits, kind=LimitExceededError)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.code == "decompressed_too_large"
    assert "more than 2 MiB (MAX_DECOMPRESSED_BYTES)" in err.message
    # ... whose 64 MiB expansion never exists: memory stays near the cap plus one chunk
    assert peak < 6 * MiB


def test_inflate_capped_reads_every_gzip_member_and_honours_an_exact_cap():
    data = gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3,4\n")
    assert inflate_capped(data, 12) == b"a,b\n1,2\n3,4\n"
    with pytest.raises(LimitExceededError):
        inflate_capped(data, 11)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"date,value\n2025-01-01,1\n", "not gzip data"),
        (gzip.compress(b"a,b\n" + b"1,2\n" * 1000)[:-40], "truncated"),
        (gzip.compress(b"a,b\n1,2\n")[:10] + b"\xff" * 20, "corrupt"),
    ],
    ids=["not-gzip", "truncated", "corrupt"],
)
def test_bad_gzip_says_what_is_wrong(data, words):
    err = refuse(data, name="data.csv.gz")
    assert err.code == "bad_gzip"
    assert words in err.message


def test_too_many_columns_is_refused_on_the_header_line():
    header = ",".join(f"c{i}" for i in range(501))
    # the second line would fail the cell limit; the header check comes first
    data = (header + "\n" + "x" * 1000 + "\n").encode()
    err = refuse(data, limits=Limits(MiB, MiB, 500, 100), kind=LimitExceededError)
    assert err.code == "too_many_columns"
    assert err.message == "the header has 501 columns, over the 500 limit (MAX_COLUMNS)"


def test_exactly_the_column_limit_is_accepted():
    header = ",".join(f"c{i}" for i in range(5))
    table = read_csv(f"{header}\n1,2,3,4,5\n".encode(), "f.csv", Limits(MiB, MiB, 5, 100))
    assert table.frame.shape == (1, 5)


def test_cell_too_long_names_the_line_and_limit():
    data = b"a,b\n1,2\n3," + b"x" * 101 + b"\n"
    err = refuse(data, limits=Limits(MiB, MiB, 10, 100), kind=LimitExceededError)
    assert err.code == "cell_too_long"
    assert "line 3" in err.message and "longer than 100 characters (MAX_CELL_CHARS)" in err.message


def test_unclosed_quote_is_stopped_by_the_cell_limit_while_parsing():
    data = b'a,b\n1,"never closed\n' + b"2,3\n" * 100
    err = refuse(data, limits=Limits(MiB, MiB, 10, 100), kind=LimitExceededError)
    assert err.code == "cell_too_long"
    assert "unclosed quote" in err.message


def test_cell_of_exactly_the_limit_is_accepted_and_the_csv_module_limit_is_restored():
    import csv

    before = csv.field_size_limit()
    table = read_csv(b"a,b\n1," + b"y" * 100 + b"\n", "f.csv", Limits(MiB, MiB, 10, 100))
    assert len(table.frame["b"].iloc[0]) == 100
    assert csv.field_size_limit() == before


def test_zlib_errors_are_not_leaked_as_tracebacks():
    broken = gzip.compress(b"x" * 10_000)
    broken = broken[:20] + bytes(b ^ 0x55 for b in broken[20:40]) + broken[40:]
    with pytest.raises(InvalidCsvError) as caught:
        inflate_capped(broken, MiB)
    assert caught.value.code == "bad_gzip"
    assert isinstance(caught.value.__cause__, zlib.error)
