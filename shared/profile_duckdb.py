"""The streaming profile engine: DuckDB answers ``compute_profile``'s questions with SQL.

The table lives in a DuckDB database (``shared.large_file`` loads a CSV into it, column by column
typed as ``shared.csv_reader`` would), so memory is bounded by DuckDB's ``memory_limit`` and the
columnar storage spills to the database's temp directory, not by the file's size. Every question
reads only the columns it needs.

A numeric column is answered from its frequency table (each distinct value with its count, one
``GROUP BY`` scan) whenever it has at most ``FREQUENCY_LIMIT`` distinct values, which real columns
(prices, quantities, measurements rounded to a few digits) almost always have: count, distinct, min,
max, mean, std, exact quartiles and the IQR outliers all follow from those pairs in numpy, in one scan
instead of four. Above the limit, SQL aggregates answer (``quantile_cont``, then a second pass).

The numbers match ``PandasEngine``: quantiles are exact (linear interpolation between order
statistics, as numpy), std is the sample std from centred squares (as numpy), Pearson r is DuckDB's
``corr`` over pairwise-complete rows (a stable co-moment update, all pairs in one scan). Float sums may
differ in the last bits (different summation order); the comparison tests allow 1e-9 relative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shared.profile_engine import Counts, Lengths, NumericSummary, TimeRange

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


def quote(name: str) -> str:
    """A column name as a DuckDB identifier (names are untrusted text from the file)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Column:
    name: str
    sql_type: str


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "FLOAT", "DOUBLE", "REAL")  # fmt: skip


_BATCHED_COLUMNS = 40  # up to this many numeric columns, every pair's r comes from two scans
FREQUENCY_LIMIT = 1_000_000  # distinct values of a numeric column fetched as (value, count) pairs: 16 MB


