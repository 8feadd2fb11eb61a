"""The local analyst on the bundled samples and on awkward tables.

Expected numbers are computed here with pandas/numpy from the sample files, independently of the
analyst's generated code (except the sales totals the issue itself gives: 24,600 and 40,200).
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from shared.analysts import local as local_module
from shared.analysts.base import Outcome, PartKind
from shared.analysts.local import LocalAnalyst
from shared.analysis_plan import is_month_column
from shared.analysts.local_code import Cell
from shared.sandbox import PNG_SIGNATURE, SandboxLimits
from shared.settings import Settings
from tests.pipeline_inputs import SAMPLES, request_for

LIMITS = SandboxLimits(cell_timeout_s=30, total_timeout_s=90)


def analyze(data: pd.DataFrame | Path, **kwargs):
    """The local analyst's analysis of ``data`` (a DataFrame or a CSV file), read as the pipeline reads it."""
    return LocalAnalyst(Settings(), LIMITS).analyze(request_for(data, **kwargs))


def sentence_with(insights: list[str], *words: str) -> str:
    matches = [s for s in insights if all(w in s for w in words)]
    assert matches, f"no insight mentions {words}: {insights}"
    return matches[0]


def assert_clean_run(analysis) -> None:
    assert analysis.succeeded, analysis.warnings
    assert analysis.warnings == []
    assert analysis.usage.failed_cells == 0
    results = [p for p in analysis.parts() if p.kind is PartKind.RESULT]
    assert results and all(p.outcome is Outcome.OK for p in results)
    assert 1 <= len(analysis.insights) <= 6


@pytest.fixture(scope="module")
def sales():
    return pd.read_csv(SAMPLES / "sales.csv", parse_dates=["date"]), analyze(SAMPLES / "sales.csv")


@pytest.fixture(scope="module")
def servers():
    return pd.read_csv(SAMPLES / "servers.csv"), analyze(SAMPLES / "servers.csv")


@pytest.fixture(scope="module")
def monthly():
    return (
        pd.read_csv(SAMPLES / "monthly_revenue.csv"),
        analyze(SAMPLES / "monthly_revenue.csv"),
    )


def test_sales_report_gives_total_revenue_per_product(sales):
    df, analysis = sales
    assert_clean_run(analysis)
    sentence = sentence_with(analysis.insights, "revenue", "Widget A", "Widget B")
    assert "Widget A 24,600" in sentence and "Widget B 40,200" in sentence
    totals = df.groupby("product")["revenue"].sum()
    shares = totals / totals.sum() * 100
    assert f"Widget B 40,200 ({shares['Widget B']:.1f}%)" in sentence


def test_sales_report_gives_mean_daily_quantity_and_daily_growth_per_product(sales):
    df, analysis = sales
    daily = df.groupby(["date", "product"])["quantity"].sum().unstack("product")
    sentence = sentence_with(analysis.insights, "Mean per day by product", "quantity")
    for product, mean in daily.mean().items():
        assert f"{product} {mean:g}" in sentence
    growth = df.pivot(index="date", columns="product", values="revenue").pct_change() * 100
    sentence = sentence_with(analysis.insights, "Day-over-day growth", "revenue")
    for product in growth.columns:
        for day, value in growth[product].dropna().items():
            assert (
                f"{day:%Y-%m-%d} {value:+.1f}%".replace("-", "−").replace(
                    f"{day:%Y−%m−%d}", f"{day:%Y-%m-%d}"
                )
                in sentence
            )


def test_sales_report_has_the_grouped_bar_chart_and_line_chart(sales):
    _, analysis = sales
    titles = [p.title for p in analysis.parts() if p.kind is PartKind.IMAGE]
    assert "Totals by product" in titles
    assert "revenue per day with a least-squares trend line" in titles
    assert any(t.startswith("Distribution") for t in titles) and any(
        t.startswith("Box plots") for t in titles
    )


