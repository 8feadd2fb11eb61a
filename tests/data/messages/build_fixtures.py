"""Rebuild the example result messages in this folder from sales.csv and hand-written code cells.

    /work/main/.venv/bin/python tests/data/messages/build_fixtures.py

The messages are examples written by hand in the shape the pipeline publishes (DESIGN.md): the profile
numbers are computed here with pandas from sales.csv, and every code cell is really executed (in one
namespace, in order, in a temp folder holding data.csv) so its recorded output is what the code prints.
The tests re-run the same cells from the notebook and compare, which is why outputs must be real.
Run it only when the fixtures must change; the golden reports then need UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
RUN_ID = "3f9a1c07d2b84e65"
GEMINI_RUN_ID = "a41b2c3d4e5f6071"
CREATED = "2026-11-24T09:15:02+00:00"

LOADER = 'import pandas as pd\ndf = pd.read_csv("sales.csv", parse_dates=["date"])'

LOCAL_STEPS = [
    (
        "statistics",
        "Summary statistics",
        [
            ("text", "Descriptive statistics of the numeric columns and IQR outliers of revenue."),
            (
                "code",
                'import pandas as pd\n\ndf = pd.read_csv("data.csv", parse_dates=["date"])\n'
                'print(df[["units", "unit_price", "revenue"]].describe().round(2).to_string())',
            ),
            (
                "code",
                'q1, q3 = df["revenue"].quantile([0.25, 0.75])\niqr = q3 - q1\n'
                "low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr\n"
                'outliers = df[(df["revenue"] < low) | (df["revenue"] > high)]\n'
                'print(f"revenue: {len(outliers)} outlier(s) outside [{low:,.2f}, {high:,.2f}]")\n'
                'print(outliers[["date", "product", "units", "revenue"]].to_string(index=False))',
            ),
        ],
    ),
    (
        "charts",
        "Charts",
        [
            (
                "code",
                'import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\n\n'
                'by_product = df.groupby("product")["revenue"].sum().sort_values(ascending=False)\n'
                "print(by_product.round(2).to_string())\n"
                'ax = by_product.plot.bar(title="Revenue by product")\nax.set_ylabel("revenue")\n'
                'plt.tight_layout()\nplt.savefig("revenue-by-product.png", dpi=80)\nplt.close()',
            ),
            ("image", "Revenue by product"),
            (
                "code",
                'monthly = df.set_index("date")["revenue"].resample("MS").sum()\n'
                "print(monthly.round(2).to_string())\n"
                'ax = monthly.plot(title="Monthly revenue", marker="o")\n'
                'plt.tight_layout()\nplt.savefig("monthly-revenue.png", dpi=80)\nplt.close()',
            ),
            ("image", "Monthly revenue"),
        ],
    ),
    (
        "insights",
        "Insights",
        [
            (
                "code",
                "first, last = monthly.iloc[0], monthly.iloc[-1]\n"
                'print(f"growth Jan->Dec: {100 * (last - first) / first:.1f}%")\n'
                'print(f"top product share: {100 * by_product.iloc[0] / by_product.sum():.1f}%")',
            ),
        ],
    ),
]

GEMINI_STEPS = [
    (
        "statistics",
        "Statistics and outliers",
        [
            ("text", "I'll load the data and compute **descriptive statistics** first."),
            (
                "code",
                'import pandas as pd\ndf = pd.read_csv("data.csv", parse_dates=["date"])\n'
                'print(df.groupby("region")["revenue"].agg(["count", "sum", "mean"]).round(2).to_string())',
            ),
            (
                "code",
                'print(df["revenu"].max())',
            ),
            ("text", "The column is called `revenue`, not `revenu`; retrying."),
            (
                "code",
                'print(df["revenue"].max())',
            ),
            (
                "text",
                "### Findings\n\n* **West** has the most revenue.\n* One bulk order of 400 units stands out.",
            ),
        ],
    ),
    (
        "charts",
        "Charts",
        [
            (
                "code",
                'import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\n'
                'df["revenue"].plot.hist(bins=10, title="Revenue distribution")\n'
                'plt.savefig("hist.png")\nplt.close()\n'
                'print("saved")',
            ),
            ("image", "Revenue distribution"),
        ],
    ),
]


def run_cells(steps, data: Path) -> list[dict]:
    """Execute the steps' code in order in one namespace inside a temp folder; record real outputs."""
    out_steps = []
    namespace: dict = {}
    work = Path(tempfile.mkdtemp())
    shutil.copy(data, work / "data.csv")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        for name, title, parts in steps:
            out_parts = []
            for kind, body in parts:
                if kind == "text":
                    out_parts.append({"kind": "text", "text": body})
                elif kind == "image":
                    slug = body.lower().replace(" ", "-")
                    out_parts.append(
                        {
                            "kind": "image",
                            "uri": f"gs://csv-insights-reports/reports/sales/RUN/charts/{slug}.png",
                            "title": body,
                        }
                    )
                else:
                    out_parts.append({"kind": "code", "code": body})
                    buf = io.StringIO()
                    outcome = "ok"
                    with contextlib.redirect_stdout(buf):
                        try:
                            exec(compile(body, "<cell>", "exec"), namespace)
                        except Exception:
                            outcome = "failed"
                            # What Gemini's sandbox prints: the cell's frame and the exception (no paths).
                            buf.write(
                                'Traceback (most recent call last):\n  File "<cell>", line 1, in <module>\n'
                            )
                            buf.write("".join(traceback.format_exception_only(*sys.exc_info()[:2])))
                    out_parts.append({"kind": "result", "outcome": outcome, "output": buf.getvalue()})
            out_steps.append({"name": name, "title": title, "parts": out_parts})
    finally:
        os.chdir(cwd)
        shutil.rmtree(work)
    return out_steps


