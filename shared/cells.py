"""The executed code cells of an analysis, numbered in run order, for the report appendix and notebook.

A step's parts arrive as Gemini sends them: text, code, its result, images. A cell is one code part
with the first result that follows it and the images produced before the next code part, so the
report's "cell 3" is the notebook's ``In [3]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cell:
    number: int  # 1-based, across all steps
    step: str  # step title
    code: str
    outcome: str | None = None  # ok | failed | deadline_exceeded; None when no result was recorded
    output: str = ""
    images: list[dict[str, Any]] = field(default_factory=list)  # image parts (uri, title)

    @property
    def failed(self) -> bool:
        return self.outcome not in (None, "ok")


def cells_of(steps: list[dict[str, Any]]) -> list[Cell]:
    """Every code cell of every step, in order, with its result and images."""
    cells: list[Cell] = []
    for step in steps:
        current: Cell | None = None
        for part in step.get("parts", []):
            kind = part.get("kind")
            if kind == "code":
                current = Cell(
                    len(cells) + 1, step.get("title") or step.get("name") or "", part.get("code") or ""
                )
                cells.append(current)
            elif kind == "result" and current is not None and current.outcome is None:
                current.outcome = part.get("outcome") or "ok"
                current.output = part.get("output") or ""
            elif kind == "image" and current is not None:
                current.images.append(part)
    return cells


def read_aggregates(cells: list[Cell]) -> bool:
    """True when the cells read a large file's aggregates of every row (``aggregates.json``, which
    ``shared.aggregates`` writes into the sandbox) instead of the table itself."""
    return any('open("aggregates.json"' in cell.code for cell in cells)
