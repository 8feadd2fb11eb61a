"""The pandas/matplotlib code the local analyst runs, generated from templates for the dataset's shape.

Column names, category values and titles are untrusted text: they only ever enter the code through
``repr()`` (as string literals), never pasted into it. Every cell prints readable tables and one machine
line per result (``MARK`` + JSON) that the analyst parses; the insight sentences use nothing else.

Two sources, one analysis. A cell first builds the small tables it needs (totals per group, per
period, bin counts, box statistics, ...): from ``df`` with pandas for a file read whole, or from
``aggregates.json`` for a large file (``shared.aggregates``: DuckDB over every row; ``data.csv`` then
holds only a sample and is not read). What follows (printing, machine lines, drawing) is the same code
in both modes. This module writes the load and statistics cells; ``local_charts`` the chart cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.analysis_plan import FREQUENCIES, MONTH_NAMES, Plan


@dataclass
class Cell:
    step: str  # "statistics" | "charts"
    name: str  # short, for warnings: "summary statistics"
    text: str  # what the cell does, for the reader
    code: str


def chart_label(text: str, limit: int = 40) -> str:
    """Text safe to show in a matplotlib title or label: one line, no mathtext, not too long."""
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def build_cells(plan: Plan, mark: str, aggregated: bool = False) -> list[Cell]:
    """Every cell for this plan, in order: the first loads the data and must run before the others.

    ``aggregated``: the cells read ``aggregates.json`` (every row of a large file) instead of ``data.csv``.
    """
    from shared.analysts import local_charts as charts

    cells = [_load_cell(plan, mark, aggregated), _summary_cell(aggregated)]
    if plan.numeric and plan.categories:
        cells.append(_groups_cell(aggregated))
    if plan.numeric and plan.top_category:
        cells.append(_top_groups_cell(plan, aggregated))
    if plan.time and plan.numeric:
        cells.append(_time_cell(plan, aggregated))
    if plan.numeric:
        cells += [_rank_cell(aggregated), _outlier_cell(aggregated)]
    if len(plan.numeric) >= 2:
        cells.append(_corr_cell(aggregated))
    if plan.numeric:
        cells += [charts.hist_cell(aggregated), charts.box_cell(aggregated)]
    if plan.time and plan.numeric:
        cells.append(charts.line_cell(plan))
    if plan.categories and plan.numeric:
        cells.append(charts.bar_cell())
    elif not plan.numeric and plan.first_category:
        cells.append(charts.count_bar_cell(plan, aggregated))
    elif plan.numeric and plan.rank_chart and not aggregated:  # a ranking of every row: small tables only
        cells.append(charts.ranking_bar_cell())
    if len(plan.numeric) >= 3:
        cells.append(charts.heatmap_cell())
    if aggregated:
        for cell in cells[1:]:
            cell.text += EVERY_ROW[cell.step]
    return cells


EVERY_ROW = {
    "statistics": " Computed from the aggregates of every row.",
    "charts": " Drawn from the aggregates of every row.",
}


def source(aggregated: bool, frame: str, aggregates: str) -> str:
    """The part of a cell that differs between the modes: where its tables come from."""
    return (aggregates if aggregated else frame).strip()


_HELPERS = """
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
pd.set_option("display.float_format", lambda v: f"{v:,.2f}" if abs(v) >= 1 else f"{v:.4g}")
NUMBER = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}")


def emit(key, value):
    \"\"\"Print a machine-readable copy of the numbers above, for the analyst's sentences.\"\"\"
    def plain(obj):
        return obj.item() if hasattr(obj, "item") else str(obj)
    print(MARK, json.dumps({"key": key, "value": value}, default=plain))


def label(text, limit=40):
    \"\"\"Text for a chart: one line, not too long, and no "$" mathtext.\"\"\"
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\\$")


