"""Write the bundled sample files into samples/ (deterministic: the same bytes on every run).

    python -m scripts.make_samples [--out samples]

sales.csv, servers.csv and monthly_revenue.csv are small hand-specified tables whose totals the
demo's readers can check by eye; retail_orders.csv is a larger seeded order log with seasonality,
a few missing values and a few outliers, for the analysts to find.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

SEED = 20250101
REGIONS = ("North", "South", "East", "West")
REGION_WEIGHT = (0.32, 0.22, 0.28, 0.18)
CHANNELS = ("Online", "Store", "Partner")
CHANNEL_WEIGHT = (0.5, 0.35, 0.15)
# category -> (median unit price, price spread as a factor)
CATEGORIES = {
    "Electronics": (240.0, 0.45),
    "Home": (65.0, 0.35),
    "Clothing": (38.0, 0.30),
    "Sports": (85.0, 0.40),
    "Toys": (29.0, 0.30),
}
CATEGORY_WEIGHT = (0.18, 0.24, 0.26, 0.17, 0.15)
# Orders per day relative to the mean, by month: a summer dip and a November-December peak.
SEASON = (0.85, 0.80, 0.95, 1.00, 1.02, 0.90, 0.85, 0.92, 1.00, 1.08, 1.35, 1.55)


def sales() -> str:
    rows = [("date", "product", "quantity", "revenue")]
    widget_a = (40, 45, 38, 42, 40)
    widget_b = (25, 28, 30, 27, 24)
    for day, (qa, qb) in enumerate(zip(widget_a, widget_b, strict=True), 1):
        date = f"2025-01-{day:02d}"
        rows.append((date, "Widget A", qa, qa * 120))
        rows.append((date, "Widget B", qb, qb * 300))
    return _csv(rows)


def servers() -> str:
    rows = [
        ("server", "avg_response", "p99_response", "error_rate"),
        ("web-01", 120, 250, 0.01),
        ("web-02", 340, 890, 0.05),
        ("web-03", 150, 310, 0.03),
        ("web-04", 410, 1020, 0.08),
        ("web-05", 135, 280, 0.02),
        ("api-01", 95, 210, 0.02),
        ("api-02", 280, 760, 0.06),
        ("api-03", 88, 190, 0.01),
    ]
    return _csv(rows)


def monthly_revenue() -> str:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    revenue = (45000, 47000, 52000, 49000, 55000, 58000, 61000, 59000, 64000, 68000, 72000, 78000)
    return _csv([("Month", "Revenue"), *zip(months, revenue, strict=True)])


def retail_orders(target_rows: int = 3000) -> str:
    """About ``target_rows`` orders from 2024-01-01 to 2025-06-30."""
    rng = np.random.default_rng(SEED)
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-07-01"))
    months = days.astype("datetime64[M]").astype(int) % 12
    trend = np.linspace(1.0, 1.18, len(days))  # the business grows ~18 % over the period
    weight = np.array(SEASON)[months] * trend
    per_day = rng.poisson(weight / weight.sum() * target_rows)
    order_days = np.repeat(days, per_day)
    n = len(order_days)

    region = rng.choice(REGIONS, size=n, p=REGION_WEIGHT)
    channel = rng.choice(CHANNELS, size=n, p=CHANNEL_WEIGHT)
    category = rng.choice(list(CATEGORIES), size=n, p=CATEGORY_WEIGHT)
    median = np.array([CATEGORIES[c][0] for c in category])
    spread = np.array([CATEGORIES[c][1] for c in category])
    unit_price = np.round(median * np.exp(rng.normal(0, spread)), 2)
    units = rng.geometric(0.35, size=n)
    discount = np.where(rng.random(n) < 0.3, rng.choice([0.05, 0.1, 0.15, 0.2], size=n), 0.0)
    discount = np.where(channel == "Partner", np.maximum(discount, 0.1), discount)

    # A few bulk orders: the outliers an analyst should flag.
    bulk = rng.choice(n, size=8, replace=False)
    units[bulk] = rng.integers(60, 150, size=8)
    revenue = np.round(units * unit_price * (1 - discount), 2)

    rows: list[tuple[object, ...]] = [
        (
            "order_id",
            "order_date",
            "region",
            "channel",
            "category",
            "units",
            "unit_price",
            "discount",
            "revenue",
        )
    ]
    missing_discount = set(rng.choice(n, size=25, replace=False).tolist())
    missing_region = set(rng.choice(n, size=12, replace=False).tolist())
    missing_revenue = set(rng.choice(n, size=6, replace=False).tolist())
    for i in range(n):
        rows.append(
            (
                f"ORD-{100001 + i}",
                str(order_days[i]),
                "" if i in missing_region else region[i],
                channel[i],
                category[i],
                int(units[i]),
                f"{unit_price[i]:.2f}",
                "" if i in missing_discount else f"{discount[i]:.2f}",
                "" if i in missing_revenue else f"{revenue[i]:.2f}",
            )
        )
    return _csv(rows)


SAMPLES = {
    "sales.csv": sales,
    "servers.csv": servers,
    "monthly_revenue.csv": monthly_revenue,
    "retail_orders.csv": retail_orders,
}


def _csv(rows: list[tuple[object, ...]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="samples", type=Path, help="folder to write into (default: samples)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in SAMPLES.items():
        (args.out / name).write_text(make(), encoding="utf-8", newline="")


if __name__ == "__main__":
    main()