def test_server_report_ranks_servers_by_each_metric(servers):
    df, analysis = servers
    assert_clean_run(analysis)
    for metric in ("avg_response", "p99_response", "error_rate"):
        sentence = sentence_with(analysis.insights, f"has the highest {metric} (")
        top_part, bottom_part = sentence.split("; ")
        highest = df.sort_values(metric, ascending=False, kind="stable").head(3)
        assert re.findall(r"\b([a-z]+-\d\d)\b", top_part) == highest["server"].tolist()
        assert f"has the highest {metric} ({df[metric].max():,g})" in top_part
        # Ties (error_rate has two servers at 0.01) may come in either order: compare values, not names.
        named = re.findall(r"\b([a-z]+-\d\d)\b", bottom_part)
        assert df.set_index("server").loc[named, metric].tolist() == sorted(df[metric])[:3]
        assert f"has the lowest ({df[metric].min():,g})" in bottom_part


def test_server_report_gives_the_correlation_of_response_time_and_error_rate(servers):
    df, analysis = servers
    r = df["avg_response"].corr(df["error_rate"])
    sentence = sentence_with(analysis.insights, "avg_response and error_rate")
    assert f"avg_response and error_rate (r = {r:+.2f})" in sentence
    titles = [p.title for p in analysis.parts() if p.kind is PartKind.IMAGE]
    assert "Correlation between numeric columns" in titles  # 3 numeric columns: a heatmap


def test_monthly_report_states_the_trend_slope_per_month_and_draws_it(monthly):
    df, analysis = monthly
    assert_clean_run(analysis)
    slope = np.polyfit(np.arange(12), df["Revenue"].to_numpy(dtype=float), 1)[0]
    sentence = sentence_with(analysis.insights, "trend", "per month")
    assert f"+{slope:,.0f} per month" in sentence
    assert "45,000 in Jan" in sentence and "78,000 in Dec" in sentence
    line = next(p for p in analysis.parts() if p.kind is PartKind.IMAGE and "trend" in (p.title or ""))
    assert line.title == "Revenue per month with a least-squares trend line"


def test_month_names_are_an_ordered_time_axis():
    assert is_month_column(pd.Series(["Jan", "Feb", "March", "sept.", None]))
    assert not is_month_column(pd.Series(["Jan", "Feb", "Widget"]))
    shuffled = pd.read_csv(SAMPLES / "monthly_revenue.csv").sample(frac=1, random_state=3)
    analysis = analyze(shuffled)
    sentence = sentence_with(analysis.insights, "trend", "per month")
    assert "45,000 in Jan" in sentence and "78,000 in Dec" in sentence


def test_charts_are_real_pngs_with_titles(sales, servers, monthly):
    for _, analysis in (sales, servers, monthly):
        images = [p for p in analysis.parts() if p.kind is PartKind.IMAGE]
        assert len(images) >= 3
        for part in images:
            assert part.image.startswith(PNG_SIGNATURE)
            assert part.title
            height, width = matplotlib.image.imread(io.BytesIO(part.image)).shape[:2]
            assert width >= 400 and height >= 300


def test_steps_are_text_code_result_then_images(sales):
    _, analysis = sales
    assert [s.name for s in analysis.steps] == ["statistics", "charts", "insights"]
    for step in analysis.steps[:2]:
        kinds = [p.kind for p in step.parts]
        for i, kind in enumerate(kinds):
            if kind is PartKind.CODE:
                assert kinds[i - 1] is PartKind.TEXT and kinds[i + 1] is PartKind.RESULT
    code = next(p.code for p in analysis.parts() if p.kind is PartKind.CODE)
    assert 'pd.read_csv("data.csv"' in code and "parse_dates=['date']" in code
    assert analysis.analyst == "local" and analysis.model is None
    assert analysis.usage.turns == 0 and analysis.usage.total_tokens == 0
    assert analysis.usage.code_cells == sum(1 for p in analysis.parts() if p.kind is PartKind.CODE)
    outputs = " ".join(p.output for p in analysis.parts() if p.kind is PartKind.RESULT)
    assert "@@result" not in outputs  # machine lines are parsed, not shown
    assert "24600" in outputs  # the insight numbers are in the printed tables


HOSTILE = ["a\"b'c", "x\ny", "__import__('os').system('touch pwned')", "$rev$ {x}", "\\", "')\nimport os\n('"]


