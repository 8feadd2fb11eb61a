"""Structured logging in Cloud Logging's JSON shape, and the one line that ends every run.

Cloud Run / Cloud Functions parse each stdout/stderr line that is a JSON object: ``severity`` and
``message`` become the entry's severity and text, ``logging.googleapis.com/labels`` its labels, and the
other keys land under ``jsonPayload`` (where the Terraform log-based metrics read ``event``,
``outcome`` and ``error_code``). Never log file contents or prompts: sizes and hashes only.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_LABELS_KEY = "logging.googleapis.com/labels"
# logging.LogRecord attributes that are not "extra" fields.
_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}

OUTCOMES = ("succeeded", "failed", "duplicate", "skipped", "retry")


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record: severity, message, time, logger, labels, and any ``extra`` keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(level: str | int = "INFO", stream: Any = None) -> None:
    """Route the root logger to one JSON line per record (idempotent: safe to call per instance)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_csv_insights", False):
            break
    else:
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(CloudLoggingFormatter())
        handler._csv_insights = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # The SDKs' own debug chatter would drown the run lines.
    for noisy in ("urllib3", "google.auth", "google.api_core", "grpc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def log_run_finished(
    logger: logging.Logger,
    *,
    function: str,
    outcome: str,
    latency_s: float,
    run_id: str = "",
    dataset: str = "",
    error_code: str | None = None,
    analyst: str | None = None,
    tokens: int = 0,
    rows: int | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Emit the run-finished line (exactly one per handled event) and return its fields."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    fields: dict[str, Any] = {
        "event": "run_finished",
        "function": function,
        "outcome": outcome,
        "error_code": error_code,
        "latency_s": round(latency_s, 3),
        "analyst": analyst,
        "tokens": int(tokens),
        "rows": rows,
        "run_id": run_id,
        "dataset": dataset,
        _LABELS_KEY: {"function": function, "run_id": run_id, **(labels or {})},
    }
    level = logging.ERROR if outcome in ("failed", "retry") else logging.INFO
    logger.log(level, "run finished", extra=fields)
    return fields
