"""Orchestration shared by the Cloud Functions and the in-process path.

analyze side:  run_analysis (read → profile → analyst → charts stored → alerts → result message)
               then publish_result (results topic + one message per alert)
report side:   write_report (report.md, analysis.json, analysis.ipynb, latest.md)

Everything here talks to storage and Pub/Sub through the interfaces in shared.storage and
shared.pubsub, so the same code runs against GCS, the emulators, or a local folder.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass, field, replace

from shared.alert_rules import RuleSet, load_rules
from shared.alert_state import AlertState
from shared.alerts import evaluate
from shared.analysts.base import Analysis, AnalysisRequest, Analyst, PartKind
from shared.crosscheck import cross_check
from shared.errors import AnalysisError, LimitExceededError, PermanentError
from shared.formatting import size
from shared.injection import scan_table
from shared.messages import ErrorInfo, ResultMessage, Source, analyst_to_dict, step_to_dict
from shared.naming import chart_name, dataset_slug, run_id
from shared.pubsub import Publisher
from shared.settings import Settings
from shared.storage import ObjectStore
from shared.stream_feed import ObjectStream

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _default_analyst_factory(settings: Settings) -> Analyst:
    from shared.analysts.select import make_analyst

    return make_analyst(settings)


@dataclass
class Services:
    """What a run needs from the outside world; created once per function instance."""

    settings: Settings
    store: ObjectStore  # the reports bucket (charts, reports, run state)
    publisher: Publisher
    analyst_factory: Callable[[Settings], Analyst] = _default_analyst_factory
    rules: RuleSet | None = None  # alert rules; loaded at construction so a bad file fails the cold start
    _analyst: Analyst | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rules is None:
            self.rules = load_rules(self.settings, self.store)

    @property
    def analyst(self) -> Analyst:
        # Created on first use: a skipped or duplicate event never pays for the Gemini SDK import.
        if self._analyst is None:
            self._analyst = self.analyst_factory(self.settings)
        return self._analyst


def artifacts_prefix(settings: Settings, slug: str, rid: str) -> str:
    """Object-name prefix of one run's report folder in the reports bucket."""
    return f"{settings.reports_prefix}{slug}/{rid}/"


def failed_message(source: Source, services: Services, error: ErrorInfo | None) -> ResultMessage:
    """A failed result message for ``source``: where every run starts, and all a file that was never
    analysed gets (its report is a failure report)."""
    rid, slug = run_id(source), dataset_slug(source.name)
    return ResultMessage(
        run_id=rid,
        source=source,
        status="failed",
        dataset={"name": slug},
        artifacts_prefix=_uri(services, artifacts_prefix(services.settings, slug, rid)),
        error=error,
    )


