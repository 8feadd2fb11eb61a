"""Large files: profile every row with DuckDB in bounded memory, hand the analyst a sample.

A file above ``LARGE_FILE_BYTES`` is never materialised as a pandas table:

1. The reader (``shared.csv_reader.read_csv``) reads the file's first ``HEAD_BYTES`` (cut at a line
   end). That decides everything the reader decides for small files: encoding, delimiter, title
   lines, header and column names, and each column's converter (``ReadSpec.recipes``).
2. DuckDB parses the whole file (multi-threaded, from disk) with that dialect, every column as text,
   and types the columns with the same converters written in SQL for the common exact cases: plain
   numbers, ISO dates, the reader's true/false words, text. Each converted column carries a flag
   "a value here needed more than the SQL form" (a currency sign, a decimal comma, a date in another
   format); if any flag is set, the load is redone in chunks through the reader's own converters
   (``shared.csv_values``), so the typed values are the reader's in every case, only slower.
3. ``DuckDBEngine`` answers ``compute_profile``'s questions with SQL over that table.
4. The analyst gets a deterministic uniform sample (fixed seed) of at most ``SAMPLE_ROWS`` rows (in file order)
   as a ``Table``, and a warning naming the sample size.
5. While the table is open, ``shared.aggregates`` computes the analyst's exact aggregates of every row
   (totals, groups, periods, histogram bins, box-plot statistics, correlations, extreme rows).

Memory: DuckDB runs with ``memory_limit`` (``DUCKDB_MEMORY``) and spills to a database file in a
private temp directory. On Cloud Functions /tmp is memory too: the typed, compressed table takes about
a quarter of the CSV's size there (26 MB for ``make bench``'s 112 MB file), and the object itself is a
file there as well, so the memory tier must cover the object + a quarter of it + ``DUCKDB_MEMORY`` +
~200 MB of Python and the sample, not the CSV's size several times over as pandas needs.
"""

from __future__ import annotations

import codecs
import gzip
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from shared.profile_duckdb import DuckDBEngine, quote

if TYPE_CHECKING:
    import duckdb

    from shared.aggregates import Aggregates
    from shared.csv_reader import ColumnRecipe, Limits, Table
    from shared.profile import Profile

log = logging.getLogger(__name__)

HEAD_BYTES = 1024 * 1024  # what the reader sees to decide dialect, header and column types
SAMPLE_ROWS = 20_000  # rows the analyst gets from a large file
SAMPLE_SEED = 7
DUCKDB_MEMORY = "256MB"  # DuckDB's own cap; the process adds ~100 MB of Python, pandas and the sample
DUCKDB_THREADS = 2
CHUNK_ROWS = 100_000  # rows per chunk when the reader's converters type the file (the exact fallback)

_DUCKDB_ENCODINGS = {"utf-8", "utf-8-sig", "ascii"}


@dataclass
class LargeFileResult:
    table: Table  # the sample, typed as the reader types it; read_spec and dialect are the file's
    profile: Profile  # every row
    sample_rows: int
    exact_sql: bool  # True when the SQL converters typed every value (no chunked fallback)
    load_s: float
    profile_s: float
    aggregates: Aggregates | None = None  # exact aggregates of every row for the analyst (None when off)
    aggregates_s: float = 0.0