def clean(series):
    \"\"\"A Series as a JSON-ready dict; missing and infinite values become None.\"\"\"
    return {str(k): (None if pd.isna(v) or np.isinf(v) else float(v)) for k, v in series.items()}
"""


def _load_cell(plan: Plan, mark: str, aggregated: bool) -> Cell:
    months = ""
    if plan.time_kind == "month" and not aggregated:
        months = f"\nMONTHS = {{name: number for number, name in enumerate({list(MONTH_NAMES)!r}, start=1)}}"
    period = {
        None: "period = None",
        "month": "period = df[TIME].astype('string').str.strip().str[:3].str.lower().map(MONTHS)",
        "datetime": "period = df[TIME].dt.to_period(FREQ)",
    }[plan.time_kind]
    frame = f"""
LABEL_CANDIDATES = {plan.label_candidates!r}
MARK = {mark!r}{months}

df = pd.read_csv("data.csv", dtype={ {name: "string" for name in plan.strings}!r}, parse_dates={plan.datetimes!r})
for column in {plan.datetimes!r}:
    df[column] = pd.to_datetime(df[column], errors="coerce", format="ISO8601")
for column in NUMERIC:
    df[column] = pd.to_numeric(df[column], errors="coerce")
{period}
PRESENT = [column for column in NUMERIC if df[column].notna().any()]  # columns with at least one value

# A readable name for each row (used by rankings and outliers): the first unique key, else the row number.
row_name = pd.Series([f"row {{i + 1}}" for i in range(len(df))], index=df.index)
for key in LABEL_CANDIDATES:
    if len(df) and not df[key].isna().any(axis=None) and not df.duplicated(subset=key).any():
        row_name = df[key[0]].astype("string")
        for column in key[1:]:
            row_name = row_name.str.cat(df[column].astype("string"), sep=" ")
        break
"""
    aggregates = f"""
MARK = {mark!r}

# The file is too large to load: DuckDB computed these aggregates over every row (data.csv holds only a
# sample of the rows and is not read here).
with open("aggregates.json", encoding="utf-8") as file:
    AGG = json.load(file)


def aggregate(name):
    \"\"\"One table of aggregates.json as a DataFrame.\"\"\"
    part = AGG.get(name) or {{"columns": [], "rows": []}}
    return pd.DataFrame(part["rows"], columns=part["columns"])


def picked(metric, kind):
    \"\"\"Rows DuckDB picked for ``metric`` (highest, lowest, outlier, flier_low, flier_high): name -> value.\"\"\"
    rows = EXTREMES[(EXTREMES["column"] == metric) & (EXTREMES["kind"] == kind)].sort_values("rank")
    return pd.Series(rows["value"].to_numpy(dtype=float), index=rows["row"].to_numpy(), dtype=float)


ROWS, COLUMN_COUNT = AGG["rows"], AGG["column_count"]
COLUMNS = aggregate("columns").set_index("column").rename_axis(None)  # per numeric column
EXTREMES = aggregate("extremes")
PRESENT = [column for column in NUMERIC if COLUMNS.loc[column, "count"] > 0]  # columns with at least one value
"""
    loaded = (
        'print(f"Read the aggregates of {ROWS:,} rows and {COLUMN_COUNT:,} columns.")'
        if aggregated
        else 'print(f"Loaded {len(df):,} rows and {len(df.columns):,} columns.")'
    )
    code = f"""
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

NUMERIC = {plan.numeric!r}
KEY = {plan.key!r}
# Summed by group and period; the other numeric columns are measurements and are averaged.
HOW = {{column: "sum" if column in {plan.additive!r} else "mean" for column in NUMERIC}}
CATEGORIES = {plan.categories!r}
TIME = {plan.time!r}
FREQ = {plan.freq!r}
{source(aggregated, frame, aggregates)}
{_HELPERS}

