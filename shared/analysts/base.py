"""The analyst interface: what every analyst (Gemini or local) takes and returns.

An analysis is an ordered list of steps (statistics, charts, insights, questions), each an ordered list
of parts, mirroring the parts of a Gemini response with code execution: text, the code that ran, its
result (outcome + output), and images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shared.aggregates import Aggregates
    from shared.csv_reader import Table
    from shared.profile import Profile


class PartKind(StrEnum):
    TEXT = "text"
    CODE = "code"
    RESULT = "result"
    IMAGE = "image"


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    DEADLINE_EXCEEDED = "deadline_exceeded"


@dataclass
class Part:
    kind: PartKind
    text: str | None = None  # TEXT
    code: str | None = None  # CODE (Python)
    outcome: Outcome | None = None  # RESULT
    output: str | None = None  # RESULT: stdout/stderr of the code
    image: bytes | None = None  # IMAGE: PNG bytes
    title: str | None = None  # IMAGE: chart title, used to name the chart file
    uri: str | None = None  # IMAGE: where the PNG was stored, once it was

    @classmethod
    def of_text(cls, text: str) -> Part:
        return cls(PartKind.TEXT, text=text)

    @classmethod
    def of_code(cls, code: str) -> Part:
        return cls(PartKind.CODE, code=code)

    @classmethod
    def of_result(cls, outcome: Outcome, output: str) -> Part:
        return cls(PartKind.RESULT, outcome=outcome, output=output)

    @classmethod
    def of_image(cls, png: bytes, title: str | None = None) -> Part:
        return cls(PartKind.IMAGE, image=png, title=title)


@dataclass
class Step:
    name: str  # "statistics" | "charts" | "insights" | "questions"
    title: str
    parts: list[Part] = field(default_factory=list)

    def images(self) -> list[Part]:
        return [p for p in self.parts if p.kind is PartKind.IMAGE]


@dataclass
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    tool_use_prompt_tokens: int = 0
    thoughts_tokens: int = 0
    total_tokens: int = 0
    turns: int = 0
    code_cells: int = 0
    failed_cells: int = 0
    latency_s: float = 0.0
    turn_latencies_s: list[float] = field(default_factory=list)


@dataclass
class Analysis:
    analyst: str  # "local" | "gemini"
    model: str | None
    steps: list[Step]
    insights: list[str]
    usage: Usage
    succeeded: bool = True
    warnings: list[str] = field(default_factory=list)

    def parts(self) -> list[Part]:
        return [p for s in self.steps for p in s.parts]


@dataclass
class AnalysisRequest:
    """Everything an analyst may use. ``data_csv`` is the table as clean UTF-8 CSV (comma, ISO dates,
    plain numbers): the file the analyst's code reads as ``data.csv``."""

    dataset: str
    source_name: str
    table: Table
    profile: Profile
    data_csv: bytes
    questions: str | None = None
    sampled: bool = False  # data_csv is a representative sample, not every row
    aggregates: Aggregates | None = None  # a large file: exact aggregates of every row (shared.aggregates)


class Analyst(Protocol):
    kind: str

    def analyze(self, request: AnalysisRequest) -> Analysis:
        """Run the analysis; raise PermanentError / TransientError on failure."""
        ...
