"""Evaluating alert rules: every rule kind fires past its boundary and stays quiet at it."""

from __future__ import annotations

import json

import pytest

from shared.alert_rules import parse_rules
from shared.alert_state import AlertState
from shared.alerts import MAX_OFFENDERS, evaluate, publish
from shared.messages import ErrorInfo
from shared.pubsub import MemoryPublisher
from shared.storage import LocalStore
from tests.pipeline_inputs import SAMPLES, profile_of, source_of, table_of


def rules_of(*rules: str):
    """A rule set of only the given rules (flow-style YAML mappings), no defaults."""
    return parse_rules("include_defaults: false\nrules:\n" + "".join(f"  - {r}\n" for r in rules))


def run(rules, csv, name="data.csv", *, failure=None, state=None, with_profile=True):
    table = table_of(csv) if csv is not None else None
    profile = profile_of(table) if (table is not None and with_profile) else None
    return evaluate(
        rules,
        table=table,
        profile=profile,
        source=source_of(name),
        dataset=name.split(".")[0],
        run_id="run-1",
        failure=failure,
        state=state,
    )


# ------------------------------------------------------------------------- the must-show


def test_server_error_rate_above_003_names_exactly_the_three_servers():
    rules = parse_rules((SAMPLES / "alerts.yaml").read_text())
    alerts = run(rules, SAMPLES / "servers.csv", "servers.csv")
    fired = [a for a in alerts if a.rule == "server-error-rate"]
    assert len(fired) == 1
    alert = fired[0]
    assert [(o["label"], o["value"]) for o in alert.offenders] == [
        ("web-02", 0.05),
        ("web-04", 0.08),
        ("api-02", 0.06),
    ]
    # web-03 sits exactly on 0.03 and must not fire.
    assert "web-03" not in alert.message
    assert alert.message == (
        "servers.csv: 3 rows have error_rate > 0.03: web-02 (0.05), web-04 (0.08) and api-02 (0.06)."
    )
    assert (alert.severity, alert.dataset, alert.run_id, alert.metric, alert.value, alert.threshold) == (
        "critical",
        "servers",
        "run-1",
        "rows(error_rate)",
        3,
        0.03,
    )


def test_the_boundary_value_fires_with_greater_or_equal():
    rule = '{id: e, kind: threshold, severity: critical, column: error_rate, metric: rows, op: ">=", value: 0.03}'
    [alert] = run(rules_of(rule), SAMPLES / "servers.csv", "servers.csv")
    assert [o["label"] for o in alert.offenders] == ["web-02", "web-03", "web-04", "api-02"]


def test_alerts_publish_as_json_with_filterable_attributes():
    rules = rules_of(
        '{id: err, kind: threshold, severity: critical, column: error_rate, metric: rows, op: ">", value: 0.03}'
    )
    alerts = run(rules, SAMPLES / "servers.csv", "servers.csv")
    pub = MemoryPublisher()
    publish(alerts, pub, "alerts")
    [msg] = pub.on("alerts")
    assert msg.attributes == {
        "schema_version": "1",
        "severity": "critical",
        "rule": "err",
        "dataset": "servers",
        "run_id": "run-1",
        "repeat": "false",
    }
    body = json.loads(msg.data)
    assert body["offenders"][0] == {"row": 2, "label": "web-02", "value": 0.05}
    assert body["message"] == alerts[0].message


def test_rules_only_apply_to_matching_object_names():
    rules = rules_of(
        '{id: err, match: "sales*.csv", kind: threshold, severity: critical, column: error_rate, metric: rows, op: ">", value: 0}'
    )
    assert run(rules, SAMPLES / "servers.csv", "servers.csv") == []


# ------------------------------------------------------------------------- threshold metrics

CSV = "name,score,note\na,1,x\nb,2,\nc,3,y\nd,4,z\ne,100,w\n"  # score: mean 22, max 100, one IQR outlier


@pytest.mark.parametrize(
    ("metric", "op", "value", "fires"),
    [
        ("max", ">", 100, False),
        ("max", ">=", 100, True),
        ("max", ">", 99.5, True),
        ("min", "<", 1, False),
        ("min", "<=", 1, True),
        ("mean", ">", 22, False),
        ("mean", ">", 21.9, True),
        ("mean", "<", 22.1, True),
        ("outliers", ">", 1, False),
        ("outliers", ">", 0, True),
        ("rows", ">", 100, False),
        ("rows", ">", 3, True),
        ("rows", "<", 1, False),
        ("rows", "<=", 1, True),
    ],
)
def test_threshold_fires_only_past_the_boundary(metric, op, value, fires):
    rules = rules_of(
        f'{{id: t, kind: threshold, severity: warning, column: score, metric: {metric}, op: "{op}", value: {value}}}'
    )
    alerts = run(rules, CSV)
    assert bool(alerts) is fires


