"""The deterministic profile, checked number by number against pandas computations written here.

Every expected profile is built independently of shared.profile: pandas describe(), value_counts(),
duplicated() and DataFrame.corr() on the same frame. Only the column types and datetime granularities
are declared by hand, because those are the rules under test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import uuid
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import palmerpenguins
import pytest
import vega_datasets

from shared.csv_reader import Dialect, Table
from shared.profile import compute_profile, granularity, looks_like_id_name

VEGA = Path(vega_datasets.__file__).parent / "_data"
PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
MPL_STOCKS = Path(matplotlib.get_data_path()) / "sample_data" / "Stocks.csv"
STAT_FIELDS = ("mean", "std", "min", "q1", "median", "q3", "max", "outliers")


@pytest.fixture(autouse=True, params=["pandas", "duckdb", "duckdb-sql"])
def engine(request, monkeypatch):
    """Every test runs against both engines: the streaming engine must give the same profile, both from
    numeric frequency tables and (``duckdb-sql``: no column qualifies) from SQL aggregates alone."""
    if request.param.startswith("duckdb"):
        from shared import profile_duckdb, profile_engine
        from shared.profile_duckdb import DuckDBEngine

        monkeypatch.setattr(profile_engine, "engine_for", lambda table: DuckDBEngine.from_frame(table.frame))
        if request.param == "duckdb-sql":
            monkeypatch.setattr(profile_duckdb, "FREQUENCY_LIMIT", 0)
    return request.param


def strings(values) -> pd.arrays.StringArray:
    return pd.array(values, dtype="string")


def table_of(frame: pd.DataFrame) -> Table:
    return Table(frame=frame, dialect=Dialect(encoding="utf-8", delimiter=","), raw_bytes=0, sha256="")


def profile_json(frame: pd.DataFrame) -> dict:
    """The profile as it travels: through strict JSON and back."""
    return json.loads(json.dumps(compute_profile(table_of(frame)).to_dict(), allow_nan=False))


# ---------------------------------------------------------------- the independent pandas computation


def finite_or_none(value) -> float | None:
    return None if pd.isna(value) or math.isinf(value) else float(value)


def expected_column(name: str, series: pd.Series, kind: str, spacing: str | None) -> dict:
    column = {
        "name": name,
        "type": kind,
        "count": int(series.notna().sum()),
        "missing": int(series.isna().sum()),
        "distinct": int(series.nunique(dropna=True)),
        **dict.fromkeys(STAT_FIELDS),
        "top_values": None,
        "start": None,
        "end": None,
        "granularity": None,
    }
    if kind == "numeric" and series.notna().any():
        values = series.astype("float64")
        described = values.describe()
        q1, q3 = described["25%"], described["75%"]
        low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        column.update(
            mean=finite_or_none(described["mean"]),
            std=finite_or_none(described["std"]),
            min=finite_or_none(described["min"]),
            q1=finite_or_none(q1),
            median=finite_or_none(described["50%"]),
            q3=finite_or_none(q3),
            max=finite_or_none(described["max"]),
            outliers=int(((values < low) | (values > high)).sum()),
        )
    elif kind in ("categorical", "boolean", "text"):
        counts = series.value_counts(dropna=True)
        labels = [str(v).lower() if kind == "boolean" else str(v) for v in counts.index]
        ranked = pd.DataFrame({"value": labels, "n": counts.to_numpy()}, dtype=object)
        ranked = ranked.sort_values(["n", "value"], ascending=[False, True], kind="mergesort").head(10)
        column["top_values"] = [
            [v if len(v) <= 200 else v[:199] + "\u2026", int(n)] for v, n in zip(ranked["value"], ranked["n"])
        ]
    elif kind == "datetime" and series.notna().any():
        present = series.dropna()
        date_only = bool((present.dt.floor("D") == present).all())
        first, last = present.min(), present.max()
        column["start"] = first.strftime("%Y-%m-%d") if date_only else first.isoformat()
        column["end"] = last.strftime("%Y-%m-%d") if date_only else last.isoformat()
        column["granularity"] = spacing
    return column


def expected_correlations(frame: pd.DataFrame, types: dict[str, str]) -> list[dict]:
    numeric = [c for c in frame.columns if types[c] == "numeric"]
    numeric = [c for c in numeric if frame[c].nunique() > 1 and np.isfinite(frame[c].astype("float64").std())]
    matrix = frame[numeric].astype("float64").corr(method="pearson")
    pairs = [
        {"a": a, "b": b, "r": float(matrix.loc[a, b])}
        for i, a in enumerate(numeric)
        for b in numeric[i + 1 :]
        if pd.notna(matrix.loc[a, b])
    ]
    pairs.sort(key=lambda p: -abs(p["r"]))
    return pairs[:10]


def expected_profile(frame: pd.DataFrame, types: dict[str, str], spacing: dict[str, str | None]) -> dict:
    assert list(types) == list(frame.columns), "declare a type for every column, in order"
    return {
        "rows": len(frame),
        "column_count": frame.shape[1],
        "duplicate_rows": int(frame.duplicated().sum()) if frame.shape[1] else 0,
        "columns": [expected_column(c, frame[c], types[c], spacing.get(c)) for c in frame.columns],
        "correlations": expected_correlations(frame, types),
    }


def assert_same(actual, expected, where: str = "profile") -> None:
    """Exact for ints, strings, None and structure; floats to 1e-9 relative (summation order differs)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), where
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual} != {expected}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert isinstance(actual, float), f"{where}: {actual!r} is not a float"
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12), f"{where}: {actual} != {expected}"
    else:
        assert type(actual) is type(expected) and actual == expected, f"{where}: {actual!r} != {expected!r}"


