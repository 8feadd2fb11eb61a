"""Large files: profile every row with DuckDB in bounded memory, hand the analyst a sample.

A file above ``LARGE_FILE_BYTES`` is never materialised as a pandas table:

1. The reader (``shared.csv_reader.read_csv``) reads the file's first ``HEAD_BYTES`` (cut at a line
   end). That decides everything the reader decides for small files: encoding, delimiter, title
   lines, header and column names, and each column's converter (``ReadSpec.recipes``).
2. DuckDB parses the whole file (multi-threaded, from disk) with that dialect and types the columns
   with the same converters written in SQL for the common exact cases: plain numbers (parsed by
   DuckDB's CSV reader itself, the fast path), ISO dates, the reader's true/false words, text. Each
   converted column carries a flag "a value here needed more than the SQL form" (a currency sign, a
   decimal comma, a date in another format or with a zone); if any flag is set, the load is redone in
   chunks through the reader's own converters (``shared.csv_values``), so the typed values are the
   reader's, only slower. One known difference: DuckDB reads "1_000" and "+-5" as numbers, which the
   reader makes missing. Integer columns load as floats and become Int64 again when every value is
   whole; a fractional value further down makes the column float64, as the reader would.
3. ``DuckDBEngine`` answers ``compute_profile``'s questions with SQL over that table.
4. The analyst gets a deterministic uniform sample (fixed seed) of at most ``SAMPLE_ROWS`` rows (in file order)
   as a ``Table``, and a warning naming the sample size.
5. While the table is open, ``shared.aggregates`` computes the analyst's exact aggregates of every row
   (totals, groups, periods, histogram bins, box-plot statistics, correlations, extreme rows).

Input: a local file DuckDB reads itself (in parallel), or, for a cloud object, a stream read once per
pass through a named pipe (``shared.stream_feed``): the object is never held in memory or staged in
/tmp. Usually the load is one pass; a value only the reader's converters read costs a second.

Memory: DuckDB runs with ``memory_limit`` (``DUCKDB_MEMORY``) and spills to a database file in a
private temp directory. On Cloud Functions /tmp is memory too: the typed, compressed table takes about
a quarter of the CSV's size there (224 MB for ``make bench``'s 1 GB file), so the memory tier must
cover that + ``DUCKDB_MEMORY`` + ~300 MB of Python and the sample, not the CSV's size several times
over as pandas needs.
"""

from __future__ import annotations

import codecs
import gzip
import logging
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from shared.profile_duckdb import DuckDBEngine, quote
from shared.stream_feed import ObjectStream, feed

if TYPE_CHECKING:
    import duckdb

    from shared.aggregates import Aggregates
    from shared.csv_reader import ColumnRecipe, Limits, ReadSpec, Table
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
    sha256: str | None = None  # of the object's bytes, when they were read as a stream
    aggregates: Aggregates | None = None  # exact aggregates of every row for the analyst (None when off)
    aggregates_s: float = 0.0


# One pass over the file as DuckDB reads it: (path, compression) inside the block.
Readable = Callable[[], AbstractContextManager[tuple[Path, str]]]


