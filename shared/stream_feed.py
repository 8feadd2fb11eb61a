"""A stream of bytes as a file DuckDB can read: a named pipe fed by a thread, nothing staged on disk.

On Cloud Functions ``/tmp`` is memory, so a large object downloaded to a file costs its whole size in
memory before any work starts. Instead the object is read as a stream, once per pass over the file,
and written into a FIFO that DuckDB's ``read_csv`` reads like a file. What DuckDB cannot read from a
pipe is done on the way: gzip is inflated (DuckDB's gzip reader needs a seekable file) and text in
another encoding is re-encoded as UTF-8.

The feeding thread always opens the pipe (even when the source fails, so the reader never waits for a
writer that will not come), records the first error, and stops when the reader goes away. After a
pass the caller calls ``Feed.finish()``: a source that failed or ended early means the reader saw a
truncated file, whatever it made of it, so the source's error is what is raised.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import select
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shared.errors import TransientError

log = logging.getLogger(__name__)

BLOCK = 1024 * 1024  # bytes read from the source at a time (and the most held by the feeding thread)
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ObjectStream:
    """An object read as a stream, from its first byte on each ``open()`` (a new read each time)."""

    open: Callable[[], BinaryIO]
    size: int  # bytes the stream holds, checked after every complete pass


class Feed:
    """One pass of a stream into a FIFO; ``sha256`` and ``bytes`` describe the raw bytes it read."""

    def __init__(self, path: Path, stream: ObjectStream, transform: _Transform | None) -> None:
        self.path = path
        self._stream = stream
        self._transform = transform
        self._digest = hashlib.sha256()
        self.bytes = 0
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-feed", daemon=True)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def finish(self, *, reader_failed: bool = False) -> None:
        """End the pass and raise what went wrong with the source: its own error, or (when the reader
        read to the end) a stream cut short. After a reader's failure, only the source's error counts."""
        if reader_failed:
            self._stop()
        else:
            self._thread.join()
        if self.error is not None:
            raise self.error
        if not reader_failed and self.bytes != self._stream.size:
            raise TransientError(
                f"the object's stream ended after {self.bytes:,} of {self._stream.size:,} bytes", code="stream_cut"
            )

    def _run(self) -> None:
        try:
            with open(self.path, "wb") as out:  # blocks until the reader opens the pipe
                if not self._stopping.is_set():
                    self._copy(out)
        except BrokenPipeError:
            pass  # the reader stopped early (its own error, raised to the caller): nothing to add
        except BaseException as err:  # the caller raises it from finish()
            self.error = err

    def _copy(self, out: BinaryIO) -> None:
        with self._stream.open() as source:
            while not self._stopping.is_set():
                block = source.read(BLOCK)
                if not block:
                    break
                self._digest.update(block)
                self.bytes += len(block)
                for piece in self._transform(block) if self._transform else (block,):
                    out.write(piece)
            if self._transform and not self._stopping.is_set():
                for piece in self._transform(b""):  # flush what the transform still holds
                    out.write(piece)

    def _stop(self) -> None:
        """Unblock and end the thread: open the read end ourselves (a writer waiting to open, or blocked
        on a full pipe whose reader left, can then finish) and drain it until the writer closes."""
        self._stopping.set()
        if not self._thread.is_alive():
            return
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while self._thread.is_alive():
                ready, _, _ = select.select([fd], [], [], STOP_TIMEOUT_S)
                if not ready or not os.read(fd, BLOCK):
                    break
        finally:
            os.close(fd)
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("the stream feeding thread did not stop", extra={"pipe": str(self.path)})


_pipes = iter(range(1 << 62))


@contextmanager
def feed(
    work: Path,
    stream: ObjectStream,
    *,
    gzip: bool = False,
    encoding: str | None = None,
    max_inflated: int = 1 << 62,
) -> Iterator[Feed]:
    """A FIFO in ``work`` holding one pass of ``stream``, inflated when ``gzip`` (LimitExceededError
    past ``max_inflated`` bytes), re-encoded from ``encoding`` to UTF-8 when one is given.

    Read the path once inside the block, then call ``finish()``; leaving the block ends the pass.
    """
    path = work / f"stream-{next(_pipes)}.csv"
    os.mkfifo(path, 0o600)
    pipe = Feed(path, stream, _Transform(gzip, encoding, max_inflated) if gzip or encoding else None)
    pipe._thread.start()
    try:
        yield pipe
    finally:
        pipe._stop()
        path.unlink()


class _Transform:
    """Bytes as they pass: inflate gzip (every member, as gzip does; at most ``max_inflated`` bytes,
    a piece of at most BLOCK at a time whatever the ratio), then re-encode as UTF-8.
    Called with b"" once at the end to flush."""

    def __init__(self, gzip: bool, encoding: str | None, max_inflated: int) -> None:
        self._inflate = zlib.decompressobj(wbits=31) if gzip else None
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace") if encoding else None
        self._max_inflated, self._inflated_bytes = max_inflated, 0

    def __call__(self, block: bytes) -> Iterator[bytes]:
        final = not block
        pieces = self._inflated(block, final) if self._inflate is not None else iter([block])
        for piece in pieces:
            if self._decoder is not None:
                piece = self._decoder.decode(piece, final=False).encode("utf-8")
            if piece:
                yield piece
        if final and self._decoder is not None:
            yield self._decoder.decode(b"", final=True).encode("utf-8")

    def _inflated(self, block: bytes, final: bool) -> Iterator[bytes]:
        from shared.csv_source import human_bytes, limit_text
        from shared.errors import InvalidCsvError, LimitExceededError

        assert self._inflate is not None
        if final:
            if not self._inflate.eof:
                raise InvalidCsvError(
                    "gzip file is truncated (the compressed stream ends before its trailer)", code="bad_gzip"
                )
            return
        pending = block
        while pending:
            try:
                piece = self._inflate.decompress(pending, BLOCK)
            except zlib.error as err:
                raise InvalidCsvError(f"the gzip data is corrupt: {err}", code="bad_gzip") from err
            pending = self._inflate.unconsumed_tail
            self._inflated_bytes += len(piece)
            if self._inflated_bytes > self._max_inflated:
                raise LimitExceededError(
                    f"gzip file expands to more than {limit_text(self._max_inflated)} "
                    f"(MAX_DECOMPRESSED_BYTES); stopped after reading {human_bytes(self._inflated_bytes)}",
                    code="decompressed_too_large",
                )
            yield piece
            if self._inflate.eof and self._inflate.unused_data:  # the next gzip member starts here
                pending = self._inflate.unused_data + pending
                self._inflate = zlib.decompressobj(wbits=31)
