"""Large objects reach the analyze function as a stream, never as bytes or a downloaded file.

``GcsStore.open_stream`` against fake-gcs-server (contents over several ranges, generation, errors),
then a second analyze function (functions-framework subprocess) with a tiny LARGE_FILE_BYTES and its
own TMPDIR: a file above the threshold takes the DuckDB path from the stream and gets its report; one
below takes the bytes path; no work directory is left behind.
"""

from __future__ import annotations

import hashlib
import os
import signal
import urllib.error
import urllib.request
import uuid

import pytest
from cloudevents.conversion import to_binary

from scripts.local_stack import RESULTS_TAP, free_port
from shared.errors import PermanentError, TransientError
from shared.messages import ResultMessage, Source
from shared.naming import run_id
from shared.storage import GcsStore
from tests.stack.conftest import wait_for
from tests.stack.test_entry_points import finalized

pytestmark = pytest.mark.emulators

BUCKET = "large-objects-input"
LARGE_FILE_BYTES = 4000


def orders(rows: int) -> bytes:
    lines = ["order_date,region,amount,units"]
    lines += [
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},{'nsew'[i % 4]},{i * 37 % 1000 / 10:.2f},{i % 7}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def bucket(live):
    live.storage.create_bucket(BUCKET)
    return live.storage.bucket(BUCKET)


def test_open_stream_reads_the_generation_in_ranges_and_classifies_errors(live, bucket, monkeypatch):
    from shared import storage

    monkeypatch.setattr(storage, "STREAM_CHUNK_BYTES", 1000)  # several ranged reads for a 3 kB object
    store = GcsStore(client=live.storage)
    blob = bucket.blob(f"dl-{uuid.uuid4().hex[:6]}.csv")
    blob.upload_from_string(orders(150), content_type="text/csv")
    blob.reload()
    first = blob.generation
    with store.open_stream(BUCKET, blob.name, generation=first) as reader:
        chunks = list(iter(lambda: reader.read(700), b""))
    assert b"".join(chunks) == orders(150) and len(orders(150)) > 3000

    blob.upload_from_string(b"a,b\n1,2\n", content_type="text/csv")  # a newer generation
    with store.open_stream(BUCKET, blob.name) as reader:
        assert reader.read() == b"a,b\n1,2\n"
    for name, generation in [(blob.name, first), (blob.name + "-missing", None)]:
        with pytest.raises(PermanentError) as err:  # overwritten (no versioning), or never there
            store.open_stream(BUCKET, name, generation=generation).read(10)
        assert err.value.code == "not_found"


def test_open_stream_turns_an_unreachable_server_into_a_transient_error():
    from google.cloud import storage

    from scripts.local_stack import _env

    with _env(STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{free_port()}"):
        client = storage.Client(project="p")
    store = GcsStore(client=client, attempts=2, initial_backoff_s=0.01, timeout_s=2)
    with pytest.raises(TransientError):
        store.open_stream("b", "n.csv").read(10)


@pytest.fixture(scope="module")
def small_threshold_function(live, bucket, tmp_path_factory):
    """An analyze function with LARGE_FILE_BYTES=4000 whose temp files go to a folder we can inspect."""
    tmp = tmp_path_factory.mktemp("analyze-tmp")
    port = free_port()
    env = live.stack.functions_environment() | {
        "INPUT_BUCKET": BUCKET,
        "LARGE_FILE_BYTES": str(LARGE_FILE_BYTES),
        "TMPDIR": str(tmp),
    }
    child = live.stack.start_function(f"analyze-large-{port}", "analyze", port, env)
    try:
        yield f"http://127.0.0.1:{port}/", tmp, child.name
    finally:
        if child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGTERM)
            child.process.wait(timeout=10)


def post(url: str, blob) -> int:
    headers, body = to_binary(finalized(blob))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.parametrize("rows", [400, 20], ids=["large-path", "bytes-path"])
def test_a_file_over_large_file_bytes_is_analysed_from_a_stream(
    live, bucket, small_threshold_function, rows
):
    url, tmp, function = small_threshold_function
    data = orders(rows)
    assert (len(data) > LARGE_FILE_BYTES) == (rows == 400)
    blob = bucket.blob(f"orders-{rows}-{uuid.uuid4().hex[:6]}.csv")
    blob.upload_from_string(data, content_type="text/csv")
    blob.reload()
    rid = run_id(Source(BUCKET, blob.name, str(blob.generation), blob.size))
    assert post(url, blob) == 200
    [message] = wait_for(lambda: live.taps[RESULTS_TAP].where(run_id=rid), 60, "the result message")
    body = ResultMessage.from_json(message.data)
    assert body.status == "succeeded", body.error
    assert body.dataset["rows"] == rows and body.profile["rows"] == rows
    large = [w for w in body.warnings if w.startswith("large file (")]
    assert bool(large) == (rows == 400)
    streamed = [
        e
        for e in live.log_lines(function)
        if e.get("message") == "large object read as a stream" and e.get("object", "").endswith(blob.name)
    ]
    assert len(streamed) == (rows == 400)  # never read as bytes
    assert body.source.sha256 == hashlib.sha256(data).hexdigest()  # from the stream's first pass
    wait_for(lambda: live.report_names(rid), 60, "the report")
    assert not list(tmp.glob("csv-insights-*"))  # DuckDB's folder (database, pipes) is gone after the run