# ---------------------------------------------------------------- varied synthetic frames


def mixed_frame() -> tuple[pd.DataFrame, dict, dict]:
    rng = np.random.default_rng(7)
    n = 300
    price = rng.normal(50, 8, n)
    price[rng.choice(n, 6, replace=False)] = [400, 390, -200, 350, 500, -150]  # outliers both sides
    price[rng.choice(n, 20, replace=False)] = np.nan
    quantity = pd.array(rng.integers(0, 20, n), dtype="Int64")
    quantity[rng.choice(n, 15, replace=False)] = pd.NA
    paid = pd.array(rng.random(n) < 0.7, dtype="boolean")
    paid[rng.choice(n, 9, replace=False)] = pd.NA
    day = pd.Series(pd.date_range("2023-01-01", periods=n, freq="D"))
    day[rng.choice(n, 10, replace=False)] = pd.NaT
    region = pd.array(rng.choice(["north", "south", "east", "west", "centre"], n), dtype="string")
    region[rng.choice(n, 12, replace=False)] = pd.NA
    words = ["delivery", "late", "great", "service", "box", "damaged", "refund", "asked", "for", "again"]
    comment = pd.array(
        [" ".join(rng.choice(words, 12)) + f" (ticket {i})" for i in range(n)], dtype="string"
    )
    frame = pd.DataFrame(
        {
            "customer_id": pd.array(rng.permutation(n) + 1000, dtype="Int64"),
            "ref": strings([str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64)) for _ in range(n)]),
            "sku": pd.array([f"A{i:05d}" for i in rng.permutation(n)], dtype="string"),
            "quantity": quantity,
            "price": price,
            "discount": price * 0.1 + rng.normal(0, 0.5, n),
            "empty": np.full(n, np.nan),
            "constant": np.full(n, 7.0),
            "paid": paid,
            "day": day,
            "region": region,
            "comment": comment,
        }
    )
    types = {
        "customer_id": "identifier",
        "ref": "identifier",
        "sku": "identifier",
        "quantity": "numeric",
        "price": "numeric",
        "discount": "numeric",
        "empty": "numeric",
        "constant": "numeric",
        "paid": "boolean",
        "day": "datetime",
        "region": "categorical",
        "comment": "text",
    }
    return frame, types, {"day": "day"}


