"""Turning a CSV's bytes into text: BOMs, UTF-8, the cp1252/Latin-1 fallback, and refusing binaries."""

from __future__ import annotations

import codecs
import re

from shared.errors import InvalidCsvError

# Signatures of files people drop by mistake; named so the message can say what the file looks like.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls)"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ", "xz-compressed data"),
)
_BAD_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode(data: bytes) -> tuple[str, str]:
    """(text, python codec name). Raises InvalidCsvError binary_data / undecodable."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", "it starts with a UTF-8 byte order mark"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16", "it starts with a UTF-16 byte order mark")
        _refuse_control_heavy(text)
        return text, "utf-16"
    if codec := _bomless_utf16(data):
        text = _strict(
            data, codec, "its bytes alternate with zero bytes like UTF-16 text without a byte order mark"
        )
        _refuse_control_heavy(text)
        return text, codec
    _refuse_binary(data)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Latin-1 text decodes identically as cp1252 (they differ only in 0x80-0x9F, where Latin-1 has
    # control codes no real text uses), so cp1252 is the one fallback. Its five undefined bytes
    # mean the file is neither.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as err:
        raise InvalidCsvError(
            f"file is not UTF-8, cp1252 or Latin-1 text: byte 0x{data[err.start]:02x} at offset {err.start} "
            "is not a character in any of them",
            code="undecodable",
        ) from None


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when ASCII-range text has a zero byte beside every character."""
    head = data[:4096]
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) == len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) == len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _strict(data: bytes, codec: str, why: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        raise InvalidCsvError(
            f"file cannot be decoded as {codec.replace('-sig', '')} although {why}: "
            f"invalid bytes at offset {err.start}",
            code="undecodable",
        ) from None


def _refuse_binary(data: bytes) -> None:
    head = data[:8192]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise InvalidCsvError(f"file is {what}, not CSV text", code="binary_data")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InvalidCsvError(
            f"file contains binary data (a NUL byte at offset {nul}), not CSV text",
            code="binary_data",
        )
    _refuse_control_heavy(head.decode("latin-1"))


def _refuse_control_heavy(text: str) -> None:
    sample = text[:8192]
    if not sample:
        return
    controls = len(_BAD_CONTROLS.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 100):
        raise InvalidCsvError(
            f"file contains binary data ({controls} control bytes in its first {len(sample)} characters), "
            "not CSV text",
            code="binary_data",
        )