@dataclass(frozen=True)
class _Frequencies:
    """A numeric column's distinct values, ascending and all finite, with how often each occurs."""

    values: np.ndarray  # float64
    counts: np.ndarray  # int64
    whole: bool  # every value is a whole number

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def order_statistic(self, rank: int) -> float:
        """The value at 0-based ``rank`` of the sorted column."""
        return float(self.values[np.searchsorted(np.cumsum(self.counts), rank, side="right")])

    def mean(self) -> float:
        # centred on a value of the column, so a constant column has mean exactly that (and std 0)
        pivot = self.values[len(self.values) // 2]
        return float(pivot + np.dot(self.values - pivot, self.counts) / self.count)

    def summary(self) -> NumericSummary:
        n, values, counts = self.count, self.values, self.counts
        mean = self.mean()
        deviations = values - mean
        std = math.sqrt(float(np.dot(deviations * deviations, counts)) / (n - 1)) if n > 1 else float("nan")
        q1, median, q3 = (self._quantile(p) for p in (0.25, 0.5, 0.75))
        iqr = q3 - q1
        outside = (values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr)
        return NumericSummary(
            mean=mean,
            std=std,
            min=float(values[0]),
            q1=q1,
            median=median,
            q3=q3,
            max=float(values[-1]),
            outliers=int(counts[outside].sum()),
        )

    def _quantile(self, p: float) -> float:
        # numpy's default ("linear"): h = (n - 1) p, between the order statistics floor(h) and floor(h) + 1
        h = (self.count - 1) * p
        low = math.floor(h)
        a = self.order_statistic(low)
        if h == low:
            return a
        b = self.order_statistic(low + 1)
        t = h - low
        return float(b - (b - a) * (1 - t)) if t >= 0.5 else float(a + (b - a) * t)  # numpy's _lerp


class DuckDBEngine:
    """Answers from one table of a DuckDB connection (the connection is the caller's to close)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, table: str, timezones: dict[str, str] | None = None
    ) -> None:
        self._con = con
        self._timezones = timezones or {}  # column -> zone of tz-aware columns (stored as UTC)
        self._table = quote(table)
        described = con.execute(f"DESCRIBE {self._table}").fetchall()
        self._columns = [_Column(row[0], row[1].upper()) for row in described]
        if len({c.name for c in self._columns}) != len(self._columns):
            raise ValueError("column names must be unique")
        self._types = {c.name: c.sql_type for c in self._columns}
        self._rows: int | None = None
        self._counts: dict[str, Counts] = {}
        self._frequencies: dict[str, _Frequencies | None] = {}
        self._pearson: dict[tuple[str, str], float] | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> DuckDBEngine:
        """An engine over an in-memory copy of ``frame`` (for comparing engines on small tables)."""
        import duckdb

        import pandas as pd

        # datetimes travel as int64 nanoseconds (UTC when tz-aware) so no precision or zone is lost
        frame = frame.copy()
        timezones, stamps = {}, []
        for name in frame.columns:
            dtype = frame[name].dtype
            if pd.api.types.is_datetime64_any_dtype(dtype):
                series = frame[name]
                if getattr(dtype, "tz", None) is not None:
                    timezones[name] = str(dtype.tz)
                    series = series.dt.tz_convert("UTC").dt.tz_localize(None)
                ns = series.astype("datetime64[ns]").astype("int64")
                frame[name] = pd.array(ns.where(series.notna()), dtype="Int64")
                stamps.append(name)
        con = duckdb.connect()
        con.register("frame_view", frame)
        select = ", ".join(
            f"make_timestamp_ns({quote(n)}) AS {quote(n)}" if n in stamps else quote(n) for n in frame.columns
        )
        con.execute(f"CREATE TABLE profiled AS SELECT {select or '*'} FROM frame_view")
        con.unregister("frame_view")
        return cls(con, "profiled", timezones)

    def _one(self, sql: str, params: list | None = None) -> tuple:
        return self._con.execute(sql, params or []).fetchall()[0]

    def rows(self) -> int:
        if self._rows is None:
            self._rows = int(self._one(f"SELECT count(*) FROM {self._table}")[0])
        return self._rows

    def duplicate_rows(self) -> int:
        if not self._columns:
            return 0
        # Rows whose 64-bit hash is unique are certainly distinct; only rows sharing a hash are compared
        # in full (exact, and far cheaper than DISTINCT over every column of every row).
        columns = ", ".join(quote(c.name) for c in self._columns)
        hashed = f"(SELECT hash({columns}) AS h FROM {self._table})"
        # as many distinct hashes as rows: no two rows are equal (the common case, and the cheapest count)
        if int(self._one(f"SELECT count(DISTINCT h) FROM {hashed}")[0]) == self.rows():
            return 0
        unique_hashes, shared = self._one(
            f"SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n > 1) "
            f"FROM (SELECT h, count(*) AS n FROM {hashed} GROUP BY h)"
        )
        distinct = int(unique_hashes)
        if shared:
            distinct += int(
                self._one(
                    f"SELECT count(*) FROM (SELECT DISTINCT * FROM {self._table} WHERE hash({columns}) IN "
                    f"(SELECT h FROM {hashed} GROUP BY h HAVING count(*) > 1))"
                )[0]
            )
        return self.rows() - distinct

    def columns(self) -> list[str]:
        return [c.name for c in self._columns]

    def storage(self, column: str) -> str:
        sql_type = self._types[column]
        if sql_type == "BOOLEAN":
            return "boolean"
        if sql_type.startswith(("TIMESTAMP", "DATE")):
            return "datetime"
        if sql_type in _NUMERIC or sql_type.startswith("DECIMAL"):
            return "numeric"
        return "string"

    def _value(self, column: str) -> str:
        """The column as SQL. NaN never reaches a table: DuckDB reads a frame's NaN as NULL, and the
        CSV loader flags "nan" text for the reader's converters (which make it missing)."""
        return quote(column)

    def _numeric_frequencies(self, column: str) -> _Frequencies | None:
        """The column's frequency table, or None when it is not numeric, has more than FREQUENCY_LIMIT
        distinct values, or holds a non-finite value (numpy's rules for inf are the SQL path's)."""
        if column not in self._frequencies:
            found = None
            if self.storage(column) == "numeric" and FREQUENCY_LIMIT > 0:
                q = quote(column)
                pairs = self._con.execute(
                    f"SELECT CAST({q} AS DOUBLE) AS v, count(*) AS n FROM {self._table} "
                    f"WHERE {q} IS NOT NULL GROUP BY {q} LIMIT {FREQUENCY_LIMIT + 1}"
                ).fetchnumpy()
                values = np.asarray(pairs["v"], dtype="float64")
                if len(values) <= FREQUENCY_LIMIT and np.isfinite(values).all():
                    order = np.argsort(values, kind="stable")
                    values, counts = values[order], np.asarray(pairs["n"], dtype="int64")[order]
                    whole = self._types[column] in _NUMERIC[:9] or bool(np.all(values == np.floor(values)))
                    found = _Frequencies(values, counts, whole)
            self._frequencies[column] = found
        return self._frequencies[column]

    def counts(self, column: str) -> Counts:
        if column not in self._counts and (frequencies := self._numeric_frequencies(column)) is not None:
            count = frequencies.count
            # distinct values of the stored type (two BIGINTs may share a float64)
            distinct = len(frequencies.counts)
            self._counts[column] = Counts(count=count, missing=self.rows() - count, distinct=distinct)
        if column not in self._counts:
            v = self._value(column)
            count, distinct = self._one(f"SELECT count({v}), count(DISTINCT {v}) FROM {self._table}")
            self._counts[column] = Counts(count=int(count), missing=self.rows() - int(count), distinct=int(distinct))
        return self._counts[column]

    def integral(self, column: str) -> bool:
        if self._types[column] in _NUMERIC[:9]:
            return True
        if (frequencies := self._numeric_frequencies(column)) is not None:
            return frequencies.whole
        v = self._value(column)
        found = self._one(f"SELECT bool_and({v} = floor({v})) FROM {self._table} WHERE isfinite({v})")[0]
        return found is None or bool(found)

    def numeric_summary(self, column: str) -> NumericSummary | None:
        if (frequencies := self._numeric_frequencies(column)) is not None:
            return frequencies.summary() if len(frequencies.counts) else None
        v = f"CAST({self._value(column)} AS DOUBLE)"
        row = self._one(
            f"SELECT count({v}), avg({v}), min({v}), max({v}), "
            f"quantile_cont({v}, [0.25, 0.5, 0.75]) FROM {self._table}"
        )
        count, mean, low, high, quartiles = row
        if not count:
            return None
        q1, median, q3 = quartiles
        iqr = q3 - q1
        # second pass: std from centred squares (as numpy does; one-pass formulas drift on constants)
        # and the outliers against the quartiles of the first pass
        bounds = [q1 - 1.5 * iqr, q3 + 1.5 * iqr] if math.isfinite(iqr) else [None, None]
        squares, outliers = self._one(
            f"SELECT sum(({v} - ?) * ({v} - ?)), count(*) FILTER (WHERE {v} < ? OR {v} > ?) FROM {self._table}",
            [mean, mean, *bounds],
        )
        std = math.sqrt(squares / (count - 1)) if count > 1 and squares is not None else float("nan")
        has_inf = not (math.isfinite(low) and math.isfinite(high))
        return NumericSummary(
            mean=float("nan") if has_inf else float(mean),  # numpy's mean over inf values is inf/NaN
            std=float("nan") if has_inf else std,
            min=float(low),
            q1=float(q1),
            median=float(median),
            q3=float(q3),
            max=float(high),
            outliers=int(outliers or 0),
        )

    def top_values(self, column: str, limit: int) -> list[tuple[str, int]]:
        v = self._value(column)
        rows = self._con.execute(
            f"WITH c AS (SELECT {v} AS value, count(*) AS n FROM {self._table} WHERE {v} IS NOT NULL GROUP BY 1), "
            "t AS (SELECT n FROM c ORDER BY n DESC LIMIT 1 OFFSET ?) "
            "SELECT value, n FROM c WHERE n >= coalesce((SELECT n FROM t), 0)",
            [limit - 1],
        ).fetchall()
        # ties broken in Python so the order is by code point, whatever DuckDB's collation
        ranked = sorted(((_as_text(value), int(n)) for value, n in rows), key=lambda pair: (-pair[1], pair[0]))
        return ranked[:limit]

    def lengths(self, column: str) -> Lengths | None:
        q = quote(column)
        low, high, mean = self._one(
            f"SELECT min(length(CAST({q} AS VARCHAR))), max(length(CAST({q} AS VARCHAR))), "
            f"avg(length(CAST({q} AS VARCHAR))) FROM {self._table} WHERE {q} IS NOT NULL"
        )
        if low is None:
            return None
        return Lengths(min=int(low), max=int(high), mean=float(mean))

    def all_match(self, column: str, pattern: str) -> bool:
        q = quote(column)
        found = self._one(
            f"SELECT bool_and(regexp_full_match(CAST({q} AS VARCHAR), ?)) FROM {self._table} WHERE {q} IS NOT NULL",
            [pattern],
        )[0]
        return found is None or bool(found)

    def time_range(self, column: str) -> TimeRange | None:
        import pandas as pd

        q = quote(column)
        # distinct instants only: bounded by the column's distinct count, not the row count
        fetched = self._con.execute(
            f"SELECT DISTINCT epoch_ns({q}) AS t FROM {self._table} WHERE {q} IS NOT NULL ORDER BY t"
        ).fetchnumpy()["t"]
        instants = np.asarray(fetched, dtype="int64")
        if instants.size == 0:
            return None
        tz = self._timezones.get(column)
        index = pd.DatetimeIndex(instants.view("datetime64[ns]"))
        if tz is not None:
            index = index.tz_localize("UTC").tz_convert(tz)
        return TimeRange(
            start=index[0],
            end=index[-1],
            all_midnight=bool((index == index.normalize()).all()),
            gaps_s=np.diff(instants) / 1e9,
        )

    def pearson(self, a: str, b: str) -> float:
        if self._pearson is None:
            numeric = [c.name for c in self._columns if self.storage(c.name) == "numeric"]
            self._pearson = self._pearson_pairs(numeric) if len(numeric) <= _BATCHED_COLUMNS else {}
        if (a, b) in self._pearson:
            return self._pearson[(a, b)]
        return self._pearson_pairs([a, b])[(a, b)]

    def _pearson_pairs(self, names: list[str]) -> dict[tuple[str, str], float]:
        """r of every pair of ``names`` in one scan.

        Two columns without missing values whose frequency table gave their mean: r from plain sums of
        products of the values centred on those means (what numpy computes; a sum per pair is cheaper
        than corr's per-row update). Any other pair: ``corr``, which skips rows where either is missing
        (pairwise complete, as the pandas engine) with a stable co-moment update.
        """
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        if not pairs:
            return {}
        n = self.rows()
        means = {
            name: freq.mean()
            for name in names
            if (freq := self._frequencies.get(name)) is not None and freq.count == n and n > 1
        }
        alias = {name: f"v{i}" for i, name in enumerate(names)}
        shift = {name: f" - {mean!r}" for name, mean in means.items()}
        inner = ", ".join(
            f"CAST({self._value(name)} AS DOUBLE){shift.get(name, '')} AS {alias[name]}" for name in names
        )
        sums = {}  # SQL aggregate -> its position in the row
        for a, b in [*pairs, *((m, m) for m in means)]:
            if a in means and b in means:
                sums.setdefault(f"sum({alias[a]} * {alias[b]})", len(sums))
        for m in means:
            sums.setdefault(f"sum({alias[m]})", len(sums))
        correlated = [pair for pair in pairs if not (pair[0] in means and pair[1] in means)]
        aggregates = [*sums, *(f"corr({alias[a]}, {alias[b]})" for a, b in correlated)]
        row = self._one(f"SELECT {', '.join(aggregates)} FROM (SELECT {inner} FROM {self._table})")

        def total(sql: str) -> float:
            return float(row[sums[sql]])

        found = {}
        for a, b in pairs:
            if (a, b) in correlated:
                r = row[len(sums) + correlated.index((a, b))]
                r = float("nan") if r is None else float(r)
            else:
                sa, sb = total(f"sum({alias[a]})"), total(f"sum({alias[b]})")
                saa = total(f"sum({alias[a]} * {alias[a]})") - sa * sa / n
                sbb = total(f"sum({alias[b]} * {alias[b]})") - sb * sb / n
                sab = total(f"sum({alias[a]} * {alias[b]})") - sa * sb / n
                with np.errstate(invalid="ignore", divide="ignore"):
                    r = float(np.float64(sab) / np.sqrt(np.float64(saa) * np.float64(sbb)))
            found[(a, b)] = float(np.clip(r, -1.0, 1.0)) if np.isfinite(r) else float("nan")
        return found


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
