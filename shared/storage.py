"""Object storage behind one small interface: Google Cloud Storage, or a local folder.

Only this module imports google-cloud-storage (lazily, so the local path never pays for it).

CONTRACT: ObjectStore and LocalStore are final. GcsStore implements ObjectStore on Cloud Storage (or
fake-gcs-server when STORAGE_EMULATOR_HOST is set, which the official client honours by itself) and
adds the generation-aware calls the run ledger needs (``read_versioned``, ``write`` with
``if_generation_match``, ``delete``, ``list``) and ``open_stream``, which reads a large object in ranges.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


class ObjectStore(Protocol):
    def read(self, bucket: str, name: str) -> bytes:
        """The object's bytes; PermanentError (not_found) when it does not exist."""
        ...

    def write(self, bucket: str, name: str, data: bytes, content_type: str, *, if_absent: bool = False) -> bool:
        """Store an object. With ``if_absent``, do nothing and return False when it already exists."""
        ...

    def exists(self, bucket: str, name: str) -> bool: ...

    def uri(self, bucket: str, name: str) -> str: ...


class LocalStore:
    """A folder standing in for buckets: ``root/<name>`` (the bucket is ignored: one folder per store).

    Writes are atomic (temp file + rename), so a crash never leaves a half-written report.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object name escapes the store: {name!r}")
        return path

    def read(self, bucket: str, name: str) -> bytes:
        from shared.errors import PermanentError

        try:
            return self._path(name).read_bytes()
        except FileNotFoundError as err:
            raise PermanentError(f"{name} does not exist", code="not_found") from err

    def write(self, bucket: str, name: str, data: bytes, content_type: str, *, if_absent: bool = False) -> bool:
        path = self._path(name)
        if if_absent and path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True

    def exists(self, bucket: str, name: str) -> bool:
        return self._path(name).exists()

    def uri(self, bucket: str, name: str) -> str:
        return self._path(name).as_uri()


class GcsStore:
    """ObjectStore on Google Cloud Storage with the official client (one client per instance).

    Errors are classified here, once: 429, 5xx, timeouts and connection failures → TransientError after
    a few quick retries (the only retry layer around storage calls: the client's own retry is off, so
    the budget is ours and fits the function timeout); 404 → PermanentError(code="not_found"); a failed
    ``if_generation_match`` precondition → ``False`` from ``write``.
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        client: Any = None,
        attempts: int = 4,
        initial_backoff_s: float = 0.25,
        max_backoff_s: float = 4.0,
        timeout_s: float = 60.0,
    ) -> None:
        if client is None:
            from google.cloud import storage  # lazy: only the cloud path pays for the import

            client = storage.Client(project=project)
        self.client = client
        self.attempts = attempts
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s

    def _blob(self, bucket: str, name: str) -> Any:
        return self.client.bucket(bucket).blob(name)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one storage call, retrying transient failures with jittered exponential backoff."""
        from shared.errors import TransientError

        delay = self.initial_backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except Exception as err:
                kind = _classify(err)
                if kind != "transient":
                    raise
                if attempt == self.attempts:
                    raise TransientError(f"storage {what} failed after {attempt} attempts: {err}") from err
                logger.warning(
                    "storage call failed, retrying",
                    extra={"call": what, "attempt": attempt, "error": type(err).__name__},
                )
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.max_backoff_s)
        raise AssertionError("unreachable")

    def read(self, bucket: str, name: str) -> bytes:
        data, _ = self.read_versioned(bucket, name, missing_ok=False)  # type: ignore[misc]
        return data

    def read_versioned(
        self, bucket: str, name: str, *, generation: int | str | None = None, missing_ok: bool = True
    ) -> tuple[bytes, int] | None:
        """(bytes, generation) of an object (of one generation when given); None when it does not
        exist and ``missing_ok``, else PermanentError(code="not_found")."""
        from google.api_core import exceptions as gexc

        from shared.errors import PermanentError

        blob = self.client.bucket(bucket).blob(name, generation=int(generation) if generation else None)
        try:
            data = self._call(
                f"read gs://{bucket}/{name}",
                lambda: blob.download_as_bytes(retry=None, timeout=self.timeout_s),
            )
        except gexc.NotFound as err:
            if missing_ok:
                return None
            raise PermanentError(f"gs://{bucket}/{name} does not exist", code="not_found") from err
        except gexc.GoogleAPICallError as err:
            raise PermanentError(f"cannot read gs://{bucket}/{name}: {err}", code="storage_error") from err
        return data, int(blob.generation or 0)

    def open_stream(self, bucket: str, name: str, *, generation: int | str | None = None) -> _RangeReader:
        """A binary reader of an object (of one generation when given) from its first byte, fetched in
        ranges of ``STREAM_CHUNK_BYTES`` as it is read: the object is never held whole.

        Each range is one storage call, so errors are ``read``'s: PermanentError(code="not_found") when
        the object does not exist, TransientError after the retries for 429/5xx/connection failures.
        """
        blob = self.client.bucket(bucket).blob(name, generation=int(generation) if generation else None)
        return _RangeReader(self, blob, f"gs://{bucket}/{name}")

    def write(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str,
        *,
        if_absent: bool = False,
        if_generation_match: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> bool:
        """Upload an object. With ``if_absent`` (or a generation to match), False when the precondition
        fails instead of overwriting."""
        return (
            self.put(
                bucket,
                name,
                data,
                content_type,
                if_absent=if_absent,
                if_generation_match=if_generation_match,
                metadata=metadata,
            )
            is not None
        )

    def put(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str,
        *,
        if_absent: bool = False,
        if_generation_match: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> int | None:
        """Like ``write``, returning the new object's generation (None when the precondition failed)."""
        from google.api_core import exceptions as gexc

        from shared.errors import PermanentError

        if if_absent:
            if_generation_match = 0
        blob = self._blob(bucket, name)
        if metadata:
            blob.metadata = metadata

        def upload() -> None:
            blob.upload_from_string(
                data,
                content_type=content_type,
                if_generation_match=if_generation_match,
                retry=None,
                timeout=self.timeout_s,
            )

        try:
            self._call(f"write gs://{bucket}/{name}", upload)
        except gexc.PreconditionFailed:
            return None
        except gexc.NotFound as err:
            raise PermanentError(f"bucket {bucket} does not exist", code="not_found") from err
        except gexc.GoogleAPICallError as err:
            raise PermanentError(f"cannot write gs://{bucket}/{name}: {err}", code="storage_error") from err
        return int(blob.generation or 0)

    def exists(self, bucket: str, name: str) -> bool:
        blob = self._blob(bucket, name)
        return bool(
            self._call(f"stat gs://{bucket}/{name}", lambda: blob.exists(retry=None, timeout=self.timeout_s))
        )

    def delete(self, bucket: str, name: str, *, if_generation_match: int | None = None) -> bool:
        """Delete an object; False when it is already gone or the generation moved on."""
        from google.api_core import exceptions as gexc

        blob = self._blob(bucket, name)
        try:
            self._call(
                f"delete gs://{bucket}/{name}",
                lambda: blob.delete(
                    if_generation_match=if_generation_match, retry=None, timeout=self.timeout_s
                ),
            )
        except (gexc.NotFound, gexc.PreconditionFailed):
            return False
        return True

    def list(self, bucket: str, prefix: str = "") -> list[str]:
        """Names of the objects under a prefix."""
        return self._call(
            f"list gs://{bucket}/{prefix}",
            lambda: [
                b.name
                for b in self.client.list_blobs(bucket, prefix=prefix, retry=None, timeout=self.timeout_s)
            ],
        )

    def uri(self, bucket: str, name: str) -> str:
        return f"gs://{bucket}/{name}"


