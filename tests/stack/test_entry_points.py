"""Both entry points booted by functions-framework (in-process test clients) with real CloudEvents.

They talk to the session's emulators through the official clients; the input bucket here is one the
stack's notifications ignore, so only these requests run the analyze function on its objects. HTTP 200
acknowledges; HTTP 500 is what makes Eventarc / Pub/Sub redeliver.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from scripts.local_stack import RESULTS_TAP
from shared import handlers
from shared.messages import ResultMessage, Source
from shared.naming import run_id
from tests.stack.conftest import wait_for

pytestmark = pytest.mark.emulators
ROOT = Path(__file__).resolve().parents[2]
ENTRY_BUCKET = "entry-test-input"
CSV = b"day,shop,sales\n" + b"".join(
    f"2026-03-{d:02d},s{d % 3},{d * 11 % 17 + 3}\n".encode() for d in range(1, 25)
)


@pytest.fixture(scope="module")
def clients(live):
    """functions-framework apps for both entry points, configured for the session's emulators."""
    import functions_framework

    saved = dict(os.environ)
    os.environ.update(live.stack.client_env() | {"ANALYST": "local", "INPUT_BUCKET": ENTRY_BUCKET})
    handlers.cloud_services.cache_clear()
    live.storage.create_bucket(ENTRY_BUCKET)
    try:
        yield {
            name: functions_framework.create_app(
                name, str(ROOT / "functions" / name / "main.py"), "cloudevent"
            ).test_client()
            for name in ("analyze", "report")
        }
    finally:
        os.environ.clear()
        os.environ.update(saved)
        handlers.cloud_services.cache_clear()


def post(client, event: CloudEvent) -> int:
    headers, body = to_binary(event)
    return client.post("/", headers=headers, data=body).status_code


def finalized(blob) -> CloudEvent:
    blob.reload()
    return CloudEvent(
        {
            "type": "google.cloud.storage.object.v1.finalized",
            "source": f"//storage.googleapis.com/projects/_/buckets/{blob.bucket.name}",
            "subject": f"objects/{blob.name}",
            "time": blob._properties["updated"],
        },
        blob._properties,
    )


def upload(live, name: str, data: bytes = CSV, content_type: str = "text/csv"):
    blob = live.storage.bucket(ENTRY_BUCKET).blob(name)
    blob.upload_from_string(data, content_type=content_type)
    blob.reload()
    return blob


def rid_of(blob) -> str:
    return run_id(Source(blob.bucket.name, blob.name, str(blob.generation), blob.size))


def claim(live, rid: str, claimed_at: float) -> None:
    body = json.dumps({"state": "running", "claimed_at": claimed_at, "owner": "crashed", "attempt": 1})
    live.reports.blob(f"reports/_runs/{rid}.json").upload_from_string(body, content_type="application/json")


def test_analyze_acknowledges_a_non_data_object(clients, live):
    blob = upload(live, f"photo-{uuid.uuid4().hex[:6]}.jpg", b"\xff\xd8\xff", "image/jpeg")
    assert post(clients["analyze"], finalized(blob)) == 200


def test_analyze_acknowledges_a_malformed_event(clients):
    event = CloudEvent(
        {"type": "google.cloud.storage.object.v1.finalized", "source": "//storage/x"},
        {"bucket": ENTRY_BUCKET},
    )
    assert post(clients["analyze"], event) == 200


def test_analyze_acknowledges_an_event_past_the_age_guard(clients, live):
    blob = upload(live, f"old-{uuid.uuid4().hex[:6]}.csv")
    event = finalized(blob)
    event["time"] = "2020-01-01T00:00:00Z"
    assert post(clients["analyze"], event) == 200
    assert (
        not live.stack.storage()
        .bucket(live.settings.reports_bucket)
        .blob(f"reports/_runs/{rid_of(blob)}.json")
        .exists()
    )


