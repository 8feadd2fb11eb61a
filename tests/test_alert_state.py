"""Repeat marking within and beyond the window, and the state objects behind it."""

from __future__ import annotations

import json

from shared.alert_rules import parse_rules
from shared.alert_state import AlertState, SchemaSnapshot
from shared.alerts import evaluate
from shared.storage import LocalStore
from tests.pipeline_inputs import SAMPLES, profile_of, source_of, table_of

RULES = parse_rules(
    """\
include_defaults: false
rules:
  - {id: err, kind: threshold, severity: critical, column: error_rate, metric: rows, op: ">", value: 0.03}
  - {id: hourly, kind: threshold, severity: info, column: p99_response, metric: max, op: ">", value: 1000, repeat_window_s: 3600}
""",
    repeat_window_s=600.0,
)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fire(state, run_id, dataset_file="servers.csv"):
    table = table_of(SAMPLES / "servers.csv")
    alerts = evaluate(
        RULES,
        table=table,
        profile=profile_of(table),
        source=source_of(dataset_file, run_id),
        dataset="servers",
        run_id=run_id,
        failure=None,
        state=state,
    )
    return {a.rule: a.repeat for a in alerts}


def test_repeat_within_the_window_and_fresh_after_it(tmp_path):
    clock = Clock()
    state = AlertState(LocalStore(tmp_path), "reports", "reports/", clock=clock)
    assert fire(state, "1") == {"err": False, "hourly": False}
    clock.now += 599  # inside both windows
    assert fire(state, "2") == {"err": True, "hourly": True}
    clock.now += 1  # 600 s after the first alert: err's window (600 s) is over, hourly's (3600 s) is not
    assert fire(state, "3") == {"err": False, "hourly": True}
    clock.now += 3000  # 3600 s after the first: hourly announces again; err was last announced 3000 s ago
    assert fire(state, "4") == {"err": False, "hourly": False}
    clock.now += 1
    assert fire(state, "5") == {"err": True, "hourly": True}


def test_the_window_runs_from_the_last_announced_alert_not_the_last_repeat(tmp_path):
    clock = Clock()
    state = AlertState(LocalStore(tmp_path), "reports", "reports/", clock=clock)
    results = []
    for _ in range(5):  # every 200 s for 800 s; window 600 s
        results.append(fire(state, f"r{clock.now}")["err"])
        clock.now += 200
    assert results == [False, True, True, False, True]


def test_a_redelivered_run_gets_the_same_marks_as_its_first_delivery(tmp_path):
    clock = Clock()
    state = AlertState(LocalStore(tmp_path), "reports", "reports/", clock=clock)
    assert fire(state, "1")["err"] is False
    clock.now += 10
    assert fire(state, "1")["err"] is False  # same run again: not a repeat of itself
    assert fire(state, "2")["err"] is True


def test_datasets_have_separate_windows(tmp_path):
    state = AlertState(LocalStore(tmp_path), "reports", "reports/", clock=Clock())
    assert fire(state, "1", "servers.csv")["err"] is False
    assert fire(state, "2", "servers-eu.csv")["err"] is False
    assert fire(state, "3", "servers.csv")["err"] is True


def test_without_state_nothing_is_a_repeat():
    assert fire(None, "1") == {"err": False, "hourly": False}
    assert fire(None, "2") == {"err": False, "hourly": False}


def test_state_objects_live_under_the_dataset_folder(tmp_path):
    state = AlertState(LocalStore(tmp_path), "reports", "reports/", clock=Clock(123.0))
    fire(state, "1")
    [alerts_json] = (tmp_path / "reports").glob("*/_state/alerts.json")
    data = json.loads(alerts_json.read_text())
    assert data["err"] == {"run_id": "1", "last_at": 123.0, "notified_at": 123.0, "repeat": False, "count": 1}
    assert (alerts_json.parent / "schema.json").exists()


def test_a_corrupt_state_object_starts_afresh(tmp_path):
    store = LocalStore(tmp_path)
    state = AlertState(store, "reports", "reports/", clock=Clock())
    fire(state, "1")
    [alerts_json] = (tmp_path / "reports").glob("*/_state/alerts.json")
    alerts_json.write_text("{not json")
    assert fire(state, "2")["err"] is False
    assert json.loads(alerts_json.read_text())["err"]["run_id"] == "2"


class RacingStore(LocalStore):
    """Another run creates the state object between our read and our first write."""

    def __init__(self, root, intruder) -> None:
        super().__init__(root)
        self.intruder = intruder

    def write(self, bucket, name, data, content_type, *, if_absent=False):
        if self.intruder is not None and name.endswith("alerts.json"):
            intruder, self.intruder = self.intruder, None
            super().write(bucket, name, intruder, content_type)
        return super().write(bucket, name, data, content_type, if_absent=if_absent)


def test_a_first_write_race_is_detected_and_merged(tmp_path):
    other = {
        "err": {
            "run_id": "other",
            "last_at": 999_990.0,
            "notified_at": 999_990.0,
            "repeat": False,
            "count": 1,
        }
    }
    store = RacingStore(tmp_path, json.dumps(other).encode())
    state = AlertState(store, "reports", "reports/", clock=Clock())
    # The other run announced err 10 s ago; our write with if_absent fails, we re-read and see it.
    assert fire(state, "mine")["err"] is True


def test_schema_baseline_ignores_an_older_generation_arriving_late(tmp_path):
    state = AlertState(LocalStore(tmp_path), "reports", "reports/")
    snap = lambda gen, cols: SchemaSnapshot(f"in/s.csv#{gen}", gen, f"run-{gen}", cols)  # noqa: E731
    assert state.schema_baseline("s", snap("5", {"a": "numeric"})) is None
    assert state.schema_baseline("s", snap("9", {"a": "numeric", "b": "text"})).generation == "5"
    late = state.schema_baseline("s", snap("7", {"a": "numeric"}))
    assert late.generation == "9"  # compared with the newest...
    assert (
        state.schema_baseline("s", snap("10", {"a": "numeric"})).generation == "9"
    )  # ...which it did not replace