{loaded}
"""
    text = (
        "Read `aggregates.json`: the aggregates DuckDB computed over every row of the file (totals, means "
        "and counts per column, category and period; histogram bins; box-plot statistics; correlations; "
        "the highest, lowest and most outlying rows). `data.csv` holds only a sample and is not read."
        if aggregated
        else "Load `data.csv` with pandas, using the column types of the profile."
    )
    return Cell("statistics", "loading the data", text, code.strip() + "\n")


def _summary_cell(aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        """
rows, column_count = len(df), len(df.columns)
if NUMERIC:
    stats = df[NUMERIC].describe().T
    stats["sum"] = df[NUMERIC].sum()
    stats["missing"] = df[NUMERIC].isna().sum()
missing = df.isna().sum()
frequent = {}  # column -> (most frequent values with their counts, distinct values)
for column in df.columns:
    if column not in NUMERIC and df[column].dtype.kind != "M":
        frequent[column] = (df[column].value_counts().head(5), df[column].nunique())
""",
        """
rows, column_count = ROWS, COLUMN_COUNT
if NUMERIC:
    stats = COLUMNS.loc[NUMERIC, ["count", "mean", "std", "min", "25%", "50%", "75%", "max", "sum", "missing"]]
    stats = stats.astype(float)
missing = pd.Series(AGG["missing"], dtype="int64")
top_values = aggregate("top_values")
frequent = {}  # column -> (most frequent values with their counts, distinct values)
for column, distinct in AGG["distinct"].items():
    values = top_values[top_values["column"] == column]
    frequent[column] = (values.set_index("value")["count"].rename_axis(column), distinct)
""",
    )
    code = f"""
{tables}
summary = {{"rows": rows, "columns": column_count, "numeric": {{}}, "missing": {{}}, "top": {{}}}}
if NUMERIC:
    print(stats.to_string(max_rows=60))
    for column in NUMERIC:
        summary["numeric"][column] = clean(stats.loc[column])
summary["missing"] = {{str(k): int(v) for k, v in missing.items() if v}}
print()
print("Missing values:", ", ".join(f"{{k}} {{v:,}}" for k, v in summary["missing"].items()) or "none")
for column, (counts, distinct) in frequent.items():
    summary["top"][str(column)] = [[str(k), int(v)] for k, v in counts.items()]
    print()
    print(f"Most frequent values of {{column}} ({{distinct:,}} distinct):")
    print(counts.to_string(max_rows=60))
emit("summary", summary)
"""
    return Cell(
        "statistics",
        "summary statistics",
        "Summary statistics of every numeric column (count, mean, spread, quartiles, sum), missing values "
        "and the most frequent values of the other columns.",
        code.strip() + "\n",
    )


def _groups_cell(aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        """
grouped_tables = {}  # category -> (totals, means), one row per value, one column per metric
for category in CATEGORIES:
    grouped = df.groupby(category)[NUMERIC]
    grouped_tables[category] = (grouped.sum(), grouped.mean())
""",
        """
grouped_tables = {}  # category -> (totals, means), one row per value, one column per metric
group_rows = aggregate("groups")
for category in CATEGORIES:
    wide = group_rows[group_rows["category"] == category].pivot(index="value", columns="metric")
    grouped_tables[category] = tuple(
        wide[part][NUMERIC].astype(float).rename_axis(index=category, columns=None) for part in ("total", "mean")
    )
""",
    )
    code = f"""
{tables}
groups = {{}}
for category, (totals, means) in grouped_tables.items():
    order = (totals if HOW[NUMERIC[0]] == "sum" else means)[NUMERIC[0]].sort_values(ascending=False).index
    totals, means = totals.reindex(order), means.reindex(order)  # (.loc would take a boolean index for a mask)
    shares = totals / totals.sum() * 100
    table = pd.concat({{"total": totals, "mean": means, "share %": shares}}, axis=1)
    print(f"By {{category}}:")
    print(table.to_string(max_rows=60))
    print()
    groups[str(category)] = {{
        str(metric): {{"total": clean(totals[metric]), "mean": clean(means[metric]), "share": clean(shares[metric]),
                      "how": HOW[metric]}}
        for metric in NUMERIC
    }}
