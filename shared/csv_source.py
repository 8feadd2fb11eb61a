"""Getting a CSV object's bytes into memory without spending more than the limits allow.

The raw size is checked before reading (a path is stat-ed, bytes are measured), and gzip is
decompressed in bounded chunks so a small bomb fails as soon as its output passes the cap, long
before the whole expansion would be allocated.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

from shared.errors import InvalidCsvError, LimitExceededError

MiB = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 1 * MiB
_INFLATE_CHUNK = 1 * MiB


@dataclass(frozen=True)
class RawObject:
    data: bytes  # decompressed content
    raw_bytes: int  # size of the object as stored
    sha256: str  # of the object as stored
    compression: str | None

    def without_data(self) -> RawObject:
        return replace(self, data=b"")


def human_bytes(n: int) -> str:
    """Sizes in the unit a person reads at a glance: '612.0 MiB', '12.3 KiB', '17 bytes'."""
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"


def limit_text(n: int) -> str:
    """A limit as configured, without a needless decimal: '512 MiB', '1.5 MiB', '100 bytes'."""
    if n >= MiB:
        value = n / MiB
        return f"{value:g} MiB"
    if n >= 1024:
        return f"{n / 1024:g} KiB"
    return f"{n} bytes"


def load(source: bytes | Path, name: str, max_bytes: int, max_decompressed_bytes: int) -> RawObject:
    """The object's (decompressed) bytes, its stored size and hash.

    Gzip is recognised by a ``.gz`` suffix or by its magic number (some uploaders compress without
    renaming); a ``.gz`` name whose content is not gzip is an error rather than a guess.
    """
    raw = _read_capped(source, max_bytes)
    sha = hashlib.sha256(raw).hexdigest()
    is_gz_name = name.lower().endswith(".gz")
    if raw.startswith(GZIP_MAGIC):
        data = inflate_capped(raw, max_decompressed_bytes)
        return RawObject(data, len(raw), sha, "gzip")
    if is_gz_name and raw:
        raise InvalidCsvError(
            f"{name!s} ends in .gz but is not gzip data (it does not start with the gzip signature 1f 8b)",
            code="bad_gzip",
        )
    return RawObject(raw, len(raw), sha, None)


def _read_capped(source: bytes | Path, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), max_bytes)
        return data
    path = Path(source)
    _check_size(path.stat().st_size, max_bytes)
    chunks: list[bytes] = []
    total = 0
    with path.open("rb") as fh:
        # The file may grow between stat and read; the cap holds anyway.
        while chunk := fh.read(_READ_CHUNK):
            total += len(chunk)
            _check_size(total, max_bytes)
            chunks.append(chunk)
    return b"".join(chunks)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise LimitExceededError(
            f"file is {human_bytes(size)}, over the {limit_text(max_bytes)} limit (MAX_FILE_BYTES)",
            code="too_large",
        )


def inflate_capped(data: bytes, cap: int) -> bytes:
    """Decompress gzip (all members) producing at most ``cap`` bytes, else raise decompressed_too_large.

    Output is requested in chunks of at most 1 MiB, so memory stays near ``cap`` + one chunk
    whatever the compression ratio.
    """
    out: list[bytes] = []
    total = 0
    pending = data
    while pending:
        inflater = zlib.decompressobj(wbits=31)  # 31 = gzip header and trailer
        buf = pending
        try:
            while True:
                want = min(_INFLATE_CHUNK, cap - total + 1)
                piece = inflater.decompress(buf, want)
                buf = inflater.unconsumed_tail
                if piece:
                    total += len(piece)
                    if total > cap:
                        raise LimitExceededError(
                            f"gzip file expands to more than {limit_text(cap)} "
                            f"(MAX_DECOMPRESSED_BYTES); stopped after reading {human_bytes(total)}",
                            code="decompressed_too_large",
                        )
                    out.append(piece)
                if inflater.eof:
                    break
                if not buf and not piece:
                    raise InvalidCsvError(
                        "gzip file is truncated (the compressed stream ends before its trailer)",
                        code="bad_gzip",
                    )
        except zlib.error as err:
            raise InvalidCsvError(f"gzip file is corrupt: {err}", code="bad_gzip") from err
        pending = inflater.unused_data
        # Padding after the last member (some tools write zeros) is not another member.
        if pending and not pending.startswith(GZIP_MAGIC):
            break
    return b"".join(out)