def test_threshold_alerts_name_the_rows_and_values():
    [max_alert] = run(
        rules_of(
            '{id: t, kind: threshold, severity: warning, column: score, metric: max, op: ">", value: 3}'
        ),
        CSV,
    )
    assert [(o["label"], o["value"]) for o in max_alert.offenders] == [("d", 4), ("e", 100)]
    assert max_alert.message == "data.csv: max(score) is 100, > 3: d (4) and e (100)."
    [outlier] = run(
        rules_of(
            '{id: o, kind: threshold, severity: info, column: score, metric: outliers, op: ">", value: 0}'
        ),
        CSV,
    )
    assert outlier.value == 1 and [o["label"] for o in outlier.offenders] == ["e"]
    [mean] = run(
        rules_of('{id: m, kind: threshold, severity: info, column: score, metric: mean, op: ">", value: 20}'),
        CSV,
    )
    assert mean.message == "data.csv: mean(score) is 22, > 20." and mean.value == 22


def test_missing_share_names_the_rows_without_a_value():
    rule = '{id: ms, kind: threshold, severity: warning, column: note, metric: missing_share, op: ">", value: %s}'
    assert run(rules_of(rule % 0.2), CSV) == []  # 1 of 5 = 0.2 exactly: not above
    [alert] = run(rules_of(rule % 0.19), CSV)
    assert alert.value == 0.2
    assert alert.offenders == [{"row": 2, "label": "b"}]
    assert "(1 of 5 rows missing)" in alert.message


def test_label_column_from_the_rule_or_the_row_number_when_there_is_none():
    numbers = "x,y\n1,10\n2,20\n3,30\n"
    [alert] = run(
        rules_of('{id: t, kind: threshold, severity: info, column: y, metric: rows, op: ">", value: 15}'),
        numbers,
    )
    assert alert.offenders == [{"row": 2, "value": 20}, {"row": 3, "value": 30}]
    assert alert.message.endswith("row 2 (20) and row 3 (30).")
    labelled = rules_of(
        '{id: t, kind: threshold, severity: info, column: error_rate, metric: rows, op: ">", value: 0.07, label: region}'
    )
    [alert] = run(labelled, "server,region,error_rate\nweb-01,eu,0.01\nweb-04,us,0.08\n", "servers.csv")
    assert alert.offenders == [{"row": 2, "label": "us", "value": 0.08}]


def test_offenders_are_capped_with_a_count_of_the_rest():
    csv = "id,v\n" + "".join(f"r{i},{i}\n" for i in range(1, 51))
    [alert] = run(
        rules_of('{id: t, kind: threshold, severity: info, column: v, metric: rows, op: ">", value: 0}'), csv
    )
    assert len(alert.offenders) == MAX_OFFENDERS and alert.value == 50
    assert alert.message.endswith(f"r{MAX_OFFENDERS} (20) and {50 - MAX_OFFENDERS} more.")


def test_threshold_on_a_column_the_file_lacks_or_that_is_text_is_skipped():
    assert (
        run(
            rules_of(
                '{id: t, kind: threshold, severity: info, column: nope, metric: max, op: ">", value: 0}'
            ),
            CSV,
        )
        == []
    )
    assert (
        run(
            rules_of(
                '{id: t, kind: threshold, severity: info, column: name, metric: rows, op: ">", value: 0}'
            ),
            CSV,
        )
        == []
    )


# ------------------------------------------------------------------------- data quality


def test_empty_columns():
    rules = rules_of("{id: e, kind: empty_columns, severity: warning}")
    assert run(rules, "a,b\n1,x\n2,\n") == []
    [alert] = run(rules, "a,b,c\n1,,\n2,,\n")
    assert [o["column"] for o in alert.offenders] == ["b", "c"]
    assert alert.message == "data.csv: 2 columns have no values at all: b and c."