def run_analysis(
    source: Source,
    data: bytes | Path | ObjectStream | Callable[[], bytes | Path | ObjectStream],
    services: Services,
    *,
    questions: str | None = None,
    progress: Progress | None = None,
) -> ResultMessage:
    """Analyse one object. Permanent problems become a failed message; TransientError propagates.

    ``data`` may be a loader, called only after the object's declared size passed the limit, so an
    oversized object is never downloaded. Over ``LARGE_FILE_BYTES`` the file is never read into memory:
    DuckDB profiles a local ``Path`` from disk, and an ``ObjectStream`` (a cloud object) as a stream,
    once per pass (shared.large_file).
    """
    from shared.csv_reader import Limits, read_csv
    from shared.profile import compute_profile

    settings = services.settings
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    rid, slug = run_id(source), dataset_slug(source.name)
    prefix = artifacts_prefix(settings, slug, rid)
    message = failed_message(source, services, None)
    timings = message.timings
    table = profile = aggregates = None
    try:
        _check_size(source, settings)
        if callable(data):
            data = data()
        if not isinstance(data, ObjectStream):  # a stream's digest comes from its first pass
            digest = _file_sha256(data) if isinstance(data, Path) else hashlib.sha256(data).hexdigest()
            message.source = source = replace(source, sha256=digest)
        say(f"reading {size(source.size, exact=False)}")
        large = source.size > settings.large_file_bytes
        if large:
            # never materialised: DuckDB profiles every row from the file, the analyst gets a sample
            from shared.large_file import profile_large_file

            with _as_file(data, source.name) as readable:
                result = profile_large_file(readable, source.name, Limits.from_settings(settings))
            if result.sha256:
                message.source = source = replace(source, sha256=result.sha256)
            table, profile, aggregates = result.table, result.profile, result.aggregates
            timings["read_s"], timings["profile_s"] = result.load_s, result.profile_s
            if aggregates is not None:
                timings["aggregates_s"] = result.aggregates_s
        else:
            t = time.perf_counter()
            table = read_csv(data, source.name, Limits.from_settings(settings))
            timings["read_s"] = time.perf_counter() - t

            say(f"profiling {len(table.frame):,} rows × {table.frame.shape[1]} columns")
            t = time.perf_counter()
            profile = compute_profile(table)
            timings["profile_s"] = time.perf_counter() - t
        message.dataset = {
            "name": slug,
            "rows": profile.rows,
            "columns": len(profile.columns),
            "column_types": {c.name: c.type for c in profile.columns},
            "loader_code": table.loader_code(source.name.rsplit("/", 1)[-1]),
        }
        message.profile = profile.to_dict()
        message.warnings.extend(_table_warnings(table))
        injection = scan_table(table.frame, [table.renamed_columns.get(c, c) for c in table.frame.columns])
        if injection.found:
            # The text still reaches the analyst, as data; the reader of the report should know it is there.
            log.warning("instruction-like text in the file", extra={"run_id": rid, "cells": injection.cells})
            message.warnings.append(injection.warning())

        analyst = services.analyst
        say(f"analysing with the {analyst.kind} analyst")
        t = time.perf_counter()
        analysis = analyst.analyze(
            AnalysisRequest(
                dataset=slug,
                source_name=source.name,
                table=table,
                profile=profile,
                data_csv=table.to_clean_csv(),
                questions=questions,
                sampled=large,
                aggregates=aggregates,
            )
        )
        timings["analysis_s"] = time.perf_counter() - t
        if not analysis.succeeded:
            err = AnalysisError(
                "the analysis produced no usable result: " + ("; ".join(analysis.warnings) or "no output")
            )
            err.partial_analysis = analysis
            raise err
        _record_analysis(message, analysis, prefix, services)
        message.warnings.extend(cross_check(analysis.insights, message.profile, _outputs(analysis)))
        message.status = "succeeded"
    except PermanentError as err:
        log.warning("run failed permanently", extra={"error_code": err.code, "run_id": rid})
        message.status = "failed"
        message.error = ErrorInfo.from_exception(err)
        if err.partial_analysis is not None:
            _record_analysis(message, err.partial_analysis, prefix, services)
    alerts = evaluate(
        services.rules,
        table=table,
        profile=profile,
        source=source,
        dataset=slug,
        run_id=rid,
        failure=message.error,
        state=AlertState.from_settings(settings, services.store),
        report_uri=_uri(services, prefix + "report.md"),
    )
    message.alerts = [a.to_dict() for a in alerts]
    timings["total_s"] = time.perf_counter() - started
    return message


def _uri(services: Services, name: str) -> str:
    """Where an object of the reports bucket lives, as the store names it (gs://, or file:// locally)."""
    uri = services.store.uri(services.settings.reports_bucket, name)
    return uri + "/" if name.endswith("/") and not uri.endswith("/") else uri


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _as_file(data: bytes | Path | ObjectStream, name: str) -> Iterator[Path | ObjectStream]:
    """``data`` as DuckDB can read it: a file or a stream as it is, bytes already in memory written to a
    temp file."""
    if isinstance(data, Path | ObjectStream):
        yield data
        return
    with tempfile.TemporaryDirectory(prefix="csv-insights-") as work:
        path = Path(work) / ("data" + ("".join(Path(name).suffixes[-2:]) or ".csv"))
        path.write_bytes(data)
        yield path


def _check_size(source: Source, settings: Settings) -> None:
    if source.size > settings.max_file_bytes:
        raise LimitExceededError(
            f"the file is {size(source.size)}, over the {size(settings.max_file_bytes, exact=False)} limit "
            "(setting MAX_FILE_BYTES)",
            code="too_large",
        )


