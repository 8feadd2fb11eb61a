"""Aggregates of large files (shared.aggregates) against pandas on the same full table.

Each table goes through the real large-file path (``profile_large_file`` with a small sample), and the
expected numbers are computed here with pandas, numpy and matplotlib from the whole file as the reader
reads it. The tables carry what breaks aggregates: missing values (also in group keys and dates), a
constant column, negative numbers, far outliers, a category whose values hold a quote and a line break,
a boolean category, dates with gaps, month names.
"""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook

from shared import aggregates as aggregates_module
from shared import large_file
from shared.csv_reader import Limits, read_csv
from shared.settings import Settings

LIMITS = Limits.from_settings(Settings())
SAMPLE = 50


def orders(rows: int, seed: int = 5) -> pd.DataFrame:
    """Orders at random hours over 120 days (some days without any), with the awkward values above."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    hours = rng.integers(0, 120 * 24, rows)
    hours = np.where((hours // 24) % 9 == 4, hours + 24, hours)  # every 9th day has no orders
    frame = pd.DataFrame(
        {
            "order_id": np.arange(1, rows + 1),
            "ordered_at": start + pd.to_timedelta(hours, unit="h"),
            "region": rng.choice(["north", 'south "quoted"', "east\nline two"], rows),
            "paid": rng.choice([True, False], rows),
            "customer": [f"c{n}" for n in rng.integers(0, max(30, rows // 8), rows)],
            "revenue": np.round(rng.normal(50, 40, rows), 2),
            "discount": np.round(rng.uniform(0, 0.3, rows), 4),
            "units": rng.integers(-3, 40, rows),
            "fee": 2.5,
        }
    )
    frame.loc[rng.random(rows) < 0.1, "revenue"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "ordered_at"] = pd.NaT
    frame.loc[rng.random(rows) < 0.05, "region"] = None
    frame.loc[[3, 17], "revenue"] = [5000.0, -4000.0]
    return frame


def monthly(rows: int = 600) -> pd.DataFrame:
    """Month names as the time axis, a yes/no column, a column with no values; no unique key."""
    rng = np.random.default_rng(11)
    names = ["January", "Feb", "mar", "Apr", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    frame = pd.DataFrame(
        {
            "month": [names[i % 12] for i in range(rows)],
            "channel": rng.choice(['web "shop"', "store\nfront", "phone"], rows),
            "profit": np.round(rng.normal(-20, 50, rows), 2),
            'price"); import os; ("': np.round(rng.lognormal(3, 1, rows), 2),  # a hostile name
            "empty": np.nan,
        }
    )
    frame.loc[::13, "profit"] = np.nan
    return frame


def through_large_path(frame: pd.DataFrame, tmp_path, name: str = "data.csv"):
    """(LargeFileResult, the whole table as the reader reads it) for ``frame`` written as a CSV file."""
    path = tmp_path / name
    frame.to_csv(path, index=False)
    result = large_file.profile_large_file(path, name, LIMITS, sample_rows=SAMPLE)
    assert result.aggregates is not None
    return result, read_csv(path, name, LIMITS).frame


def table(rows) -> pd.DataFrame:
    return pd.DataFrame(rows.rows, columns=rows.columns)


def close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return through_large_path(orders(400), tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    return through_large_path(orders(20_000, seed=9), tmp_path_factory.mktemp("medium"))


@pytest.fixture(params=["small", "medium"])
def case(request):
    return request.getfixturevalue(request.param)


def test_the_plan_is_the_one_the_cases_are_meant_to_exercise(small):
    plan = small[0].aggregates.plan
    assert plan.numeric == ["revenue", "discount", "units", "fee"]
    assert plan.additive == ["revenue", "units", "fee"]  # discount is a measurement: averaged
    assert plan.categories == ["region", "paid"]
    assert plan.top_category == "customer"
    assert (plan.time, plan.freq, plan.coarsened) == ("ordered_at", "D", True)
    assert small[0].aggregates.row_names == ["order_id"]


def test_column_sums_statistics_and_whiskers_match_pandas_and_matplotlib(case):
    result, full = case
    stats = table(result.aggregates.columns).set_index("column")
    for name in result.aggregates.plan.numeric:
        values = full[name].dropna().astype(float)
        row = stats.loc[name]
        assert close(row["sum"], float(full[name].sum())), name
        assert row["count"] == len(values) and row["missing"] == full[name].isna().sum()
        assert close(row["25%"], values.quantile(0.25)) and close(row["75%"], values.quantile(0.75))
        box = cbook.boxplot_stats(values.to_numpy(), whis=1.5)[0]
        assert close(row["whisker_low"], box["whislo"]) and close(row["whisker_high"], box["whishi"]), name
        assert row["outliers"] == len(box["fliers"]), name
    assert stats.loc["fee", "whisker_low"] == stats.loc["fee", "whisker_high"] == 2.5  # the constant column


def test_histogram_bins_are_the_bins_numpy_makes(case):
    result, full = case
    bins = table(result.aggregates.histograms)
    assert set(bins["column"]) == set(result.aggregates.plan.numeric)
    for name, part in bins.groupby("column"):
        values = full[name].dropna().to_numpy(dtype=float)
        counts, edges = np.histogram(values, bins=int(min(30, max(5, np.sqrt(len(values))))))
        assert part["rows"].tolist() == counts.tolist(), name  # every row in exactly numpy's bin
        assert part["left"].tolist() == edges[:-1].tolist() and part["right"].iloc[-1] == edges[-1]
        assert part["rows"].sum() == len(values)
    constant = bins[bins["column"] == "fee"]
    assert constant["left"].iloc[0] == 2.0 and constant["right"].iloc[-1] == 3.0  # numpy's range for a constant


def test_values_on_and_next_to_bin_edges_land_in_the_bin_numpy_puts_them_in(tmp_path):
    # 169 values: 13 bins; values at every edge and one ULP either side, where float arithmetic
    # alone puts about one in ten in the neighbouring bin
    low, high, bins = -46.04265724722594, 27.39233746429086, 13
    edges = np.histogram_bin_edges(np.array([low, high]), bins=bins)
    tricky = np.concatenate([edges, np.nextafter(edges, np.inf)[:-1], np.nextafter(edges, -np.inf)[1:]])
    filler = np.random.default_rng(2).uniform(low, high, 169 - len(tricky))
    values = np.concatenate([tricky, filler])
    result, _ = through_large_path(pd.DataFrame({"x": values}), tmp_path)
    counts = table(result.aggregates.histograms)["rows"].tolist()
    assert counts == np.histogram(values, bins=bins)[0].tolist()


def test_group_totals_means_and_counts_match_pandas_groupby(case):
    result, full = case
    groups = table(result.aggregates.groups)
    for category in result.aggregates.plan.categories:
        grouped = full.groupby(category)[result.aggregates.plan.numeric]
        expected = {"total": grouped.sum(), "mean": grouped.mean(), "count": grouped.count()}
        mine = groups[groups["category"] == category]
        assert sorted(mine["value"].unique()) == sorted(str(v) for v in expected["total"].index)
        for _, row in mine.iterrows():
            key = next(k for k in expected["total"].index if str(k) == row["value"])
            for part in ("total", "mean", "count"):
                assert close(row[part], float(expected[part].loc[key, row["metric"]])), (category, key, part)
    assert 'south "quoted"' in set(groups["value"]) and "east\nline two" in set(groups["value"])
    assert {"True", "False"} <= set(groups["value"])  # booleans read as pandas writes them


def test_per_period_series_match_pandas_resampling(case):
    result, full = case
    aggregates = result.aggregates
    plan = aggregates.plan
    how = {m: "sum" if m in plan.additive else "mean" for m in plan.numeric}
    period = full[plan.time].dt.to_period(plan.freq)
    expected = full.groupby(period)[plan.numeric].agg(how).sort_index()
    periods = table(aggregates.periods)
    assert [pd.Period(p, plan.freq) for p in periods["period"]] == list(expected.index)  # gaps stay gaps
    assert periods["rows"].sum() == full[plan.time].notna().sum()
    for metric in plan.numeric:
        assert all(map(close, periods[metric], expected[metric].astype(float))), metric
    assert aggregates.time_max == full[plan.time].max().isoformat()

    category = plan.categories[0]
    largest = full.groupby(category)[plan.numeric[0]].agg(how[plan.numeric[0]]).nlargest(6).index
    subset = full[full[category].isin(largest)]
    by = subset.groupby([period[subset.index], category])[plan.key].agg({m: how[m] for m in plan.key})
    mine = table(aggregates.period_groups)
    assert len(mine) == len(by)
    for (p, value), row in zip(by.index, mine.itertuples(index=False), strict=True):
        assert (pd.Period(row.period, plan.freq), row.value) == (p, str(value))
        for i, metric in enumerate(plan.key):
            assert close(row[2 + i], float(by.loc[(p, value), metric])), (p, value, metric)


def test_the_largest_groups_of_a_many_valued_category_match_pandas(case):
    result, full = case
    top = result.aggregates.top_groups
    totals = full.groupby("customer")[["revenue", "discount"]].agg({"revenue": "sum", "discount": "mean"})
    assert top["distinct"] == len(totals)
    for metric in ("revenue", "discount"):
        expected = totals[metric].nlargest(10)
        found = top["metrics"][metric]["largest"]
        assert [k for k, _ in found] == list(expected.index), metric
        assert all(close(v, float(e)) for (_, v), e in zip(found, expected, strict=True))
    assert close(top["metrics"]["revenue"]["all_groups"], float(totals["revenue"].sum()))


def test_extreme_rows_match_pandas_and_are_named_by_the_unique_key(case):
    result, full = case
    picked = table(result.aggregates.extremes)
    names = full["order_id"].astype("string").to_numpy()
    for metric in result.aggregates.plan.numeric:
        values = pd.Series(full[metric].to_numpy(), index=names).dropna()
        mine = picked[picked["column"] == metric]

        def rows(kind):
            part = mine[mine["kind"] == kind].sort_values("rank")
            return list(zip(part["row"], part["value"], strict=True))

        # ties keep the earlier row first, as nlargest/nsmallest do
        assert rows("highest") == [(k, float(v)) for k, v in values.nlargest(3).items()], metric
        assert rows("lowest") == [(k, float(v)) for k, v in values.nsmallest(3).items()], metric
        q1, q3 = values.quantile([0.25, 0.75])
        outside = values[(values < q1 - 1.5 * (q3 - q1)) | (values > q3 + 1.5 * (q3 - q1))]
        farthest = outside.sub(values.median()).abs().sort_values(ascending=False)
        assert sorted(v for _, v in rows("outlier")) == sorted(outside[farthest.index[:5]].astype(float))
        assert [v for _, v in rows("flier_high")] == sorted(outside[outside > q3], reverse=True)[:10]
        assert [v for _, v in rows("flier_low")] == sorted(outside[outside < q1])[:10]
    assert ("4", 5000.0) in [(r, v) for r, v in zip(picked["row"], picked["value"], strict=True)]


def test_the_correlation_matrix_matches_pandas(case):
    result, full = case
    numeric = result.aggregates.plan.numeric
    mine = table(result.aggregates.correlations).set_index("column")[numeric].astype(float)
    expected = full[numeric].astype(float).corr()
    np.testing.assert_allclose(mine.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)
    assert mine.loc["fee"].isna().all()  # a constant column has no r, as in pandas


def test_the_size_is_bounded_by_the_plan_not_the_row_count(small, medium):
    sizes = {}
    for name, (result, _) in {"small": small, "medium": medium}.items():
        a = result.aggregates
        plan = a.plan
        assert len(a.columns.rows) == len(plan.numeric) and len(a.correlations.rows) == len(plan.numeric)
        assert len(a.histograms.rows) <= 30 * 6
        assert len(a.extremes.rows) <= len(plan.numeric) * (3 + 3 + 5 + 10 + 10)
        assert len(a.groups.rows) <= len(plan.categories) * 20 * len(plan.numeric)
        assert len(a.periods.rows) <= 121 and len(a.period_groups.rows) <= 121 * 6
        assert all(len(m["largest"]) <= 10 for m in a.top_groups["metrics"].values())
        sizes[name] = len(a.to_json())
    # 50 times the rows: the parts fill up to their bounds (bins, period × category cells), no further
    assert sizes["small"] < sizes["medium"] < 64_000


def test_month_names_are_periods_and_rows_without_a_key_are_numbered(tmp_path):
    result, full = through_large_path(monthly(), tmp_path)
    a = result.aggregates
    assert (a.plan.time, a.plan.time_kind) == ("month", "month")
    assert a.row_names == [] and a.time_max is None
    periods = table(a.periods)
    assert periods["period"].tolist() == list(range(1, 13)) and periods["rows"].tolist() == [50] * 12
    number = full["month"].str[:3].str.lower().map({m: i for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)})
    expected = full.groupby(number)["profit"].sum()
    assert all(map(close, periods["profit"], expected.astype(float)))
    highest = table(a.extremes).query("column == 'profit' and kind == 'highest'")
    position = full["profit"].idxmax()
    assert highest["row"].iloc[0] == f"row {position + 1}"
    assert json.loads(a.to_json())["missing"] == {"profit": int(full["profit"].isna().sum()), "empty": 600}


def test_a_pair_of_columns_names_rows_when_no_single_column_is_unique(tmp_path):
    days = pd.date_range("2024-03-01", periods=40, freq="D")
    frame = pd.DataFrame(
        {
            "day": np.repeat(days, 3),
            "shop": ["A", "B", "C"] * 40,
            "sales": np.arange(120, dtype=float) % 17,
        }
    )
    result, _ = through_large_path(frame, tmp_path)
    assert result.aggregates.row_names == ["day", "shop"]
    highest = table(result.aggregates.extremes).query("kind == 'highest'")
    assert highest["row"].tolist() == ["2024-03-06 B", "2024-03-12 A", "2024-03-17 C"]  # value 16, earliest first


def test_a_duckdb_failure_leaves_the_analyst_with_the_sample_and_says_so(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise duckdb.OutOfMemoryException("could not allocate")

    monkeypatch.setattr(aggregates_module, "compute_aggregates", fail)
    path = tmp_path / "orders.csv"
    orders(300).to_csv(path, index=False)
    result = large_file.profile_large_file(path, path.name, LIMITS, sample_rows=SAMPLE)
    assert result.aggregates is None and result.profile.rows == 300
    assert any("analyst worked from the profile and a representative sample" in w for w in result.table.warnings)


def test_the_profile_step_alone_computes_no_aggregates(tmp_path):
    path = tmp_path / "orders.csv"
    orders(300).to_csv(path, index=False)
    result = large_file.profile_large_file(path, path.name, LIMITS, sample_rows=SAMPLE, aggregates=False)
    assert result.aggregates is None and result.aggregates_s < 0.01
    with_them = large_file.profile_large_file(path, path.name, LIMITS, sample_rows=SAMPLE)
    assert with_them.aggregates is not None and with_them.aggregates_s > 0
    assert any("aggregates" in w and "cover every row" in w for w in with_them.table.warnings)