def test_analyze_answers_500_while_another_delivery_holds_the_run(clients, live):
    blob = upload(live, f"busy-{uuid.uuid4().hex[:6]}.csv")
    claim(live, rid_of(blob), time.time())
    assert post(clients["analyze"], finalized(blob)) == 500


def test_a_crashed_run_is_taken_over_and_completed_by_the_redelivery(clients, live):
    blob = upload(live, f"crashed-{uuid.uuid4().hex[:6]}.csv")
    rid = rid_of(blob)
    claim(live, rid, time.time() - 3600)  # a holder that died an hour ago (lease: 600 s)
    assert post(clients["analyze"], finalized(blob)) == 200
    state = json.loads(live.reports.blob(f"reports/_runs/{rid}.json").download_as_bytes())
    assert state["attempt"] == 2 and state["owner"] != "crashed"
    [message] = wait_for(lambda: live.taps[RESULTS_TAP].where(run_id=rid), 30, "the result message")
    assert message.attributes["status"] == "succeeded"
    # ... and a third delivery is a duplicate: acknowledged, nothing published.
    assert post(clients["analyze"], finalized(blob)) == 200
    time.sleep(1)
    assert len(live.taps[RESULTS_TAP].where(run_id=rid)) == 1


def test_analyze_answers_500_when_storage_stays_unavailable(clients, live):
    name = f"flaky-{uuid.uuid4().hex[:6]}.csv"
    blob = upload(live, name)
    os.environ["STORAGE_EMULATOR_HOST"] = live.proxy.url
    handlers.cloud_services.cache_clear()
    try:
        live.proxy.fail(f"/o/{name}?", times=4)
        assert post(clients["analyze"], finalized(blob)) == 500
        assert post(clients["analyze"], finalized(blob)) == 200  # the redelivery completes
    finally:
        os.environ["STORAGE_EMULATOR_HOST"] = live.stack.storage_host
        handlers.cloud_services.cache_clear()


def published(message: ResultMessage) -> CloudEvent:
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/local-project/topics/csv-insights-results",
        },
        {
            "message": {
                "data": base64.b64encode(message.to_json()).decode(),
                "attributes": message.attributes(),
                "messageId": uuid.uuid4().hex,
                "publishTime": "2026-11-25T01:00:00Z",
            }
        },
    )


def failed_message(name: str) -> ResultMessage:
    source = Source(ENTRY_BUCKET, name, "1", 10, "text/csv")
    rid = run_id(source)
    return ResultMessage(
        run_id=rid,
        source=source,
        status="failed",
        dataset={"name": name.split(".")[0]},
        artifacts_prefix=f"gs://csv-insights-reports/reports/{name.split('.')[0]}/{rid}/",
        error=__import__("shared.messages", fromlist=["ErrorInfo"]).ErrorInfo(
            "invalid_csv", "the file is empty", True
        ),
    )


def test_report_writes_once_and_acknowledges_duplicates(clients, live):
    message = failed_message(f"empty{uuid.uuid4().hex[:6]}.csv")
    assert post(clients["report"], published(message)) == 200
    report = f"reports/{message.dataset['name']}/{message.run_id}/report.md"
    first = live.reports.get_blob(report)
    assert first is not None and "the file is empty" in first.download_as_text()
    assert post(clients["report"], published(message)) == 200
    assert live.reports.get_blob(report).generation == first.generation


def test_report_acknowledges_a_message_that_is_not_a_result(clients):
    event = published(failed_message("x.csv"))
    event.data["message"]["data"] = base64.b64encode(b'{"schema_version": 99}').decode()
    assert post(clients["report"], event) == 200


def test_report_answers_500_when_the_report_cannot_be_written(clients):
    message = failed_message(f"nochart{uuid.uuid4().hex[:6]}.csv")
    message.status, message.error = "succeeded", None
    message.steps = [
        {
            "name": "charts",
            "title": "Charts",
            "parts": [
                {"kind": "image", "uri": f"{message.artifacts_prefix}charts/01-missing.png", "title": "gone"}
            ],
        }
    ]
    assert post(clients["report"], published(message)) == 500
