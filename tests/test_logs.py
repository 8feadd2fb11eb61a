"""The run-finished line in Cloud Logging's JSON shape."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared.logs import log_run_finished, setup_logging


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    root.handlers = []
    setup_logging("INFO", stream=stream)
    yield stream
    root.handlers, root.level = saved


def test_run_finished_is_one_json_line_with_the_metric_fields(captured):
    log_run_finished(
        logging.getLogger("t"),
        function="analyze",
        outcome="succeeded",
        latency_s=1.23456,
        run_id="abc",
        dataset="sales",
        analyst="local",
        tokens=0,
        rows=120,
    )
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["severity"] == "INFO"
    assert entry["message"] == "run finished"
    assert {
        k: entry[k]
        for k in (
            "event",
            "function",
            "outcome",
            "error_code",
            "latency_s",
            "analyst",
            "tokens",
            "rows",
            "run_id",
            "dataset",
        )
    } == {
        "event": "run_finished",
        "function": "analyze",
        "outcome": "succeeded",
        "error_code": None,
        "latency_s": 1.235,
        "analyst": "local",
        "tokens": 0,
        "rows": 120,
        "run_id": "abc",
        "dataset": "sales",
    }
    assert entry["logging.googleapis.com/labels"] == {"function": "analyze", "run_id": "abc"}


@pytest.mark.parametrize(
    ("outcome", "severity"),
    [("failed", "ERROR"), ("retry", "ERROR"), ("duplicate", "INFO"), ("skipped", "INFO")],
)
def test_severity_follows_the_outcome(captured, outcome, severity):
    log_run_finished(logging.getLogger("t"), function="report", outcome=outcome, latency_s=0)
    assert json.loads(captured.getvalue())["severity"] == severity


def test_unknown_outcomes_are_refused():
    with pytest.raises(ValueError):
        log_run_finished(logging.getLogger("t"), function="report", outcome="ok", latency_s=0)


def test_setup_logging_is_idempotent(captured):
    setup_logging("INFO", stream=captured)
    logging.getLogger("t").info("once")
    assert len(captured.getvalue().splitlines()) == 1