def test_duplicate_rows_name_the_row_and_the_row_it_repeats():
    rules = rules_of("{id: d, kind: duplicate_rows, severity: info}")  # default: > 0
    assert run(rules, "a,b\n1,x\n2,y\n") == []
    [alert] = run(rules, "a,b\n1,x\n2,y\n1,x\n3,z\n2,y\n1,x\n")
    assert alert.value == 3
    assert alert.offenders == [
        {"row": 3, "duplicate_of": 1},
        {"row": 5, "duplicate_of": 2},
        {"row": 6, "duplicate_of": 1},
    ]
    assert "row 3 (= row 1)" in alert.message
    above_three = rules_of("{id: d, kind: duplicate_rows, severity: info, op: '>', value: 3}")
    assert run(above_three, "a,b\n1,x\n2,y\n1,x\n3,z\n2,y\n1,x\n") == []


def test_constant_columns():
    rules = rules_of("{id: c, kind: constant_columns, severity: info}")
    assert run(rules, "a,b\n1,eu\n2,us\n") == []
    assert run(rules, "a,b\n1,eu\n") == []  # a single row is not a constant column
    assert run(rules, "a,b\n1,eu\n2,\n") == []  # a value and a blank: not the same value in every row
    [alert] = run(rules, "a,b\n1,eu\n2,eu\n3,eu\n")
    assert alert.offenders == [{"column": "b", "value": "eu"}]
    assert alert.message == "data.csv: 1 column holds the same value in every row: b ('eu')."


@pytest.mark.parametrize(("rows", "fires"), [(1, True), (2, False), (4, False), (5, True)])
def test_row_count_bounds(rows, fires):
    rules = rules_of("{id: rc, kind: row_count, severity: warning, min: 2, max: 4}")
    csv = "a\n" + "".join(f"{i}\n" for i in range(rows))
    alerts = run(rules, csv)
    assert bool(alerts) is fires
    if fires:
        assert alerts[0].value == rows


def test_analysis_failed_fires_with_the_error_and_without_a_table():
    rules = rules_of("{id: f, kind: analysis_failed, severity: critical}")
    assert run(rules, CSV) == []
    failure = ErrorInfo(code="invalid_csv", message="line 3 has 5 fields, expected 4", permanent=True)
    [alert] = run(rules, None, "broken.csv", failure=failure)
    assert alert.severity == "critical" and alert.value == "invalid_csv"
    assert alert.message == "broken.csv could not be analysed (invalid_csv): line 3 has 5 fields, expected 4"


def test_rules_needing_data_are_skipped_when_the_run_failed_before_reading():
    rules = parse_rules("rules:\n  - {id: rc, kind: row_count, severity: info, min: 1}\n")  # with defaults
    failure = ErrorInfo(code="limit_exceeded", message="too big", permanent=True)
    assert [a.rule for a in run(rules, None, failure=failure)] == ["analysis-failed"]


def test_data_quality_rules_work_from_the_table_alone():
    rules = rules_of(
        "{id: e, kind: empty_columns, severity: info}",
        "{id: d, kind: duplicate_rows, severity: info}",
        "{id: c, kind: constant_columns, severity: info}",
    )
    alerts = run(rules, "a,b,k\n1,,z\n1,,z\n", with_profile=False)
    assert [a.rule for a in alerts] == ["e", "d", "c"]
    assert [o["column"] for o in alerts[2].offenders] == ["a", "k"]


# ------------------------------------------------------------------------- schema change


def test_schema_change_fires_when_a_second_file_of_the_dataset_drops_a_column(tmp_path):
    state = AlertState(LocalStore(tmp_path), "reports", "reports/")
    rules = rules_of("{id: schema, kind: schema_change, severity: warning}")
    first = "server,error_rate,latency_ms\nweb-01,0.01,120\n"
    second = "server,error_rate\nweb-01,0.02\n"

    def upload(csv, generation):
        table = table_of(csv)
        return evaluate(
            rules,
            table=table,
            profile=profile_of(table),
            source=source_of("servers.csv", generation),
            dataset="servers",
            run_id=f"run-{generation}",
            failure=None,
            state=state,
        )

    assert upload(first, "100") == []  # nothing to compare with yet
    [alert] = upload(second, "200")
    assert alert.offenders == [{"column": "latency_ms", "change": "removed", "was": "numeric", "now": None}]
    assert (
        alert.message
        == "servers.csv: columns changed since the previous file (servers.csv#100): removed latency_ms."
    )
    assert upload(second, "200")[0].message == alert.message  # redelivery compares with the same baseline
    assert upload(second, "300") == []  # same columns as the file before
    [retyped] = upload("server,error_rate,extra\nweb-01,high,1\n", "400")
    assert {(o["column"], o["change"], o["was"], o["now"]) for o in retyped.offenders} == {
        ("error_rate", "retyped", "numeric", "text"),
        ("extra", "added", None, "numeric"),
    }
    stored = list((tmp_path / "reports").glob("*/_state/schema.json"))
    assert len(stored) == 1 and stored[0].parent.parent.name.startswith("servers-")


