"""Typed parsing of the two CloudEvents, skip rules and event age."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.http import CloudEvent

from shared.events import (
    MalformedEventError,
    StorageObject,
    parse_pubsub_event,
    parse_storage_event,
    parse_time,
    result_message,
    skip_reason,
)
from shared.messages import ResultMessage, Source
from shared.settings import Settings

EVENTS = Path(__file__).parent / "events"


def storage_event(**data_changes) -> CloudEvent:
    raw = json.loads((EVENTS / "storage_finalized.json").read_text())
    return CloudEvent(raw["attributes"], {**raw["data"], **data_changes})


def test_storage_event_parses_the_fields_the_pipeline_uses_and_ignores_the_rest():
    context, obj = parse_storage_event(storage_event())
    assert context.type == "google.cloud.storage.object.v1.finalized"
    assert context.time == datetime(2026, 11, 24, 21, 41, 8, 193474, tzinfo=UTC)
    assert obj.source == Source(
        "csv-insights-input",
        "sales/2026/q3.csv",
        "1764020468186942",
        48213,
        "text/csv",
        "mJDxTXG3i4a5rmjCpSlPKw==",
    )
    assert obj.source.key == "csv-insights-input/sales/2026/q3.csv#1764020468186942"
    assert obj.metadata == {"analysis-prompt": "Which region grew fastest?"}
    assert obj.prompt_sidecar_name == "sales/2026/q3.csv.prompt.md"


@pytest.mark.parametrize("missing", ["bucket", "name", "generation"])
def test_storage_event_without_an_identity_field_is_malformed(missing):
    event = storage_event()
    del event.data[missing]
    with pytest.raises(MalformedEventError):
        parse_storage_event(event)


def test_an_event_of_another_type_is_malformed():
    event = storage_event()
    event["type"] = "google.cloud.storage.object.v1.deleted"
    with pytest.raises(MalformedEventError, match="expected"):
        parse_storage_event(event)


@pytest.mark.parametrize(
    ("name", "content_type", "skipped"),
    [
        ("a.csv", "text/csv", None),
        ("a.CSV", None, None),
        ("a.csv.gz", "application/gzip", None),
        ("a.tsv", "text/tab-separated-values", None),
        ("a.csv", "application/octet-stream", None),
        ("a.csv", "image/png", "content type"),
        ("a.png", "image/png", "suffix"),
        ("a.parquet", None, "suffix"),
        ("folder/", None, "folder"),
        ("a.csv.prompt.md", "text/markdown", "sidecar"),
    ],
)
def test_skip_rules_by_suffix_and_content_type(name, content_type, skipped):
    obj = StorageObject("in", name, "1", 10, content_type)
    reason = skip_reason(obj, Settings().suffixes)
    assert (reason is None) if skipped is None else (skipped in reason)


def test_suffixes_are_configurable():
    obj = StorageObject("in", "a.dat", "1", 10, "text/plain")
    assert skip_reason(obj, Settings().suffixes) is not None
    assert skip_reason(obj, Settings(data_suffixes=".dat").suffixes) is None


def test_objects_of_the_reports_bucket_are_never_analysed():
    obj = StorageObject("reports", "x.csv", "1", 10, "text/csv")
    assert "reports bucket" in skip_reason(obj, (".csv",), reports_bucket="reports")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-24T21:41:08.193474123Z", datetime(2026, 11, 24, 21, 41, 8, 193474, tzinfo=UTC)),
        ("2026-11-24T21:41:08Z", datetime(2026, 11, 24, 21, 41, 8, tzinfo=UTC)),
        ("2026-11-24T22:41:08.5+01:00", datetime(2026, 11, 24, 21, 41, 8, 500000, tzinfo=UTC)),
        ("not a time", None),
        (None, None),
    ],
)
def test_times_in_every_shape_google_sends(raw, expected):
    assert parse_time(raw) == expected


def test_event_age():
    context, _ = parse_storage_event(storage_event())
    assert context.age_s(datetime(2026, 11, 24, 21, 42, 8, 193474, tzinfo=UTC)) == pytest.approx(60.0)


def pubsub_event(body: bytes, attributes: dict[str, str] | None = None) -> CloudEvent:
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/csv-insights-results",
            "id": "42",
        },
        {
            "message": {
                "data": base64.b64encode(body).decode(),
                "attributes": attributes or {},
                "messageId": "42",
                "publishTime": "2026-11-24T21:41:09.123456789Z",
            },
            "subscription": "projects/p/subscriptions/csv-insights-report-push",
        },
    )


def test_message_published_carries_the_result_message():
    message = ResultMessage(
        run_id="r1",
        source=Source("b", "n.csv", "1", 3),
        status="failed",
        dataset={"name": "n"},
        artifacts_prefix="gs://r/reports/n/r1/",
    )
    _, decoded = parse_pubsub_event(pubsub_event(message.to_json(), message.attributes()))
    assert decoded.attributes["run_id"] == "r1"
    assert decoded.publish_time == datetime(2026, 11, 24, 21, 41, 9, 123456, tzinfo=UTC)
    assert result_message(decoded) == message


@pytest.mark.parametrize("body", [b"not json", b'{"schema_version": 2}', b"[]"])
def test_a_body_that_is_not_a_result_message_is_malformed(body):
    _, decoded = parse_pubsub_event(pubsub_event(body))
    with pytest.raises(MalformedEventError):
        result_message(decoded)
