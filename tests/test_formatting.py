"""Numbers, sizes and durations written for people (shared/formatting.py)."""

from __future__ import annotations

import pytest

from shared import formatting as fmt


@pytest.mark.parametrize(
    "value,text",
    [
        (1234567, "1,234,567"),
        (1234567.89, "1,234,568"),
        (1340.6523, "1,340.65"),
        (471.25, "471.25"),
        (30.0, "30"),
        (58.4412, "58.44"),
        (0.644731, "0.645"),
        (0.0123456, "0.0123"),
        (-0.181431, "-0.181"),
        (-2500.5, "-2,500.5"),
        (1.5e-07, "1.5e-07"),
        (2.5e18, "2.5e+18"),
        (0, "0"),
        (0.0, "0"),
        (-0.000001, "-1e-06"),
        (None, "–"),
        (float("nan"), "–"),
        (float("inf"), "∞"),
        (True, "True"),
        ("n/a", "n/a"),
    ],
)
def test_number(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize(
    "n,text",
    [
        (0, "0 bytes"),
        (1023, "1,023 bytes"),
        (1536, "1.5 KiB (1,536 bytes)"),
        (734_003_200, "700.0 MiB (734,003,200 bytes)"),
        (5 * 1024**4, "5.0 TiB (5,497,558,138,880 bytes)"),
        (None, "–"),
    ],
)
def test_size(n, text):
    assert fmt.size(n) == text


def test_size_without_exact_bytes():
    assert fmt.size(2048, exact=False) == "2.0 KiB"


@pytest.mark.parametrize(
    "s,text",
    [
        (0.0042, "4 ms"),
        (0.2, "200 ms"),
        (3.456, "3.46 s"),
        (8.6, "8.6 s"),
        (2.0, "2 s"),
        (41.72, "41.7 s"),
        (41.04, "41 s"),
        (125, "2 min 5 s"),
        (None, "–"),
    ],
)
def test_seconds(s, text):
    assert fmt.seconds(s) == text


@pytest.mark.parametrize(
    "part,whole,text", [(1, 36, "2.8%"), (9, 36, "25%"), (1, 100000, "<0.1%"), (3, 0, "–")]
)
def test_percent(part, whole, text):
    assert fmt.percent(part, whole) == text


def test_timestamp_and_date():
    assert fmt.timestamp("2026-11-24T09:15:02+00:00") == "2026-11-24 09:15:02 UTC"
    assert fmt.timestamp("not a date") == "not a date"
    assert fmt.date("2024-01-05T00:00:00") == "2024-01-05"
    assert fmt.date("2024-01-05T13:30:00") == "2024-01-05 13:30:00"
