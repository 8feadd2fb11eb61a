"""The named pipe that lets DuckDB read an object as a stream: content, failures, and no thread left."""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
import time

import pytest

from shared.errors import PermanentError, TransientError
from shared.stream_feed import ObjectStream, feed

TEXT = "id,name\n" + "".join(f"{i},Crème brûlée n°{i}\n" for i in range(50_000))


def stream_of(data: bytes, opener=None) -> ObjectStream:
    return ObjectStream(opener or (lambda: io.BytesIO(data)), len(data))


@pytest.mark.parametrize(
    ("payload", "options"),
    [
        (TEXT.encode("utf-8"), {}),
        (TEXT.encode("cp1252"), {"encoding": "cp1252"}),
        (TEXT.encode("utf-16"), {"encoding": "utf-16"}),
        # two gzip members, as `cat a.gz b.gz` makes: gzip reads both
        (gzip.compress(TEXT[:1000].encode()) + gzip.compress(TEXT[1000:].encode()), {"gzip": True}),
        (gzip.compress(TEXT.encode("cp1252")), {"gzip": True, "encoding": "cp1252"}),
    ],
    ids=["utf8", "cp1252", "utf16", "gzip-members", "gzip-cp1252"],
)
def test_the_pipe_holds_the_stream_as_utf8_text(tmp_path, payload, options):
    with feed(tmp_path, stream_of(payload), **options) as pipe:
        with open(pipe.path, "rb") as reader:
            read = reader.read()
        pipe.finish()
    assert read.decode("utf-8") == TEXT
    assert pipe.sha256 == hashlib.sha256(payload).hexdigest() and pipe.bytes == len(payload)
    assert not list(tmp_path.iterdir())  # the pipe is removed


def test_a_pipe_nobody_opens_ends_its_thread(tmp_path):
    threads = threading.active_count()
    started = time.monotonic()
    with feed(tmp_path, stream_of(TEXT.encode())):
        pass  # the reader failed before opening the file (a SQL error, say)
    assert time.monotonic() - started < 5
    assert threading.active_count() == threads


def test_a_reader_that_stops_early_ends_the_thread_without_an_error(tmp_path):
    threads = threading.active_count()
    with feed(tmp_path, stream_of(TEXT.encode() * 20)) as pipe:
        with open(pipe.path, "rb") as reader:
            reader.read(1000)  # more than a pipe buffer remains unread
        pipe.finish(reader_failed=True)
    assert threading.active_count() == threads


def test_a_source_that_cannot_be_opened_gives_its_error_and_an_empty_file(tmp_path):
    def missing():
        raise PermanentError("gs://b/n.csv does not exist", code="not_found")

    with feed(tmp_path, stream_of(b"", opener=missing)) as pipe:
        with open(pipe.path, "rb") as reader:  # does not wait for a writer that never comes
            assert reader.read() == b""
        with pytest.raises(PermanentError) as raised:
            pipe.finish()
    assert raised.value.code == "not_found"


def test_a_stream_shorter_than_its_size_is_a_transient_error(tmp_path):
    data = TEXT.encode()
    with feed(tmp_path, ObjectStream(lambda: io.BytesIO(data[:-10]), len(data))) as pipe:
        with open(pipe.path, "rb") as reader:
            reader.read()
        with pytest.raises(TransientError) as raised:
            pipe.finish()
    assert raised.value.code == "stream_cut"
