"""Safe, unique names derived from user-controlled object names."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from shared.messages import Source

_SUFFIXES = (".csv.gz", ".tsv.gz", ".txt.gz", ".csv", ".tsv", ".txt", ".gz")


def run_id(source: Source) -> str:
    """Deterministic id of a run: the same bucket/name#generation always gets the same id."""
    return hashlib.sha256(source.key.encode()).hexdigest()[:16]


def dataset_slug(object_name: str) -> str:
    """A path-safe slug for the dataset an object belongs to.

    Readable part from the file's base name (ASCII letters, digits, '-'), plus a short hash of the full
    name whenever the slug is not the name itself, so different names never collide and no slug can
    contain '/', '..' or control characters.
    """
    base = object_name.rsplit("/", 1)[-1]
    lower = base.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix):
            base = base[: -len(suffix)]
            break
    ascii_ = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    readable = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60] or "dataset"
    if readable == object_name:
        return readable
    digest = hashlib.sha256(object_name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}"


def chart_name(index: int, title: str | None) -> str:
    """charts/NN-<slug>.png for the index-th chart of a run (1-based)."""
    slug = re.sub(r"[^a-z0-9]+", "-", (title or "chart").lower()).strip("-")[:50] or "chart"
    return f"charts/{index:02d}-{slug}.png"
