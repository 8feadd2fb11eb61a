"""Failing dependencies on the live stack: Pub/Sub publish failures, Gemini 429/503 storms and
timeouts, Cloud Storage 503s on read and write, and the analyze process killed mid-run.

A second analyze function (functions-framework subprocess) runs against the session's emulators with
the Gemini analyst pointed at a loopback server speaking the REST wire format, a short run lease, and
its own results topic, which does not exist when the first test starts (so publishing fails). Events
are delivered as Eventarc does: POSTed again until the function answers 2xx. Each test ends with
exactly one report per file and exactly one result message per run on a tap subscription.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from scripts.local_stack import free_port
from shared.messages import ResultMessage, Source
from shared.naming import run_id
from tests.gemini_data import sales_frame
from tests.gemini_server import GeminiServer, http_error
from tests.stack.conftest import Tap, wait_for
from tests.test_gemini_analyst import charts_turn, insights_turn, stats_turn

pytestmark = pytest.mark.emulators

BUCKET = "hardening-faults-input"
CSV = sales_frame().to_csv(index=False).encode()


class Script:
    """The Gemini loopback server's behaviour, switchable between tests (and mid-test)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: list[dict] = []
        self.requests = 0

    def set(self, items: list[dict]) -> None:
        with self.lock:
            self.queue = list(items)

    def __call__(self, request) -> dict:
        with self.lock:
            self.requests += 1
            if self.queue:
                return self.queue.pop(0)
        return {"error": (500, "INTERNAL", "script exhausted")}


def good_turns() -> list[dict]:
    return [stats_turn(), charts_turn(), insights_turn()]


