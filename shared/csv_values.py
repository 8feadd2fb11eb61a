"""Typing the text cells of a CSV: numbers written for people, dates, flags, and plain text.

The four converters (``to_number``, ``to_datetime``, ``to_boolean``, ``to_text``) are
self-contained on purpose: the reader applies them, and ``Table.loader_code`` copies their source
into the notebook's first cell, so the pipeline and the re-runnable notebook cannot drift apart.
They may use only ``pd`` and must not reference anything else in this module.

``infer`` decides, per column, which converter applies (and with what arguments) from the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from shared.csv_reader import Coercion

# Cells that mean "no value" in exports from spreadsheets, databases, R and pandas.
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "na", "null", "NULL", "Null", "None", "none", "NaN", "nan", "#N/A")
DASH = "-"
SHARE_REQUIRED = 0.95  # a column converts only when this share of its non-missing values parse
DATE_SAMPLE = 500


def to_number(s, decimal=".", integer=False):
    """Numbers written for people ("$1,234.50", "12.5%", "1.234,5", "EUR 12") as numbers; others NA."""
    t = s.astype("string")
    plain = plain_numbers(t, decimal)
    if plain is not None:
        # every value is already a plain number: skip the (slow, per-value) clean-up below
        return plain.astype("Int64" if integer else "float64")
    t = t.str.strip()
    currency = r"(?:[$€£¥₹]|(?<![A-Za-z])(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|INR)(?![A-Za-z]))"
    t = t.str.replace(r"^([+-]?)\s*" + currency + r"\s*", r"\1", regex=True)
    t = t.str.replace(r"\s*" + currency + r"$", "", regex=True)
    t = t.str.replace(r"\s*%$", "", regex=True)
    t = t.str.replace(r"(?<=\d)[\s\u00a0\u202f'](?=\d{3})", "", regex=True)
    if decimal == ",":
        ok = t.str.fullmatch(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?|[+-]?,\d+")
        t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        ok = t.str.fullmatch(
            r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+(?:[eE][+-]?\d+)?"
        )
        t = t.str.replace(",", "", regex=False)
    values = pd.to_numeric(t.where(ok.fillna(False).astype(bool)), errors="coerce")
    return values.astype("Int64" if integer else "float64")


def plain_numbers(t, decimal="."):
    """``t`` (string dtype) parsed by pd.to_numeric when every value is a finite plain number, else None.

    With a decimal comma, only columns without any '.' qualify (the comma becomes the point).
    """
    if decimal == ",":
        if t.str.contains(".", regex=False).any():
            return None
        t = t.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(t, errors="coerce")
    if parsed.notna().sum() != t.notna().sum() or parsed.isin([float("inf"), float("-inf")]).any():
        return None
    return parsed


def to_datetime(s, format):
    """Dates/datetimes in one explicit format ("ISO8601" accepts offsets, converted to UTC); others NaT."""
    t = s.astype("string").str.strip()
    if format == "ISO8601":
        values = pd.to_datetime(t, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    else:
        values = pd.to_datetime(t, format=format, errors="coerce")
    # "9999-12-31" ("never") and other dates outside datetime64[ns] (1677-2262) become missing.
    values = values.where((values >= pd.Timestamp.min) & (values <= pd.Timestamp.max))
    return values.astype("datetime64[ns]")


def to_boolean(s, true_values, false_values):
    """Flags ("yes"/"no", "true"/"false", ...; case-insensitive) as a nullable boolean column."""
    t = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[t.isin(true_values).fillna(False).astype(bool)] = True
    out[t.isin(false_values).fillna(False).astype(bool)] = False
    return out


def to_text(s):
    """Text as pandas' nullable string dtype (missing cells are pd.NA)."""
    return s.astype("string")


CONVERTERS = {f.__name__: f for f in (to_number, to_datetime, to_boolean, to_text)}
HELPERS = {"to_number": [plain_numbers]}  # functions a converter calls, copied into the loader with it