def monthly_ties_duplicates_frame() -> tuple[pd.DataFrame, dict, dict]:
    months = pd.date_range("2021-01-01", periods=24, freq="MS")
    frame = pd.DataFrame(
        {
            "month": np.repeat(months, 2),
            # three values with equal counts: only the tie-break decides their order
            "store": pd.array(["b", "c", "a"] * 16, dtype="string"),
            "sales": pd.array(np.tile([10, 20, 30, 40], 12), dtype="Int64"),
            "returns": np.tile([1.0, 2.5, 2.5, 4.0, np.nan, 1.0], 8),
        }
    )
    frame = pd.concat([frame, frame.iloc[[0, 5, 5, 9]]], ignore_index=True)  # 4 duplicate rows
    types = {"month": "datetime", "store": "categorical", "sales": "numeric", "returns": "numeric"}
    return frame, types, {"month": "month"}


def irregular_and_text_frame() -> tuple[pd.DataFrame, dict, dict]:
    rng = np.random.default_rng(11)
    n = 400
    start = pd.Timestamp("2024-01-01").value
    stamps = pd.to_datetime(np.sort(rng.integers(start, start + 365 * 86_400 * 10**9, n)))
    cities = [f"Town {rng.integers(1, 10**rng.integers(1, 5))}" for _ in range(n)]
    frame = pd.DataFrame(
        {
            "seen_at": stamps,
            "reading": rng.gamma(2.0, 3.0, n),
            "temperature": rng.normal(15, 5, n).round(1),
            "city": pd.array(cities, dtype="string"),
            "flag": pd.array(rng.random(n) < 0.1, dtype="boolean"),
        }
    )
    frame.loc[frame.index[::7], "temperature"] = np.nan
    types = {
        "seen_at": "datetime",
        "reading": "numeric",
        "temperature": "numeric",
        "city": "text",
        "flag": "boolean",
    }
    return frame, types, {"seen_at": "irregular"}


def timezone_hourly_frame() -> tuple[pd.DataFrame, dict, dict]:
    # crosses the Paris DST change: local hours repeat, but the instants stay an hour apart
    stamps = pd.date_range("2024-10-26 20:00", periods=72, freq="h", tz="Europe/Paris")
    load = np.sin(np.arange(72) / 6.0) * 10 + 100
    frame = pd.DataFrame({"time": stamps, "load": load, "load_kw": load * 1000 + 3})
    return frame, {"time": "datetime", "load": "numeric", "load_kw": "numeric"}, {"time": "hour"}


def single_row_frame() -> tuple[pd.DataFrame, dict, dict]:
    frame = pd.DataFrame(
        {
            "id": pd.array([1], dtype="Int64"),
            "value": [2.5],
            "when": pd.to_datetime(["2024-05-01 12:30:00"]),
            "ok": pd.array([True], dtype="boolean"),
            "label": pd.array(["x"], dtype="string"),
        }
    )
    types = {"id": "identifier", "value": "numeric", "when": "datetime", "ok": "boolean"}
    types["label"] = "categorical"
    return frame, types, {"when": None}


def empty_frame() -> tuple[pd.DataFrame, dict, dict]:
    frame = pd.DataFrame(
        {
            "n": pd.array([], dtype="Int64"),
            "x": np.array([], dtype="float64"),
            "t": pd.to_datetime(pd.Series([], dtype="datetime64[ns]")),
            "b": pd.array([], dtype="boolean"),
            "s": pd.array([], dtype="string"),
        }
    )
    types = {"n": "numeric", "x": "numeric", "t": "datetime", "b": "boolean", "s": "categorical"}
    return frame, types, {}


def all_missing_frame() -> tuple[pd.DataFrame, dict, dict]:
    frame = pd.DataFrame(
        {
            "a": np.full(5, np.nan),
            "b": pd.array([pd.NA] * 5, dtype="Int64"),
            "c": pd.array([pd.NA] * 5, dtype="string"),
            "d": pd.array([pd.NA] * 5, dtype="boolean"),
            "e": pd.Series([pd.NaT] * 5, dtype="datetime64[ns]"),
        }
    )
    types = {"a": "numeric", "b": "numeric", "c": "categorical", "d": "boolean", "e": "datetime"}
    return frame, types, {}