def test_hostile_column_names_do_not_break_or_inject_code():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({name: rng.integers(1, 100, 12).astype(float) for name in HOSTILE[:4]})
    frame[HOSTILE[4]] = ["$x$", "'); import os; ('", "a\nb"] * 4
    frame[HOSTILE[5]] = pd.date_range("2025-01-01", periods=12, freq="D")
    analysis = analyze(frame)
    assert_clean_run(analysis)
    for code in (p.code for p in analysis.parts() if p.kind is PartKind.CODE):
        tree = ast.parse(code)
        strings = {
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        calls = {
            n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        assert "__import__" not in calls
        imports = {
            a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names
        }
        assert imports <= {"json", "numpy", "pandas", "matplotlib.pyplot", "FuncFormatter", "cbook"}
        assert not any("system" in getattr(n, "attr", "") for n in ast.walk(tree))
        if "NUMERIC = " in code:
            assert set(HOSTILE[:4]) <= strings
    images = [p for p in analysis.parts() if p.kind is PartKind.IMAGE]
    assert len(images) >= 4
    assert any("__import__" in s for s in analysis.insights)  # names shown as text, on one line
    assert all("\n" not in s for s in analysis.insights)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"city": ["Oslo", "Lima", "Oslo", "Pune"], "note": ["a b", "c d", "e f", "g h"]}),
        pd.DataFrame({"date": pd.to_datetime(["2025-03-01"]), "shop": ["A"], "sales": [10.0]}),
        pd.DataFrame(
            {
                "x": [1.0, 2.0, 3.0, 4.0, 5.0],
                "empty": [np.nan] * 5,
                "blank": [None] * 5,
                "y": [2.0, 1.0, 4.0, 3.0, 5.0],
                "z": [5.0, 3.0, 4.0, 1.0, 2.0],
            }
        ),
        pd.DataFrame(
            {"item": [f"item-{i % 500}" for i in range(1500)], "amount": np.arange(1500, dtype=float) % 97}
        ),
        pd.DataFrame({"flag": [True, False, True, True], "v": [1.0, 2.0, 3.0, 4.0]}),
    ],
    ids=["no-numeric", "single-row", "all-missing-columns", "many-categories", "boolean"],
)
def test_awkward_tables_still_give_an_analysis_without_failed_cells(frame):
    analysis = analyze(frame)
    assert_clean_run(analysis)
    assert analysis.insights


def test_questions_get_a_plain_answer_and_samples_are_declared():
    analysis = analyze(SAMPLES / "servers.csv", questions="Which server should we replace?", sampled=True)
    questions = analysis.steps[-1]
    assert questions.name == "questions"
    assert "does not answer free-form questions" in questions.parts[0].text
    assert "GEMINI_API_KEY" in questions.parts[0].text
    assert "sample" in analysis.steps[0].parts[0].text


def test_a_failing_cell_is_named_in_warnings_and_the_rest_goes_on(monkeypatch):
    original = local_module.build_cells

    def with_broken_cell(plan, mark, **kwargs):
        cells = original(plan, mark, **kwargs)
        return cells[:2] + [Cell("statistics", "broken cell", "Fails on purpose.", "1 / 0")] + cells[2:]

    monkeypatch.setattr(local_module, "build_cells", with_broken_cell)
    analysis = analyze(SAMPLES / "servers.csv")
    assert analysis.succeeded
    assert analysis.usage.failed_cells == 1
    assert analysis.warnings == [
        "The local analyst's cell 'broken cell' failed: ZeroDivisionError: division by zero."
    ]
    sentence_with(analysis.insights, "has the highest avg_response")