def profile_large_file(
    data: Path | ObjectStream,
    name: str,
    limits: Limits,
    *,
    sample_rows: int | None = None,
    aggregates: bool = True,
) -> LargeFileResult:
    """Profile the CSV at ``data`` without loading it: a local file (read by DuckDB itself, in parallel),
    or an object read as a stream once per pass, never staged on disk. ``name`` decides gzip/tsv, as
    for ``read_csv``.

    With ``aggregates`` (the pipeline), the analyst's aggregates of every row are computed too, while
    the table is still open (``shared.aggregates``); ``make bench`` times the profile alone without them.
    """
    from shared.aggregates import analyst_aggregates
    from shared.profile import profile_with

    with tempfile.TemporaryDirectory(prefix="csv-insights-duckdb-") as work:
        work_dir = Path(work)
        head = _head_table(data, name, limits)
        spec = head.read_spec
        assert spec is not None  # read_csv always sets it
        digests: list[str] = []
        readable = partial(_readable, data, head, work_dir, limits, digests)
        import duckdb

        con = duckdb.connect(str(work_dir / "profile.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
            con.execute(f"SET threads = {DUCKDB_THREADS}")
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET temp_directory = '{work_dir / 'spill'}'")
            started = time.perf_counter()
            exact_sql = _load_with_sql(con, readable, head)
            if not exact_sql:
                log.info("a column needs the reader's own converters; loading in chunks")
                _load_in_chunks(con, readable, head)
            spec = _whole_numbers_only(con, spec)
            load_s = time.perf_counter() - started
            started = time.perf_counter()
            engine = DuckDBEngine(con, "data")
            profile = profile_with(engine)
            profile_s = time.perf_counter() - started
            sample = _sample(con, spec.recipes, SAMPLE_ROWS if sample_rows is None else sample_rows)
            started = time.perf_counter()
            # the engine has every pair's r already: the correlation matrix costs no second scan
            computed = analyst_aggregates(con, "data", profile, sample, engine.pearson) if aggregates else None
            aggregates_s = time.perf_counter() - started
        finally:
            con.close()
    warning = (
        f"large file ({profile.rows:,} rows): the profile covers every row; the analyst worked from the "
        f"profile and a representative sample of {len(sample):,} rows (uniform random without replacement, "
        "fixed seed, in file order)"
    )
    if computed is not None:
        warning = (
            f"large file ({profile.rows:,} rows): the profile and the analyst's aggregates (totals, groups, "
            "periods, histograms, box plots, correlations, extreme rows) cover every row; the analyst also "
            f"got a representative sample of {len(sample):,} rows (uniform random without replacement, fixed "
            "seed, in file order)"
        )
    table = replace(
        head,
        frame=sample,
        raw_bytes=data.size if isinstance(data, ObjectStream) else data.stat().st_size,
        warnings=[*head.warnings, warning],
        read_spec=replace(spec, rows=profile.rows),  # integer columns may have become floats
    )
    log.info(
        "large file: loaded in %.1f s, profiled in %.1f s, sample of %d rows", load_s, profile_s, len(sample)
    )
    sha256 = digests[0] if digests else None
    return LargeFileResult(
        table, profile, len(sample), exact_sql, load_s, profile_s, sha256, computed, aggregates_s
    )


def _open(data: Path | ObjectStream) -> BinaryIO:
    return data.open() if isinstance(data, ObjectStream) else data.open("rb")


def _head_table(data: Path | ObjectStream, name: str, limits: Limits) -> Table:
    """The reader's result on the file's first HEAD_BYTES, cut after the last complete line."""
    from shared.csv_reader import read_csv

    from shared.errors import InvalidCsvError

    gz = name.lower().endswith(".gz")
    with _open(data) as raw, (gzip.GzipFile(fileobj=raw) if gz else raw) as stream:
        try:
            head = stream.read(HEAD_BYTES)
            more = bool(stream.read(1))
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:  # only a gzip stream raises these
            raise InvalidCsvError(f"the gzip data is corrupt or truncated: {err}", code="bad_gzip") from err
    if more and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    table = read_csv(head, name[:-3] if gz else name, limits)
    if gz:
        table.dialect = replace(table.dialect, compression="gzip")  # the loader code reads the .gz file
    return table


@contextmanager
def _readable(
    data: Path | ObjectStream, head: Table, work: Path, limits: Limits, digests: list[str]
) -> Iterator[tuple[Path, str]]:
    """One pass over the file as DuckDB reads it: a local UTF-8 file itself (DuckDB reads it in
    parallel), else a named pipe fed as it is read (``shared.stream_feed``): an object in the cloud,
    gzip inflated on the way (MAX_DECOMPRESSED_BYTES applies), text in another encoding (UTF-16,
    cp1252, ...) re-encoded; never a copy on disk. A complete pass over a stream adds the digest of its
    bytes to ``digests``."""
    gz = head.dialect.compression == "gzip"
    utf8 = codecs.lookup(head.dialect.encoding).name in _DUCKDB_ENCODINGS
    if isinstance(data, Path) and utf8 and not gz:
        yield data, "none"
        return
    stream = data if isinstance(data, ObjectStream) else ObjectStream(partial(data.open, "rb"), data.stat().st_size)
    encoding = None if utf8 else head.dialect.encoding
    with feed(work, stream, gzip=gz, encoding=encoding, max_inflated=limits.max_decompressed_bytes) as pipe:
        try:
            yield pipe.path, "none"
        except BaseException:
            pipe.finish(reader_failed=True)  # a failed source explains the reader's error: raised instead
            raise
        pipe.finish()
        digests.append(pipe.sha256)


def _read_csv_sql(
    readable: tuple[Path, str], head: Table, *, parallel: bool = True, typed_numbers: bool = False
) -> tuple[str, list[str]]:
    """The data rows with the reader's dialect as a subquery: every column as text, or with
    ``typed_numbers`` the plain-number columns as DOUBLE parsed by DuckDB's CSV reader, strictly (a value
    it cannot read fails the read, instead of skipping the row).

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
    numbers = {f"c{i}" for i, r in enumerate(spec.recipes) if typed_numbers and _plain_numbers(r)}
    columns = "{" + ", ".join(f"'{n}': '{'DOUBLE' if n in numbers else 'VARCHAR'}'" for n in raw_names) + "}"
    nulls = "[" + ", ".join(_literal(t) for t in csv_values.MISSING_TOKENS) + "]"
    sql = (
        f"read_csv({_literal(str(path))}, delim={_literal(head.dialect.delimiter)}, quote='\"', escape='\"', "
        f"header=false, skip={first_data}, columns={columns}, nullstr={nulls}, auto_detect=false, "
        f"null_padding=true, ignore_errors={str(not typed_numbers).lower()}, compression='{compression}', "
        f"parallel={str(parallel).lower()})"
    )
    if spec.drop_extra_fields:  # an empty field after a trailing delimiter is dropped, a real one skips the row
        sql = f"(SELECT * EXCLUDE ({raw_names[-1]}) FROM {sql} WHERE {raw_names[-1]} IS NULL)"
        raw_names = raw_names[:-1]
    # the regex last: AND evaluates it only on rows whose other fields are all missing
    first = "c0 IS NULL" if "c0" in numbers else r"regexp_full_match(coalesce(c0, ''), '\s*')"
    blank = " AND ".join([*(f"{n} IS NULL" for n in raw_names[1:]), first])
    return f"(SELECT * FROM {sql} WHERE NOT ({blank}))", raw_names


def _plain_numbers(recipe: ColumnRecipe) -> bool:
    return recipe.converter == "to_number" and recipe.kwargs.get("decimal", ".") == "."


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
# pandas' datetime64[ns] range: the reader's converter makes dates outside it missing
_NS_RANGE = ("TIMESTAMP '1677-09-21 00:12:44'", "TIMESTAMP '2262-04-11 23:47:16'")


def _sql_converter(recipe: ColumnRecipe, raw: str, typed: bool = False) -> tuple[str, str] | None:
    """(typed expression, "needs the Python converter" flag) for ``recipe``, or None if no SQL form;
    ``typed`` when the CSV reader already parsed the column as DOUBLE.

    These run once per cell of the file, so they avoid regular expressions on the common shapes.
    """
    kind, kw = recipe.converter, recipe.kwargs
    if typed:
        return f"({raw} + 0.0)", "false"  # + 0.0 turns -0 into 0.0, as pandas does
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
        # Integer columns load as DOUBLE too: ``_whole_numbers_only`` checks them once loaded.
        number = f"TRY_CAST({raw} AS DOUBLE)"
        bad = f"({raw} IS NOT NULL AND ({number} IS NULL OR NOT isfinite({number}) OR contains({raw}, '_')))"
        return f"({number} + 0.0)", bad
    if kind == "to_datetime" and kw.get("format") == "ISO8601":
        # The shapes the reader's ISO 8601 converter reads the same way without a zone: a date
        # (YYYY-MM-DD), a date and time to the minute or second (T or space), by LIKE and length; only
        # fractional seconds need the regex. The casts check the digits; anything else (a zone offset,
        # which the reader converts to UTC, or "2024-1-5") yields NULL and is flagged for the reader.
        t = f"trim({raw})"
        clock = f"({t} LIKE '____-__-__T__:__%' OR {t} LIKE '____-__-__ __:__%')"
        value = (
            f"CASE WHEN {t} LIKE '____-__-__' THEN TRY_CAST(TRY_CAST({t} AS DATE) AS TIMESTAMP) "
            f"WHEN {clock} AND (length({t}) = 16 OR (length({t}) = 19 AND {t} LIKE '%:__:__') "
            f"OR regexp_full_match({t}, '{_ISO_DATETIME}')) "
            f"THEN TRY_CAST(replace({t}, 'T', ' ') AS TIMESTAMP) END"
        )
        return value, f"({raw} IS NOT NULL AND ({value}) IS NULL)"
    return None


def _load_with_sql(con: duckdb.DuckDBPyConnection, readable: Readable, head: Table) -> bool:
    """Load the typed table with SQL; False (nothing loaded) if some value needs the reader's converters.

    The fast attempt lets DuckDB's CSV reader parse the plain-number columns itself. Its number
    parser reads what pandas' reads, and also "1_000" and "+-5", which the reader makes missing (a
    known difference); anything else it cannot read stops that attempt, as does an inf or NaN once
    loaded. Then every column is read as text and converted with TRY_CAST and per-value flags:
    slower, and exactly the reader's values.
    """
    import duckdb

    try:
        loaded = _create_table(con, readable, head, typed_numbers=True)
    except duckdb.Error as err:
        log.info("DuckDB's number parser stopped (%s); reading every column as text", type(err).__name__)
        loaded = None
    if loaded is not None:
        return loaded
    try:
        return bool(_create_table(con, readable, head))
    except duckdb.Error as err:
        if "parallel" not in str(err):
            raise
        # quoted line breaks with short rows: DuckDB's parallel scanner refuses, the serial one reads
        return bool(_create_table(con, readable, head, parallel=False))


def _create_table(
    con: duckdb.DuckDBPyConnection,
    readable: Readable,
    head: Table,
    *,
    typed_numbers: bool = False,
    parallel: bool = True,
) -> bool | None:
    """One attempt (one pass over the file): True when loaded exactly, False when a flag asks for the
    reader's converters, None when the typed numbers hold inf or NaN (the text attempt decides those)."""
    spec = head.read_spec
    assert spec is not None
    if any(_sql_converter(recipe, "c") is None for recipe in spec.recipes):
        return False
    con.execute("DROP TABLE IF EXISTS data")
    with readable() as path:
        source, raw_names = _read_csv_sql(path, head, parallel=parallel, typed_numbers=typed_numbers)
        exprs, flags, typed = [], [], []
        for recipe, raw in zip(spec.recipes, raw_names, strict=False):
            value, bad = _sql_converter(recipe, raw, typed_numbers and _plain_numbers(recipe))  # type: ignore[misc]
            exprs.append(f"{value} AS {quote(recipe.name)}")
            if bad != "false":
                flags.append(bad)
            if typed_numbers and _plain_numbers(recipe):
                typed.append(recipe.name)
        flag = " OR ".join(flags) if flags else "false"
        con.execute(f"CREATE TABLE data AS SELECT {', '.join(exprs)}, ({flag}) AS __needs_python FROM {source}")
    checks = ["bool_or(__needs_python)", *(f"bool_or(NOT isfinite({quote(n)}))" for n in typed)]
    needs_python, *not_finite = con.execute(f"SELECT {', '.join(checks)} FROM data").fetchall()[0]
    if any(not_finite):
        con.execute("DROP TABLE data")
        return None
    if needs_python:
        con.execute("DROP TABLE data")
        return False
    con.execute("ALTER TABLE data DROP COLUMN __needs_python")
    _drop_out_of_range_datetimes(con, [r.name for r in spec.recipes if r.converter == "to_datetime"])
    return True


def _drop_out_of_range_datetimes(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Datetimes outside pandas' datetime64[ns] range become missing, as the reader's converter makes
    them ("9999-12-31" for "never"); checked once per column on the loaded table, not per cell."""
    if not names:
        return
    low, high = _NS_RANGE
    checks = ", ".join(f"bool_or({quote(n)} NOT BETWEEN {low} AND {high})" for n in names)
    for name, outside in zip(names, con.execute(f"SELECT {checks} FROM data").fetchall()[0], strict=True):
        if outside:
            q = quote(name)
            con.execute(f"UPDATE data SET {q} = NULL WHERE {q} NOT BETWEEN {low} AND {high}")


def _whole_numbers_only(con: duckdb.DuckDBPyConnection, spec: ReadSpec) -> ReadSpec:
    """Type the integer columns (loaded as DOUBLE) as the reader does: BIGINT when every value is whole,
    and otherwise the spec says float64 for that column.

    The head decided "integer"; a value such as 2.5 below it would make the reader, seeing the whole
    file, read the column as floats (and Int64 cannot hold it), so the column becomes float64 here too.
    """
    integers = [r.name for r in spec.recipes if r.converter == "to_number" and r.kwargs.get("integer")]
    if not integers:
        return spec
    checks = ", ".join(
        f"coalesce(bool_and({quote(n)} = floor({quote(n)}) AND abs({quote(n)}) < 9.2e18), true)" for n in integers
    )
    whole = dict(zip(integers, con.execute(f"SELECT {checks} FROM data").fetchall()[0], strict=True))
    for name in (n for n in integers if whole[n]):
        con.execute(f"ALTER TABLE data ALTER COLUMN {quote(name)} SET DATA TYPE BIGINT")
    if all(whole.values()):
        return spec
    recipes = [
        replace(r, kwargs={**r.kwargs, "integer": False}) if whole.get(r.name) is False else r
        for r in spec.recipes
    ]
    return replace(spec, recipes=recipes)


def _load_in_chunks(con: duckdb.DuckDBPyConnection, readable: Readable, head: Table) -> None:
    """Type every column with the reader's own converters, ``CHUNK_ROWS`` rows at a time."""
    from shared import csv_values

    spec = head.read_spec
    assert spec is not None
    created = False
    with readable() as path:
        source, raw_names = _read_csv_sql(path, head, parallel=False)  # serial: file order, any quoting
        reader = con.cursor()  # a second cursor streams the raw rows while the first inserts
        reader.execute(f"SELECT {', '.join(raw_names[: len(spec.names)])} FROM {source}")
        while True:
            raw = reader.fetch_df_chunk(max(1, CHUNK_ROWS // 2048))
            if raw.empty:
                break
            raw.columns = spec.names
            for recipe in spec.recipes:
                # integers as floats, as the SQL load has them (``_whole_numbers_only`` decides)
                to_number = recipe.converter == "to_number"
                kwargs = {**recipe.kwargs, "integer": False} if to_number else recipe.kwargs
                raw[recipe.name] = csv_values.CONVERTERS[recipe.converter](raw[recipe.name], **kwargs)
            con.register("chunk", raw)
            con.execute(
                "INSERT INTO data SELECT * FROM chunk" if created else "CREATE TABLE data AS SELECT * FROM chunk"
            )
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
