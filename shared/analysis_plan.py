"""The analysis plan: which columns each analysis uses, chosen from the profile.

Shared by the local analyst (which writes code for the plan), the aggregates of large files
(``shared.aggregates`` computes exactly what the plan's analyses need, over every row) and the Gemini
prompt (which ships those aggregates), so all three make the same choices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from shared.profile import Profile

MAX_NUMERIC = 12  # columns in the statistics
MAX_CHART_NUMERIC = 6  # columns in histogram / box plot grids
MAX_BINS, MIN_BINS = 30, 5  # histogram bins: sqrt(values) within these bounds
MAX_CATEGORIES = 3  # categorical columns used for group-bys
MAX_GROUPS = 20  # a categorical with more distinct values is not grouped by
MAX_PERIODS = 400

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_WORD = re.compile(
    r"^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?"
    r"|nov(ember)?|dec(ember)?)\.?$",
    re.IGNORECASE,
)
# Period code -> (unit word, growth phrase, label format for Period.strftime)
FREQUENCIES = {
    "h": ("hour", "hour-over-hour", "%Y-%m-%d %H:00"),
    "D": ("day", "day-over-day", "%Y-%m-%d"),
    "W": ("week", "week-over-week", "week of %Y-%m-%d"),
    "M": ("month", "month-over-month", "%b %Y"),
    "Q": ("quarter", "quarter-over-quarter", "%Y Q%q"),
    "Y": ("year", "year-over-year", "%Y"),
}
_GRANULARITY_FREQ = {
    "second": "h",
    "minute": "h",
    "hour": "h",
    "day": "D",
    "week": "W",
    "month": "M",
    "quarter": "Q",
    "year": "Y",
}
_FREQ_DAYS = {"h": 1 / 24, "D": 1, "W": 7, "M": 30.44, "Q": 91.3, "Y": 365.25}


# Names of measurements whose sum means nothing (temperatures, prices, rates, sizes): grouped and per
# period they are averaged; everything else (amounts, counts, quantities) is summed.
_INTENSIVE = re.compile(
    r"(^|_)(temp\w*|prices?|rates?|ratio|pct|percent\w*|share|avg|average|mean|median|min|max|score|rating|age|"
    r"length\w*|depth|width|height|weight|mass|lat|latitude|lon|lng|longitude|speed|response\w*|latency|p\d\d|"
    r"index|grade|level|prob\w*|humidity|pressure|wind|mm|cm|kg|g|km|margin|bmi|duration|time|discount)(_|$)"
)
# Amounts a reader asks about first: they lead the per-group and per-period analyses and the growth insight.
_AMOUNT = re.compile(r"(^|_)(revenue|sales|amount|total|profit|income|turnover|gmv|spend|cost|value|gross|net)(_|$)")
MAX_KEY_METRICS = 3  # metrics in per-group and per-period analyses
# Whole-number columns named for a calendar unit are labels of time, not quantities.
_CALENDAR = re.compile(r"(^|_)(year|yr|month|week|day|quarter|hour|fiscal_year)$")


def _words(name: str) -> str:
    """customerAvgPrice / 'Avg Price' -> customer_avg_price"""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return re.sub(r"[^0-9a-z]+", "_", spaced.lower()).strip("_")


def is_additive(name: str) -> bool:
    """True when totals of the column mean something (revenue, quantity); False for measurements."""
    return not _INTENSIVE.search(_words(name))


def is_amount(name: str) -> bool:
    """True for the money-like columns (revenue, sales, amount...) that matter most to a reader."""
    return bool(_AMOUNT.search(_words(name)))


def key_metrics(numeric: list[str], additive: list[str]) -> list[str]:
    """Up to MAX_KEY_METRICS columns for group-bys and periods: amounts first, then other summed
    columns, then measurements; returned in file order so tables read like the file."""
    def rank(item: tuple[int, str]) -> tuple[int, int]:
        index, name = item
        return (0 if is_amount(name) else 1 if name in additive else 2, index)

    chosen = {name for _, name in sorted(enumerate(numeric), key=rank)[:MAX_KEY_METRICS]}
    return [name for name in numeric if name in chosen]


def _is_calendar_number(name: str, frame: pd.DataFrame | None) -> bool:
    if not _CALENDAR.search(_words(name)) or frame is None or name not in frame:
        return False
    values = frame[name].dropna()
    try:
        return bool(len(values)) and bool((values.astype(float) % 1 == 0).all())
    except (TypeError, ValueError):
        return False


@dataclass
class Plan:
    """What the dataset's shape allows: the columns each analysis uses."""

    numeric: list[str]
    additive: list[str]  # numeric columns that are summed by group/period; the others are averaged
    key: list[str]  # the metrics of per-group and per-period analyses (see key_metrics)
    categories: list[str]  # low-cardinality categoricals/booleans, for group-bys
    datetimes: list[str]  # parsed with parse_dates
    strings: list[str]  # read as text, never guessed numeric
    time: str | None = None  # the time axis column
    time_kind: str | None = None  # "datetime" | "month"
    freq: str | None = None  # key of FREQUENCIES ("M" for month names)
    label_candidates: list[list[str]] = field(default_factory=list)
    first_category: str | None = None  # for counts when there is nothing numeric
    coarsened: bool = False  # periods are coarser than the data's granularity
    top_category: str | None = None  # many distinct, repeating values: only its largest groups
    rank_chart: bool = False  # few named rows and no categories: a bar chart per metric ranks them

    @property
    def unit(self) -> str:
        return FREQUENCIES[self.freq][0] if self.freq else "period"

    @property
    def growth_phrase(self) -> str:
        return FREQUENCIES[self.freq][1] if self.freq else "period-over-period"