emit("groups", groups)
"""
    return Cell(
        "statistics",
        "totals by category",
        "Totals, means and shares of each numeric column for each value of the low-cardinality "
        "categorical columns.",
        code.strip() + "\n",
    )


def _top_groups_cell(plan: Plan, aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        """
totals = df.groupby(category)[metrics].agg({metric: HOW[metric] for metric in metrics})
distinct = len(totals)
largest = {metric: totals[metric].nlargest(10) for metric in metrics}
all_groups = {metric: totals[metric].sum() for metric in metrics}  # for the shares
""",
        """
distinct = AGG["top_groups"]["distinct"]
top_found = AGG["top_groups"]["metrics"]
largest = {
    metric: pd.Series(dict(top_found[metric]["largest"]), name=metric, dtype=float) for metric in metrics
}
all_groups = {metric: top_found[metric]["all_groups"] for metric in metrics}  # for the shares
""",
    )
    code = f"""
category = {plan.top_category!r}
metrics = NUMERIC[:2]
{tables}
top = {{}}
for metric in metrics:
    word = "total" if HOW[metric] == "sum" else "mean"
    print(f"Largest {{category}} by {{word}} {{metric}} (top 10 of {{distinct:,}}):")
    if HOW[metric] == "sum":
        shares = largest[metric] / all_groups[metric] * 100
        print(pd.DataFrame({{"total": largest[metric], "share %": shares}}).to_string())
    else:
        shares = largest[metric] * np.nan
        print(largest[metric].to_string())
    print()
    top[str(metric)] = {{"total": clean(largest[metric]), "share": clean(shares), "how": HOW[metric]}}
emit("top_groups", {{"category": str(category), "distinct": int(distinct), "metrics": top}})
"""
    return Cell(
        "statistics",
        "largest groups",
        f"The largest of the {chart_label(plan.top_category, 60)} values by total, for the first numeric columns "
        "(the column has too many distinct values to list them all).",
        code.strip() + "\n",
    )


def _time_cell(plan: Plan, aggregated: bool) -> Cell:
    unit = plan.unit
    if plan.time_kind == "month":
        names = "period_names = [MONTHS_BY_NUMBER[int(p)] for p in totals.index]"
        prefix = f"MONTHS_BY_NUMBER = {dict(enumerate(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'], start=1))!r}\n"
        as_periods = "pd.Index(values.astype(int))"
    else:
        fmt = FREQUENCIES[plan.freq][2]
        label_of = f"p.start_time.strftime({fmt!r})" if plan.freq == "W" else f"p.strftime({fmt!r})"
        names = f"period_names = [{label_of} for p in totals.index]"
        prefix = ""
        as_periods = "pd.DatetimeIndex(pd.to_datetime(values)).to_period(FREQ)"
    partial = (
        "len(totals) > 1 and last_time < totals.index[-1].end_time.floor('D')"
        if plan.time_kind == "datetime" and plan.coarsened
        else "False"
    )
    frame_last = "last_time = df[TIME].max()\n" if plan.time_kind == "datetime" else ""
    aggregates_last = 'last_time = pd.Timestamp(AGG["time_max"])\n' if plan.time_kind == "datetime" else ""
    tables = source(
        aggregated,
        f"""
totals = df.groupby(period)[NUMERIC].agg(HOW).sort_index()
{frame_last}if CATEGORIES:
    category = CATEGORIES[0]
    largest = df.groupby(category)[NUMERIC[0]].agg(HOW[NUMERIC[0]]).nlargest(6).index
    subset = df[df[category].isin(largest)]
    by = subset.groupby([period[subset.index], category])[KEY].agg({{m: HOW[m] for m in KEY}}).unstack(category)
""",
        f"""
def as_periods(values):
    return {as_periods}