def profile(df: pd.DataFrame) -> dict:
    """The Profile.to_dict() shape (shared/profile.py), computed with pandas."""
    columns = []
    for name in df.columns:
        s = df[name]
        col = {
            "name": name,
            "count": int(s.notna().sum()),
            "missing": int(s.isna().sum()),
            "distinct": int(s.nunique()),
            "mean": None,
            "std": None,
            "min": None,
            "q1": None,
            "median": None,
            "q3": None,
            "max": None,
            "outliers": None,
            "top_values": None,
            "start": None,
            "end": None,
            "granularity": None,
        }
        if pd.api.types.is_datetime64_any_dtype(s):
            col.update(
                type="datetime", start=s.min().isoformat(), end=s.max().isoformat(), granularity="month"
            )
        elif pd.api.types.is_numeric_dtype(s):
            q1, med, q3 = (float(v) for v in s.quantile([0.25, 0.5, 0.75]))
            iqr = q3 - q1
            col.update(
                type="numeric",
                mean=float(s.mean()),
                std=float(s.std()),
                min=float(s.min()),
                q1=q1,
                median=med,
                q3=q3,
                max=float(s.max()),
                outliers=int(((s < q1 - 1.5 * iqr) | (s > q3 + 1.5 * iqr)).sum()),
            )
        else:
            counts = s.value_counts()
            col.update(type="categorical", top_values=[[str(k), int(v)] for k, v in counts.head(10).items()])
        columns.append(col)
    numeric = [c["name"] for c in columns if c["type"] == "numeric"]
    corr = df[numeric].corr()
    pairs = [
        {"a": a, "b": b, "r": round(float(corr.loc[a, b]), 6)}
        for i, a in enumerate(numeric)
        for b in numeric[i + 1 :]
    ]
    pairs.sort(key=lambda p: -abs(p["r"]))
    return {
        "rows": len(df),
        "column_count": len(columns),
        "duplicate_rows": int(df.duplicated().sum()),
        "columns": columns,
        "correlations": pairs,
    }


def source(name: str, size: int, generation: str) -> dict:
    return {
        "bucket": "csv-insights-input",
        "name": name,
        "generation": generation,
        "size": size,
        "content_type": "text/csv",
        "md5_hash": None,
        "sha256": "9b1d3e2f4a5c6b7d8e9f00112233445566778899aabbccddeeff001122334455",
    }


def message(run_id: str, steps: list[dict], analyst: dict, **extra) -> dict:
    for step in steps:
        for part in step["parts"]:
            if part["kind"] == "image":
                part["uri"] = part["uri"].replace("RUN", run_id)
    df = pd.read_csv(HERE / "sales.csv", parse_dates=["date"])
    base = {
        "run_id": run_id,
        "source": source("incoming/2024/sales.csv", (HERE / "sales.csv").stat().st_size, "1732439702113456"),
        "status": "succeeded",
        "dataset": {
            "name": "sales",
            "rows": len(df),
            "columns": list(df.columns),
            "column_types": {c["name"]: c["type"] for c in profile(df)["columns"]},
            "loader_code": LOADER,
        },
        "artifacts_prefix": f"gs://csv-insights-reports/reports/sales-1f0e2d3c/{run_id}/",
        "profile": profile(df),
        "steps": steps,
        "insights": [],
        "alerts": [],
        "analyst": analyst,
        "error": None,
        "warnings": [],
        "timings": {},
        "created_at": CREATED,
        "schema_version": 1,
    }
    base.update(extra)
    return base