def is_month_column(values: pd.Series) -> bool:
    """True for a text column whose values are all month names (Jan, February, sept., ...)."""
    distinct = values.dropna().astype(str).str.strip().unique()
    return len(distinct) >= 2 and all(_MONTH_WORD.match(v) for v in distinct)


def make_plan(profile: Profile, frame: pd.DataFrame | None) -> Plan:
    """Choose the columns for each analysis from the profile (and the frame, for month names/uniqueness)."""
    measures = [c for c in profile.of_type("numeric") if not _is_calendar_number(c.name, frame)]
    numeric = [c.name for c in measures if c.count > 0][:MAX_NUMERIC]
    numeric += [c.name for c in measures if c.count == 0][: max(0, MAX_NUMERIC - len(numeric))]
    categories = [
        c.name
        for c in profile.columns
        if c.type in ("categorical", "boolean") and 2 <= c.distinct <= MAX_GROUPS
    ][:MAX_CATEGORIES]
    datetimes = [c.name for c in profile.of_type("datetime")]
    strings = [c.name for c in profile.columns if c.type in ("categorical", "text", "identifier")]
    plan = Plan(
        numeric=numeric,
        additive=[n for n in numeric if is_additive(n)],
        key=key_metrics(numeric, [n for n in numeric if is_additive(n)]),
        categories=categories,
        datetimes=datetimes,
        strings=strings,
    )

    usable_dt = [c for c in profile.of_type("datetime") if c.count >= 2 and c.distinct >= 2]
    if usable_dt:
        col = usable_dt[0]
        plan.time, plan.time_kind, plan.freq = (
            col.name,
            "datetime",
            _choose_freq(col.granularity, col.start, col.end),
        )
        # Only periods coarser than the data's own step can end incomplete (10 days of a month).
        plan.coarsened = _GRANULARITY_FREQ.get(col.granularity or "") != plan.freq
    elif frame is not None:
        for c in profile.columns:
            if (
                c.type in ("categorical", "text", "identifier")
                and c.name in frame
                and is_month_column(frame[c.name])
            ):
                plan.time, plan.time_kind, plan.freq = c.name, "month", "M"
                break

    if plan.time in plan.categories:  # a month-name column is the time axis, not a category
        plan.categories.remove(plan.time)
        categories = plan.categories
    singles = [c.name for c in profile.columns if c.type == "identifier"]
    singles += [
        c.name for c in profile.columns if c.type in ("categorical", "text") and c.name not in singles
    ]
    if plan.time:
        singles.append(plan.time)
    plan.label_candidates = [[name] for name in singles[:6]]
    if plan.time and categories:
        plan.label_candidates += [[plan.time, cat] for cat in categories[:2]]
    plan.top_category = next(
        (
            c.name
            for c in profile.columns
            if c.type in ("categorical", "text", "identifier")
            and c.name != plan.time
            and MAX_GROUPS < c.distinct <= 0.5 * c.count
        ),
        None,
    )
    plan.rank_chart = (
        not categories
        and plan.time is None
        and 2 <= profile.rows <= 40
        and any(c.type == "identifier" for c in profile.columns)
    )
    cats_any = [c.name for c in profile.columns if c.type in ("categorical", "boolean") and c.distinct >= 1]
    plan.first_category = cats_any[0] if cats_any else None
    return plan


def _choose_freq(granularity: str | None, start: str | None, end: str | None) -> str:
    span_days = 0.0
    if start and end:
        try:
            import pandas as pd

            span_days = abs((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()) / 86400
        except (ValueError, TypeError):
            span_days = 0.0
    order = list(FREQUENCIES)
    freq = _GRANULARITY_FREQ.get(granularity or "", "D" if span_days <= 365 else "M")
    # Coarsen until the series has a readable number of periods.
    while order.index(freq) < len(order) - 1 and span_days / _FREQ_DAYS[freq] > MAX_PERIODS:
        freq = order[order.index(freq) + 1]
    return freq