def test_frames_typed_like_the_reader_output():
    """Nullable Int64 with gaps, boolean, datetime and string columns, as read_csv produces them."""
    from shared.alerts import schema_of

    table = table_of(
        "host,errors,up,at\na,1,true,2026-01-01\nb,,false,2026-01-02\n,7,,\nd,9,true,2026-01-04\n"
    )
    frame = table.frame
    assert [str(t) for t in frame.dtypes] == ["string", "Int64", "boolean", "datetime64[ns]"]
    assert schema_of(frame) == {"host": "text", "errors": "numeric", "up": "boolean", "at": "datetime"}
    rules = rules_of(
        '{id: t, kind: threshold, severity: info, column: errors, metric: rows, op: ">=", value: 7}',
        '{id: b, kind: threshold, severity: info, column: up, metric: rows, op: ">", value: 0}',
        "{id: d, kind: duplicate_rows, severity: info}",
    )
    alerts = evaluate(rules, table=table, profile=profile_of(table), source=source_of("h.csv"), dataset="h",
                      run_id="r", failure=None, state=None)  # fmt: skip
    # A missing label falls back to the row number; a boolean column is not a number to compare.
    assert [(a.rule, a.offenders) for a in alerts] == [
        ("t", [{"row": 3, "label": None, "value": 7}, {"row": 4, "label": "d", "value": 9}])
    ]
    assert alerts[0].message == "h.csv: 2 rows have errors >= 7: row 3 (7) and d (9)."
    json.loads(alerts[0].to_json())


def test_a_large_file_is_evaluated_quickly():
    import time

    import numpy as np
    import pandas as pd

    from shared.csv_reader import Dialect, Table

    n = 500_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"id": [f"h{i}" for i in range(n)], "v": rng.normal(size=n)})
    frame.loc[n - 10 :, ["id", "v"]] = frame.loc[:9, ["id", "v"]].to_numpy()  # 10 duplicates at the end
    table = Table(frame=frame, dialect=Dialect("utf-8", ","), raw_bytes=0, sha256="")
    profile = profile_of(table)
    rules = parse_rules(
        "rules:\n  - {id: t, kind: threshold, severity: info, column: v, metric: rows, op: '>', value: 3}\n"
    )
    started = time.perf_counter()
    alerts = evaluate(rules, table=table, profile=profile, source=source_of("big.csv"), dataset="big", run_id="r",
                      failure=None, state=None)  # fmt: skip
    elapsed = time.perf_counter() - started
    by_rule = {a.rule: a for a in alerts}
    assert by_rule["duplicate-rows"].value == 10
    assert by_rule["duplicate-rows"].offenders[0] == {"row": n - 9, "duplicate_of": 1}
    assert by_rule["t"].value == int((frame["v"] > 3).sum()) and len(by_rule["t"].offenders) == MAX_OFFENDERS
    assert elapsed < 5, elapsed


def test_alert_dicts_fit_the_strict_result_message_json():
    """ResultMessage.to_json has no default= and allow_nan=False: every alert must be plain JSON."""
    from shared.messages import ResultMessage

    rules = parse_rules((SAMPLES / "alerts.yaml").read_text())
    csv = (
        "server,error_rate,p99_response,at,flag\nweb-01,0.5,2000,2026-01-01,x\nweb-01,0.5,2000,2026-01-01,x\n"
    )
    table = table_of(csv)
    assert table.frame["at"].dtype.kind == "M"  # the reader types it: timestamps must still become plain JSON
    failure = ErrorInfo(code="analysis_failed", message="no output", permanent=True)
    alerts = evaluate(rules, table=table, profile=profile_of(table), source=source_of("servers.csv"),
                      dataset="servers", run_id="r", failure=failure, state=None)  # fmt: skip
    assert {a.rule for a in alerts} >= {
        "analysis-failed",
        "server-error-rate",
        "server-p99-max",
        "duplicate-rows",
    }
    message = ResultMessage(run_id="r", source=source_of("servers.csv"), status="failed", dataset={"name": "s"},
                            artifacts_prefix="p", alerts=[a.to_dict() for a in alerts])  # fmt: skip
    round_trip = ResultMessage.from_json(message.to_json())
    assert round_trip.alerts == json.loads(json.dumps([a.to_dict() for a in alerts]))
    assert round_trip.severity == "critical"