SYNTHETIC = {
    "mixed": mixed_frame,
    "monthly_ties_duplicates": monthly_ties_duplicates_frame,
    "irregular_and_text": irregular_and_text_frame,
    "timezone_hourly": timezone_hourly_frame,
    "single_row": single_row_frame,
    "empty": empty_frame,
    "all_missing": all_missing_frame,
}


@pytest.mark.parametrize("case", SYNTHETIC)
def test_every_profile_number_matches_pandas_on_synthetic_frames(case):
    frame, types, spacing = SYNTHETIC[case]()
    assert_same(profile_json(frame), expected_profile(frame, types, spacing))


# ---------------------------------------------------------------- real third-party files


def seattle_weather():
    frame = pd.read_csv(VEGA / "seattle-weather.csv", parse_dates=["date"])
    frame["weather"] = frame["weather"].astype("string")
    types = dict(date="datetime", precipitation="numeric", temp_max="numeric", temp_min="numeric")
    return frame, types | {"wind": "numeric", "weather": "categorical"}, {"date": "day"}


def vega_stocks():
    frame = pd.read_csv(VEGA / "stocks.csv")
    frame["symbol"] = frame["symbol"].astype("string")
    frame["date"] = pd.to_datetime(frame["date"], format="%b %d %Y")
    return frame, {"symbol": "categorical", "date": "datetime", "price": "numeric"}, {"date": "month"}


def penguins():
    frame = pd.read_csv(PENGUINS)
    for name in ("species", "island", "sex"):
        frame[name] = frame[name].astype("string")
    frame["year"] = frame["year"].astype("Int64")
    types = {name: "numeric" for name in frame.columns}
    types |= {name: "categorical" for name in ("species", "island", "sex")}
    return frame, types, {}


def matplotlib_stocks():
    frame = pd.read_csv(MPL_STOCKS, comment="#", parse_dates=["Date"])
    types = {name: "numeric" for name in frame.columns} | {"Date": "datetime"}
    return frame, types, {"Date": "month"}


def airports():
    frame = pd.read_csv(VEGA / "airports.csv")
    for name in ("iata", "name", "city", "state", "country"):
        frame[name] = frame[name].astype("string")
    types = {
        "iata": "identifier",
        "name": "text",
        "city": "text",
        "state": "categorical",
        "country": "categorical",
        "latitude": "numeric",
        "longitude": "numeric",
    }
    return frame, types, {}


def airports_as_read():
    """pandas 3's own default typing: text columns in the NaN-backed "str" dtype, not "string"."""
    frame = pd.read_csv(VEGA / "airports.csv")
    return frame, airports()[1], {}


def us_employment():
    frame = pd.read_csv(VEGA / "us-employment.csv", parse_dates=["month"])
    return frame, {name: "numeric" for name in frame.columns} | {"month": "datetime"}, {"month": "month"}


def iowa_electricity():
    frame = pd.read_csv(VEGA / "iowa-electricity.csv", parse_dates=["year"])
    frame["source"] = frame["source"].astype("string")
    types = {"year": "datetime", "source": "categorical", "net_generation": "numeric"}
    return frame, types, {"year": "year"}


def la_riots():
    frame = pd.read_csv(VEGA / "la-riots.csv", parse_dates=["death_date"])
    text = ("first_name", "last_name", "gender", "race", "address", "neighborhood", "type")
    for name in text:
        frame[name] = frame[name].astype("string")
    frame["age"] = frame["age"].astype("Int64")
    types = {
        "first_name": "text",
        "last_name": "text",
        "age": "numeric",
        "gender": "categorical",
        "race": "categorical",
        "death_date": "datetime",
        "address": "text",
        "neighborhood": "text",
        "type": "categorical",
        "longitude": "numeric",
        "latitude": "numeric",
    }
    # four consecutive days, then deaths weeks and months apart: the typical gap (3 days) is rare
    return frame, types, {"death_date": "irregular"}


