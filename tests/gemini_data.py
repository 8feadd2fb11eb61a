"""Test data for the Gemini analyst tests: a small sales table and a real matplotlib PNG.

Requests are built from the table by ``tests.pipeline_inputs.request_for`` (read_csv + compute_profile),
so the numbers scripted into Gemini's answers are the ones the pipeline would send.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pandas as pd


def sales_frame(rows: int = 60) -> pd.DataFrame:
    """``rows`` days of sales of three products (seeded: the same table every time)."""
    rng = np.random.default_rng(7)
    products = np.array(["widget", "gadget", "doohickey"])
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=rows, freq="D"),
            "product": products[np.arange(rows) % 3],
            "units": rng.integers(1, 20, rows),
            "revenue": np.round(rng.gamma(4.0, 25.0, rows), 2),
        }
    )


@cache
def chart_png(title: str = "Revenue distribution") -> bytes:
    """A real PNG drawn by matplotlib (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.hist(sales_frame()["revenue"], bins=10)
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