class FaultRig:
    def __init__(self, live, server: GeminiServer, script: Script) -> None:
        self.live, self.server, self.script = live, server, script
        tag = uuid.uuid4().hex[:6]
        self.topic = f"hardening-results-{tag}"
        self.tap_name = f"hardening-results-tap-{tag}"
        self.tap = Tap()
        self.topic_ready = False
        self.port = free_port()
        self.child = None
        self.env = live.stack.functions_environment() | {
            "ANALYST": "gemini",
            "GEMINI_API_KEY": "test-key",
            "GOOGLE_GEMINI_BASE_URL": server.url,
            "GEMINI_MODEL": "gemini-test-flash",
            "GEMINI_REQUEST_TIMEOUT_S": "2",
            "ANALYSIS_DEADLINE_S": "60",
            "RUN_LEASE_S": "4",
            "INPUT_BUCKET": BUCKET,
            "RESULTS_TOPIC": self.topic,
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.child = self.live.stack.start_function(
            f"analyze-faults-{self.port}", "analyze", self.port, self.env
        )

    def kill(self) -> None:
        os.killpg(self.child.process.pid, signal.SIGKILL)
        self.child.process.wait(timeout=10)

    def create_topic(self) -> None:
        """The results topic, a tap on it, and the report function's push subscription."""
        if self.topic_ready:
            return
        stack = self.live.stack
        stack.publisher().create_topic(name=stack.topic(self.topic))
        subscriber = stack.subscriber()
        subscriber.create_subscription(
            request={"name": stack.subscription(self.tap_name), "topic": stack.topic(self.topic)}
        )
        self.tap.future = subscriber.subscribe(stack.subscription(self.tap_name), self.tap.callback)
        s = self.live.settings
        stack.create_push_subscription(
            f"hardening-report-push-{self.topic}",
            self.topic,
            f"{stack.function_url('report')}/projects/{s.project}/topics/{self.topic}",
        )
        self.topic_ready = True

    def upload(self, stem: str):
        blob = self.live.storage.bucket(BUCKET).blob(f"{stem}-{uuid.uuid4().hex[:8]}.csv")
        blob.upload_from_string(CSV, content_type="text/csv")
        blob.reload()
        return blob

    def post(self, blob, timeout_s: float = 120, event_time: str | None = None) -> int:
        event = CloudEvent(
            {
                "type": "google.cloud.storage.object.v1.finalized",
                "source": f"//storage.googleapis.com/projects/_/buckets/{blob.bucket.name}",
                "subject": f"objects/{blob.name}",
                "time": event_time or blob._properties["updated"],
            },
            blob._properties,
        )
        headers, body = to_binary(event)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code
        except OSError:
            return 599  # connection refused or reset: the process is down

    def deliver(self, blob, attempts: int = 40) -> list[int]:
        """POST until acknowledged (2xx), as Eventarc's retries would; the statuses seen."""
        statuses = []
        for _ in range(attempts):
            statuses.append(self.post(blob))
            if statuses[-1] < 300:
                return statuses
            time.sleep(0.5)
        raise AssertionError(f"never acknowledged: {statuses}")

    def messages(self, rid: str) -> list:
        return self.tap.where(run_id=rid)


@pytest.fixture(scope="module")
def rig(live):
    live.storage.create_bucket(BUCKET)
    script = Script()
    with GeminiServer(responder=script) as server:
        rig = FaultRig(live, server, script)
        rig.start()
        try:
            yield rig
        finally:
            if rig.tap.future is not None:
                rig.tap.future.cancel()
            if rig.child.process.poll() is None:
                os.killpg(rig.child.process.pid, signal.SIGTERM)
                rig.child.process.wait(timeout=10)


def rid_of(blob) -> str:
    return run_id(Source(blob.bucket.name, blob.name, str(blob.generation), blob.size))


def exactly_one_report_and_message(rig, rid: str, tally, status: str = "succeeded") -> ResultMessage:
    reports = wait_for(lambda: rig.live.report_names(rid), 60, f"the report of run {rid}")
    time.sleep(1.0)  # a duplicate message or report would show up within this
    reports = rig.live.report_names(rid)
    messages = rig.messages(rid)
    tally.file_checked(len(reports))
    assert len(reports) == 1, reports
    assert len(messages) == 1, [m.attributes for m in messages]
    body = ResultMessage.from_json(messages[0].data)
    assert body.status == status, body.error
    return body


def test_publish_failures_are_retried_until_the_topic_accepts_the_result(rig, tally):
    blob = rig.upload("publish-fault")
    rid = rid_of(blob)
    rig.script.set(good_turns() * 3)
    statuses = []
    for _ in range(2):  # the results topic does not exist yet: publishing fails, the run is released
        statuses.append(rig.post(blob))
    assert statuses == [500, 500]
    tally.fault("pubsub publish rejected", 2)
    finished = [
        e
        for e in rig.live.log_lines(rig.child.name)
        if e.get("run_id") == rid and e.get("event") == "run_finished"
    ]
    assert [e["outcome"] for e in finished] == ["retry", "retry"]
    assert {e["error_code"] for e in finished} == {"publish_rejected"}
    rig.create_topic()
    rig.script.set(good_turns())
    assert rig.deliver(blob)[-1] == 200
    exactly_one_report_and_message(rig, rid, tally)
    assert rig.post(blob) == 200  # a late redelivery is a duplicate: nothing new
    time.sleep(0.5)
    assert len(rig.messages(rid)) == 1


def test_gemini_429_503_and_timeout_storm_then_success(rig, tally):
    rig.create_topic()
    blob = rig.upload("gemini-storm")
    rid = rid_of(blob)
    slow = {**stats_turn(), "delay": 3.0}  # past the 2 s request timeout
    rig.script.set(
        [
            http_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"),
            http_error(503, "UNAVAILABLE", "The model is overloaded"),
            slow,
            http_error(503, "UNAVAILABLE", "The model is overloaded"),
            *good_turns(),
        ]
    )
    before = rig.script.requests
    assert rig.deliver(blob)[-1] == 200
    tally.fault("gemini 429", 1)
    tally.fault("gemini 503", 2)
    tally.fault("gemini timeout", 1)
    assert rig.script.requests - before == 7
    body = exactly_one_report_and_message(rig, rid, tally)
    assert body.analyst["kind"] == "gemini"


def test_gemini_503s_then_a_permanent_error_end_in_one_failure_report(rig, tally):
    rig.create_topic()
    blob = rig.upload("gemini-down")
    rid = rid_of(blob)
    rig.script.set([http_error(503, "UNAVAILABLE", "down")] * 3 + [http_error(400, "INVALID_ARGUMENT", "x")])
    status = rig.post(blob)
    # A 400 after the 503s is permanent: the run ends with a failure report, published exactly once.
    assert status == 200
    tally.fault("gemini 503", 3)
    body = exactly_one_report_and_message(rig, rid, tally, status="failed")
    assert body.error.code == "gemini_invalid_request"


def test_storage_503_on_read_and_write_are_absorbed_by_retries(rig, tally):
    rig.create_topic()
    blob = rig.upload("gcs-fault")
    rid = rid_of(blob)
    proxy = rig.live.proxy
    injected_before = len(proxy.injected)
    proxy.fail(blob.name, 2)  # reading the object (metadata, then media)
    proxy.fail(f"_runs%2F{rid}", 1)  # the run ledger's claim write
    proxy.fail(f"{rid}%2Freport.md", 2)  # the report function's write of report.md
    rig.script.set(good_turns())
    statuses = rig.deliver(blob)
    exactly_one_report_and_message(rig, rid, tally)
    hits = proxy.injected[injected_before:]
    assert statuses[-1] == 200
    assert sum(blob.name in h or blob.name.replace("-", "%2D") in h for h in hits) >= 1, hits
    assert sum("report.md" in h for h in hits) == 2, hits
    assert any("_runs" in h for h in hits), hits
    tally.fault("gcs 503", len(hits))


def test_the_analyze_process_killed_mid_run_is_taken_over_after_the_lease(rig, tally):
    rig.create_topic()
    blob = rig.upload("killed")
    rid = rid_of(blob)
    rig.script.set([{**stats_turn(), "delay": 30.0}])  # the run hangs inside Gemini's first answer
    first = threading.Thread(target=rig.post, args=(blob,), daemon=True)
    before = rig.script.requests
    first.start()
    wait_for(lambda: rig.script.requests > before, 30, "the run to reach Gemini")
    rig.kill()
    tally.fault("analyze process SIGKILL mid-run")
    first.join(timeout=10)
    claim = json.loads(rig.live.reports.blob(f"reports/_runs/{rid}.json").download_as_bytes())
    assert claim["state"] == "running"  # the dead run's claim stays behind
    rig.start()
    rig.script.set(good_turns())
    statuses = rig.deliver(blob)  # 500 "run in progress" until the 4 s lease expires, then takeover
    assert statuses[-1] == 200
    assert rig.live.reports.blob(f"reports/_runs/{rid}.published").exists()
    after = json.loads(rig.live.reports.blob(f"reports/_runs/{rid}.json").download_as_bytes())
    assert after["attempt"] == 2 and after["owner"] != claim["owner"]  # taken over, not started afresh
    exactly_one_report_and_message(rig, rid, tally)
    finished = [
        e
        for e in rig.live.log_lines(rig.child.name)
        if e.get("run_id") == rid and e.get("event") == "run_finished"
    ]
    assert finished[-1]["outcome"] == "succeeded"


def test_a_file_whose_retry_budget_runs_out_gets_one_failure_report(rig, tally):
    """A redelivery past EVENT_MAX_AGE_S (Eventarc keeps the event's time on every retry) is the end
    of the retry budget: acknowledged, with a failure report, once."""
    rig.create_topic()
    blob = rig.upload("budget-spent")
    rid = rid_of(blob)
    before = rig.script.requests
    statuses = [rig.post(blob, event_time="2020-01-01T00:00:00Z") for _ in range(2)]
    assert statuses == [200, 200] and rig.script.requests == before  # no analysis is attempted
    tally.fault("retry budget spent (event age)")
    body = exactly_one_report_and_message(rig, rid, tally, status="failed")
    assert body.error.code == "retries_exhausted"
