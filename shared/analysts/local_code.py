"""The pandas/matplotlib code the local analyst runs, generated from templates for the dataset's shape.

Column names, category values and titles are untrusted text: they only ever enter the code through
``repr()`` (as string literals), never pasted into it. Every cell prints readable tables and one machine
line per result (``MARK`` + JSON) that the analyst parses; the insight sentences use nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.analysis_plan import FREQUENCIES, MAX_CHART_NUMERIC, MONTH_NAMES, Plan


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


def build_cells(plan: Plan, mark: str) -> list[Cell]:
    """Every cell for this plan, in order: the first loads the data and must run before the others."""
    cells = [_load_cell(plan, mark), _summary_cell(plan)]
    if plan.numeric and plan.categories:
        cells.append(_groups_cell(plan))
    if plan.numeric and plan.top_category:
        cells.append(_top_groups_cell(plan))
    if plan.time and plan.numeric:
        cells.append(_time_cell(plan))
    if plan.numeric:
        cells += [_rank_cell(), _outlier_cell()]
    if len(plan.numeric) >= 2:
        cells.append(_corr_cell())
    if plan.numeric:
        cells += [_hist_cell(), _box_cell()]
    if plan.time and plan.numeric:
        cells.append(_line_cell(plan))
    if plan.categories and plan.numeric:
        cells.append(_bar_cell(plan))
    elif not plan.numeric and plan.first_category:
        cells.append(_count_bar_cell(plan))
    elif plan.numeric and plan.rank_chart:
        cells.append(_ranking_bar_cell())
    if len(plan.numeric) >= 3:
        cells.append(_heatmap_cell())
    return cells


def _load_cell(plan: Plan, mark: str) -> Cell:
    months = ""
    if plan.time_kind == "month":
        months = f"\nMONTHS = {{name: number for number, name in enumerate({list(MONTH_NAMES)!r}, start=1)}}"
    period = {
        None: "period = None",
        "month": "period = df[TIME].astype('string').str.strip().str[:3].str.lower().map(MONTHS)",
        "datetime": "period = df[TIME].dt.to_period(FREQ)",
    }[plan.time_kind]
    code = f'''
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
LABEL_CANDIDATES = {plan.label_candidates!r}
MARK = {mark!r}{months}

df = pd.read_csv("data.csv", dtype={ {name: "string" for name in plan.strings}!r}, parse_dates={plan.datetimes!r})
for column in {plan.datetimes!r}:
    df[column] = pd.to_datetime(df[column], errors="coerce", format="ISO8601")
for column in NUMERIC:
    df[column] = pd.to_numeric(df[column], errors="coerce")
{period}

# A readable name for each row (used by rankings and outliers): the first unique key, else the row number.
row_name = pd.Series([f"row {{i + 1}}" for i in range(len(df))], index=df.index)
for key in LABEL_CANDIDATES:
    if len(df) and not df[key].isna().any(axis=None) and not df.duplicated(subset=key).any():
        row_name = df[key[0]].astype("string")
        for column in key[1:]:
            row_name = row_name.str.cat(df[column].astype("string"), sep=" ")
        break

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
pd.set_option("display.float_format", lambda v: f"{{v:,.2f}}" if abs(v) >= 1 else f"{{v:.4g}}")
NUMBER = FuncFormatter(lambda v, _: f"{{v:,.0f}}" if abs(v) >= 1000 else f"{{v:g}}")


def emit(key, value):
    """Print a machine-readable copy of the numbers above, for the analyst's sentences."""
    def plain(obj):
        return obj.item() if hasattr(obj, "item") else str(obj)
    print(MARK, json.dumps({{"key": key, "value": value}}, default=plain))


def label(text, limit=40):
    """Text for a chart: one line, not too long, and no "$" mathtext."""
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\\$")


def clean(series):
    """A Series as a JSON-ready dict; missing and infinite values become None."""
    return {{str(k): (None if pd.isna(v) or np.isinf(v) else float(v)) for k, v in series.items()}}