REAL = {
    "seattle-weather": seattle_weather,
    "vega-stocks": vega_stocks,
    "penguins": penguins,
    "matplotlib-Stocks": matplotlib_stocks,
    "airports": airports,
    "airports-as-read": airports_as_read,
    "us-employment": us_employment,
    "iowa-electricity": iowa_electricity,
    "la-riots": la_riots,
}


@pytest.mark.parametrize("name", REAL)
def test_every_profile_number_matches_pandas_on_real_files(name):
    frame, types, spacing = REAL[name]()
    assert_same(profile_json(frame), expected_profile(frame, types, spacing))


def test_real_file_profile_has_the_known_shape_of_penguins():
    profile = compute_profile(table_of(penguins()[0]))
    assert (profile.rows, profile.duplicate_rows) == (344, 0)
    assert profile.column("sex").missing == 11
    assert profile.column("species").top_values == [("Adelie", 152), ("Gentoo", 124), ("Chinstrap", 68)]
    strongest = profile.correlations[0]
    assert {strongest.a, strongest.b} == {"flipper_length_mm", "body_mass_g"}
    assert strongest.r == pytest.approx(0.871, abs=5e-4)  # the published penguins figure


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    "name", ["id", "ID", "customer_id", "Order No", "customerId", "order.number", "uuid", "zip code", "key"]
)
def test_id_like_names(name):
    assert looks_like_id_name(name)


@pytest.mark.parametrize(
    "name", ["paid", "video", "idea", "android", "monkey", "price", "note", "nothing", "Non"]
)
def test_names_that_are_not_ids(name):
    assert not looks_like_id_name(name)


LONG = "a fairly long sentence of more than forty characters"


def column_type(values, name="column") -> str:
    return compute_profile(table_of(pd.DataFrame({name: values}))).columns[0].type


@pytest.mark.parametrize(
    ("values", "name", "kind"),
    [
        (pd.array([3, 1, 2], dtype="Int64"), "id", "identifier"),
        (pd.array([3, 1, 1], dtype="Int64"), "id", "numeric"),  # repeats: not an id
        ([1.0, 2.0, 3.5], "id", "numeric"),  # fractions: not an id
        ([1.0, 2.0, 3.0, np.nan], "row_id", "identifier"),  # float storage of whole numbers, missing allowed
        (pd.array([10, 20, 30], dtype="Int64"), "amount", "numeric"),  # unique numbers are not ids by value
        (strings([f"{i:032x}" for i in range(5)]), "hash", "identifier"),
        (strings(["Paris", "Lyon", "Nice"]), "city", "categorical"),
        (strings(["Paris", "Lyon", "Nice"]), "city_code", "identifier"),
        (strings(["ABC", "XYZ", "DEF"]), "carrier", "categorical"),  # few, no digits
        (strings([f"{a}{b}{c}" for a in "ABCD" for b in "EFGH" for c in "IJKL"]), "iata", "identifier"),
        (strings([f"name {i}" for i in range(100)]), "who", "text"),  # spaces, many
        (strings([f"{LONG}, number {i}" for i in range(5)]), "note", "text"),  # unique and long
        (strings([LONG] * 5), "note", "categorical"),  # long, but repeats
        (pd.array([True, False, pd.NA], dtype="boolean"), "id", "boolean"),
        (pd.to_datetime(["2024-01-01", "2024-01-02"]), "id", "datetime"),
    ],
)
def test_column_type_rules(values, name, kind):
    assert column_type(values, name) == kind


def test_categorical_limit_is_twenty_or_five_percent():
    fifty = [f"v{i % 50}" for i in range(1000)]  # 50 distinct of 1000 rows: exactly 5 %
    assert column_type(pd.array(fifty, dtype="string")) == "categorical"
    fifty_one = fifty[:-1] + ["v50"]
    assert column_type(pd.array(fifty_one, dtype="string")) == "text"
    assert column_type(pd.array([f"v{i % 21}" for i in range(42)], dtype="string")) == "text"
    assert column_type(pd.array([f"v{i % 20}" for i in range(40)], dtype="string")) == "categorical"


