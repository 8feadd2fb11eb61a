"""Settings read from the environment, one field per variable.

Terraform sets exactly these variables on both functions (a test checks the two lists agree), and the
local launcher sets them for the emulators. The Gemini SDK's own variables (GEMINI_API_KEY,
GOOGLE_GENAI_USE_VERTEXAI, ...) are read by the Gemini analyst, not here, so a user's existing setup
works unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from shared.errors import ConfigurationError

MiB = 1024 * 1024


def _env(name: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": name, "doc": doc})


@dataclass(frozen=True)
class Settings:
    project: str = _env("GOOGLE_CLOUD_PROJECT", "local-project", "Project of the buckets and topics.")
    input_bucket: str = _env("INPUT_BUCKET", "csv-insights-input", "Bucket users drop CSV files into.")
    reports_bucket: str = _env("REPORTS_BUCKET", "csv-insights-reports", "Bucket reports are written to.")
    reports_prefix: str = _env("REPORTS_PREFIX", "reports/", "Object-name prefix of every report.")
    results_topic: str = _env("RESULTS_TOPIC", "csv-insights-results", "Topic of result messages.")
    alerts_topic: str = _env("ALERTS_TOPIC", "csv-insights-alerts", "Topic of alert messages.")
    analyst: str = _env("ANALYST", "auto", "auto (Gemini when configured, else local), local or gemini.")
    gemini_model: str = _env("GEMINI_MODEL", "gemini-3.8-flash", "Gemini model name.")
    gemini_request_timeout_s: float = _env("GEMINI_REQUEST_TIMEOUT_S", 120.0, "Timeout of one Gemini request.")
    analysis_deadline_s: float = _env("ANALYSIS_DEADLINE_S", 420.0, "Budget of the whole analysis of one file.")
    prompt_budget_bytes: int = _env("PROMPT_BUDGET_BYTES", 200_000, "Files above this go to Gemini as profile + sample.")
    max_file_bytes: int = _env("MAX_FILE_BYTES", 1024 * MiB, "Largest object accepted, in bytes.")
    large_file_bytes: int = _env(
        "LARGE_FILE_BYTES", 64 * MiB, "Files above this are profiled by DuckDB in bounded memory; the analyst gets a sample."
    )
    max_decompressed_bytes: int = _env("MAX_DECOMPRESSED_BYTES", 2048 * MiB, "Largest decompressed size of a .gz file.")
    max_columns: int = _env("MAX_COLUMNS", 500, "Most columns a file may have.")
    max_cell_chars: int = _env("MAX_CELL_CHARS", 100_000, "Longest cell accepted, in characters.")
    sandbox_cell_timeout_s: float = _env("SANDBOX_CELL_TIMEOUT_S", 30.0, "Wall-time limit of one local code cell.")
    sandbox_memory_mb: int = _env("SANDBOX_MEMORY_MB", 1024, "Address-space limit of the local code sandbox.")
    data_suffixes: str = _env("DATA_SUFFIXES", ".csv,.tsv,.txt,.csv.gz,.tsv.gz", "Object suffixes analysed.")
    event_max_age_s: float = _env("EVENT_MAX_AGE_S", 21600.0, "Events older than this are dropped, not retried.")
    run_lease_s: float = _env("RUN_LEASE_S", 600.0, "A run claim older than this is taken over (must exceed the function timeout).")
    alert_rules: str = _env("ALERT_RULES", "", "Alert rules file: local path or gs:// URI (empty: built-in).")
    alert_repeat_window_s: float = _env("ALERT_REPEAT_WINDOW_S", 86400.0, "Window in which an alert is a repeat.")
    log_level: str = _env("LOG_LEVEL", "INFO", "Python logging level.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _parse(raw, type(f.default))
            except ValueError as err:
                raise ConfigurationError(
                    f"{f.metadata['env']}={raw!r} is not a valid {type(f.default).__name__}"
                ) from err
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.analyst not in {"auto", "local", "gemini"}:
            raise ConfigurationError(f"ANALYST must be auto, local or gemini, not {self.analyst!r}")
        if self.input_bucket == self.reports_bucket:
            raise ConfigurationError("INPUT_BUCKET and REPORTS_BUCKET must differ (a report would trigger a new run)")
        for name in ("max_file_bytes", "large_file_bytes", "max_decompressed_bytes", "max_columns", "max_cell_chars"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name.upper()} must be positive")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def suffixes(self) -> tuple[str, ...]:
        return tuple(s.strip().lower() for s in self.data_suffixes.split(",") if s.strip())


def env_names() -> list[str]:
    """The environment variables Settings reads (Terraform must set exactly these)."""
    return [f.metadata["env"] for f in fields(Settings)]


def _parse(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)
