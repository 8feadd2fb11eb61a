"""Exact aggregates of every row of a large file, computed with SQL, small enough to ship as a file.

A file above ``LARGE_FILE_BYTES`` lives in a DuckDB table while it is profiled; the analyst only gets a
sample of its rows. Before the connection closes, ``compute_aggregates`` asks DuckDB for what the
analyses of the plan (``shared.analysis_plan``) need, over every row, so the analyst computes its
statistics and draws its charts from these instead of the sample:

- ``columns``: per numeric column of the plan, the profile's count, missing, mean, std, min, quartiles,
  max and IQR outlier count, plus the sum and the box-plot whisker ends (the most extreme values inside
  the 1.5 x IQR fences, as matplotlib draws them);
- ``histograms``: row counts in fixed bins over [min, max], binned exactly as ``numpy.histogram`` bins;
- ``extremes``: the highest and lowest rows, the outliers farthest from the median and the most extreme
  outliers on each side, each with a readable row name (the first unique key, else "row N");
- ``groups``: total, mean and count of every numeric column per value of each low-cardinality category;
- ``top_groups``: the largest groups of a high-cardinality category;
- ``periods`` and ``period_groups``: per period (the plan's frequency) sums or means, and per period and
  largest category for the key metrics;
- ``correlations``: the Pearson matrix of the numeric columns (pairwise complete rows, as pandas);
- ``top_values``, ``distinct`` and ``missing``: the other columns' most frequent values, distinct and
  missing counts (from the profile where it has them).

Every part is bounded by the plan's limits (columns, categories, groups, periods), not by the row
count. The numbers follow the pandas code of the local analyst (groups drop missing keys, a sum of no
values is 0, a mean of none is missing, ties go to the earlier row). Column names and values are
untrusted text: identifiers are quoted, values are bound as parameters.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.analysis_plan import MAX_BINS, MAX_CHART_NUMERIC, MIN_BINS, MONTH_NAMES, Plan
from shared.profile_duckdb import quote

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from shared.profile import ColumnProfile, Profile

log = logging.getLogger(__name__)

FILE_NAME = "aggregates.json"  # the name the analyst's cells read
TOP_ROWS = 3  # highest and lowest rows per column
OUTLIER_ROWS = 5  # outliers farthest from the median, named
FLIERS = 10  # outliers drawn in a box plot, on each side
LARGEST_GROUPS = 10  # of a high-cardinality category
PERIOD_CATEGORIES = 6  # largest values of the first category, per period
TOP_VALUES = 5  # most frequent values of the other columns
MAX_COUNTED_DISTINCT = 10_000  # a column the profile gave no top values is counted only up to this

_BOOLEAN_TEXT = {"true": "True", "false": "False"}  # the profile's words -> pandas' text
_TRUNC = {"h": "hour", "D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


@dataclass(frozen=True)
class Rows:
    """A small table: column names and rows of JSON-ready values."""

    columns: list[str]
    rows: list[list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows}


@dataclass
class Aggregates:
    """What the analyst gets instead of every row. ``to_dict`` is the content of ``aggregates.json``."""

    rows: int
    column_count: int
    plan: Plan  # the choices these aggregates were computed for; the analyst must use the same
    row_names: list[str]  # the columns that name a row in ``extremes`` (empty: "row N", N from 1)
    columns: Rows
    histograms: Rows
    extremes: Rows
    missing: dict[str, int]
    distinct: dict[str, int]  # of the columns that are neither metrics nor dates, in file order
    top_values: Rows
    groups: Rows | None = None
    top_groups: dict[str, Any] | None = None
    periods: Rows | None = None
    period_groups: Rows | None = None
    time_max: str | None = None  # the last instant of the time column (ISO), for an incomplete last period
    correlations: Rows | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "column_count": self.column_count,
            "row_names": self.row_names,
            "time_column": self.plan.time,
            "frequency": self.plan.freq,
            "time_max": self.time_max,
            "missing": self.missing,
            "distinct": self.distinct,
        }
        for name in ("columns", "histograms", "extremes", "top_values", "groups", "periods",
                     "period_groups", "correlations"):  # fmt: skip
            part = getattr(self, name)
            if part is not None:
                out[name] = part.to_dict()
        if self.top_groups is not None:
            out["top_groups"] = self.top_groups
        return out

    def to_json(self) -> bytes:
        """The file the local analyst's cells read (exact floats; NaN and infinities as null)."""
        return json.dumps(_finite(self.to_dict()), ensure_ascii=False, allow_nan=False).encode()

    def compact_json(self, digits: int = 12) -> str:
        """For a prompt: floats to ``digits`` significant digits, without what the profile already has."""
        data = self.to_dict()
        for known in ("missing", "distinct", "top_values"):
            data.pop(known)
        return json.dumps(_finite(data, digits), separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def files(self) -> dict[str, bytes]:
        return {FILE_NAME: self.to_json()}


def analyst_aggregates(
    con: duckdb.DuckDBPyConnection,
    table: str,
    profile: Profile,
    sample: pd.DataFrame,
    pearson: Callable[[str, str], float] | None = None,
) -> Aggregates | None:
    """The aggregates for the plan the analyst will make from ``sample`` (the rows it gets), or None if
    DuckDB fails (out of memory on a huge group-by, say): the analyst then works from the sample alone.
    ``pearson`` answers r of two columns when the caller has them (the profile engine's), else SQL does."""
    import duckdb

    from shared.analysis_plan import make_plan

    started = time.perf_counter()
    try:
        aggregates = compute_aggregates(con, table, profile, make_plan(profile, sample), pearson)
    except duckdb.Error as err:
        log.warning("the aggregates of the large file failed; the analyst works from the sample: %s", err)
        return None
    log.info("aggregates of %d rows in %.1f s, %d bytes", profile.rows, time.perf_counter() - started,
             len(aggregates.to_json()))
    return aggregates


def compute_aggregates(
    con: duckdb.DuckDBPyConnection,
    table: str,
    profile: Profile,
    plan: Plan,
    pearson: Callable[[str, str], float] | None = None,
) -> Aggregates:
    """The aggregates of every row of ``table`` that ``plan``'s analyses need (see the module doc)."""
    return _Builder(con, table, profile, plan, pearson).build()


class _Builder:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        profile: Profile,
        plan: Plan,
        pearson: Callable[[str, str], float] | None = None,
    ) -> None:
        self.pearson = pearson
        self.con = con
        self.table = quote(table)
        self.profile = profile
        self.plan = plan
        self.how = {m: "sum" if m in plan.additive else "mean" for m in plan.numeric}
        self.raw: dict[tuple[str, str], Any] = {}  # (category, value as text) -> the value, for SQL filters

    def _all(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def build(self) -> Aggregates:
        plan, profile = self.plan, self.profile
        row_names = self._row_names()
        columns, bounds = self._columns()
        aggregates = Aggregates(
            rows=profile.rows,
            column_count=len(profile.columns),
            plan=plan,
            row_names=row_names,
            columns=columns,
            histograms=self._histograms(bounds),
            extremes=self._extremes(row_names, bounds),
            missing={c.name: c.missing for c in profile.columns if c.missing},
            distinct={c.name: c.distinct for c in self._listed()},
            top_values=self._top_values(),
        )
        if plan.numeric and plan.categories:
            aggregates.groups = self._groups()
        if plan.numeric and plan.top_category:
            aggregates.top_groups = self._top_groups()
        if plan.numeric and plan.time:
            aggregates.periods, aggregates.time_max = self._periods()
            if plan.categories:
                aggregates.period_groups = self._period_groups(aggregates.groups)
        if len(plan.numeric) >= 2:
            aggregates.correlations = self._correlations()
        return aggregates

    # --- per column -------------------------------------------------------------------------------

    def _number(self, column: str) -> str:
        return f"CAST({quote(column)} AS DOUBLE)"

    def _columns(self) -> tuple[Rows, dict[str, dict[str, Any]]]:
        """The profile's statistics plus sums and whisker ends, in one scan (and the finite range of a
        column holding infinities, for its histogram)."""
        names = self.plan.numeric
        selects, params, bounds = [], [], {}
        for name in names:
            c = self.profile.column(name)
            v = self._number(name)
            low, high = _fences(c)
            bounds[name] = {"min": c.min, "max": c.max, "fences": (low, high)}
            selects += [f"sum({quote(name)})", f"min({v}) FILTER (WHERE {v} >= ?)", f"max({v}) FILTER (WHERE {v} <= ?)"]
            params += [low, high]
            if c.count and not (math.isfinite(c.min) and math.isfinite(c.max)):
                selects += [f"min({v}) FILTER (WHERE isfinite({v}))", f"max({v}) FILTER (WHERE isfinite({v}))"]
        found = list(self._all(f"SELECT {', '.join(selects)} FROM {self.table}", params)[0]) if selects else []
        rows = []
        for name in names:
            c = self.profile.column(name)
            total, inside_low, inside_high = found[:3]
            del found[:3]
            if c.count and not (math.isfinite(c.min) and math.isfinite(c.max)):
                bounds[name]["min"], bounds[name]["max"] = found[:2]
                del found[:2]
            # matplotlib's rule: a whisker ends at the most extreme value inside its fence, never inside the box
            whisker_low = c.q1 if inside_low is None or c.q1 is None or inside_low > c.q1 else inside_low
            whisker_high = c.q3 if inside_high is None or c.q3 is None or inside_high < c.q3 else inside_high
            rows.append([
                name, c.count, c.missing, c.mean, c.std, c.min, c.q1, c.median, c.q3, c.max,
                0 if total is None else _plain(total), c.outliers, whisker_low, whisker_high,
            ])  # fmt: skip
        header = ["column", "count", "missing", "mean", "std", "min", "25%", "50%", "75%", "max", "sum",
                  "outliers", "whisker_low", "whisker_high"]  # fmt: skip
        return Rows(header, rows), bounds

    def _histograms(self, bounds: dict[str, dict[str, Any]]) -> Rows:
        """Row counts in the bins ``numpy.histogram`` makes of each charted column (the local analyst's bin
        count rule), with numpy's index arithmetic and edge corrections, so each value lands in the same
        bin; every column in one scan."""
        import numpy as np

        charted, inner, counters, inner_params = [], [], [], []
        for name in self.plan.numeric[:MAX_CHART_NUMERIC]:
            count, low, high = self.profile.column(name).count, bounds[name]["min"], bounds[name]["max"]
            if not count or low is None:
                continue
            bins = int(min(MAX_BINS, max(MIN_BINS, math.sqrt(count))))
            edges = np.histogram_bin_edges(np.array([low, high], dtype=float), bins=bins)
            first, last = float(edges[0]), float(edges[-1])
            k = len(charted)
            charted.append((name, bins, edges))
            v = self._number(name)
            inner += [f"{v} AS v{k}", f"least(CAST(floor(({v} - ?) / ? * ?) AS BIGINT), {bins - 1}) AS i{k}"]
            inner_params += [first, last - first, bins]
            # DuckDB lists are 1-based: e[i + 1] is numpy's bin_edges[i]
            e = "(?::DOUBLE[])"
            counters.append(
                f"histogram(CASE WHEN v{k} < {e}[i{k} + 1] THEN i{k} - 1 "
                f"WHEN i{k} < {bins - 1} AND v{k} >= {e}[i{k} + 2] THEN i{k} + 1 ELSE i{k} END) "
                f"FILTER (WHERE v{k} >= ? AND v{k} <= ?)"
            )
        if not charted:
            return Rows(["column", "bin", "left", "right", "rows"], [])
        params = []  # in the order of the placeholders: the outer select's, then the inner one's
        for _, _, edges in charted:
            listed = [float(x) for x in edges]
            params += [listed, listed, float(edges[0]), float(edges[-1])]
        found = self._all(
            f"SELECT {', '.join(counters)} FROM (SELECT {', '.join(inner)} FROM {self.table})", params + inner_params
        )
        rows = []
        for (name, bins, edges), counts in zip(charted, found[0], strict=True):
            counts = counts or {}
            rows += [[name, b, float(edges[b]), float(edges[b + 1]), int(counts.get(b, 0))] for b in range(bins)]
        return Rows(["column", "bin", "left", "right", "rows"], rows)

    def _extremes(self, row_names: list[str], bounds: dict[str, dict[str, Any]]) -> Rows:
        """Highest and lowest rows (ties: the earlier row first, as pandas' nlargest), the outliers
        farthest from the median, and the most extreme outliers on each side for box plots. One top-N
        query each (DuckDB keeps a heap of N rows; a struct-keyed ``min_by`` over every row is far slower)."""
        picked: list[tuple[str, str, int, int, float]] = []  # column, kind, rank, rowid, value
        n = min(TOP_ROWS, max(1, self.profile.rows // 2))
        for name in self.plan.numeric:
            c = self.profile.column(name)
            if not c.count:
                continue
            v = self._number(name)
            queries = [
                ("highest", f"{v} IS NOT NULL", f"{v} DESC, rowid", n, []),
                ("lowest", f"{v} IS NOT NULL", f"{v} ASC, rowid", n, []),
            ]
            low, high = bounds[name]["fences"]
            if c.count >= 4 and low is not None and c.outliers:
                queries += [
                    ("outlier", f"({v} < ? OR {v} > ?)", f"abs({v} - ?) DESC, rowid", OUTLIER_ROWS,
                     [low, high, c.median]),
                    ("flier_low", f"{v} < ?", f"{v} ASC, rowid", FLIERS, [low]),
                    ("flier_high", f"{v} > ?", f"{v} DESC, rowid", FLIERS, [high]),
                ]  # fmt: skip
            for kind, where, order, limit, params in queries:
                found = self._all(
                    f"SELECT rowid, {v} FROM {self.table} WHERE {where} ORDER BY {order} LIMIT {int(limit)}",
                    params,
                )
                picked += [(name, kind, rank, int(r), float(value)) for rank, (r, value) in enumerate(found, 1)]
        names = self._names_of({p[3] for p in picked}, row_names)
        return Rows(
            ["column", "kind", "rank", "row", "value"],
            [[column, kind, rank, names[rowid], value] for column, kind, rank, rowid, value in picked],
        )

    def _row_names(self) -> list[str]:
        """The first label candidate that is a unique key of every row (no missing, no repeats), as the
        local analyst's pandas code chooses it; single columns from the profile's counts, pairs by SQL."""
        rows = self.profile.rows
        for key in self.plan.label_candidates:
            columns = [self.profile.column(k) for k in key]
            if not rows or any(c.missing for c in columns):
                continue
            if len(key) == 1:
                if columns[0].distinct == rows:
                    return list(key)
                continue
            if math.prod(c.distinct for c in columns) < rows:
                continue  # fewer combinations than rows: some repeat (and no scan needed)
            listed = ", ".join(quote(k) for k in key)
            distinct = self._all(f"SELECT count(*) FROM (SELECT DISTINCT {listed} FROM {self.table})")[0][0]
            if distinct == rows:
                return list(key)
        return []

    def _names_of(self, rowids: set[int], row_names: list[str]) -> dict[int, str]:
        if not row_names:
            return {r: f"row {r + 1}" for r in rowids}
        if not rowids:
            return {}
        listed = ", ".join(quote(k) for k in row_names)
        found = self._all(
            f"SELECT rowid, {listed} FROM {self.table} WHERE rowid IN (SELECT unnest(?::BIGINT[]))",
            [sorted(rowids)],
        )
        midnight = [_all_midnight(self.profile.column(k)) for k in row_names]
        return {
            int(row[0]): " ".join(_as_text(value, date) for value, date in zip(row[1:], midnight, strict=True))
            for row in found
        }

    def _listed(self) -> list[ColumnProfile]:
        """The columns whose most frequent values the summary lists: neither plan metrics nor dates."""
        return [c for c in self.profile.columns if c.name not in self.plan.numeric and c.type != "datetime"]

    def _top_values(self) -> Rows:
        """The most frequent values of the listed columns: from the profile where it has them (booleans
        written True/False, as pandas writes them), else counted when the column has few distinct values."""
        rows = []
        for c in self._listed():
            if c.top_values:
                top = [
                    (_BOOLEAN_TEXT.get(value, value) if c.type == "boolean" else value, count)
                    for value, count in c.top_values[:TOP_VALUES]
                ]
            elif c.count and c.distinct <= MAX_COUNTED_DISTINCT:
                q = quote(c.name)
                top = [
                    (_as_text(value), int(count))
                    for value, count in self._all(
                        f"SELECT {q}, count(*) AS n FROM {self.table} WHERE {q} IS NOT NULL "
                        f"GROUP BY {q} ORDER BY n DESC, {q} LIMIT {TOP_VALUES}"
                    )
                ]
            else:
                top = []
            rows += [[c.name, value, count] for value, count in top]
        return Rows(["column", "value", "count"], rows)

    # --- groups and periods -----------------------------------------------------------------------

    def _metric_aggregates(self, metrics: list[str], how: bool = True) -> list[str]:
        """Per metric: its value per ``HOW`` (a sum of no values is 0, as pandas' sum) or total, mean, count."""
        parts: list[str] = []
        for m in metrics:
            q = quote(m)
            if how:
                parts.append(f"coalesce(sum({q}), 0)" if self.how[m] == "sum" else f"avg({self._number(m)})")
            else:
                parts += [f"coalesce(sum({q}), 0)", f"avg({self._number(m)})", f"count({q})"]
        return parts

    def _groups(self) -> Rows:
        numeric = self.plan.numeric
        rows = []
        for category in self.plan.categories:
            q = quote(category)
            metrics = ", ".join(self._metric_aggregates(numeric, how=False))
            found = self._all(
                f"SELECT {q}, count(*), {metrics} FROM {self.table} WHERE {q} IS NOT NULL GROUP BY {q} ORDER BY {q}"
            )
            for row in found:
                value = _as_text(row[0])
                self.raw[(category, value)] = row[0]
                for i, metric in enumerate(numeric):
                    total, mean, count = row[2 + 3 * i : 5 + 3 * i]
                    rows.append([category, value, metric, _plain(total), mean, int(count)])
        return Rows(["category", "value", "metric", "total", "mean", "count"], rows)

    def _top_groups(self) -> dict[str, Any]:
        category, metrics = self.plan.top_category, self.plan.numeric[:2]
        q = quote(category)
        groups = "__csv_insights_top_groups"
        aggregated = ", ".join(f"{expr} AS m{i}" for i, expr in enumerate(self._metric_aggregates(metrics)))
        # one group-by over the whole column, kept for the ranking queries, then dropped
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {groups} AS SELECT {q} AS value, {aggregated} "
            f"FROM {self.table} WHERE {q} IS NOT NULL GROUP BY {q}"
        )
        try:
            distinct = self.profile.column(category).distinct
            out: dict[str, Any] = {"category": category, "distinct": distinct, "metrics": {}}
            for i, metric in enumerate(metrics):
                (grand,) = self._all(f"SELECT sum(m{i}) FROM {groups}")[0]
                largest = self._all(
                    f"SELECT value, m{i} FROM {groups} WHERE m{i} IS NOT NULL ORDER BY m{i} DESC, value "
                    f"LIMIT {LARGEST_GROUPS}"
                )
                out["metrics"][metric] = {
                    "how": self.how[metric],
                    "all_groups": None if grand is None else _plain(grand),
                    "largest": [[_as_text(value), _plain(total)] for value, total in largest],
                }
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {groups}")
        return out

    def _period(self) -> str:
        q = quote(self.plan.time)
        if self.plan.time_kind == "month":
            cases = " ".join(f"WHEN '{name}' THEN {n}" for n, name in enumerate(MONTH_NAMES, 1))
            return f"(CASE lower(left(trim(CAST({q} AS VARCHAR)), 3)) {cases} END)"
        return f"date_trunc('{_TRUNC[self.plan.freq]}', CAST({q} AS TIMESTAMP))"

    def _periods(self) -> tuple[Rows, str | None]:
        numeric = self.plan.numeric
        found = self._all(
            f"SELECT p, count(*), {', '.join(self._metric_aggregates(numeric))} FROM "
            f"(SELECT {self._period()} AS p, * FROM {self.table}) WHERE p IS NOT NULL GROUP BY p ORDER BY p"
        )
        rows = [[_period_text(row[0]), int(row[1]), *(_plain(v) for v in row[2:])] for row in found]
        time_max = None
        if self.plan.time_kind == "datetime":
            (last,) = self._all(f"SELECT max(CAST({quote(self.plan.time)} AS TIMESTAMP)) FROM {self.table}")[0]
            time_max = None if last is None else last.isoformat()
        return Rows(["period", "rows", *numeric], rows), time_max

    def _period_groups(self, groups: Rows | None) -> Rows:
        """Per period, the key metrics of the first category's largest values by the first metric."""
        category, first, key = self.plan.categories[0], self.plan.numeric[0], self.plan.key
        value = 3 if self.how[first] == "sum" else 4  # total or mean in a groups row
        ranked = [r for r in (groups.rows if groups else []) if r[0] == category and r[2] == first]
        ranked = [r for r in ranked if r[value] is not None]
        # pandas' nlargest keeps the first of ties, in the groups' (sorted) order
        largest = sorted(ranked, key=lambda r: -r[value])[:PERIOD_CATEGORIES]
        if not largest:
            return Rows(["period", "value", *key], [])
        q = quote(category)
        raws = [self.raw[(category, r[1])] for r in largest]
        found = self._all(
            f"SELECT p, c, {', '.join(self._metric_aggregates(key))} "
            f"FROM (SELECT {self._period()} AS p, {q} AS c, * FROM {self.table}) "
            f"WHERE p IS NOT NULL AND c IN ({', '.join('?' for _ in raws)}) GROUP BY p, c ORDER BY p, c",
            raws,
        )
        rows = [[_period_text(r[0]), _as_text(r[1]), *(_plain(v) for v in r[2:])] for r in found]
        return Rows(["period", "value", *key], rows)

    def _correlations(self) -> Rows:
        """Pearson r of every pair in one scan; ``corr`` skips rows where either value is missing, as
        pandas' pairwise-complete ``DataFrame.corr``; a constant column has no r (not even with itself).
        The diagonal needs no scan: 1 for a column that varies."""
        names = self.plan.numeric
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        if self.pearson is not None:
            found = [[self.pearson(names[i], names[j]) for i, j in pairs]]
        else:
            values = [self._number(n) for n in names]
            corrs = ", ".join(f"corr({values[i]}, {values[j]})" for i, j in pairs)
            found = self._all(f"SELECT {corrs} FROM {self.table}")
        matrix = [[None] * len(names) for _ in names]
        for i, name in enumerate(names):
            std = self.profile.column(name).std
            matrix[i][i] = 1.0 if std is not None and math.isfinite(std) and std > 0 else None
        for (i, j), r in zip(pairs, found[0], strict=True):
            r = None if r is None or not math.isfinite(r) else max(-1.0, min(1.0, float(r)))
            matrix[i][j] = matrix[j][i] = r
        return Rows(["column", *names], [[name, *row] for name, row in zip(names, matrix, strict=True)])


def _fences(c: ColumnProfile) -> tuple[float | None, float | None]:
    if c.q1 is None or c.q3 is None:
        return None, None
    iqr = c.q3 - c.q1
    return c.q1 - 1.5 * iqr, c.q3 + 1.5 * iqr


def _all_midnight(c: ColumnProfile) -> bool:
    # the profile writes a bare date when no value has a time of day
    return c.type == "datetime" and c.start is not None and len(c.start) == 10


def _as_text(value: Any, date_only: bool = False) -> str:
    """A value as pandas' ``astype("string")`` writes it (True, 2024-01-31, 1.5), so names and group
    keys read the same for large files as for small ones."""
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        return value.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S")
    return str(value)


def _period_text(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else int(value)


def _plain(value: Any) -> Any:
    """A SQL number as a JSON number (HUGEINT and DECIMAL sums included)."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return float(value)


def _finite(value: Any, digits: int | None = None) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}") if digits else value
    if isinstance(value, dict):
        return {k: _finite(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, digits) for v in value]
    return value