def main() -> None:
    data = HERE / "sales.csv"
    local = message(
        RUN_ID,
        run_cells(LOCAL_STEPS, data),
        {
            "kind": "local",
            "model": None,
            "usage": {
                "prompt_tokens": 0,
                "output_tokens": 0,
                "tool_use_prompt_tokens": 0,
                "thoughts_tokens": 0,
                "total_tokens": 0,
                "turns": 0,
                "code_cells": 5,
                "failed_cells": 0,
                "latency_s": 2.84,
                "turn_latencies_s": [],
            },
        },
        insights=[
            "Monthly revenue grew from 2,317.75 in January to 5,019.25 in December (+116.6%).",
            "Gadget brings 53.8% of all revenue (25,230 of 46,922.75).",
            "One revenue value (5,000 on 2024-11-05, a 400-unit Widget order) lies above the upper IQR fence "
            "of 3,332.62.",
            "units and revenue are moderately correlated (r = 0.64).",
        ],
        warnings=[
            "1 row has no value for units and revenue (line 19).",
        ],
        timings={"read_s": 0.0123, "profile_s": 0.0456, "analysis_s": 2.84, "store_s": 0.21, "total_s": 3.11},
    )
    gemini = message(
        GEMINI_RUN_ID,
        run_cells(GEMINI_STEPS, data),
        {
            "kind": "gemini",
            "model": "gemini-3.8-flash",
            "usage": {
                "prompt_tokens": 18234,
                "output_tokens": 2311,
                "tool_use_prompt_tokens": 6120,
                "thoughts_tokens": 1450,
                "total_tokens": 28115,
                "turns": 3,
                "code_cells": 4,
                "failed_cells": 1,
                "latency_s": 41.7,
                "turn_latencies_s": [17.2, 15.9, 8.6],
            },
        },
        insights=[
            "**West** leads revenue with 14,470.25, ahead of South (11,657.75).",
            "A single 400-unit Widget order (5,000) makes November the strongest month.",
        ],
        alerts=[
            {
                "rule": "missing_values",
                "severity": "warning",
                "dataset": "sales",
                "run_id": GEMINI_RUN_ID,
                "message": "units is 2.8% missing (threshold 1%)",
                "metric": "missing_share",
                "value": 0.028,
                "threshold": 0.01,
                "offenders": ["units"],
                "report_uri": None,
                "repeat": False,
                "created_at": CREATED,
                "schema_version": 1,
            },
            {
                "rule": "outliers",
                "severity": "critical",
                "dataset": "sales",
                "run_id": GEMINI_RUN_ID,
                "message": "revenue has 1 outlier above 3,332.62",
                "metric": "outliers",
                "value": 1,
                "threshold": 0,
                "offenders": ["revenue"],
                "report_uri": None,
                "repeat": True,
                "created_at": CREATED,
                "schema_version": 1,
            },
        ],
        warnings=["Gemini saw a representative sample of 36 of 36 rows."],
        timings={"read_s": 0.011, "profile_s": 0.04, "analysis_s": 41.7, "total_s": 42.3},
    )
    failed_limit = {
        "run_id": "0c1d2e3f40516273",
        "source": source("exports/huge.csv", 734_003_200, "1732439800000001"),
        "status": "failed",
        "dataset": {"name": "huge", "rows": None, "columns": None, "column_types": {}},
        "artifacts_prefix": "gs://csv-insights-reports/reports/huge-5a6b7c8d/0c1d2e3f40516273/",
        "profile": None,
        "steps": [],
        "insights": [],
        "alerts": [],
        "analyst": None,
        "error": {
            "code": "limit_exceeded",
            "message": "The file is 700.0 MiB; the limit is 512.0 MiB (MAX_FILE_BYTES).",
            "permanent": True,
        },
        "warnings": [],
        "timings": {"read_s": 0.002, "total_s": 0.004},
        "created_at": CREATED,
        "schema_version": 1,
    }
    failed_csv = dict(
        failed_limit,
        run_id="7a6b5c4d3e2f1001",
        source=source("incoming/broken.csv", 1234, "17324398"),
        dataset={"name": "broken", "rows": None, "columns": None, "column_types": {}},
        artifacts_prefix="gs://csv-insights-reports/reports/broken-0badc0de/7a6b5c4d3e2f1001/",
        error={
            "code": "invalid_csv",
            "permanent": True,
            "message": "Line 3 has 5 fields, expected 3.\nTraceback (most recent call last):\n"
            '  File "/srv/shared/csv_reader.py", line 88, in read_csv\nValueError: x',
        },
    )
    failed_transient = dict(
        failed_limit,
        run_id="5e5e5e5e5e5e5e5e",
        artifacts_prefix="gs://csv-insights-reports/reports/sales-1f0e2d3c/5e5e5e5e5e5e5e5e/",
        source=source("incoming/sales.csv", 2048, "1732439900000002"),
        dataset={"name": "sales", "rows": 36, "columns": 6, "column_types": {}},
        analyst={"kind": "gemini", "model": "gemini-3.8-flash", "usage": None},
        error={
            "code": "transient_error",
            "permanent": False,
            "message": "Gemini answered 503 UNAVAILABLE three times within the retry budget.",
        },
    )
    for name, msg in [
        ("sales_succeeded", local),
        ("gemini_succeeded", gemini),
        ("failed_limit", failed_limit),
        ("failed_invalid_csv", failed_csv),
        ("failed_transient", failed_transient),
    ]:
        (HERE / f"{name}.json").write_text(json.dumps(msg, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
