"""The event-driven pipeline on the live local stack, through the official client libraries.

Uploads go to fake-gcs-server with google-cloud-storage; fake-gcs-server's notification goes through
the Pub/Sub emulator and the trigger bridge to the analyze function as the CloudEvent Eventarc sends;
the result message goes through a push subscription to the report function. Assertions read the
reports bucket, the tap subscriptions and the functions' run-finished log lines.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from scripts.local_stack import DEAD_LETTER_TAP, RESULTS_TAP
from scripts.trigger_bridge import storage_cloudevent
from shared.messages import ResultMessage, Source
from shared.naming import run_id
from tests.stack.conftest import wait_for

pytestmark = pytest.mark.emulators

CSV = b"date,region,units,price\n" + b"".join(
    f"2026-01-{d:02d},{r},{(d * 7 + i) % 40 + 1},{9.5 + (d % 5)}\n".encode()
    for d in range(1, 29)
    for i, r in enumerate(("north", "south", "east"))
)


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}.csv"


def source_of(blob) -> Source:
    return Source(blob.bucket.name, blob.name, str(blob.generation), blob.size or 0, blob.content_type)


def wait_for_report(live, rid: str, timeout_s: float = 90) -> str:
    return wait_for(lambda: live.report_names(rid), timeout_s, f"the report of run {rid}")[0]


def results(live, rid: str) -> list:
    return live.taps[RESULTS_TAP].where(run_id=rid)


def test_upload_makes_a_report_and_a_result_message_with_attributes(live):
    blob = live.upload(unique("sales"), CSV)
    rid = run_id(source_of(blob))
    report = wait_for_report(live, rid)
    folder = report.rsplit("/", 1)[0]
    names = {b.name for b in live.storage.list_blobs(live.settings.reports_bucket, prefix=folder + "/")}
    assert f"{folder}/analysis.json" in names
    assert any("/charts/" in n and n.endswith(".png") for n in names)

    [message] = wait_for(lambda: results(live, rid), 20, "the result message")
    body = ResultMessage.from_json(message.data)
    assert body.status == "succeeded"
    assert body.source.key == f"{blob.bucket.name}/{blob.name}#{blob.generation}"
    assert dict(message.attributes) == body.attributes()
    assert {"schema_version", "run_id", "status", "dataset", "severity", "analyst"} <= set(message.attributes)
    assert len(message.data) < 1_000_000  # images travel as object URIs, never inline
    images = [p["uri"] for s in body.steps for p in s["parts"] if p["kind"] == "image"]
    assert images and all(
        u.startswith(f"gs://{live.settings.reports_bucket}/{folder}/charts/") for u in images
    )
    stored = json.loads(live.reports.blob(f"{folder}/analysis.json").download_as_bytes())
    assert stored["run_id"] == rid

    [finished] = live.runs_finished("analyze", rid)
    assert finished["outcome"] == "succeeded" and finished["rows"] == 84 and finished["analyst"] == "local"
    assert finished["severity"] == "INFO" and finished["logging.googleapis.com/labels"]["run_id"] == rid


def redeliver(live, blob) -> int:
    """Post the finalized CloudEvent of ``blob`` to the analyze function again, as Eventarc would."""
    resource = live.storage.bucket(blob.bucket.name).get_blob(blob.name)._properties
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps(resource).encode()).decode(),
            "messageId": "dup",
            "attributes": {
                "eventType": "OBJECT_FINALIZE",
                "bucketId": blob.bucket.name,
                "objectId": blob.name,
                "eventTime": resource["updated"],
            },
        }
    }
    headers, body = storage_cloudevent(envelope)
    request = urllib.request.Request(live.stack.function_url("analyze") + "/", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_second_delivery_of_the_same_event_is_a_no_op(live):
    blob = live.upload(unique("dup"), CSV)
    rid = run_id(source_of(blob))
    wait_for_report(live, rid)
    assert redeliver(live, blob) == 200
    time.sleep(1.5)  # time for a (wrong) second report or message to appear
    assert len(live.report_names(rid)) == 1
    assert len(results(live, rid)) == 1
    assert [e["outcome"] for e in live.runs_finished("analyze", rid)] == ["succeeded", "duplicate"]


def test_concurrent_duplicate_deliveries_make_one_report(live):
    blob = live.upload(unique("race"), CSV)
    rid = run_id(source_of(blob))
    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda _: redeliver(live, blob), range(3)))
    wait_for_report(live, rid)
    # Every delivery either ran the job, found it done, or was told to come back (500 → redelivered).
    assert set(statuses) <= {200, 500}
    wait_for(lambda: len(results(live, rid)) >= 1, 30, "the result message")
    time.sleep(2)
    assert len(live.report_names(rid)) == 1
    assert len(results(live, rid)) == 1
    outcomes = [e["outcome"] for e in live.runs_finished("analyze", rid)]
    assert outcomes.count("succeeded") == 1 and set(outcomes) <= {"succeeded", "duplicate", "retry"}


def test_an_overwrite_is_a_new_run_with_its_own_report(live):
    name = unique("overwritten")
    first = live.upload(name, CSV)
    first_rid = run_id(source_of(first))
    wait_for_report(live, first_rid)
    second = live.upload(name, CSV + b"2026-02-01,west,3,11.5\n")
    second_rid = run_id(source_of(second))
    assert second_rid != first_rid
    wait_for_report(live, second_rid)
    assert len(live.report_names(first_rid)) == 1 and len(live.report_names(second_rid)) == 1
    second_message = wait_for(lambda: results(live, second_rid), 20, "the second result")[0]
    assert ResultMessage.from_json(second_message.data).dataset["rows"] == 85


def test_a_bad_csv_gets_a_failed_message_and_a_failure_report_once(live):
    blob = live.upload(unique("broken"), b"\x00\x01\x02binary\xff\xfe" * 50, content_type="text/csv")
    rid = run_id(source_of(blob))
    report = wait_for_report(live, rid)
    [message] = wait_for(lambda: results(live, rid), 20, "the failed result")
    body = ResultMessage.from_json(message.data)
    assert message.attributes["status"] == "failed" and body.error and body.error.permanent
    assert body.error.code in live.reports.blob(report).download_as_text()
    time.sleep(3)  # a retry storm would show up as more run-finished lines
    [finished] = live.runs_finished("analyze", rid)
    assert finished["outcome"] == "failed" and finished["error_code"] == body.error.code
    assert finished["severity"] == "ERROR"
    assert len(results(live, rid)) == 1


def test_a_transient_storage_failure_is_retried_and_completes(live):
    name = unique("transient")
    # More failures than the adapter's own retries (4), so the first delivery gives up with HTTP 500.
    live.proxy.fail(f"/o/{name}?", times=4)
    blob = live.upload(name, CSV)
    rid = run_id(source_of(blob))
    wait_for_report(live, rid)
    outcomes = [(e["outcome"], e["error_code"]) for e in live.runs_finished("analyze", rid)]
    assert outcomes[0] == ("retry", "transient_error")
    assert outcomes[-1] == ("succeeded", None)
    assert len(results(live, rid)) == 1 and len(live.report_names(rid)) == 1


def test_non_data_objects_are_skipped_with_a_log_line(live):
    blob = live.upload(f"notes-{uuid.uuid4().hex[:8]}.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    rid = run_id(source_of(blob))
    [finished] = wait_for(lambda: live.runs_finished("analyze", rid), 20, "the skip line")
    assert finished["outcome"] == "skipped" and finished["severity"] == "INFO"
    assert not results(live, rid)


def test_a_prompt_sidecar_is_read_not_analysed(live):
    name = unique("asked")
    sidecar = live.upload(name + ".prompt.md", b"Which region sells most?", content_type="text/markdown")
    blob = live.upload(name, CSV)
    rid = run_id(source_of(blob))
    wait_for_report(live, rid)
    [finished] = wait_for(lambda: live.runs_finished("analyze", run_id(source_of(sidecar))), 20, "the skip")
    assert finished["outcome"] == "skipped"


def test_a_report_function_that_keeps_failing_dead_letters_the_message(live):
    stack = live.stack
    topic, dead, tap = (f"dlq-test-{x}-{uuid.uuid4().hex[:6]}" for x in ("results", "dead", "tap"))
    stack.publisher().create_topic(name=stack.topic(topic))
    stack.publisher().create_topic(name=stack.topic(dead))
    subscriber = stack.subscriber()
    subscriber.create_subscription(request={"name": stack.subscription(tap), "topic": stack.topic(dead)})
    port = __import__("scripts.local_stack", fromlist=["free_port"]).free_port()
    env = stack.functions_environment() | {"REPORTS_BUCKET": "no-such-bucket"}
    stack.start_function("report-broken", "report", port, env)
    stack.create_push_subscription(
        f"{topic}-push",
        topic,
        f"http://127.0.0.1:{port}/projects/{stack.settings.project}/topics/{topic}",
        dead_letter_topic=dead,
        max_delivery_attempts=5,
        backoff_s=(0.1, 0.2),
    )
    message = ResultMessage(
        run_id="dlq" + uuid.uuid4().hex[:8],
        source=Source("b", "x.csv", "1", 3),
        status="failed",
        dataset={"name": "x"},
        artifacts_prefix="gs://no-such-bucket/x/",
    )
    stack.publisher().publish(stack.topic(topic), message.to_json(), **message.attributes()).result(10)

    def dead_lettered():
        response = subscriber.pull(
            request={"subscription": stack.subscription(tap), "max_messages": 10}, timeout=5
        )
        return list(response.received_messages)

    [received] = wait_for(dead_lettered, 60, "the dead-lettered message")
    assert ResultMessage.from_json(received.message.data).run_id == message.run_id
    assert received.message.attributes["run_id"] == message.run_id
    attempts = [
        e
        for e in live.log_lines("report-broken")
        if e.get("run_id") == message.run_id and e.get("event") == "run_finished"
    ]
    assert len(attempts) == 5 and all(e["outcome"] == "retry" for e in attempts)


def test_the_results_subscription_has_a_dead_letter_policy(live):
    sub = live.stack.subscriber().get_subscription(
        request={"subscription": live.stack.subscription("csv-insights-report-push")}
    )
    assert sub.dead_letter_policy.dead_letter_topic == live.stack.topic("csv-insights-dead-letter")
    assert sub.dead_letter_policy.max_delivery_attempts == 5
    assert not live.taps[DEAD_LETTER_TAP].messages


def test_ten_simultaneous_uploads_make_ten_reports_and_ten_messages(live):
    """Concurrency check inside the suite; `make burst` runs the same check with 50 files."""
    batch = uuid.uuid4().hex[:6]
    names = [f"burst-{batch}/file-{i:02d}.csv" for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        blobs = list(
            pool.map(lambda n: live.upload(n, CSV + f"2026-02-01,west,{len(n)},1.5\n".encode()), names)
        )
    rids = {run_id(source_of(b)) for b in blobs}
    assert len(rids) == 10

    def finished():
        return all(results(live, r) for r in rids) and sum(len(live.report_names(r)) for r in rids) == 10

    wait_for(finished, 150, "10 reports and 10 result messages")
    time.sleep(2)  # a late duplicate would land now
    per_run = {r: (len(live.report_names(r)), len(results(live, r))) for r in rids}
    assert set(per_run.values()) == {(1, 1)}, per_run