per_period = aggregate("periods")
totals = per_period[NUMERIC].astype(float).set_axis(as_periods(per_period["period"]))
{aggregates_last}if CATEGORIES:
    category = CATEGORIES[0]  # its largest values by the first metric, per period
    cells = aggregate("period_groups")
    by = cells.set_axis(as_periods(cells["period"])).pivot(columns="value", values=KEY).astype(float)
""",
    )
    code = f"""
{prefix}{tables}
{names}
# The last period is incomplete when the data stop before its end (e.g. a month with 10 days of data).
partial_last = {partial}
if partial_last:
    print(f"Note: the last {unit} ({{period_names[-1]}}) is incomplete.")
growth = totals.pct_change() * 100
growth = growth.replace([np.inf, -np.inf], np.nan)
shown = totals.copy()
shown.index = period_names
averaged = ", ".join(str(m) for m in NUMERIC if HOW[m] == "mean")
print("Per {unit}:", f"sums; means of {{averaged}}" if averaged else "sums")
print(shown.to_string(max_rows=60))
print()
print("Growth per {unit}, %:")
print(growth.set_axis(period_names).iloc[1:].to_string(max_rows=60))

# Least-squares trend line over the period index (0, 1, 2, ...): slope = change per {unit}.
trend = {{}}
index = np.arange(len(totals))
for metric in NUMERIC:
    y = totals[metric].to_numpy(dtype=float)
    ok = ~np.isnan(y)
    if ok.sum() >= 3:
        slope, intercept = np.polyfit(index[ok], y[ok], 1)
        fitted = slope * index[ok] + intercept
        spread = ((y[ok] - y[ok].mean()) ** 2).sum()
        r2 = 1 - ((y[ok] - fitted) ** 2).sum() / spread if spread else float("nan")
        trend[str(metric)] = {{"slope": float(slope), "intercept": float(intercept), "r2": float(r2)}}
        print(f"Trend of {{metric}}: {{slope:+,.2f}} per {unit} (R² {{r2:.2f}})")
emit("time", {{
    "column": str(TIME), "unit": {unit!r}, "periods": period_names,
    "totals": {{str(m): list(clean(totals[m].set_axis(period_names)).values()) for m in NUMERIC}},
    "growth": {{str(m): list(clean(growth[m].set_axis(period_names)).values()) for m in NUMERIC}},
    "trend": trend, "partial_last": bool(partial_last), "how": HOW,
}})

if CATEGORIES:
    by = by.reindex(totals.index)  # same periods as the totals, even where no large category sold
    by_growth = (by.pct_change() * 100).replace([np.inf, -np.inf], np.nan)
    per_category = {{}}
    for metric in KEY:
        table = by[metric].set_axis(period_names)
        print()
        print(f"{{metric}} per {unit} and {{category}}:")
        print(table.to_string(max_rows=60))
        print(f"{{metric}}: mean per {unit} by {{category}}:")
        print(table.mean().to_string(max_rows=60))
        per_category[str(metric)] = {{
            "mean": clean(by[metric].mean()),
            "growth": {{str(c): list(clean(by_growth[metric][c].set_axis(period_names)).values()) for c in by[metric].columns}},
        }}
    emit("time_by_category", {{"category": str(category), "unit": {unit!r}, "periods": period_names,
                               "partial_last": bool(partial_last),
                               "metrics": per_category}})
