"""The bundled samples: exact content the demo relies on, and reproducible from scripts/make_samples.py."""

from __future__ import annotations

import pandas as pd

from scripts import make_samples
from shared.csv_reader import read_csv
from tests.csv_helpers import LIMITS, SAMPLES, run_loader


def test_samples_are_exactly_what_the_script_writes():
    for name, make in make_samples.SAMPLES.items():
        assert (SAMPLES / name).read_text(encoding="utf-8") == make(), name


def test_sales_totals_per_product():
    table = read_csv(SAMPLES / "sales.csv", "sales.csv", LIMITS)
    totals = table.frame.groupby("product")["revenue"].sum()
    assert totals.to_dict() == {"Widget A": 24_600, "Widget B": 40_200}
    assert (
        table.frame["revenue"]
        == table.frame["quantity"] * table.frame["product"].map({"Widget A": 120, "Widget B": 300})
    ).all()
    assert table.frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        d for d in ("2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05") for _ in (0, 1)
    ]


def test_servers_and_monthly_revenue_types():
    servers = read_csv(SAMPLES / "servers.csv", "servers.csv", LIMITS).frame
    assert servers.shape == (8, 4)
    assert servers.set_index("server").loc["web-04", "p99_response"] == 1020
    monthly = read_csv(SAMPLES / "monthly_revenue.csv", "monthly_revenue.csv", LIMITS).frame
    assert str(monthly["Month"].dtype) == "string"  # month names stay an ordered label axis
    assert monthly["Revenue"].sum() == 708_000


def test_retail_orders_is_realistic_and_small():
    path = SAMPLES / "retail_orders.csv"
    assert path.stat().st_size < 400_000
    table = read_csv(path, path.name, LIMITS)
    frame = table.frame
    assert 2_700 <= len(frame) <= 3_300
    assert frame["order_date"].min() >= pd.Timestamp("2024-01-01")
    assert frame["order_date"].max() <= pd.Timestamp("2025-06-30")
    assert (
        frame["region"].nunique() == 4
        and frame["channel"].nunique() == 3
        and frame["category"].nunique() == 5
    )
    assert 0 < frame["revenue"].isna().sum() < 20 and 0 < frame["discount"].isna().sum() < 50
    # bulk orders: a handful of far outliers in units
    q1, q3 = frame["units"].quantile([0.25, 0.75])
    assert 0 < (frame["units"] > q3 + 10 * (q3 - q1)).sum() <= 10
    # seasonality: November-December 2024 has far more orders than June-July 2024 (61 days each)
    period = frame["order_date"].dt.strftime("%Y-%m")
    assert period.isin(["2024-11", "2024-12"]).sum() > 1.3 * period.isin(["2024-06", "2024-07"]).sum()
    pd.testing.assert_frame_equal(run_loader(table, path), frame)