def _record_analysis(message: ResultMessage, analysis: Analysis, prefix: str, services: Services) -> None:
    """Put an analysis (complete, or what there was before a failure) into the message."""
    t = time.perf_counter()
    _store_charts(analysis, prefix, services)
    message.timings["store_s"] = time.perf_counter() - t
    message.analyst = analyst_to_dict(analysis)
    message.warnings.extend(analysis.warnings)
    message.steps = [step_to_dict(s) for s in analysis.steps]
    message.insights = list(analysis.insights)


def _outputs(analysis: Analysis) -> list[str]:
    return [p.output or "" for p in analysis.parts() if p.kind is PartKind.RESULT]


def _store_charts(analysis: Analysis, prefix: str, services: Services) -> None:
    bucket = services.settings.reports_bucket
    images = [p for p in analysis.parts() if p.kind is PartKind.IMAGE and p.image]
    for index, part in enumerate(images, start=1):
        name = prefix + chart_name(index, part.title)
        services.store.write(bucket, name, part.image, "image/png")
        part.uri = _uri(services, name)


# Coercions that only parsed text into its obvious type are not worth a warning unless values failed.
_ROUTINE_COERCIONS = {"numeric", "date", "datetime", "boolean"}


def _table_warnings(table) -> list[str]:
    warnings = list(table.warnings)
    for c in table.coercions:
        if c.kind in _ROUTINE_COERCIONS and not c.failed:
            continue
        note = f"column {c.column!r}: {c.detail}"
        if c.failed:
            note += f"; {c.failed:,} value(s) could not be converted and count as missing"
        warnings.append(note)
    return warnings


def publish_result(message: ResultMessage, services: Services) -> None:
    """Publish the result message, then one alert message per fired rule."""
    from shared.messages import AlertMessage

    settings = services.settings
    services.publisher.publish(settings.results_topic, message.to_json(), message.attributes())
    for alert in message.alerts:
        alert_message = AlertMessage(**alert)
        services.publisher.publish(settings.alerts_topic, alert_message.to_json(), alert_message.attributes())


@dataclass(frozen=True)
class ReportPaths:
    report: str
    analysis_json: str
    notebook: str | None
    latest: str
    written: bool  # False when the report already existed (duplicate delivery)


def write_report(message: ResultMessage, services: Services) -> ReportPaths:
    """Write a run's report folder. Idempotent: report.md is written last and only if absent, so a
    duplicate delivery writes nothing new and a crash part-way is completed by the redelivery."""
    from shared.notebook import render_notebook
    from shared.report import render_latest, render_report

    settings, store = services.settings, services.store
    bucket = settings.reports_bucket
    slug = message.dataset["name"]
    prefix = artifacts_prefix(settings, slug, message.run_id)
    paths = ReportPaths(
        report=prefix + "report.md",
        analysis_json=prefix + "analysis.json",
        notebook=prefix + "analysis.ipynb" if message.succeeded else None,
        latest=f"{settings.reports_prefix}{slug}/latest.md",
        written=True,
    )
    if store.exists(bucket, paths.report):
        return replace(paths, written=False)

    images = [p for s in message.steps for p in s["parts"] if p["kind"] == "image" and p.get("uri")]
    chart_paths = {p["uri"]: _chart_rel_path(p["uri"]) for p in images}
    store.write(bucket, paths.analysis_json, _pretty_json(message), "application/json")
    if paths.notebook:
        chart_bytes = {uri: store.read(bucket, prefix + rel) for uri, rel in chart_paths.items()}
        data_path = message.source.name.rsplit("/", 1)[-1]
        notebook = render_notebook(message, chart_bytes, data_path)
        store.write(bucket, paths.notebook, notebook, "application/x-ipynb+json")
    report_md = render_report(message, chart_paths)
    if not store.write(
        bucket, paths.report, report_md.encode(), "text/markdown; charset=utf-8", if_absent=True
    ):
        return replace(paths, written=False)
    latest = render_latest(message, f"{message.run_id}/report.md")
    store.write(bucket, paths.latest, latest.encode(), "text/markdown; charset=utf-8")
    return paths


def _chart_rel_path(uri: str) -> str:
    """charts/NN-name.png, relative to report.md (chart names are ours, never user text)."""
    return "charts/" + uri.rsplit("/charts/", 1)[-1]


def _pretty_json(message: ResultMessage) -> bytes:
    import json

    return json.dumps(message.to_dict(), ensure_ascii=False, indent=2, allow_nan=False).encode()