def profile_large_file(
    path: Path, name: str, limits: Limits, *, sample_rows: int | None = None, aggregates: bool = True
) -> LargeFileResult:
    """Profile the CSV at ``path`` (``name`` decides gzip/tsv, as for ``read_csv``) without loading it.

    With ``aggregates`` (the pipeline), the analyst's aggregates of every row are computed too, while
    the table is still open (``shared.aggregates``); ``make bench`` times the profile alone without them.
    """
    from shared.aggregates import analyst_aggregates
    from shared.profile import profile_with

    with tempfile.TemporaryDirectory(prefix="csv-insights-duckdb-") as work:
        work_dir = Path(work)
        head = _head_table(path, name, limits)
        spec = head.read_spec
        assert spec is not None  # read_csv always sets it
        text_path = _duckdb_readable(path, head, work_dir)
        import duckdb

        con = duckdb.connect(str(work_dir / "profile.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
            con.execute(f"SET threads = {DUCKDB_THREADS}")
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET temp_directory = '{work_dir / 'spill'}'")
            started = time.perf_counter()
            try:
                exact_sql = _load_with_sql(con, text_path, head)
            except duckdb.Error as err:
                if "parallel" not in str(err):
                    raise
                # quoted line breaks with short rows: DuckDB's parallel scanner refuses, the serial one reads
                exact_sql = _load_with_sql(con, text_path, head, parallel=False)
            if not exact_sql:
                log.info("a column needs the reader's own converters; loading in chunks")
                _load_in_chunks(con, text_path, head)
            load_s = time.perf_counter() - started
            started = time.perf_counter()
            profile = profile_with(DuckDBEngine(con, "data"))
            profile_s = time.perf_counter() - started
            sample = _sample(con, spec.recipes, SAMPLE_ROWS if sample_rows is None else sample_rows)
            started = time.perf_counter()
            computed = analyst_aggregates(con, "data", profile, sample) if aggregates else None
            aggregates_s = time.perf_counter() - started
        finally:
            con.close()
    warning = (
        f"large file ({profile.rows:,} rows): the profile covers every row; the analyst worked from the "
        f"profile and a representative sample of {len(sample):,} rows (uniform random without replacement, fixed seed, in file order)"
    )
    if computed is not None:
        warning = (
            f"large file ({profile.rows:,} rows): the profile and the analyst's aggregates (totals, groups, "
            "periods, histograms, box plots, correlations, extreme rows) cover every row; the analyst also got "
            f"a representative sample of {len(sample):,} rows (uniform random without replacement, fixed seed, in file order)"
        )
    table = replace(
        head,
        frame=sample,
        raw_bytes=path.stat().st_size,
        warnings=[*head.warnings, warning],
        read_spec=replace(spec, rows=profile.rows),
    )
    log.info("large file: loaded in %.1f s, profiled in %.1f s, sample of %d rows", load_s, profile_s, len(sample))
    return LargeFileResult(table, profile, len(sample), exact_sql, load_s, profile_s, computed, aggregates_s)


def _head_table(path: Path, name: str, limits: Limits) -> Table:
    """The reader's result on the file's first HEAD_BYTES, cut after the last complete line."""
    from shared.csv_reader import read_csv

    gz = name.lower().endswith(".gz")
    with _open_decompressed(path, gz) as stream:
        head = stream.read(HEAD_BYTES)
        more = bool(stream.read(1))
    if more and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    table = read_csv(head, name[:-3] if gz else name, limits)
    if gz:
        table.dialect = replace(table.dialect, compression="gzip")  # the loader code reads the .gz file
    return table


@contextmanager
def _open_decompressed(path: Path, gz: bool) -> Iterator:
    with (gzip.open(path, "rb") if gz else path.open("rb")) as stream:
        yield stream


def _duckdb_readable(path: Path, head: Table, work: Path) -> tuple[Path, str]:
    """A path DuckDB reads as UTF-8 and its compression: the file itself (DuckDB inflates gzip), or a
    streamed UTF-8 copy for other encodings (UTF-16, cp1252, ...), which costs its size in disk."""
    gz = head.dialect.compression == "gzip"
    if codecs.lookup(head.dialect.encoding).name in _DUCKDB_ENCODINGS:
        return path, "gzip" if gz else "none"
    copy = work / "utf8.csv"
    with _open_decompressed(path, gz) as raw, copy.open("w", encoding="utf-8", newline="") as out:
        text = codecs.getreader(head.dialect.encoding)(raw, errors="replace")
        shutil.copyfileobj(text, out, 1024 * 1024)
    return copy, "none"


def _read_csv_sql(readable: tuple[Path, str], head: Table, parallel: bool = True) -> tuple[str, list[str]]:
    """The data rows with the reader's dialect, all columns as text, as a subquery.

    Lines of only whitespace are no rows for the reader; DuckDB pads them into a row of missing
    values, so they are dropped here (a row of only empty fields, ",,", is dropped too: a known
    difference from the reader, which counts it as a row of missing values).
    """
    from shared import csv_values

    path, compression = readable
    spec = head.read_spec
    assert spec is not None
    first_data = 0
    while first_data < len(spec.skiprows) and spec.skiprows[first_data] == first_data:
        first_data += 1
    raw_names = [f"c{i}" for i in range(len(spec.names) + (1 if spec.drop_extra_fields else 0))]
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in raw_names) + "}"
    nulls = "[" + ", ".join(_literal(t) for t in csv_values.MISSING_TOKENS) + "]"
    sql = (
        f"read_csv({_literal(str(path))}, delim={_literal(head.dialect.delimiter)}, quote='\"', escape='\"', "
        f"header=false, skip={first_data}, columns={columns}, nullstr={nulls}, auto_detect=false, "
        f"null_padding=true, ignore_errors=true, compression='{compression}', parallel={str(parallel).lower()})"
    )
    if spec.drop_extra_fields:  # an empty field after a trailing delimiter is dropped, a real one skips the row
        sql = f"(SELECT * EXCLUDE ({raw_names[-1]}) FROM {sql} WHERE {raw_names[-1]} IS NULL)"
        raw_names = raw_names[:-1]
    blank = " AND ".join([r"regexp_full_match(coalesce(c0, ''), '\s*')", *(f"{n} IS NULL" for n in raw_names[1:])])
    return f"(SELECT * FROM {sql} WHERE NOT ({blank}))", raw_names


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"


def _sql_converter(recipe: ColumnRecipe, raw: str) -> tuple[str, str] | None:
    """(typed expression, "needs the Python converter" flag) for ``recipe``, or None if no SQL form."""
    kind, kw = recipe.converter, recipe.kwargs
    if kind == "to_text":
        return raw, "false"
    if kind == "to_boolean":
        t = f"lower(trim({raw}))"
        trues = ", ".join(_literal(v) for v in kw["true_values"])
        falses = ", ".join(_literal(v) for v in kw["false_values"])
        return f"CASE WHEN {t} IN ({trues}) THEN true WHEN {t} IN ({falses}) THEN false END", "false"
    if kind == "to_number" and kw.get("decimal", ".") == ".":
        # DuckDB's cast and pandas' to_numeric agree on plain numbers (signs, exponents, surrounding
        # whitespace); they differ on inf/nan words and digit separators ("1_000"), which are flagged.
        # (+ 0.0 turns "-0" into 0.0, as pandas does.) No per-value regex: this is the hot loop.
        number = f"TRY_CAST({raw} AS DOUBLE)"
        value = f"({number} + 0.0)"
        bad = f"({raw} IS NOT NULL AND ({number} IS NULL OR NOT isfinite({number}) OR contains({raw}, '_')))"
        if kw.get("integer"):
            # Int64 in pandas; DuckDB refuses "1e3" or "2.0" as BIGINT: flagged, the reader decides
            value = f"TRY_CAST({raw} AS BIGINT)"
            bad = f"({bad} OR ({raw} IS NOT NULL AND {value} IS NULL))"
        return value, bad
    if kind == "to_datetime" and kw.get("format") == "ISO8601":
        t = f"trim({raw})"
        in_range = "BETWEEN TIMESTAMP '1677-09-21 00:12:44' AND TIMESTAMP '2262-04-11 23:47:16'"
        value = (
            f"CASE WHEN regexp_full_match({t}, '{_ISO_DATE}') THEN TRY_CAST(TRY_CAST({t} AS DATE) AS TIMESTAMP) "
            f"WHEN regexp_full_match({t}, '{_ISO_DATETIME}') THEN TRY_CAST(replace({t}, 'T', ' ') AS TIMESTAMP) END"
        )
        value = f"CASE WHEN ({value}) {in_range} THEN ({value}) END"
        bad = f"({raw} IS NOT NULL AND NOT regexp_full_match({t}, '{_ISO_DATE}|{_ISO_DATETIME}'))"
        return value, bad
    return None


def _load_with_sql(
    con: duckdb.DuckDBPyConnection, path: tuple[Path, str], head: Table, parallel: bool = True
) -> bool:
    """Load the typed table with SQL converters; False (nothing loaded) if any value needs Python."""
    spec = head.read_spec
    assert spec is not None
    con.execute("DROP TABLE IF EXISTS data")
    source, raw_names = _read_csv_sql(path, head, parallel)
    exprs, flags = [], []
    for recipe, raw in zip(spec.recipes, raw_names, strict=False):
        converted = _sql_converter(recipe, raw)
        if converted is None:
            return False
        value, bad = converted
        exprs.append(f"{value} AS {quote(recipe.name)}")
        if bad != "false":
            flags.append(bad)
    flag = " OR ".join(flags) if flags else "false"
    con.execute(f"CREATE TABLE data AS SELECT {', '.join(exprs)}, ({flag}) AS __needs_python FROM {source}")
    if con.execute("SELECT bool_or(__needs_python) FROM data").fetchall()[0][0]:
        con.execute("DROP TABLE data")
        return False
    con.execute("ALTER TABLE data DROP COLUMN __needs_python")
    return True


def _load_in_chunks(con: duckdb.DuckDBPyConnection, path: tuple[Path, str], head: Table) -> None:
    """Type every column with the reader's own converters, ``CHUNK_ROWS`` rows at a time."""
    from shared import csv_values

    spec = head.read_spec
    assert spec is not None
    source, raw_names = _read_csv_sql(path, head, parallel=False)  # serial: file order, any quoting
    reader = con.cursor()  # a second cursor streams the raw rows while the first inserts
    reader.execute(f"SELECT {', '.join(raw_names[: len(spec.names)])} FROM {source}")
    created = False
    while True:
        raw = reader.fetch_df_chunk(max(1, CHUNK_ROWS // 2048))
        if raw.empty:
            break
        raw.columns = spec.names
        for recipe in spec.recipes:
            raw[recipe.name] = csv_values.CONVERTERS[recipe.converter](raw[recipe.name], **recipe.kwargs)
        con.register("chunk", raw)
        con.execute("INSERT INTO data SELECT * FROM chunk" if created else "CREATE TABLE data AS SELECT * FROM chunk")
        con.unregister("chunk")
        created = True
    reader.close()
    if not created:
        names = ", ".join(f"CAST(NULL AS VARCHAR) AS {quote(n)}" for n in spec.names)
        con.execute(f"CREATE TABLE data AS SELECT {names} LIMIT 0")


def _sample(con: duckdb.DuckDBPyConnection, recipes: list[ColumnRecipe], rows: int):
    """A uniform random sample of the typed table without replacement (fixed seed), in file order,
    with the reader's dtypes. Rows are picked by position, so the sample does not depend on threads."""
    import numpy as np
    import pandas as pd

    total = int(con.execute("SELECT count(*) FROM data").fetchall()[0][0])
    picks = np.sort(np.random.default_rng(SAMPLE_SEED).choice(total, size=min(rows, total), replace=False))
    con.register("picks", pd.DataFrame({"r": picks.astype("int64")}))
    frame = con.execute(
        "SELECT * EXCLUDE (__row) FROM (SELECT rowid AS __row, * FROM data) "
        "WHERE __row IN (SELECT r FROM picks) ORDER BY __row"
    ).df()
    con.unregister("picks")
    for recipe in recipes:
        column = frame[recipe.name]
        if recipe.converter == "to_text":
            frame[recipe.name] = column.astype("string")
        elif recipe.converter == "to_boolean":
            frame[recipe.name] = column.astype("boolean")
        elif recipe.converter == "to_number":
            frame[recipe.name] = column.astype("Int64" if recipe.kwargs.get("integer") else "float64")
        elif recipe.converter == "to_datetime":
            frame[recipe.name] = pd.to_datetime(column).astype("datetime64[ns]")
    return frame.reset_index(drop=True)
