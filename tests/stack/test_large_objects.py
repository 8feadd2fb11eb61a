"""Large objects reach the analyze function as a file, not as bytes, and the file is always removed.

``GcsStore.download_to`` against fake-gcs-server (contents, generation, errors), then a second analyze
function (functions-framework subprocess) with a tiny LARGE_FILE_BYTES and its own TMPDIR: a file
above the threshold takes the DuckDB path and gets its report; one below takes the bytes path; no
download directory is left behind.
"""

from __future__ import annotations

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


def test_download_to_writes_the_object_and_classifies_errors(live, bucket, tmp_path):
    store = GcsStore(client=live.storage)
    blob = bucket.blob(f"dl-{uuid.uuid4().hex[:6]}.csv")
    blob.upload_from_string(orders(50), content_type="text/csv")
    blob.reload()
    target = tmp_path / "data.csv"
    assert store.download_to(BUCKET, blob.name, target, generation=blob.generation) == blob.generation
    assert target.read_bytes() == orders(50)

    missing = tmp_path / "missing.csv"
    with pytest.raises(PermanentError) as err:
        store.download_to(BUCKET, blob.name + "-missing", missing)
    assert err.value.code == "not_found"
    assert not missing.exists()  # no empty or partial file left behind


def test_download_to_turns_an_unreachable_server_into_a_transient_error(tmp_path):
    from google.cloud import storage

    from scripts.local_stack import _env

    with _env(STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{free_port()}"):
        client = storage.Client(project="p")
    store = GcsStore(client=client, attempts=2, initial_backoff_s=0.01, timeout_s=2)
    with pytest.raises(TransientError):
        store.download_to("b", "n.csv", tmp_path / "n.csv")


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
def test_a_file_over_large_file_bytes_is_analysed_from_a_downloaded_file(
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
    downloaded = [
        e
        for e in live.log_lines(function)
        if e.get("message") == "large object downloaded to a file" and e.get("object", "").endswith(blob.name)
    ]
    assert len(downloaded) == (rows == 400)  # streamed to disk, never read as bytes
    wait_for(lambda: live.report_names(rid), 60, "the report")
    assert not list(tmp.glob("csv-insights-input-*"))  # the download folder is gone after the run