_CURRENCY = re.compile(r"[$€£¥₹]|(?<![A-Za-z])(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|INR)(?![A-Za-z])")
_FLAG_NAME = re.compile(
    r"^(is|has|was|can|did|should)([_\s]|[A-Z])|(^|[_\s])(flag|active|enabled|disabled|deleted|bool)([_\s]|$)",
)
_TRUE = ["true", "yes", "y", "t"]
_FALSE = ["false", "no", "n", "f"]
_DATE_GATE = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|[A-Za-z]{3,9}\.?[ -]\d|\d[ -][A-Za-z]{3,9}"
_ISO_GATE = r"\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2}.*)?"
_DATE_FORMATS = (
    "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%d/%m/%y", "%m/%d/%y",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%y", "%d-%m-%Y", "%m-%d-%Y",
    "%b %d, %Y", "%b %d %Y", "%B %d, %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y",
    "%d-%b-%Y", "%d-%b-%y", "%b %Y", "%B %Y",
)  # fmt: skip


@dataclass
class Plan:
    """How one column is converted: ``CONVERTERS[converter](raw, **kwargs)``."""

    converter: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    coercions: list[Coercion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    result: pd.Series | None = field(default=None, repr=False)  # the converted column, when inference made it

    def apply(self, raw: pd.Series) -> pd.Series:
        return CONVERTERS[self.converter](raw, **self.kwargs)


def infer(raw: pd.Series, name: str, decimal: str, dayfirst: bool) -> Plan:
    """The converter that fits (nearly) every non-missing value of ``raw``, else text.

    Each candidate type is first tried on the column's distinct values (or a sample of them), so
    a text column costs a few hash operations, not a per-value regular expression pass.
    """
    present = raw[raw.notna()]
    if present.empty:
        return Plan("to_text")
    distinct = pd.Series(present.unique(), dtype="string")
    for attempt in (_as_boolean, _as_number, _as_datetime):
        plan = attempt(raw, present, distinct, name, decimal, dayfirst)
        if plan is not None:
            return plan
    return Plan("to_text")


def _as_boolean(raw, present, distinct, name, decimal, dayfirst) -> Plan | None:
    if len(distinct) > 8:  # 4 spellings each of true and false, in any case mix
        return None
    true_values, false_values = list(_TRUE), list(_FALSE)
    if _FLAG_NAME.search(name) or _FLAG_NAME.search(name.lower()):
        true_values.append("1")
        false_values.append("0")
    seen = sorted({v.strip().lower() for v in distinct})
    if not set(seen) <= set(true_values + false_values):
        return None
    detail = f"read {', '.join(repr(v) for v in seen)} as true/false"
    kwargs = {"true_values": true_values, "false_values": false_values}
    return Plan("to_boolean", kwargs, [Coercion(name, "boolean", detail)])


def _as_number(raw, present, distinct, name, decimal, dayfirst) -> Plan | None:
    sample = distinct[distinct != DASH][: DATE_SAMPLE * 2]
    if sample.empty or to_number(sample, decimal=decimal).notna().sum() < SHARE_REQUIRED * len(sample):
        return None
    mask = raw.notna().to_numpy()
    quick = plain_numbers(raw.astype("string"), decimal)
    # the same test as to_number's fast path: every value already a plain number
    plain = quick is not None
    values = quick.astype("float64") if plain else to_number(raw, decimal=decimal)
    present_values = values[mask]
    candidates = int((present != DASH).sum())
    valid = present_values.notna().to_numpy()
    if candidates == 0 or valid.sum() < SHARE_REQUIRED * candidates:
        return None
    good = present[valid].astype("string")
    good_values = present_values[valid]
    if plain:
        integer = pd.api.types.is_integer_dtype(quick.dtype)
    else:
        integer = (
            bool((good_values % 1 == 0).all())
            and not good.str.contains(r"," if decimal == "," else r"[.eE]").any()
        )
    if integer:
        # Leading zeros (zip codes, account numbers) and 16+ digits (ids, card numbers) would be
        # damaged as numbers, so such columns stay text.
        zero_led = good[good.str.startswith(("0", "+0", "-0"))]
        if good_values.abs().max() >= 10**15 or zero_led.str.match(r"[+-]?0\d").any():
            return None
        values = values.astype("Int64")
    failed = int(candidates - valid.sum())
    if plain and decimal == ",":  # nothing cleaned but the decimal comma
        commas = int(good.str.contains(",", regex=False).sum())
        detail = f"read the decimal comma in {commas} values"
        coercions = [Coercion(name, "decimal_comma", detail)] if commas else []
    elif plain:
        coercions = []
    else:
        coercions = _number_coercions(name, good, decimal, failed)
    return Plan("to_number", {"decimal": decimal, "integer": integer}, coercions, result=values)


def _number_coercions(name: str, good: pd.Series, decimal: str, failed: int) -> list[Coercion]:
    counts = {
        "currency": int(good.str.contains(_CURRENCY).sum()),
        "percent": int(good.str.contains(r"%$").sum()),
        "thousands": int(
            good.str.contains(r"\d\.\d{3}(?!\d)" if decimal == "," else r"\d,\d{3}(?!\d)").sum()
            + good.str.contains(r"\d[\s\u00a0\u202f']\d{3}").sum()
        ),
        "decimal_comma": int(good.str.contains(r",\d").sum()) if decimal == "," else 0,
    }
    details = {
        "currency": "removed currency symbols or codes from {n} values",
        "percent": "removed '%' from {n} values (kept in percent units: '12.5%' is 12.5)",
        "thousands": "removed thousands separators from {n} values",
        "decimal_comma": "read the decimal comma in {n} values",
    }
    out = []
    for kind, n in counts.items():
        if n:
            # the failures are the column's, so only its first coercion carries them (sums stay right)
            out.append(Coercion(name, kind, details[kind].format(n=n), 0 if out else failed))
    if not out and failed:
        out.append(Coercion(name, "numeric", "read as numbers", failed))
    return out


def _as_datetime(raw, present, distinct, name, decimal, dayfirst) -> Plan | None:
    sample = distinct.str.strip()[:DATE_SAMPLE]
    if sample.str.contains(_DATE_GATE).mean() < SHARE_REQUIRED:
        return None
    scores: dict[str, int] = {}
    if sample.str.fullmatch(_ISO_GATE).mean() >= SHARE_REQUIRED:
        scores["ISO8601"] = _parsed(sample, "ISO8601")
    else:
        for fmt in _DATE_FORMATS:
            scores[fmt] = _parsed(sample, fmt)
    best = max(scores.values(), default=0)
    if best < SHARE_REQUIRED * len(sample):
        return None
    winners = [fmt for fmt, n in scores.items() if n == best]
    fmt = winners[0]
    warnings = []
    ambiguous = [f for f in winners if f.startswith(("%d/%m", "%m/%d", "%d-%m", "%m-%d"))]
    if len(ambiguous) > 1:
        fmt = next(f for f in ambiguous if f.startswith("%d" if dayfirst else "%m"))
        order = "day/month" if dayfirst else "month/day"
        warnings.append(f"column {name!r}: no day above 12 tells day/month from month/day; read as {order}")
    values = to_datetime(raw, fmt)
    valid = int(values[present.index].notna().sum())
    if valid < SHARE_REQUIRED * len(present):
        return None
    failed = len(present) - valid
    has_time = "%H" in fmt or "%I" in fmt or (fmt == "ISO8601" and bool(sample.str.contains(":").any()))
    kind = "datetime" if has_time else "date"
    shown = "ISO 8601" if fmt == "ISO8601" else fmt
    detail = f"parsed as {shown}"
    return Plan("to_datetime", {"format": fmt}, [Coercion(name, kind, detail, failed)], warnings, values)


def _parsed(sample: pd.Series, fmt: str) -> int:
    try:
        if fmt == "ISO8601":
            parsed = pd.to_datetime(sample, format=fmt, errors="coerce", utc=True)
        else:
            parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
    except (ValueError, OverflowError):
        return 0
    return int(parsed.notna().sum())