def gaps(stamps) -> np.ndarray:
    distinct = np.unique(pd.DatetimeIndex(stamps).dropna().to_numpy())
    return np.diff(distinct) / np.timedelta64(1, "s")


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        (pd.date_range("2020-01-01", periods=30, freq="s"), "second"),
        (pd.date_range("2020-01-01", periods=30, freq="15min"), "minute"),
        (pd.date_range("2020-01-01", periods=30, freq="h"), "hour"),
        (pd.date_range("2020-01-01", periods=30, freq="D"), "day"),
        (pd.bdate_range("2020-01-01", periods=30), "day"),  # weekends skipped: most gaps are a day
        (pd.date_range("2020-01-01", periods=30, freq="W-MON"), "week"),
        (pd.date_range("2020-01-01", periods=30, freq="ME"), "month"),
        (pd.date_range("2020-01-01", periods=30, freq="QS"), "quarter"),
        (pd.date_range("2000-01-01", periods=30, freq="YS"), "year"),
        # repeated values are not gaps
        (pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-02", "2020-01-03"]), "day"),
        (pd.to_datetime(["2020-01-01", "2020-01-04", "2020-01-05", "2020-01-15", "2020-03-01"]), "irregular"),
        # no sub-second unit
        (pd.date_range("2020-01-01", periods=3, freq="500ms"), "irregular"),
        (pd.to_datetime(["2020-01-01"]), None),
    ],
)
def test_granularity(stamps, expected):
    assert granularity(gaps(stamps)) == expected


def test_top_values_are_the_ten_most_frequent_with_ties_by_value():
    values = ["k"] * 5 + ["b"] * 3 + ["a"] * 3 + [f"z{i}" for i in range(12)] + [pd.NA] * 4
    top = compute_profile(table_of(pd.DataFrame({"c": strings(values)}))).columns[0].top_values
    assert top == [("k", 5), ("a", 3), ("b", 3)] + [(f"z{i}", 1) for i in (0, 1, 10, 11, 2, 3, 4)]


def test_long_text_values_are_clipped_in_top_values():
    long = "x" * 500
    frame = pd.DataFrame({"t": pd.array([long, long, "short"], dtype="string")})
    (value, count), _ = compute_profile(table_of(frame)).columns[0].top_values
    assert (len(value), value[-1], count) == (200, "\u2026", 2)


def test_correlations_skip_identifiers_and_constant_columns_and_keep_the_ten_strongest():
    rng = np.random.default_rng(3)
    base = rng.normal(size=200)
    frame = pd.DataFrame({f"x{i}": base * (i + 1) * 0.1 + rng.normal(size=200) for i in range(7)})
    frame["flat"] = 0.3  # float rounding gives this constant column a std of 5.6e-17
    frame["record_id"] = pd.array(np.arange(200), dtype="Int64")
    profile = compute_profile(table_of(frame))
    assert len(profile.correlations) == 10  # 21 pairs among x0..x6
    names = {c.a for c in profile.correlations} | {c.b for c in profile.correlations}
    assert not names & {"flat", "record_id"}
    strengths = [abs(c.r) for c in profile.correlations]
    assert strengths == sorted(strengths, reverse=True)


def test_infinite_values_become_none_and_json_stays_strict():
    frame = pd.DataFrame({"x": [1.0, np.inf, 3.0, -np.inf, 2.0], "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    column = profile_json(frame)["columns"][0]
    assert column["mean"] is None and column["std"] is None
    assert (column["min"], column["max"], column["count"]) == (None, None, 5)


def test_importing_the_profile_contract_does_not_import_pandas():
    code = "import sys, shared.profile; print('pandas' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_a_constant_column_with_a_rounding_error_std_has_no_correlations(engine):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.normal(size=200), "flat": np.full(200, 0.3)})
    frame["y"] = frame["x"] + rng.normal(size=200)
    profile = compute_profile(table_of(frame))
    if engine == "duckdb":  # from the frequency table: one value, so the mean is exactly it
        assert profile.column("flat").std == 0.0
    else:
        assert profile.column("flat").std > 0  # 5.6e-17, as pandas reports it too
    assert [(c.a, c.b) for c in profile.correlations] == [("x", "y")]