STREAM_CHUNK_BYTES = 8 * 1024 * 1024  # one ranged GET per 8 MiB of a streamed object


class _RangeReader:
    """``GcsStore.open_stream``'s reader: ranged GETs through the store's retry layer, one buffer held."""

    def __init__(self, store: GcsStore, blob: Any, uri: str) -> None:
        self._store, self._blob, self._uri = store, blob, uri
        self._buffer = b""
        self._position = 0  # of the next range to fetch
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        while not self._ended and (size < 0 or len(self._buffer) < size):
            self._buffer += self._fetch()
        if size < 0:
            size = len(self._buffer)
        block, self._buffer = self._buffer[:size], self._buffer[size:]
        return block

    def _fetch(self) -> bytes:
        from google.api_core import exceptions as gexc

        from shared.errors import PermanentError

        start, end = self._position, self._position + STREAM_CHUNK_BYTES - 1
        try:
            data = self._store._call(
                f"read {self._uri} bytes {start}-{end}",
                lambda: self._blob.download_as_bytes(
                    start=start, end=end, checksum=None, retry=None, timeout=self._store.timeout_s
                ),
            )
        except gexc.RequestRangeNotSatisfiable:  # at the end of the object (or an empty one)
            data = b""
        except gexc.NotFound as err:
            raise PermanentError(f"{self._uri} does not exist", code="not_found") from err
        except gexc.GoogleAPICallError as err:
            raise PermanentError(f"cannot read {self._uri}: {err}", code="storage_error") from err
        self._position += len(data)
        self._ended = len(data) < STREAM_CHUNK_BYTES
        return data

    def close(self) -> None:
        self._buffer, self._ended = b"", True

    def __enter__(self) -> _RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _classify(err: BaseException) -> str:
    """'transient' for errors worth retrying (429, 5xx, timeouts, connection failures), else 'other'."""
    from google.api_core import exceptions as gexc

    if isinstance(
        err, (gexc.TooManyRequests, gexc.ServerError, gexc.ServiceUnavailable, gexc.DeadlineExceeded)
    ):
        return "transient"
    if isinstance(err, (ConnectionError, TimeoutError)):
        return "transient"
    try:
        import requests
        from google.auth import exceptions as auth_exc

        if isinstance(err, (requests.ConnectionError, requests.Timeout, auth_exc.TransportError)):
            return "transient"
    except ImportError:  # pragma: no cover - both ship with google-cloud-storage
        pass
    return "other"
