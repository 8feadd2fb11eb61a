"""Finds text in a table that reads like instructions to an AI model (prompt injection).

The pipeline never acts on it: cell values reach the analyst as data only (the Gemini system
instruction says the file is untrusted; the local analyst never reads text as instructions). This
detector exists so the report can *say* the file contained such text, which a reader should know.

Conservative on purpose: a handful of phrases that are rare in real data ("ignore previous
instructions", "you are now", "system prompt", role markers such as ``<|im_start|>`` or a line
starting with ``system:``). Bounded work on big files: the headers plus the first ``max_rows`` rows of
text columns, and only the first ``max_chars`` characters of each cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the analyze entry module imports this; pandas loads only when a table is scanned
    import pandas as pd

_PATTERNS = [
    (r"\b(?:ignore|disregard|forget|override)\b[\s\w,'-]{0,40}?\b(?:previous|prior|above|earlier|all|any|your)\b"
    r"[\s\w,'-]{0,30}?\b(?:instructions?|prompts?|rules|directions|guidelines|context)\b"),
    r"\byou\s+are\s+now\b",
    r"\b(?:system|developer)\s+(?:prompt|message|instructions?)\b",
    r"\bnew\s+instructions?\s*:",
    r"\bact\s+as\s+(?:an?\s+)?(?:ai|assistant|admin|administrator|developer|system)\b",
    r"\bdo\s+not\s+(?:tell|inform|mention\s+(?:this\s+)?to)\s+the\s+user\b",
    r"\bjailbreak\b",
    r"<\|?\s*(?:im_start|im_end|system|assistant|endoftext)\s*\|?>",
    r"\[/?(?:INST|SYS)\]",
    r"<<\s*SYS\s*>>",
    r"(?:^|\n)\s*#{0,3}\s*(?:system|assistant)\s*:",
]
_INSTRUCTION_LIKE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    column: str
    row: int | None  # 1-based data row; None for the header itself
    phrase: str  # the matched text, shortened (never the whole cell)


@dataclass(frozen=True)
class InjectionScan:
    findings: tuple[Finding, ...]
    cells: int  # how many cells (and headers) matched
    rows_scanned: int

    @property
    def found(self) -> bool:
        return self.cells > 0

    def warning(self) -> str | None:
        """The report's warning line, or None when nothing was found."""
        if not self.findings:
            return None
        first = self.findings[0]
        where = (
            f"column {first.column!r} header"
            if first.row is None
            else f"column {first.column!r} row {first.row}"
        )
        scope = "" if self.rows_scanned == 0 else f" in the first {self.rows_scanned:,} rows"
        return (
            f"the file contains text that looks like instructions to an AI model ({self.cells} cell(s){scope}, "
            f"e.g. {where}); it was passed to the analyst as data only"
        )


def looks_like_instructions(text: str, max_chars: int = 2000) -> str | None:
    """The instruction-like phrase in ``text`` (shortened), or None."""
    match = _INSTRUCTION_LIKE.search(text[:max_chars])
    if match is None:
        return None
    return " ".join(match.group(0).split())[:80]


def scan_table(
    frame: pd.DataFrame,
    headers: Iterable[str] | None = None,
    *,
    max_rows: int = 5000,
    max_chars: int = 2000,
    keep: int = 5,
) -> InjectionScan:
    """Scan the headers and the first ``max_rows`` rows of the text columns of ``frame``."""
    import pandas as pd

    findings: list[Finding] = []
    cells = 0
    names: Sequence[str] = list(headers) if headers is not None else [str(c) for c in frame.columns]
    for name in names:
        phrase = looks_like_instructions(str(name), max_chars)
        if phrase:
            cells += 1
            if len(findings) < keep:
                findings.append(Finding(str(name), None, phrase))
    head = frame.head(max_rows)
    for column in head.columns:
        series = head[column]
        if not (isinstance(series.dtype, pd.StringDtype) or series.dtype == object):
            continue
        for position, value in enumerate(series.tolist(), start=1):
            if not isinstance(value, str) or len(value) < 8:
                continue
            phrase = looks_like_instructions(value, max_chars)
            if phrase:
                cells += 1
                if len(findings) < keep:
                    findings.append(Finding(str(column), position, phrase))
    return InjectionScan(tuple(findings), cells, len(head))
