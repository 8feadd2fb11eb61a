"""The Markdown report (shared/report.py): golden files, hostile content, failure reports, latest.md.

Golden files live in tests/data/golden/. They are compared byte for byte; to regenerate them after an
intended change of the layout, run

    UPDATE_GOLDEN=1 /work/main/.venv/bin/python -m pytest tests/test_report.py

and read the diff before committing: that diff is the review of the change.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest

from shared import markdown as md
from shared.messages import ResultMessage
from shared.naming import chart_name
from shared.report import chart_paths as stored_chart_paths
from shared.report import render_latest, render_report
from shared.settings import env_names
from tests.rendered import ALLOWED_TAGS, outside_code, render

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
SECTIONS = [
    "Key insights",
    "Dataset overview",
    "Statistics",
    "Analysis",
    "Warnings",
    "Provenance",
    "Appendix: executed code",
]


def load(name: str) -> ResultMessage:
    return ResultMessage.from_json((DATA / "messages" / f"{name}.json").read_text())


def chart_paths(message: ResultMessage) -> dict[str, str]:
    """What the report writer does: the n-th image of the run is stored as charts/NN-<slug>.png."""
    images = [p for s in message.steps for p in s["parts"] if p["kind"] == "image"]
    return {p["uri"]: chart_name(i, p.get("title")) for i, p in enumerate(images, 1)}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(), f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"


# --- golden reports -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    ["sales_succeeded", "gemini_succeeded", "failed_limit", "failed_invalid_csv", "failed_transient"],
)
def test_report_matches_golden(fixture):
    message = load(fixture)
    check_golden(f"{fixture}.md", render_report(message, chart_paths(message)))


def test_latest_matches_golden():
    message = load("sales_succeeded")
    check_golden("latest.md", render_latest(message, f"{message.run_id}/report.md"))


# --- structure of a succeeded report --------------------------------------------------------------


def test_succeeded_report_has_the_sections_in_order_and_renders_clean():
    message = load("sales_succeeded")
    paths = chart_paths(message)
    html = render(render_report(message, paths))
    assert [t for t, _ in html.headings if t == "h1"] == ["h1"]
    assert [text for tag, text in html.headings if tag == "h2"] == SECTIONS
    assert {t for t, _ in html.tags} <= ALLOWED_TAGS
    assert html.attrs("img", "src") == list(paths.values())
    assert html.attrs("a", "href") == []


def test_overview_has_one_row_per_column_with_profile_numbers():
    message = load("sales_succeeded")
    html = render(render_report(message, chart_paths(message)))
    overview = html.tables[0]
    assert overview[0] == ["Column", "Type", "Values", "Missing", "Distinct", "Summary"]
    assert [r[0] for r in overview[1:]] == [c["name"] for c in message.profile["columns"]]
    units = next(r for r in overview if r[0] == "units")
    assert units[2:5] == ["35", "1 (2.8%)", "29"]


def test_numeric_statistics_are_formatted_for_people():
    message = load("sales_succeeded")
    html = render(render_report(message, chart_paths(message)))
    numeric = next(t for t in html.tables if t[0][0] == "Column" and t[0][1] == "Mean")
    revenue = next(r for r in numeric if r[0] == "revenue")
    # mean 1340.6470588..., std 982.9455..., q3 1755.0, max 5000.0, 1 IQR outlier
    assert revenue == ["revenue", "1,340.65", "982.95", "471.25", "703.25", "891.75", "1,755", "5,000", "1"]


def test_alerts_come_right_under_the_title_most_severe_first():
    message = load("gemini_succeeded")
    text = render_report(message, chart_paths(message))
    lines = text.splitlines()
    assert lines[0] == "# Analysis of sales.csv"
    assert lines[2] == "> **Alerts (2)**"
    alert_lines = [ln for ln in lines[:10] if ln.startswith("> - ")]
    assert [re.search(r"\*\*(\w+)\*\*", ln).group(1) for ln in alert_lines] == ["CRITICAL", "WARNING"]
    assert "(repeat)" in alert_lines[0] and "`outliers`" in alert_lines[0]


def test_no_alerts_block_without_alerts():
    message = load("sales_succeeded")
    assert "Alerts" not in render_report(message, chart_paths(message))


def test_gemini_usage_is_in_provenance():
    message = load("gemini_succeeded")
    html = render(render_report(message, chart_paths(message)))
    usage = dict(next(t for t in html.tables if t[0] == ["Metric", "Value"])[1:])
    assert usage["Prompt tokens"] == "18,234"
    assert usage["Tool-use prompt tokens"] == "6,120"
    assert usage["Thoughts tokens"] == "1,450"
    assert usage["Turns"] == "3"
    assert usage["Failed cells"] == "1"
    assert usage["Latency per turn"] == "17.2 s, 15.9 s, 8.6 s"


def test_local_report_has_no_token_rows():
    message = load("sales_succeeded")
    html = render(render_report(message, chart_paths(message)))
    usage = dict(next(t for t in html.tables if t[0] == ["Metric", "Value"])[1:])
    assert "Prompt tokens" not in usage and usage["Code cells"] == "5"


def test_failed_cell_is_flagged_in_analysis_and_warnings_and_kept_in_appendix():
    message = load("gemini_succeeded")
    text = render_report(message, chart_paths(message))
    assert "> **Cell 2 failed:** KeyError: 'revenu'" in text
    assert "1 of 4 code cells did not finish (cell 2)" in text
    assert "### Cell 2: Statistics and outliers (failed)" in text
    assert 'print(df["revenu"].max())' in text.split("## Appendix")[1]


def test_every_code_cell_and_output_is_in_the_appendix():
    message = load("sales_succeeded")
    appendix = render_report(message, chart_paths(message)).split("## Appendix: executed code")[1]
    for step in message.steps:
        for part in step["parts"]:
            if part["kind"] == "code":
                assert part["code"] in appendix
            if part["kind"] == "result":
                assert part["output"].rstrip() in appendix


def test_images_without_a_stored_path_are_listed_not_embedded():
    message = load("sales_succeeded")
    paths = chart_paths(message)
    first = next(iter(paths))
    del paths[first]
    text = render_report(message, paths)
    html = render(text)
    assert len(html.attrs("img", "src")) == 1
    assert "*Figure 1: Revenue by product* (image not stored with this report)" in text


def test_long_output_is_trimmed_in_analysis_but_complete_in_appendix():
    message = load("sales_succeeded")
    result = next(p for s in message.steps for p in s["parts"] if p["kind"] == "result")
    result["output"] = "".join(f"line {i}\n" for i in range(100))
    text = render_report(message, chart_paths(message))
    analysis, appendix = text.split("## Analysis")[1].split("## Appendix")
    assert "line 24\n" in analysis and "line 25\n" not in analysis
    assert "… 75 more lines: see cell 1 in the appendix" in analysis
    assert "line 99\n" in appendix


# --- hostile content ------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "![](http://evil/x.png)",
    "# heading",
    "| a | b |",
    "``` fence",
    "multi\nline\n# second heading",
    "<img src=x onerror=alert(1)>",
    "www.evil.example",
]


def hostile_message() -> tuple[ResultMessage, dict[str, str]]:
    data = json.loads((DATA / "messages" / "gemini_succeeded.json").read_text())
    data["source"]["name"] = "../../etc/\x1b[31m<script>alert(1)</script>\u202e[x](javascript:alert(1)).csv"
    columns = []
    for i, name in enumerate(HOSTILE_NAMES):
        col = copy.deepcopy(data["profile"]["columns"][i % len(data["profile"]["columns"])])
        col["name"] = name
        if col["type"] == "categorical":
            col["top_values"] = [
                ["| x | y |\n| --- | --- |", 3],
                ["<iframe src=//evil>", 2],
                ["[a](http://evil)", 1],
            ]
        columns.append(col)
    data["profile"]["columns"] = columns
    data["profile"]["correlations"] = [{"a": "<b>a</b>", "b": "| b |", "r": 0.9}]
    data["dataset"]["columns"] = HOSTILE_NAMES
    data["dataset"]["column_types"] = {c["name"]: c["type"] for c in columns}
    step = data["steps"][0]
    step["title"] = "# injected title\n## another"
    step["parts"][0]["text"] = (
        "Look: <iframe src=http://evil></iframe> [click](javascript:alert(1)) ![t](http://evil/t.png)\n"
        "# Injected heading\n| c | d |\n|---|---|\n| 1 | 2 |\n<http://evil.example> http://evil.example/x"
    )
    step["parts"][1]["code"] = "s = '````'\nprint('<script>alert(1)</script>')\n```\n# comment"
    step["parts"][2]["output"] = "```\n# not a heading\n<script>alert(1)</script>\n[x](javascript:alert(1))\n"
    data["insights"] = [
        "See [here](javascript:alert(1)) <img src=x onerror=alert(1)>",
        "![i](http://evil/i.png)",
    ]
    data["warnings"] = ["line 3\n# Injected warning heading", "<script>x</script>"]
    data["alerts"][0]["message"] = "<script>alert(1)</script>\n# alert heading [x](http://evil)"
    data["alerts"][0]["rule"] = "rule`with`ticks"
    data["analyst"]["model"] = "<b>model</b>"
    images = [p for s in data["steps"] for p in s["parts"] if p["kind"] == "image"]
    images[0]["title"] = "](http://evil/t.png) <script>"
    message = ResultMessage.from_dict(data)
    # The caller's mapping is ours, but a bad entry (remote or escaping path) must still never be embedded.
    return message, {images[0]["uri"]: "http://evil/x.png", "gs://other": "charts/01-ok.png"}


def test_hostile_content_cannot_inject_html_links_images_or_structure():
    message, paths = hostile_message()
    text = render_report(message, paths)
    html = render(text)
    # No raw HTML anywhere outside code: every "<" from the data became an entity.
    assert "<" not in outside_code(text)
    assert {t for t, _ in html.tags} <= ALLOWED_TAGS
    assert html.attrs("img", "src") == []  # the only image path offered was remote
    assert html.attrs("a", "href") == []
    assert "javascript:" not in " ".join(str(a) for _, a in html.tags)
    # Structure: exactly our headings.
    assert [t for t, _ in html.headings].count("h1") == 1
    assert [text for tag, text in html.headings if tag == "h2"] == SECTIONS
    assert not any(
        re.match(r"(?i)(injected|another|second heading|heading$|not a heading|alert heading)", t)
        for _, t in html.headings
    )
    # Tables keep their shape: one overview row per column, names shown literally.
    overview = html.tables[0]
    assert [r[0] for r in overview[1:]] == [md.clean_line(n) for n in HOSTILE_NAMES]
    assert all(len(r) == 6 for r in overview)
    # Data values are displayed, not interpreted.
    assert "<script>alert(1)</script>" in html.text
    assert "[x](javascript:alert(1))" in html.text


def test_hostile_chart_title_is_escaped_in_an_embedded_chart():
    message, _ = hostile_message()
    image = next(p for s in message.steps for p in s["parts"] if p["kind"] == "image")
    html = render(render_report(message, {image["uri"]: "charts/01-chart.png"}))
    assert html.attrs("img", "src") == ["charts/01-chart.png"]
    assert html.attrs("img", "alt") == ["](http://evil/t.png) <script>"]
    assert html.attrs("a", "href") == []


def test_hostile_file_name_is_one_line_in_the_title():
    message, paths = hostile_message()
    first = render_report(message, paths).splitlines()[0]
    assert first.startswith("# Analysis of ")
    assert "\x1b" not in first and "\u202e" not in first and "<" not in first


def test_hostile_failed_report_is_clean_too():
    message, _ = hostile_message()
    data = message.to_dict()
    data.update(
        status="failed",
        steps=[],
        profile=None,
        error={
            "code": "invalid_csv",
            "message": "<script>x</script>\n# h [a](javascript:1)",
            "permanent": True,
        },
    )
    text = render_report(ResultMessage.from_dict(data), {})
    html = render(text)
    assert "<" not in outside_code(text)
    assert {t for t, _ in html.tags} <= ALLOWED_TAGS - {"img", "a"}
    assert [tag for tag, _ in html.headings] == ["h1", "h2", "h2", "h2", "h2", "h3"]
    assert [t for _, t in html.headings[1:]] == [
        "What went wrong",
        "What to do next",
        "Warnings",
        "Provenance",
        "Gemini usage",
    ]


# --- failed runs ----------------------------------------------------------------------------------


def test_failed_report_is_short_and_has_no_statistics():
    message = load("failed_limit")
    text = render_report(message, {})
    html = render(text)
    assert [t for tag, t in html.headings if tag == "h2"] == [
        "What went wrong",
        "What to do next",
        "Provenance",
    ]
    assert "Statistics" not in text and "Appendix" not in text
    assert len(text.splitlines()) < 40


def test_failed_report_never_shows_a_traceback():
    text = render_report(load("failed_invalid_csv"), {})
    assert "Line 3 has 5 fields, expected 3." in text
    assert "Traceback" not in text and "csv_reader.py" not in text


@pytest.mark.parametrize(
    "message,setting",
    [
        ("The file is 700.0 MiB; the limit is 512.0 MiB.", "MAX_FILE_BYTES"),
        ("The file has 812 columns; at most 500 are allowed.", "MAX_COLUMNS"),
        ("A cell on line 4 is 200,001 characters long; the limit is 100,000.", "MAX_CELL_CHARS"),
        ("Decompressed, the file exceeds 2.0 GiB.", "MAX_DECOMPRESSED_BYTES"),
    ],
)
def test_limit_failure_names_the_setting_to_raise(message, setting):
    data = load("failed_limit").to_dict()
    data["error"]["message"] = message
    text = render_report(ResultMessage.from_dict(data), {})
    next_steps = text.split("## What to do next")[1].split("##")[0]
    assert f"`{setting}`" in next_steps
    assert setting in env_names()


def test_transient_failure_says_it_is_retried():
    text = render_report(load("failed_transient"), {})
    assert "temporary: the pipeline retries it" in text
    assert "retries on its own" in text


def test_every_setting_a_failure_report_names_exists():
    from shared import report

    named = set(re.findall(r"`([A-Z][A-Z_]+)`", " ".join(report._NEXT_STEPS.values())))
    named |= {s for _, s in report._LIMIT_SETTINGS}
    assert named and named <= set(env_names())


# --- latest.md ------------------------------------------------------------------------------------


def test_latest_links_only_to_the_report():
    message, _ = hostile_message()
    html = render(render_latest(message, f"{message.run_id}/report.md"))
    assert html.attrs("a", "href") == [f"{message.run_id}/report.md"]
    assert {t for t, _ in html.tags} <= ALLOWED_TAGS - {"img"}
    assert [t for t, _ in html.headings] == ["h1"]


def test_latest_refuses_a_foreign_target():
    with pytest.raises(ValueError):
        render_latest(load("sales_succeeded"), "http://evil/report.md")


# --- chart paths and sparse messages --------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix,uri,expected",
    [
        (
            "gs://r/reports/sales-1f/run1/",
            "gs://r/reports/sales-1f/run1/charts/01-revenue.png",
            "charts/01-revenue.png",
        ),
        ("reports/sales-1f/run1/", "gs://r/reports/sales-1f/run1/charts/02-x.png", "charts/02-x.png"),
        ("reports/sales-1f/run1/", "gs://r/reports/other/run9/charts/02-x.png", None),
        ("gs://r/reports/sales-1f/run1/", "gs://r/reports/sales-1f/run1/../../x.png", None),
        ("gs://r/reports/sales-1f/run1/", "http://evil/charts/01-x.png", None),
    ],
)
def test_chart_paths_are_relative_to_the_run_folder(prefix, uri, expected):
    data = load("sales_succeeded").to_dict()
    data["artifacts_prefix"] = prefix
    data["steps"] = [
        {"name": "charts", "title": "Charts", "parts": [{"kind": "image", "uri": uri, "title": "x"}]}
    ]
    paths = stored_chart_paths(ResultMessage.from_dict(data))
    assert paths.get(uri) == expected


def test_sparse_succeeded_message_still_renders_every_section():
    message = ResultMessage.from_dict(
        {
            "run_id": "r1",
            "status": "succeeded",
            "artifacts_prefix": "reports/x/r1/",
            "schema_version": 1,
            "source": {"bucket": "b", "name": "x.csv", "generation": "1", "size": 10},
            "dataset": {"name": "x", "rows": 3, "columns": 2, "column_types": {"a": "numeric", "b": "text"}},
        }
    )
    html = render(render_report(message, {}))
    assert [t for tag, t in html.headings if tag == "h2"] == SECTIONS[:2] + SECTIONS[
        3:
    ]  # no profile: no Statistics
    assert html.tables[0] == [["Column", "Type"], ["a", "numeric"], ["b", "text"]]
    provenance = dict(html.tables[1][1:])
    assert provenance["SHA-256"] == "–" and provenance["Timings"] == "–"
    assert "None." in html.text
