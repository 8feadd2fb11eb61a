"""Per-event orchestration behind the two Cloud Function entry points.

``analyze_event``: parse → skip non-data objects → event-age guard → dedupe (run ledger) → read the
object (its exact generation) and its questions → run_analysis → publish_result → mark published.
``report_event``: parse the result message → write_report (idempotent).

Both return an ``Outcome`` and never raise for a known situation: the entry point maps
``outcome.retry`` to an exception (HTTP 500, so Eventarc / Pub/Sub redeliver) and everything else to
a normal return (HTTP 200, acknowledged). Each call logs exactly one run-finished line.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from shared.errors import PermanentError, PipelineError, TransientError
from shared.events import (
    PROMPT_METADATA_KEY,
    MalformedEventError,
    parse_pubsub_event,
    parse_storage_event,
    result_message,
    skip_reason,
)
from shared.logs import log_run_finished
from shared.messages import ErrorInfo, ResultMessage
from shared.naming import dataset_slug, run_id
from shared.pipeline import Services, failed_message, publish_result, run_analysis, write_report
from shared.runs import RunLedger
from shared.settings import Settings
from shared.stream_feed import ObjectStream

logger = logging.getLogger(__name__)

# Questions are a paragraph or two; a larger sidecar is a mistake, not a prompt.
MAX_QUESTIONS_BYTES = 20_000


@dataclass(frozen=True)
class Outcome:
    """How one event ended (the fields of the run-finished line)."""

    outcome: str  # succeeded | failed | duplicate | skipped | retry
    error_code: str | None = None
    run_id: str = ""
    dataset: str = ""
    detail: str = ""

    @property
    def retry(self) -> bool:
        return self.outcome == "retry"


class RetryRequested(Exception):
    """Raised by an entry point so the platform answers HTTP 500 and redelivers the event."""


@functools.cache
def cloud_services() -> Services:
    """Settings, GCS store and Pub/Sub publisher, created once per function instance."""
    from shared.pubsub import PubSubPublisher
    from shared.storage import GcsStore

    settings = Settings.from_env()
    return Services(
        settings=settings, store=GcsStore(settings.project), publisher=PubSubPublisher(settings.project)
    )


def ledger_for(services: Services) -> RunLedger:
    settings = services.settings
    return RunLedger(
        services.store,
        settings.reports_bucket,
        settings.reports_prefix,  # type: ignore[arg-type]
        lease_s=settings.run_lease_s,
    )


def analyze_event(cloud_event: Any, services: Services) -> Outcome:
    """Handle one ``storage.object.v1.finalized`` event (see the module docstring)."""
    started = time.perf_counter()
    outcome, message = _analyze(cloud_event, services)
    _log_finished("analyze", outcome, message, started)
    return outcome


def _log_finished(function: str, outcome: Outcome, message: ResultMessage | None, started: float) -> None:
    """The one run_finished line every event ends with (the log-based metrics count it)."""
    analyst = (message.analyst or {}) if message else {}
    log_run_finished(
        logger,
        function=function,
        outcome=outcome.outcome,
        error_code=outcome.error_code,
        latency_s=time.perf_counter() - started,
        run_id=outcome.run_id,
        dataset=outcome.dataset,
        analyst=analyst.get("kind"),
        tokens=int((analyst.get("usage") or {}).get("total_tokens") or 0),
        rows=message.dataset.get("rows") if message else None,
        labels={"detail": outcome.detail[:200]} if outcome.detail else None,
    )


def _analyze(cloud_event: Any, services: Services) -> tuple[Outcome, Any]:
    settings = services.settings
    try:
        context, obj = parse_storage_event(cloud_event)
    except MalformedEventError as err:
        return Outcome("failed", err.code, detail=str(err)), None
    source = obj.source
    rid, slug = run_id(source), dataset_slug(source.name)
    reason = skip_reason(obj, settings.suffixes, settings.reports_bucket)
    if reason:
        logger.info(
            "object skipped", extra={"object": source.uri, "generation": source.generation, "reason": reason}
        )
        return Outcome("skipped", None, rid, slug, reason), None
    age = context.age_s()
    ledger = ledger_for(services)
    if age is not None and age > settings.event_max_age_s:
        # Redelivered for longer than anyone waits: stop the retries, but the file still gets its one
        # (failure) report unless a run already published one (the run-finished line is ERROR).
        return _give_up(source, rid, slug, age, ledger, services)

    try:
        if ledger.is_published(rid):
            return Outcome("duplicate", None, rid, slug), None
        claim = ledger.claim(rid, source.key)
    except PipelineError as err:
        return Outcome("retry", err.code, rid, slug, str(err)), None
    if claim is None:
        return Outcome("retry", "run_in_progress", rid, slug, "another delivery holds the run"), None
    try:
        if claim.took_over and ledger.is_published(rid):
            return Outcome("duplicate", None, rid, slug), None
        questions = _questions(obj, services)
        message = run_analysis(source, functools.partial(_load, services, source), services, questions=questions)
        publish_result(message, services)
        ledger.complete(claim, message.run_id)
    except TransientError as err:
        ledger.release(claim, source.key)
        return Outcome("retry", err.code, rid, slug, str(err)), None
    except Exception as err:
        logger.exception("unexpected error", extra={"run_id": rid})
        ledger.release(claim, source.key)
        return Outcome("retry", "internal_error", rid, slug, type(err).__name__), None
    error = message.error.code if message.error else None
    return Outcome(message.status, error, rid, slug), message


def _give_up(
    source: Any, rid: str, slug: str, age: float, ledger: RunLedger, services: Services
) -> tuple[Outcome, Any]:
    """The retry budget is spent: publish a failed result message once, then acknowledge for good."""
    detail = f"event is {age:.0f} s old"
    message = None
    try:
        if ledger.is_published(rid):
            return Outcome("duplicate", None, rid, slug), None
        claim = ledger.claim(rid, source.key)
        if claim is None:  # a live delivery holds the run; it will publish
            return Outcome("failed", "event_too_old", rid, slug, detail), None
        if claim.took_over and ledger.is_published(rid):
            return Outcome("duplicate", None, rid, slug), None
        message = failed_message(
            source,
            services,
            ErrorInfo(
                code="retries_exhausted",
                message=(
                    f"the file could not be analysed: it was retried for {age / 3600:.1f} h without "
                    "success (transient failures of storage, Pub/Sub or the analyst; see the function "
                    "logs) and the retries stopped at EVENT_MAX_AGE_S"
                ),
                permanent=True,
            ),
        )
        publish_result(message, services)
        ledger.complete(claim, rid)
    except PipelineError as err:
        logger.error("no failure report for an expired event", extra={"run_id": rid, "error_code": err.code})
        return Outcome("failed", "event_too_old", rid, slug, f"{detail}; {err.code}"), None
    return Outcome("failed", "event_too_old", rid, slug, detail), message


def _load(services: Services, source: Any) -> bytes | ObjectStream:
    """The object at the event's generation: bytes, or above LARGE_FILE_BYTES a stream.

    A large object is never held whole, in memory or on disk (on Cloud Functions /tmp is memory):
    DuckDB reads it as a stream, once per pass, through a named pipe (shared.large_file), so an
    object larger than the instance's memory can be profiled.
    """
    store = services.store
    if source.size > services.settings.large_file_bytes and hasattr(store, "open_stream"):
        logger.info("large object read as a stream", extra={"object": source.uri, "bytes": source.size})
        return ObjectStream(
            functools.partial(store.open_stream, source.bucket, source.name, generation=source.generation),
            source.size,
        )
    return _read_generation(store, source)


def _read_generation(store: Any, source: Any) -> bytes:
    """The object's bytes at the event's generation (an overwrite must not change this run's data)."""
    if hasattr(store, "read_versioned"):
        found = store.read_versioned(
            source.bucket, source.name, generation=source.generation, missing_ok=False
        )
        return found[0]
    return store.read(source.bucket, source.name)


def _questions(obj: Any, services: Services) -> str | None:
    """Per-file questions: object metadata ``analysis-prompt``, else a ``<name>.prompt.md`` sidecar."""
    if obj.metadata.get(PROMPT_METADATA_KEY):
        return obj.metadata[PROMPT_METADATA_KEY][:MAX_QUESTIONS_BYTES]
    store = services.store
    try:
        if hasattr(store, "read_versioned"):
            found = store.read_versioned(obj.bucket, obj.prompt_sidecar_name)
            raw = found[0] if found else None
        else:
            raw = store.read(obj.bucket, obj.prompt_sidecar_name)
    except PermanentError:
        return None
    if not raw:
        return None
    return raw[:MAX_QUESTIONS_BYTES].decode("utf-8", errors="replace").strip() or None


def report_event(cloud_event: Any, services: Services) -> Outcome:
    """Handle one ``pubsub.topic.v1.messagePublished`` event carrying a result message.

    An unreadable message is acknowledged (retrying the same bytes cannot help). Any failure to
    write is retried, and after the subscription's maximum attempts Pub/Sub moves the message to the
    dead-letter topic, where it stays for inspection and replay.
    """
    started = time.perf_counter()
    message = None
    try:
        _, pubsub_message = parse_pubsub_event(cloud_event)
        message = result_message(pubsub_message)
        paths = write_report(message, services)
        outcome = Outcome(
            "succeeded" if paths.written else "duplicate",
            None,
            message.run_id,
            message.dataset.get("name", ""),
            paths.report,
        )
    except MalformedEventError as err:
        outcome = Outcome("failed", err.code, detail=str(err))
    except Exception as err:
        logger.exception("report not written", extra={"run_id": message.run_id if message else ""})
        code = err.code if isinstance(err, PipelineError) else "internal_error"
        outcome = Outcome(
            "retry",
            code,
            message.run_id if message else "",
            message.dataset.get("name", "") if message else "",
            str(err)[:200],
        )
    _log_finished("report", outcome, message, started)
    return outcome


def instance_setup(*, warm_sandbox: bool = False) -> None:
    """Logging for a function instance (JSON lines on stdout, which Cloud Logging parses).

    With ``warm_sandbox`` (the analyze function), the local analyst's sandbox fork server starts in the
    background once the serving process exists, so the first run does not pay its ~1-2 s start.
    functions-framework imports the entry module in gunicorn's master process and serves from a
    forked worker: the fork server must be the worker's (one started in the master would be a second,
    idle copy holding memory, and a lock held across the fork would hang the worker), so the warm-up
    is started by an at-fork hook in the worker. Without a fork (an in-process app) nothing is warmed
    and the first run starts the fork server itself, as before. Only the first fork after set-up
    counts (gunicorn forks its worker first); later forks of the process (a subprocess with a
    ``preexec_fn`` runs at-fork hooks too) start nothing.
    """
    from shared.logs import setup_logging

    setup_logging(os.environ.get("LOG_LEVEL", "INFO"))
    if warm_sandbox:
        _warm_up_state.update(parent=os.getpid(), armed=True)
        os.register_at_fork(after_in_parent=_disarm_warm_up, after_in_child=_warm_up_in_worker)


# Process state for the at-fork hooks: copied into each child at its fork.
_warm_up_state: dict[str, Any] = {"parent": None, "armed": False}


def _disarm_warm_up() -> None:
    _warm_up_state["armed"] = False


def _warm_up_in_worker() -> None:
    """At-fork hook: in the set-up process's first child (gunicorn's worker), warm up once."""
    if not _warm_up_state["armed"] or os.getppid() != _warm_up_state["parent"]:
        return
    _warm_up_state["armed"] = False  # the worker's own children do nothing
    import threading

    threading.Thread(target=_warm_up_sandbox, name="sandbox-warm-up", daemon=True).start()


def _warm_up_sandbox() -> None:
    """Start the sandbox fork server when the local analyst will run (a background thread: the daemon
    flag lets the process exit at once; the fork server exits when its socket closes)."""
    try:
        from shared.analysts.select import analyst_kind

        kind = analyst_kind(Settings.from_env())
        if kind != "local":
            logger.info("sandbox not warmed up", extra={"analyst": kind})
            return
        from shared.sandbox import warm_up

        started = time.perf_counter()
        warm_up()
        logger.info("sandbox warmed up", extra={"warm_up_s": round(time.perf_counter() - started, 3)})
    except Exception as err:  # noqa: BLE001 - an optimisation only: the first run starts the server itself
        logger.warning("sandbox warm-up failed", extra={"error": f"{type(err).__name__}: {err}"[:200]})
