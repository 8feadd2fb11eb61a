"""`make demo`: the whole event-driven pipeline on the live local stack, end to end.

Starts the stack (fake-gcs-server, Pub/Sub emulator, both functions, trigger bridge), uploads the
samples to the input bucket with google-cloud-storage, waits for every report, prints their gs://
paths, copies each report folder under OUT/, prints the result and alert messages a subscriber
received, and stops everything.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from scripts.local_stack import (
    ALERTS_TAP,
    RESULTS_TAP,
    LocalStack,
    PrerequisiteError,
    StackError,
    sample_rules_env,
)
from shared.messages import ResultMessage, Source
from shared.naming import dataset_slug, run_id
from shared.settings import Settings

PROMPT_SUFFIX = ".prompt.md"


class Collector:
    """Streaming-pull subscriber that keeps every message (acked) of one subscription."""

    def __init__(self, stack: LocalStack, subscription: str) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()
        self.future = stack.subscriber().subscribe(stack.subscription(subscription), self._receive)

    def _receive(self, message: Any) -> None:
        with self.lock:
            self.messages.append(message)
        message.ack()

    def snapshot(self) -> list[Any]:
        with self.lock:
            return list(self.messages)


def data_files(folder: Path, suffixes: tuple[str, ...]) -> tuple[list[Path], list[Path]]:
    """(data files, prompt sidecars) under a folder, in a stable order."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    sidecars = [p for p in files if p.name.endswith(PROMPT_SUFFIX)]
    data = [p for p in files if p.name.lower().endswith(suffixes) and p not in sidecars]
    return data, sidecars


def upload(stack: LocalStack, folder: Path, files: list[Path]) -> list[Any]:
    bucket = stack.storage().bucket(stack.settings.input_bucket)
    blobs = []
    for path in files:
        blob = bucket.blob(path.relative_to(folder).as_posix())
        content_type = (
            "text/markdown"
            if path.name.endswith(PROMPT_SUFFIX)
            else (mimetypes.guess_type(path.name)[0] or "text/csv")
        )
        blob.upload_from_filename(str(path), content_type=content_type)
        blobs.append(blob)
    return blobs


def report_prefix(settings: Settings, blob: Any) -> tuple[str, str]:
    """(run_id, report folder prefix) of an uploaded object, as the functions name them."""
    rid = run_id(Source(blob.bucket.name, blob.name, str(blob.generation), blob.size or 0))
    return rid, f"{settings.reports_prefix}{dataset_slug(blob.name)}/{rid}/"


def copy_folder(stack: LocalStack, prefix: str, out: Path) -> list[Path]:
    """Download one report folder (report.md, charts/, analysis.json, analysis.ipynb) under ``out``."""
    settings = stack.settings
    paths = []
    for blob in stack.storage().list_blobs(settings.reports_bucket, prefix=prefix):
        target = out / blob.name.removeprefix(settings.reports_prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
        paths.append(target)
    return sorted(paths)


def run(samples: Path, out: Path, timeout_s: float) -> int:
    settings = Settings.from_env()
    data, sidecars = data_files(samples, settings.suffixes)
    if not data:
        print(f"error: no data files ({', '.join(settings.suffixes)}) under {samples}", file=sys.stderr)
        return 2
    started = time.monotonic()
    with LocalStack(settings=settings, function_env=sample_rules_env()) as stack:
        print(f"stack up in {time.monotonic() - started:.1f} s (logs: {stack.log_dir})")
        results, alerts = Collector(stack, RESULTS_TAP), Collector(stack, ALERTS_TAP)
        upload(stack, samples, sidecars)  # questions first, so the analysis finds them
        blobs = upload(stack, samples, data)
        print(f"uploaded {len(blobs)} file(s) to gs://{settings.input_bucket}/ with google-cloud-storage")
        pending = {blob.name: report_prefix(settings, blob) for blob in blobs}
        reports = stack.storage().bucket(settings.reports_bucket)
        deadline = time.monotonic() + timeout_s
        done: dict[str, str] = {}
        while pending.keys() - done.keys() and time.monotonic() < deadline:
            for name, (_, prefix) in pending.items():
                if name not in done and reports.blob(prefix + "report.md").exists():
                    done[name] = prefix
                    print(f"  report: gs://{settings.reports_bucket}/{prefix}report.md")
            if any(c.process.poll() is not None for c in stack.children):
                print("error: a component stopped; see the logs above", file=sys.stderr)
                break
            time.sleep(0.3)
        missing = sorted(pending.keys() - done.keys())
        # Every report exists only after its result message was published: give the taps a moment.
        wanted = {rid for rid, _ in pending.values()}
        while time.monotonic() < deadline and not wanted <= {
            m.attributes.get("run_id") for m in results.snapshot()
        }:
            time.sleep(0.2)
        print(
            f"\n{len(done)}/{len(pending)} report(s) in {time.monotonic() - started:.1f} s. Copied to {out}/:"
        )
        for name in sorted(done):
            for path in copy_folder(stack, done[name], out):
                print(f"  {path}")
        print(f"\nresult messages on {RESULTS_TAP}:")
        for m in results.snapshot():
            body = ResultMessage.from_json(m.data)
            detail = body.error.code if body.error else f"{len(body.insights)} insights"
            print(
                f"  {m.attributes['run_id']} {m.attributes['status']:9} {body.source.name} ({detail}) "
                f"attributes={dict(sorted(m.attributes.items()))}"
            )
        print(f"alert messages on {ALERTS_TAP}:")
        for m in alerts.snapshot() or []:
            text = json.loads(m.data).get("message", "")
            print(
                f"  {m.attributes.get('severity')} {m.attributes.get('rule')} ({m.attributes.get('dataset')}): {text}"
            )
        if not alerts.snapshot():
            print("  (none)")
        for collector in (results, alerts):
            collector.future.cancel()
        if missing:
            print(
                f"error: no report for {', '.join(missing)} after {timeout_s:.0f} s; logs: {stack.log_dir}",
                file=sys.stderr,
            )
            return 1
    # Component logs only matter when something went wrong.
    shutil.rmtree(stack.log_dir, ignore_errors=True)
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--samples", type=Path, default=Path("samples"), help="folder uploaded (default samples)"
    )
    parser.add_argument("--out", type=Path, default=Path("out"), help="where report folders are copied")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the reports")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args.samples, args.out, args.timeout)
    except PrerequisiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the stack was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