def test_a_hung_cell_is_cut_off_and_the_later_cells_still_run(monkeypatch):
    original = local_module.build_cells

    def with_hung_cell(plan, mark, **kwargs):
        cells = original(plan, mark, **kwargs)
        return (
            cells[:2] + [Cell("statistics", "hung cell", "Never ends.", "while True:\n    pass")] + cells[2:]
        )

    monkeypatch.setattr(local_module, "build_cells", with_hung_cell)
    analyst = LocalAnalyst(Settings(), SandboxLimits(cell_timeout_s=6, total_timeout_s=90))
    analysis = analyst.analyze(request_for(SAMPLES / "servers.csv"))
    results = [p for p in analysis.parts() if p.kind is PartKind.RESULT]
    assert results[2].outcome is Outcome.DEADLINE_EXCEEDED
    assert all(p.outcome is Outcome.OK for p in results[3:])
    assert analysis.usage.failed_cells == 1 and "hung cell" in analysis.warnings[0]
    sentence_with(analysis.insights, "has the highest avg_response")


def test_insight_numbers_come_from_the_executed_output(monkeypatch):
    """Change a number in what the sandbox printed: the sentence follows it (nothing is recomputed)."""
    real_run = local_module.run_cells

    def doctored(cells, files, limits):
        results = real_run(cells, files, limits)
        for result in results:
            result.output = result.output.replace('"Widget A": 24600.0', '"Widget A": 11111.0')
        return results

    monkeypatch.setattr(local_module, "run_cells", doctored)
    analysis = analyze(SAMPLES / "sales.csv")
    sentence = sentence_with(analysis.insights, "Totals by product")
    assert "Widget A 11,111" in sentence and "24,600" not in sentence


def test_measurements_are_averaged_by_group_and_calendar_numbers_are_not_metrics():
    """Penguins (a real third-party CSV): body mass per species is a mean, and the year column is no metric."""
    import palmerpenguins

    path = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    df = pd.read_csv(path)
    analysis = analyze(path)
    assert_clean_run(analysis)
    sentence = sentence_with(analysis.insights, "Means by species", "body_mass_g")
    for species, mean in df.groupby("species")["body_mass_g"].mean().items():
        assert f"{species} {mean:,.0f}" in sentence
    assert not any("year" in s and ("Totals" in s or "highest year" in s) for s in analysis.insights)
    code = "\n".join(p.code for p in analysis.parts() if p.kind is PartKind.CODE)
    assert "'year'" not in code.split("CATEGORIES")[0].split("NUMERIC = ")[1]


def test_a_weak_fit_is_not_called_a_trend():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "day": pd.date_range("2025-01-01", periods=40, freq="D"),
            "visits": rng.integers(90, 110, 40).astype(float),
        }
    )
    analysis = analyze(frame)
    assert_clean_run(analysis)
    y = frame["visits"].to_numpy()
    slope, intercept = np.polyfit(np.arange(40), y, 1)
    r2 = 1 - ((y - (slope * np.arange(40) + intercept)) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 < 0.3  # the data are noise around 100
    assert not any("least-squares trend" in s for s in analysis.insights)
    sentence_with(analysis.insights, "No clear linear trend in visits per day", f"R² {r2:.2f}")


def test_the_profile_cross_check_finds_no_contradiction_in_the_sample_insights(sales, servers, monthly):
    from shared.crosscheck import cross_check

    for name, (_, analysis) in {"sales": sales, "servers": servers, "monthly_revenue": monthly}.items():
        profile = request_for(SAMPLES / f"{name}.csv").profile.to_dict()
        outputs = [p.output or "" for p in analysis.parts() if p.kind is PartKind.RESULT]
        assert cross_check(analysis.insights, profile, outputs) == [], name


def test_a_boolean_category_keeps_both_groups_and_largest_groups_take_any_number_of_columns():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "customer": [f"c{i % 100}" for i in range(600)],
            "paid": [i % 3 == 0 for i in range(600)],
            "revenue": np.round(rng.normal(100, 10, 600), 2),
            "units": rng.integers(1, 9, 600),
            "price": np.round(rng.normal(5, 1, 600), 2),
        }
    )
    analysis = analyze(frame)
    assert_clean_run(analysis)  # 'largest groups' once failed with more than two numeric columns
    totals = frame.groupby("paid")["revenue"].sum()
    sentence = sentence_with(analysis.insights, "Totals by paid")
    assert f"True {totals[True]:,.0f}" in sentence and f"False {totals[False]:,.0f}" in sentence
