"""The chart cells of the local analyst (matplotlib), drawn from small tables in both modes.

Each chart is drawn from aggregates, never from the rows themselves: histograms from bin counts, box
plots from their statistics (``ax.bxp``), lines from the per-period series, bars from the per-group
totals, the heatmap from the correlation matrix. For a file read whole the cell computes those tables
from ``df`` (the same numbers ``ax.hist`` or ``ax.boxplot`` would); for a large file they come from
``aggregates.json`` (every row). The cells use the names the load and statistics cells define
(``local_code``).
"""

from __future__ import annotations

from shared.analysis_plan import MAX_BINS, MAX_CHART_NUMERIC, MIN_BINS, Plan
from shared.analysts.local_code import Cell, chart_label, source


def _grid(var: str) -> str:
    return f"""n = len({var})
ncols = min(3, n)
nrows = -(-n // ncols)
fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False)
for ax in axes.flat[n:]:
    ax.set_visible(False)"""


def hist_cell(aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        f"""
histograms = {{}}  # column -> (rows per bin, bin edges)
for column in [c for c in NUMERIC[:{MAX_CHART_NUMERIC}] if c in PRESENT]:
    values = df[column].dropna().to_numpy(dtype=float)
    histograms[column] = np.histogram(values, bins=int(min({MAX_BINS}, max({MIN_BINS}, np.sqrt(len(values))))))
""",
        f"""
histograms = {{}}  # column -> (rows per bin, bin edges)
bins = aggregate("histograms")
for column in [c for c in NUMERIC[:{MAX_CHART_NUMERIC}] if c in PRESENT]:
    part = bins[bins["column"] == column].sort_values("bin")
    histograms[column] = (part["rows"].to_numpy(), np.append(part["left"].to_numpy(), part["right"].iloc[-1]))
""",
    )
    code = f"""
{tables}
columns = list(histograms)
labels = {{c: label(c) for c in columns}}
if columns:
    {_grid("columns").replace(chr(10), chr(10) + "    ")}
    for ax, column in zip(axes.flat, columns):
        counts, edges = histograms[column]
        # one weighted point per bin: the bars are the bin counts
        ax.hist(edges[:-1], bins=edges, weights=counts, color="#4C72B0", edgecolor="white")
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


def box_cell(aggregated: bool) -> Cell:
    tables = source(
        aggregated,
        f"""
from matplotlib import cbook

boxes = {{}}  # column -> what ax.bxp draws: quartiles, whisker ends, outliers
for column in [c for c in NUMERIC[:{MAX_CHART_NUMERIC}] if c in PRESENT]:
    boxes[column] = cbook.boxplot_stats(df[column].dropna().to_numpy(dtype=float), whis=1.5)[0]
""",
        f"""
boxes = {{}}  # column -> what ax.bxp draws: quartiles, whisker ends, outliers
for column in [c for c in NUMERIC[:{MAX_CHART_NUMERIC}] if c in PRESENT]:
    stats = COLUMNS.loc[column]
    # of the outliers, only the most extreme on each side are in the aggregates
    fliers = pd.concat([picked(column, "flier_low"), picked(column, "flier_high")])
    boxes[column] = {{"med": stats["50%"], "q1": stats["25%"], "q3": stats["75%"],
                      "whislo": stats["whisker_low"], "whishi": stats["whisker_high"], "fliers": fliers.to_numpy()}}
""",
    )
    code = f"""
{tables}
columns = list(boxes)
labels = {{c: label(c) for c in columns}}
if columns:
    {_grid("columns").replace(chr(10), chr(10) + "    ")}
    for ax, column in zip(axes.flat, columns):
        ax.bxp([boxes[column]], widths=0.5, patch_artist=True,
               boxprops={{"facecolor": "#C6D4EA"}}, medianprops={{"color": "#C44E52", "linewidth": 2}})
        ax.set_title(labels[column])
        ax.set_ylabel(labels[column])
        ax.set_xticks([])
        ax.yaxis.set_major_formatter(NUMBER)
    fig.suptitle("Box plots (whiskers at 1.5 × IQR, points beyond are outliers)")
    fig.tight_layout()
"""
    text = "Box plots: median, quartiles and outliers of each numeric column."
    if aggregated:
        text += " Of the outliers, the 10 most extreme on each side are drawn."
    return Cell("charts", "box plots", text, code.strip() + "\n")


def line_cell(plan: Plan) -> Cell:
    """From the time cell's per-period ``totals``, ``by`` and ``trend``: the same in both modes."""
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


def bar_cell() -> Cell:
    """From the groups cell's ``grouped_tables``: the same in both modes."""
    code = """
metrics = [m for m in KEY if m in PRESENT]
for category in CATEGORIES[:2]:
    if not metrics:
        break
    totals, means = grouped_tables[category]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 0.45 * min(15, len(totals)) + 2.4),
                             squeeze=False)
    cat_name = label(category, 40)
    for ax, metric in zip(axes.flat, metrics):
        values = (totals if HOW[metric] == "sum" else means)[metric].sort_values().tail(15)
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


def ranking_bar_cell() -> Cell:
    """Every row as a bar: only for small tables read whole (the plan allows it up to 40 rows)."""
    code = """
metrics = [m for m in KEY if m in PRESENT]
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


def count_bar_cell(plan: Plan, aggregated: bool) -> Cell:
    counted = source(
        aggregated,
        "counts = df[category].value_counts().head(15).sort_values()",
        """
frequent = aggregate("top_values")
counts = frequent[frequent["column"] == category].set_index("value")["count"].head(15).sort_values()
""",
    )
    code = f"""
category = {plan.first_category!r}
{counted}
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


def heatmap_cell() -> Cell:
    """From the correlations cell's matrix ``corr``: the same in both modes."""
    code = """
matrix = corr
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