"""
    return Cell(
        "statistics",
        "time series",
        f"Totals per {unit} of each numeric column along `{chart_label(plan.time, 60)}`, "
        f"{plan.growth_phrase} growth and a least-squares trend"
        + (", also per category." if plan.categories else "."),
        code.strip() + "\n",
    )


def _rank_cell(aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        """
n = min(3, max(1, len(df) // 2))
ranked = {}  # metric -> (highest rows, lowest rows), row name -> value
for metric in NUMERIC:
    values = pd.Series(df[metric].to_numpy(), index=row_name.to_numpy()).dropna()
    if not values.empty:
        ranked[metric] = (values.nlargest(n), values.nsmallest(n))
""",
        """
ranked = {}  # metric -> (highest rows, lowest rows), row name -> value
for metric in PRESENT:
    ranked[metric] = (picked(metric, "highest"), picked(metric, "lowest"))
""",
    )
    code = f"""
{tables}
ranks = {{}}
for metric, (top, bottom) in ranked.items():
    print(f"{{metric}}: highest", ", ".join(f"{{k}} ({{v:,.4g}})" for k, v in top.items()),
          "| lowest", ", ".join(f"{{k}} ({{v:,.4g}})" for k, v in bottom.items()))
    ranks[str(metric)] = {{"top": [[str(k), float(v)] for k, v in top.items()],
                          "bottom": [[str(k), float(v)] for k, v in bottom.items()]}}
emit("ranks", ranks)
"""
    return Cell(
        "statistics", "rankings", "The highest and lowest rows by each numeric column.", code.strip() + "\n"
    )


def _outlier_cell(aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        """
found = {}  # metric -> (low fence, high fence, outlier count, the farthest from the median by row name)
for metric in NUMERIC:
    values = pd.Series(df[metric].to_numpy(), index=row_name.to_numpy()).dropna()
    if len(values) < 4:
        continue
    q1, q3 = values.quantile([0.25, 0.75])
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    outside = values[(values < low) | (values > high)]
    outside = outside.reindex(outside.sub(values.median()).abs().sort_values(ascending=False).index)
    found[metric] = (low, high, len(outside), outside.head(5))
""",
        """
found = {}  # metric -> (low fence, high fence, outlier count, the farthest from the median by row name)
for metric in NUMERIC:
    stats = COLUMNS.loc[metric]
    if stats["count"] < 4:
        continue
    q1, q3 = stats["25%"], stats["75%"]
    found[metric] = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1), int(stats["outliers"]), picked(metric, "outlier"))
""",
    )
    code = f"""
{tables}
outliers = {{}}
for metric, (low, high, count, farthest) in found.items():
    print(f"{{metric}}: IQR bounds [{{low:,.4g}}, {{high:,.4g}}], {{count:,}} outliers",
          ", ".join(f"{{k}} ({{v:,.4g}})" for k, v in farthest.items()))
    outliers[str(metric)] = {{"low": float(low), "high": float(high), "count": int(count),
                             "rows": [[str(k), float(v)] for k, v in farthest.items()]}}
emit("outliers", outliers)
"""
    return Cell(
        "statistics",
        "IQR outliers",
        "Outliers by the IQR rule (outside Q1 − 1.5·IQR … Q3 + 1.5·IQR), naming the outlying rows.",
        code.strip() + "\n",
    )


def _corr_cell(aggregated: bool) -> Cell:
    matrix = source(
        aggregated,
        "corr = df[NUMERIC].corr()",
        'corr = aggregate("correlations").set_index("column").rename_axis(None)[NUMERIC].astype(float)',
    )
    code = f"""
{matrix}
print(corr.to_string(max_rows=60))
pairs = []
for i, a in enumerate(NUMERIC):
    for b in NUMERIC[i + 1:]:
        r = corr.loc[a, b]
        if pd.notna(r):
            pairs.append([str(a), str(b), float(r)])
pairs.sort(key=lambda pair: -abs(pair[2]))
print()
print("Strongest pairs:", "; ".join(f"{{a}} ~ {{b}}: r = {{r:+.2f}}" for a, b, r in pairs[:5]) or "none")
emit("correlations", pairs[:10])
"""
    return Cell(
        "statistics",
        "correlations",
        "Pearson correlations between the numeric columns, strongest pairs first.",
        code.strip() + "\n",
    )


def nice_number(value: float) -> str:
    """A number as people write it: 24,600 · 26.8 · 0.034."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"
