"""Terraform security against what the code actually does.

The IAM grants of each function's service account are compared with the Cloud Storage and Pub/Sub
calls the functions make, recorded while both handlers run for real against the emulators (a first
delivery, a duplicate, a takeover of a crashed run's claim, a failure report, the report write). Every
needed permission must be granted on the right resource, and no role may carry more than the needed
permissions plus a short, named list of extras that no narrower predefined role avoids. No service
account keys, public access prevention on every bucket.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

import pytest

from scripts.terraform_config import load
from shared import handlers
from shared.messages import ResultMessage, Source
from shared.naming import run_id
from shared.pipeline import Services
from shared.pubsub import PubSubPublisher
from shared.settings import Settings
from shared.storage import GcsStore
from tests.stack.test_entry_points import finalized, published

INPUT = "least-privilege-input"
GET, LIST, CREATE, DELETE = (
    "storage.objects.get",
    "storage.objects.list",
    "storage.objects.create",
    "storage.objects.delete",
)
PUBLISH, PREDICT = "pubsub.topics.publish", "aiplatform.endpoints.predict"

# Permissions of the predefined roles involved (the object/topic-level ones that matter here).
ROLE_PERMISSIONS = {
    "roles/storage.objectViewer": {GET, LIST},
    "roles/storage.objectCreator": {CREATE},
    "roles/storage.objectUser": {
        GET,
        LIST,
        CREATE,
        DELETE,
        "storage.objects.update",
        "storage.objects.restore",
        "storage.multipartUploads.*",
        "storage.managedFolders.get",
        "storage.managedFolders.list",
    },
    "roles/storage.objectAdmin": {
        GET,
        LIST,
        CREATE,
        DELETE,
        "storage.objects.update",
        "storage.objects.restore",
        "storage.objects.getIamPolicy",
        "storage.objects.setIamPolicy",
        "storage.managedFolders.create",
        "storage.managedFolders.delete",
    },
    "roles/pubsub.publisher": {PUBLISH},
    "roles/aiplatform.user": {PREDICT, "aiplatform.*"},
}
# Extras tolerated because no narrower predefined role exists without them.
TOLERATED = {
    "storage.objects.list",  # comes with every read role
    "storage.objects.update",  # metadata updates: part of the only create+delete role (objectUser)
    "storage.objects.restore",
    "storage.multipartUploads.*",
    "storage.managedFolders.get",
    "storage.managedFolders.list",
    "aiplatform.*",  # Vertex AI has no predict-only predefined role
}


class RecordingStore(GcsStore):
    """GcsStore that notes the IAM permission each call needs, per bucket."""

    def __init__(self, project: str) -> None:
        super().__init__(project)
        self.needs: dict[str, set[str]] = defaultdict(set)

    def read(self, bucket, name):
        self.needs[bucket].add(GET)
        return super().read(bucket, name)

    def read_versioned(self, bucket, name, *args, **kwargs):
        self.needs[bucket].add(GET)
        return super().read_versioned(bucket, name, *args, **kwargs)

    def exists(self, bucket, name):
        self.needs[bucket].add(GET)
        return super().exists(bucket, name)

    def list(self, bucket, prefix=""):
        self.needs[bucket].add(LIST)
        return super().list(bucket, prefix)

    def write(self, bucket, name, data, content_type, *, if_absent=False):
        # Replacing an existing object needs delete as well as create.
        self.needs[bucket] |= {CREATE} if if_absent else {CREATE, DELETE}
        return super().write(bucket, name, data, content_type, if_absent=if_absent)

    def put(self, bucket, name, data, content_type, **kwargs):
        only_new = kwargs.get("if_absent") or kwargs.get("if_generation_match") == 0
        self.needs[bucket] |= {CREATE} if only_new else {CREATE, DELETE}
        return super().put(bucket, name, data, content_type, **kwargs)

    def delete(self, bucket, name, *, if_generation_match=None):
        self.needs[bucket].add(DELETE)
        return super().delete(bucket, name, if_generation_match=if_generation_match)


class RecordingPublisher(PubSubPublisher):
    def __init__(self, project: str) -> None:
        super().__init__(project)
        self.topics: set[str] = set()
        self.sent: list[bytes] = []

    def publish(self, topic, data, attributes):
        self.topics.add(topic)
        self.sent.append(data)
        return super().publish(topic, data, attributes)


pytestmark = pytest.mark.emulators


@pytest.fixture(scope="module")
def recorded(live):
    """Run both handlers in process against the emulators and record what they touch."""
    mp = pytest.MonkeyPatch()
    for key, value in live.stack.client_env().items():
        mp.setenv(key, value)
    mp.setenv("INPUT_BUCKET", INPUT)
    live.storage.create_bucket(INPUT)
    settings = Settings.from_env()
    analyze = Services(settings, RecordingStore(settings.project), RecordingPublisher(settings.project))
    report = Services(settings, RecordingStore(settings.project), RecordingPublisher(settings.project))
    try:
        csv = b"day,units,price\n" + b"".join(
            f"2026-02-{d:02d},{d % 5 + 1},{d * 1.5}\n".encode() for d in range(1, 21)
        )
        bucket = live.storage.bucket(INPUT)
        good = bucket.blob(f"good-{uuid.uuid4().hex[:6]}.csv")
        good.upload_from_string(csv, content_type="text/csv")
        bad = bucket.blob(f"bad-{uuid.uuid4().hex[:6]}.csv")
        bad.upload_from_string(b"", content_type="text/csv")
        crashed = bucket.blob(f"crashed-{uuid.uuid4().hex[:6]}.csv")
        crashed.upload_from_string(csv, content_type="text/csv")
        crashed.reload()
        rid = run_id(Source(INPUT, crashed.name, str(crashed.generation), crashed.size))
        stale = {"state": "running", "claimed_at": 0, "owner": "dead", "attempt": 1}
        live.reports.blob(f"{settings.reports_prefix}_runs/{rid}.json").upload_from_string(json.dumps(stale))
        outcomes = []
        for blob in (good, bad, crashed, good):
            outcomes.append(handlers.analyze_event(finalized(blob), analyze).outcome)
        assert outcomes == ["succeeded", "failed", "succeeded", "duplicate"]
        for data in analyze.publisher.sent:
            body = json.loads(data)
            if "run_id" in body and "status" in body and "source" in body:
                event = published(ResultMessage.from_json(data))
                assert handlers.report_event(event, report).outcome in {"succeeded", "duplicate"}
                handlers.report_event(event, report)  # a duplicate delivery
        yield settings, analyze, report
    finally:
        mp.undo()


def _grants(tf, account: str) -> dict[tuple[str, str], set[str]]:
    """(resource kind, resource expression) -> roles granted to the account there."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    member = f"${{google_service_account.{account}.member}}"
    for kind, _, body in tf.all_resources():
        if kind.endswith("_iam_member") and body["member"] == member:
            target = body.get("bucket") or body.get("topic") or body.get("project") or body.get("service")
            out[(kind, target)].add(body["role"])
    return out