print(f"Loaded {{len(df):,}} rows and {{len(df.columns):,}} columns.")
'''
    return Cell(
        "statistics",
        "loading the data",
        "Load `data.csv` with pandas, using the column types of the profile.",
        code.strip() + "\n",
    )


def _summary_cell(plan: Plan) -> Cell:
    code = """
summary = {"rows": len(df), "columns": len(df.columns), "numeric": {}, "missing": {}, "top": {}}
if NUMERIC:
    stats = df[NUMERIC].describe().T
    stats["sum"] = df[NUMERIC].sum()
    stats["missing"] = df[NUMERIC].isna().sum()
    print(stats.to_string(max_rows=60))
    for column in NUMERIC:
        summary["numeric"][column] = clean(stats.loc[column])
missing = df.isna().sum()
summary["missing"] = {str(k): int(v) for k, v in missing.items() if v}
print()
print("Missing values:", ", ".join(f"{k} {v:,}" for k, v in summary["missing"].items()) or "none")
for column in df.columns:
    if column in NUMERIC or df[column].dtype.kind == "M":
        continue
    counts = df[column].value_counts().head(5)
    summary["top"][str(column)] = [[str(k), int(v)] for k, v in counts.items()]
    print()
    print(f"Most frequent values of {column} ({df[column].nunique():,} distinct):")
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


def _groups_cell(plan: Plan) -> Cell:
    code = """
groups = {}
for category in CATEGORIES:
    grouped = df.groupby(category)[NUMERIC]
    totals, means = grouped.sum(), grouped.mean()
    order = (totals if HOW[NUMERIC[0]] == "sum" else means)[NUMERIC[0]].sort_values(ascending=False).index
    totals, means = totals.loc[order], means.loc[order]
    shares = totals / totals.sum() * 100
    table = pd.concat({"total": totals, "mean": means, "share %": shares}, axis=1)
    print(f"By {category}:")
    print(table.to_string(max_rows=60))
    print()
    groups[str(category)] = {
        str(metric): {"total": clean(totals[metric]), "mean": clean(means[metric]), "share": clean(shares[metric]),
                      "how": HOW[metric]}
        for metric in NUMERIC
    }
emit("groups", groups)
"""
    return Cell(
        "statistics",
        "totals by category",
        "Totals, means and shares of each numeric column for each value of the low-cardinality "
        "categorical columns.",
        code.strip() + "\n",
    )


def _top_groups_cell(plan: Plan) -> Cell:
    code = f"""
category = {plan.top_category!r}
metrics = NUMERIC[:2]
totals = df.groupby(category)[metrics].agg(HOW)
top = {{}}
for metric in metrics:
    largest = totals[metric].nlargest(10)
    word = "total" if HOW[metric] == "sum" else "mean"
    print(f"Largest {{category}} by {{word}} {{metric}} (top 10 of {{len(totals):,}}):")
    if HOW[metric] == "sum":
        shares = largest / totals[metric].sum() * 100
        print(pd.DataFrame({{"total": largest, "share %": shares}}).to_string())
    else:
        shares = largest * np.nan
        print(largest.to_string())
    print()
    top[str(metric)] = {{"total": clean(largest), "share": clean(shares), "how": HOW[metric]}}
emit("top_groups", {{"category": str(category), "distinct": int(len(totals)), "metrics": top}})
"""
    return Cell(
        "statistics",
        "largest groups",
        f"The largest of the {chart_label(plan.top_category, 60)} values by total, for the first numeric columns "
        "(the column has too many distinct values to list them all).",
        code.strip() + "\n",
    )


def _time_cell(plan: Plan) -> Cell:
    unit = plan.unit
    if plan.time_kind == "month":
        names = "period_names = [MONTHS_BY_NUMBER[int(p)] for p in totals.index]"
        prefix = f"MONTHS_BY_NUMBER = {dict(enumerate(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'], start=1))!r}\n"
    else:
        fmt = FREQUENCIES[plan.freq][2]
        label_of = f"p.start_time.strftime({fmt!r})" if plan.freq == "W" else f"p.strftime({fmt!r})"
        names = f"period_names = [{label_of} for p in totals.index]"
        prefix = ""
    partial = (
        "len(totals) > 1 and df[TIME].max() < totals.index[-1].end_time.floor('D')"
        if plan.time_kind == "datetime" and plan.coarsened
        else "False"
    )
    code = f"""
{prefix}totals = df.groupby(period)[NUMERIC].agg(HOW).sort_index()
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
    category = CATEGORIES[0]
    largest = df.groupby(category)[NUMERIC[0]].agg(HOW[NUMERIC[0]]).nlargest(6).index
    subset = df[df[category].isin(largest)]
    by = subset.groupby([period[subset.index], category])[KEY].agg({{m: HOW[m] for m in KEY}}).unstack(category)
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


def _rank_cell() -> Cell:
    code = """
ranks = {}
n = min(3, max(1, len(df) // 2))
for metric in NUMERIC:
    values = pd.Series(df[metric].to_numpy(), index=row_name.to_numpy()).dropna()
    if values.empty:
        continue
    top, bottom = values.nlargest(n), values.nsmallest(n)
    print(f"{metric}: highest", ", ".join(f"{k} ({v:,.4g})" for k, v in top.items()),
          "| lowest", ", ".join(f"{k} ({v:,.4g})" for k, v in bottom.items()))
    ranks[str(metric)] = {"top": [[str(k), float(v)] for k, v in top.items()],
                          "bottom": [[str(k), float(v)] for k, v in bottom.items()]}
emit("ranks", ranks)
"""
    return Cell(
        "statistics", "rankings", "The highest and lowest rows by each numeric column.", code.strip() + "\n"
    )


def _outlier_cell() -> Cell:
    code = """
outliers = {}
for metric in NUMERIC:
    values = pd.Series(df[metric].to_numpy(), index=row_name.to_numpy()).dropna()
    if len(values) < 4:
        continue
    q1, q3 = values.quantile([0.25, 0.75])
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    outside = values[(values < low) | (values > high)]
    outside = outside.reindex(outside.sub(values.median()).abs().sort_values(ascending=False).index)
    print(f"{metric}: IQR bounds [{low:,.4g}, {high:,.4g}], {len(outside):,} outliers",
          ", ".join(f"{k} ({v:,.4g})" for k, v in outside.head(5).items()))
    outliers[str(metric)] = {"low": float(low), "high": float(high), "count": int(len(outside)),
                             "rows": [[str(k), float(v)] for k, v in outside.head(5).items()]}
emit("outliers", outliers)
"""
    return Cell(
        "statistics",
        "IQR outliers",
        "Outliers by the IQR rule (outside Q1 − 1.5·IQR … Q3 + 1.5·IQR), naming the outlying rows.",
        code.strip() + "\n",
    )


def _corr_cell() -> Cell:
    code = """
corr = df[NUMERIC].corr()
print(corr.to_string(max_rows=60))
pairs = []
for i, a in enumerate(NUMERIC):
    for b in NUMERIC[i + 1:]:
        r = corr.loc[a, b]
        if pd.notna(r):
            pairs.append([str(a), str(b), float(r)])
pairs.sort(key=lambda pair: -abs(pair[2]))
print()
print("Strongest pairs:", "; ".join(f"{a} ~ {b}: r = {r:+.2f}" for a, b, r in pairs[:5]) or "none")
emit("correlations", pairs[:10])
"""
    return Cell(
        "statistics",
        "correlations",
        "Pearson correlations between the numeric columns, strongest pairs first.",
        code.strip() + "\n",
    )


def _grid(var: str) -> str:
    return f"""n = len({var})
ncols = min(3, n)
nrows = -(-n // ncols)
fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
for ax in axes.flat[n:]:
    ax.set_visible(False)"""


def _hist_cell() -> Cell:
    code = f"""
columns = [c for c in NUMERIC[:{MAX_CHART_NUMERIC}] if df[c].notna().any()]
labels = {{c: label(c) for c in columns}}
if columns:
    {_grid("columns").replace(chr(10), chr(10) + "    ")}
    for ax, column in zip(axes.flat, columns):
        values = df[column].dropna()
        ax.hist(values, bins=int(min(30, max(5, np.sqrt(len(values))))), color="#4C72B0", edgecolor="white")
        ax.set_title(labels[column])
        ax.set_xlabel(labels[column])
        ax.set_ylabel("Rows")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.xaxis.set_major_formatter(NUMBER)
        ax.tick_params(axis="x", labelrotation=30)
    fig.suptitle("Distribution of each numeric column")
    fig.tight_layout()
"""
    return Cell(
        "charts",
        "histograms",
        "Histograms: how the values of each numeric column are distributed.",
        code.strip() + "\n",
    )


def _box_cell() -> Cell:
    code = f"""
columns = [c for c in NUMERIC[:{MAX_CHART_NUMERIC}] if df[c].notna().any()]
labels = {{c: label(c) for c in columns}}
if columns:
    {_grid("columns").replace(chr(10), chr(10) + "    ")}
    for ax, column in zip(axes.flat, columns):
        ax.boxplot(df[column].dropna(), whis=1.5, widths=0.5, patch_artist=True,
                   boxprops={{"facecolor": "#C6D4EA"}}, medianprops={{"color": "#C44E52", "linewidth": 2}})
        ax.set_title(labels[column])
        ax.set_ylabel(labels[column])
        ax.set_xticks([])
        ax.yaxis.set_major_formatter(NUMBER)
    fig.suptitle("Box plots (whiskers at 1.5 × IQR, points beyond are outliers)")
    fig.tight_layout()
"""
    return Cell(
        "charts",
        "box plots",
        "Box plots: median, quartiles and outliers of each numeric column.",
        code.strip() + "\n",
    )


def _line_cell(plan: Plan) -> Cell:
    unit = plan.unit
    code = f"""
x = np.arange(len(totals))
step = max(1, -(-len(x) // 12))
for metric in KEY:
    y = totals[metric]
    if y.notna().sum() < 2:
        continue
    name = label(metric, 40)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.plot(x, y.to_numpy(dtype=float), marker="o", linewidth=2, color="#4C72B0",
            label=f"{{'Total' if HOW[metric] == 'sum' else 'Mean'}} {{name}}")
    if CATEGORIES and by[metric].shape[1] <= 6:
        for value in by[metric].columns:
            ax.plot(x, by[metric][value].to_numpy(dtype=float), marker=".", linewidth=1, alpha=0.8,
                    label=label(value, 30))
    fit = trend.get(str(metric))
    if fit:
        ax.plot(x, fit["slope"] * x + fit["intercept"], linestyle="--", color="#C44E52",
                label=f"Trend: {{fit['slope']:+,.4g}} per {unit}")
    ax.set_title(f"{{name}} per {unit} with a least-squares trend line")
    ax.set_xlabel({chart_label(plan.time, 60)!r})
    ax.set_ylabel(f"{{'Total' if HOW[metric] == 'sum' else 'Mean'}} {{name}}")
    ax.set_xticks(x[::step], [period_names[i] for i in x[::step]],
                  rotation=30 if max(len(s) for s in period_names) > 4 else 0, ha="right" if max(len(s) for s in period_names) > 4 else "center")
    ax.yaxis.set_major_formatter(NUMBER)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
"""
    return Cell(
        "charts",
        "time-series lines",
        f"Line chart of each numeric column per {unit} with its fitted least-squares trend line.",
        code.strip() + "\n",
    )


def _bar_cell(plan: Plan) -> Cell:
    code = """
metrics = [m for m in KEY if df[m].notna().any()]
for category in CATEGORIES[:2]:
    if not metrics:
        break
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 0.45 * min(15, df[category].nunique()) + 2.4),
                             squeeze=False)
    cat_name = label(category, 40)
    for ax, metric in zip(axes.flat, metrics):
        values = df.groupby(category)[metric].agg(HOW[metric]).sort_values().tail(15)
        word = "Total" if HOW[metric] == "sum" else "Mean"
        names = [label(v, 25) for v in values.index]
        bars = ax.barh(names, values.to_numpy(dtype=float), color="#55A868")
        ax.bar_label(bars, labels=[f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}" for v in values], padding=3,
                     fontsize="small")
        metric_name = label(metric, 40)
        ax.set_title(f"{word} {metric_name} by {cat_name}")
        ax.set_xlabel(f"{word} {metric_name}")
        ax.set_ylabel(cat_name)
        ax.xaxis.set_major_formatter(NUMBER)
        ax.margins(x=0.2)
    kinds = {HOW[m] for m in metrics}
    fig.suptitle(f"{'Totals' if kinds == {'sum'} else 'Means' if kinds == {'mean'} else 'Totals and means'} by {cat_name}")
    fig.tight_layout()
"""
    return Cell(
        "charts",
        "grouped totals",
        "Bar charts of each numeric column by category: totals of amounts, means of measurements.",
        code.strip() + "\n",
    )


def _ranking_bar_cell() -> Cell:
    code = """
metrics = [m for m in KEY if df[m].notna().any()]
if metrics:
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 0.4 * len(df) + 2.4), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        values = pd.Series(df[metric].to_numpy(), index=row_name.to_numpy()).dropna().sort_values()
        bars = ax.barh([label(v, 25) for v in values.index], values.to_numpy(dtype=float), color="#8172B2")
        ax.bar_label(bars, labels=[f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}" for v in values], padding=3,
                     fontsize="small")
        ax.set_title(label(metric))
        ax.set_xlabel(label(metric))
        ax.xaxis.set_major_formatter(NUMBER)
        ax.margins(x=0.2)
    fig.suptitle("Rows ranked by each numeric column")
    fig.tight_layout()
"""
    return Cell(
        "charts", "ranking bars", "Bar charts ranking the rows by each numeric column.", code.strip() + "\n"
    )


def _count_bar_cell(plan: Plan) -> Cell:
    code = f"""
category = {plan.first_category!r}
counts = df[category].value_counts().head(15).sort_values()
if not counts.empty:
    cat_name = label(category, 40)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(counts) + 2))
    bars = ax.barh([label(v, 25) for v in counts.index], counts.to_numpy(), color="#55A868")
    ax.bar_label(bars, padding=3, fontsize="small")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Rows per {{cat_name}} (most frequent)")
    ax.set_xlabel("Rows")
    ax.set_ylabel(cat_name)
    fig.tight_layout()
"""
    return Cell(
        "charts",
        "value counts",
        "Bar chart of the most frequent values (there are no numeric columns).",
        code.strip() + "\n",
    )


def _heatmap_cell() -> Cell:
    code = """
matrix = df[NUMERIC].corr()
names = [label(c, 25) for c in matrix.columns]
size = max(5.0, 0.7 * len(names) + 2.5)
fig, ax = plt.subplots(figsize=(size + 1, size))
image = ax.imshow(matrix.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu_r")
ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
ax.set_yticks(range(len(names)), names)
if len(names) <= 10:
    for i in range(len(names)):
        for j in range(len(names)):
            r = matrix.iat[i, j]
            ax.text(j, i, "–" if pd.isna(r) else f"{r:.2f}", ha="center", va="center",
                    color="white" if pd.notna(r) and abs(r) > 0.6 else "black", fontsize="small")
fig.colorbar(image, ax=ax, label="Pearson r")
ax.set_title("Correlation between numeric columns")
fig.tight_layout()
"""
    return Cell(
        "charts",
        "correlation heatmap",
        "Heatmap of the correlations between the numeric columns.",
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
