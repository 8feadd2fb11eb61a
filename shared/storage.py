"""Object storage behind one small interface: Google Cloud Storage, or a local folder.

Only this module imports google-cloud-storage (lazily, so the local path never pays for it).

CONTRACT: ObjectStore and LocalStore are final; GcsStore is pending (event-driven issue).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


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
