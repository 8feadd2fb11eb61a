"""The run ledger against fake-gcs-server: one claim wins, takeovers are atomic, markers end runs."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import PermanentError
from shared.runs import RunLedger
from shared.storage import GcsStore

pytestmark = pytest.mark.emulators


@pytest.fixture
def ledger_at(live):
    store = GcsStore(client=live.storage)

    def make(now: float, lease_s: float = 600.0) -> RunLedger:
        return RunLedger(
            store, live.settings.reports_bucket, "ledger-test/", lease_s=lease_s, clock=lambda: now
        )

    return make


def test_of_many_simultaneous_claims_exactly_one_wins(ledger_at):
    ledger, rid = ledger_at(1000.0), uuid.uuid4().hex
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: ledger.claim(rid, "b/n#1"), range(8)))
    assert sum(c is not None for c in claims) == 1


def test_a_live_claim_blocks_and_an_expired_one_is_taken_over_once(ledger_at):
    rid = uuid.uuid4().hex
    first = ledger_at(1000.0).claim(rid, "k")
    assert first is not None and not first.took_over
    assert ledger_at(1000.0 + 599).claim(rid, "k") is None  # within the lease: its holder may be alive
    later = ledger_at(1000.0 + 601)
    with ThreadPoolExecutor(4) as pool:
        takeovers = [c for c in pool.map(lambda _: later.claim(rid, "k"), range(4)) if c]
    assert len(takeovers) == 1 and takeovers[0].took_over and takeovers[0].attempt == 2


def test_a_released_claim_is_taken_over_at_once(ledger_at):
    rid, ledger = uuid.uuid4().hex, ledger_at(1000.0)
    claim = ledger.claim(rid, "k")
    ledger.release(claim, "k")
    again = ledger.claim(rid, "k")
    assert again is not None and again.took_over


def test_release_by_a_holder_that_lost_its_claim_changes_nothing(ledger_at):
    rid = uuid.uuid4().hex
    stale = ledger_at(1000.0).claim(rid, "k")
    current = ledger_at(2000.0).claim(rid, "k")  # took over after the lease
    ledger_at(2001.0).release(stale, "k")  # the old holder wakes up: its generation no longer matches
    assert ledger_at(2002.0).claim(rid, "k") is None
    assert current is not None


def test_the_published_marker_makes_later_deliveries_duplicates(ledger_at):
    rid, ledger = uuid.uuid4().hex, ledger_at(1000.0)
    assert not ledger.is_published(rid)
    ledger.complete(ledger.claim(rid, "k"), "msg-1")
    assert ledger.is_published(rid)


def test_gcs_store_if_absent_and_not_found(live):
    store, bucket, name = GcsStore(client=live.storage), live.settings.reports_bucket, f"t/{uuid.uuid4().hex}"
    assert store.write(bucket, name, b"1", "text/plain", if_absent=True) is True
    assert store.write(bucket, name, b"2", "text/plain", if_absent=True) is False
    assert store.read(bucket, name) == b"1"
    with pytest.raises(PermanentError) as err:
        store.read(bucket, name + "-missing")
    assert err.value.code == "not_found"


def test_gcs_store_turns_an_unreachable_server_into_a_transient_error():
    from google.cloud import storage

    from scripts.local_stack import _env, free_port
    from shared.errors import TransientError

    with _env(STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{free_port()}"):
        client = storage.Client(project="p")
    store = GcsStore(client=client, attempts=2, initial_backoff_s=0.01, timeout_s=2)
    with pytest.raises(TransientError):
        store.read("b", "n")


def test_pubsub_publisher_publishes_with_attributes_and_classifies_a_missing_topic(live):
    from shared.errors import TransientError
    from shared.pubsub import PubSubPublisher

    publisher = PubSubPublisher(live.settings.project, client=live.stack.publisher(), timeout_s=10)
    assert publisher.publish(live.settings.alerts_topic, b"{}", {"rule": "test"}).isdigit()
    with pytest.raises(TransientError) as err:
        publisher.publish("no-such-topic", b"{}", {})
    assert err.value.code == "publish_rejected"