def _needs(settings: Settings, services: Services, *, uses_vertex: bool) -> dict[tuple[str, str], set[str]]:
    names = {
        settings.input_bucket: "${google_storage_bucket.input.name}",
        settings.reports_bucket: "${google_storage_bucket.reports.name}",
    }
    topics = {
        settings.results_topic: "${google_pubsub_topic.results.name}",
        settings.alerts_topic: "${google_pubsub_topic.alerts.name}",
    }
    needs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for bucket, permissions in services.store.needs.items():
        needs[("google_storage_bucket_iam_member", names[bucket])] |= permissions
    for topic in services.publisher.topics:
        needs[("google_pubsub_topic_iam_member", topics[topic])].add(PUBLISH)
    if uses_vertex:
        needs[("google_project_iam_member", "${var.project_id}")].add(PREDICT)
    return needs


@pytest.mark.parametrize("account", ["analyze", "report"])
def test_each_function_is_granted_what_it_calls_and_nothing_more(recorded, account):
    settings, analyze, report = recorded
    services = analyze if account == "analyze" else report
    # The analyze function calls Gemini on Vertex AI in the deployment (its only genai client use);
    # the report function never imports an analyst.
    needs = _needs(settings, services, uses_vertex=account == "analyze")
    grants = _grants(load(), account)
    assert set(grants) == set(needs), f"granted on {sorted(grants)}, used on {sorted(needs)}"
    for target, roles in grants.items():
        granted = set().union(*(ROLE_PERMISSIONS[r] for r in roles))
        assert needs[target] <= granted, f"{account} lacks {needs[target] - granted} on {target}"
        extra = granted - needs[target] - TOLERATED
        assert not extra, f"{account} gets {sorted(extra)} on {target} beyond what it calls ({roles})"
        for role in roles:  # every role contributes something used
            assert ROLE_PERMISSIONS[role] & needs[target], f"{role} on {target} is unused"


def test_the_report_function_never_needs_the_input_bucket_or_a_topic(recorded):
    settings, _, report = recorded
    assert set(report.store.needs) == {settings.reports_bucket}
    assert report.publisher.topics == set()


def test_no_service_account_keys_and_every_bucket_blocks_public_access():
    tf = load()
    kinds = {kind for kind, _, _ in tf.all_resources()}
    assert "google_service_account_key" not in kinds
    assert not {k for k in kinds if "hmac_key" in k or k.endswith("_key") and "kms" not in k}
    buckets = tf.resources["google_storage_bucket"]
    assert buckets and all(b["public_access_prevention"] == "enforced" for b in buckets.values())
    assert all(b["uniform_bucket_level_access"] is True for b in buckets.values())
    members = [body.get("member", "") for k, _, body in tf.all_resources() if k.endswith("_iam_member")]
    assert not [m for m in members if m in {"allUsers", "allAuthenticatedUsers"}]


def test_the_functions_construct_only_the_three_google_clients_the_grants_cover():
    """A new client (e.g. a Subscriber or Firestore) would need new grants: this test says so."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    sources = [*root.joinpath("shared").rglob("*.py"), *root.joinpath("functions").rglob("*.py")]
    clients = set()
    for path in sources:
        for match in re.finditer(
            r"\b((?:storage|pubsub_v1|genai|firestore|bigquery)\.\w*Client)\(", path.read_text()
        ):
            clients.add(match.group(1))
    assert clients == {"storage.Client", "pubsub_v1.PublisherClient", "genai.Client"}
