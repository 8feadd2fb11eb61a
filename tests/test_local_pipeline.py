"""End to end through the in-process path (make analyze): files in, report folders out.

Numbers in analysis.json are checked against independent pandas computations, never against
literals copied from our own output (except the totals the issue gives).
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from scripts import analyze

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


def run_cli(target: Path, out: Path, capsys) -> tuple[int, str]:
    code = analyze.main([str(target), "--out", str(out)])
    return code, capsys.readouterr().out


def report_folders(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.rglob("report.md"))


def load_result(folder: Path) -> dict:
    return json.loads((folder / "analysis.json").read_text())


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    code = analyze.main([str(SAMPLES), "--out", str(out)])
    folders = {load_result(f)["source"]["name"]: f for f in report_folders(out)}
    return code, out, folders


def test_samples_each_get_a_complete_report_folder(sample_run):
    code, out, folders = sample_run
    assert code == 0
    for name in ("sales.csv", "servers.csv", "monthly_revenue.csv", "retail_orders.csv"):
        folder = folders[name]
        result = load_result(folder)
        assert result["status"] == "succeeded", result.get("error")
        assert result["analyst"]["usage"]["failed_cells"] == 0, result["warnings"]
        assert (folder / "analysis.ipynb").is_file()
        charts = sorted((folder / "charts").glob("*.png"))
        assert charts, f"{name} has no charts"
        report = (folder / "report.md").read_text()
        for chart in charts:
            assert f"](charts/{chart.name})" in report
            assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert (folder.parent / "latest.md").is_file()


def text_of(result: dict) -> str:
    parts = [p.get("text") or p.get("output") or "" for s in result["steps"] for p in s["parts"]]
    # Reports use the typographic minus sign; compare numbers in ASCII.
    return "\n".join(parts + result["insights"]).replace("\u2212", "-")


def test_sales_report_gives_revenue_quantity_and_growth_per_product(sample_run):
    _, _, folders = sample_run
    result = load_result(folders["sales.csv"])
    text = text_of(result)
    assert "24,600" in text and "40,200" in text
    df = pd.read_csv(SAMPLES / "sales.csv", parse_dates=["date"])
    for product, group in df.groupby("product"):
        mean_qty = group["quantity"].mean()
        assert f"{mean_qty:,.1f}" in text or f"{mean_qty:,.2f}" in text, (product, mean_qty)
        growth = group.sort_values("date")["revenue"].pct_change().dropna() * 100
        last = growth.iloc[-1]
        assert f"{last:.1f}%" in text, (product, last)


def test_servers_report_ranks_servers_and_correlates_response_with_errors(sample_run):
    _, _, folders = sample_run
    result = load_result(folders["servers.csv"])
    text = text_of(result)
    df = pd.read_csv(SAMPLES / "servers.csv")
    slowest = df.sort_values("avg_response", ascending=False)["server"].iloc[0]
    assert slowest in text
    r = df["avg_response"].corr(df["error_rate"])
    assert f"{r:.2f}" in text


def test_monthly_report_has_trend_chart_and_states_slope(sample_run):
    _, _, folders = sample_run
    result = load_result(folders["monthly_revenue.csv"])
    import numpy as np

    df = pd.read_csv(SAMPLES / "monthly_revenue.csv")
    slope = np.polyfit(range(len(df)), df["Revenue"], 1)[0]
    assert f"{slope:,.0f}" in text_of(result)
    titles = [p["title"] or "" for s in result["steps"] for p in s["parts"] if p["kind"] == "image"]
    assert any("trend" in t.lower() for t in titles), titles


def independent_stats(series: pd.Series) -> dict[str, float]:
    s = series.dropna().astype(float)
    q1, q3 = s.quantile(0.25), s.quantile(0.75)
    iqr = q3 - q1
    return {
        "count": len(s),
        "mean": s.mean(),
        "std": s.std(),
        "min": s.min(),
        "q1": q1,
        "median": s.median(),
        "q3": q3,
        "max": s.max(),
        "outliers": int(((s < q1 - 1.5 * iqr) | (s > q3 + 1.5 * iqr)).sum()),
    }


@pytest.mark.parametrize("name", ["sales.csv", "servers.csv", "monthly_revenue.csv", "retail_orders.csv"])
def test_profile_numbers_in_analysis_json_match_pandas(sample_run, name):
    _, _, folders = sample_run
    result = load_result(folders[name])
    df = pd.read_csv(SAMPLES / name)
    assert result["dataset"]["rows"] == len(df)
    assert result["dataset"]["columns"] == df.shape[1]
    columns = {c["name"]: c for c in result["profile"]["columns"]}
    assert set(columns) == set(df.columns)
    for name_, col in columns.items():
        assert col["missing"] == int(df[name_].isna().sum()), name_
        assert col["count"] == int(df[name_].notna().sum()), name_
        if col["type"] != "numeric":
            continue
        for key, expected in independent_stats(pd.to_numeric(df[name_])).items():
            assert math.isclose(col[key], expected, rel_tol=1e-9, abs_tol=1e-9), (name_, key, col[key], expected)


BAD_INPUTS = {
    "empty.csv": (b"", "empty_file"),
    "header_only.csv": (b"a,b,c\n", "header_only"),
    "binary.csv": (bytes(range(256)) * 40, "binary_data"),
    "undecodable.csv": (b"name,value\ncaf\x81,1\nb\x8d,2\n", "undecodable"),  # not UTF-8 nor cp1252
    "long_cell.csv": (b"a,b\n" + b"x" * 200_000 + b",1\n", "cell_too_long"),
    "too_many_columns.csv": (
        (",".join(f"c{i}" for i in range(600)) + "\n" + ",".join("1" for _ in range(600)) + "\n").encode(),
        "too_many_columns",
    ),
    "bomb.csv.gz": (gzip.compress(b"a,b\n" + b"1,2\n" * 2_000_000), "decompressed_too_large"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_a_failure_report_and_no_partial_output(tmp_path, monkeypatch, capsys, name):
    data, code = BAD_INPUTS[name]
    monkeypatch.setenv("MAX_DECOMPRESSED_BYTES", str(1024 * 1024))
    monkeypatch.setenv("MAX_CELL_CHARS", "100000")
    src = tmp_path / "in"
    src.mkdir()
    (src / name).write_bytes(data)
    out = tmp_path / "out"
    exit_code, printed = run_cli(src / name, out, capsys)
    assert exit_code == 1
    [folder] = report_folders(out)
    result = load_result(folder)
    assert result["status"] == "failed"
    error = result["error"]
    assert error["code"] == code
    assert error["permanent"] is True
    assert "Traceback" not in error["message"] and len(error["message"]) > 20
    report = (folder / "report.md").read_text()
    assert error["message"].split(";")[0][:40] in report.replace("\\", "")
    assert "Traceback" not in report
    assert not (folder / "charts").exists()
    assert not (folder / "analysis.ipynb").exists()
    assert error["message"][:40] in printed


def test_over_the_byte_limit_is_refused_before_reading(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MAX_FILE_BYTES", "1000")
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,2\n" * 1000)
    exit_code, _ = run_cli(path, tmp_path / "out", capsys)
    assert exit_code == 1
    [folder] = report_folders(tmp_path / "out")
    error = load_result(folder)["error"]
    assert error["code"] == "too_large"
    assert "MAX_FILE_BYTES" in error["message"]


def test_unchanged_file_is_not_analysed_twice(tmp_path, capsys):
    path = tmp_path / "servers.csv"
    path.write_bytes((SAMPLES / "servers.csv").read_bytes())
    out = tmp_path / "out"
    assert run_cli(path, out, capsys)[0] == 0
    exit_code, printed = run_cli(path, out, capsys)
    assert exit_code == 0 and "unchanged" in printed
    assert len(report_folders(out)) == 1
