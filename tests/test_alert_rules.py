"""Loading alert rules: the file format, defaults, and errors that name the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.alert_rules import DEFAULT_RULES, load_rules, parse_rules
from shared.errors import ConfigurationError
from shared.settings import Settings
from shared.storage import LocalStore

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "alerts.yaml"

GOOD = """\
rules:
  - id: server-error-rate
    match: "servers*.csv"
    severity: critical
    kind: threshold
    column: error_rate
    metric: rows
    op: ">"
    value: 0.03
    label: server
"""


def test_no_rules_file_means_the_built_in_defaults():
    rules = load_rules(Settings(alert_rules=""), None)
    assert rules.rules == DEFAULT_RULES
    kinds = {r.kind: r.severity for r in rules.rules}
    assert kinds == {
        "analysis_failed": "critical",
        "schema_change": "warning",
        "empty_columns": "warning",
        "duplicate_rows": "info",
        "constant_columns": "info",
    }


def test_a_file_keeps_the_defaults_and_adds_its_rules_in_order():
    rules = parse_rules(GOOD, "alerts.yaml")
    assert [r.id for r in rules.rules][-1] == "server-error-rate"
    assert len(rules.rules) == len(DEFAULT_RULES) + 1
    rule = rules.rules[-1]
    assert (rule.column, rule.metric, rule.op, rule.value, rule.label, rule.line) == (
        "error_rate",
        "rows",
        ">",
        0.03,
        "server",
        2,
    )


def test_include_defaults_false_and_overriding_a_default_by_id():
    text = """\
include_defaults: false
rules:
  - {id: analysis-failed, kind: analysis_failed, severity: warning}
"""
    rules = parse_rules(text)
    assert [(r.id, r.severity) for r in rules.rules] == [("analysis-failed", "warning")]
    overridden = parse_rules(
        "rules:\n  - {id: duplicate-rows, kind: duplicate_rows, severity: warning, value: 10}\n"
    )
    dup = [r for r in overridden.rules if r.id == "duplicate-rows"]
    assert len(dup) == 1 and dup[0].severity == "warning" and dup[0].value == 10


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("servers*.csv", "servers.csv", True),
        ("servers*.csv", "incoming/servers-eu.csv", True),  # no '/': matched against the base name
        ("servers*.csv", "servers.tsv", False),
        ("servers*.csv", "Servers.csv", False),  # case-sensitive, like object names
        ("incoming/*.csv", "incoming/a.csv", True),
        ("incoming/*.csv", "other/a.csv", False),
        ("*", "anything/at/all.csv", True),
    ],
)
def test_match_globs(pattern, name, expected):
    rule = parse_rules(
        f'include_defaults: false\nrules:\n  - {{id: r, kind: analysis_failed, severity: info, match: "{pattern}"}}\n'
    ).rules[0]
    assert rule.matches(name) is expected


def test_the_sample_rules_file_loads_from_a_path_and_from_a_gs_uri(tmp_path):
    by_path = load_rules(Settings(alert_rules=str(SAMPLE), alert_repeat_window_s=60.0), None)
    assert by_path.repeat_window_s == 60.0
    ids = [r.id for r in by_path.rules]
    assert "server-error-rate" in ids and any("revenue" in i for i in ids)
    store = LocalStore(tmp_path)
    store.write("config", "rules/alerts.yaml", SAMPLE.read_bytes(), "application/yaml")
    by_uri = load_rules(Settings(alert_rules="gs://config/rules/alerts.yaml"), store)
    assert by_uri.rules == by_path.rules


def test_a_missing_rules_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="nope.yaml"):
        load_rules(Settings(alert_rules=str(tmp_path / "nope.yaml")), None)
    with pytest.raises(ConfigurationError, match="gs://config/missing.yaml"):
        load_rules(Settings(alert_rules="gs://config/missing.yaml"), LocalStore(tmp_path))


# Each malformed file, and the line the error must name.
MALFORMED = [
    (
        "syntax error",
        "rules:\n  - id: a\n    kind: [threshold\n    severity: info\n",
        r"line \d+: YAML syntax error",
    ),
    (
        "unknown kind",
        "rules:\n  - id: a\n    severity: info\n    kind: maxx\n",
        r"line 4: unknown rule kind 'maxx'",
    ),
    ("unknown metric", GOOD.replace("metric: rows", "metric: maxx"), r"line 7: unknown metric 'maxx'"),
    ("missing field", GOOD.replace("    column: error_rate\n", ""), r"line 2: rule is missing 'column'"),
    (
        "missing id",
        "rules:\n  - kind: analysis_failed\n    severity: info\n",
        r"line 2: rule is missing 'id'",
    ),
    (
        "wrong type: text value",
        GOOD.replace("value: 0.03", 'value: "0.03"'),
        r"line 9: 'value' must be a number, not the text '0.03'",
    ),
    (
        "wrong type: boolean value",
        GOOD.replace("value: 0.03", "value: yes"),
        r"line 9: 'value' must be a number, not the boolean true",
    ),
    ("wrong type: rules is a mapping", "rules:\n  id: a\n", r"line 2: 'rules' must be a list"),
    (
        "bad severity",
        GOOD.replace("severity: critical", "severity: page-me"),
        r"line 4: severity must be info, warning or critical",
    ),
    ("unquoted > op", GOOD.replace('op: ">"', "op: >"), r"line 8: op must be one of"),
    ("typo in a key", GOOD.replace("label: server", "lable: server"), r"line 10: unknown key 'lable'"),
    (
        "duplicate id",
        GOOD + "  - {id: server-error-rate, kind: analysis_failed, severity: info}\n",
        r"line 11: rule id 'server-error-rate' is already used on line 2",
    ),
    (
        "row_count without bounds",
        "rules:\n  - {id: a, kind: row_count, severity: info}\n",
        r"line 2: a row_count rule needs 'min', 'max' or both",
    ),
    (
        "row_count min above max",
        "rules:\n\n  - {id: a, kind: row_count, severity: info, min: 9, max: 3}\n",
        r"line 3: 'min' \(9\) is above 'max' \(3\)",
    ),
    ("empty file", "", r"line 1: the file is empty"),
    ("unknown top-level key", "rule:\n  - {id: a}\n", r"line 1: unknown top-level key 'rule'"),
]


@pytest.mark.parametrize(("case", "text", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_rules_file_is_a_startup_error_naming_the_line(case, text, expected, tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        load_rules(Settings(alert_rules=str(path)), None)
    message = str(caught.value)
    assert message.startswith(f"{path} line "), message
    assert re.search(expected, message), message


def test_the_syntax_error_names_the_line_of_the_problem():
    text = "rules:\n  - id: a\n    kind: threshold\n    severity: info\n    column: x: y\n"
    with pytest.raises(ConfigurationError, match=r"^alerts.yaml line 5: YAML syntax error"):
        parse_rules(text, "alerts.yaml")
