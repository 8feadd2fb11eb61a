"""Cross-check of the numbers an analyst states against the deterministic profile and code outputs.

Deliberately narrow, to avoid noise: a number is checked only when its clause clearly claims a profile
statistic (mean, median, minimum, maximum, standard deviation, missing values, outliers, row count) of
one named column of the whole table, and a clause that talks about a group, a period or a filter ("per",
"by", "in 2024", a category value, ...) is skipped. A claim contradicts the profile when it differs by
more than its own rounding and more than 1 %. Usable by both analysts; pure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−+])?[$€£]?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<mult>thousand|million|billion|mn|bn|[kKmMbB])(?![\w]))?(?P<pct>\s?%| percent)?"
)
_STATS: dict[str, str] = {
    r"\baverage\b|\bmean\b|\bavg\b": "mean",
    r"\bmedian\b": "median",
    r"\bstandard deviation\b|\bstd\b|\bstdev\b": "std",
    r"\bmaximum\b|\bmax\b|\bhighest\b|\blargest\b|\bpeak\b|\bpeaked\b|\bbiggest\b": "max",
    r"\bminimum\b|\bmin\b|\blowest\b|\bsmallest\b": "min",
}
_COUNT_STATS = {r"\boutliers?\b": "outliers", r"\bmissing\b|\bnull\b|\bempty\b": "missing"}
# Words that make a clause about a subset (a group, a period, a filter), not the whole column.
_SUBSET = re.compile(
    r"\bper\b|\bby\b|\beach\b|\bamong\b|\bwithin\b|\bgroups?\b|\bcategor|\bwhen\b|\bwhere\b|"
    r"\bduring\b|\bbetween\b|\bafter\b|\bbefore\b|\btop\b|\bbottom\b|\bfor (?:the )?(?!whole|entire|all)\w+|"
    r"\bin (?:19|20)\d\d|\bin (?:january|february|march|april|may|june|july|august|september|october|"
    r"november|december|q[1-4])\b|"
    r"\bexcluding\b|\bwithout\b|\bgrowth\b|\bincrease|\bdecrease|\brose\b|\bfell\b|\bchange",
    re.IGNORECASE,
)
_ROWS = re.compile(
    r"\b(?:dataset|file|table|data)\s+(?:has|have|contains|containing|with|of|covers|includes|spans)\s+"
    r"(?:a total of\s+)?(?P<n>[\d,.]+\s?[kKmM]?)\s+(?:rows|records|observations|entries)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Number:
    value: float
    tolerance: float  # half a unit of the last digit shown
    percent: bool
    start: int
    end: int
    text: str


def parse_numbers(text: str) -> list[Number]:
    """Numbers as written in prose: 24,600 · 24.6k · $1.2M · 1.2 million · 12.5% · 0.05 · -3."""
    numbers: list[Number] = []
    for m in _NUMBER.finditer(text):
        raw = m["num"].replace(",", "")
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        mult = _MULTIPLIERS.get((m["mult"] or "").lower(), 1.0)
        value = float(raw) * mult
        if m["sign"] in ("-", "−"):
            value = -value
        numbers.append(Number(value, 0.5 * 10**-decimals * mult, bool(m["pct"]), m.start(), m.end(), m[0]))
    return numbers


def cross_check(insights: list[str], profile: dict[str, Any], outputs: list[str]) -> list[str]:
    """Warnings for insight numbers that contradict the profile (``Profile.to_dict()`` shape)."""
    columns = [c for c in profile.get("columns", []) if len(str(c.get("name", ""))) >= 2]
    categories = {
        str(v).lower()
        for c in columns
        for v, _ in (c.get("top_values") or [])
        if len(str(v)) >= 3 and not _is_number(str(v))
    }
    output_numbers = [n.value for out in outputs for n in parse_numbers(out or "")]
    warnings: list[str] = []
    for index, insight in enumerate(insights, start=1):
        for clause in re.split(r";|\.\s|, (?:and|while|but|whereas)\b|\band\b(?= the\b)", insight):
            warnings.extend(_check_clause(index, clause, profile, columns, categories, output_numbers))
    return warnings


def _check_clause(
    index: int,
    clause: str,
    profile: dict[str, Any],
    columns: list[dict[str, Any]],
    categories: set[str],
    output_numbers: list[float],
) -> list[str]:
    lowered = clause.lower()
    found: list[str] = []
    rows = profile.get("rows")
    m = _ROWS.search(clause)
    if m and rows is not None:
        claim = parse_numbers(m["n"])
        if claim and not claim[0].percent and not _agrees(claim[0], float(rows)):
            found.append(
                f"Insight {index} says the file has {claim[0].text.strip()} rows; the profile counts "
                f"{rows} rows."
            )
    if _SUBSET.search(clause) or any(_mentions(lowered, v) for v in categories):
        return found
    named = [c for c in columns if _mentions(lowered, str(c["name"]).lower())]
    if len(named) != 1:
        return found  # no column or several: which number belongs to which is not clear
    column = named[0]
    numbers = parse_numbers(clause)
    for pattern, stat in _STATS.items():
        kw = re.search(pattern, lowered)
        if not kw or column.get(stat) is None or column.get("type") != "numeric":
            continue
        after = [
            n
            for n in numbers
            if n.start >= kw.end() and n.start - kw.end() <= 80 and not _is_part_of_name(n, column)
        ]
        if not after:
            continue
        claim = after[0]
        actual = float(column[stat])
        if _agrees(claim, actual) or (claim.percent and _agrees(claim, actual * 100)):
            continue
        note = (
            " (the code output has that number: it may come from a sample or a filter)"
            if any(math.isclose(claim.value, v, rel_tol=0.005) for v in output_numbers)
            else ""
        )
        found.append(
            f"Insight {index} gives the {stat} of {column['name']} as {claim.text.strip()}; the "
            f"profile of every row says {_fmt(actual)}{note}."
        )
    for pattern, stat in _COUNT_STATS.items():
        kw = re.search(pattern, lowered)
        if not kw or column.get(stat) is None:
            continue
        near = [n for n in numbers if abs(n.start - kw.start()) <= 40 and not _is_part_of_name(n, column)]
        if len(near) != 1:
            continue
        claim = near[0]
        actual = float(column[stat])
        if claim.percent:
            total = (column.get("count") or 0) + (column.get("missing") or 0)
            if not total or stat != "missing":
                continue
            actual = 100.0 * actual / total
        if not _agrees(claim, actual):
            found.append(
                f"Insight {index} gives {claim.text.strip()} {stat} for {column['name']}; the profile "
                f"says {_fmt(actual)}."
            )
    return found


def _agrees(claim: Number, actual: float) -> bool:
    return abs(claim.value - actual) <= max(claim.tolerance * 1.001, 0.01 * abs(actual), 1e-9)


def _mentions(text: str, name: str) -> bool:
    variants = {name, name.replace("_", " "), name.replace("-", " ")}
    return any(re.search(rf"(?<![\w]){re.escape(v)}(?![\w])", text) for v in variants if v)


def _is_part_of_name(number: Number, column: dict[str, Any]) -> bool:
    return number.text.strip() in str(column["name"])


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.4g}"
