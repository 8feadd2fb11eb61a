"""The result and alert messages (DESIGN.md contracts), schema version 1.

Our own messages are strict: ``from_json`` rejects a different schema version or missing fields, so a
subscriber never half-reads a message. Images travel as object URIs, never inline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.analysts.base import Analysis, Outcome, Part, PartKind, Step, Usage
from shared.errors import PipelineError

SCHEMA_VERSION = 1
SEVERITIES = ("none", "info", "warning", "critical")


@dataclass(frozen=True)
class Source:
    bucket: str
    name: str
    generation: str
    size: int
    content_type: str | None = None
    md5_hash: str | None = None
    sha256: str | None = None

    @property
    def key(self) -> str:
        """Identity of a run: one report per bucket/name#generation."""
        return f"{self.bucket}/{self.name}#{self.generation}"

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.name}"


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    permanent: bool

    @classmethod
    def from_exception(cls, err: PipelineError) -> ErrorInfo:
        return cls(code=err.code, message=err.message, permanent=err.permanent)


@dataclass
class ResultMessage:
    run_id: str
    source: Source
    status: str  # "succeeded" | "failed"
    dataset: dict[str, Any]  # name, rows, columns, column_types
    artifacts_prefix: str
    profile: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    analyst: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: int = SCHEMA_VERSION

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def severity(self) -> str:
        levels = [a.get("severity", "info") for a in self.alerts]
        return max(levels, key=SEVERITIES.index, default="none")

    def attributes(self) -> dict[str, str]:
        """Pub/Sub attributes, for subscription filters."""
        return {
            "schema_version": str(self.schema_version),
            "run_id": self.run_id,
            "status": self.status,
            "dataset": self.dataset.get("name", ""),
            "severity": self.severity,
            "analyst": (self.analyst or {}).get("kind", "none"),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultMessage:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {data.get('schema_version')!r}")
        data = dict(data)
        data["source"] = Source(**data["source"])
        if data.get("error"):
            data["error"] = ErrorInfo(**data["error"])
        return cls(**data)

    @classmethod
    def from_json(cls, raw: bytes | str) -> ResultMessage:
        return cls.from_dict(json.loads(raw))


def step_to_dict(step: Step) -> dict[str, Any]:
    """A step for the message: images become their stored URI and title (never bytes)."""
    parts: list[dict[str, Any]] = []
    for p in step.parts:
        if p.kind is PartKind.TEXT:
            parts.append({"kind": "text", "text": p.text})
        elif p.kind is PartKind.CODE:
            parts.append({"kind": "code", "code": p.code})
        elif p.kind is PartKind.RESULT:
            parts.append({"kind": "result", "outcome": str(p.outcome), "output": p.output})
        else:
            parts.append({"kind": "image", "uri": p.uri, "title": p.title})
    return {"name": step.name, "title": step.title, "parts": parts}


def step_from_dict(data: dict[str, Any]) -> Step:
    parts = []
    for p in data["parts"]:
        kind = PartKind(p["kind"])
        parts.append(
            Part(
                kind,
                text=p.get("text"),
                code=p.get("code"),
                outcome=Outcome(p["outcome"]) if p.get("outcome") else None,
                output=p.get("output"),
                title=p.get("title"),
                uri=p.get("uri"),
            )
        )
    return Step(name=data["name"], title=data["title"], parts=parts)


def analyst_to_dict(analysis: Analysis) -> dict[str, Any]:
    return {"kind": analysis.analyst, "model": analysis.model, "usage": asdict(analysis.usage)}


def usage_from_dict(data: dict[str, Any]) -> Usage:
    return Usage(**data)


@dataclass
class AlertMessage:
    rule: str
    severity: str  # info | warning | critical
    dataset: str
    run_id: str
    message: str
    metric: str | None = None
    value: Any = None
    threshold: Any = None
    offenders: list[Any] = field(default_factory=list)
    report_uri: str | None = None
    repeat: bool = False
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: int = SCHEMA_VERSION

    def attributes(self) -> dict[str, str]:
        return {
            "schema_version": str(self.schema_version),
            "severity": self.severity,
            "rule": self.rule,
            "dataset": self.dataset,
            "run_id": self.run_id,
            "repeat": "true" if self.repeat else "false",
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, separators=(",", ":")).encode()
